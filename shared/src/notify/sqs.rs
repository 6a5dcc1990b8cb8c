//! Order events to SQS, one message each.

use async_trait::async_trait;
use aws_sdk_sqs::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    types::QueueAttributeName,
};

use super::{EventPublisher, PublishError};
use crate::domain::OrderEvent;

/// Publishes order events as JSON messages to an SQS queue.
#[derive(Debug, Clone)]
pub struct SqsPublisher {
    client: Client,
    queue_url: String,
}

impl SqsPublisher {
    /// A publisher to the queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// Opens the connection to SQS during the cold start (one `GetQueueAttributes` asking for
    /// the queue's ARN), so the first checkout does not pay the TLS handshake. Failures are
    /// only logged: publishing still works, and a failed publish leaves the event in the outbox.
    pub async fn warm_up(&self) {
        let result = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await;
        match result {
            // Answered, even with an error such as AccessDenied: the connection is open.
            Ok(_) | Err(SdkError::ServiceError(_)) => {}
            Err(error) => {
                tracing::warn!(error = %DisplayErrorContext(&error), "SQS warm-up failed")
            }
        }
    }
}

#[async_trait]
impl EventPublisher for SqsPublisher {
    async fn publish(&self, event: &OrderEvent) -> Result<(), PublishError> {
        let body = serde_json::to_string(event).map_err(|e| PublishError::Failed(e.into()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|error| {
                let text = format!(
                    "SendMessage failed ({}: {})",
                    error.code().unwrap_or("unknown"),
                    error.message().unwrap_or("no message")
                );
                PublishError::Failed(anyhow::Error::new(error).context(text))
            })?;
        Ok(())
    }
}
