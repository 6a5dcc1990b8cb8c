//! Why a checkout, an order read or a status change failed.

use crate::{
    domain::{CheckoutError, FieldErrors, InvalidTransition},
    store::StoreError,
};

/// The orders service's errors; `http` turns them into answers.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("order not found")]
    NotFound,
    #[error("coupon not found")]
    CouponNotFound,
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
    #[error("the cart, stock or coupon kept changing during checkout")]
    CheckoutBusy,
    #[error("the idempotency key was used with a different request")]
    KeyReused,
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    #[error("the order kept changing")]
    OrderBusy,
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}
