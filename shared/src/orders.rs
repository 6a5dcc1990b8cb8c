//! Checkout, order tracking and status changes. Handlers of the orders function only parse
//! requests and shape responses around these.
//!
//! A checkout reads the cart (with the idempotency record when a key is given), then the
//! cart's products and the coupon in one batch, prices the order from the catalog, and writes
//! everything in one transaction. When the transaction loses a race (stock taken, cart or
//! coupon changed, the same key used concurrently) it reads again and decides again, so the
//! answer names the real cause: a shortage, a coupon error, or a replay of the other request's
//! order.

use crate::store::Conflict;
use serde::Deserialize;
use serde_json::json;

use crate::{
    auth::AuthUser,
    domain::{
        Checkout, CheckoutError, CouponCode, CouponOffer, CouponRejection, FieldErrors, Order,
        OrderEvent, OrderEventKind, OrderId, OrderStatus, ProductId, Role, Timestamp,
        decode_cursor, encode_cursor,
    },
    http::ApiError,
    notify::EventPublisher,
    store::{IdempotencyRecord, NewOrder, OrderQuery, OrderScope, StatusChange, Store, StoreError},
};

/// How long an `Idempotency-Key` answers with the order it placed.
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;
/// How many times a checkout or status change re-reads and retries after losing a race.
const ATTEMPTS: usize = 4;
/// Orders per listing page when the client gives no `limit`, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// `POST /orders/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub coupon_code: Option<String>,
}

/// `PUT /orders/{order_id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    pub status: String,
}

/// The query of `GET /orders` and `GET /orders/all`.
#[derive(Debug, Default, Deserialize)]
pub struct OrderListParams {
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A page of orders and the cursor of the next one.
#[derive(Debug)]
pub struct OrdersPage {
    pub orders: Vec<Order>,
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
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        if (1..=255).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic()) {
            return Ok(Self(value.to_owned()));
        }
        let mut errors = FieldErrors::new();
        errors.add(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        );
        Err(ApiError::validation(errors))
    }
}

/// Checkout and orders over a store and an event publisher.
pub struct Orders<'a> {
    pub store: &'a dyn Store,
    pub events: &'a dyn EventPublisher,
}

fn order_not_found() -> ApiError {
    ApiError::not_found("order_not_found", "Order not found")
}

fn coupon_not_found() -> ApiError {
    ApiError::bad_request("coupon_not_found", "Coupon not found")
}

fn busy() -> ApiError {
    ApiError::conflict(
        "checkout_busy",
        "The cart, stock or coupon kept changing during checkout; try again",
    )
}

fn checkout_error(error: CheckoutError) -> ApiError {
    match error {
        CheckoutError::EmptyCart => ApiError::bad_request("empty_cart", "Cart is empty"),
        CheckoutError::InsufficientStock(shortages) => {
            let named: Vec<String> = shortages
                .iter()
                .map(|s| {
                    format!(
                        "{} ({} wanted, {} available)",
                        s.sku, s.requested, s.available
                    )
                })
                .collect();
            ApiError::conflict(
                "insufficient_stock",
                format!("Not enough stock for {}", named.join(", ")),
            )
            .with_detail("shortages", json!(shortages))
        }
        CheckoutError::Coupon(rejection) => coupon_error(rejection),
        CheckoutError::TooLarge => ApiError::bad_request(
            "order_too_large",
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

/// The request as compared between retries with one key: canonical JSON.
fn fingerprint(coupon: Option<&str>) -> String {
    json!({ "coupon_code": coupon }).to_string()
}

impl Orders<'_> {
    /// Places an order from the caller's cart.
    pub async fn place(
        &self,
        user: &AuthUser,
        key: Option<IdempotencyKey>,
        request: PlaceOrder,
    ) -> Result<Placed, ApiError> {
        let raw_code = request
            .coupon_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase);
        let request_text = fingerprint(raw_code.as_deref());
        let code = raw_code
            .as_deref()
            .map(CouponCode::parse)
            .transpose()
            .map_err(|_| coupon_not_found())?;
        let key = key.map(|k| k.0);
        for _ in 0..ATTEMPTS {
            let now = Timestamp::now();
            let (cart, previous) = self
                .store
                .checkout_start(user.id, key.as_deref(), now)
                .await?;
            if let Some(previous) = previous {
                return replay(previous, &request_text);
            }
            if cart.lines.is_empty() {
                return Err(checkout_error(CheckoutError::EmptyCart));
            }
            let ids: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
            let reads = self
                .store
                .checkout_reads(user.id, &ids, code.as_ref())
                .await?;
            if code.is_some() && reads.coupon.is_none() {
                return Err(coupon_not_found());
            }
            let offer = reads.coupon.as_ref().map(|coupon| CouponOffer {
                coupon,
                used_by_customer: reads.coupon_uses_by_user,
            });
            let checkout: Checkout = crate::domain::checkout(
                user.id,
                user.role,
                &cart.lines,
                &reads.products,
                offer,
                now,
            )
            .map_err(checkout_error)?;
            let order = &checkout.order;
            let event = OrderEvent::new(order, OrderEventKind::OrderPlaced, now);
            let record = key.as_ref().map(|key| IdempotencyRecord {
                user: user.id,
                key: key.clone(),
                request: request_text.clone(),
                order: order.clone(),
                expires_at: now.plus_seconds(IDEMPOTENCY_TTL_SECONDS),
            });
            let placed = self
                .store
                .place_order(&NewOrder {
                    checkout: &checkout,
                    cart_version: cart.version,
                    coupon: reads.coupon.as_ref(),
                    idempotency: record.as_ref(),
                    event: &event,
                    now,
                })
                .await;
            match placed {
                Ok(()) => {
                    self.publish(&event).await;
                    return Ok(Placed::New(checkout.order));
                }
                // Lost a race: read again; the next pass answers with the real cause.
                Err(StoreError::Conflict(
                    Conflict::IdempotencyKeyUsed
                    | Conflict::CartChanged
                    | Conflict::InsufficientStock
                    | Conflict::CouponUnavailable
                    | Conflict::CouponLimitReached,
                )) => continue,
                Err(StoreError::Conflict(Conflict::TransactionConflict)) => back_off().await,
                Err(other) => return Err(other.into()),
            }
        }
        Err(busy())
    }

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
    pub async fn get(&self, user: &AuthUser, id: &str) -> Result<Order, ApiError> {
        let id: OrderId = id.parse().map_err(|_| order_not_found())?;
        let order = self
            .store
            .find_order(id)
            .await?
            .ok_or_else(order_not_found)?;
        if order.user_id != user.id && user.role != Role::Admin {
            return Err(order_not_found());
        }
        Ok(order)
    }

    /// The caller's orders (`mine`) or everyone's, optionally of one status (admins).
    pub async fn list(
        &self,
        scope: ListScope<'_>,
        params: OrderListParams,
    ) -> Result<OrdersPage, ApiError> {
        let mut errors = FieldErrors::new();
        let limit = match params.limit.as_deref().map(str::trim) {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n @ 1..=MAX_LIMIT) => n,
                _ => {
                    errors.add(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    );
                    DEFAULT_LIMIT
                }
            },
        };
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
            return Err(ApiError::validation(errors));
        }
        let page = self
            .store
            .list_orders(&OrderQuery {
                scope,
                after,
                limit,
            })
            .await?;
        Ok(OrdersPage {
            orders: page.orders,
            next_cursor: page.next.as_deref().map(encode_cursor),
        })
    }

    /// Moves an order along the status machine (admins). A cancellation puts its units back
    /// in stock in the same transaction; lines whose product or SKU is gone are not restocked.
    pub async fn set_status(&self, id: &str, request: ChangeStatus) -> Result<Order, ApiError> {
        let to: OrderStatus = request.status.parse().map_err(|problem: &str| {
            let mut errors = FieldErrors::new();
            errors.add("status", problem);
            ApiError::validation(errors)
        })?;
        let id: OrderId = id.parse().map_err(|_| order_not_found())?;
        for _ in 0..ATTEMPTS {
            let current = self
                .store
                .find_order(id)
                .await?
                .ok_or_else(order_not_found)?;
            let status = current.status.transition(to).map_err(|invalid| {
                ApiError::conflict(
                    "invalid_status_transition",
                    format!("An order cannot go from {} to {}", invalid.from, invalid.to),
                )
            })?;
            let now = Timestamp::now();
            let next = Order {
                status,
                updated_at: now,
                ..current.clone()
            };
            let mut restock = current.units_by_product();
            if status.restocks() {
                let ids: Vec<ProductId> = restock.keys().copied().collect();
                let products = self.store.find_products(&ids).await?;
                restock.retain(|id, units| {
                    let Some(product) = products.get(id) else {
                        return false;
                    };
                    units.retain(|(sku, _)| product.variants.iter().any(|v| v.sku == *sku));
                    !units.is_empty()
                });
            } else {
                restock.clear();
            }
            let event = OrderEvent::new(
                &next,
                OrderEventKind::StatusChanged {
                    from: current.status,
                    to: status,
                },
                now,
            );
            let changed = self
                .store
                .change_order_status(&StatusChange {
                    current: &current,
                    next: &next,
                    restock: &restock,
                    event: &event,
                })
                .await;
            match changed {
                Ok(()) => {
                    self.publish(&event).await;
                    return Ok(next);
                }
                Err(StoreError::NotFound) => return Err(order_not_found()),
                Err(StoreError::Conflict(Conflict::OrderChanged | Conflict::ProductChanged)) => {
                    continue;
                }
                Err(StoreError::Conflict(Conflict::TransactionConflict)) => back_off().await,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ApiError::conflict(
            "order_busy",
            "The order kept changing; try again",
        ))
    }
}

/// A short random pause before retrying a transaction DynamoDB cancelled because another one
/// held the same items (`TransactionConflict`), so racing retries spread out.
async fn back_off() {
    let millis = rand::random_range(5..40);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// Whose orders to list.
#[derive(Debug, Clone, Copy)]
pub enum ListScope<'a> {
    Mine(&'a AuthUser),
    All,
}

/// The answer to a key already used: the same order if the body matches, 422 otherwise.
fn replay(previous: IdempotencyRecord, request: &str) -> Result<Placed, ApiError> {
    if previous.request == request {
        Ok(Placed::Replayed(previous.order))
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("order-2026-11-24#1").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\t", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_reused_key_replays_only_the_same_request() {
        let record = |request: &str| IdempotencyRecord {
            user: crate::domain::UserId::new(),
            key: "k".into(),
            request: request.into(),
            order: serde_json::from_value(json!({
                "id": OrderId::new(), "user_id": crate::domain::UserId::new(), "items": [],
                "total_amount": "1.00", "discount_applied": "0.00", "final_amount": "1.00",
                "coupon_code": null, "status": "Pending",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            }))
            .unwrap(),
            expires_at: Timestamp::now(),
        };
        let same = fingerprint(Some("SAVE10"));
        assert!(matches!(
            replay(record(&same), &same),
            Ok(Placed::Replayed(_))
        ));
        let other = replay(record(&same), &fingerprint(None)).unwrap_err();
        assert_eq!(other.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
}
