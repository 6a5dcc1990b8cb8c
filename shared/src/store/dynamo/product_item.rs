//! Products: `PRODUCT#<id>/META` holds the product with its variants (a map by SKU, so a
//! checkout can decrement one variant's stock with a condition on it); `SKU#<sku>/SKU` claims
//! a SKU for one product; `COUNTER#PRODUCTS/COUNTER` and `COUNTER#PRODUCTS/CATEGORY#<c>` keep
//! exact counts. The product is listed through GSI2 (`PRODUCTS`) and GSI1 (`CATEGORY#<c>`),
//! both sorted by `<created_at>#<id>`.

use super::{attrs::malformed, keys};
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use rust_decimal::Decimal;

use super::attrs::{Item, n, s};
use crate::{
    domain::{Money, Product, ProductId, Sku, Timestamp, Variant},
    store::{StoreError, StoreResult, sort_key},
};

pub(super) fn to_item(product: &Product) -> HashMap<String, AttributeValue> {
    let variants = product
        .variants
        .iter()
        .enumerate()
        .map(|(position, variant)| {
            let fields = HashMap::from([
                ("position".to_owned(), n(position as i64)),
                ("stock".to_owned(), n(i64::from(variant.stock))),
                ("price".to_owned(), s(variant.price.to_string())),
            ]);
            (variant.sku.to_string(), AttributeValue::M(fields))
        })
        .collect();
    let order = sort_key(product);
    HashMap::from([
        ("PK".into(), s(keys::product(product.id))),
        ("SK".into(), s(keys::META)),
        ("GSI1PK".into(), s(keys::category(&product.category))),
        ("GSI1SK".into(), s(order.clone())),
        ("GSI2PK".into(), s(keys::ALL_PRODUCTS)),
        ("GSI2SK".into(), s(order)),
        ("id".into(), s(product.id.to_string())),
        ("name".into(), s(&product.name)),
        ("description".into(), s(&product.description)),
        ("category".into(), s(&product.category)),
        ("images".into(), AttributeValue::L(product.images.iter().map(s).collect())),
        ("variants".into(), AttributeValue::M(variants)),
        ("created_at".into(), s(product.created_at.to_string())),
        ("updated_at".into(), s(product.updated_at.to_string())),
        ("version".into(), n(product.version as i64)),
    ])
}

pub(super) fn sku_item(sku: &Sku, product: ProductId) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".into(), s(keys::sku(sku))),
        ("SK".into(), s(keys::SKU)),
        ("product_id".into(), s(product.to_string())),
    ])
}

impl TryFrom<&Item> for Product {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        let time = |name: &str| Timestamp::parse(item.s(name)?).map_err(|_| malformed(name));
        let images = match item.0.get("images") {
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| v.as_s().cloned().map_err(|_| malformed("images")))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(malformed("images")),
        };
        let Some(AttributeValue::M(variant_map)) = item.0.get("variants") else {
            return Err(malformed("variants"));
        };
        let mut variants = variant_map
            .iter()
            .map(|(sku, fields)| {
                let fields = Item(fields.as_m().map_err(|_| malformed("variants"))?.clone());
                let price: Decimal = fields.parse("price")?;
                Ok((
                    fields.n("position")?,
                    Variant {
                        sku: Sku::parse(sku).map_err(|_| malformed("variants"))?,
                        stock: u32::try_from(fields.n("stock")?).map_err(|_| malformed("stock"))?,
                        price: Money::new(price).map_err(|_| malformed("price"))?,
                    },
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        variants.sort_by_key(|(position, _)| *position);
        Ok(Product {
            id: item.parse("id")?,
            name: item.s("name")?.to_owned(),
            description: item.s("description")?.to_owned(),
            category: item.s("category")?.to_owned(),
            images,
            variants: variants.into_iter().map(|(_, v)| v).collect(),
            created_at: time("created_at")?,
            updated_at: time("updated_at")?,
            version: u64::try_from(item.n("version")?).map_err(|_| malformed("version"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProductInput, ProductSpec};

    #[test]
    fn round_trips_keeping_variant_order() {
        let input: ProductInput = serde_json::from_value(serde_json::json!({
            "name": "Mug", "category": "kitchen", "images": [],
            "variants": [{"sku": "Z-1", "stock": 4, "price": "9.50"}, {"sku": "A-1", "stock": 0, "price": 12}]
        }))
        .unwrap();
        let product = Product::create(ProductSpec::parse(input).unwrap(), Timestamp::now());
        let back = Product::try_from(&Item(to_item(&product))).unwrap();
        assert_eq!(back, product);
    }
}
