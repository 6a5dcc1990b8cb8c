//! One structured log line per request.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};

/// One structured line per request: method, route template (never the raw path, which can
/// carry ids), status, latency, request id and X-Ray trace id. Headers and bodies are never
/// logged.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-amzn-requestid")
        .or_else(|| request.headers().get("x-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    // X-Ray's trace header (`Root=1-…;Parent=…;Sampled=1`), as API Gateway passes it on.
    let trace_id = request
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|part| part.strip_prefix("Root=")))
        .map(str::to_owned);
    let response = next.run(request).await;
    tracing::info!(
        method = %method,
        route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id,
        trace_id,
        "request"
    );
    response
}
