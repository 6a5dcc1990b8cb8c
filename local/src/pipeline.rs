//! The local order-event pipeline: an in-process channel fanned out to the same consumers the
//! deployed stack runs (the order e-mails as `.eml` files, the signed webhooks over real HTTP
//! with their retries on timers), and the outbox re-publisher every minute.

use std::{sync::Arc, time::Duration};

use shared::{
    domain::{OrderEvent, Timestamp},
    metrics::MetricsSink,
    notify::{
        InProcessQueue,
        mail::EmlFolder,
        relay::republish,
        worker::{Delivery, EmailWorker, delivery_metric},
    },
    store::Store,
    webhooks::{WebhookSender, deliver::WebhookWorker},
};

/// What consumes the local order events.
pub struct Consumers {
    /// Where the order e-mails are written.
    pub outbox: EmlFolder,
    /// Their From address.
    pub sender: String,
    /// The webhooks' HTTP client.
    pub webhooks: Arc<dyn WebhookSender>,
    /// The first webhook retry's wait in seconds, doubling after.
    pub retry_base_seconds: u64,
}

/// The local order-event queue: each event goes to the e-mail worker (the same code as the
/// order-emails Lambda) and to the webhook worker (the same code as the order-webhooks
/// Lambda; a delivery that must be retried sleeps until it is due, in its own task). Also
/// re-publishes, every minute, events left in the store's outbox. Returns the publisher to
/// give the [`shared::AppState`].
pub fn in_process_queue(
    store: Arc<dyn Store>,
    consumers: Consumers,
    metrics: Arc<dyn MetricsSink>,
) -> Arc<InProcessQueue> {
    let (queue, mut events) = InProcessQueue::new();
    let worker_store = Arc::clone(&store);
    let worker_metrics = Arc::clone(&metrics);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            tokio::spawn(deliver_webhooks(
                Arc::clone(&worker_store),
                Arc::clone(&consumers.webhooks),
                consumers.retry_base_seconds,
                Arc::clone(&worker_metrics),
                event.clone(),
            ));
            let worker = EmailWorker {
                store: worker_store.as_ref(),
                mailer: &consumers.outbox,
                sender: &consumers.sender,
            };
            let outcome = worker.deliver_event(&event).await;
            worker_metrics.publish("deliver", &[delivery_metric(&outcome)]);
            match outcome {
                Ok(Delivery::Sent) => {}
                Ok(Delivery::AlreadySent) => {
                    tracing::info!(order = %event.order_id, event = %event.name(), "e-mail already sent")
                }
                Err(error) => {
                    tracing::error!(order = %event.order_id, event = %event.name(), error = %error, "e-mail not sent")
                }
            }
        }
    });
    let queue = Arc::new(queue);
    tokio::spawn(relay_every_minute(store, Arc::clone(&queue), metrics));
    queue
}

/// Delivers one event to its webhooks, sleeping until each retry is due, until every webhook
/// has it or was given up on. A failure to read or write the store is retried the same way
/// (a few times, then logged and dropped: the event's webhooks then miss it).
async fn deliver_webhooks(
    store: Arc<dyn Store>,
    sender: Arc<dyn WebhookSender>,
    retry_base_seconds: u64,
    metrics: Arc<dyn MetricsSink>,
    event: OrderEvent,
) {
    let worker =
        WebhookWorker { store: store.as_ref(), sender: sender.as_ref(), retry_base_seconds };
    let mut failures = 0;
    loop {
        let wait = match worker.deliver_event(&event).await {
            Ok(report) => {
                metrics.publish("webhooks", &report.metrics());
                match report.retry_in {
                    Some(seconds) => seconds,
                    None => return,
                }
            }
            Err(error) => {
                failures += 1;
                tracing::error!(event = %event.id, error = %error, "webhook delivery failed");
                if failures >= 3 {
                    return;
                }
                worker.backoff(failures)
            }
        };
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

async fn relay_every_minute(
    store: Arc<dyn Store>,
    queue: Arc<InProcessQueue>,
    metrics: Arc<dyn MetricsSink>,
) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        match republish(store.as_ref(), queue.as_ref(), Timestamp::now(), 30, 500).await {
            Ok(report) => {
                metrics.publish("relay", &report.metrics());
                if report.published > 0 {
                    tracing::info!(published = report.published, "outbox relayed");
                }
            }
            Err(error) => tracing::warn!(error = %error, "outbox relay failed"),
        }
    }
}
