//! The order events a webhook can subscribe to, and the JSON body each is delivered as.

use serde::{Deserialize, Serialize};

use super::{Order, OrderEvent, OrderEventKind};

/// The order events a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEventType {
    /// An order was placed.
    #[serde(rename = "order.placed")]
    OrderPlaced,
    /// An order's status changed.
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    /// An order was paid.
    #[serde(rename = "order.paid")]
    OrderPaid,
    /// Money was given back for an order.
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    /// An unpaid order expired.
    #[serde(rename = "order.expired")]
    OrderExpired,
}

impl WebhookEventType {
    /// Every type.
    pub const ALL: [WebhookEventType; 5] = [
        Self::OrderPlaced,
        Self::OrderStatusChanged,
        Self::OrderPaid,
        Self::OrderRefunded,
        Self::OrderExpired,
    ];

    /// The type's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderPlaced => "order.placed",
            Self::OrderStatusChanged => "order.status_changed",
            Self::OrderPaid => "order.paid",
            Self::OrderRefunded => "order.refunded",
            Self::OrderExpired => "order.expired",
        }
    }

    /// The type of an order event.
    pub fn of(event: &OrderEvent) -> Self {
        match event.kind {
            OrderEventKind::OrderPlaced => Self::OrderPlaced,
            OrderEventKind::StatusChanged { .. } => Self::OrderStatusChanged,
            OrderEventKind::PaymentReceived { .. } => Self::OrderPaid,
            OrderEventKind::Refunded { .. } => Self::OrderRefunded,
            OrderEventKind::Expired => Self::OrderExpired,
        }
    }

    pub(super) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The JSON body of one event: `{id, type, created_at, data: {order}}`; a status change also
/// carries `data.previous_status`, a payment or a refund `data.amount`.
pub fn payload(event: &OrderEvent, order: &Order) -> serde_json::Value {
    let mut data = serde_json::json!({ "order": order });
    match event.kind {
        OrderEventKind::StatusChanged { from, .. } => {
            data["previous_status"] = serde_json::json!(from);
        }
        OrderEventKind::PaymentReceived { amount } | OrderEventKind::Refunded { amount } => {
            data["amount"] = serde_json::json!(super::from_minor_units(amount).to_string());
        }
        _ => {}
    }
    serde_json::json!({
        "id": event.id,
        "type": WebhookEventType::of(event).as_str(),
        "created_at": event.at,
        "data": data,
    })
}
