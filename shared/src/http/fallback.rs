//! The application around every function's routes: JSON 404/405, panics as the JSON 500,
//! CORS and the request log.

use crate::domain::ErrorCode;
use std::any::Any;

use axum::{Router, body::Body, http::Response, middleware, response::IntoResponse};
use tower_http::catch_panic::CatchPanicLayer;

use super::{
    ApiError,
    cors::{cors_layer, preflight_no_content},
    log_request,
};
use crate::state::AppState;

/// A deployable application from the routes of one or more functions: JSON fallbacks,
/// panics turned into the JSON 500, CORS, the request log and the state. The same call serves
/// Lambda, the local server and tests.
pub fn app(routes: Router<AppState>, state: AppState) -> Router {
    let cors = cors_layer(state.cors());
    with_fallbacks(routes)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(cors)
        .layer(middleware::from_fn(preflight_no_content))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// A handler panicked (a bug): log it, answer the generic 500, keep the process serving.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    ApiError::internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}

/// Adds the JSON 404 and 405 answers to a complete router. Apply once, to the outermost
/// router: axum refuses to merge two routers that both have a fallback.
pub fn with_fallbacks<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed)
}

/// 404 for a path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::not_found(ErrorCode::RouteNotFound, "No such endpoint")
}

/// 405 for a known path with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "Method not allowed on this endpoint",
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::{
        body::to_bytes,
        http::{Request, StatusCode},
        routing::get,
    };
    use tower::ServiceExt;

    use super::*;
    use crate::{auth::token::tests::config, store::MemoryStore};

    async fn call(router: &Router, path: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_the_json_500_and_reveals_nothing() {
        let routes = Router::new()
            .route("/boom", get(|| async { panic!("secret detail") as &'static str }))
            .route("/fine", get(|| async { axum::Json(serde_json::json!({"ok": true})) }));
        let state = AppState::new(Arc::new(MemoryStore::default()), config());
        let router = app(routes, state);

        let (status, body) = call(&router, "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "internal_error");
        assert!(!body.to_string().contains("secret detail"));

        let (status, body) = call(&router, "/fine").await;
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)));
    }

    #[tokio::test]
    async fn unknown_paths_and_methods_get_json() {
        let routes = Router::new().route("/only-get", get(|| async { "x" }));
        let router = app(routes, AppState::new(Arc::new(MemoryStore::default()), config()));
        let (status, body) = call(&router, "/nowhere").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("route_not_found"))
        );
    }
}
