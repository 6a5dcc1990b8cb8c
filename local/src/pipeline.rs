//! The local order-event pipeline: an in-process channel fanned out to the same consumers the
//! deployed stack runs (the order e-mails as `.eml` files, the signed webhooks over real HTTP
//! with their retries on timers), and the outbox re-publisher every minute.
//!
//! A delivery that fails is redelivered as SQS would: after the visibility timeout, up to the
//! queue's `maxReceiveCount` (the template's: 20 for e-mails, 10 for webhooks), then set aside
//! as dead-lettered: logged, counted (`EventsDeadLettered`) and written as a JSON file to
//! `<outbox>/dead-letters/`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use shared::{
    domain::{OrderEvent, Timestamp},
    metrics::{Metric, MetricsSink},
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
    /// How they present the shop.
    pub branding: shared::domain::Branding,
    /// The webhooks' HTTP client.
    pub webhooks: Arc<dyn WebhookSender>,
    /// The first webhook retry's wait in seconds, doubling after.
    pub retry_base_seconds: u64,
    /// How failed deliveries are redelivered.
    pub redelivery: Redelivery,
}

/// How a failed delivery is redelivered, as SQS does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redelivery {
    /// How long a failed message stays invisible before it is received again.
    pub visibility_timeout: Duration,
    /// Receives of an e-mail event before it is dead-lettered (the e-mail queue's).
    pub email_receives: u32,
    /// Receives of a webhook event before it is dead-lettered (the webhook queue's).
    pub webhook_receives: u32,
}

impl Default for Redelivery {
    /// The template's receive counts; a 30 s visibility timeout (the deployed queues hide a
    /// message for six times their function's timeout, minutes that would only slow a laptop).
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            email_receives: 20,
            webhook_receives: 10,
        }
    }
}

/// Where dead letters go: `<outbox>/dead-letters/`.
fn dead_letters(consumers: &Consumers) -> PathBuf {
    consumers.outbox.dir().join("dead-letters")
}

/// Sets an event aside after its last receive: logged, counted, written to `dir` as JSON.
fn dead_letter(
    dir: &std::path::Path,
    queue: &str,
    event: &OrderEvent,
    receives: u32,
    error: &str,
    metrics: &dyn MetricsSink,
) {
    tracing::error!(queue, event = %event.id, order = %event.order_id, receives, error, "dead-lettered");
    metrics.publish(queue, &[Metric::count("EventsDeadLettered")]);
    let letter = serde_json::json!({
        "queue": queue, "event": event, "receives": receives, "error": error,
        "at": Timestamp::now(),
    });
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        std::fs::write(dir.join(format!("{queue}-{}.json", event.id)), letter.to_string())
    });
    if let Err(write) = written {
        tracing::error!(error = %write, "dead letter not written");
    }
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
    let consumers = Arc::new(consumers);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let (store, metrics) = (Arc::clone(&worker_store), Arc::clone(&worker_metrics));
            tokio::spawn(deliver_webhooks(store, Arc::clone(&consumers), metrics, event.clone()));
            let (store, metrics) = (Arc::clone(&worker_store), Arc::clone(&worker_metrics));
            tokio::spawn(deliver_email(store, Arc::clone(&consumers), metrics, event));
        }
    });
    let queue = Arc::new(queue);
    tokio::spawn(relay_every_minute(store, Arc::clone(&queue), metrics));
    queue
}

/// Sends one event's e-mail (the same code as the order-emails Lambda), receiving it again
/// after the visibility timeout while it fails, until the e-mail queue's receive count.
async fn deliver_email(
    store: Arc<dyn Store>,
    consumers: Arc<Consumers>,
    metrics: Arc<dyn MetricsSink>,
    event: OrderEvent,
) {
    let worker = EmailWorker {
        store: store.as_ref(),
        mailer: &consumers.outbox,
        sender: &consumers.sender,
        branding: &consumers.branding,
    };
    let redelivery = consumers.redelivery;
    for receive in 1..=redelivery.email_receives {
        let outcome = worker.deliver_event(&event).await;
        metrics.publish("deliver", &[delivery_metric(&outcome)]);
        let error = match outcome {
            Ok(Delivery::Sent) => return,
            Ok(Delivery::AlreadySent) => {
                tracing::info!(order = %event.order_id, event = %event.name(), "e-mail already sent");
                return;
            }
            Err(error) => error.to_string(),
        };
        if receive == redelivery.email_receives {
            let dir = dead_letters(&consumers);
            dead_letter(&dir, "order-emails", &event, receive, &error, metrics.as_ref());
            return;
        }
        tracing::warn!(order = %event.order_id, event = %event.name(), receive, error, "e-mail not sent; received again after the visibility timeout");
        tokio::time::sleep(redelivery.visibility_timeout).await;
    }
}

/// Delivers one event to its webhooks, sleeping until each retry is due, until every webhook
/// has it or was given up on. A failure to read or write the store makes the event visible
/// again after the visibility timeout, until the webhook queue's receive count.
async fn deliver_webhooks(
    store: Arc<dyn Store>,
    consumers: Arc<Consumers>,
    metrics: Arc<dyn MetricsSink>,
    event: OrderEvent,
) {
    let worker = WebhookWorker::new(
        store.as_ref(),
        consumers.webhooks.as_ref(),
        consumers.retry_base_seconds,
    );
    let redelivery = consumers.redelivery;
    let mut receives = 0;
    loop {
        receives += 1;
        let wait = match worker.deliver_event(&event).await {
            Ok(report) => {
                metrics.publish("webhooks", &report.metrics());
                match report.retry_in {
                    Some(seconds) => Duration::from_secs(seconds),
                    None => return,
                }
            }
            Err(error) if receives >= redelivery.webhook_receives => {
                let dir = dead_letters(&consumers);
                let error = error.to_string();
                dead_letter(&dir, "order-webhooks", &event, receives, &error, metrics.as_ref());
                return;
            }
            Err(error) => {
                tracing::warn!(event = %event.id, receives, error = %error, "webhook delivery failed; received again after the visibility timeout");
                redelivery.visibility_timeout
            }
        };
        tokio::time::sleep(wait).await;
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
