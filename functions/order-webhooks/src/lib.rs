//! The order-webhooks worker: an SQS batch of order events in, signed POSTs to the subscribed
//! webhooks out. A message whose deliveries must be retried is reported as failed
//! (`ReportBatchItemFailures`) and made invisible until its earliest retry is due
//! (`ChangeMessageVisibility`): the backoff lives in the queue, not in a sleeping Lambda.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::{metrics::MetricsSink, webhooks::deliver::WebhookWorker};

/// SQS's longest visibility timeout (12 hours).
pub const MAX_DELAY_SECONDS: u64 = 43_200;

/// Delays a received message: it comes back after `seconds`.
#[async_trait]
pub trait MessageDelay: Send + Sync {
    /// Sets the visibility of the message with `receipt_handle` to `seconds`.
    async fn delay(&self, receipt_handle: &str, seconds: u64) -> Result<(), String>;
}

/// [`MessageDelay`] through `ChangeMessageVisibility` on the worker's queue.
#[derive(Debug, Clone)]
pub struct SqsDelay {
    /// The SQS client.
    pub client: aws_sdk_sqs::Client,
    /// The queue's URL.
    pub queue_url: String,
}

#[async_trait]
impl MessageDelay for SqsDelay {
    async fn delay(&self, receipt_handle: &str, seconds: u64) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(i32::try_from(seconds.min(MAX_DELAY_SECONDS)).unwrap_or(0))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
    }
}

/// Delivers every message of the batch and reports the ones to see again: those with a
/// retry due later (delayed until then) and those that failed (malformed, unknown order,
/// storage; back after the queue's visibility timeout, then to the dead-letter queue after
/// `maxReceiveCount` receives).
///
/// Publishes `WebhooksDelivered`, `WebhookAttemptsFailed` and `WebhooksFailed` (operation
/// `webhooks`).
pub async fn handle(
    worker: &WebhookWorker<'_>,
    delay: &dyn MessageDelay,
    metrics: &dyn MetricsSink,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.unwrap_or_default();
        let outcome = match message.body.as_deref() {
            Some(body) => worker.deliver(body).await,
            None => {
                tracing::error!(message = %id, "empty message; returned to the queue");
                response.add_failure(id);
                continue;
            }
        };
        match outcome {
            Ok(report) => {
                metrics.publish("webhooks", &report.metrics());
                let Some(seconds) = report.retry_in else {
                    tracing::info!(message = %id, delivered = report.delivered, given_up = report.given_up, "webhooks done");
                    continue;
                };
                let receipt = message.receipt_handle.as_deref().unwrap_or_default();
                if let Err(error) = delay.delay(receipt, seconds).await {
                    tracing::warn!(message = %id, error, "could not delay the message; it returns after the queue's visibility timeout");
                }
                tracing::info!(message = %id, retry_in = seconds, "webhook retry scheduled");
                response.add_failure(id);
            }
            Err(error) => {
                tracing::error!(message = %id, error = %error, "webhooks not delivered; message returned to the queue");
                response.add_failure(id);
            }
        }
    }
    response
}
