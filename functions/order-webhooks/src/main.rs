//! The order-webhooks Lambda: configuration and clients once per cold start, then one
//! [`order_webhooks::handle`] per SQS batch.

use lambda_runtime::{LambdaEvent, service_fn};
use order_webhooks::SqsDelay;
use shared::{
    config::{FromEnvironment, WebhookWorkerConfig},
    domain::UrlPolicy,
    logging::invocation_span,
    store::DynamoStore,
    webhooks::{HttpSender, deliver::WebhookWorker},
};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let config = WebhookWorkerConfig::from_env()?;
    let sdk = aws_config::load_from_env().await;
    let store = DynamoStore::new(DynamoStore::client(&sdk), config.table_name);
    store.warm_up().await;
    // Deployed, receivers are reached over HTTPS at public addresses only.
    let sender = HttpSender::new(UrlPolicy::PublicHttps)?;
    let delay = SqsDelay { client: aws_sdk_sqs::Client::new(&sdk), queue_url: config.queue_url };
    let worker = WebhookWorker::new(&store, &sender, config.retry_base_seconds);
    let (worker, delay) = (&worker, &delay);
    let metrics = shared::metrics::cold_start("order-webhooks");
    let metrics = metrics.as_ref();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async move {
            let context = &event.context;
            let span = invocation_span(&context.request_id, context.xray_trace_id.as_deref());
            let handled = order_webhooks::handle(worker, delay, metrics, event.payload);
            Ok::<_, lambda_runtime::Error>(handled.instrument(span).await)
        },
    ))
    .await
}
