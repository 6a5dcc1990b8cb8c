//! The payment-jobs Lambda: configuration and clients once per cold start, then one
//! [`payment_jobs::handle`] per SQS batch or scheduled run. Order events it commits (an
//! expiry) stay in the outbox, which the outbox relay publishes within a minute.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::{
    config::{ConfigError, FromEnvironment, PaymentJobsConfig, branding},
    domain::Timestamp,
    logging::invocation_span,
    notify::NoQueue,
    orders::Orders,
    payments::{config::payment_settings, holds::SqsHoldTimer},
    store::DynamoStore,
};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let lookup = |name: &str| std::env::var(name).ok();
    let config = PaymentJobsConfig::from_env()?;
    let settings = payment_settings(&lookup, branding(&lookup)?.currency)?;
    // Without payments every invocation answers at once; the queue is needed only with them.
    let queue = match (&settings, config.holds_queue_url) {
        (Some(_), None) => {
            let problem = "is required with payments on".into();
            return Err(ConfigError { name: "PAYMENT_HOLDS_QUEUE_URL", problem }.into());
        }
        (_, queue) => queue.unwrap_or_default(),
    };
    let table = config.table_name;
    let sdk = aws_config::load_from_env().await;
    let store = DynamoStore::new(DynamoStore::client(&sdk), table);
    store.warm_up().await;
    let holds = SqsHoldTimer::new(aws_sdk_sqs::Client::new(&sdk), queue);
    let metrics = shared::metrics::cold_start("payment-jobs");
    let orders = Orders {
        store: &store,
        events: &NoQueue,
        metrics: metrics.as_ref(),
        payments: settings.as_ref(),
        holds: &holds,
    };
    let (orders, holds) = (&orders, &holds);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let context = &event.context;
        let span = invocation_span(&context.request_id, context.xray_trace_id.as_deref());
        let handled = payment_jobs::handle(orders, holds, event.payload, Timestamp::now());
        Ok::<_, lambda_runtime::Error>(handled.instrument(span).await)
    }))
    .await
}
