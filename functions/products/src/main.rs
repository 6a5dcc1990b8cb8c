//! The products Lambda: build the state once per cold start (with the stage-cache flusher),
//! then serve the router.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init_lambda();
    let sdk = aws_config::load_from_env().await;
    let state = shared::AppState::from_sdk(&sdk)
        .await?
        .with_edge_cache(Arc::new(products::ApiGatewayCache::new(&sdk)))
        .with_metrics(shared::metrics::cold_start("products"));
    lambda_http::run(products::router(state)).await
}
