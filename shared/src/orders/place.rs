//! Checkout: the cart (with the idempotency record), then its products and the coupon in one
//! batch, priced by the domain, written in one transaction; a lost race is read and decided
//! again.

use rust_decimal::prelude::ToPrimitive;
use serde_json::json;

use super::{
    ATTEMPTS, IDEMPOTENCY_TTL_SECONDS, IdempotencyKey, OrderError, Orders, PlaceOrder, Placed,
};
use crate::{
    auth::AuthUser,
    domain::{
        AddressId, Checkout, CheckoutError, CouponCode, CouponOffer, OrderEvent, OrderEventKind,
        Payment, ProductId, Timestamp, shipping_address,
    },
    metrics::{Metric, Unit},
    retry::{Attempt, until_answered, with_retries},
    store::{Conflict, IdempotencyRecord, NewOrder, StoreError},
};

/// The request as compared between retries with one key: canonical JSON.
pub(super) fn fingerprint(coupon: Option<&str>, address: Option<&str>) -> String {
    match address {
        // Without an address the text is what it was before addresses existed, so keys
        // recorded then still match.
        None => json!({ "coupon_code": coupon }).to_string(),
        Some(address) => {
            json!({ "coupon_code": coupon, "shipping_address_id": address }).to_string()
        }
    }
}

/// The answer to a key already used: the same order if the body matches, an error otherwise.
pub(super) fn replay(previous: IdempotencyRecord, request: &str) -> Result<Placed, OrderError> {
    if previous.request == request {
        Ok(Placed::Replayed(previous.order))
    } else {
        Err(OrderError::KeyReused)
    }
}

/// One checkout request, parsed once for every attempt.
struct Request<'a> {
    user: &'a AuthUser,
    key: Option<&'a str>,
    coupon: Option<&'a CouponCode>,
    address: Option<AddressId>,
    /// The canonical request, kept with the idempotency key.
    text: &'a str,
}

impl Orders<'_> {
    /// Places an order from the caller's cart, and publishes what happened as metrics
    /// (operation `checkout`).
    pub async fn place(
        &self,
        user: &AuthUser,
        key: Option<IdempotencyKey>,
        request: PlaceOrder,
    ) -> Result<Placed, OrderError> {
        let placed = self.place_order(user, key, request).await;
        self.metrics.publish("checkout", &checkout_metrics(&placed));
        placed
    }

    async fn place_order(
        &self,
        user: &AuthUser,
        key: Option<IdempotencyKey>,
        request: PlaceOrder,
    ) -> Result<Placed, OrderError> {
        let raw_code = request
            .coupon_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase);
        let raw_address =
            request.shipping_address_id.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let text = fingerprint(raw_code.as_deref(), raw_address);
        let address = raw_address
            .map(str::parse::<AddressId>)
            .transpose()
            .map_err(|_| OrderError::AddressNotFound)?;
        let coupon = raw_code
            .as_deref()
            .map(CouponCode::parse)
            .transpose()
            .map_err(|_| OrderError::CouponNotFound)?;
        let request = Request {
            user,
            key: key.as_ref().map(|k| k.0.as_str()),
            coupon: coupon.as_ref(),
            address,
            text: &text,
        };
        let request = &request;
        with_retries(ATTEMPTS, || self.try_place(request)).await?.ok_or(OrderError::CheckoutBusy)
    }

    /// One read, decide and write; `Retry` when a concurrent change made the write fail.
    async fn try_place(&self, request: &Request<'_>) -> Result<Attempt<Placed>, OrderError> {
        let user = request.user;
        let now = Timestamp::now();
        let (cart, previous) = self.store.checkout_start(user.id, request.key, now).await?;
        if let Some(previous) = previous {
            return replay(previous, request.text).map(Attempt::Done);
        }
        if cart.lines.is_empty() {
            return Err(CheckoutError::EmptyCart.into());
        }
        let ids: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
        let reads = self.store.checkout_reads(user.id, &ids, request.coupon).await?;
        if request.coupon.is_some() && reads.coupon.is_none() {
            return Err(OrderError::CouponNotFound);
        }
        let offer = reads
            .coupon
            .as_ref()
            .map(|coupon| CouponOffer { coupon, used_by_customer: reads.coupon_uses_by_user });
        let shipping = shipping_address(&reads.addresses, request.address)
            .map_err(|_| OrderError::AddressNotFound)?;
        let mut checkout: Checkout =
            crate::domain::checkout(user.id, user.role, &cart.lines, &reads.products, offer, now)?;
        checkout.order.shipping_address = shipping;
        if let Some(settings) = self.payments {
            let hold_until = now.plus_seconds(settings.hold_seconds);
            let payment = Payment::new(checkout.order.final_amount, settings.currency, hold_until);
            checkout.order.payment = Some(payment);
        }
        let event = OrderEvent::new(&checkout.order, OrderEventKind::OrderPlaced, now);
        let record = request.key.map(|key| IdempotencyRecord {
            user: user.id,
            key: key.to_owned(),
            request: request.text.to_owned(),
            order: checkout.order.clone(),
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
                max_unpaid: self.payments.map(|settings| settings.max_unpaid),
            })
            .await;
        self.settle(placed, checkout.order, &event).await
    }

    /// The attempt's outcome from its write's.
    ///
    /// Retry safety: the order id is new to this attempt and the transaction is conditional
    /// on the cart version, the stock and the order's absence, so it applies at most once.
    /// When its answer is lost (the SDK's retry then fails on the conditions the write itself
    /// changed, or the database does not answer), the order is read back: there, it landed.
    async fn settle(
        &self,
        placed: Result<(), StoreError>,
        order: crate::domain::Order,
        event: &OrderEvent,
    ) -> Result<Attempt<Placed>, OrderError> {
        let placed = match placed {
            Err(StoreError::Conflict(_) | StoreError::Unavailable(_)) => {
                match until_answered(|| self.store.find_order(order.id)).await? {
                    Some(_) => Ok(()),
                    None => placed,
                }
            }
            other => other,
        };
        match placed {
            Ok(()) => {
                self.publish(event).await;
                self.announce_hold(&order).await;
                Ok(Attempt::Done(Placed::New(order)))
            }
            // Not applied, the answer is unknown: try again (a new decision, a new order id).
            Err(StoreError::Unavailable(_)) => Ok(Attempt::Backoff),
            // Lost a race: read again; the next pass answers with the real cause.
            Err(StoreError::Conflict(
                Conflict::IdempotencyKeyUsed
                | Conflict::CartChanged
                | Conflict::InsufficientStock
                | Conflict::CouponUnavailable
                | Conflict::CouponLimitReached,
            )) => Ok(Attempt::Retry),
            Err(StoreError::Conflict(Conflict::TooManyUnpaid)) => Err(OrderError::TooManyUnpaid),
            Err(StoreError::Conflict(Conflict::TransactionConflict)) => Ok(Attempt::Backoff),
            Err(other) => Err(other.into()),
        }
    }
}

impl Orders<'_> {
    /// Announces the new order's unpaid hold; if that fails, the sweeper still ends it.
    async fn announce_hold(&self, order: &crate::domain::Order) {
        let Some(hold_until) = order.payment.as_ref().and_then(|p| p.hold_until) else {
            return;
        };
        let hold = crate::payments::holds::HoldMessage { order_id: order.id, hold_until };
        if let Err(error) = self.holds.schedule(hold).await {
            tracing::warn!(order = %order.id, error = %error, "hold not announced; the sweeper ends it");
        }
    }
}

/// A checkout's metrics: a new order and its value; a refusal by kind (stock, coupon,
/// conflict, busy); nothing for a replay, an invalid request or a storage failure (those show
/// as errors elsewhere).
fn checkout_metrics(outcome: &Result<Placed, OrderError>) -> Vec<Metric> {
    let refused = |name| vec![Metric::count(name)];
    match outcome {
        Ok(Placed::New(order)) => vec![
            Metric::count("OrdersPlaced"),
            Metric {
                name: "OrderValue",
                value: order.final_amount.amount().to_f64().unwrap_or_default(),
                unit: Unit::None,
            },
        ],
        Ok(Placed::Replayed(_)) => vec![],
        Err(OrderError::Checkout(CheckoutError::InsufficientStock(_))) => {
            refused("CheckoutRefusedStock")
        }
        Err(OrderError::Checkout(CheckoutError::Coupon(_)) | OrderError::CouponNotFound) => {
            refused("CheckoutRefusedCoupon")
        }
        Err(OrderError::KeyReused) => refused("CheckoutRefusedConflict"),
        Err(OrderError::CheckoutBusy) => refused("CheckoutRefusedBusy"),
        Err(_) => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderId, UserId};

    #[test]
    fn each_checkout_outcome_has_its_metric() {
        let names = |outcome: Result<Placed, OrderError>| -> Vec<&'static str> {
            checkout_metrics(&outcome).iter().map(|m| m.name).collect()
        };
        let order: crate::domain::Order = serde_json::from_value(json!({
            "id": OrderId::new(), "user_id": UserId::new(), "items": [],
            "total_amount": "20.00", "discount_applied": "2.00", "final_amount": "18.00",
            "coupon_code": null, "status": "Pending",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        let placed = checkout_metrics(&Ok(Placed::New(order.clone())));
        assert_eq!(placed[1].value, 18.0, "the value is the final amount");
        assert_eq!(names(Ok(Placed::New(order.clone()))), ["OrdersPlaced", "OrderValue"]);
        assert!(names(Ok(Placed::Replayed(order))).is_empty(), "a replay places nothing");
        let stock = CheckoutError::InsufficientStock(vec![]);
        assert_eq!(names(Err(OrderError::Checkout(stock))), ["CheckoutRefusedStock"]);
        let coupon = CheckoutError::Coupon(crate::domain::CouponRejection::Expired);
        assert_eq!(names(Err(OrderError::Checkout(coupon))), ["CheckoutRefusedCoupon"]);
        assert_eq!(names(Err(OrderError::CouponNotFound)), ["CheckoutRefusedCoupon"]);
        assert_eq!(names(Err(OrderError::KeyReused)), ["CheckoutRefusedConflict"]);
        assert_eq!(names(Err(OrderError::CheckoutBusy)), ["CheckoutRefusedBusy"]);
        assert!(names(Err(OrderError::Checkout(CheckoutError::EmptyCart))).is_empty());
    }

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
            user: UserId::new(),
            key: "k".into(),
            request: request.into(),
            order: serde_json::from_value(json!({
                "id": OrderId::new(), "user_id": UserId::new(), "items": [],
                "total_amount": "1.00", "discount_applied": "0.00", "final_amount": "1.00",
                "coupon_code": null, "status": "Pending",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            }))
            .unwrap(),
            expires_at: Timestamp::now(),
        };
        let same = fingerprint(Some("SAVE10"), None);
        assert!(matches!(replay(record(&same), &same), Ok(Placed::Replayed(_))));
        let other = replay(record(&same), &fingerprint(None, None));
        assert!(matches!(other, Err(OrderError::KeyReused)));
    }
}
