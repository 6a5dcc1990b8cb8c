//! One structured log line and one metrics line per request.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tracing::Instrument;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use crate::{
    metrics::{Metric, Unit, counting_dynamodb_requests},
    state::AppState,
};

/// Where the authenticating extractor leaves the caller's user id for the request's log line.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallerSlot(Arc<OnceLock<String>>);

impl CallerSlot {
    /// Records the authenticated caller (the first one set wins).
    pub(crate) fn set(&self, user_id: String) {
        let _ = self.0.set(user_id);
    }
}

/// One structured line per request: method, route template (never the raw path, which can
/// carry ids), status, latency, request id, X-Ray trace id, the authenticated user's id and
/// the DynamoDB requests it took. Headers, bodies, e-mail addresses and tokens are never
/// logged. Also publishes `DynamoDbRequests` for the route (operation: `METHOD /route`).
pub async fn log_request(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = header(&request, "x-amzn-requestid")
        .or_else(|| header(&request, "x-request-id"))
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    // X-Ray's trace header (`Root=1-…;Parent=…;Sampled=1`), as API Gateway passes it on.
    let trace_id = header(&request, "x-amzn-trace-id")
        .map(|header| crate::logging::trace_root(&header).to_owned());
    let caller = CallerSlot::default();
    request.extensions_mut().insert(caller.clone());
    // Every line logged while the request is served carries its ids (the span's fields).
    let span = tracing::info_span!("request", request_id = %request_id, trace_id);
    let served = counting_dynamodb_requests(next.run(request)).instrument(span);
    let (response, dynamodb_requests) = served.await;
    tracing::info!(
        method = %method,
        route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id,
        trace_id,
        user_id = caller.0.get().map(String::as_str),
        dynamodb_requests,
        "request"
    );
    if route != "unmatched" {
        let requests = Metric {
            name: "DynamoDbRequests",
            value: f64::from(dynamodb_requests),
            unit: Unit::Count,
        };
        state.metrics().publish(&format!("{method} {route}"), &[requests]);
    }
    response
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}
