//! The admin audit trail: one entry per admin write, stored in the same transaction as the
//! change it records.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::{AuditId, Timestamp, UserId};

/// What an admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// `product.created`
    ProductCreated,
    /// `product.updated`
    ProductUpdated,
    /// `product.deleted`
    ProductDeleted,
    /// `coupon.created`
    CouponCreated,
    /// `coupon.updated`
    CouponUpdated,
    /// `coupon.deleted`
    CouponDeleted,
    /// `order.status_changed`
    OrderStatusChanged,
    /// `account.registered` (an account an admin registers, or an operator's bootstrap)
    AccountRegistered,
    /// `account.role_changed` (by an operator's bootstrap: `create-admin`, `SHOP_ADMIN_*`)
    AccountRoleChanged,
    /// `webhook.created`
    WebhookCreated,
    /// `webhook.deleted`
    WebhookDeleted,
    /// `payment.captured` (an order's authorised payment taken as it ships)
    PaymentCaptured,
    /// `payment.refunded` (money given back, by an admin, a cancellation or a late payment)
    PaymentRefunded,
    /// `order.cancelled` (by its owner, or by the shop when the payment hold expired)
    OrderCancelled,
}

impl AuditAction {
    /// Every action, for validation messages and documentation.
    pub const ALL: [AuditAction; 14] = [
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::ProductDeleted,
        Self::CouponCreated,
        Self::CouponUpdated,
        Self::CouponDeleted,
        Self::OrderStatusChanged,
        Self::AccountRegistered,
        Self::AccountRoleChanged,
        Self::WebhookCreated,
        Self::WebhookDeleted,
        Self::PaymentCaptured,
        Self::PaymentRefunded,
        Self::OrderCancelled,
    ];

    /// The action's name, `<target type>.<verb>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::ProductDeleted => "product.deleted",
            Self::CouponCreated => "coupon.created",
            Self::CouponUpdated => "coupon.updated",
            Self::CouponDeleted => "coupon.deleted",
            Self::OrderStatusChanged => "order.status_changed",
            Self::AccountRegistered => "account.registered",
            Self::AccountRoleChanged => "account.role_changed",
            Self::WebhookCreated => "webhook.created",
            Self::WebhookDeleted => "webhook.deleted",
            Self::PaymentCaptured => "payment.captured",
            Self::PaymentRefunded => "payment.refunded",
            Self::OrderCancelled => "order.cancelled",
        }
    }

    /// The kind of record the action changes (`product`, `coupon`, …).
    pub fn target_type(self) -> &'static str {
        let name = self.as_str();
        name.split_once('.').map_or(name, |(target, _)| target)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            format!("must be one of {}", names.join(", "))
        })
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One admin write: who, when, what, on which record, and the details worth keeping (never a
/// secret or a password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The id; sorts by time.
    pub id: AuditId,
    /// When (UTC).
    pub at: Timestamp,
    /// The admin; for an operator's bootstrap (no admin acting), the account itself, with
    /// `"by": "operator"` in the details.
    pub actor_id: UserId,
    /// What was done.
    pub action: AuditAction,
    /// The kind of record changed (the action's prefix).
    pub target_type: String,
    /// The record's id (a product or order id, a coupon code, …).
    pub target_id: String,
    /// What changed, as the action defines it.
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// An entry for `action` on `target_id` by `actor` at `now`.
    pub fn new(
        actor: UserId,
        action: AuditAction,
        target_id: impl fmt::Display,
        details: serde_json::Value,
        now: Timestamp,
    ) -> Self {
        AuditEntry {
            id: AuditId::new(),
            at: now,
            actor_id: actor,
            action,
            target_type: action.target_type().to_owned(),
            target_id: target_id.to_string(),
            details,
        }
    }
}

/// The fields of `before` and `after` (two JSON objects) that differ, each as
/// `{"from": old, "to": new}`, leaving out `ignored` ones: what an `*.updated` audit entry
/// records so that the values an admin changed can be read back.
pub fn field_changes(
    before: &serde_json::Value,
    after: &serde_json::Value,
    ignored: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let empty = serde_json::Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| !ignored.contains(&name.as_str()))
        .filter_map(|name| {
            let (from, to) = (before.get(name), after.get(name));
            (from != to).then(|| {
                let value = |v: Option<&serde_json::Value>| v.cloned().unwrap_or_default();
                (name.clone(), serde_json::json!({ "from": value(from), "to": value(to) }))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names_and_name_their_target() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
            assert!(action.as_str().starts_with(action.target_type()));
        }
        assert_eq!(AuditAction::OrderStatusChanged.target_type(), "order");
        assert_eq!(AuditAction::AccountRegistered.target_type(), "account");
        let refused = "product.exploded".parse::<AuditAction>().unwrap_err();
        assert!(refused.contains("product.created"), "{refused}");
    }

    #[test]
    fn an_entry_serialises_with_the_action_name() {
        let actor = UserId::new();
        let entry = AuditEntry::new(
            actor,
            AuditAction::CouponDeleted,
            "SAVE10",
            serde_json::json!({}),
            Timestamp::now(),
        );
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["action"], "coupon.deleted");
        assert_eq!(json["target_type"], "coupon");
        assert_eq!(json["target_id"], "SAVE10");
        assert_eq!(json["actor_id"], actor.to_string());
        let back: AuditEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, entry);
    }
}
