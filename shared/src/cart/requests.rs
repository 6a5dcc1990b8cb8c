//! The cart routes' request bodies, and what a retry under the same `Idempotency-Key` must
//! repeat of each.

use serde::Deserialize;

/// `POST /cart/add_item`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    /// The product.
    pub product_id: String,
    /// Units to add (1 when absent).
    pub quantity: Option<i64>,
    /// The variant (the product's first when absent).
    pub sku: Option<String>,
    /// Ignored: the catalog's price always applies.
    #[serde(default, rename = "price")]
    pub _price: Option<serde_json::Value>,
    /// Ignored: the caller is always the token's user (the original API's clients send it).
    #[serde(default, rename = "user_id")]
    pub _user_id: Option<serde_json::Value>,
}

/// `POST /cart/update_item_quantity` (quantity 0 removes the line).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    /// The product.
    pub product_id: String,
    /// The variant (needed only when the cart holds several of the product).
    pub sku: Option<String>,
    /// The new quantity; 0 removes the line.
    pub quantity: i64,
    /// Ignored: the catalog's price always applies.
    #[serde(default, rename = "price")]
    pub _price: Option<serde_json::Value>,
    /// Ignored: the caller is always the token's user (the original API's clients send it).
    #[serde(default, rename = "user_id")]
    pub _user_id: Option<serde_json::Value>,
}

/// `POST /cart/remove_item`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveItem {
    /// The product.
    pub product_id: String,
    /// The variant (needed only when the cart holds several of the product).
    pub sku: Option<String>,
    /// Ignored: the caller is always the token's user (the original API's clients send it).
    #[serde(default, rename = "user_id")]
    pub _user_id: Option<serde_json::Value>,
}

/// A cart request as a retry under the same key must repeat it: what the write reads.
fn fingerprint(product_id: &str, quantity: Option<i64>, sku: Option<&str>) -> String {
    serde_json::json!({ "product_id": product_id, "quantity": quantity, "sku": sku }).to_string()
}

impl AddItem {
    pub(super) fn fingerprint(&self) -> String {
        fingerprint(&self.product_id, self.quantity, self.sku.as_deref())
    }
}

impl SetQuantity {
    pub(super) fn fingerprint(&self) -> String {
        fingerprint(&self.product_id, Some(self.quantity), self.sku.as_deref())
    }
}
