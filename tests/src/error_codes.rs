//! Every error answer a test receives is checked against `openapi.yaml`: its code must be one
//! the document lists for that operation (`x-error-codes`) or for every operation (the root's
//! `x-error-codes`). A code the code answers and the document does not name fails the test
//! that saw it.

use std::sync::OnceLock;

use axum::http::Method;
use serde_json::Value;

/// One documented operation: its method, its path template split in segments, its codes.
struct Operation {
    method: String,
    segments: Vec<String>,
    codes: Vec<String>,
}

struct Document {
    any: Vec<String>,
    operations: Vec<Operation>,
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        let doc = local::openapi();
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                operations.push(Operation {
                    method: method.to_uppercase(),
                    segments: path.split('/').map(str::to_owned).collect(),
                    codes: strings(&operation["x-error-codes"]),
                });
            }
        }
        Document { any: strings(&doc["x-error-codes"]), operations }
    })
}

/// The documented operation `method path` is, if any (a `{param}` segment matches any one).
fn operation(method: &Method, path: &str) -> Option<&'static Operation> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let matches = |op: &&Operation| {
        op.method == method.as_str()
            && op.segments.len() == segments.len()
            && op
                .segments
                .iter()
                .zip(&segments)
                .all(|(template, actual)| template.starts_with('{') || template == actual)
    };
    // A literal segment wins over a parameter (`/orders/all` before `/orders/{id}`).
    let literal = |op: &&Operation| op.segments.iter().filter(|s| !s.starts_with('{')).count();
    document().operations.iter().filter(matches).max_by_key(literal)
}

/// Fails when `code`, answered to `method path`, is not documented for that operation.
pub fn check(method: &Method, path: &str, body: &Value) {
    let Some(code) = body.get("error").and_then(Value::as_str) else { return };
    let document = document();
    if document.any.iter().any(|c| c == code) {
        return;
    }
    let Some(op) = operation(method, path) else {
        panic!("{method} {path} answered `{code}`, and is no documented operation");
    };
    assert!(
        op.codes.iter().any(|c| c == code),
        "{method} {path} answered `{code}`: add it to the operation's x-error-codes in openapi.yaml \
         (it lists {:?})",
        op.codes
    );
}
