//! The orders Lambda: build the state once per cold start (publishing order events to the
//! topic in `ORDER_EVENTS_TOPIC_ARN`, both connections warmed), then serve the router.

use std::sync::Arc;

use shared::{
    config::{EventsConfig, FromEnvironment},
    notify::SnsPublisher,
};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init_lambda();
    let config = EventsConfig::from_env()?;
    let sdk = aws_config::load_from_env().await;
    let events = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), config.topic_arn);
    // Both connections open at once: DynamoDB (inside `from_sdk`) and SNS.
    let (state, ()) = tokio::join!(shared::AppState::from_sdk(&sdk), events.warm_up());
    let state =
        state?.with_events(Arc::new(events)).with_metrics(shared::metrics::cold_start("orders"));
    lambda_http::run(orders::router(state)).await
}
