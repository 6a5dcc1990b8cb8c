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
    assert_eq!(
        indexes,
        [("GSI1", "GSI1PK", "GSI1SK"), ("GSI2", "GSI2PK", "GSI2SK")]
    );
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
    assert_eq!(
        variables["AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"].as_str(),
        Some("true")
    );
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
        assert!(
            std::path::Path::new(&manifest).exists(),
            "{name}: {code_uri} has no Cargo.toml"
        );
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
        for event in function["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(_, e)| e)
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
                method: properties["Method"]
                    .as_str()
                    .expect("Method")
                    .to_uppercase(),
                path: properties["Path"].as_str().expect("Path").to_owned(),
            });
        }
    }
    let routed: BTreeSet<_> = source_routes().into_iter().collect();
    assert!(routed.len() >= 5, "the auth routes at least: {routed:?}");
    assert_eq!(declared, routed, "template events and router routes differ");
}

#[test]
fn the_jwt_secret_has_no_default_and_comes_from_secrets_manager() {
    let template = template();
    for (name, parameter) in template["Parameters"].as_mapping().expect("Parameters") {
        let name = name.as_str().expect("name").to_lowercase();
        if name.contains("secret") || name.contains("password") {
            assert!(parameter["Default"].is_null(), "{name} has a default");
        }
    }
    let (_, auth) = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| *name == "AuthFunction")
        .expect("AuthFunction");
    let secret =
        serde_norway::to_string(&auth["Properties"]["Environment"]["Variables"]["JWT_SECRET"])
            .expect("yaml");
    assert!(
        secret.contains("{{resolve:secretsmanager:${JwtSecret}:SecretString}}"),
        "{secret}"
    );
    let secrets = resources_of_type(&template, "AWS::SecretsManager::Secret");
    assert_eq!(secrets.len(), 1);
    let properties = &secrets[0].1["Properties"];
    assert!(
        properties["SecretString"].is_null(),
        "a literal secret value"
    );
    assert!(
        !properties["GenerateSecretString"].is_null(),
        "the secret is generated"
    );
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
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ]
    .map(String::from)
    .into();
    assert_eq!(actions, allowed);
    let resource = serde_norway::to_string(&statements[0]["Resource"]).expect("yaml");
    assert!(
        resource.contains("Table.Arn") && !resource.contains('*'),
        "{resource}"
    );
    assert!(
        properties["MemorySize"]
            .as_u64()
            .is_some_and(|mb| mb >= 1024),
        "argon2 needs CPU, so memory"
    );
}
