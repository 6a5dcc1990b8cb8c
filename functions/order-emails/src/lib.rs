//! The order-emails worker: an SQS batch of order events in, one e-mail per event out, and the
//! ids of exactly the messages that failed back to Lambda (`ReportBatchItemFailures`), so a
//! good message is never redelivered because its neighbour failed.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::{
    metrics::MetricsSink,
    notify::worker::{Delivery, DeliveryError, EmailWorker, delivery_metric},
};

/// Delivers every message of the batch; reports the ones that failed.
///
/// A failed message (malformed, unknown order, SES refusing or throttling, another delivery
/// in flight) is logged with its message id and returned to the queue; after the queue's
/// `maxReceiveCount` receives it moves to the dead-letter queue.
///
/// Publishes `EmailsSent`, `EmailsDuplicateSuppressed` and `EmailsFailed` (operation
/// `deliver`), one per message.
pub async fn handle(
    worker: &EmailWorker<'_>,
    metrics: &dyn MetricsSink,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut counted = Vec::new();
    for message in event.records {
        let id = message.message_id.unwrap_or_default();
        let receives =
            message.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or("?");
        let outcome = match message.body.as_deref() {
            Some(body) => worker.deliver(body).await,
            None => Err(DeliveryError::Malformed("empty body".into())),
        };
        counted.push(delivery_metric(&outcome));
        match outcome {
            Ok(Delivery::Sent) => tracing::info!(message = %id, "order e-mail sent"),
            Ok(Delivery::AlreadySent) => {
                tracing::info!(message = %id, "order e-mail already sent; nothing sent")
            }
            Err(error) => {
                tracing::error!(message = %id, receives, error = %error, "order e-mail not sent; message returned to the queue");
                response.add_failure(id);
            }
        }
    }
    metrics.publish("deliver", &counted);
    response
}
