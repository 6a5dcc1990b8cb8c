//! The hand-written OpenAPI document against the code: every route is documented, every
//! documented operation is routed, and every `$ref` resolves.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use e2e::{Backend, TestApp, source_routes};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn documented() -> BTreeSet<(String, String)> {
    let paths = local::openapi()["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn every_routed_operation_is_documented() {
    let documented = documented();
    for route in source_routes() {
        assert!(
            documented.contains(&(route.method.clone(), route.path.clone())),
            "{} {} (functions/{}) is not in openapi.yaml",
            route.method,
            route.path,
            route.function
        );
    }
}

/// The operation table the functions route by is the document's operations (`operationId` in
/// snake case, method, path), less the local server's own document; each is served by one
/// function.
#[test]
fn the_operation_table_is_the_documents_and_each_operation_has_one_function() {
    let snake = |id: &str| {
        id.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            out
        })
    };
    let paths = local::openapi()["paths"].as_object().expect("paths");
    let documented: BTreeSet<_> = paths
        .iter()
        .filter(|(path, _)| path.as_str() != "/openapi.json")
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |m| {
                let id = item.get(*m)?["operationId"].as_str().expect("operationId");
                Some((snake(id), m.to_uppercase(), path.clone()))
            })
        })
        .collect();
    let table: BTreeSet<_> = shared::http::OPERATIONS
        .iter()
        .map(|o| (o.id.to_owned(), o.method.to_owned(), o.path.to_owned()))
        .collect();
    assert_eq!(table, documented);
    let served: Vec<_> = source_routes().into_iter().map(|r| (r.method, r.path)).collect();
    let distinct: BTreeSet<_> = served.iter().collect();
    assert_eq!((served.len(), distinct.len()), (table.len(), table.len()));
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::new(Backend::Memory).await;
    for (method, path) in documented() {
        let concrete = path.replace(['{', '}'], "");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let reply = app.call(method.clone(), &concrete, None, None).await;
        assert!(
            reply.status != StatusCode::NOT_FOUND || reply.code() != "route_not_found",
            "{method} {path} is documented but not routed"
        );
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
}

#[tokio::test]
async fn the_local_server_serves_the_document_as_json() {
    let app = TestApp::new(Backend::Memory).await;
    let reply = app.get("/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(&reply.json, local::openapi());
    assert!(reply.json["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
}

async fn fetch(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let request = axum::http::Request::get(path).body(axum::body::Body::empty()).expect("request");
    let response = tower::ServiceExt::oneshot(app.router.clone(), request).await.expect("reply");
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or(""));
    let content_type = content_type.unwrap_or("").to_owned();
    let body = http_body_util::BodyExt::collect(response.into_body()).await.expect("body");
    (status, content_type, String::from_utf8_lossy(&body.to_bytes()).into_owned())
}

#[tokio::test]
async fn the_explorer_page_its_assets_and_its_document_are_served_by_the_binary() {
    let app = TestApp::new(Backend::Memory).await;
    let (status, content_type, page) = fetch(&app, "/docs").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/html"));
    assert!(page.contains("/docs/swagger-ui-bundle.js") && page.contains("/docs/openapi.json"));
    assert!(!page.contains("https://"), "no asset from elsewhere: {page}");
    for (asset, kind) in
        [("/docs/swagger-ui-bundle.js", "text/javascript"), ("/docs/swagger-ui.css", "text/css")]
    {
        let (status, content_type, body) = fetch(&app, asset).await;
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, kind), "{asset}");
        assert!(body.len() > 100_000, "{asset} is the real asset ({} bytes)", body.len());
    }

    let document = app.get("/docs/openapi.json", None).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(
        document.json["servers"],
        serde_json::json!([{ "url": "/", "description": "this server" }])
    );
    assert_eq!(document.json["paths"], local::openapi()["paths"]);
}

#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let document = local::openapi();
    let mut targets = Vec::new();
    refs(document, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').expect("local reference");
        assert!(document.pointer(pointer).is_some(), "{target} does not resolve");
    }
}

/// The codes of `value` (a YAML list of strings).
fn codes(value: &Value) -> Vec<String> {
    let list = value.as_array().map(Vec::as_slice).unwrap_or_default();
    list.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect()
}

#[test]
fn the_documented_error_codes_are_exactly_the_codes_the_api_answers() {
    let doc = local::openapi();
    let declared: Vec<String> =
        shared::domain::ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert!(declared.len() > 50, "{declared:?}");
    assert_eq!(codes(&doc["components"]["schemas"]["ErrorCode"]["enum"]), declared);
    assert_eq!(
        doc["components"]["schemas"]["Error"]["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorCode"
    );

    // Every operation names its codes; together with the ones any operation may answer they
    // are the whole set, and none is unknown.
    let mut named: BTreeSet<String> = codes(&doc["x-error-codes"]).into_iter().collect();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            operations += 1;
            let list = &operation["x-error-codes"];
            assert!(list.is_array(), "{method} {path} has no x-error-codes");
            for code in codes(list) {
                assert!(declared.contains(&code), "{method} {path}: unknown code {code}");
                named.insert(code);
            }
        }
    }
    assert!(operations >= 35, "{operations} operations");
    let named: Vec<String> = named.into_iter().collect();
    assert_eq!(named, declared, "every code is answered somewhere, and only those");
}
