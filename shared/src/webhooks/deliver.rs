//! The webhook worker: one order event in, one signed POST per subscribed webhook out, each
//! attempt recorded in the delivery log.
//!
//! The webhooks of one event are called concurrently. Per (event, webhook) a claim in the log makes one delivery in the normal path: a delivered
//! or given-up event is skipped when the message comes back, a retry that is not due yet is
//! left for later. A failed attempt is retried after [`backoff_seconds`] (doubling from the
//! configured base) until [`MAX_ATTEMPTS`], then recorded as failed. The worker says when the
//! earliest retry is due; the caller brings the event back then (the queue's visibility on
//! AWS, a timer locally).

use futures_util::{StreamExt, stream};

use crate::{
    domain::{
        Clock, DeliveryState, EVENT_ID_HEADER, MAX_ATTEMPTS, OrderEvent, OrderId, SIGNATURE_HEADER,
        SystemClock, Timestamp, Webhook, WebhookEventType, backoff_seconds, signature,
        webhook_payload,
    },
    metrics::Metric,
    retry::until_answered,
    store::{Claim, DeliveryClaim, DeliveryStorage, StoreError, StoreResult},
    webhooks::WebhookSender,
};

/// Webhooks called at once for one event.
pub const CONCURRENT_DELIVERIES: usize = 8;

/// How long a claim protects an attempt in progress: the HTTP timeout with room to record the
/// result.
pub const CLAIM_LEASE_SECONDS: i64 = 60;

/// What one event's delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookReport {
    /// Webhooks that answered 2xx now.
    pub delivered: u32,
    /// Attempts that failed now (each retried later or given up).
    pub failed_attempts: u32,
    /// Webhooks given up on now, after their last attempt.
    pub given_up: u32,
    /// Seconds until the earliest retry is due, if one is.
    pub retry_in: Option<u64>,
}

/// What one webhook's turn did.
enum Outcome {
    /// Delivered or given up before: nothing to do.
    Done,
    /// Not due yet, or another worker's attempt is in flight: look again at `due`.
    Later { due: Timestamp, now: Timestamp },
    /// Answered 2xx now.
    Delivered,
    /// Failed now; the next attempt is due at `due`.
    Failed { due: Timestamp, now: Timestamp },
    /// Failed now, for the last time.
    GivenUp,
}

impl WebhookReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done => {}
            Outcome::Later { due, now } => self.retry_at(due, now),
            Outcome::Delivered => self.delivered += 1,
            Outcome::Failed { due, now } => {
                self.failed_attempts += 1;
                self.retry_at(due, now);
            }
            Outcome::GivenUp => {
                self.failed_attempts += 1;
                self.given_up += 1;
            }
        }
    }

    fn retry_at(&mut self, due: Timestamp, now: Timestamp) {
        let wait = u64::try_from((due.unix() - now.unix()).max(1)).unwrap_or(1);
        self.retry_in = Some(self.retry_in.map_or(wait, |earlier| earlier.min(wait)));
    }

    /// The report as metrics (operation `webhooks`).
    pub fn metrics(&self) -> Vec<Metric> {
        vec![
            Metric::counted("WebhooksDelivered", self.delivered),
            Metric::counted("WebhookAttemptsFailed", self.failed_attempts),
            Metric::counted("WebhooksFailed", self.given_up),
        ]
    }
}

/// Why an event could not be handled (its message is retried, then dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum WebhookDeliveryError {
    /// The message is not an order event: ….
    #[error("the message is not an order event: {0}")]
    Malformed(String),
    /// Order … does not exist.
    #[error("order {0} does not exist")]
    UnknownOrder(OrderId),
    /// Storage failed: ….
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

/// Delivers order events to the webhooks subscribed to them.
pub struct WebhookWorker<'a> {
    /// The storage.
    pub store: &'a dyn DeliveryStorage,
    /// The HTTP client.
    pub sender: &'a dyn WebhookSender,
    /// The first retry's wait in seconds, doubling after.
    pub retry_base_seconds: u64,
    /// Where "now" comes from.
    pub clock: &'a dyn Clock,
}

impl<'a> WebhookWorker<'a> {
    /// A worker over `store` sending with `sender`, on the system's clock.
    pub fn new(
        store: &'a dyn DeliveryStorage,
        sender: &'a dyn WebhookSender,
        retry_base_seconds: u64,
    ) -> Self {
        Self { store, sender, retry_base_seconds, clock: &SystemClock }
    }

    /// The same worker reading time from `clock`.
    pub fn with_clock(self, clock: &'a dyn Clock) -> Self {
        Self { clock, ..self }
    }

    /// Delivers the event in a queue message body.
    pub async fn deliver(&self, body: &str) -> Result<WebhookReport, WebhookDeliveryError> {
        let event: OrderEvent = serde_json::from_str(body)
            .map_err(|e| WebhookDeliveryError::Malformed(e.to_string()))?;
        self.deliver_event(&event).await
    }

    /// Delivers one event to every webhook subscribed to its type, up to
    /// [`CONCURRENT_DELIVERIES`] at a time, so one slow receiver does not hold the others back.
    /// A storage failure fails the event once every attempt has ended (those recorded are not
    /// repeated when it comes back).
    pub async fn deliver_event(
        &self,
        event: &OrderEvent,
    ) -> Result<WebhookReport, WebhookDeliveryError> {
        let mut report = WebhookReport::default();
        let event_type = WebhookEventType::of(event);
        let mut webhooks = self.store.list_webhooks().await?;
        webhooks.retain(|webhook| webhook.wants(event_type));
        if webhooks.is_empty() {
            return Ok(report);
        }
        let order = self
            .store
            .find_order(event.order_id)
            .await?
            .ok_or(WebhookDeliveryError::UnknownOrder(event.order_id))?;
        let body = serde_json::to_vec(&webhook_payload(event, &order))
            .map_err(|e| WebhookDeliveryError::Malformed(e.to_string()))?;
        // Collected first: a lazy `map` held across the `await` makes the future fail the
        // compiler's `Send` check ("FnOnce is not general enough") where it is spawned.
        let attempts: Vec<_> =
            webhooks.iter().map(|webhook| self.attempt(webhook, event, &body)).collect();
        let outcomes: Vec<StoreResult<Outcome>> =
            stream::iter(attempts).buffer_unordered(CONCURRENT_DELIVERIES).collect().await;
        for outcome in outcomes {
            report.add(outcome?);
        }
        Ok(report)
    }

    /// One attempt at one webhook, if its delivery is due and not already claimed.
    async fn attempt(
        &self,
        webhook: &Webhook,
        event: &OrderEvent,
        body: &[u8],
    ) -> StoreResult<Outcome> {
        let event_type = WebhookEventType::of(event);
        let now = self.clock.now();
        let claim = Claim::new(now, CLAIM_LEASE_SECONDS);
        // Retry safety: the same claim made again finds itself (see `Claim`), so a claim whose
        // answer was lost is asked again until answered.
        let claimed =
            until_answered(|| self.store.claim_delivery(webhook.id, event.id, event_type, claim));
        let record = match claimed.await? {
            DeliveryClaim::Done(_) => return Ok(Outcome::Done),
            DeliveryClaim::InFlight => {
                return Ok(Outcome::Later { due: now.plus_seconds(CLAIM_LEASE_SECONDS), now });
            }
            DeliveryClaim::NotYet(record) => {
                return Ok(Outcome::Later { due: record.next_attempt_at.unwrap_or(now), now });
            }
            DeliveryClaim::Claimed(record) => record,
        };
        let sent_at = self.clock.now().unix();
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("user-agent", "shop-webhooks/1".to_owned()),
            (EVENT_ID_HEADER, event.id.to_string()),
            (SIGNATURE_HEADER, signature(&webhook.secret, sent_at, body)),
        ];
        let result = self.sender.post(&webhook.url, &headers, body).await;
        let done = self.clock.now();
        let next = record.after_attempt(result, done, self.retry_base_seconds);
        // An unconditional put of the attempt's record: asked again until answered, since a
        // record left `sending` would have the attempt made again after the lease.
        until_answered(|| self.store.record_delivery(&next)).await?;
        Ok(match next.state {
            DeliveryState::Delivered => Outcome::Delivered,
            DeliveryState::Failed => {
                tracing::warn!(webhook = %webhook.id, event = %event.id, attempts = MAX_ATTEMPTS, error = ?next.last_error, "webhook delivery given up");
                Outcome::GivenUp
            }
            DeliveryState::Retrying | DeliveryState::Sending => {
                tracing::info!(webhook = %webhook.id, event = %event.id, attempts = next.attempts, error = ?next.last_error, "webhook attempt failed; retrying later");
                Outcome::Failed { due: next.next_attempt_at.unwrap_or(done), now: done }
            }
        })
    }

    /// The wait before attempt `attempts + 1`, as configured.
    pub fn backoff(&self, attempts: u32) -> u64 {
        backoff_seconds(self.retry_base_seconds, attempts)
    }
}
