use axum::{Router, middleware};

use super::{ApiError, log_request};
use crate::state::AppState;

/// A deployable application from the routes of one or more functions: JSON fallbacks,
/// the request log and the state. The same call serves Lambda, the local server and tests.
pub fn app(routes: Router<AppState>, state: AppState) -> Router {
    with_fallbacks(routes)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Adds the JSON 404 and 405 answers to a complete router. Apply once, to the outermost
/// router: axum refuses to merge two routers that both have a fallback.
pub fn with_fallbacks<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// 404 for a path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::not_found("route_not_found", "No such endpoint")
}

/// 405 for a known path with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed on this endpoint",
    )
}
