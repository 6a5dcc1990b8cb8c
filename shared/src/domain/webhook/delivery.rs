//! What a delivery is: its state, its attempts and when the next one is due.

use serde::{Deserialize, Serialize};

use crate::domain::{EventId, Timestamp, WebhookId};

use super::WebhookEventType;

/// Delivery attempts per event and webhook before it is recorded as failed.
pub const MAX_ATTEMPTS: u32 = 6;
/// How long a receiver has to answer, in seconds.
pub const TIMEOUT_SECONDS: u64 = 5;

/// The wait before attempt `attempts + 1` after `attempts` failed ones: `base`, doubling.
pub fn backoff_seconds(base: u64, attempts: u32) -> u64 {
    base.saturating_mul(1_u64 << attempts.saturating_sub(1).min(20))
}

/// Where one event's delivery to one webhook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Being attempted now.
    Sending,
    /// Failed so far; attempted again at `next_attempt_at`.
    Retrying,
    /// A 2xx answered.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// The delivery log of one event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The webhook.
    #[serde(skip)]
    pub webhook_id: WebhookId,
    /// The event (`Shop-Event-Id`).
    pub event_id: EventId,
    /// The event's type.
    pub event_type: WebhookEventType,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When a 2xx answered.
    pub delivered_at: Option<Timestamp>,
    /// When the next attempt is due (while retrying).
    pub next_attempt_at: Option<Timestamp>,
    /// When the current attempt started (while sending).
    #[serde(skip)]
    pub claimed_at: Option<Timestamp>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status.
    Answered(u16),
    /// No answer: timeout, connection failure, refused address.
    NoAnswer(String),
}

impl DeliveryRecord {
    /// The record after an attempt that ended with `result` at `now`, with retries every
    /// `base` seconds, doubling.
    pub fn after_attempt(&self, result: AttemptResult, now: Timestamp, base: u64) -> Self {
        let attempts = self.attempts + 1;
        let (last_status, last_error) = match result {
            AttemptResult::Answered(status) => (Some(status), None),
            AttemptResult::NoAnswer(error) => (None, Some(error)),
        };
        let delivered = last_status.is_some_and(|s| (200..300).contains(&s));
        let (state, delivered_at, next_attempt_at) = if delivered {
            (DeliveryState::Delivered, Some(now), None)
        } else if attempts >= MAX_ATTEMPTS {
            (DeliveryState::Failed, None, None)
        } else {
            let wait = i64::try_from(backoff_seconds(base, attempts)).unwrap_or(i64::MAX / 2);
            (DeliveryState::Retrying, None, Some(now.plus_seconds(wait)))
        };
        let last_error = match (delivered, last_error, last_status) {
            (false, None, Some(status)) => Some(format!("answered {status}")),
            (_, error, _) => error,
        };
        DeliveryRecord {
            state,
            attempts,
            last_status,
            last_error,
            delivered_at,
            next_attempt_at,
            claimed_at: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_doubling_then_give_up_and_a_2xx_delivers() {
        assert_eq!(
            (1..=6).map(|n| backoff_seconds(10, n)).collect::<Vec<_>>(),
            [10, 20, 40, 80, 160, 320]
        );
        let now = Timestamp::now();
        let mut record = DeliveryRecord {
            webhook_id: WebhookId::new(),
            event_id: EventId::new(),
            event_type: WebhookEventType::OrderPlaced,
            state: DeliveryState::Sending,
            attempts: 0,
            last_status: None,
            last_error: None,
            delivered_at: None,
            next_attempt_at: None,
            claimed_at: Some(now),
        };
        record = record.after_attempt(AttemptResult::Answered(500), now, 10);
        assert_eq!(record.state, DeliveryState::Retrying);
        assert_eq!(record.next_attempt_at, Some(now.plus_seconds(10)));
        assert_eq!(record.last_error.as_deref(), Some("answered 500"));
        record = record.after_attempt(AttemptResult::NoAnswer("timed out".into()), now, 10);
        assert_eq!(record.next_attempt_at, Some(now.plus_seconds(20)));
        assert_eq!(record.last_status, None);
        for _ in 2..MAX_ATTEMPTS - 1 {
            record = record.after_attempt(AttemptResult::Answered(503), now, 10);
            assert_eq!(record.state, DeliveryState::Retrying);
        }
        let delivered = record.after_attempt(AttemptResult::Answered(204), now, 10);
        assert_eq!(delivered.state, DeliveryState::Delivered);
        assert_eq!(delivered.delivered_at, Some(now));
        assert_eq!(delivered.last_error, None);
        let failed = record.after_attempt(AttemptResult::Answered(302), now, 10);
        assert_eq!((failed.state, failed.attempts), (DeliveryState::Failed, MAX_ATTEMPTS));
        assert_eq!(failed.next_attempt_at, None);
    }
}
