//! Shipping a paid order: under manual capture, the authorised money is captured as the order
//! ships (the capture recorded pending before the provider call, under a key derived from
//! the order, so it is made once however often shipping is retried).

use serde_json::json;

use super::{OrderError, Orders, payment::Change};
use crate::{
    domain::{
        AuditAction, AuditEntry, LedgerEntry, LedgerKind, LedgerStatus, Order, OrderId,
        PaymentStatus, Timestamp, UserId,
    },
    payments::CaptureMethod,
};

impl Orders<'_> {
    fn manual_capture(&self) -> bool {
        self.payments.is_some_and(|settings| settings.capture == CaptureMethod::Manual)
    }

    /// Whether the order may ship: always without payments, otherwise when paid (or
    /// authorised in full, under manual capture).
    pub(super) fn may_ship(&self, order: &Order) -> bool {
        order.payment.as_ref().is_none_or(|payment| payment.may_ship(self.manual_capture()))
    }

    /// Under manual capture, captures an authorised order's money before it ships.
    pub(super) async fn capture_for_shipping(
        &self,
        actor: UserId,
        id: OrderId,
    ) -> Result<(), OrderError> {
        let Some(settings) = self.payments.filter(|_| self.manual_capture()) else {
            return Ok(());
        };
        let entry_id = format!("capture_{id}");
        let decide = |current: &Order, now: Timestamp| {
            let Some(payment) =
                current.payment.as_ref().filter(|p| p.status == PaymentStatus::Authorized)
            else {
                return Ok(None);
            };
            let mut entry =
                LedgerEntry::operation(current.id, LedgerKind::Capture, payment.authorized, now);
            entry.id.clone_from(&entry_id);
            let details = json!({ "amount": payment.authorized, "ledger_id": entry.id });
            let audit =
                AuditEntry::new(actor, AuditAction::PaymentCaptured, current.id, details, now);
            Ok(Some(Change { ledger: vec![entry], audit: Some(audit), ..Change::default() }))
        };
        match self.change(id, &decide).await {
            Ok(_) | Err(OrderError::AlreadyRecorded) => {}
            Err(other) => return Err(other),
        }
        let order = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
        let Some(payment) =
            order.payment.as_ref().filter(|p| p.status == PaymentStatus::Authorized)
        else {
            return Ok(());
        };
        let intent_id = payment.intent_id.clone().ok_or(OrderError::Unpaid)?;
        let intent = settings.provider.capture_intent(&intent_id, None, &entry_id).await?;
        let ledger = self.store.ledger(id).await?;
        if let Some(entry) = ledger.into_iter().find(|e| e.id == entry_id) {
            self.record_answer(&entry.answered(LedgerStatus::Succeeded, Some(intent.id.clone())))
                .await?;
        }
        self.observe(id, &intent_id, intent.state(payment.refunded), None).await?;
        Ok(())
    }
}
