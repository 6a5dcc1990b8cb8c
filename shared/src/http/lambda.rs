//! Serving one function's router on Lambda.

use crate::AppState;

/// Builds the state from the environment once per cold start (with the function's metrics,
/// its `ColdStart` published), then serves `router(state)` through `lambda_http`: the whole
/// `main` of a function that needs nothing else.
pub async fn serve(
    function: &'static str,
    router: fn(AppState) -> axum::Router,
) -> Result<(), lambda_http::Error> {
    crate::logging::init_lambda();
    let state = AppState::from_env().await?.with_metrics(crate::metrics::cold_start(function));
    lambda_http::run(router(state)).await
}
