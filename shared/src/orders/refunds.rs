//! Money going back: refunds (admins, with an optional `Idempotency-Key`), and late payments
//! given back.
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
        AuditAction, AuditEntry, LedgerEntry, LedgerKind, LedgerStatus, Order, OrderEventKind,
        OrderId, Timestamp, UserId, minor_units,
    },
    payments::ProviderError,
    store::{Conflict, StoreError},
};

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
        key: Option<super::IdempotencyKey>,
        request: RefundRequest,
    ) -> Result<(Order, LedgerEntry), OrderError> {
        self.payments()?;
        let id: OrderId = id.parse().map_err(|_| OrderError::NotFound)?;
        let cents = request.amount.map(minor_units);
        let reason = request.reason.map(|r| r.chars().take(200).collect::<String>());
        // Retry safety: with an `Idempotency-Key`, the refund's ledger id derives from it, so
        // a retry whose first answer was lost finds that refund and answers it, once.
        let entry_id = key.map(|key| {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(format!("{actor}\u{1f}{}", key.as_str()).as_bytes());
            format!("refund_{id}_{}", hex::encode(&digest[..12]))
        });
        let reason = reason.as_deref().unwrap_or("requested");
        self.refund_money(id, cents, reason, actor, entry_id).await
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
        if let Some(known) = &entry_id
            && let Some(replayed) = self.replay_refund(id, known, cents).await?
        {
            return Ok(replayed);
        }
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
        let order = match self.change(id, &decide).await {
            Ok((order, _)) => order,
            // The same key, concurrently: that request's refund is this one.
            Err(OrderError::AlreadyRecorded) => {
                let replayed = self.replay_refund(id, &entry_id, cents).await?;
                return replayed.ok_or(OrderError::OrderBusy);
            }
            Err(other) => return Err(other),
        };
        let entry = self.pending_entry(id, LedgerKind::Refund, Some(&entry_id)).await?;
        self.ask_refund(&order, entry).await
    }

    /// The refund recorded under `entry_id`, answered again (asking the provider again, under
    /// the same key, if it is still pending); `KeyReused` when it was for another amount.
    async fn replay_refund(
        &self,
        id: OrderId,
        entry_id: &str,
        cents: Option<i64>,
    ) -> Result<Option<(Order, LedgerEntry)>, OrderError> {
        let ledger = self.store.ledger(id).await?;
        let Some(entry) = ledger.into_iter().find(|e| e.id == entry_id) else {
            return Ok(None);
        };
        if cents.is_some_and(|cents| cents != entry.amount) {
            return Err(OrderError::KeyReused);
        }
        let order = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
        self.ask_refund(&order, entry).await.map(Some)
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

    /// Records an operation's answer that moves no money (once).
    pub(super) async fn record_answer(&self, entry: &LedgerEntry) -> Result<(), OrderError> {
        match self.store.record_event(entry).await {
            Ok(()) | Err(StoreError::Conflict(Conflict::EventSeen)) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}
