//! The payment ledger of an order: one entry per operation the shop asked of the provider
//! (an intent, a capture, a refund, a cancellation) and per event the provider sent. An
//! operation's entry is written before the provider is called; its id is the provider's
//! idempotency key, so a call whose answer was lost is asked again under the same key and
//! applied once.

use serde::{Deserialize, Serialize};

use super::{OrderId, Timestamp};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// The order's PaymentIntent was created.
    Intent,
    /// Money held was captured.
    Capture,
    /// Money captured was given back.
    Refund,
    /// The intent was cancelled (the hold expired, or the owner cancelled).
    Cancel,
    /// An event the provider sent (its id is the provider's event id).
    Event,
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerStatus {
    /// Asked of the provider, no answer yet (or the answer was lost): reconciliation asks
    /// again under the same key.
    Pending,
    /// The provider did it.
    Succeeded,
    /// The provider refused it; nothing moved.
    Failed,
    /// An event, recorded (whether or not it changed the payment).
    Received,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The operation's id (the provider's idempotency key), or the provider's event id.
    pub id: String,
    /// The order.
    pub order_id: OrderId,
    /// What it records.
    pub kind: LedgerKind,
    /// Where it stands.
    pub status: LedgerStatus,
    /// Cents moved (or asked to move).
    pub amount: i64,
    /// The provider's object (`pi_…`, `re_…`), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The event's type, the refund's reason or the refusal's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When it was written (UTC).
    pub at: Timestamp,
}

impl LedgerEntry {
    /// A new pending operation of `kind` on `order` for `amount` cents, with a fresh id.
    pub fn operation(order_id: OrderId, kind: LedgerKind, amount: i64, at: Timestamp) -> Self {
        let id = format!("{}_{}", kind.prefix(), super::EventId::new());
        Self {
            id,
            order_id,
            kind,
            status: LedgerStatus::Pending,
            amount,
            provider_id: None,
            detail: None,
            at,
        }
    }

    /// The same entry, answered.
    pub fn answered(&self, status: LedgerStatus, provider_id: Option<String>) -> Self {
        Self {
            status,
            provider_id: provider_id.or_else(|| self.provider_id.clone()),
            ..self.clone()
        }
    }
}

impl LedgerKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Capture => "capture",
            Self::Refund => "refund",
            Self::Cancel => "cancel",
            Self::Event => "event",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_get_distinct_sortable_ids_named_by_kind_and_keep_them_when_answered() {
        let order = OrderId::new();
        let at = Timestamp::now();
        let first = LedgerEntry::operation(order, LedgerKind::Refund, 500, at);
        let second = LedgerEntry::operation(order, LedgerKind::Refund, 500, at);
        assert!(first.id.starts_with("refund_") && first.id < second.id);
        let done = first.answered(LedgerStatus::Succeeded, Some("re_1".into()));
        assert_eq!((done.id.as_str(), done.status), (first.id.as_str(), LedgerStatus::Succeeded));
        let again = done.answered(LedgerStatus::Succeeded, None);
        assert_eq!(again.provider_id.as_deref(), Some("re_1"), "a known provider id is kept");
    }
}
