//! The outbox re-publisher Lambda, run every minute by a schedule: publishes the order events
//! whose publishing after commit failed, then deletes them from the outbox.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::logging::invocation_span;
use shared::{
    config::{FromEnvironment, RelayConfig},
    domain::Timestamp,
    metrics::MetricsSink,
    notify::{SnsPublisher, relay::republish},
    store::DynamoStore,
};
use tracing::Instrument;

/// Events younger than this are probably still being published by their own request.
const MIN_AGE_SECONDS: i64 = 30;
/// At most this many events a run (the next run takes the rest).
const BATCH: usize = 500;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let config = RelayConfig::from_env()?;
    let sdk = aws_config::load_from_env().await;
    let store = DynamoStore::new(DynamoStore::client(&sdk), config.table_name);
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), config.topic_arn);
    tokio::join!(store.warm_up(), publisher.warm_up());
    let metrics = shared::metrics::cold_start("outbox-relay");
    let (store, publisher, metrics) = (&store, &publisher, metrics.as_ref());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let context = &event.context;
        let span = invocation_span(&context.request_id, context.xray_trace_id.as_deref());
        let relay = republish(store, publisher, Timestamp::now(), MIN_AGE_SECONDS, BATCH);
        let report = relay.instrument(span.clone()).await?;
        let _entered = span.enter();
        tracing::info!(
            published = report.published,
            failed = report.failed,
            too_recent = report.too_recent,
            "outbox relayed"
        );
        metrics.publish("relay", &report.metrics());
        Ok::<_, lambda_runtime::Error>(
            serde_json::json!({ "published": report.published, "failed": report.failed }),
        )
    }))
    .await
}
