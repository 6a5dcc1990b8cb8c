//! Cart operations. Prices always come from the catalog: a client-sent `price` is accepted in
//! the body for compatibility and ignored. Handlers of the cart function only parse requests
//! and shape responses around these.

mod requests;

pub use requests::{AddItem, RemoveItem, SetQuantity};

use crate::{
    domain::{
        CartLine, CartView, FieldErrors, MAX_LINES, MAX_QUANTITY, Product, ProductId, Sku,
        Timestamp, UserId, Variant, cart_view,
    },
    orders::{IDEMPOTENCY_TTL_SECONDS, IdempotencyKey},
    retry::{Attempt, until_answered, with_retries},
    store::{CartKeyRecord, CartStorage, Conflict, StoreError, VersionedWrite},
};

/// A cart write under an `Idempotency-Key`: the key and the request it is kept with.
struct Keyed {
    key: String,
    request: String,
}

impl Keyed {
    fn new(key: &IdempotencyKey, route: &str, body: &str) -> Self {
        Self { key: key.as_str().to_owned(), request: format!("{route} {body}") }
    }
}

/// Why a cart operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// Product not found.
    #[error("product not found")]
    ProductNotFound,
    /// The product has no such SKU.
    #[error("the product has no such SKU")]
    SkuNotFound,
    /// The product no longer has this SKU.
    #[error("the product no longer has this SKU")]
    SkuGone,
    /// The line is not in the cart.
    #[error("the line is not in the cart")]
    LineNotFound,
    /// The cart holds the most lines it may.
    #[error("the cart holds the most lines it may")]
    CartFull,
    /// Only … of … in stock.
    #[error("only {stock} of {sku} in stock")]
    InsufficientStock {
        /// The variant.
        sku: Sku,
        /// Units in stock.
        stock: u32,
    },
    /// The cart kept changing.
    #[error("the cart kept changing")]
    Busy,
    /// The `Idempotency-Key` was used with another request.
    #[error("the idempotency key was used with another request")]
    KeyReused,
    /// Invalid fields, each with its messages.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The cart operations over a store.
pub struct Carts<'a> {
    /// The storage.
    pub store: &'a dyn CartStorage,
}

fn invalid(field: &str, message: &str) -> CartError {
    let mut errors = FieldErrors::new();
    errors.add(field, message);
    CartError::Validation(errors)
}

fn quantity(value: i64, min: i64) -> Result<u32, CartError> {
    match u32::try_from(value) {
        Ok(q) if i64::from(q) >= min && q <= MAX_QUANTITY => Ok(q),
        _ => Err(invalid(
            "quantity",
            &format!("must be a whole number from {min} to {MAX_QUANTITY}"),
        )),
    }
}

/// How many times a change is re-read and re-applied when another request changed the cart
/// between the read and the write.
const ATTEMPTS: usize = 3;

impl Carts<'_> {
    /// The cart, priced from the catalog (one cart read, one batch product read).
    pub async fn view(&self, user: UserId) -> Result<CartView, CartError> {
        let cart = self.store.cart(user).await?;
        self.price(user, &cart.lines).await
    }

    /// The view of `lines` at the products' current prices and stock. Also how a write is
    /// answered after it landed, so the read is asked until answered: a 503 there would make
    /// a client without an `Idempotency-Key` send a write again that was applied.
    async fn price(&self, user: UserId, lines: &[CartLine]) -> Result<CartView, CartError> {
        let ids: Vec<ProductId> = lines.iter().map(|l| l.product_id).collect();
        let products = if ids.is_empty() {
            Default::default()
        } else {
            until_answered(|| self.store.find_products(&ids)).await?
        };
        Ok(cart_view(user, lines, &products))
    }

    async fn product(&self, id: &str) -> Result<Product, CartError> {
        let id: ProductId = id.parse().map_err(|_| CartError::ProductNotFound)?;
        self.store.find_product(id).await?.ok_or(CartError::ProductNotFound)
    }

    /// Reads the cart, applies `change` to its lines and writes them if the cart is still at
    /// the version read; re-reads when another request changed it meanwhile. Answers the
    /// cart as written, priced, and whether it replays an earlier write under the same key.
    async fn change<F, Fut>(
        &self,
        user: UserId,
        keyed: Option<&Keyed>,
        change: F,
    ) -> Result<(CartView, bool), CartError>
    where
        F: Fn(Vec<CartLine>) -> Fut,
        Fut: Future<Output = Result<Vec<CartLine>, CartError>>,
    {
        let change = &change;
        let written = with_retries(ATTEMPTS, || async move {
            if let Some(keyed) = keyed {
                let now = Timestamp::now();
                if let Some(record) = self.store.cart_key(user, &keyed.key, now).await? {
                    if record.request != keyed.request {
                        return Err(CartError::KeyReused);
                    }
                    return Ok(Attempt::Done((record.lines, true)));
                }
            }
            let cart = self.store.cart(user).await?;
            let lines = change(cart.lines).await?;
            let written = self.write(user, cart.version, lines, keyed).await?;
            Ok(written.map(|lines| (lines, false)))
        })
        .await?;
        match written {
            Some((lines, replayed)) => Ok((self.price(user, &lines).await?, replayed)),
            None => Err(CartError::Busy),
        }
    }

    /// Writes `lines` at `version` (with the key's record, under a key).
    ///
    /// Retry safety: the write is conditional on the version read and marked with an id of its
    /// own. When its answer is lost (the SDK's retry then fails on the version the write itself
    /// moved, or the database does not answer), the cart is read back: its own id there means
    /// it landed, and it is not applied again. A client's retry carries the same
    /// `Idempotency-Key`, whose record (written in the same transaction) replays the answer.
    async fn write(
        &self,
        user: UserId,
        version: u64,
        lines: Vec<CartLine>,
        keyed: Option<&Keyed>,
    ) -> Result<Attempt<Vec<CartLine>>, CartError> {
        let write_id = crate::domain::new_write_id();
        let saved = match keyed {
            None => {
                self.store
                    .save_cart(VersionedWrite { user, version, items: &lines, write_id: &write_id })
                    .await
            }
            Some(keyed) => {
                let now = Timestamp::now();
                let record = CartKeyRecord {
                    user,
                    key: keyed.key.clone(),
                    request: keyed.request.clone(),
                    lines: lines.clone(),
                    expires_at: now.plus_seconds(IDEMPOTENCY_TTL_SECONDS),
                };
                self.store.save_cart_keyed(version, &write_id, &record, now).await
            }
        };
        match saved {
            Ok(_) => Ok(Attempt::Done(lines)),
            // The key was used meanwhile: the next pass replays it.
            Err(StoreError::Conflict(Conflict::IdempotencyKeyUsed)) => Ok(Attempt::Retry),
            Err(
                error @ (StoreError::Conflict(Conflict::CartChanged) | StoreError::Unavailable(_)),
            ) => {
                let now = until_answered(|| self.store.cart(user)).await?;
                let landed = if lines.is_empty() {
                    now.version == 0
                } else {
                    now.write_id.as_deref() == Some(write_id.as_str())
                };
                match (landed, error) {
                    (true, _) => Ok(Attempt::Done(lines)),
                    (false, StoreError::Conflict(_)) => Ok(Attempt::Retry),
                    (false, _) => Ok(Attempt::Backoff),
                }
            }
            Err(other) => Err(CartError::Store(other)),
        }
    }

    /// Adds units of a variant (the product's first when no SKU is given); an existing line
    /// grows. Never beyond the stock, 99 a line or 50 lines. Under an `Idempotency-Key`, a
    /// retry with the same body replays the first answer (`true`), another body is refused.
    pub async fn add(
        &self,
        user: UserId,
        request: AddItem,
        key: Option<&IdempotencyKey>,
    ) -> Result<(CartView, bool), CartError> {
        let keyed = key.map(|key| Keyed::new(key, "add_item", &request.fingerprint()));
        let wanted = quantity(request.quantity.unwrap_or(1), 1)?;
        let product = self.product(&request.product_id).await?;
        let variant = match request.sku.as_deref() {
            Some(sku) => product.variants.iter().find(|v| v.sku.as_str() == sku),
            None => product.variants.first(),
        }
        .ok_or(CartError::SkuNotFound)?;
        let product = &product;
        self.change(user, keyed.as_ref(), |lines| async move {
            add_line(lines, product.id, variant, wanted)
        })
        .await
    }

    /// Sets a line's quantity; 0 removes it.
    pub async fn set_quantity(
        &self,
        user: UserId,
        request: SetQuantity,
        key: Option<&IdempotencyKey>,
    ) -> Result<(CartView, bool), CartError> {
        let keyed = key.map(|key| Keyed::new(key, "update_item_quantity", &request.fingerprint()));
        let wanted = quantity(request.quantity, 0)?;
        let request = &request;
        self.change(user, keyed.as_ref(), |mut lines| async move {
            let at = find_line(&lines, &request.product_id, request.sku.as_deref())?;
            if wanted == 0 {
                lines.remove(at);
                return Ok(lines);
            }
            let line = &lines[at];
            let product = self
                .store
                .find_product(line.product_id)
                .await?
                .ok_or(CartError::ProductNotFound)?;
            let variant =
                product.variants.iter().find(|v| v.sku == line.sku).ok_or(CartError::SkuGone)?;
            check_stock(variant.stock, wanted, &variant.sku)?;
            lines[at].quantity = wanted;
            lines[at].price_when_added = variant.price;
            Ok(lines)
        })
        .await
    }

    /// Removes a line.
    pub async fn remove(&self, user: UserId, request: RemoveItem) -> Result<CartView, CartError> {
        let request = &request;
        let (cart, _) = self
            .change(user, None, |mut lines| async move {
                let at = find_line(&lines, &request.product_id, request.sku.as_deref())?;
                lines.remove(at);
                Ok(lines)
            })
            .await?;
        Ok(cart)
    }
}

/// `lines` with `wanted` more units of `variant` of product `id`, within every limit.
fn add_line(
    mut lines: Vec<CartLine>,
    id: ProductId,
    variant: &Variant,
    wanted: u32,
) -> Result<Vec<CartLine>, CartError> {
    let existing = lines.iter().position(|l| l.product_id == id && l.sku == variant.sku);
    if existing.is_none() && lines.len() >= MAX_LINES {
        return Err(CartError::CartFull);
    }
    let total = existing.map_or(0, |at| lines[at].quantity) + wanted;
    if total > MAX_QUANTITY {
        return Err(invalid(
            "quantity",
            &format!("a cart line holds at most {MAX_QUANTITY} units"),
        ));
    }
    check_stock(variant.stock, total, &variant.sku)?;
    let line = CartLine {
        product_id: id,
        sku: variant.sku.clone(),
        quantity: total,
        price_when_added: variant.price,
    };
    match existing {
        Some(at) => lines[at] = line,
        None => lines.push(line),
    }
    Ok(lines)
}

fn check_stock(stock: u32, wanted: u32, sku: &Sku) -> Result<(), CartError> {
    if wanted > stock {
        return Err(CartError::InsufficientStock { sku: sku.clone(), stock });
    }
    Ok(())
}

/// Where the line for a product is (the SKU is needed only when the cart holds several of its
/// variants).
fn find_line(lines: &[CartLine], product_id: &str, sku: Option<&str>) -> Result<usize, CartError> {
    let id: ProductId = product_id.parse().map_err(|_| CartError::LineNotFound)?;
    let mut matching = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.product_id == id && sku.is_none_or(|s| l.sku.as_str() == s));
    match (matching.next(), matching.next()) {
        (Some((at, _)), None) => Ok(at),
        (None, _) => Err(CartError::LineNotFound),
        (Some(_), Some(_)) => {
            Err(invalid("sku", "is required: the cart holds several variants of this product"))
        }
    }
}
