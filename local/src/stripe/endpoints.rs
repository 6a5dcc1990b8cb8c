//! Webhook endpoints (`POST`/`GET /v1/webhook_endpoints`, `DELETE …/{id}`), as Stripe's API
//! manages them, and the test switches of event delivery (`POST /test/webhooks`).

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
    routing::{delete, post},
};
use serde_json::{Value, json};

use super::{
    LocalStripe, StripeError,
    events::{Endpoint, Switches},
    wire::{idempotent, param, params, plain},
};

pub(super) fn routes() -> Router<LocalStripe> {
    Router::new()
        .route("/v1/webhook_endpoints", post(create_endpoint).get(list_endpoints))
        .route("/v1/webhook_endpoints/{id}", delete(delete_endpoint))
        .route("/test/webhooks", post(set_switches))
}

async fn create_endpoint(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(&stripe, &headers, "endpoint", &body, |books, _| {
        let params =
            params(&body, &["url", "enabled_events[", "description", "metadata[", "api_version"])?;
        let url = param(&params, "url")
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .ok_or_else(|| {
                StripeError::invalid(
                    "url_invalid",
                    "Invalid URL: a webhook endpoint needs an http(s) url.",
                    Some("url"),
                )
            })?;
        let events: Vec<String> = params
            .iter()
            .filter(|(n, _)| n.starts_with("enabled_events["))
            .map(|(_, v)| v.clone())
            .collect();
        if events.is_empty() {
            return Err(StripeError::invalid(
                "parameter_missing",
                "Missing required param: enabled_events.",
                Some("enabled_events"),
            ));
        }
        let endpoint = Endpoint::new(url.to_owned(), events);
        let object = endpoint.to_json(true);
        books.endpoints.insert(endpoint.id.clone(), endpoint);
        Ok((200, object))
    })
}

async fn list_endpoints(State(stripe): State<LocalStripe>, headers: HeaderMap) -> Response {
    plain(&stripe, &headers, |books| {
        let data: Vec<Value> = books.endpoints.values().map(|e| e.to_json(false)).collect();
        Ok(
            json!({ "object": "list", "url": "/v1/webhook_endpoints", "has_more": false, "data": data }),
        )
    })
}

async fn delete_endpoint(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    plain(&stripe, &headers, |books| match books.endpoints.remove(&id) {
        Some(_) => Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true })),
        None => Err(StripeError::missing("webhook_endpoint", &id, Some("id"))),
    })
}

async fn set_switches(
    State(stripe): State<LocalStripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    plain(&stripe, &headers, |books| {
        let params = params(&body, &["drop_next", "duplicate_next", "delay_next", "delay_ms"])?;
        let number = |name| param(&params, name).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        let count = |name| u32::try_from(number(name)).unwrap_or(u32::MAX);
        let switches = Switches {
            drop_next: count("drop_next"),
            duplicate_next: count("duplicate_next"),
            delay_next: count("delay_next"),
            delay_ms: number("delay_ms"),
        };
        books.switches = switches;
        Ok(json!({ "drop_next": switches.drop_next, "duplicate_next": switches.duplicate_next,
                   "delay_next": switches.delay_next, "delay_ms": switches.delay_ms }))
    })
}
