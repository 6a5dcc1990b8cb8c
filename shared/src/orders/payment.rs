//! An order's payment: paying (`POST /orders/{id}/pay`), the provider's signed events, and
//! the one way every payment change is written ([`Orders::change`]).
//!
//! Every change reads the order, decides from what it read, and writes conditionally on the
//! order's status and revision, with its ledger entries, in one transaction: two changes
//! made from the same read never both apply, so a payment and an expiry racing each other
//! cannot both win, and duplicate or reordered events change nothing twice.

use serde_json::Value;

use super::{OrderError, Orders};
use crate::{
    auth::AuthUser,
    domain::{
        AuditEntry, LedgerEntry, LedgerKind, LedgerStatus, Order, OrderEvent, OrderEventKind,
        OrderId, OrderStatus, Payment, ProviderState, Timestamp, UnitsByProduct,
    },
    payments::{Intent, NewIntent, PaymentSettings, ProviderError, signature},
    retry::{Attempt, until_answered, with_retries},
    store::{Conflict, OrderUpdate, StoreError},
};

/// How many times a payment change re-reads after losing a race (concurrent refunds on one
/// order all land, one after another, within these).
const PAYMENT_ATTEMPTS: usize = 24;

/// What a payment change decides from the order as read, at a time: nothing to do, or the
/// change.
pub(super) type Decide<'a> =
    dyn Fn(&Order, Timestamp) -> Result<Option<Change>, OrderError> + Sync + 'a;

/// A decided payment change, before it is written.
#[derive(Debug, Default)]
pub(super) struct Change {
    /// The order as it becomes (revision and time set by [`Orders::change`]).
    pub next: Option<Order>,
    /// Put its units back in stock and its coupon use back.
    pub give_back: bool,
    /// Release the unpaid hold.
    pub release_hold: bool,
    /// Ledger entries to write.
    pub ledger: Vec<LedgerEntry>,
    /// The order event to publish; a status change's is filled in from the orders read and
    /// written (`StatusChanged` with any `from` and `to`).
    pub event: Option<OrderEventKind>,
    /// The audit entry.
    pub audit: Option<AuditEntry>,
}

/// What `POST /orders/{id}/pay` answers.
#[derive(Debug, Clone)]
pub struct PayIntent {
    /// The order's payment.
    pub payment: Payment,
    /// The provider's intent.
    pub intent: Intent,
}

/// What the provider's event said, once verified.
#[derive(Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// Recorded; the payment moved or not.
    Recorded,
    /// Recorded before: nothing done.
    Duplicate,
    /// Not about an order of this shop, or of a type the shop does not follow.
    Ignored,
}

impl Orders<'_> {
    /// The payment settings, or the error of a shop that takes no payments.
    pub(super) fn payments(&self) -> Result<&PaymentSettings, OrderError> {
        self.payments.ok_or(OrderError::PaymentsOff)
    }

    /// Reads the order, asks `decide` what to change, and writes it conditionally (retrying on
    /// lost races). Returns the order as it is afterwards, and whether this call changed it.
    ///
    /// Retry safety: the write is conditional on the revision read and names its transaction
    /// after the next revision, so it applies once; when its answer is lost, the order is read
    /// back and the change landed if the order is exactly what it wrote.
    pub(super) async fn change(
        &self,
        id: OrderId,
        decide: &Decide<'_>,
    ) -> Result<(Order, bool), OrderError> {
        let done = with_retries(PAYMENT_ATTEMPTS, || self.try_change(id, decide)).await?;
        done.ok_or(OrderError::OrderBusy)
    }

    async fn try_change(
        &self,
        id: OrderId,
        decide: &Decide<'_>,
    ) -> Result<Attempt<(Order, bool)>, OrderError> {
        let current = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
        let now = Timestamp::now();
        let Some(change) = decide(&current, now)? else {
            return Ok(Attempt::Done((current, false)));
        };
        let mut next = change.next.clone().unwrap_or_else(|| current.clone());
        next.revision = current.revision + 1;
        next.updated_at = now;
        let (restock, coupon_back) = self.give_back(&current, change.give_back).await?;
        let event = change.event.map(|kind| {
            let kind = match kind {
                OrderEventKind::StatusChanged { .. } => {
                    OrderEventKind::StatusChanged { from: current.status, to: next.status }
                }
                other => other,
            };
            OrderEvent::new(&next, kind, now)
        });
        let update = OrderUpdate {
            current: &current,
            next: &next,
            restock: &restock,
            coupon_back,
            release_hold: change.release_hold,
            ledger: &change.ledger,
            event: event.as_ref(),
            audit: change.audit.as_ref(),
        };
        let written = self.store.update_order(&update).await;
        let written = match written {
            Err(StoreError::Conflict(_) | StoreError::Unavailable(_)) => {
                if self.landed(&next, &change.ledger).await? { Ok(()) } else { written }
            }
            other => other,
        };
        match written {
            Ok(()) => {
                if let Some(event) = &event {
                    self.publish(event).await;
                }
                Ok(Attempt::Done((next, true)))
            }
            Err(StoreError::Conflict(Conflict::EventSeen)) => Err(OrderError::AlreadyRecorded),
            Err(StoreError::Conflict(
                Conflict::OrderChanged | Conflict::ProductChanged | Conflict::CouponUnavailable,
            )) => Ok(Attempt::Retry),
            Err(
                StoreError::Conflict(Conflict::TransactionConflict) | StoreError::Unavailable(_),
            ) => Ok(Attempt::Backoff),
            Err(StoreError::NotFound) => Err(OrderError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Whether a change whose answer was lost landed: the order is exactly what it wrote,
    /// and so are its ledger entries (two changes decided from the same read can write the
    /// same order; their entries' ids tell them apart).
    async fn landed(&self, next: &Order, ledger: &[LedgerEntry]) -> Result<bool, OrderError> {
        let stored = until_answered(|| self.store.find_order(next.id)).await?;
        if stored.as_ref() != Some(next) {
            return Ok(false);
        }
        if ledger.is_empty() {
            return Ok(true);
        }
        let written = until_answered(|| self.store.ledger(next.id)).await?;
        Ok(ledger.iter().all(|entry| written.contains(entry)))
    }

    /// The units and the coupon use an order gives back when it is cancelled: the units whose
    /// product and SKU still exist, and the use if the coupon still exists.
    async fn give_back(
        &self,
        order: &Order,
        wanted: bool,
    ) -> Result<(UnitsByProduct, bool), OrderError> {
        if !wanted {
            return Ok((UnitsByProduct::new(), false));
        }
        let restock = self.restockable(order.units_by_product()).await?;
        let coupon = match &order.coupon_code {
            Some(code) => self.store.find_coupon(code).await?.is_some_and(|c| c.uses > 0),
            None => false,
        };
        Ok((restock, coupon))
    }

    /// Creates the order's PaymentIntent, or answers the one it has (its owner only).
    ///
    /// Retry safety: the intent's idempotency key is the order's id, so every call, however
    /// often repeated or raced, gets the same intent; storing its id is conditional.
    pub async fn pay(&self, user: &AuthUser, id: &str) -> Result<PayIntent, OrderError> {
        let settings = self.payments()?;
        let order = self.get(user, id).await?;
        if order.user_id != user.id {
            return Err(OrderError::NotFound);
        }
        let payment = order.payment.clone().ok_or(OrderError::NotPayable)?;
        let ended = matches!(
            payment.status,
            crate::domain::PaymentStatus::Expired | crate::domain::PaymentStatus::Voided
        );
        if order.status == OrderStatus::Cancelled || ended {
            return Err(OrderError::NotPayable);
        }
        if let Some(intent_id) = &payment.intent_id {
            let intent = settings.provider.retrieve_intent(intent_id).await?;
            return Ok(PayIntent { payment, intent });
        }
        if order.status != OrderStatus::Pending || !payment.status.is_unpaid() {
            return Err(OrderError::NotPayable);
        }
        let new = NewIntent {
            amount: payment.amount,
            currency: payment.currency,
            capture: settings.capture,
            order_id: order.id.to_string(),
        };
        let intent = settings.provider.create_intent(&new, &format!("order-{}", order.id)).await?;
        let intent_id = intent.id.clone();
        let decide = move |current: &Order, now: Timestamp| {
            let Some(payment) = current.payment.as_ref().filter(|p| p.intent_id.is_none()) else {
                return Ok(None);
            };
            let mut next = current.clone();
            next.payment = Some(Payment { intent_id: Some(intent_id.clone()), ..payment.clone() });
            let mut entry =
                LedgerEntry::operation(current.id, LedgerKind::Intent, payment.amount, now);
            entry.id = format!("intent_{}", current.id);
            let entry = entry.answered(LedgerStatus::Succeeded, Some(intent_id.clone()));
            Ok(Some(Change { next: Some(next), ledger: vec![entry], ..Change::default() }))
        };
        let (order, _) = self.change(order.id, &decide).await?;
        let payment = order.payment.ok_or(OrderError::NotPayable)?;
        Ok(PayIntent { payment, intent })
    }

    /// A signed event from the provider: verified (signature and age), recorded once by its
    /// id, and applied to the order's payment if it moves it forward.
    pub async fn provider_event(
        &self,
        payload: &[u8],
        signature_header: Option<&str>,
    ) -> Result<EventOutcome, OrderError> {
        let settings = self.payments()?;
        let now = Timestamp::now().unix();
        let header = signature_header.unwrap_or("");
        signature::verify(
            header,
            payload,
            secrecy::ExposeSecret::expose_secret(&settings.webhook_secret),
            now,
            signature::TOLERANCE_SECONDS,
        )
        .map_err(|_| OrderError::BadSignature)?;
        let event: Value = serde_json::from_slice(payload).map_err(|_| OrderError::BadSignature)?;
        let Some(news) = ProviderNews::read(&event) else {
            return Ok(EventOutcome::Ignored);
        };
        let Some(order) = self.store.find_order(news.order_id).await? else {
            return Ok(EventOutcome::Ignored);
        };
        let entry = LedgerEntry {
            id: news.event_id.clone(),
            order_id: order.id,
            kind: LedgerKind::Event,
            status: LedgerStatus::Received,
            amount: news.amount,
            provider_id: Some(news.intent_id.clone()),
            detail: Some(news.kind.clone()),
            at: Timestamp::now(),
        };
        match self.observe(order.id, &news.intent_id, news.state, Some(entry.clone())).await {
            Ok(true) => Ok(EventOutcome::Recorded),
            Ok(false) => match self.store.record_event(&entry).await {
                Ok(()) => Ok(EventOutcome::Recorded),
                Err(StoreError::Conflict(Conflict::EventSeen)) => Ok(EventOutcome::Duplicate),
                Err(other) => Err(other.into()),
            },
            Err(OrderError::AlreadyRecorded) => Ok(EventOutcome::Duplicate),
            Err(other) => Err(other),
        }
    }

    /// Applies the provider's news about the order's intent (from an event, with its ledger
    /// entry, or from reconciliation); returns whether the payment moved. Money that moved
    /// after the order expired or was cancelled is given back at once.
    pub(super) async fn observe(
        &self,
        id: OrderId,
        intent_id: &str,
        news: ProviderState,
        entry: Option<LedgerEntry>,
    ) -> Result<bool, OrderError> {
        let decide = |current: &Order, _now: Timestamp| {
            let Some(payment) = current.payment.as_ref() else {
                return Ok(None);
            };
            if payment.intent_id.as_deref().is_some_and(|known| known != intent_id) {
                return Ok(None);
            }
            let Some(mut observed) = payment.observe(news) else {
                return Ok(None);
            };
            observed.intent_id = Some(intent_id.to_owned());
            let paid_now = payment.status.is_unpaid() && !observed.status.is_unpaid();
            if paid_now {
                observed.hold_until = None;
            }
            let mut next = current.clone();
            next.payment = Some(observed);
            let received = next.payment.as_ref().map_or(0, |p| p.authorized);
            Ok(Some(Change {
                next: Some(next),
                release_hold: paid_now,
                ledger: entry.iter().cloned().collect(),
                event: paid_now.then_some(OrderEventKind::PaymentReceived { amount: received }),
                ..Change::default()
            }))
        };
        let (order, moved) = self.change(id, &decide).await?;
        let paid = order.payment.as_ref().is_some_and(|p| !p.status.is_unpaid());
        if moved && paid {
            self.metrics.publish("payment", &[crate::metrics::Metric::count("PaymentsObserved")]);
        }
        if order.payment.as_ref().is_some_and(Payment::owes_refund) {
            self.give_back_late_payment(id).await?;
        }
        Ok(moved)
    }
}

/// What one provider event says about an order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProviderNews {
    event_id: String,
    kind: String,
    order_id: OrderId,
    intent_id: String,
    amount: i64,
    state: ProviderState,
}

impl ProviderNews {
    /// The news in `payment_intent.*` and `charge.refunded` events about one of the shop's
    /// orders (`metadata.order_id`); `None` for anything else.
    fn read(event: &Value) -> Option<Self> {
        let kind = event["type"].as_str()?.to_owned();
        let object = &event["data"]["object"];
        let order_id = object["metadata"]["order_id"].as_str()?.parse().ok()?;
        let (intent_id, amount, state) = if kind.starts_with("payment_intent.") {
            let intent: Intent = serde_json::from_value(object.clone()).ok()?;
            (intent.id.clone(), intent.amount, intent.state(0))
        } else if kind == "charge.refunded" {
            let received = object["amount_captured"].as_i64()?;
            let refunded = object["amount_refunded"].as_i64()?;
            let state = ProviderState::Captured { received, refunded };
            (object["payment_intent"].as_str()?.to_owned(), refunded, state)
        } else {
            return None;
        };
        Some(Self {
            event_id: event["id"].as_str()?.to_owned(),
            kind,
            order_id,
            intent_id,
            amount,
            state,
        })
    }
}

impl From<ProviderError> for OrderError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Declined { code, decline_code } => {
                OrderError::Declined(decline_code.unwrap_or(code))
            }
            ProviderError::Unavailable(_) => OrderError::ProviderUnavailable,
            other => OrderError::Provider(other.to_string()),
        }
    }
}
