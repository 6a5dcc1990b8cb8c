//! Storage failures and the conflicts a conditional write reports.

/// A storage failure, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item to change does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or state condition failed; the variant names which.
    #[error("conflict: {}", .0.code())]
    Conflict(Conflict),
    /// The database asked us to slow down.
    #[error("throttled by the database")]
    Throttled,
    /// The database could not answer (a timeout, a dropped connection, a 5xx) after the SDK's
    /// retries: a write may or may not have been applied. A service reads back a marker of its
    /// write before answering; what is left is answered 503 with `Retry-After`.
    #[error("the database did not answer: {0:#}")]
    Unavailable(anyhow::Error),
    /// Anything else: logged with context, never shown to a client.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Which condition of a write failed. The order is the order of causes a failed checkout or
/// status change reports when several conditions failed at once (the first is the one a retry
/// must see first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Conflict {
    /// Another request placed an order under the same idempotency key.
    IdempotencyKeyUsed,
    /// The cart changed since it was read.
    CartChanged,
    /// The address book changed since it was read.
    AddressesChanged,
    /// The order's status changed since it was read.
    OrderChanged,
    /// A variant has fewer units than the order takes.
    InsufficientStock,
    /// The product changed since it was read (or lost a SKU to restock).
    ProductChanged,
    /// The coupon was deleted, expired or used up meanwhile.
    CouponUnavailable,
    /// The customer reached the coupon's per-customer limit.
    CouponLimitReached,
    /// The e-mail address belongs to another account.
    EmailTaken,
    /// An account with this id exists.
    UserExists,
    /// A session with this id exists.
    SessionExists,
    /// The account's role is not the one the session was opened with.
    RoleChanged,
    /// A SKU belongs to another product.
    SkuTaken,
    /// A coupon with this code exists.
    CouponExists,
    /// An order with this id exists.
    OrderExists,
    /// A product with this id exists.
    ProductExists,
    /// The shop has the most webhooks allowed.
    WebhookLimit,
    /// The customer holds the most unpaid orders allowed.
    TooManyUnpaid,
    /// The provider's event is in the ledger already (a duplicate delivery).
    EventSeen,
    /// Another transaction held one of the items; retry.
    TransactionConflict,
    /// The item to change is gone (a transaction's way of saying [`StoreError::NotFound`]).
    Absent,
    /// The write's audit entry exists: the write itself landed before (its answer was lost),
    /// as the entry is written in the write's own transaction.
    AuditExists,
}

impl Conflict {
    /// The stable code of the error envelope.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::IdempotencyKeyUsed => "idempotency_key_used",
            Conflict::CartChanged => "cart_changed",
            Conflict::AddressesChanged => "addresses_changed",
            Conflict::OrderChanged => "order_changed",
            Conflict::InsufficientStock => "insufficient_stock",
            Conflict::ProductChanged => "product_changed",
            Conflict::CouponUnavailable => "coupon_unavailable",
            Conflict::CouponLimitReached => "coupon_limit_reached",
            Conflict::EmailTaken => "email_taken",
            Conflict::UserExists => "user_exists",
            Conflict::SessionExists => "session_exists",
            Conflict::RoleChanged => "role_changed",
            Conflict::SkuTaken => "sku_taken",
            Conflict::CouponExists => "coupon_exists",
            Conflict::OrderExists => "order_exists",
            Conflict::ProductExists => "product_exists",
            Conflict::WebhookLimit => "webhook_limit",
            Conflict::TooManyUnpaid => "too_many_unpaid_orders",
            Conflict::EventSeen => "event_seen",
            Conflict::TransactionConflict => "transaction_conflict",
            Conflict::AuditExists => "audit_entry_exists",
            Conflict::Absent => "not_found",
        }
    }
}
