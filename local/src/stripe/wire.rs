//! Stripe's wire conventions: the secret key, form parameters (unknown ones refused), the
//! error answer, and idempotency keys (replayed, refused with other parameters), with the
//! switch that fails requests after committing them.

use axum::{
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use std::sync::Arc;

use super::{Books, LocalStripe, Saved, StripeError, events, new_id};

/// Form parameters in order, as sent.
pub(super) type Params = Vec<(String, String)>;

pub(super) fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("request-id", new_id("req"))], axum::Json(body)).into_response()
}

pub(super) fn error(error: StripeError) -> Response {
    answer(error.status, error.body())
}

/// The secret key of the request (`Authorization: Bearer sk_test_…`).
pub(super) fn api_key(headers: &HeaderMap) -> Result<String, StripeError> {
    let value = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = value.strip_prefix("Bearer ").unwrap_or_default().trim().to_owned();
    if key.starts_with("sk_test_") && key.len() > "sk_test_".len() {
        return Ok(key);
    }
    let message = if key.is_empty() {
        "You did not provide an API key. Provide it in the Authorization header (Bearer auth)."
            .to_owned()
    } else {
        "Invalid API Key provided: this provider accepts test keys (sk_test_…) only.".to_owned()
    };
    Err(StripeError { status: 401, code: None, ..StripeError::invalid("", message, None) })
}

/// The form parameters, refusing any not in `known` (a name ending in `[` takes any key).
pub(super) fn params(body: &[u8], known: &[&str]) -> Result<Params, StripeError> {
    let params: Params = serde_urlencoded::from_bytes(body)
        .map_err(|_| StripeError::invalid("parameter_invalid", "Invalid form body.", None))?;
    for (name, _) in &params {
        let allowed = known
            .iter()
            .any(|k| name == k || (k.ends_with('[') && name.starts_with(k) && name.ends_with(']')));
        if !allowed {
            let message = format!("Received unknown parameter: {name}");
            return Err(StripeError::invalid("parameter_unknown", message, None));
        }
    }
    Ok(params)
}

pub(super) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

pub(super) fn amount(params: &Params, name: &'static str) -> Result<Option<i64>, StripeError> {
    match param(params, name) {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(value) if value > 0 => Ok(Some(value)),
            _ => Err(StripeError::invalid(
                "parameter_invalid_integer",
                format!("Invalid integer: {text}"),
                Some(name),
            )),
        },
    }
}

/// Answers a request that changes nothing an idempotency key protects (a read, a test
/// switch): the key checked, then `run` under the books' lock.
pub(super) fn plain(
    stripe: &LocalStripe,
    headers: &HeaderMap,
    run: impl FnOnce(&mut Books) -> Result<Value, StripeError>,
) -> Response {
    if let Err(refused) = api_key(headers) {
        return error(refused);
    }
    match run(&mut stripe.books()) {
        Ok(body) => answer(200, body),
        Err(refused) => error(refused),
    }
}

/// Runs a POST once per (key, Idempotency-Key): replays the saved answer for the same
/// parameters, refuses other parameters, saves the answer otherwise; and fails it after
/// committing while the fault switch says so.
pub(super) fn idempotent(
    stripe: &LocalStripe,
    headers: &HeaderMap,
    route: &str,
    body: &[u8],
    run: impl FnOnce(&mut Books, Option<&str>) -> Result<(u16, Value), StripeError>,
) -> Response {
    let key = match api_key(headers) {
        Ok(key) => key,
        Err(refused) => return error(refused),
    };
    let idempotency =
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let fingerprint = format!("{route}?{}", String::from_utf8_lossy(body));
    let mut books = stripe.books();
    if let Some(saved) =
        idempotency.as_ref().and_then(|k| books.idempotent.get(&(key.clone(), k.clone())))
    {
        if saved.fingerprint != fingerprint {
            let message = format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{}' if you meant to execute a different request.",
                idempotency.as_deref().unwrap_or_default()
            );
            return error(StripeError {
                kind: "idempotency_error",
                code: None,
                ..StripeError::invalid("", message, None)
            });
        }
        let mut replay = answer(saved.status, saved.body.clone());
        replay
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().expect("a valid header value"));
        return replay;
    }
    let (status, body) = match run(&mut books, idempotency.as_deref()) {
        Ok(done) => done,
        // Parameter errors are not saved (Stripe saves only what started executing).
        Err(refused) if refused.code == Some("parameter_unknown") => return error(refused),
        Err(refused) => (refused.status, refused.body()),
    };
    if let Some(idempotency) = idempotency {
        let saved = Saved { fingerprint, status, body: body.clone() };
        books.idempotent.insert((key, idempotency), saved);
    }
    // The events it caused go out once the books are released.
    for delivery in std::mem::take(&mut books.outgoing) {
        events::send(Arc::clone(&stripe.sender), delivery);
    }
    if status < 300 && books.fail_after_commit > 0 {
        books.fail_after_commit -= 1;
        return error(StripeError {
            status: 500,
            kind: "api_error",
            code: None,
            ..StripeError::invalid("", "An error occurred with our connection to Stripe.", None)
        });
    }
    answer(status, body)
}
