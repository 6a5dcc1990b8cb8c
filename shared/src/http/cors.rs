//! CORS for browser storefronts on other origins: preflights answered with 204 before any
//! route or authentication runs, and `Access-Control-Allow-Origin` on every response, errors
//! included. The same layer serves Lambda, the local server and tests.

use std::time::Duration;

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::CorsOrigins;

/// The request headers a browser may send: the token, JSON bodies, checkout's idempotency key.
pub const ALLOWED_HEADERS: [HeaderName; 3] =
    [header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("idempotency-key")];

/// The response headers a browser script may read besides the CORS-safelisted ones.
pub const EXPOSED_HEADERS: [HeaderName; 2] =
    [HeaderName::from_static("idempotent-replayed"), header::RETRY_AFTER];

/// How long a browser may reuse a preflight answer (each preflight is a Lambda invocation).
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// The CORS layer for `origins`.
pub fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => {
            AllowOrigin::list(list.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()))
        }
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(PREFLIGHT_MAX_AGE)
}

/// A preflight has no content: 204 rather than the CORS layer's 200.
pub(super) async fn preflight_no_content(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = next.run(request).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}
