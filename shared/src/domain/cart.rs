//! Carts: lines of (product, SKU, quantity), always priced from the catalog.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Money, Product, ProductId, Sku, UserId};

/// The most units of one variant in one line.
pub const MAX_QUANTITY: u32 = 99;
/// The most lines in a cart (checkout updates the stock of every line's product in one
/// transaction of at most 100 actions).
pub const MAX_LINES: usize = 50;

/// One stored cart line. The price it was added at is kept only to tell the customer the price
/// has changed since; every total uses the catalog's current price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    /// The product.
    pub product_id: ProductId,
    /// The variant's SKU.
    pub sku: Sku,
    /// Units.
    pub quantity: u32,
    /// The price when the line was last written (display only: checkout uses the catalog).
    pub price_when_added: Money,
}

/// What a line is now, against the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// In the catalog at the price it was added at.
    Available,
    /// In the catalog at another price than when added (the current price applies).
    PriceChanged,
    /// Fewer in stock than the line asks for.
    InsufficientStock,
    /// The product or the variant is gone from the catalog; not counted in the subtotal.
    Unavailable,
}

/// A line as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartItem {
    /// The product.
    pub product_id: ProductId,
    /// The variant's SKU.
    pub sku: Sku,
    /// The product's name; none when it is gone.
    pub name: Option<String>,
    /// Units.
    pub quantity: u32,
    /// The catalog price; none when the product or SKU is gone.
    pub price: Option<Money>,
    /// Price × quantity; none when unavailable.
    pub line_total: Option<Money>,
    /// Whether the line can be bought as it is.
    pub status: LineStatus,
    /// Units in stock now (absent when the variant is gone).
    pub available: Option<u32>,
}

/// A cart as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartView {
    /// The customer.
    pub user_id: UserId,
    /// The lines.
    pub items: Vec<CartItem>,
    /// The sum of the available lines.
    pub subtotal: Money,
}

/// Prices `lines` from `products` (by id); lines whose product or variant is gone are shown
/// as unavailable and left out of the subtotal.
pub fn view(
    user_id: UserId,
    lines: &[CartLine],
    products: &HashMap<ProductId, Product>,
) -> CartView {
    let mut subtotal = Decimal::ZERO;
    let items = lines
        .iter()
        .map(|line| {
            let product = products.get(&line.product_id);
            let variant = product.and_then(|p| p.variants.iter().find(|v| v.sku == line.sku));
            let Some(variant) = variant else {
                return CartItem {
                    product_id: line.product_id,
                    sku: line.sku.clone(),
                    name: product.map(|p| p.name.clone()),
                    quantity: line.quantity,
                    price: None,
                    line_total: None,
                    status: LineStatus::Unavailable,
                    available: None,
                };
            };
            let line_total = variant.price.amount() * Decimal::from(line.quantity);
            subtotal += line_total;
            let status = if variant.stock < line.quantity {
                LineStatus::InsufficientStock
            } else if variant.price != line.price_when_added {
                LineStatus::PriceChanged
            } else {
                LineStatus::Available
            };
            CartItem {
                product_id: line.product_id,
                sku: line.sku.clone(),
                name: product.map(|p| p.name.clone()),
                quantity: line.quantity,
                price: Some(variant.price),
                line_total: Money::new(line_total).ok(),
                status,
                available: Some(variant.stock),
            }
        })
        .collect();
    CartView { user_id, items, subtotal: Money::new(subtotal).unwrap_or(Money::ZERO) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProductInput, ProductSpec, Timestamp};

    fn product(skus: &[(&str, u32, &str)]) -> Product {
        let variants: Vec<_> = skus.iter().map(|(sku, stock, price)| serde_json::json!({ "sku": sku, "stock": stock, "price": price })).collect();
        let input: ProductInput = serde_json::from_value(
            serde_json::json!({ "name": "Mug", "category": "c", "variants": variants }),
        )
        .unwrap();
        Product::create(ProductSpec::parse(input).unwrap(), Timestamp::now())
    }

    fn line(product: &Product, sku: &str, quantity: u32, price: &str) -> CartLine {
        CartLine {
            product_id: product.id,
            sku: Sku::parse(sku).unwrap(),
            quantity,
            price_when_added: price.parse().unwrap(),
        }
    }

    #[test]
    fn lines_are_priced_from_the_catalog_and_gone_ones_are_not_counted() {
        let mug = product(&[("M-1", 5, "4.50"), ("M-2", 1, "6.00")]);
        let gone = product(&[("G-1", 5, "100.00")]);
        let lines = [
            line(&mug, "M-1", 2, "4.50"),
            line(&mug, "M-2", 3, "5.00"),
            line(&gone, "G-1", 1, "100.00"),
            line(&mug, "M-9", 1, "1.00"),
        ];
        let products = HashMap::from([(mug.id, mug.clone())]);
        let view = view(UserId::new(), &lines, &products);
        let statuses: Vec<_> = view.items.iter().map(|i| i.status).collect();
        assert_eq!(
            statuses,
            [
                LineStatus::Available,
                LineStatus::InsufficientStock,
                LineStatus::Unavailable,
                LineStatus::Unavailable
            ]
        );
        assert_eq!(view.items[1].price.map(|p| p.to_string()), Some("6.00".into()));
        assert_eq!(view.items[1].line_total.map(|p| p.to_string()), Some("18.00".into()));
        // 2 × 4.50 + 3 × 6.00; the gone lines add nothing.
        assert_eq!(view.subtotal.to_string(), "27.00");
        assert_eq!(
            (view.items[2].name.as_deref(), view.items[3].name.as_deref()),
            (None, Some("Mug"))
        );
    }

    #[test]
    fn a_changed_price_is_flagged_and_the_new_price_applies() {
        let mug = product(&[("M-1", 5, "4.00")]);
        let view = view(
            UserId::new(),
            &[line(&mug, "M-1", 2, "4.50")],
            &HashMap::from([(mug.id, mug.clone())]),
        );
        assert_eq!(view.items[0].status, LineStatus::PriceChanged);
        assert_eq!(view.subtotal.to_string(), "8.00");
    }
}
