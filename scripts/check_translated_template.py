"""Checks on the SAM-translated template (what CloudFormation deploys), for what only shows
there: the API's stages, its gateway answers and methods, the order in which resources are
created, what deleting the stack keeps, and each function's IAM, table key by key.

Usage: python scripts/check_translated_template.py target/template.cfn.json
(the output of scripts/sam_translate.py). Exits 1 naming every finding.
"""

import json
import sys

# The partition-key prefixes each function may touch in the table (dynamodb:LeadingKeys):
# its reads and writes as the code makes them. A function whose keys change must change here.
LEADING_KEYS = {
    "AuthFunction": {"USER#*", "EMAIL#*", "LOGIN#*", "AUDIT#*"},
    "ProductsFunction": {"USER#*", "PRODUCT#*", "SKU#*", "COUNTER#*", "AUDIT#*"},
    "CouponsFunction": {"USER#*", "COUPON#*", "AUDIT#*"},
    "CartFunction": {"USER#*", "PRODUCT#*", "IDEMPOTENCY#*"},
    "OrdersFunction": {
        "USER#*", "PRODUCT#*", "COUPON#*", "ORDER#*", "IDEMPOTENCY#*", "OUTBOX#*",
        "AUDIT#*", "WEBHOOK#*", "WEBHOOKS", "HOLDS", "PAYWATCH",
    },
    "OrderWebhooksFunction": {"ORDER#*", "WEBHOOK#*"},
    "OrderEmailsFunction": {"ORDER#*", "USER#*", "SENT#*"},
    "OutboxRelayFunction": {"OUTBOX#*"},
    "PaymentJobsFunction": {
        "USER#*", "PRODUCT#*", "COUPON#*", "ORDER#*", "OUTBOX#*", "AUDIT#*", "HOLDS", "PAYWATCH",
    },
}
# Functions that may write (Put/Update/Delete) only these prefixes.
WRITES = {
    "ProductsFunction": {"PRODUCT#*", "SKU#*", "COUNTER#*", "AUDIT#*"},
    "CouponsFunction": {"COUPON#*", "AUDIT#*"},
    "CartFunction": {"USER#*", "IDEMPOTENCY#*"},
    "OrderWebhooksFunction": {"WEBHOOK#*"},
    "OrderEmailsFunction": {"SENT#*"},
    "OutboxRelayFunction": {"OUTBOX#*"},
}
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}

findings = []


def check(condition, message):
    if not condition:
        findings.append(message)


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def is_table(resource):
    return resource == {"Fn::GetAtt": ["Table", "Arn"]}


def stages(resources):
    """1: one stage, the StageName parameter's (no SAM "Stage" stage beside it)."""
    found = of_type(resources, "AWS::ApiGateway::Stage")
    names = [s["Properties"].get("StageName") for s in found.values()]
    check(names == [{"Ref": "StageName"}], f"API stages: {names}, want only !Ref StageName")
    for name, deployment in of_type(resources, "AWS::ApiGateway::Deployment").items():
        check("StageName" not in deployment["Properties"], f"{name} creates a stage of its own")
    association = resources.get("WebAclAssociation", {}).get("Properties", {})
    stage = next(iter(found), None)
    check(f"${{{stage}}}" in json.dumps(association), f"the WAF is not on the stage {stage}")


def gateway(resources):
    """3: an unknown path answers 404 in the envelope; every path has ANY (405 by its function)."""
    body = resources["Api"]["Properties"]["Body"]
    answers = body.get("x-amazon-apigateway-gateway-responses", {})
    missing = answers.get("MISSING_AUTHENTICATION_TOKEN", {})
    check(missing.get("statusCode") == "404", f"MISSING_AUTHENTICATION_TOKEN answers {missing.get('statusCode')}")
    template = missing.get("responseTemplates", {}).get("application/json", "{}")
    check(json.loads(template).get("error") == "route_not_found", f"404 body: {template}")
    paths = body["paths"]
    check(len(paths) >= 30, f"{len(paths)} paths")
    for path, methods in paths.items():
        for method in ("options", "x-amazon-apigateway-any-method"):
            check(method in methods, f"{path} has no {method}")


def depends_on(resources, name):
    value = resources[name].get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def ordering(resources):
    """6: access logs after the account role; log groups before their functions; kept roles."""
    check("ApiGatewayAccountReady" in depends_on(resources, "Api"), "the API waits for the account role")
    ready = json.dumps(resources["ApiGatewayAccountReady"].get("Metadata", {}))
    check('"Fn::If"' in ready and '"ApiGatewayAccount"' in ready, f"ApiGatewayAccountReady: {ready}")
    for name in ("ApiGatewayCloudWatchRole", "ApiGatewayAccount"):
        check(resources[name].get("DeletionPolicy") == "Retain", f"{name} is not retained")
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        group = function["Properties"].get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
        check(group in resources, f"{name} logs to no log group of the stack")
        if group in resources:
            check(name not in json.dumps(resources[group]), f"{group} is named after {name}")
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        check(("AlarmActions" in props) == ("OKActions" in props), f"{name}: AlarmActions without OKActions")


def metrics(resources):
    """4: sparse metric math is FILLed; index throttles are counted."""
    for name in ("TableThrottleAlarm", "TableSystemErrorsAlarm"):
        queries = resources[name]["Properties"]["Metrics"]
        expression = next(q["Expression"] for q in queries if "Expression" in q)
        for query in queries:
            if "MetricStat" in query:
                check(f"FILL({query['Id']}, 0)" in expression, f"{name}: {query['Id']} not FILLed")
    dims = json.dumps(resources["TableThrottleAlarm"]["Properties"]["Metrics"])
    for index in ("GSI1", "GSI2"):
        check(f'"{index}"' in dims, f"TableThrottleAlarm leaves out {index}")


def waf(resources):
    """5: the /auth/ rule decodes, normalises and lower-cases the path; the stage is lower-case."""
    acl = resources.get("WebAcl", {}).get("Properties", {})
    rule = next((r for r in acl.get("Rules", []) if r["Name"] == "AuthPerIp"), None)
    check(rule is not None, "no AuthPerIp rule")
    if rule:
        match = rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["ByteMatchStatement"]
        kinds = [t["Type"] for t in sorted(match["TextTransformations"], key=lambda t: t["Priority"])]
        check(kinds == ["URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"], f"AuthPerIp transforms: {kinds}")


def statements_of(resources, function):
    role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = resources[role]["Properties"].get("Policies", [])
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def iam(resources, parameters):
    """10: every table statement is keyed by dynamodb:LeadingKeys, to the function's prefixes."""
    check(parameters["StageName"]["AllowedPattern"] == "^[a-z0-9_]+$", "StageName may hold upper case")
    for function, allowed in LEADING_KEYS.items():
        seen = set()
        for statement in statements_of(resources, function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            table = statement["Resource"]
            table = [table] if not isinstance(table, list) else table
            if not any(is_table(r) for r in table):
                continue
            keys = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
            check(keys is not None, f"{function}: {actions} on the table without LeadingKeys")
            keys = set(keys or [])
            check(keys <= allowed, f"{function}: {sorted(keys - allowed)} beyond its keys")
            if WRITE_ACTIONS & set(actions) and function in WRITES:
                check(keys <= WRITES[function], f"{function} writes {sorted(keys - WRITES[function])}")
            seen |= keys
        check(seen == allowed, f"{function}: keys {sorted(seen)}, expected {sorted(allowed)}")
    flush = json.dumps(resources["ProductsCacheFlushPolicy"]["Properties"])
    check("/restapis/${Api}/" in flush, "the cache flush names another API than this one")
    check("/restapis/*" not in json.dumps(resources), "a permission names every API")
    worker = json.dumps(statements_of(resources, "OrderEmailsFunction"))
    check("ses:SendRawEmail" in worker, "the e-mail worker may not send raw messages")


def main(path):
    template = json.load(open(path, encoding="utf-8"))
    resources = template["Resources"]
    for check_part in (stages, gateway, ordering, metrics, waf):
        check_part(resources)
    iam(resources, template["Parameters"])
    for finding in findings:
        print(f"{path}: {finding}", file=sys.stderr)
    if not findings:
        print("translated template: one stage, 404/405, ordering, FILL, WAF path, IAM by key")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
