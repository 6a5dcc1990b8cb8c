//! Unpaid holds announced at checkout: a message delayed until the hold ends (SQS delays at
//! most 15 minutes, so a longer hold is announced again, still delayed, until it is due),
//! which the payment jobs turn into an expiry. The scheduled sweeper is the backstop: a hold
//! whose message was never sent still ends, at most a sweep later.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{OrderId, Timestamp};

/// The longest delay SQS gives a message.
pub const MAX_DELAY_SECONDS: i64 = 900;

/// A hold's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldMessage {
    /// The order holding stock.
    pub order_id: OrderId,
    /// When its hold ends.
    pub hold_until: Timestamp,
}

impl HoldMessage {
    /// How long to delay the message sent at `now`: until the hold ends, within SQS's limit.
    pub fn delay_seconds(&self, now: Timestamp) -> i64 {
        (self.hold_until.unix() - now.unix()).clamp(0, MAX_DELAY_SECONDS)
    }

    /// Whether the hold has ended at `now`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.hold_until <= now
    }
}

/// Where a hold is announced.
#[async_trait]
pub trait HoldTimer: Send + Sync {
    /// Announces `hold` (or announces it again, when it is not due yet).
    async fn schedule(&self, hold: HoldMessage) -> anyhow::Result<()>;
}

/// No announcement: the sweeper alone ends holds (the local server sweeps every second).
pub struct SweepOnly;

#[async_trait]
impl HoldTimer for SweepOnly {
    async fn schedule(&self, _hold: HoldMessage) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Holds announced on an SQS queue.
#[cfg(feature = "holds")]
pub struct SqsHoldTimer {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

#[cfg(feature = "holds")]
impl SqsHoldTimer {
    /// A timer sending to `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[cfg(feature = "holds")]
#[async_trait]
impl HoldTimer for SqsHoldTimer {
    async fn schedule(&self, hold: HoldMessage) -> anyhow::Result<()> {
        let delay = hold.delay_seconds(Timestamp::now());
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(serde_json::to_string(&hold)?)
            .delay_seconds(i32::try_from(delay).unwrap_or(0))
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "hold message not sent: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_is_delayed_until_due_within_sqs_limit() {
        let now = Timestamp::parse("2026-12-04T10:00:00Z").expect("time");
        let hold = |seconds| HoldMessage {
            order_id: OrderId::new(),
            hold_until: now.plus_seconds(seconds),
        };
        assert_eq!(hold(60).delay_seconds(now), 60);
        assert_eq!(hold(1800).delay_seconds(now), 900, "announced again after 15 minutes");
        assert_eq!(hold(-5).delay_seconds(now), 0);
        assert!(hold(0).is_due(now) && !hold(1).is_due(now));
        let text = serde_json::to_string(&hold(30)).expect("json");
        assert!(text.contains("\"hold_until\":\"2026-12-04T10:00:30Z\""), "{text}");
    }
}
