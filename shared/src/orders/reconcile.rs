//! The scheduled side of payments: unpaid holds that ended are expired (the backstop of the
//! delayed expiry message), and payments not final after a while are compared with the
//! provider (a missed event, an answer lost) and converged.

use super::{OrderError, Orders};
use crate::{
    domain::{LedgerStatus, OrderId, Timestamp},
    metrics::Metric,
};

/// Orders one sweep or reconciliation run handles at most.
const BATCH: usize = 50;

/// What a reconciliation run found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Orders whose payment was compared with the provider.
    pub checked: usize,
    /// Of them, those whose ledger was behind the provider (drift), now converged.
    pub drifted: usize,
    /// Unpaid holds expired.
    pub expired: usize,
}

impl Orders<'_> {
    /// Expires every order whose unpaid hold ended by `now` (at most a batch per call).
    pub async fn sweep_holds(&self, now: Timestamp) -> Result<usize, OrderError> {
        self.payments()?;
        let mut expired = 0;
        for id in self.store.due_holds(now, BATCH).await? {
            if self.expire(id, now).await?.is_some() {
                expired += 1;
            }
        }
        if expired > 0 {
            self.metrics.publish(
                "expire",
                &[Metric::counted("OrdersExpired", u32::try_from(expired).unwrap_or(u32::MAX))],
            );
        }
        Ok(expired)
    }

    /// Sweeps the holds, then asks the provider about every payment not final since before
    /// `now - reconcile_after_seconds` and converges the ledger; publishes `PaymentDrift`.
    pub async fn reconcile(&self, now: Timestamp) -> Result<Reconciled, OrderError> {
        let settings = self.payments()?;
        let mut report =
            Reconciled { expired: self.sweep_holds(now).await?, ..Reconciled::default() };
        let before = now.plus_seconds(-settings.reconcile_after_seconds);
        for id in self.store.unsettled(before, BATCH).await? {
            report.checked += 1;
            match self.reconcile_one(id).await {
                Ok(true) => report.drifted += 1,
                Ok(false) => {}
                Err(error) => tracing::warn!(order = %id, error = %error, "payment not reconciled"),
            }
        }
        if report.checked > 0 {
            let drifted = u32::try_from(report.drifted).unwrap_or(u32::MAX);
            self.metrics.publish("reconcile", &[Metric::counted("PaymentDrift", drifted)]);
        }
        Ok(report)
    }

    /// One order: the intent read back and observed, pending refunds asked again under their
    /// keys, pending cancellations asked again; whether anything was behind.
    async fn reconcile_one(&self, id: OrderId) -> Result<bool, OrderError> {
        let settings = self.payments()?;
        let order = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
        let Some(payment) = order.payment.clone() else {
            return Ok(false);
        };
        let Some(intent_id) = payment.intent_id.clone() else {
            return Ok(false);
        };
        let intent = settings.provider.retrieve_intent(&intent_id).await?;
        let moved = self.observe(id, &intent_id, intent.state(payment.refunded), None).await?;
        // Operations still pending (a refund or a cancellation whose answer was lost) are
        // asked again under their keys; the provider answers what it did.
        let pending = self.pending_operations(id).await?;
        if pending > 0 {
            let order = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
            self.finish_ending(&order).await?;
        }
        Ok(moved || self.pending_operations(id).await? < pending)
    }

    async fn pending_operations(&self, id: OrderId) -> Result<usize, OrderError> {
        let ledger = self.store.ledger(id).await?;
        Ok(ledger.iter().filter(|e| e.status == LedgerStatus::Pending).count())
    }
}
