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
            function["Properties"]["Events"]
                .as_mapping()
                .into_iter()
                .flatten()
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
    let resource_path = if path == "*" {
        "/*".to_owned()
    } else {
        format!("/{}", path.replace('/', "~1"))
    };
    api["Properties"]["MethodSettings"]
        .as_sequence()
        .expect("MethodSettings")
        .iter()
        .find(|s| {
            s["HttpMethod"].as_str() == Some(method)
                && s["ResourcePath"].as_str() == Some(resource_path.as_str())
        })
}

#[test]
fn cached_routes_are_keyed_by_every_parameter_they_read_and_nothing_authenticated_is_cached() {
    let template = template();
    let (_, api) = resources_of_type(&template, "AWS::Serverless::Api")[0];
    assert_eq!(
        api["Properties"]["CacheClusterEnabled"].as_bool(),
        Some(true)
    );
    let default = method_setting(&template, "*", "*").expect("stage default");
    assert_eq!(
        default["CachingEnabled"].as_bool(),
        Some(false),
        "caching is opt-in per route"
    );

    let list_params: BTreeSet<String> = serde_fields::<shared::domain::ListParams>()
        .into_iter()
        .map(String::from)
        .collect();
    assert!(
        list_params.contains("page") && list_params.contains("cursor"),
        "{list_params:?}"
    );
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
            list_params
                .iter()
                .map(|name| format!("method.request.querystring.{name}"))
                .collect()
        } else {
            BTreeSet::new()
        };
        let expected: BTreeSet<String> = path_params.union(&query_params).cloned().collect();
        assert_eq!(keys, expected, "{method} {path}: cache key parameters");
    }
    let expected: BTreeSet<_> = [
        ("GET", "/products/all_products"),
        ("GET", "/products/{product_id}"),
    ]
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .into();
    assert_eq!(cached, expected);
}

#[test]
fn admin_writes_are_throttled_tighter_than_the_stage() {
    let template = template();
    let default_of = |name: &str| {
        template["Parameters"][name]["Default"]
            .as_u64()
            .expect(name)
    };
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
        assert!(
            rate.contains("AdminWriteRateLimit"),
            "{method} {path}: {rate}"
        );
    }
}

#[test]
fn the_products_function_may_only_touch_what_it_uses() {
    let template = template();
    let (_, products) = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| *name == "ProductsFunction")
        .expect("ProductsFunction");
    let statements = products["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements");
    let grants: Vec<(BTreeSet<String>, String)> = statements
        .iter()
        .map(|s| {
            let actions = s["Action"]
                .as_sequence()
                .expect("actions")
                .iter()
                .map(|a| a.as_str().expect("action").to_owned())
                .collect();
            (
                actions,
                serde_norway::to_string(&s["Resource"]).expect("yaml"),
            )
        })
        .collect();
    let set = |actions: &[&str]| {
        actions
            .iter()
            .map(|a| (*a).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(grants.len(), 3, "{grants:?}");
    assert_eq!(
        grants[0].0,
        set(&[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ])
    );
    assert!(grants[0].1.contains("Table.Arn") && !grants[0].1.contains('*'));
    assert_eq!(grants[1].0, set(&["dynamodb:Query"]));
    assert!(
        grants[1].1.contains("/index/GSI1")
            && grants[1].1.contains("/index/GSI2")
            && !grants[1].1.contains("index/*")
    );
    assert_eq!(grants[2].0, set(&["apigateway:DELETE"]));
    assert!(
        grants[2].1.ends_with("/cache/data\n") || grants[2].1.contains("/cache/data"),
        "{}",
        grants[2].1
    );
    assert!(
        !grants
            .iter()
            .any(|(actions, _)| actions.iter().any(|a| a.ends_with(":*") || a == "*"))
    );
}

#[test]
fn the_coupons_function_may_only_touch_what_it_uses() {
    let template = template();
    let (_, coupons) = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| *name == "CouponsFunction")
        .expect("CouponsFunction");
    let statements = coupons["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements");
    let actions = |i: usize| -> BTreeSet<String> {
        statements[i]["Action"]
            .as_sequence()
            .expect("actions")
            .iter()
            .map(|a| a.as_str().expect("action").to_owned())
            .collect()
    };
    assert_eq!(statements.len(), 2);
    let table_actions: BTreeSet<String> = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ]
    .map(String::from)
    .into();
    assert_eq!(actions(0), table_actions);
    assert_eq!(actions(1), BTreeSet::from(["dynamodb:Query".to_owned()]));
    let index = serde_norway::to_string(&statements[1]["Resource"]).expect("yaml");
    assert!(
        index.contains("/index/GSI1") && !index.contains('*'),
        "{index}"
    );
}

#[test]
fn the_cart_function_may_only_touch_what_it_uses() {
    let template = template();
    let (_, cart) = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| *name == "CartFunction")
        .expect("CartFunction");
    let statements = cart["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements");
    assert_eq!(statements.len(), 1);
    let actions: BTreeSet<String> = statements[0]["Action"]
        .as_sequence()
        .expect("actions")
        .iter()
        .map(|a| a.as_str().expect("action").to_owned())
        .collect();
    let expected: BTreeSet<String> = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    ]
    .map(String::from)
    .into();
    assert_eq!(actions, expected);
    let resource = serde_norway::to_string(&statements[0]["Resource"]).expect("yaml");
    assert!(
        resource.contains("Table.Arn") && !resource.contains('*'),
        "{resource}"
    );
}

#[test]
fn the_orders_function_may_only_touch_what_checkout_uses_and_send_to_its_queue() {
    let template = template();
    let (_, orders) = resources_of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| *name == "OrdersFunction")
        .expect("OrdersFunction");
    let statements = orders["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements");
    let grants: Vec<(BTreeSet<String>, String)> = statements
        .iter()
        .map(|statement| {
            let actions = statement["Action"]
                .as_sequence()
                .expect("actions")
                .iter()
                .map(|a| a.as_str().expect("action").to_owned())
                .collect();
            let resource = serde_norway::to_string(&statement["Resource"]).expect("yaml");
            assert!(!resource.contains('*'), "{resource}");
            (actions, resource)
        })
        .collect();
    let set = |actions: &[&str]| {
        actions
            .iter()
            .map(|a| a.to_string())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(grants.len(), 3);
    assert_eq!(
        grants[0].0,
        set(&[
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem"
        ])
    );
    assert!(grants[0].1.contains("Table.Arn"));
    assert_eq!(grants[1].0, set(&["dynamodb:Query"]));
    assert!(grants[1].1.contains("/index/GSI1") && grants[1].1.contains("/index/GSI2"));
    assert_eq!(grants[2].0, set(&["sqs:SendMessage"]));
    assert!(
        grants[2].1.contains("OrderEventsQueue.Arn"),
        "{}",
        grants[2].1
    );
    let queue_url = serde_norway::to_string(
        &orders["Properties"]["Environment"]["Variables"]["ORDER_EVENTS_QUEUE_URL"],
    )
    .expect("yaml");
    assert!(queue_url.contains("OrderEventsQueue"), "{queue_url}");

    // The queue sends what it cannot deliver to a dead-letter queue.
    let (_, queue) = resources_of_type(&template, "AWS::SQS::Queue")
        .into_iter()
        .find(|(name, _)| *name == "OrderEventsQueue")
        .expect("OrderEventsQueue");
    let redrive = &queue["Properties"]["RedrivePolicy"];
    assert!(redrive["maxReceiveCount"].as_u64().is_some_and(|n| n >= 1));
    let target = serde_norway::to_string(&redrive["deadLetterTargetArn"]).expect("yaml");
    assert!(target.contains("OrderEventsDeadLetterQueue"), "{target}");
}

fn resource<'a>(template: &'a serde_norway::Value, name: &str) -> &'a serde_norway::Value {
    &template["Resources"][name]
}

fn yaml(value: &serde_norway::Value) -> String {
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
    assert_eq!(
        yaml(&properties["FunctionResponseTypes"]).trim(),
        "- ReportBatchItemFailures"
    );
    assert!(
        properties["BatchSize"]
            .as_u64()
            .is_some_and(|n| (1..=10).contains(&n))
    );
    assert!(
        properties["MaximumBatchingWindowInSeconds"]
            .as_u64()
            .is_some()
    );

    // The queue hides a message for at least 6 × the worker's timeout, and dead-letters it.
    let timeout = worker["Properties"]["Timeout"].as_u64().expect("timeout");
    let queue = &resource(&template, "OrderEventsQueue")["Properties"];
    let visibility = queue["VisibilityTimeout"].as_u64().expect("visibility");
    assert!(visibility >= 6 * timeout, "{visibility} < 6 × {timeout}");
    assert!(
        yaml(&queue["RedrivePolicy"]["deadLetterTargetArn"]).contains("OrderEventsDeadLetterQueue")
    );

    // SES only from the configured identity; table writes only to e-mail markers.
    let statements = worker["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements");
    let ses: Vec<_> = statements
        .iter()
        .filter(|s| yaml(&s["Action"]).contains("ses:"))
        .collect();
    assert_eq!(ses.len(), 1);
    assert_eq!(yaml(&ses[0]["Action"]).trim(), "- ses:SendEmail");
    assert!(yaml(&ses[0]["Resource"]).contains(":identity/${SenderAddress}"));
    for statement in statements {
        let actions = yaml(&statement["Action"]);
        assert!(!actions.contains('*') && !yaml(&statement["Resource"]).ends_with("*\n"));
        if actions.contains("PutItem") || actions.contains("DeleteItem") {
            assert!(
                yaml(&statement["Condition"]).contains("SENT#*"),
                "{actions}"
            );
        }
    }
    assert!(yaml(&worker["Properties"]["Environment"]).contains("SenderAddress"));

    let alarm = &resource(&template, "OrderEventsDeadLetterAlarm")["Properties"];
    assert_eq!(
        alarm["MetricName"].as_str(),
        Some("ApproximateNumberOfMessagesVisible")
    );
    assert!(yaml(&alarm["Dimensions"]).contains("OrderEventsDeadLetterQueue.QueueName"));
    assert_eq!(
        (
            alarm["Threshold"].as_u64(),
            alarm["ComparisonOperator"].as_str()
        ),
        (Some(0), Some("GreaterThanThreshold"))
    );
}

#[test]
fn the_outbox_relay_runs_every_minute_and_may_only_publish_and_clear_the_outbox() {
    let template = template();
    let relay = resource(&template, "OutboxRelayFunction");
    let schedule = &relay["Properties"]["Events"]["EveryMinute"];
    assert_eq!(schedule["Type"].as_str(), Some("Schedule"));
    assert_eq!(
        schedule["Properties"]["Schedule"].as_str(),
        Some("rate(1 minute)")
    );
    let timeout = relay["Properties"]["Timeout"].as_u64().expect("timeout");
    assert!(timeout < 60, "a run ends before the next one starts");
    let policy = yaml(&relay["Properties"]["Policies"]);
    for expected in [
        "dynamodb:Query",
        "/index/GSI1",
        "dynamodb:DeleteItem",
        "OUTBOX#*",
        "sqs:SendMessage",
        "OrderEventsQueue.Arn",
    ] {
        assert!(policy.contains(expected), "{expected}: {policy}");
    }
    for forbidden in ["PutItem", "UpdateItem", "GetItem", "ses:"] {
        assert!(!policy.contains(forbidden), "{forbidden}: {policy}");
    }
}
