//! Money going back and orders ending unpaid: refunds (admins), cancellation (the owner,
//! before shipping), expiry of unpaid holds, and late payments given back.
//!
//! An operation is recorded in the ledger, pending, in the same transaction that reserves
//! its money (`refunding`), *before* the provider is called; its ledger id is the provider's
//! idempotency key. The provider's answer settles it once (the entry's write is conditional
//! on it still being pending). No answer leaves it pending: reconciliation asks the provider
//! again under the same key, which answers what it did, so a refund is never recorded as done
//! without the provider's success, and never made twice.

use serde_json::json;

use super::{OrderError, Orders, payment::Change};
use crate::{
    domain::{
        AuditAction, AuditEntry, CancelReason, LedgerEntry, LedgerKind, LedgerStatus, Order,
        OrderEventKind, OrderId, OrderStatus, PaymentStatus, Timestamp, UserId, minor_units,
    },
    payments::ProviderError,
    store::{Conflict, StoreError},
};

/// Who ends an order, and why.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ending {
    pub actor: UserId,
    pub reason: Option<CancelReason>,
}

/// `POST /orders/{id}/refunds`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// How much (`"12.34"`); everything refundable when absent.
    pub amount: Option<crate::domain::Money>,
    /// Why (kept in the ledger).
    pub reason: Option<String>,
}

impl Orders<'_> {
    /// Refunds `amount` (all that is refundable when absent) of a paid order (admins).
    pub async fn refund(
        &self,
        actor: UserId,
        id: &str,
        request: RefundRequest,
    ) -> Result<(Order, LedgerEntry), OrderError> {
        self.payments()?;
        let id: OrderId = id.parse().map_err(|_| OrderError::NotFound)?;
        let cents = request.amount.map(minor_units);
        let reason = request.reason.map(|r| r.chars().take(200).collect::<String>());
        self.refund_money(id, cents, reason.as_deref().unwrap_or("requested"), actor, None).await
    }

    /// Reserves the refund with its pending entry, asks the provider, records the answer.
    async fn refund_money(
        &self,
        id: OrderId,
        cents: Option<i64>,
        reason: &str,
        actor: UserId,
        entry_id: Option<String>,
    ) -> Result<(Order, LedgerEntry), OrderError> {
        // One id per request, kept across its attempts: what the request finds afterwards is
        // its own refund, never a concurrent one's.
        let entry_id = entry_id.unwrap_or_else(|| {
            LedgerEntry::operation(id, LedgerKind::Refund, 0, Timestamp::now()).id
        });
        let decide = |current: &Order, now: Timestamp| {
            let payment = current.payment.as_ref().ok_or(OrderError::NotPayable)?;
            let cents = cents.unwrap_or(payment.refundable());
            let reserved = payment.reserve_refund(cents)?;
            let mut entry = LedgerEntry::operation(current.id, LedgerKind::Refund, cents, now);
            entry.id.clone_from(&entry_id);
            entry.detail = Some(reason.to_owned());
            let details = json!({ "amount": cents, "reason": reason, "ledger_id": entry.id });
            let audit =
                AuditEntry::new(actor, AuditAction::PaymentRefunded, current.id, details, now);
            let next = Order { payment: Some(reserved), ..current.clone() };
            Ok(Some(Change {
                next: Some(next),
                ledger: vec![entry],
                audit: Some(audit),
                ..Change::default()
            }))
        };
        let (order, _) = self.change(id, &decide).await?;
        let entry = self.pending_entry(id, LedgerKind::Refund, Some(&entry_id)).await?;
        self.ask_refund(&order, entry).await
    }

    /// The newest pending entry of `kind` (or the one with `id`): the one just written.
    async fn pending_entry(
        &self,
        order: OrderId,
        kind: LedgerKind,
        id: Option<&str>,
    ) -> Result<LedgerEntry, OrderError> {
        let ledger = self.store.ledger(order).await?;
        ledger
            .into_iter()
            .rev()
            .find(|e| e.kind == kind && id.is_none_or(|id| e.id == id))
            .ok_or(OrderError::OrderBusy)
    }

    /// Asks the provider for a reserved refund and records its answer (none: it stays
    /// pending for reconciliation).
    pub(super) async fn ask_refund(
        &self,
        order: &Order,
        entry: LedgerEntry,
    ) -> Result<(Order, LedgerEntry), OrderError> {
        let settings = self.payments()?;
        if entry.status != LedgerStatus::Pending {
            return Ok((order.clone(), entry));
        }
        let intent = order.payment.as_ref().and_then(|p| p.intent_id.clone());
        let intent = intent.ok_or(OrderError::NotPayable)?;
        let answer = settings.provider.refund(&intent, entry.amount, &entry.id).await;
        let (status, provider_id) = match &answer {
            Ok(refund) if refund.status == "succeeded" => {
                (LedgerStatus::Succeeded, Some(refund.id.clone()))
            }
            Ok(_) | Err(ProviderError::Unavailable(_)) => return Ok((order.clone(), entry)),
            Err(_) => (LedgerStatus::Failed, None),
        };
        let answered = entry.answered(status, provider_id);
        // The provider answered: if its answer cannot be recorded now (the order kept
        // changing, or the database did not answer), the entry stays pending and
        // reconciliation records the same answer, asked again under the same key.
        let order = match self.settle_refund(order.id, &answered).await {
            Ok(order) => order,
            Err(OrderError::OrderBusy | OrderError::Store(_)) => {
                return Ok((order.clone(), entry));
            }
            Err(other) => return Err(other),
        };
        if let Err(error) = answer {
            tracing::warn!(order = %order.id, error = %error, "refund refused by the provider");
            return Err(error.into());
        }
        Ok((order, answered))
    }

    /// Records a refund's answer once: the reserved money becomes refunded, or refundable
    /// again; an answer recorded already (by the request or by reconciliation) changes nothing.
    async fn settle_refund(
        &self,
        id: OrderId,
        answered: &LedgerEntry,
    ) -> Result<Order, OrderError> {
        let decide = |current: &Order, _now: Timestamp| {
            let payment = current.payment.as_ref().ok_or(OrderError::NotPayable)?;
            let succeeded = answered.status == LedgerStatus::Succeeded;
            let next = Order {
                payment: Some(payment.settle_refund(answered.amount, succeeded)),
                ..current.clone()
            };
            let event = succeeded.then_some(OrderEventKind::Refunded { amount: answered.amount });
            Ok(Some(Change {
                next: Some(next),
                ledger: vec![answered.clone()],
                event,
                ..Change::default()
            }))
        };
        match self.change(id, &decide).await {
            Ok((order, _)) => Ok(order),
            Err(OrderError::AlreadyRecorded) => {
                self.store.find_order(id).await?.ok_or(OrderError::NotFound)
            }
            Err(other) => Err(other),
        }
    }

    /// Gives back money that moved after the order expired or was cancelled (once: the
    /// refund's ledger id is derived from the order and the amount captured).
    pub(super) async fn give_back_late_payment(&self, id: OrderId) -> Result<(), OrderError> {
        let Some(order) = self.store.find_order(id).await? else {
            return Ok(());
        };
        let Some(payment) = order.payment.as_ref().filter(|p| p.owes_refund()) else {
            return Ok(());
        };
        let entry_id = format!("refund_late_{}_{}", order.id, payment.captured);
        let refunded =
            self.refund_money(id, None, "late_payment", order.user_id, Some(entry_id)).await;
        match refunded {
            Ok(_) | Err(OrderError::AlreadyRecorded) => Ok(()),
            Err(OrderError::Refund(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// The owner cancels an order before it ships: the hold ends (a later payment is given
    /// back), an authorisation is released, money taken is refunded in full; its units and
    /// coupon use go back, once.
    pub async fn cancel(
        &self,
        user: &crate::auth::AuthUser,
        id: &str,
    ) -> Result<Order, OrderError> {
        let order = self.get(user, id).await?;
        if order.user_id != user.id {
            return Err(OrderError::NotFound);
        }
        let ending = Ending { actor: user.id, reason: Some(CancelReason::CustomerCancelled) };
        self.end(order.id, ending, None).await
    }

    /// Expires an order whose unpaid hold ended; `Ok(None)` when payment won the race (or the
    /// order is not holding any more).
    pub async fn expire(&self, id: OrderId, now: Timestamp) -> Result<Option<Order>, OrderError> {
        let Some(order) = self.store.find_order(id).await? else {
            return Ok(None);
        };
        // A payment whose event is late or lost still wins: the provider is asked first (if
        // it does not answer, the order expires and a later payment is given back).
        if let (Some(settings), Some(intent)) =
            (self.payments, order.payment.as_ref().and_then(|p| p.intent_id.clone()))
            && let Ok(found) = settings.provider.retrieve_intent(&intent).await
        {
            self.observe(id, &intent, found.state(0), None).await?;
        }
        let ending = Ending { actor: order.user_id, reason: Some(CancelReason::PaymentExpired) };
        match self.end(id, ending, Some(now)).await {
            Ok(order) => Ok(Some(order)),
            Err(OrderError::InvalidTransition(_) | OrderError::NotPayable) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Cancels the order with its payment (see [`Orders::cancel`]); with `expired_by`, only
    /// if its hold ended unpaid by then.
    pub(super) async fn end(
        &self,
        id: OrderId,
        ending: Ending,
        expired_by: Option<Timestamp>,
    ) -> Result<Order, OrderError> {
        let decide = |current: &Order, now: Timestamp| {
            let status = current.status.transition(OrderStatus::Cancelled)?;
            let payment = current.payment.as_ref();
            if let Some(by) = expired_by
                && !payment.is_some_and(|p| p.hold_expired(by))
            {
                return Err(OrderError::NotPayable);
            }
            let mut next = Order { status, cancel_reason: ending.reason, ..current.clone() };
            let mut ledger = Vec::new();
            if let Some(payment) = payment {
                let (ended, entry) = ended_payment(current, payment, now)?;
                next.payment = Some(ended);
                ledger.extend(entry);
            }
            let details = json!({ "reason": ending.reason, "from": current.status });
            let audit = AuditEntry::new(
                ending.actor,
                AuditAction::OrderCancelled,
                current.id,
                details,
                now,
            );
            let release_hold =
                payment.is_some_and(|p| p.hold_until.is_some() && p.status.is_unpaid());
            Ok(Some(Change {
                next: Some(next),
                give_back: true,
                release_hold,
                ledger,
                event: Some(match ending.reason {
                    Some(CancelReason::PaymentExpired) => OrderEventKind::Expired,
                    _ => OrderEventKind::StatusChanged { from: current.status, to: status },
                }),
                audit: Some(audit),
            }))
        };
        let (order, _) = self.change(id, &decide).await?;
        self.finish_ending(&order).await?;
        self.store.find_order(id).await?.ok_or(OrderError::NotFound)
    }

    /// The provider calls an ending needs, after it is committed: the intent cancelled, or
    /// the refund asked. Unanswered calls stay pending for reconciliation.
    pub(super) async fn finish_ending(&self, order: &Order) -> Result<(), OrderError> {
        let Some(settings) = self.payments else {
            return Ok(());
        };
        let ledger = self.store.ledger(order.id).await?;
        for entry in ledger.into_iter().filter(|e| e.status == LedgerStatus::Pending) {
            match entry.kind {
                LedgerKind::Refund => {
                    let _ = self.ask_refund(order, entry).await;
                }
                LedgerKind::Cancel => {
                    let Some(intent) = order.payment.as_ref().and_then(|p| p.intent_id.clone())
                    else {
                        continue;
                    };
                    match settings.provider.cancel_intent(&intent, &entry.id).await {
                        Ok(answer) => {
                            // The answer and what it says (the intent cancelled) together.
                            let done =
                                entry.answered(LedgerStatus::Succeeded, Some(answer.id.clone()));
                            let refunded = order.payment.as_ref().map_or(0, |p| p.refunded);
                            let state = answer.state(refunded);
                            if !self.observe(order.id, &intent, state, Some(done.clone())).await? {
                                self.record_answer(&done).await?;
                            }
                        }
                        Err(ProviderError::Unavailable(_)) => {}
                        Err(_) => {
                            // Paid meanwhile (no longer cancellable): read it; a payment
                            // after the end is given back.
                            let done = entry.answered(LedgerStatus::Failed, None);
                            self.record_answer(&done).await?;
                            let intent = settings.provider.retrieve_intent(&intent).await?;
                            let refunded = order.payment.as_ref().map_or(0, |p| p.refunded);
                            self.observe(order.id, &intent.id, intent.state(refunded), None)
                                .await?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Records an operation's answer that moves no money (once).
    pub(super) async fn record_answer(&self, entry: &LedgerEntry) -> Result<(), OrderError> {
        match self.store.record_event(entry).await {
            Ok(()) | Err(StoreError::Conflict(Conflict::EventSeen)) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}

/// The payment of an order being cancelled, and the operation to ask of the provider: an
/// unpaid intent cancelled, an authorisation released, or the money taken refunded.
fn ended_payment(
    order: &Order,
    payment: &crate::domain::Payment,
    now: Timestamp,
) -> Result<(crate::domain::Payment, Option<LedgerEntry>), OrderError> {
    let cancel = |amount| {
        payment
            .intent_id
            .as_ref()
            .map(|_| LedgerEntry::operation(order.id, LedgerKind::Cancel, amount, now))
    };
    match payment.status {
        status if status.is_unpaid() => {
            let expired = payment.expire().ok_or(OrderError::NotPayable)?;
            Ok((crate::domain::Payment { hold_until: None, ..expired }, cancel(0)))
        }
        PaymentStatus::Authorized => Ok((
            crate::domain::Payment { status: PaymentStatus::Voided, ..payment.clone() },
            cancel(payment.authorized),
        )),
        _ if payment.refundable() > 0 => {
            let cents = payment.refundable();
            let mut entry = LedgerEntry::operation(order.id, LedgerKind::Refund, cents, now);
            entry.detail = Some("cancelled".to_owned());
            Ok((payment.reserve_refund(cents)?, Some(entry)))
        }
        _ => Ok((payment.clone(), None)),
    }
}
