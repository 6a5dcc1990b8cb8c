//! The order-emails Lambda: configuration and clients once per cold start, then one
//! [`order_emails::handle`] per SQS batch.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::logging::invocation_span;
use shared::{
    config::{FromEnvironment, WorkerConfig},
    notify::{mail::SesMailer, worker::EmailWorker},
    store::DynamoStore,
};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let WorkerConfig { table_name, sender, configuration_set, branding } =
        WorkerConfig::from_env()?;
    let sdk = aws_config::load_from_env().await;
    let store = DynamoStore::new(DynamoStore::client(&sdk), table_name);
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&sdk), &sender)
        .with_configuration_set(configuration_set);
    tokio::join!(store.warm_up(), mailer.warm_up());
    let worker =
        EmailWorker { store: &store, mailer: &mailer, sender: &sender, branding: &branding };
    let worker = &worker;
    let metrics = shared::metrics::cold_start("order-emails");
    let metrics = metrics.as_ref();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async move {
            let context = &event.context;
            let span = invocation_span(&context.request_id, context.xray_trace_id.as_deref());
            let handled = order_emails::handle(worker, metrics, event.payload);
            Ok::<_, lambda_runtime::Error>(handled.instrument(span).await)
        },
    ))
    .await
}
