//! `template.yaml` against the code: the table the stores expect, one function per router
//! with exactly its routes, the settings the Lambda path depends on, no secret defaults.

use std::collections::BTreeSet;

use e2e::{SourceRoute, source_routes, template};
use serde_norway::Value;
use shared::store::TableSchema;

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(name, resource)| (name.as_str().expect("name"), resource))
        .collect()
}

#[test]
fn the_table_has_the_designed_keys_indexes_ttl_and_backups() {
    let schema = TableSchema::from_template(local::TEMPLATE_YAML).expect("schema");
    let keys: Vec<_> = schema
        .key_schema
        .iter()
        .map(|k| (k.attribute_name.as_str(), k.key_type.as_str()))
        .collect();
    assert_eq!(keys, [("PK", "HASH"), ("SK", "RANGE")]);
    let indexes: Vec<_> = schema
        .global_secondary_indexes
        .iter()
        .map(|i| {
            (
                i.index_name.as_str(),
                i.key_schema[0].attribute_name.as_str(),
                i.key_schema[1].attribute_name.as_str(),
            )
        })
        .collect();
    assert_eq!(indexes, [("GSI1", "GSI1PK", "GSI1SK"), ("GSI2", "GSI2PK", "GSI2SK")]);
    let ttl = schema.time_to_live_specification.expect("TTL");
    assert_eq!((ttl.attribute_name.as_str(), ttl.enabled), ("ttl", true));

    let template = template();
    let (_, table) = resources_of_type(&template, "AWS::DynamoDB::Table")[0];
    let properties = &table["Properties"];
    assert_eq!(properties["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
}

#[test]
fn functions_are_arm64_al2023_cargo_lambda_builds_without_stage_in_paths() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Architectures"][0].as_str(), Some("arm64"));
    let variables = &globals["Environment"]["Variables"];
    assert_eq!(variables["AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"].as_str(), Some("true"));
    assert!(!variables["TABLE_NAME"].is_null());

    let functions = resources_of_type(&template, "AWS::Serverless::Function");
    assert!(!functions.is_empty());
    let workspace = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .expect("Cargo.toml");
    let default_members = workspace
        .split("default-members")
        .nth(1)
        .and_then(|s| s.lines().next())
        .expect("default-members");
    for (name, function) in functions {
        assert_eq!(
            function["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{name}"
        );
        let code_uri = function["Properties"]["CodeUri"].as_str().expect("CodeUri");
        let manifest = format!("{}/../{code_uri}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        assert!(std::path::Path::new(&manifest).exists(), "{name}: {code_uri} has no Cargo.toml");
        assert!(
            default_members.contains(&format!("\"{code_uri}\"")),
            "{name}: {code_uri} is not a default member"
        );
    }
}

#[test]
fn each_function_serves_exactly_its_routes_through_the_rest_api() {
    let template = template();
    let apis = resources_of_type(&template, "AWS::Serverless::Api");
    assert_eq!(apis.len(), 1, "one REST API");
    let (api_name, api) = apis[0];
    let throttling = &api["Properties"]["MethodSettings"][0];
    assert_eq!(throttling["ResourcePath"].as_str(), Some("/*"));
    assert!(
        !throttling["ThrottlingRateLimit"].is_null()
            && !throttling["ThrottlingBurstLimit"].is_null()
    );

    let mut declared = BTreeSet::new();
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let code_uri = function["Properties"]["CodeUri"].as_str().expect("CodeUri");
        let crate_name = code_uri.rsplit('/').next().expect("dir");
        for event in
            function["Properties"]["Events"].as_mapping().into_iter().flatten().map(|(_, e)| e)
        {
            if event["Type"].as_str() != Some("Api") {
                continue;
            }
            let properties = &event["Properties"];
            let api_ref = serde_norway::to_string(&properties["RestApiId"]).expect("yaml");
            assert!(
                api_ref.contains(api_name),
                "{name}: every route is on the REST API {api_name}"
            );
            declared.insert(SourceRoute {
                function: crate_name.to_owned(),
                method: properties["Method"].as_str().expect("Method").to_uppercase(),
                path: properties["Path"].as_str().expect("Path").to_owned(),
            });
        }
    }
    // Every path also takes OPTIONS (CORS preflights), and ANY (its other methods, answered
    // 405 by the router: API Gateway alone would answer them as an unknown path), to the
    // function that serves it.
    let (others, declared): (BTreeSet<_>, BTreeSet<_>) =
        declared.into_iter().partition(|route| route.method == "ANY");
    let (preflights, declared): (BTreeSet<_>, BTreeSet<_>) =
        declared.into_iter().partition(|route| route.method == "OPTIONS");
    let routed: BTreeSet<_> = source_routes().into_iter().collect();
    assert!(routed.len() >= 5, "the auth routes at least: {routed:?}");
    assert_eq!(declared, routed, "template events and router routes differ");
    let paths: BTreeSet<_> = routed
        .iter()
        .map(|route| SourceRoute { method: "OPTIONS".into(), ..route.clone() })
        .collect();
    assert_eq!(preflights, paths, "an OPTIONS event for every path");
    let paths: BTreeSet<_> =
        paths.into_iter().map(|route| SourceRoute { method: "ANY".into(), ..route }).collect();
    assert_eq!(others, paths, "an ANY event for every path");
}

#[test]
fn the_jwt_secret_has_no_default_and_comes_from_secrets_manager() {
    let template = template();
    for (name, parameter) in template["Parameters"].as_mapping().expect("Parameters") {
        let name = name.as_str().expect("name").to_lowercase();
        // A parameter naming a Secrets Manager secret holds a reference, not a secret.
        if name.ends_with("secretname") {
            let description = parameter["Description"].as_str().unwrap_or_default();
            assert!(description.contains("Secrets Manager"), "{name}: {description}");
            continue;
        }
        if name.contains("secret") || name.contains("password") {
            assert!(parameter["Default"].is_null(), "{name} has a default");
        }
    }
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let variables = &function["Properties"]["Environment"]["Variables"];
        if variables["JWT_SECRET"].is_null() {
            continue;
        }
        let secret = yaml(&variables["JWT_SECRET"]);
        assert!(
            secret.contains("{{resolve:secretsmanager:${JwtSecret}:SecretString:current}}"),
            "{name}: {secret}"
        );
        let previous = yaml(&variables["JWT_PREVIOUS_SECRET"]);
        assert!(
            previous.contains("{{resolve:secretsmanager:${JwtSecret}:SecretString:previous}}"),
            "{name}: {previous}"
        );
    }
    let secrets = resources_of_type(&template, "AWS::SecretsManager::Secret");
    assert_eq!(secrets.len(), 1);
    let properties = &secrets[0].1["Properties"];
    assert!(properties["SecretString"].is_null(), "a literal secret value");
    let generated = &properties["GenerateSecretString"];
    assert_eq!(generated["GenerateStringKey"].as_str(), Some("current"));
    let initial: serde_json::Value =
        serde_json::from_str(generated["SecretStringTemplate"].as_str().expect("template"))
            .expect("JSON");
    assert_eq!(initial, serde_json::json!({"previous": "none"}));
}

/// Names of the functions that verify tokens (they get the JWT secret).
fn token_verifiers(template: &Value) -> BTreeSet<String> {
    resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| !f["Properties"]["Environment"]["Variables"]["JWT_SECRET"].is_null())
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn a_key_rotation_updates_every_function_in_one_deployment_issuer_last() {
    let template = template();
    // The generation is in every function's configuration (Globals), so bumping it updates
    // every function and makes CloudFormation resolve the secret references again.
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(yaml(&globals["JWT_KEY_GENERATION"]).trim(), "!Ref JwtKeyGeneration");
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        assert!(
            function["Properties"]["Environment"]["Variables"]["JWT_KEY_GENERATION"].is_null(),
            "{name} must not override the generation"
        );
    }
    // The issuer waits for every other verifier, so no token signed with the new key reaches a
    // function that does not know it yet.
    let verifiers = token_verifiers(&template);
    assert!(verifiers.len() >= 5, "{verifiers:?}");
    let depends: BTreeSet<String> = resource(&template, "AuthFunction")["DependsOn"]
        .as_sequence()
        .expect("AuthFunction DependsOn")
        .iter()
        .map(|v| v.as_str().expect("name").to_owned())
        .collect();
    let others: BTreeSet<String> =
        verifiers.into_iter().filter(|name| name != "AuthFunction").collect();
    assert_eq!(depends, others);
    // The code reads the names the template sets.
    let variables: BTreeSet<&str> =
        ["JWT_SECRET", "JWT_PREVIOUS_SECRET", "JWT_KEY_GENERATION"].into();
    use shared::config::FromEnvironment;
    let config = shared::config::Config::from_lookup(|name| {
        variables
            .contains(name)
            .then(|| match name {
                "JWT_KEY_GENERATION" => "2".to_owned(),
                _ => "k".repeat(40),
            })
            .or_else(|| (name == "TABLE_NAME").then(|| "t".to_owned()))
    })
    .expect("config");
    assert_eq!(config.tokens.key_generation, 2);
    assert!(config.tokens.previous_secret.is_some());
}

#[test]
fn cors_reaches_every_function_and_gateway_answers() {
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(yaml(&globals["CORS_ALLOWED_ORIGINS"]).trim(), "!Ref CorsAllowedOrigins");
    assert_eq!(template["Parameters"]["CorsAllowedOrigins"]["Default"].as_str(), Some("*"));
    let (_, api) = resources_of_type(&template, "AWS::Serverless::Api")[0];
    let responses = &api["Properties"]["GatewayResponses"];
    for kind in ["THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"] {
        let headers = &responses[kind]["ResponseParameters"]["Headers"];
        assert_eq!(headers["Access-Control-Allow-Origin"].as_str(), Some("'*'"), "{kind}");
        assert!(
            headers["Access-Control-Expose-Headers"]
                .as_str()
                .is_some_and(|h| h.contains("Retry-After")),
            "{kind}"
        );
        let body: serde_json::Value = serde_json::from_str(
            responses[kind]["ResponseTemplates"]["application/json"].as_str().expect("body"),
        )
        .expect("JSON envelope");
        assert!(body["error"].is_string() && body["message"].is_string(), "{kind}");
    }
}

#[test]
fn the_waf_rate_limits_per_ip_runs_managed_rules_and_answers_json() {
    let template = template();
    assert_eq!(template["Parameters"]["EnableWaf"]["Default"].as_str(), Some("true"));
    let acl = resource(&template, "WebAcl");
    assert_eq!(acl["Condition"].as_str(), Some("WafEnabled"));
    let association = resource(&template, "WebAclAssociation");
    assert_eq!(association["Condition"].as_str(), Some("WafEnabled"));
    let target = yaml(&association["Properties"]["ResourceArn"]);
    assert!(target.contains("/restapis/${Api}/stages/${Api.Stage}"), "{target}");

    let properties = &acl["Properties"];
    assert_eq!(properties["Scope"].as_str(), Some("REGIONAL"));
    let bodies = &properties["CustomResponseBodies"];
    let rules = properties["Rules"].as_sequence().expect("rules");
    let rule = |name: &str| {
        rules
            .iter()
            .find(|r| r["Name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("rule {name}"))
    };
    let check_block = |rule: &Value, status: u64| {
        let response = &rule["Action"]["Block"]["CustomResponse"];
        assert_eq!(response["ResponseCode"].as_u64(), Some(status));
        let key = response["CustomResponseBodyKey"].as_str().expect("body key");
        assert_eq!(bodies[key]["ContentType"].as_str(), Some("APPLICATION_JSON"));
        let body: serde_json::Value =
            serde_json::from_str(bodies[key]["Content"].as_str().expect("content")).expect("JSON");
        assert!(body["error"].is_string() && body["message"].is_string());
        assert!(yaml(&response["ResponseHeaders"]).contains("Access-Control-Allow-Origin"));
    };

    let auth = rule("AuthPerIp");
    let rate = &auth["Statement"]["RateBasedStatement"];
    assert_eq!(rate["AggregateKeyType"].as_str(), Some("IP"));
    assert_eq!(yaml(&rate["Limit"]).trim(), "!Ref WafAuthRateLimit");
    let scope = &rate["ScopeDownStatement"]["ByteMatchStatement"];
    assert_eq!(scope["PositionalConstraint"].as_str(), Some("STARTS_WITH"));
    assert!(yaml(&scope["SearchString"]).contains("/${StageName}/auth/"));
    check_block(auth, 429);

    let api = rule("ApiPerIp");
    let rate = &api["Statement"]["RateBasedStatement"];
    assert_eq!(rate["AggregateKeyType"].as_str(), Some("IP"));
    assert!(rate["ScopeDownStatement"].is_null(), "the whole API");
    check_block(api, 429);

    for (rule_name, group) in [
        ("AwsCommonRules", "AWSManagedRulesCommonRuleSet"),
        ("AwsKnownBadInputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ] {
        let managed = &rule(rule_name)["Statement"]["ManagedRuleGroupStatement"];
        assert_eq!(managed["VendorName"].as_str(), Some("AWS"));
        assert_eq!(managed["Name"].as_str(), Some(group));
    }
    let blocking = rule("BlockManagedMatches");
    let labels = yaml(&blocking["Statement"]);
    assert!(labels.contains("awswaf:managed:aws:core-rule-set:"));
    assert!(labels.contains("awswaf:managed:aws:known-bad-inputs:"));
    check_block(blocking, 403);
    // The labelling groups run before the rule that blocks on their labels.
    let priority = |name: &str| rule(name)["Priority"].as_u64().expect("priority");
    assert!(priority("AwsCommonRules") < priority("BlockManagedMatches"));
    assert!(priority("AwsKnownBadInputs") < priority("BlockManagedMatches"));
}

#[test]
fn the_auth_function_may_only_touch_table_items_it_uses() {
    let template = template();
    let (_, auth) = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| *name == "AuthFunction")
        .expect("AuthFunction");
    let properties = &auth["Properties"];
    let statements = &properties["Policies"][0]["Statement"];
    let actions: BTreeSet<_> = statements
        .as_sequence()
        .expect("statements")
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_sequence()
                .expect("actions")
                .iter()
                .map(|a| a.as_str().expect("action").to_owned())
        })
        .collect();
    let allowed: BTreeSet<_> = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ]
    .map(String::from)
    .into();
    assert_eq!(actions, allowed);
    let resource = serde_norway::to_string(&statements[0]["Resource"]).expect("yaml");
    assert!(resource.contains("Table.Arn") && !resource.contains('*'), "{resource}");
    assert!(
        properties["MemorySize"].as_u64().is_some_and(|mb| mb >= 1024),
        "argon2 needs CPU, so memory"
    );
    // The login lockout and the refresh grace window come from parameters.
    let variables = &properties["Environment"]["Variables"];
    for (variable, parameter) in [
        ("LOGIN_MAX_FAILURES", "LoginMaxFailures"),
        ("LOGIN_FAILURE_WINDOW_MINUTES", "LoginFailureWindowMinutes"),
        ("REFRESH_REUSE_GRACE_SECONDS", "RefreshReuseGraceSeconds"),
    ] {
        assert_eq!(yaml(&variables[variable]).trim(), format!("!Ref {parameter}"), "{variable}");
    }
    let defaults = shared::auth::LoginPolicy::default();
    let parameters = &template["Parameters"];
    assert_eq!(
        parameters["LoginMaxFailures"]["Default"].as_u64(),
        Some(u64::from(defaults.max_failures))
    );
    assert_eq!(
        parameters["LoginFailureWindowMinutes"]["Default"].as_i64(),
        Some(defaults.window_seconds / 60)
    );
}

/// The field names serde reads for `T`, captured from `deserialize_struct` itself, so the
/// list is the code's, not a copy.
fn serde_fields<'de, T: serde::Deserialize<'de>>() -> Vec<&'static str> {
    struct Capture(Vec<&'static str>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("captured")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Capture {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = fields.to_vec();
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut capture = Capture(Vec::new());
    let _ = T::deserialize(&mut capture);
    capture.0
}

fn api_events(template: &Value) -> Vec<(String, String, &Value)> {
    resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .flat_map(|(_, function)| {
            function["Properties"]["Events"].as_mapping().into_iter().flatten()
        })
        .map(|(_, event)| &event["Properties"])
        .filter(|properties| properties["Path"].is_string())
        .map(|p| {
            (
                p["Method"].as_str().expect("Method").to_uppercase(),
                p["Path"].as_str().expect("Path").to_owned(),
                p,
            )
        })
        .collect()
}

fn method_setting<'a>(template: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let (_, api) = resources_of_type(template, "AWS::Serverless::Api")[0];
    // MethodSettings name a resource by its path with each '/' written '~1', after a '/'.
    let resource_path =
        if path == "*" { "/*".to_owned() } else { format!("/{}", path.replace('/', "~1")) };
    api["Properties"]["MethodSettings"].as_sequence().expect("MethodSettings").iter().find(|s| {
        s["HttpMethod"].as_str() == Some(method)
            && s["ResourcePath"].as_str() == Some(resource_path.as_str())
    })
}

#[test]
fn cached_routes_are_keyed_by_every_parameter_they_read_and_nothing_authenticated_is_cached() {
    let template = template();
    let (_, api) = resources_of_type(&template, "AWS::Serverless::Api")[0];
    assert_eq!(api["Properties"]["CacheClusterEnabled"].as_bool(), Some(true));
    let default = method_setting(&template, "*", "*").expect("stage default");
    assert_eq!(default["CachingEnabled"].as_bool(), Some(false), "caching is opt-in per route");

    let list_params: BTreeSet<String> =
        serde_fields::<shared::domain::ListParams>().into_iter().map(String::from).collect();
    assert!(list_params.contains("page") && list_params.contains("cursor"), "{list_params:?}");
    let mut cached = BTreeSet::new();
    for (method, path, properties) in api_events(&template) {
        let caching = method_setting(&template, &method, &path)
            .and_then(|s| s["CachingEnabled"].as_bool())
            == Some(true);
        if !caching {
            continue;
        }
        cached.insert((method.clone(), path.clone()));
        assert_eq!(method, "GET", "{path}: only reads are cached");
        let keys: BTreeSet<String> = properties["RequestParameters"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|p| p.as_mapping().expect("parameter").iter())
            .filter(|(_, options)| options["Caching"].as_bool() == Some(true))
            .map(|(name, _)| name.as_str().expect("name").to_owned())
            .collect();
        let path_params: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| format!("method.request.path.{name}"))
            .collect();
        let query_params: BTreeSet<String> = if path == "/products/all_products" {
            list_params.iter().map(|name| format!("method.request.querystring.{name}")).collect()
        } else {
            BTreeSet::new()
        };
        let mut expected: BTreeSet<String> = path_params.union(&query_params).cloned().collect();
        // The answer's Access-Control-Allow-Origin depends on the Origin header.
        expected.insert("method.request.header.Origin".into());
        assert_eq!(keys, expected, "{method} {path}: cache key parameters");
    }
    let expected: BTreeSet<_> =
        [("GET", "/products/all_products"), ("GET", "/products/{product_id}")]
            .map(|(m, p)| (m.to_owned(), p.to_owned()))
            .into();
    assert_eq!(cached, expected);
}

#[test]
fn admin_writes_are_throttled_tighter_than_the_stage() {
    let template = template();
    let default_of = |name: &str| template["Parameters"][name]["Default"].as_u64().expect(name);
    assert!(default_of("AdminWriteRateLimit") < default_of("ThrottlingRateLimit"));
    assert!(default_of("AdminWriteBurstLimit") < default_of("ThrottlingBurstLimit"));
    for (method, path) in [
        ("POST", "/products/create_product"),
        ("PUT", "/products/update_product/{product_id}"),
        ("DELETE", "/products/delete_product/{product_id}"),
    ] {
        let setting =
            method_setting(&template, method, path).unwrap_or_else(|| panic!("{method} {path}"));
        let rate = serde_norway::to_string(&setting["ThrottlingRateLimit"]).expect("yaml");
        assert!(rate.contains("AdminWriteRateLimit"), "{method} {path}: {rate}");
    }
}

/// A function's granted actions, after checking that every statement on the table is keyed
/// by `dynamodb:LeadingKeys` (the prefixes themselves are checked on the translated template,
/// `scripts/check_translated_template.py`) and that no action or index is a wildcard.
fn keyed_grants(template: &Value, function: &str) -> BTreeSet<String> {
    let statements = resource(template, function)["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements")
        .clone();
    let mut actions = BTreeSet::new();
    for statement in &statements {
        let resource = yaml(&statement["Resource"]);
        assert!(!resource.contains("index/*"), "{function}: {resource}");
        let names = statement["Action"].as_sequence().expect("actions");
        for action in names {
            let action = action.as_str().expect("action");
            assert!(!action.ends_with(":*") && action != "*", "{function}: {action}");
            actions.insert(action.to_owned());
        }
        if resource.trim() == "!GetAtt Table.Arn" {
            let condition = yaml(&statement["Condition"]);
            assert!(condition.contains("dynamodb:LeadingKeys"), "{function}: {}", yaml(statement));
        }
    }
    actions
}

fn set(actions: &[&str]) -> BTreeSet<String> {
    actions.iter().map(|a| (*a).to_owned()).collect()
}

#[test]
fn the_api_functions_may_only_touch_their_own_keys() {
    let template = template();
    let table =
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];
    let with = |extra: &[&str]| set(&[&table[..], extra].concat());
    assert_eq!(keyed_grants(&template, "ProductsFunction"), with(&["dynamodb:Query"]));
    assert_eq!(keyed_grants(&template, "CouponsFunction"), with(&["dynamodb:Query"]));
    assert_eq!(
        keyed_grants(&template, "CartFunction"),
        set(&[
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem"
        ])
    );
    assert_eq!(
        keyed_grants(&template, "OrdersFunction"),
        with(&[
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "sns:Publish",
            "sns:GetTopicAttributes",
            "sqs:SendMessage"
        ])
    );
    // The products function's cache flush names this API (a policy of its own).
    let flush = yaml(&resource(&template, "ProductsCacheFlushPolicy")["Properties"]);
    assert!(flush.contains("/restapis/${Api}/stages/${StageName}/cache/data"), "{flush}");
    assert!(flush.contains("ProductsFunctionRole"), "{flush}");
    let topic = yaml(
        &resource(&template, "OrdersFunction")["Properties"]["Environment"]["Variables"]["ORDER_EVENTS_TOPIC_ARN"],
    );
    assert!(topic.contains("OrderEventsTopic"), "{topic}");

    // The queue sends what it cannot deliver to a dead-letter queue.
    let redrive = &resource(&template, "OrderEventsQueue")["Properties"]["RedrivePolicy"];
    assert!(redrive["maxReceiveCount"].as_u64().is_some_and(|n| n >= 1));
    assert!(yaml(&redrive["deadLetterTargetArn"]).contains("OrderEventsDeadLetterQueue"));
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    &template["Resources"][name]
}

fn yaml(value: &Value) -> String {
    serde_norway::to_string(value).expect("yaml")
}

#[test]
fn order_emails_are_an_sqs_worker_reporting_partial_failures_with_a_dead_letter_alarm() {
    let template = template();
    let worker = resource(&template, "OrderEmailsFunction");
    let event = &worker["Properties"]["Events"]["OrderEvents"];
    assert_eq!(event["Type"].as_str(), Some("SQS"));
    let properties = &event["Properties"];
    assert!(yaml(&properties["Queue"]).contains("OrderEventsQueue.Arn"));
    assert_eq!(yaml(&properties["FunctionResponseTypes"]).trim(), "- ReportBatchItemFailures");
    assert!(properties["BatchSize"].as_u64().is_some_and(|n| (1..=10).contains(&n)));
    assert!(properties["MaximumBatchingWindowInSeconds"].as_u64().is_some());
    // Concurrency capped (a burst waits in the queue instead of outrunning SES), and enough
    // receives that throttled sends are retried for an hour before dead-lettering.
    assert_eq!(
        yaml(&properties["ScalingConfig"]["MaximumConcurrency"]).trim(),
        "!Ref EmailWorkerMaxConcurrency"
    );
    assert_eq!(template["Parameters"]["EmailWorkerMaxConcurrency"]["Default"].as_u64(), Some(2));

    // The queue hides a message for at least 6 × the worker's timeout, and dead-letters it.
    let timeout = worker["Properties"]["Timeout"].as_u64().expect("timeout");
    let queue = &resource(&template, "OrderEventsQueue")["Properties"];
    let visibility = queue["VisibilityTimeout"].as_u64().expect("visibility");
    assert!(visibility >= 6 * timeout, "{visibility} < 6 × {timeout}");
    let receives = queue["RedrivePolicy"]["maxReceiveCount"].as_u64().expect("receives");
    assert!(receives * visibility >= 3600, "{receives} × {visibility} s < 1 h");
    assert!(
        yaml(&queue["RedrivePolicy"]["deadLetterTargetArn"]).contains("OrderEventsDeadLetterQueue")
    );

    // SES only from the configured identity; table writes only to e-mail markers.
    let statements =
        worker["Properties"]["Policies"][0]["Statement"].as_sequence().expect("statements");
    let ses: Vec<_> =
        statements.iter().filter(|s| yaml(&s["Action"]).contains("ses:Send")).collect();
    assert_eq!(ses.len(), 2, "from the identity, through the configuration set");
    assert!(
        yaml(&ses[1]["Resource"]).contains(":configuration-set/${OrderEmailsConfigurationSet}")
    );
    // SESv2's SendEmail of a raw MIME message is authorised as ses:SendRawEmail too.
    for statement in &ses {
        assert_eq!(yaml(&statement["Action"]).trim(), "- ses:SendEmail\n- ses:SendRawEmail");
    }
    // Any verified identity (the address or its domain), only as From SenderAddress.
    assert!(yaml(&ses[0]["Resource"]).contains(":identity/*"));
    assert_eq!(
        yaml(&ses[0]["Condition"]["StringEquals"]["ses:FromAddress"]).trim(),
        "!Ref SenderAddress"
    );
    for statement in statements {
        let actions = yaml(&statement["Action"]);
        let unconditioned = statement["Condition"].is_null();
        let any_resource = yaml(&statement["Resource"]).ends_with("*\n");
        assert!(!actions.contains('*'), "{actions}");
        if actions.trim() == "- ses:GetAccount" {
            continue; // the warm-up read: an account-level action with no resource type
        }
        assert!(!unconditioned || !any_resource, "{actions}: any resource, no condition");
        if actions.contains("PutItem") || actions.contains("DeleteItem") {
            assert!(yaml(&statement["Condition"]).contains("SENT#*"), "{actions}");
        }
    }
    assert!(yaml(&worker["Properties"]["Environment"]).contains("SenderAddress"));

    let alarm = &resource(&template, "OrderEventsDeadLetterAlarm")["Properties"];
    assert_eq!(alarm["MetricName"].as_str(), Some("ApproximateNumberOfMessagesVisible"));
    assert!(yaml(&alarm["Dimensions"]).contains("OrderEventsDeadLetterQueue.QueueName"));
    assert_eq!(
        (alarm["Threshold"].as_u64(), alarm["ComparisonOperator"].as_str()),
        (Some(0), Some("GreaterThanThreshold"))
    );
}

#[test]
fn the_outbox_relay_runs_every_minute_and_may_only_publish_and_clear_the_outbox() {
    let template = template();
    let relay = &resource(&template, "OutboxRelayFunction")["Properties"];
    let timeout = relay["Timeout"].as_u64().expect("timeout");
    assert!(timeout < 60, "a run ends before the next one starts");
    let schedule = &relay["Events"]["EveryMinute"];
    assert_eq!(schedule["Type"].as_str(), Some("Schedule"));
    assert_eq!(schedule["Properties"]["Schedule"].as_str(), Some("rate(1 minute)"));
    let policy = yaml(&relay["Policies"]);
    policy_grants(
        &policy,
        &[
            "dynamodb:Query",
            "/index/GSI1",
            "dynamodb:DeleteItem",
            "OUTBOX#*",
            "sns:Publish",
            "OrderEventsTopic",
        ],
        &["PutItem", "UpdateItem", "GetItem", "ses:", "sqs:"],
    );
}

/// `sam local` sets only the variables a function declares: an unknown name in
/// `local/sam-env.json` would be dropped without a word.
#[test]
fn the_sam_local_environment_names_only_declared_variables() {
    let template = template();
    let mut declared: BTreeSet<&str> = BTreeSet::new();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    let functions = resources_of_type(&template, "AWS::Serverless::Function");
    for variables in std::iter::once(globals)
        .chain(functions.iter().map(|(_, f)| &f["Properties"]["Environment"]["Variables"]))
    {
        declared
            .extend(variables.as_mapping().into_iter().flatten().filter_map(|(k, _)| k.as_str()));
    }
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../local/sam-env.json"));
    let env: serde_json::Value =
        serde_json::from_str(&file.expect("local/sam-env.json")).expect("JSON");
    let names: Vec<&str> =
        env["Parameters"].as_object().expect("Parameters").keys().map(String::as_str).collect();
    assert!(names.contains(&"TABLE_NAME") && names.contains(&"JWT_SECRET"));
    let undeclared: Vec<_> = names.iter().filter(|name| !declared.contains(*name)).collect();
    assert!(undeclared.is_empty(), "not declared by any function: {undeclared:?}");
}

/// Every literal `"Name"` a metric is published under, from the code that publishes them.
fn published_metric_names() -> BTreeSet<String> {
    let sources = [
        include_str!("../../shared/src/orders/place.rs"),
        include_str!("../../shared/src/orders/status.rs"),
        include_str!("../../shared/src/auth/accounts.rs"),
        include_str!("../../shared/src/notify/worker.rs"),
        include_str!("../../shared/src/notify/relay.rs"),
        include_str!("../../shared/src/metrics.rs"),
        include_str!("../../shared/src/http/log.rs"),
        include_str!("../../shared/src/webhooks/deliver.rs"),
        include_str!("../../shared/src/orders/reconcile.rs"),
        include_str!("../../shared/src/orders/payment.rs"),
        include_str!("../../functions/products/src/edge.rs"),
    ];
    let mut names = BTreeSet::new();
    for source in sources {
        for piece in source.split('"').skip(1).step_by(2) {
            if piece.len() > 3
                && piece.chars().all(char::is_alphanumeric)
                && piece.starts_with(char::is_uppercase)
            {
                names.insert(piece.to_owned());
            }
        }
    }
    names
}

#[test]
fn functions_filter_json_logs_at_the_log_level_parameter_lambda_never_and_trace_everything() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Tracing"].as_str(), Some("Active"));
    // Lambda drops nothing (a metric line has no level, which Lambda reads as INFO): the
    // functions filter their own lines at LOG_LEVEL.
    assert_eq!(globals["LoggingConfig"]["ApplicationLogLevel"].as_str(), Some("TRACE"));
    assert_eq!(yaml(&globals["Environment"]["Variables"]["LOG_LEVEL"]).trim(), "!Ref LogLevel");
    assert_eq!(globals["LoggingConfig"]["LogFormat"].as_str(), Some("JSON"));
    assert!(globals["Environment"]["Variables"]["RUST_LOG"].is_null(), "one source of the level");
    for level in template["Parameters"]["LogLevel"]["AllowedValues"].as_sequence().expect("levels")
    {
        let level = level.as_str().expect("level");
        let read = shared::logging::level_from(|name| match name {
            "LOG_LEVEL" => Some(level.to_owned()),
            "AWS_LAMBDA_LOG_LEVEL" => Some("TRACE".to_owned()),
            _ => None,
        });
        let expected = if level == "FATAL" { "ERROR" } else { level };
        assert_eq!(read.to_string().to_uppercase(), expected, "the functions read {level}");
    }
    let api = &resource(&template, "Api")["Properties"];
    assert_eq!(api["TracingEnabled"].as_bool(), Some(true));
    for (name, group) in resources_of_type(&template, "AWS::Logs::LogGroup") {
        assert_eq!(
            yaml(&group["Properties"]["RetentionInDays"]).trim(),
            "!Ref LogRetentionDays",
            "{name}"
        );
    }
}

#[test]
fn api_access_logs_are_json_and_the_account_role_is_opt_in() {
    let template = template();
    let setting = yaml(&resource(&template, "Api")["Properties"]["AccessLogSetting"]);
    assert!(setting.contains("AccessLogsEnabled") && setting.contains("AWS::NoValue"), "{setting}");
    let format = setting.split("Format: ").nth(1).expect("format").lines().next().expect("line");
    let format: serde_json::Value =
        serde_json::from_str(format.trim_matches('\'')).expect("JSON format");
    for field in ["requestId", "traceId", "ip", "route", "status", "latencyMs", "waf"] {
        assert!(format.get(field).is_some(), "access logs carry {field}");
    }
    for name in ["ApiGatewayCloudWatchRole", "ApiGatewayAccount"] {
        assert_eq!(
            resource(&template, name)["Condition"].as_str(),
            Some("SetAccountRole"),
            "{name}"
        );
    }
    assert_eq!(
        template["Parameters"]["SetApiGatewayAccountRole"]["Default"].as_str(),
        Some("false")
    );
}

#[test]
fn every_function_and_dependency_has_alarms_notifying_the_topic() {
    let template = template();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    for (function, _) in resources_of_type(&template, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            let found = alarms.iter().any(|(_, alarm)| {
                alarm["Properties"]["MetricName"].as_str() == Some(metric)
                    && yaml(&alarm["Properties"]["Dimensions"])
                        .contains(&format!("!Ref {function}\n"))
            });
            assert!(found, "{function} has no {metric} alarm");
        }
    }
    for (name, alarm) in &alarms {
        let actions = yaml(&alarm["Properties"]["AlarmActions"]);
        assert!(actions.contains("HasAlarmTopic") && actions.contains("AlarmTopicArn"), "{name}");
    }
    for name in [
        "Api5xxRateAlarm",
        "ApiLatencyP99Alarm",
        "TableThrottleAlarm",
        "TableSystemErrorsAlarm",
        "SesBounceRateAlarm",
        "SesComplaintRateAlarm",
    ] {
        assert!(alarms.iter().any(|(n, _)| *n == name), "{name}");
    }
    // Alarms on the shop's own metrics name metrics the code publishes, under its dimensions.
    let published = published_metric_names();
    let ours: Vec<_> = alarms
        .iter()
        .filter(|(_, a)| yaml(&a["Properties"]["Namespace"]).contains("MetricsNamespace"))
        .collect();
    let what = "outbox backlog, e-mail failures, webhook failures, payment drift, cache flushes";
    assert_eq!(ours.len(), 5, "{what}");
    for (name, alarm) in ours {
        let metric = alarm["Properties"]["MetricName"].as_str().expect("metric");
        assert!(published.contains(metric), "{name}: the code publishes no {metric}");
        let dimensions = yaml(&alarm["Properties"]["Dimensions"]);
        assert!(
            dimensions.contains("Name: function") && dimensions.contains("Name: operation"),
            "{name}"
        );
    }
}

#[test]
fn the_dashboard_is_json_and_shows_what_the_code_publishes() {
    let template = template();
    let dashboard = &resource(&template, "Dashboard")["Properties"]["DashboardBody"];
    let body = yaml(dashboard);
    let start = body.find('{').expect("JSON");
    let text: String = body[start..].lines().map(str::trim).collect::<Vec<_>>().join("\n");
    let body: serde_json::Value = serde_json::from_str(&text).expect("the body is JSON");
    let widgets = body["widgets"].as_array().expect("widgets");
    assert!(widgets.len() >= 10);
    let shown = body.to_string();
    for (function, _) in resources_of_type(&template, "AWS::Serverless::Function") {
        assert!(shown.contains(&format!("${{{function}}}")), "{function} is not on the dashboard");
    }
    let published = published_metric_names();
    for metric in [
        "OrdersPlaced",
        "OrderValue",
        "CheckoutRefusedStock",
        "LoginFailed",
        "EmailsFailed",
        "OutboxOldestEventAgeSeconds",
        "ColdStart",
        "OrderStatusChanged",
        "DynamoDbRequests",
        "WebhooksDelivered",
        "WebhooksFailed",
    ] {
        assert!(published.contains(metric) && shown.contains(metric), "{metric}");
    }
}

#[test]
fn the_table_cannot_be_deleted_by_accident_and_emails_go_through_the_configuration_set() {
    let template = template();
    let table = resource(&template, "Table");
    assert_eq!(table["Properties"]["DeletionProtectionEnabled"].as_bool(), Some(true));
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    let worker = resource(&template, "OrderEmailsFunction");
    let variables = &worker["Properties"]["Environment"]["Variables"];
    assert_eq!(
        yaml(&variables["SES_CONFIGURATION_SET"]).trim(),
        "!Ref OrderEmailsConfigurationSet"
    );
    let destination = &resource(&template, "OrderEmailsEventDestination")["Properties"];
    let events = yaml(&destination["EventDestination"]["MatchingEventTypes"]);
    assert!(events.contains("bounce") && events.contains("complaint"));
}

#[test]
fn order_events_fan_out_to_one_queue_per_consumer_and_only_from_the_topic() {
    let template = template();
    let subscriptions = resources_of_type(&template, "AWS::SNS::Subscription");
    let mut endpoints: Vec<String> = subscriptions
        .iter()
        .map(|(name, sub)| {
            let p = &sub["Properties"];
            assert_eq!(yaml(&p["TopicArn"]).trim(), "!Ref OrderEventsTopic", "{name}");
            assert_eq!(
                (p["Protocol"].as_str(), p["RawMessageDelivery"].as_bool()),
                (Some("sqs"), Some(true)),
                "{name}"
            );
            yaml(&p["Endpoint"]).trim().to_owned()
        })
        .collect();
    endpoints.sort();
    assert_eq!(endpoints, ["!GetAtt OrderEventsQueue.Arn", "!GetAtt WebhookQueue.Arn"]);
    let policy = yaml(&resource(&template, "OrderEventQueuesPolicy")["Properties"]);
    policy_grants(
        &policy,
        &[
            "sns.amazonaws.com",
            "sqs:SendMessage",
            "aws:SourceArn: !Ref OrderEventsTopic",
            "OrderEventsQueue",
            "WebhookQueue",
        ],
        &[],
    );
}

#[test]
fn the_webhook_worker_may_only_read_orders_and_webhooks_and_write_deliveries() {
    let template = template();
    let function = resource(&template, "OrderWebhooksFunction");
    let properties = &function["Properties"];
    let policy = yaml(&properties["Policies"]);
    policy_grants(
        &policy,
        &[
            "dynamodb:GetItem",
            "dynamodb:Query",
            "/index/GSI1",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "WEBHOOK#*",
            "sqs:ChangeMessageVisibility",
            "WebhookQueue.Arn",
        ],
        &["DeleteItem", "ses:", "sns:", "sqs:SendMessage", "\"*\""],
    );
    let statements = properties["Policies"][0]["Statement"].as_sequence().expect("statements");
    let writes =
        statements.iter().find(|s| yaml(&s["Action"]).contains("PutItem")).expect("writes");
    assert!(yaml(&writes["Condition"]).contains("WEBHOOK#*"), "writes only in webhook partitions");

    let trigger = &properties["Events"]["OrderEvents"]["Properties"];
    assert_eq!(yaml(&trigger["Queue"]).trim(), "!GetAtt WebhookQueue.Arn");
    assert!(yaml(&trigger["FunctionResponseTypes"]).contains("ReportBatchItemFailures"));
    let variables = &properties["Environment"]["Variables"];
    assert_eq!(yaml(&variables["WEBHOOK_QUEUE_URL"]).trim(), "!Ref WebhookQueue");
    assert_eq!(
        yaml(&variables["WEBHOOK_RETRY_BASE_SECONDS"]).trim(),
        "!Ref WebhookRetryBaseSeconds"
    );
    assert_eq!(template["Parameters"]["WebhookRetryBaseSeconds"]["Default"].as_u64(), Some(10));

    let queue = &resource(&template, "WebhookQueue")["Properties"];
    let timeout = properties["Timeout"].as_u64().expect("timeout");
    assert!(queue["VisibilityTimeout"].as_u64().is_some_and(|v| v >= 6 * timeout));
    let receives = queue["RedrivePolicy"]["maxReceiveCount"].as_u64().expect("redrive");
    assert!(
        receives > u64::from(shared::domain::MAX_ATTEMPTS),
        "every attempt before dead-lettering"
    );
    assert!(
        yaml(&queue["RedrivePolicy"]["deadLetterTargetArn"]).contains("WebhookDeadLetterQueue")
    );
    assert!(resource(&template, "WebhookDeadLetterAlarm")["Properties"].is_mapping());
}

/// The e-mail worker gets the shop's name, currency and order link from parameters whose
/// defaults the code accepts, and whose patterns refuse what the code refuses.
#[test]
fn the_e_mails_branding_comes_from_parameters_the_code_accepts() {
    use shared::config::FromEnvironment;
    let template = template();
    let worker = resource(&template, "OrderEmailsFunction");
    let variables = &worker["Properties"]["Environment"]["Variables"];
    for (variable, parameter) in [
        ("SHOP_NAME", "ShopName"),
        ("CURRENCY", "Currency"),
        ("ORDER_URL_TEMPLATE", "OrderUrlTemplate"),
    ] {
        assert_eq!(yaml(&variables[variable]).trim(), format!("!Ref {parameter}"), "{variable}");
    }
    let default = |name: &str| {
        let value = &template["Parameters"][name]["Default"];
        value.as_str().map(str::to_owned).expect("a default")
    };
    let defaults = [
        ("TABLE_NAME", "t".to_owned()),
        ("SENDER_ADDRESS", "orders@shop.example".to_owned()),
        ("SHOP_NAME", default("ShopName")),
        ("CURRENCY", default("Currency")),
        ("ORDER_URL_TEMPLATE", default("OrderUrlTemplate")),
    ];
    let lookup = |name: &str| defaults.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    let config = shared::config::WorkerConfig::from_lookup(lookup).expect("the defaults");
    assert_eq!(config.branding, shared::domain::Branding::default());
    let pattern =
        template["Parameters"]["OrderUrlTemplate"]["AllowedPattern"].as_str().expect("pattern");
    assert_eq!(pattern, "^$|^https?://.*\\{order_id\\}.*$");
}

/// Asserts that `policy` names each of `expected` and none of `forbidden`.
fn policy_grants(policy: &str, expected: &[&str], forbidden: &[&str]) {
    for name in expected {
        assert!(policy.contains(name), "{name}: {policy}");
    }
    for name in forbidden {
        assert!(!policy.contains(name), "{name}: {policy}");
    }
}
