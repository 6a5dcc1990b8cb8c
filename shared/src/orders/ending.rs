//! Orders ending before they ship: the owner's cancellation, an admin's, and the expiry of
//! an unpaid hold. One conditional write ends the order with its payment (the hold released,
//! the units and coupon use given back, the operation to ask of the provider recorded
//! pending); the provider is asked after, and an unanswered call stays pending for
//! reconciliation.

use serde_json::json;

use super::{OrderError, Orders, payment::Change};
use crate::{
    domain::{
        AuditAction, AuditEntry, CancelReason, LedgerEntry, LedgerKind, LedgerStatus, Order,
        OrderEventKind, OrderId, OrderStatus, PaymentStatus, Timestamp, UserId,
    },
    payments::ProviderError,
};

/// Who ends an order, and why.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ending {
    pub actor: UserId,
    pub reason: Option<CancelReason>,
}

impl Orders<'_> {
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
        // Retry safety: a cancellation whose answer was lost is answered as done.
        if order.cancel_reason == Some(CancelReason::CustomerCancelled) {
            return Ok(order);
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
