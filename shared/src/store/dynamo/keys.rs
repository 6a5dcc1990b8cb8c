//! Every key of the single table, in one place: partition keys (`PK`), sort keys (`SK`) and
//! the overloaded index keys (`GSI1PK`/`GSI1SK`, `GSI2PK`/`GSI2SK`). docs/design/table.md
//! lists the items they make.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::s;
use crate::domain::{
    AuditAction, AuditId, CouponCode, Email, EventId, OrderId, OrderStatus, ProductId, Sku, UserId,
    WebhookId,
};

/// A table key (`PK` and `SK`).
pub(super) type Key = HashMap<String, AttributeValue>;

/// The key `pk`/`sk`.
pub(super) fn key(pk: String, sk: &str) -> Key {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

// Accounts: `USER#<id>` holds the profile, the cart and the sessions.

/// The partition of an account: its profile, cart and sessions.
pub(super) fn user(id: UserId) -> String {
    format!("USER#{id}")
}
/// The profile in a user's partition.
pub(super) const PROFILE: &str = "PROFILE";
/// The cart in a user's partition.
pub(super) const CART: &str = "CART";
/// The address book in a user's partition.
pub(super) const ADDRESSES: &str = "ADDRESSES";
/// The prefix of every session's sort key in a user's partition.
pub(super) const SESSION_PREFIX: &str = "SESSION#";

/// A session in its user's partition.
pub(super) fn session(id: crate::domain::SessionId) -> String {
    format!("{SESSION_PREFIX}{id}")
}

/// The e-mail → account item (uniqueness, the password hash).
pub(super) fn email(email: &Email) -> String {
    format!("EMAIL#{email}")
}
/// The sort key of the e-mail item.
pub(super) const EMAIL: &str = "EMAIL";

/// Failed logins for an address.
pub(super) fn login(email: &Email) -> String {
    format!("LOGIN#{email}")
}
/// The sort key of the failed-logins item.
pub(super) const FAILURES: &str = "FAILURES";

// Catalog.

/// A product.
pub(super) fn product(id: ProductId) -> String {
    format!("PRODUCT#{id}")
}
/// The sort key of a product and of a coupon.
pub(super) const META: &str = "META";
/// A SKU's claim (uniqueness across the catalog).
pub(super) fn sku(sku: &Sku) -> String {
    format!("SKU#{sku}")
}
/// The sort key of a SKU claim.
pub(super) const SKU: &str = "SKU";
/// The catalog counters' partition.
pub(super) const COUNTERS: &str = "COUNTER#PRODUCTS";
/// The sort key of the whole-catalog counter.
pub(super) const TOTAL: &str = "COUNTER";
/// A category: its GSI1 partition, and its counter's sort key.
pub(super) fn category(category: &str) -> String {
    format!("CATEGORY#{category}")
}
/// GSI2's partition of every product.
pub(super) const ALL_PRODUCTS: &str = "PRODUCTS";

// Coupons.

/// A coupon, and the partition of its per-customer use counts.
pub(super) fn coupon(code: &CouponCode) -> String {
    format!("COUPON#{}", code.as_str())
}
/// A customer's use count in a coupon's partition.
pub(super) fn coupon_user(user: UserId) -> String {
    format!("USER#{user}")
}
/// GSI1's partition of every coupon.
pub(super) const ALL_COUPONS: &str = "COUPONS";

// Orders.

/// An order.
pub(super) fn order(id: OrderId) -> String {
    format!("ORDER#{id}")
}
/// The sort key of an order.
pub(super) const ORDER: &str = "ORDER";
/// GSI1's sort key of an order in its customer's partition (`USER#<id>`).
pub(super) fn customer_order(position: &str) -> String {
    format!("ORDER#{position}")
}
/// The prefix of those sort keys.
pub(super) const CUSTOMER_ORDER_PREFIX: &str = "ORDER#";
/// GSI2's partition of the orders at a status.
pub(super) fn status(status: OrderStatus) -> String {
    format!("STATUS#{status}")
}
/// A checkout's idempotency record.
pub(super) fn idempotency(user: UserId, key: &str) -> String {
    format!("IDEMPOTENCY#{user}#{key}")
}
/// The sort key of an idempotency record.
pub(super) const IDEMPOTENCY: &str = "IDEMPOTENCY";
/// An order event waiting in the outbox.
pub(super) fn outbox(id: EventId) -> String {
    format!("OUTBOX#{id}")
}
/// The sort key of an outbox event, and GSI1's partition of all of them.
pub(super) const OUTBOX: &str = "OUTBOX";

// Payments.

/// The prefix of a payment ledger entry's sort key in its order's partition.
pub(super) const LEDGER_PREFIX: &str = "PAY#";
/// A ledger entry in its order's partition.
pub(super) fn ledger(id: &str) -> String {
    format!("{LEDGER_PREFIX}{id}")
}
/// The partition of every unpaid hold, sorted by deadline.
pub(super) const HOLDS: &str = "HOLDS";
/// A hold's sort key: its deadline, then its order.
pub(super) fn hold(until: crate::domain::Timestamp, order: OrderId) -> String {
    format!("{until}#{order}")
}
/// The sort key of a customer's count of unpaid orders, in their partition.
pub(super) const UNPAID: &str = "UNPAID";
/// The partition of the orders whose payment is not final (reconciliation's list).
pub(super) const PAYWATCH: &str = "PAYWATCH";

/// The marker of one order event's e-mail.
pub(super) fn sent_email(order: OrderId, event: &str) -> String {
    format!("SENT#{order}#{event}")
}
/// The sort key of an e-mail marker.
pub(super) const SENT_EMAIL: &str = "SENT";

// The admin audit trail.

/// An audit entry.
pub(super) fn audit(id: AuditId) -> String {
    format!("AUDIT#{id}")
}
/// The sort key of an audit entry, and GSI1's partition of all of them (sorted by id).
pub(super) const AUDIT: &str = "AUDIT";
/// GSI2's partition of the entries of one action (sorted by id).
pub(super) fn audit_action(action: AuditAction) -> String {
    format!("AUDIT#{action}")
}

// Webhooks.

/// A webhook, and the partition of its delivery log.
pub(super) fn webhook(id: WebhookId) -> String {
    format!("WEBHOOK#{id}")
}
/// The sort key of a webhook.
pub(super) const WEBHOOK: &str = "WEBHOOK";
/// The sort key of a webhook's signing secret: an item of its own, without index keys, so the
/// secret is in no index (any function that may query an index could read it there); only
/// the functions allowed `WEBHOOK#*` keys read it.
pub(super) const WEBHOOK_SECRET: &str = "SECRET";
/// GSI1's partition of every webhook, and the partition of their count.
pub(super) const ALL_WEBHOOKS: &str = "WEBHOOKS";
/// The sort key of the number of webhooks (kept below the limit by the creating transaction).
pub(super) const WEBHOOK_COUNT: &str = "COUNT";
/// The delivery record of one event in its webhook's partition.
pub(super) fn delivery(event: EventId) -> String {
    format!("{DELIVERY_PREFIX}{event}")
}
/// The prefix of those sort keys.
pub(super) const DELIVERY_PREFIX: &str = "DELIVERY#";
