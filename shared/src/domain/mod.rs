//! Pure domain rules: no I/O, no AWS, no HTTP. Every type here is valid once built.

mod address;
mod audit;
mod branding;
mod cart;
mod clock;
mod coupon;
mod email;
mod error_code;
mod field_errors;
mod id;
mod ledger;
mod money;
mod order;
mod order_status;
mod paging;
mod password;
mod payment;
mod product;
mod product_changes;
mod role;
mod timestamp;
mod user;
pub(crate) mod validate;
mod webhook;
mod webhook_event;

pub use address::{
    Address, AddressError, AddressInput, MAX_ADDRESSES, PostalAddress, add_address, remove_address,
    shipping_address, update_address,
};
pub use audit::{AuditAction, AuditEntry, field_changes};
pub use branding::{Branding, ORDER_ID_PLACEHOLDER};
pub use cart::{
    CartItem, CartLine, CartView, LineStatus, MAX_LINES, MAX_QUANTITY, view as cart_view,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use coupon::{Coupon, CouponCode, CouponInput, CouponRejection, parse_instant};
pub use email::Email;
pub use error_code::ErrorCode;
pub use field_errors::FieldErrors;
pub use id::{
    AddressId, AuditId, EventId, OrderId, ProductId, SessionId, TokenId, UserId, WebhookId,
    new_write_id,
};
pub use ledger::{LedgerEntry, LedgerKind, LedgerStatus};
pub use money::Money;
pub use order::{
    CancelReason, Checkout, CheckoutError, CouponOffer, Order, OrderEvent, OrderEventKind,
    OrderLine, Shortage, UnitsByProduct, checkout,
};
pub use order_status::{InvalidTransition, OrderStatus};
pub use paging::{
    ListParams, Listing, Paging, decode_cursor, encode_cursor, number as query_number,
};
pub use password::{Password, StoredHash};
pub use payment::{
    Currency, CurrencyError, Payment, PaymentStatus, ProviderState, RefundRefused,
    from_minor_units, minor_units,
};
pub use product::{
    Product, ProductInput, ProductPatch, ProductSpec, Sku, SkuChanges, Variant, VariantInput,
};
pub use role::Role;
pub use timestamp::Timestamp;
pub use user::User;
pub use validate::{MAX_URL, is_forbidden_in_text};
pub use webhook::{
    AttemptResult, DeliveryRecord, DeliveryState, UrlPolicy, Webhook, WebhookEventType,
    WebhookInput, backoff_seconds, check_url, is_public, payload as webhook_payload, signature,
};
pub use webhook::{EVENT_ID_HEADER, MAX_ATTEMPTS, MAX_WEBHOOKS, SIGNATURE_HEADER, TIMEOUT_SECONDS};
