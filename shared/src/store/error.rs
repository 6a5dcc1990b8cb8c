//! Storage failures and the conflicts a conditional write reports.

use crate::domain::ErrorCode;
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
    pub fn code(self) -> ErrorCode {
        match self {
            Conflict::IdempotencyKeyUsed => ErrorCode::IdempotencyKeyUsed,
            Conflict::CartChanged => ErrorCode::CartChanged,
            Conflict::AddressesChanged => ErrorCode::AddressesChanged,
            Conflict::OrderChanged => ErrorCode::OrderChanged,
            Conflict::InsufficientStock => ErrorCode::InsufficientStock,
            Conflict::ProductChanged => ErrorCode::ProductChanged,
            Conflict::CouponUnavailable => ErrorCode::CouponUnavailable,
            Conflict::CouponLimitReached => ErrorCode::CouponLimitReached,
            Conflict::EmailTaken => ErrorCode::EmailTaken,
            Conflict::UserExists => ErrorCode::UserExists,
            Conflict::SessionExists => ErrorCode::SessionExists,
            Conflict::RoleChanged => ErrorCode::RoleChanged,
            Conflict::SkuTaken => ErrorCode::SkuTaken,
            Conflict::CouponExists => ErrorCode::CouponExists,
            Conflict::OrderExists => ErrorCode::OrderExists,
            Conflict::ProductExists => ErrorCode::ProductExists,
            Conflict::WebhookLimit => ErrorCode::WebhookLimit,
            Conflict::TooManyUnpaid => ErrorCode::TooManyUnpaidOrders,
            Conflict::EventSeen => ErrorCode::EventSeen,
            Conflict::TransactionConflict => ErrorCode::TransactionConflict,
            Conflict::AuditExists => ErrorCode::AuditEntryExists,
            Conflict::Absent => ErrorCode::NotFound,
        }
    }
}
