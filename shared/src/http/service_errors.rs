//! Every service's errors as HTTP answers: the only place a service outcome becomes a status
//! and a code of the envelope.

use crate::domain::ErrorCode;
use axum::http::StatusCode;

use super::ApiError;
use serde_json::json;

use crate::{
    auth::AuthError,
    cart::CartError,
    catalog::CatalogError,
    coupons::CouponError,
    domain::{CheckoutError, CouponRejection},
    orders::OrderError,
};

impl From<AuthError> for ApiError {
    /// The codes of the API this one replaces (`authorization_header`, `token_expired`,
    /// `invalid_token`), so its clients keep recognising them.
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::MissingToken => ApiError::unauthorized(
                ErrorCode::AuthorizationHeader,
                "Missing Authorization Header",
            ),
            AuthError::MalformedHeader => ApiError::unauthorized(
                ErrorCode::AuthorizationHeader,
                "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
            ),
            AuthError::TokenExpired => {
                ApiError::unauthorized(ErrorCode::TokenExpired, "The token has expired")
            }
            AuthError::TokenInvalid => {
                ApiError::unauthorized(ErrorCode::InvalidToken, "Signature verification failed")
            }
            AuthError::TokenRevoked => {
                ApiError::unauthorized(ErrorCode::TokenRevoked, "The token has been revoked")
            }
            AuthError::InvalidCredentials => {
                ApiError::unauthorized(ErrorCode::InvalidCredentials, "Invalid email or password")
            }
            AuthError::TooManyAttempts { retry_after_seconds } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyAttempts,
                "Too many failed logins for this account; try again later",
            )
            .with_retry_after(u32::try_from(retry_after_seconds).unwrap_or(u32::MAX)),
            AuthError::EmailTaken => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::EmailTaken, "User already exists")
            }
            AuthError::Forbidden(message) => ApiError::forbidden(message),
            AuthError::Validation(errors) => ApiError::validation(errors),
            AuthError::Store(error) => error.into(),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::NotFound => {
                ApiError::not_found(ErrorCode::ProductNotFound, "Product not found")
            }
            CatalogError::SkuTaken => ApiError::conflict(
                ErrorCode::SkuTaken,
                "A variant SKU is already used by another product",
            ),
            CatalogError::Contended => ApiError::conflict(
                ErrorCode::ProductChanged,
                "The product is being changed by someone else; try again",
            ),
            CatalogError::Validation(errors) => ApiError::validation(errors),
            CatalogError::Store(error) => error.into(),
        }
    }
}

impl From<CartError> for ApiError {
    fn from(error: CartError) -> Self {
        match error {
            CartError::ProductNotFound => {
                ApiError::not_found(ErrorCode::ProductNotFound, "Product not found")
            }
            CartError::SkuNotFound => {
                ApiError::not_found(ErrorCode::SkuNotFound, "This product has no such SKU")
            }
            CartError::SkuGone => {
                ApiError::not_found(ErrorCode::SkuNotFound, "This product no longer has this SKU")
            }
            CartError::LineNotFound => {
                ApiError::not_found(ErrorCode::LineNotFound, "This item is not in the cart")
            }
            CartError::CartFull => {
                ApiError::conflict(ErrorCode::CartFull, "A cart holds at most 50 different items")
            }
            CartError::InsufficientStock { sku, stock } => ApiError::conflict(
                ErrorCode::InsufficientStock,
                format!("Only {stock} of {sku} in stock"),
            ),
            CartError::Busy => ApiError::conflict(
                ErrorCode::CartChanged,
                "The cart was changed by another request; try again",
            ),
            CartError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request",
            ),
            CartError::Validation(errors) => ApiError::validation(errors),
            CartError::Store(error) => error.into(),
        }
    }
}

impl From<CouponError> for ApiError {
    fn from(error: CouponError) -> Self {
        match error {
            CouponError::NotFound => {
                ApiError::not_found(ErrorCode::CouponNotFound, "Coupon not found")
            }
            CouponError::Exists => ApiError::conflict(
                ErrorCode::CouponExists,
                "A coupon with this code already exists",
            ),
            CouponError::Validation(errors) => ApiError::validation(errors),
            CouponError::Store(error) => error.into(),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::NotFound => {
                ApiError::not_found(ErrorCode::OrderNotFound, "Order not found")
            }
            OrderError::CouponNotFound => {
                ApiError::bad_request(ErrorCode::CouponNotFound, "Coupon not found")
            }
            OrderError::AddressNotFound => {
                ApiError::not_found(ErrorCode::AddressNotFound, "Address not found")
            }
            OrderError::Checkout(error) => checkout_error(error),
            OrderError::CheckoutBusy => ApiError::conflict(
                ErrorCode::CheckoutBusy,
                "The cart, stock or coupon kept changing during checkout; try again",
            ),
            OrderError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request",
            ),
            OrderError::InvalidTransition(invalid) => ApiError::conflict(
                ErrorCode::InvalidStatusTransition,
                format!("An order cannot go from {} to {}", invalid.from, invalid.to),
            ),
            OrderError::OrderBusy => {
                ApiError::conflict(ErrorCode::OrderBusy, "The order kept changing; try again")
            }
            OrderError::Validation(errors) => ApiError::validation(errors),
            OrderError::Store(error) => error.into(),
            other => payment_error(other),
        }
    }
}

/// The orders service's payment errors.
fn payment_error(error: OrderError) -> ApiError {
    match error {
        OrderError::PaymentsOff => {
            ApiError::not_found(ErrorCode::PaymentsDisabled, "This shop does not take payments")
        }
        OrderError::NotPayable => ApiError::conflict(
            ErrorCode::OrderNotPayable,
            "This order cannot be paid (cancelled, paid already, or free)",
        ),
        OrderError::Unpaid => {
            ApiError::conflict(ErrorCode::OrderUnpaid, "An order cannot ship before it is paid")
        }
        OrderError::TooManyUnpaid => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyUnpaidOrders,
            "Pay or cancel an unpaid order before placing another",
        )
        .with_retry_after(60),
        OrderError::BadSignature => ApiError::bad_request(
            ErrorCode::InvalidSignature,
            "The event's signature is invalid or too old",
        ),
        OrderError::AlreadyRecorded => {
            ApiError::conflict(ErrorCode::AlreadyRecorded, "This was recorded already")
        }
        OrderError::Refund(refused) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::RefundRefused,
            refused.to_string(),
        ),
        OrderError::Declined(code) => ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            ErrorCode::CardDeclined,
            "The payment method was declined",
        )
        .with_detail("decline_code", json!(code)),
        OrderError::ProviderUnavailable => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::PaymentProviderUnavailable,
            "The payment provider did not answer; retry shortly",
        )
        .with_retry_after(2),
        OrderError::Provider(message) => {
            tracing::error!(error = %message, "payment provider refused a request");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::PaymentProviderError,
                "The payment provider refused the request",
            )
        }
        other => ApiError::internal(anyhow::anyhow!(other.to_string())),
    }
}

fn checkout_error(error: CheckoutError) -> ApiError {
    match error {
        CheckoutError::EmptyCart => ApiError::bad_request(ErrorCode::EmptyCart, "Cart is empty"),
        CheckoutError::InsufficientStock(shortages) => {
            let named: Vec<String> = shortages
                .iter()
                .map(|s| format!("{} ({} wanted, {} available)", s.sku, s.requested, s.available))
                .collect();
            ApiError::conflict(
                ErrorCode::InsufficientStock,
                format!("Not enough stock for {}", named.join(", ")),
            )
            .with_detail("shortages", json!(shortages))
        }
        CheckoutError::Coupon(rejection) => coupon_error(rejection),
        CheckoutError::TooLarge => ApiError::bad_request(
            ErrorCode::OrderTooLarge,
            "The order total is larger than the shop accepts",
        ),
    }
}

fn coupon_error(rejection: CouponRejection) -> ApiError {
    let mut message = rejection.to_string();
    if let Some(first) = message.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    ApiError::bad_request(rejection.code(), message)
}
