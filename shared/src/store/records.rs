use crate::{
    auth::StoredHash,
    domain::{
        CartLine, Checkout, Coupon, Order, OrderEvent, OrderStatus, Product, ProductId, SessionId,
        Sku, Timestamp, TokenId, User, UserId,
    },
};

/// An account with its password hash: what login needs in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: StoredHash,
}

/// A login session: the refresh token currently valid for it, and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub refresh_jti: TokenId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Session {
    /// Whether the session still holds at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// What happened to a refresh-token rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was current; `next` is now.
    Rotated(Session),
    /// The presented token had already been rotated out: a replay of a stolen or leaked token.
    Reused,
    /// No live session: logged out, revoked or expired.
    Gone,
}

/// Where a product listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStart {
    /// Skip this many products (page-number paging: the skipped ones are read too).
    Offset(usize),
    /// Just after the product with this [`sort_key`] (cursor paging: constant cost).
    After(String),
}

/// A listing request: newest first, optionally one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub category: Option<String>,
    pub start: ListStart,
    pub limit: usize,
}

/// A page of products and, when more follow, the [`sort_key`] to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    pub products: Vec<Product>,
    pub next: Option<String>,
}

/// The listing order of a product: creation time, then id (both sort as text).
pub fn sort_key(product: &Product) -> String {
    format!("{}#{}", product.created_at, product.id)
}

/// A cart as stored: its lines by product id then SKU, and the version the next write must
/// match (0 when the user has no cart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredCart {
    pub lines: Vec<CartLine>,
    pub version: u64,
}

/// Puts cart lines in their stored order: by product id (so by product age), then SKU.
pub fn sort_lines(lines: &mut [CartLine]) {
    lines.sort_by(|a, b| (a.product_id, &a.sku).cmp(&(b.product_id, &b.sku)));
}

/// What checkout reads besides the cart, in one batch: the cart's products, the coupon and how
/// often this customer has used it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutReads {
    pub products: std::collections::HashMap<ProductId, Product>,
    pub coupon: Option<Coupon>,
    pub coupon_uses_by_user: u32,
}

/// A checkout kept under the customer's `Idempotency-Key` for 24 hours: the request it answered
/// (canonical JSON) and the order it placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub user: UserId,
    pub key: String,
    pub request: String,
    pub order: Order,
    pub expires_at: Timestamp,
}

/// Everything one checkout writes, atomically.
#[derive(Debug, Clone, Copy)]
pub struct NewOrder<'a> {
    pub checkout: &'a Checkout,
    /// The version of the cart the order was priced from (the cart is deleted only if unchanged).
    pub cart_version: u64,
    /// The coupon applied: its use is counted, within `max_uses` and `max_uses_per_user`.
    pub coupon: Option<&'a Coupon>,
    pub idempotency: Option<&'a IdempotencyRecord>,
    /// The "placed" event, written to the outbox.
    pub event: &'a OrderEvent,
    pub now: Timestamp,
}

/// A status change, atomically: the order (only if still at `current`'s status), the units put
/// back in stock, and the event in the outbox.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange<'a> {
    pub current: &'a Order,
    pub next: &'a Order,
    pub restock: &'a std::collections::BTreeMap<ProductId, Vec<(Sku, u32)>>,
    pub event: &'a OrderEvent,
}

/// Whose orders a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderScope {
    /// One customer's.
    Customer(UserId),
    /// Everyone's, optionally of one status.
    All(Option<OrderStatus>),
}

/// An order listing: newest first, after a position ([`Order::sort_key`]) if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub scope: OrderScope,
    pub after: Option<String>,
    pub limit: usize,
}

/// A page of orders and, when more follow, the position to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub next: Option<String>,
}
