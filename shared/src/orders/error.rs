//! Why a checkout, an order read or a status change failed.

use crate::{
    domain::{CheckoutError, FieldErrors, InvalidTransition},
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
    /// Invalid fields, each with its messages.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}
