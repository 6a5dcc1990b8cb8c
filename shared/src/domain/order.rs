//! Orders: what checkout computes from a cart, the catalog and a coupon, and the events an
//! order's life produces. Pure: the store and the service around it do the I/O.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    CartLine, Coupon, CouponCode, CouponRejection, EventId, Money, OrderId, OrderStatus,
    PostalAddress, Product, ProductId, Role, Sku, Timestamp, UserId,
};

/// One line of an order, at the catalog's price when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// The variant's SKU.
    pub sku: Sku,
    /// The name shown to customers.
    pub name: String,
    /// Units.
    pub quantity: u32,
    /// Unit price at checkout.
    pub price: Money,
}

/// An order as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The id.
    pub id: OrderId,
    /// The customer.
    pub user_id: UserId,
    /// The lines.
    pub items: Vec<OrderLine>,
    /// Sum of the lines.
    pub total_amount: Money,
    /// The coupon's discount.
    pub discount_applied: Money,
    /// What the customer pays.
    pub final_amount: Money,
    /// The coupon applied, if any.
    pub coupon_code: Option<CouponCode>,
    /// The status.
    pub status: OrderStatus,
    /// Where it ships: a copy of the customer's address at checkout (later edits of the
    /// address book never change it); none when the customer had no address.
    #[serde(default)]
    pub shipping_address: Option<PostalAddress>,
    /// When it was created (UTC).
    pub created_at: Timestamp,
    /// When it last changed (UTC).
    pub updated_at: Timestamp,
    /// The payment, when the shop takes payments (absent otherwise, as in the original API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<super::Payment>,
    /// Why it was cancelled, when not by an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
    /// How many times it changed: every change is conditional on the revision read, so two
    /// changes made from the same read never both apply. Kept beside the document, not in it.
    #[serde(skip)]
    pub revision: u64,
}

/// Why an order was cancelled without an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// It was not paid within the hold.
    PaymentExpired,
    /// Its owner cancelled it before it shipped.
    CustomerCancelled,
}

/// A variant the cart wants more of than the catalog has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortage {
    /// The product.
    pub product_id: ProductId,
    /// The variant's SKU.
    pub sku: Sku,
    /// Units the cart holds.
    pub requested: u32,
    /// 0 when the product or the variant is gone.
    pub available: u32,
}

/// Units per product and SKU: what an order takes from stock, and a cancellation puts back.
pub type UnitsByProduct = BTreeMap<ProductId, Vec<(Sku, u32)>>;

/// Why a cart cannot become an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    /// The cart is empty.
    #[error("the cart is empty")]
    EmptyCart,
    /// Not enough stock.
    #[error("not enough stock")]
    InsufficientStock(Vec<Shortage>),
    /// The coupon does not apply.
    #[error(transparent)]
    Coupon(#[from] CouponRejection),
    /// The order total is too large.
    #[error("the order total is too large")]
    TooLarge,
}

/// A coupon as checkout sees it: the coupon and how often this customer has used it.
#[derive(Debug, Clone, Copy)]
pub struct CouponOffer<'a> {
    /// The coupon.
    pub coupon: &'a Coupon,
    /// How often this customer has used it.
    pub used_by_customer: u32,
}

/// What a cart becomes: the order, and how much stock each product gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The order to store.
    pub order: Order,
    /// Per product, the units taken from each SKU (one stock update per product).
    pub stock: UnitsByProduct,
}

/// Prices `lines` from `products` (the catalog now), checks stock and the coupon, and builds
/// the order placed by `user` (of `role`) at `now`. Every line must still be in the catalog
/// with enough stock; all shortages are reported together.
pub fn checkout(
    user: UserId,
    role: Role,
    lines: &[CartLine],
    products: &HashMap<ProductId, Product>,
    coupon: Option<CouponOffer<'_>>,
    now: Timestamp,
) -> Result<Checkout, CheckoutError> {
    if lines.is_empty() {
        return Err(CheckoutError::EmptyCart);
    }
    let priced = price_lines(lines, products)?;
    let total = Money::new(priced.total).map_err(|_| CheckoutError::TooLarge)?;
    let discount = match coupon {
        None => Money::ZERO,
        Some(offer) => offer_discount(offer, role, total, now)?,
    };
    // The discount never exceeds the total (see `Coupon::discount_on`).
    let final_amount =
        Money::new(total.amount() - discount.amount()).map_err(|_| CheckoutError::TooLarge)?;
    Ok(Checkout {
        order: Order {
            id: OrderId::new(),
            user_id: user,
            items: priced.items,
            total_amount: total,
            discount_applied: discount,
            final_amount,
            coupon_code: coupon.map(|offer| offer.coupon.code.clone()),
            status: OrderStatus::Pending,
            shipping_address: None,
            created_at: now,
            updated_at: now,
            payment: None,
            cancel_reason: None,
            revision: 0,
        },
        stock: priced.stock,
    })
}

/// The cart's lines at catalog prices, and the units they take from stock.
struct PricedLines {
    items: Vec<OrderLine>,
    stock: UnitsByProduct,
    total: Decimal,
}

/// Prices every line from the catalog; every line short of stock (or gone) is reported.
fn price_lines(
    lines: &[CartLine],
    products: &HashMap<ProductId, Product>,
) -> Result<PricedLines, CheckoutError> {
    let mut priced = PricedLines {
        items: Vec::with_capacity(lines.len()),
        stock: UnitsByProduct::new(),
        total: Decimal::ZERO,
    };
    let mut shortages = Vec::new();
    for line in lines {
        let product = products.get(&line.product_id);
        let variant = product.and_then(|p| p.variants.iter().find(|v| v.sku == line.sku));
        let available = variant.map_or(0, |v| v.stock);
        let (Some(product), Some(variant)) = (product, variant) else {
            shortages.push(Shortage::of(line, available));
            continue;
        };
        if available < line.quantity {
            shortages.push(Shortage::of(line, available));
            continue;
        }
        priced.total += variant.price.amount() * Decimal::from(line.quantity);
        priced.stock.entry(product.id).or_default().push((variant.sku.clone(), line.quantity));
        priced.items.push(OrderLine {
            product_id: product.id,
            sku: variant.sku.clone(),
            name: product.name.clone(),
            quantity: line.quantity,
            price: variant.price,
        });
    }
    if shortages.is_empty() { Ok(priced) } else { Err(CheckoutError::InsufficientStock(shortages)) }
}

/// The coupon's discount on `total`, if this customer may use it now.
fn offer_discount(
    offer: CouponOffer<'_>,
    role: Role,
    total: Money,
    now: Timestamp,
) -> Result<Money, CheckoutError> {
    offer.coupon.check(role, now, Some(total))?;
    let used_up = offer.coupon.max_uses_per_user.is_some_and(|max| offer.used_by_customer >= max);
    if used_up {
        return Err(CouponRejection::UsedUpByYou.into());
    }
    Ok(offer.coupon.discount_on(total))
}

impl Shortage {
    fn of(line: &CartLine, available: u32) -> Self {
        Shortage {
            product_id: line.product_id,
            sku: line.sku.clone(),
            requested: line.quantity,
            available,
        }
    }
}

impl Order {
    /// Per product, the units of each SKU this order holds (what a cancellation puts back).
    pub fn units_by_product(&self) -> UnitsByProduct {
        let mut units = UnitsByProduct::new();
        for line in &self.items {
            units.entry(line.product_id).or_default().push((line.sku.clone(), line.quantity));
        }
        units
    }

    /// The listing position of the order: creation time, then id (both sort as text).
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.created_at, self.id)
    }
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEventKind {
    /// The order was placed (status Pending).
    OrderPlaced,
    /// The order moved from one status to another.
    /// An admin moved the order from one status to another.
    StatusChanged {
        /// The status before.
        from: OrderStatus,
        /// The status after.
        to: OrderStatus,
    },
    /// The order's payment was received (authorised or captured).
    PaymentReceived {
        /// Cents received.
        amount: i64,
    },
    /// Money was given back.
    Refunded {
        /// Cents refunded by this refund.
        amount: i64,
    },
    /// The order was cancelled because it was not paid in time; its stock is back.
    Expired,
}

/// One event of an order's life: written with the change it reports (the outbox), then
/// published to the order-events queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// The event's id (sortable).
    pub id: EventId,
    /// The order.
    pub order_id: OrderId,
    /// The customer.
    pub user_id: UserId,
    /// What happened.
    #[serde(flatten)]
    pub kind: OrderEventKind,
    /// When (UTC).
    pub at: Timestamp,
}

impl OrderEvent {
    /// A new event about `order`.
    pub fn new(order: &Order, kind: OrderEventKind, at: Timestamp) -> Self {
        Self { id: EventId::new(), order_id: order.id, user_id: order.user_id, kind, at }
    }

    /// A short name of the event, unique per order (placed, or the status reached), used to
    /// send at most one e-mail per event.
    pub fn name(&self) -> String {
        match self.kind {
            OrderEventKind::OrderPlaced => "placed".to_owned(),
            OrderEventKind::StatusChanged { to, .. } => to.as_str().to_ascii_lowercase(),
            OrderEventKind::PaymentReceived { .. } => "paid".to_owned(),
            // An order may be refunded several times: one e-mail per refund.
            OrderEventKind::Refunded { .. } => format!("refunded-{}", self.id),
            OrderEventKind::Expired => "expired".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{CouponInput, ProductInput, ProductSpec};

    fn product(name: &str, skus: &[(&str, u32, &str)]) -> Product {
        let variants: Vec<_> = skus
            .iter()
            .map(|(sku, stock, price)| json!({ "sku": sku, "stock": stock, "price": price }))
            .collect();
        let input: ProductInput =
            serde_json::from_value(json!({ "name": name, "category": "c", "variants": variants }))
                .unwrap();
        Product::create(ProductSpec::parse(input).unwrap(), Timestamp::now())
    }

    fn line(product: &Product, sku: &str, quantity: u32) -> CartLine {
        CartLine {
            product_id: product.id,
            sku: Sku::parse(sku).unwrap(),
            quantity,
            price_when_added: "0.01".parse().unwrap(),
        }
    }

    fn coupon(value: serde_json::Value) -> Coupon {
        let input: CouponInput = serde_json::from_value(value).unwrap();
        Coupon::parse_new(input).unwrap()
    }

    fn catalog(products: &[&Product]) -> HashMap<ProductId, Product> {
        products.iter().map(|p| (p.id, (*p).clone())).collect()
    }

    #[test]
    fn prices_come_from_the_catalog_and_the_discount_rounds_half_up() {
        let mug = product("Mug", &[("M-1", 5, "19.99"), ("M-2", 5, "0.01")]);
        let lamp = product("Lamp", &[("L-1", 1, "10.00")]);
        let save = coupon(
            json!({ "code": "SAVE15", "discount_percent": 15, "expiry": "2999-01-01T00:00:00Z" }),
        );
        let lines = [line(&mug, "M-1", 1), line(&mug, "M-2", 1), line(&lamp, "L-1", 1)];
        let offer = CouponOffer { coupon: &save, used_by_customer: 0 };
        let done = checkout(
            UserId::new(),
            Role::Customer,
            &lines,
            &catalog(&[&mug, &lamp]),
            Some(offer),
            Timestamp::now(),
        )
        .unwrap();
        let order = done.order;
        // 19.99 + 0.01 + 10.00 = 30.00; 15 % = 4.50.
        assert_eq!(order.total_amount.to_string(), "30.00");
        assert_eq!(order.discount_applied.to_string(), "4.50");
        assert_eq!(order.final_amount.to_string(), "25.50");
        assert_eq!(order.items[0].price.to_string(), "19.99", "never the cart's price");
        assert_eq!(order.status, OrderStatus::Pending);
        assert_eq!(order.coupon_code.as_ref().map(CouponCode::as_str), Some("SAVE15"));
        // One stock update per product, every SKU in it.
        assert_eq!(done.stock.len(), 2);
        assert_eq!(done.stock[&mug.id].len(), 2);

        let mut odd = save.clone();
        odd.discount_percent = 15;
        let one = product("Pin", &[("P-1", 9, "0.10")]);
        let cheap = checkout(
            UserId::new(),
            Role::Customer,
            &[line(&one, "P-1", 1)],
            &catalog(&[&one]),
            Some(CouponOffer { coupon: &odd, used_by_customer: 0 }),
            Timestamp::now(),
        )
        .unwrap();
        // 15 % of 0.10 = 0.015 → 0.02.
        assert_eq!(
            (cheap.order.discount_applied.to_string(), cheap.order.final_amount.to_string()),
            ("0.02".into(), "0.08".into())
        );
    }

    #[test]
    fn every_shortage_is_named_together() {
        let mug = product("Mug", &[("M-1", 2, "1.00"), ("M-2", 0, "1.00")]);
        let gone = product("Gone", &[("G-1", 9, "1.00")]);
        let lines = [
            line(&mug, "M-1", 2),
            line(&mug, "M-2", 1),
            line(&gone, "G-1", 1),
            line(&mug, "M-9", 1),
        ];
        let error = checkout(
            UserId::new(),
            Role::Customer,
            &lines,
            &catalog(&[&mug]),
            None,
            Timestamp::now(),
        )
        .unwrap_err();
        let CheckoutError::InsufficientStock(shortages) = error else { panic!("{error:?}") };
        let named: Vec<_> = shortages.iter().map(|s| (s.sku.as_str(), s.available)).collect();
        assert_eq!(named, [("M-2", 0), ("G-1", 0), ("M-9", 0)]);
        assert_eq!(
            checkout(UserId::new(), Role::Customer, &[], &catalog(&[]), None, Timestamp::now()),
            Err(CheckoutError::EmptyCart)
        );
    }

    #[test]
    fn coupon_rules_apply_including_the_per_customer_limit() {
        let mug = product("Mug", &[("M-1", 5, "20.00")]);
        let lines = [line(&mug, "M-1", 1)];
        let products = catalog(&[&mug]);
        let run = |coupon: &Coupon, role: Role, used: u32| {
            checkout(
                UserId::new(),
                role,
                &lines,
                &products,
                Some(CouponOffer { coupon, used_by_customer: used }),
                Timestamp::now(),
            )
            .map(|c| c.order.final_amount.to_string())
        };
        let once = coupon(
            json!({ "code": "ONCE", "discount_percent": 50, "expiry": "2999-01-01T00:00:00Z", "max_uses_per_user": 1, "min_order_amount": "20.00" }),
        );
        assert_eq!(run(&once, Role::Customer, 0), Ok("10.00".into()));
        assert_eq!(
            run(&once, Role::Customer, 1),
            Err(CheckoutError::Coupon(CouponRejection::UsedUpByYou))
        );
        assert_eq!(
            run(&once, Role::PrimeCustomer, 0),
            Err(CheckoutError::Coupon(CouponRejection::NotEligible))
        );
        let high = coupon(
            json!({ "code": "HIGH", "discount_percent": 50, "expiry": "2999-01-01T00:00:00Z", "min_order_amount": "20.01" }),
        );
        assert_eq!(
            run(&high, Role::Customer, 0),
            Err(CheckoutError::Coupon(CouponRejection::BelowMinimum))
        );
        let old = coupon(
            json!({ "code": "OLD", "discount_percent": 50, "expiry": "2001-01-01T00:00:00Z" }),
        );
        assert_eq!(
            run(&old, Role::Customer, 0),
            Err(CheckoutError::Coupon(CouponRejection::Expired))
        );
    }

    #[test]
    fn orders_and_events_round_trip_through_json() {
        let mug = product("Mug <&> \"ü\"", &[("M-1", 5, "2.50")]);
        let done = checkout(
            UserId::new(),
            Role::Customer,
            &[line(&mug, "M-1", 2)],
            &catalog(&[&mug]),
            None,
            Timestamp::now(),
        )
        .unwrap();
        let text = serde_json::to_string(&done.order).unwrap();
        assert_eq!(serde_json::from_str::<Order>(&text).unwrap(), done.order);
        let event = OrderEvent::new(
            &done.order,
            OrderEventKind::StatusChanged { from: OrderStatus::Pending, to: OrderStatus::Shipped },
            Timestamp::now(),
        );
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(
            (value["type"].as_str(), value["to"].as_str()),
            (Some("status_changed"), Some("Shipped"))
        );
        assert_eq!(serde_json::from_value::<OrderEvent>(value).unwrap(), event);
        assert_eq!(event.name(), "shipped");
        assert_eq!(done.order.units_by_product()[&mug.id], [(Sku::parse("M-1").unwrap(), 2)]);
    }
}
