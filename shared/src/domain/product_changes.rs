//! What an update changed in a product, for the audit trail.

use super::{Product, Sku, Variant, field_changes};

impl Product {
    /// What changed from `self` to `next`, for the audit trail: `{"from", "to"}` for each of
    /// name, description, category and images that changed; per variant (by SKU) the price
    /// and stock that changed; and the variants added and removed, with their price and stock.
    pub fn changes_to(&self, next: &Product) -> serde_json::Value {
        let fields = |p: &Product| {
            serde_json::json!({
                "name": p.name, "description": p.description,
                "category": p.category, "images": p.images,
            })
        };
        let mut changes = field_changes(&fields(self), &fields(next), &[]);
        let find = |variants: &[Variant], sku: &Sku| -> Option<Variant> {
            variants.iter().find(|v| &v.sku == sku).cloned()
        };
        let (mut added, mut removed, mut changed) =
            (Vec::new(), Vec::new(), serde_json::Map::new());
        for variant in &next.variants {
            match find(&self.variants, &variant.sku) {
                None => added.push(serde_json::json!(variant)),
                Some(old) => {
                    let values =
                        |v: &Variant| serde_json::json!({"price": v.price, "stock": v.stock});
                    let diff = field_changes(&values(&old), &values(variant), &[]);
                    if !diff.is_empty() {
                        changed.insert(variant.sku.as_str().to_owned(), diff.into());
                    }
                }
            }
        }
        for variant in &self.variants {
            if find(&next.variants, &variant.sku).is_none() {
                removed.push(serde_json::json!(variant));
            }
        }
        let mut variants = serde_json::Map::new();
        for (name, list) in [("added", added), ("removed", removed)] {
            if !list.is_empty() {
                variants.insert(name.into(), list.into());
            }
        }
        if !changed.is_empty() {
            variants.insert("changed".into(), changed.into());
        }
        if !variants.is_empty() {
            changes.insert("variants".into(), variants.into());
        }
        changes.into()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{ProductInput, ProductPatch, ProductSpec, Timestamp};

    #[test]
    fn changes_name_each_field_and_variant_from_and_to() {
        let input = |v| serde_json::from_value::<ProductInput>(v).unwrap();
        let now = Timestamp::parse("2026-11-24T09:00:00Z").unwrap();
        let before = Product::create(
            ProductSpec::parse(input(json!({
                "name": "Mug", "category": "kitchen",
                "variants": [
                    {"sku": "MUG-S", "stock": 5, "price": "8.00"},
                    {"sku": "MUG-L", "stock": 2, "price": "12.00"}
                ]
            })))
            .unwrap(),
            now,
        );
        let patch = ProductPatch::parse(input(json!({
            "name": "Big mug",
            "variants": [
                {"sku": "MUG-S", "stock": 5, "price": "0.01"},
                {"sku": "MUG-XL", "stock": 1, "price": "15.00"}
            ]
        })))
        .unwrap();
        let after = before.apply(patch, now);
        assert_eq!(
            before.changes_to(&after),
            json!({
                "name": {"from": "Mug", "to": "Big mug"},
                "variants": {
                    "added": [{"sku": "MUG-XL", "stock": 1, "price": "15.00"}],
                    "removed": [{"sku": "MUG-L", "stock": 2, "price": "12.00"}],
                    "changed": {"MUG-S": {"price": {"from": "8.00", "to": "0.01"}}}
                }
            })
        );
        assert_eq!(after.changes_to(&after), json!({}));
    }
}
