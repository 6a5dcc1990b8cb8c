//! Cart operations. Prices always come from the catalog: a client-sent `price` is accepted in
//! the body for compatibility and ignored. Handlers of the cart function only parse requests
//! and shape responses around these.

use crate::store::Conflict;
use serde::Deserialize;

use crate::{
    domain::{
        CartLine, CartView, FieldErrors, MAX_LINES, MAX_QUANTITY, Product, ProductId, Sku, UserId,
        cart_view,
    },
    http::ApiError,
    store::{Store, StoreError},
};

/// `POST /cart/add_item`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    pub product_id: String,
    pub quantity: Option<i64>,
    pub sku: Option<String>,
    /// Ignored: the catalog's price always applies.
    #[serde(default, rename = "price")]
    pub _price: Option<serde_json::Value>,
}

/// `POST /cart/update_item_quantity` (quantity 0 removes the line).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    pub product_id: String,
    pub sku: Option<String>,
    pub quantity: i64,
    /// Ignored: the catalog's price always applies.
    #[serde(default, rename = "price")]
    pub _price: Option<serde_json::Value>,
}

/// `POST /cart/remove_item`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveItem {
    pub product_id: String,
    pub sku: Option<String>,
}

/// The cart operations over a store.
pub struct Carts<'a> {
    pub store: &'a dyn Store,
}

fn product_not_found() -> ApiError {
    ApiError::not_found("product_not_found", "Product not found")
}

fn line_not_found() -> ApiError {
    ApiError::not_found("line_not_found", "This item is not in the cart")
}

fn validation(field: &str, message: &str) -> ApiError {
    let mut errors = FieldErrors::new();
    errors.add(field, message);
    ApiError::validation(errors)
}

fn quantity(value: i64, min: i64) -> Result<u32, ApiError> {
    match u32::try_from(value) {
        Ok(q) if i64::from(q) >= min && q <= MAX_QUANTITY => Ok(q),
        _ => Err(validation(
            "quantity",
            &format!("must be a whole number from {min} to {MAX_QUANTITY}"),
        )),
    }
}

/// How many times a change is re-read and re-applied when another request changed the cart
/// between the read and the write.
const ATTEMPTS: usize = 3;

fn busy() -> ApiError {
    ApiError::conflict(
        "cart_changed",
        "The cart was changed by another request; try again",
    )
}

impl Carts<'_> {
    /// The cart, priced from the catalog (one cart read, one batch product read).
    pub async fn view(&self, user: UserId) -> Result<CartView, ApiError> {
        let cart = self.store.cart(user).await?;
        self.price(user, &cart.lines).await
    }

    async fn price(&self, user: UserId, lines: &[CartLine]) -> Result<CartView, ApiError> {
        let ids: Vec<ProductId> = lines.iter().map(|l| l.product_id).collect();
        let products = if ids.is_empty() {
            Default::default()
        } else {
            self.store.find_products(&ids).await?
        };
        Ok(cart_view(user, lines, &products))
    }

    async fn product(&self, id: &str) -> Result<Product, ApiError> {
        let id: ProductId = id.parse().map_err(|_| product_not_found())?;
        self.store
            .find_product(id)
            .await?
            .ok_or_else(product_not_found)
    }

    /// Writes `lines` if the cart is still at `version`; `Ok(false)` when it changed meanwhile.
    async fn save(&self, user: UserId, version: u64, lines: &[CartLine]) -> Result<bool, ApiError> {
        match self.store.save_cart(user, version, lines).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(Conflict::CartChanged)) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Adds units of a variant (the product's first when no SKU is given); an existing line
    /// grows. Never beyond the stock, 99 a line or 50 lines.
    pub async fn add(&self, user: UserId, request: AddItem) -> Result<CartView, ApiError> {
        let wanted = quantity(request.quantity.unwrap_or(1), 1)?;
        let product = self.product(&request.product_id).await?;
        let variant = match request.sku.as_deref() {
            Some(sku) => product.variants.iter().find(|v| v.sku.as_str() == sku),
            None => product.variants.first(),
        }
        .ok_or_else(|| ApiError::not_found("sku_not_found", "This product has no such SKU"))?;
        for _ in 0..ATTEMPTS {
            let cart = self.store.cart(user).await?;
            let mut lines = cart.lines;
            let existing = lines
                .iter()
                .position(|l| l.product_id == product.id && l.sku == variant.sku);
            if existing.is_none() && lines.len() >= MAX_LINES {
                return Err(ApiError::conflict(
                    "cart_full",
                    "A cart holds at most 50 different items",
                ));
            }
            let total = existing.map_or(0, |at| lines[at].quantity) + wanted;
            if total > MAX_QUANTITY {
                return Err(validation(
                    "quantity",
                    &format!("a cart line holds at most {MAX_QUANTITY} units"),
                ));
            }
            check_stock(variant.stock, total, &variant.sku)?;
            let line = CartLine {
                product_id: product.id,
                sku: variant.sku.clone(),
                quantity: total,
                price_when_added: variant.price,
            };
            match existing {
                Some(at) => lines[at] = line,
                None => lines.push(line),
            }
            if self.save(user, cart.version, &lines).await? {
                return self.price(user, &lines).await;
            }
        }
        Err(busy())
    }

    /// Sets a line's quantity; 0 removes it.
    pub async fn set_quantity(
        &self,
        user: UserId,
        request: SetQuantity,
    ) -> Result<CartView, ApiError> {
        let wanted = quantity(request.quantity, 0)?;
        for _ in 0..ATTEMPTS {
            let cart = self.store.cart(user).await?;
            let mut lines = cart.lines;
            let at = find_line(&lines, &request.product_id, request.sku.as_deref())?;
            if wanted == 0 {
                lines.remove(at);
            } else {
                let line = &lines[at];
                let product = self
                    .store
                    .find_product(line.product_id)
                    .await?
                    .ok_or_else(product_not_found)?;
                let variant = product
                    .variants
                    .iter()
                    .find(|v| v.sku == line.sku)
                    .ok_or_else(|| {
                        ApiError::not_found("sku_not_found", "This product no longer has this SKU")
                    })?;
                check_stock(variant.stock, wanted, &variant.sku)?;
                lines[at].quantity = wanted;
                lines[at].price_when_added = variant.price;
            }
            if self.save(user, cart.version, &lines).await? {
                return self.price(user, &lines).await;
            }
        }
        Err(busy())
    }

    /// Removes a line.
    pub async fn remove(&self, user: UserId, request: RemoveItem) -> Result<CartView, ApiError> {
        for _ in 0..ATTEMPTS {
            let cart = self.store.cart(user).await?;
            let mut lines = cart.lines;
            let at = find_line(&lines, &request.product_id, request.sku.as_deref())?;
            lines.remove(at);
            if self.save(user, cart.version, &lines).await? {
                return self.price(user, &lines).await;
            }
        }
        Err(busy())
    }
}

fn check_stock(stock: u32, wanted: u32, sku: &Sku) -> Result<(), ApiError> {
    if wanted > stock {
        return Err(ApiError::conflict(
            "insufficient_stock",
            format!("Only {stock} of {sku} in stock"),
        ));
    }
    Ok(())
}

/// Where the line for a product is (the SKU is needed only when the cart holds several of its
/// variants).
fn find_line(lines: &[CartLine], product_id: &str, sku: Option<&str>) -> Result<usize, ApiError> {
    let id: ProductId = product_id.parse().map_err(|_| line_not_found())?;
    let mut matching = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.product_id == id && sku.is_none_or(|s| l.sku.as_str() == s));
    match (matching.next(), matching.next()) {
        (Some((at, _)), None) => Ok(at),
        (None, _) => Err(line_not_found()),
        (Some(_), Some(_)) => Err(validation(
            "sku",
            "is required: the cart holds several variants of this product",
        )),
    }
}
