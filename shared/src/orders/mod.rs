//! Checkout, order tracking and status changes. Handlers of the orders function only parse
//! requests and shape responses around these.
//!
//! A checkout reads the cart (with the idempotency record when a key is given), then the
//! cart's products and the coupon in one batch, prices the order from the catalog, and writes
//! everything in one transaction. When the transaction loses a race (stock taken, cart or
//! coupon changed, the same key used concurrently) it reads again and decides again, so the
//! answer names the real cause: a shortage, a coupon error, or a replay of the other request's
//! order.
//!
//! - [`place`](Orders::place): checkout (`place.rs`),
//! - [`set_status`](Orders::set_status): the admin status machine (`status.rs`),
//! - reads and listings (here).

mod capture;
mod ending;
mod error;
mod payment;
mod place;
mod reconcile;
mod refunds;
mod status;

use serde::Deserialize;

pub use self::error::OrderError;
pub use self::payment::{EventOutcome, PayIntent};
pub use self::reconcile::Reconciled;
pub use self::refunds::RefundRequest;
use crate::{
    auth::AuthUser,
    domain::{
        FieldErrors, Order, OrderEvent, OrderId, OrderStatus, Role, decode_cursor, encode_cursor,
        query_number,
    },
    metrics::MetricsSink,
    notify::EventPublisher,
    store::{OrderQuery, OrderScope, OrderStorage},
};

/// How long an `Idempotency-Key` answers with the order it placed.
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;
/// How many times a checkout or status change re-reads and retries after losing a race.
const ATTEMPTS: usize = 4;
/// Orders per listing page when the client gives no `limit`, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 20;
/// The most orders a listing page may ask for.
pub const MAX_LIMIT: usize = 100;

/// `POST /orders/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// The coupon to apply, if any.
    pub coupon_code: Option<String>,
    /// The address to ship to (one of the caller's); the default address when absent.
    pub shipping_address_id: Option<String>,
    /// Ignored: the caller is always the token's user (the original API's clients send it).
    #[serde(default, rename = "user_id")]
    pub _user_id: Option<serde_json::Value>,
}

/// `PUT /orders/{order_id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    /// The new status (`Pending`, `Shipped`, `Delivered`, `Cancelled`).
    pub status: String,
}

/// The query of `GET /orders` and `GET /orders/all`.
#[derive(Debug, Default, Deserialize)]
pub struct OrderListParams {
    /// Only orders at this status (all orders listing only).
    pub status: Option<String>,
    /// Where the previous page ended (opaque).
    pub cursor: Option<String>,
    /// Items per page.
    pub limit: Option<String>,
}

/// A page of orders and the cursor of the next one.
#[derive(Debug)]
pub struct OrdersPage {
    /// The orders of the page.
    pub orders: Vec<Order>,
    /// The cursor of the next page; none on the last.
    pub next_cursor: Option<String>,
}

/// What a checkout did.
#[derive(Debug)]
pub enum Placed {
    /// A new order.
    New(Order),
    /// The order an earlier request with the same key and body placed; nothing new.
    Replayed(Order),
}

/// A validated `Idempotency-Key` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1–255 visible ASCII characters.
    pub fn parse(value: &str) -> Result<Self, FieldErrors> {
        if (1..=255).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic()) {
            return Ok(Self(value.to_owned()));
        }
        let mut errors = FieldErrors::new();
        errors.add("Idempotency-Key", "must be 1 to 255 visible ASCII characters");
        Err(errors)
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checkout and orders over a store and an event publisher.
pub struct Orders<'a> {
    /// The storage.
    pub store: &'a dyn OrderStorage,
    /// Where committed order events are published.
    pub events: &'a dyn EventPublisher,
    /// Where business metrics go.
    pub metrics: &'a dyn MetricsSink,
    /// How the shop takes payments; none when it does not.
    pub payments: Option<&'a crate::payments::PaymentSettings>,
    /// Where unpaid holds are announced.
    pub holds: &'a dyn crate::payments::holds::HoldTimer,
}

impl Orders<'_> {
    /// Sends a committed event and clears it from the outbox; on failure it stays there for
    /// the re-publisher, and the request still succeeds (its change is committed).
    async fn publish(&self, event: &OrderEvent) {
        match self.events.publish(event).await {
            Ok(()) => {
                if let Err(error) = self.store.delete_outbox_event(event.id).await {
                    tracing::warn!(event = %event.id, error = %error, "published event left in the outbox");
                }
            }
            Err(error) => {
                tracing::warn!(event = %event.id, error = %error, "order event not published; it stays in the outbox");
            }
        }
    }

    /// The order, for its owner or an admin; anyone else gets the same 404 as for a missing one.
    pub async fn get(&self, user: &AuthUser, id: &str) -> Result<Order, OrderError> {
        let id: OrderId = id.parse().map_err(|_| OrderError::NotFound)?;
        let order = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
        if order.user_id != user.id && user.role != Role::Admin {
            return Err(OrderError::NotFound);
        }
        Ok(order)
    }

    /// The order's payment and its ledger, for its owner or an admin.
    pub async fn payments_of(
        &self,
        user: &AuthUser,
        id: &str,
    ) -> Result<(Order, Vec<crate::domain::LedgerEntry>), OrderError> {
        self.payments()?;
        let order = self.get(user, id).await?;
        let ledger = self.store.ledger(order.id).await?;
        Ok((order, ledger))
    }

    /// The caller's orders (`mine`) or everyone's, optionally of one status (admins).
    pub async fn list(
        &self,
        scope: ListScope<'_>,
        params: OrderListParams,
    ) -> Result<OrdersPage, OrderError> {
        let mut errors = FieldErrors::new();
        let limit = query_number(&mut errors, "limit", params.limit, DEFAULT_LIMIT, MAX_LIMIT);
        let after = params
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .and_then(|c| errors.check("cursor", decode_cursor(c)));
        let scope = match scope {
            ListScope::Mine(user) => OrderScope::Customer(user.id),
            ListScope::All => OrderScope::All(
                params
                    .status
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .and_then(|s| errors.check("status", s.parse::<OrderStatus>())),
            ),
        };
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let page = self.store.list_orders(&OrderQuery { scope, after, limit }).await?;
        Ok(OrdersPage { orders: page.orders, next_cursor: page.next.as_deref().map(encode_cursor) })
    }
}

/// Whose orders to list.
#[derive(Debug, Clone, Copy)]
pub enum ListScope<'a> {
    /// The caller's orders.
    Mine(&'a AuthUser),
    /// Everyone's (admins).
    All,
}
