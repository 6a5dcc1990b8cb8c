//! Every stable code the API answers in its error envelope's `error` member, in one enum: a
//! client can rely on the set, and `openapi.yaml` lists the codes of each operation (a test
//! compares the two).

use std::fmt;

/// Declares the codes once: each variant with the text clients see.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// A stable error code of the envelope (`"error": "<code>"`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in the order declared (alphabetical).
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    AddressNotFound => "address_not_found",
    AddressesChanged => "addresses_changed",
    AlreadyRecorded => "already_recorded",
    AuditEntryExists => "audit_entry_exists",
    AuthorizationHeader => "authorization_header",
    CardDeclined => "card_declined",
    CartChanged => "cart_changed",
    CartFull => "cart_full",
    CheckoutBusy => "checkout_busy",
    CouponBelowMinimum => "coupon_below_minimum",
    CouponExhausted => "coupon_exhausted",
    CouponExists => "coupon_exists",
    CouponExpired => "coupon_expired",
    CouponLimitReached => "coupon_limit_reached",
    CouponNotEligible => "coupon_not_eligible",
    CouponNotFound => "coupon_not_found",
    CouponNotStarted => "coupon_not_started",
    CouponUnavailable => "coupon_unavailable",
    EmailTaken => "email_taken",
    EmptyCart => "empty_cart",
    EventSeen => "event_seen",
    Forbidden => "forbidden",
    IdempotencyKeyReused => "idempotency_key_reused",
    IdempotencyKeyUsed => "idempotency_key_used",
    InsufficientStock => "insufficient_stock",
    InternalError => "internal_error",
    InvalidCredentials => "invalid_credentials",
    InvalidJson => "invalid_json",
    InvalidQuery => "invalid_query",
    InvalidSignature => "invalid_signature",
    InvalidStatusTransition => "invalid_status_transition",
    InvalidToken => "invalid_token",
    LineNotFound => "line_not_found",
    MethodNotAllowed => "method_not_allowed",
    NotFound => "not_found",
    OrderBusy => "order_busy",
    OrderChanged => "order_changed",
    OrderExists => "order_exists",
    OrderNotFound => "order_not_found",
    OrderNotPayable => "order_not_payable",
    OrderTooLarge => "order_too_large",
    OrderUnpaid => "order_unpaid",
    PayloadTooLarge => "payload_too_large",
    PaymentProviderError => "payment_provider_error",
    PaymentProviderUnavailable => "payment_provider_unavailable",
    PaymentsDisabled => "payments_disabled",
    ProductChanged => "product_changed",
    ProductExists => "product_exists",
    ProductNotFound => "product_not_found",
    RefundRefused => "refund_refused",
    RoleChanged => "role_changed",
    RouteNotFound => "route_not_found",
    ServiceBusy => "service_busy",
    SessionExists => "session_exists",
    SkuNotFound => "sku_not_found",
    SkuTaken => "sku_taken",
    TokenExpired => "token_expired",
    TokenRevoked => "token_revoked",
    TooManyAttempts => "too_many_attempts",
    TooManyUnpaidOrders => "too_many_unpaid_orders",
    TransactionConflict => "transaction_conflict",
    UnsupportedMediaType => "unsupported_media_type",
    UserExists => "user_exists",
    ValidationError => "validation_error",
    WebhookLimit => "webhook_limit",
    WebhookNotFound => "webhook_not_found",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_in_order() {
        let texts: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = texts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(texts, sorted, "unique, declared alphabetically");
        assert!(texts.iter().all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        assert_eq!(ErrorCode::SkuTaken.to_string(), "sku_taken");
    }
}
