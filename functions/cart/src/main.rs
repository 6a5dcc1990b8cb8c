//! The cart Lambda: build the state once per cold start, then serve the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init_lambda();
    let state =
        shared::AppState::from_env().await?.with_metrics(shared::metrics::cold_start("cart"));
    lambda_http::run(cart::router(state)).await
}
