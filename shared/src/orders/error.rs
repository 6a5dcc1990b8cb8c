//! Why a checkout, an order read or a status change failed.

use crate::{
    domain::{CheckoutError, FieldErrors, InvalidTransition, RefundRefused},
    store::StoreError,
};

/// The orders service's errors; `http` turns them into answers.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// Order not found.
    #[error("order not found")]
    NotFound,
    /// Coupon not found.
    #[error("coupon not found")]
    CouponNotFound,
    /// The shipping address is not one of the caller's.
    #[error("address not found")]
    AddressNotFound,
    /// The cart cannot become an order.
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
    /// The cart, stock or coupon kept changing during checkout.
    #[error("the cart, stock or coupon kept changing during checkout")]
    CheckoutBusy,
    /// The idempotency key was used with a different request.
    #[error("the idempotency key was used with a different request")]
    KeyReused,
    /// The status machine does not allow the change.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The order kept changing.
    #[error("the order kept changing")]
    OrderBusy,
    /// The shop takes no payments (`PAYMENTS=off`).
    #[error("payments are not enabled")]
    PaymentsOff,
    /// The order cannot be paid (cancelled, paid already, or has no payment).
    #[error("the order cannot be paid")]
    NotPayable,
    /// The order cannot ship before it is paid (or authorised, under manual capture).
    #[error("the order is not paid")]
    Unpaid,
    /// The customer holds the most unpaid orders allowed.
    #[error("too many unpaid orders")]
    TooManyUnpaid,
    /// The provider event's signature is missing, wrong or too old.
    #[error("invalid signature")]
    BadSignature,
    /// The ledger holds this event or answer already.
    #[error("recorded already")]
    AlreadyRecorded,
    /// The refund asks for more than is refundable.
    #[error(transparent)]
    Refund(#[from] RefundRefused),
    /// The payment method was declined.
    #[error("declined: {0}")]
    Declined(String),
    /// The provider did not answer; the operation stays pending and is resolved later.
    #[error("the payment provider did not answer")]
    ProviderUnavailable,
    /// The provider refused the request (logged, never shown).
    #[error("payment provider error: {0}")]
    Provider(String),
    /// Invalid fields, each with its messages.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}
