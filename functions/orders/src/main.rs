//! The orders Lambda: build the state once per cold start (publishing order events to the
//! topic in `ORDER_EVENTS_TOPIC_ARN`, both connections warmed; with `PAYMENTS=stripe`, taking
//! payments through Stripe and announcing unpaid holds on `PAYMENT_HOLDS_QUEUE_URL`), then
//! serve the router.

use std::sync::Arc;

use shared::{
    config::{EventsConfig, FromEnvironment, branding},
    notify::SnsPublisher,
    payments::{config::payment_settings, holds::SqsHoldTimer},
};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init_lambda();
    let config = EventsConfig::from_env()?;
    let sdk = aws_config::load_from_env().await;
    let events = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), config.topic_arn);
    // Both connections open at once: DynamoDB (inside `from_sdk`) and SNS.
    let (state, ()) = tokio::join!(shared::AppState::from_sdk(&sdk), events.warm_up());
    let mut state =
        state?.with_events(Arc::new(events)).with_metrics(shared::metrics::cold_start("orders"));
    let lookup = |name: &str| std::env::var(name).ok();
    if let Some(settings) = payment_settings(&lookup, branding(&lookup)?.currency)? {
        state = state.with_payments(settings);
        if let Some(queue) = config.holds_queue_url {
            let timer = SqsHoldTimer::new(aws_sdk_sqs::Client::new(&sdk), queue);
            state = state.with_hold_timer(Arc::new(timer));
        }
    }
    lambda_http::run(orders::router(state)).await
}
