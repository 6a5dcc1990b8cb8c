//! The functions' IAM against what the code really sends: every DynamoDB request an API call
//! makes (recorded at the SDK, on moto) must be allowed by the template's statements of the
//! function that serves the route — action, table or index, and every partition key against
//! the statement's `dynamodb:LeadingKeys`. A key prefix missing from a policy fails here
//! instead of as AccessDenied after a deploy.

use serde_json::Value;

/// One authorisation DynamoDB makes for a request: the IAM action, the table (`None`) or an
/// index, and the partition keys it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) action: String,
    pub(crate) index: Option<String>,
    pub(crate) keys: Vec<String>,
}

fn pk(key: &Value) -> Vec<String> {
    key["PK"]["S"].as_str().map(|pk| vec![pk.to_owned()]).unwrap_or_default()
}

/// The partition key a table `Query` names in its key condition.
fn queried_pk(body: &Value) -> Vec<String> {
    let condition = body["KeyConditionExpression"].as_str().unwrap_or("");
    let names = body["ExpressionAttributeNames"].as_object();
    let name = names
        .and_then(|names| names.iter().find(|(_, v)| v.as_str() == Some("PK")))
        .map_or("PK".to_owned(), |(placeholder, _)| placeholder.clone());
    let value = condition
        .split(" AND ")
        .find_map(|part| part.trim().strip_prefix(&format!("{name} = ")))
        .map(|placeholder| placeholder.trim().to_owned());
    value
        .and_then(|v| body["ExpressionAttributeValues"][v]["S"].as_str().map(str::to_owned))
        .into_iter()
        .collect()
}

/// What one request (its `X-Amz-Target` operation and JSON body) is authorised as.
pub(crate) fn accesses_of(operation: &str, body: &Value) -> Vec<Access> {
    let table = |action: &str, keys: Vec<String>| Access {
        action: format!("dynamodb:{action}"),
        index: None,
        keys,
    };
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => vec![table(operation, pk(&body["Key"]))],
        "PutItem" => vec![table(operation, pk(&body["Item"]))],
        "BatchGetItem" => {
            let keys = body["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|tables| tables.values())
                .flat_map(|t| t["Keys"].as_array().cloned().unwrap_or_default())
                .flat_map(|key| pk(&key))
                .collect();
            vec![table("BatchGetItem", keys)]
        }
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let (kind, action) = [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                ]
                .into_iter()
                .find(|(kind, _)| !item[*kind].is_null())?;
                let part = &item[kind];
                let keys = if kind == "Put" { pk(&part["Item"]) } else { pk(&part["Key"]) };
                Some(table(action, keys))
            })
            .collect(),
        "Query" => match body["IndexName"].as_str() {
            Some(index) => vec![Access {
                action: "dynamodb:Query".into(),
                index: Some(index.to_owned()),
                keys: Vec::new(),
            }],
            None => vec![table("Query", queried_pk(body))],
        },
        other => vec![table(other, Vec::new())],
    }
}

fn yaml(value: &serde_norway::Value) -> String {
    serde_norway::to_string(value).expect("yaml")
}

/// `StringLike` with a trailing `*` (the only wildcard the template uses) or an exact match.
fn like(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// Whether one of `statements` allows `access`.
pub(crate) fn allowed(statements: &[serde_norway::Value], access: &Access) -> bool {
    statements.iter().any(|statement| {
        let actions = yaml(&statement["Action"]);
        if !actions.lines().any(|line| line.trim_start_matches("- ").trim() == access.action) {
            return false;
        }
        let resource = yaml(&statement["Resource"]);
        let on_resource = match &access.index {
            Some(index) => resource.contains(&format!("/index/{index}")),
            None => {
                resource.lines().any(|l| l.trim_start_matches("- ").trim() == "!GetAtt Table.Arn")
            }
        };
        let condition = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        let keys_ok = match condition.as_sequence() {
            None => true,
            Some(patterns) => access
                .keys
                .iter()
                .all(|key| patterns.iter().any(|p| p.as_str().is_some_and(|p| like(p, key)))),
        };
        on_resource && keys_ok
    })
}

/// The statements of the function whose code is `functions/<crate_name>`.
pub(crate) fn statements_of(
    template: &serde_norway::Value,
    crate_name: &str,
) -> Vec<serde_norway::Value> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    let function = resources
        .values()
        .find(|r| {
            r["Type"].as_str() == Some("AWS::Serverless::Function")
                && r["Properties"]["CodeUri"].as_str() == Some(&format!("functions/{crate_name}"))
        })
        .unwrap_or_else(|| panic!("no function for {crate_name}"));
    function["Properties"]["Policies"][0]["Statement"].as_sequence().expect("statements").clone()
}

#[test]
fn requests_are_read_as_iam_authorises_them() {
    let body = serde_json::json!({
        "TransactItems": [
            { "Put": { "Item": { "PK": { "S": "ORDER#1" } } } },
            { "Update": { "Key": { "PK": { "S": "PRODUCT#2" } } } },
            { "Delete": { "Key": { "PK": { "S": "USER#3" } } } }
        ]
    });
    let actions: Vec<_> =
        accesses_of("TransactWriteItems", &body).into_iter().map(|a| (a.action, a.keys)).collect();
    assert_eq!(
        actions,
        [
            ("dynamodb:PutItem".to_owned(), vec!["ORDER#1".to_owned()]),
            ("dynamodb:UpdateItem".to_owned(), vec!["PRODUCT#2".to_owned()]),
            ("dynamodb:DeleteItem".to_owned(), vec!["USER#3".to_owned()]),
        ]
    );
    let query = serde_json::json!({
        "KeyConditionExpression": "#n0 = :v0 AND begins_with(SK, :v1)",
        "ExpressionAttributeNames": { "#n0": "PK" },
        "ExpressionAttributeValues": { ":v0": { "S": "WEBHOOK#9" }, ":v1": { "S": "DELIVERY#" } }
    });
    assert_eq!(accesses_of("Query", &query)[0].keys, ["WEBHOOK#9"]);
    // A statement keyed to USER# does not allow an ORDER# key, and "WEBHOOK#*" is not
    // "WEBHOOKS".
    let template = e2e::template();
    let cart = statements_of(&template, "cart");
    let get =
        |pk: &str| Access { action: "dynamodb:GetItem".into(), index: None, keys: vec![pk.into()] };
    assert!(allowed(&cart, &get("USER#1")));
    assert!(!allowed(&cart, &get("ORDER#1")));
    assert!(like("WEBHOOKS", "WEBHOOKS") && !like("WEBHOOK#*", "WEBHOOKS"));
}
