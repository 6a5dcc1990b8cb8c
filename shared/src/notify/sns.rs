//! Order events to an SNS topic, one message each. The topic fans every event out to one SQS
//! queue per consumer (order e-mails, webhooks) with raw message delivery, so each queue's
//! messages are the event's JSON exactly as published.

use async_trait::async_trait;
use aws_sdk_sns::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
};

use super::{EventPublisher, PublishError};
use crate::domain::{OrderEvent, WebhookEventType};

/// Publishes order events as JSON messages to an SNS topic.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    /// A publisher to the topic `topic_arn`.
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into() }
    }

    /// Opens the connection to SNS during the cold start (one `GetTopicAttributes`), so the
    /// first checkout does not pay the TLS handshake. Failures are only logged: publishing
    /// still works, and a failed publish leaves the event in the outbox.
    pub async fn warm_up(&self) {
        let result = self.client.get_topic_attributes().topic_arn(&self.topic_arn).send().await;
        match result {
            // Answered, even with an error such as AuthorizationError: the connection is open.
            Ok(_) | Err(SdkError::ServiceError(_)) => {}
            Err(error) => {
                tracing::warn!(error = %DisplayErrorContext(&error), "SNS warm-up failed")
            }
        }
    }
}

#[async_trait]
impl EventPublisher for SnsPublisher {
    async fn publish(&self, event: &OrderEvent) -> Result<(), PublishError> {
        let body = serde_json::to_string(event).map_err(|e| PublishError::Failed(e.into()))?;
        let event_type = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(WebhookEventType::of(event).as_str())
            .build()
            .map_err(|e| PublishError::Failed(e.into()))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_attributes("event_type", event_type)
            .send()
            .await
            .map_err(|error| {
                let text = format!(
                    "Publish failed ({}: {})",
                    error.code().unwrap_or("unknown"),
                    error.message().unwrap_or("no message")
                );
                PublishError::Failed(anyhow::Error::new(error).context(text))
            })?;
        Ok(())
    }
}
