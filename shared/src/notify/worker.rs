//! The e-mail worker: one order event in, at most one e-mail out.
//!
//! For each event it loads the order and the customer, renders the e-mail, claims the event's
//! marker (`SENT#<order>#<event>`), sends, and marks it sent. A redelivered or duplicated
//! event finds the marker sent and sends nothing; a delivery that finds a fresh claim of
//! another one in flight fails and is retried later. If a worker dies between sending and
//! marking, its claim goes stale after [`CLAIM_LEASE_SECONDS`] and the next delivery sends the
//! e-mail again: the one case of a duplicate e-mail, bounded to that crash window.

use crate::{
    domain::{Branding, OrderEvent, OrderId, Timestamp, UserId},
    metrics::Metric,
    notify::{
        email::{render, to_mime},
        mail::{MailError, Mailer},
    },
    retry::until_answered,
    store::{Claim, EmailClaim, EmailMarker, EmailStorage, StoreError},
};

/// How long a claim protects an e-mail being sent. Below the queue's visibility timeout, so a
/// message redelivered after a crash finds the claim stale.
pub const CLAIM_LEASE_SECONDS: i64 = 120;

/// A delivery's metric (operation `deliver`): `EmailsSent`, `EmailsDuplicateSuppressed` or
/// `EmailsFailed`.
pub fn delivery_metric(outcome: &Result<Delivery, DeliveryError>) -> Metric {
    Metric::count(match outcome {
        Ok(Delivery::Sent) => "EmailsSent",
        Ok(Delivery::AlreadySent) => "EmailsDuplicateSuppressed",
        Err(_) => "EmailsFailed",
    })
}

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The e-mail was sent now.
    Sent,
    /// It had been sent before: nothing was sent.
    AlreadySent,
}

/// Why a delivery failed (its message is retried, then dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The message is not an order event: ….
    #[error("the message is not an order event: {0}")]
    Malformed(String),
    /// Order … does not exist.
    #[error("order {0} does not exist")]
    UnknownOrder(OrderId),
    /// Customer … does not exist.
    #[error("customer {0} does not exist")]
    UnknownCustomer(UserId),
    /// Another delivery of this event is in progress.
    #[error("another delivery of this event is in progress")]
    InFlight,
    /// Sending failed: ….
    #[error("sending failed: {0}")]
    Mail(#[from] MailError),
    /// Storage failed: ….
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

/// Delivers order events as e-mails from `sender`.
pub struct EmailWorker<'a> {
    /// The storage.
    pub store: &'a dyn EmailStorage,
    /// Where e-mails go (SES, or a folder of .eml files).
    pub mailer: &'a dyn Mailer,
    /// The From address.
    pub sender: &'a str,
    /// How the e-mails present the shop.
    pub branding: &'a Branding,
}

impl EmailWorker<'_> {
    /// Delivers the event in a queue message body.
    pub async fn deliver(&self, body: &str) -> Result<Delivery, DeliveryError> {
        let event: OrderEvent =
            serde_json::from_str(body).map_err(|e| DeliveryError::Malformed(e.to_string()))?;
        self.deliver_event(&event).await
    }

    /// Delivers one event.
    pub async fn deliver_event(&self, event: &OrderEvent) -> Result<Delivery, DeliveryError> {
        let order = self
            .store
            .find_order(event.order_id)
            .await?
            .ok_or(DeliveryError::UnknownOrder(event.order_id))?;
        let customer = self
            .store
            .find_user(order.user_id)
            .await?
            .ok_or(DeliveryError::UnknownCustomer(order.user_id))?;
        let email = render(event, &order, customer.email.as_str(), self.branding);
        let name = format!("{}-{}", order.id, event.name());
        let now = Timestamp::now();
        let event_name = event.name();
        let marker = EmailMarker { order: order.id, event: &event_name };
        let claim = Claim::new(now, CLAIM_LEASE_SECONDS);
        // Retry safety: the same claim made again finds itself (see `Claim`), so a claim whose
        // answer was lost is asked again until answered instead of failing the delivery.
        match until_answered(|| self.store.claim_email(marker, claim)).await? {
            EmailClaim::AlreadySent => return Ok(Delivery::AlreadySent),
            EmailClaim::InFlight => return Err(DeliveryError::InFlight),
            EmailClaim::Claimed => {}
        }
        let raw = to_mime(&email, self.sender, event, event.at);
        if let Err(error) = self.mailer.send(&name, &email.to, &raw).await {
            // Give the claim back so the retry does not wait out the lease.
            if let Err(release) = self.store.release_email(marker, now).await {
                tracing::warn!(event = %event.id, error = %release, "could not release the e-mail claim");
            }
            return Err(error.into());
        }
        // Marking is an unconditional update to the same values: asked again until answered,
        // since a marker left `sending` would let a redelivery after the lease send again.
        let sent_at = Timestamp::now();
        if let Err(error) = until_answered(|| self.store.mark_email_sent(marker, sent_at)).await {
            // Sent but not marked: a redelivery after the lease would send it again.
            tracing::error!(event = %event.id, error = %error, "e-mail sent but not marked sent");
        }
        Ok(Delivery::Sent)
    }
}
