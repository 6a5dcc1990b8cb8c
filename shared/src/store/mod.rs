//! Storage behind traits that speak the domain. Two implementations pass one contract
//! suite: [`DynamoStore`] (the single-table design of DESIGN §4) and [`MemoryStore`].

mod dynamo;
mod error;
mod memory;
mod records;

use async_trait::async_trait;

pub use dynamo::DynamoStore;
#[cfg(feature = "schema")]
pub use dynamo::schema::{TableSchema, create_table};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use records::{
    ListStart, ProductPage, ProductQuery, RotateOutcome, Session, StoredCart, UserRecord, sort_key,
};

use crate::domain::{
    CartLine, Coupon, CouponCode, Email, Product, ProductId, Role, SessionId, Timestamp, TokenId,
    User, UserId,
};

/// Accounts. E-mail addresses are unique (case-insensitively, as [`Email`] is lower-case).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the account; [`StoreError::Conflict`] when the e-mail is taken.
    async fn create_user(&self, record: &UserRecord) -> Result<(), StoreError>;
    /// The account and its password hash, for login (one read).
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError>;
    /// The account by id.
    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// Changes an account's role; [`StoreError::NotFound`] when it does not exist.
    async fn set_role(&self, user: &User, role: Role) -> Result<(), StoreError>;
}

/// Login sessions. A session lives until it is deleted or its expiry passes; an expired
/// session is never returned even before the table's TTL sweep removes it.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; [`StoreError::Conflict`] if the id exists.
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session if it exists and has not expired at `now`.
    async fn find_session(
        &self,
        id: SessionId,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError>;
    /// Replaces the session's current refresh token `presented` by `next`, atomically.
    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        now: Timestamp,
    ) -> Result<RotateOutcome, StoreError>;
    /// Ends the session; ending an absent session is not an error.
    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError>;
}

/// The catalog. SKUs are unique across it; every write is atomic (the product, its SKU claims
/// and the catalog counters change together or not at all).
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Stores a new product, claiming its SKUs and counting it;
    /// [`StoreError::Conflict`]`("sku_taken")` when another product holds one of them.
    async fn create_product(&self, product: &Product) -> Result<(), StoreError>;
    /// The product with its variants (one read).
    async fn find_product(&self, id: ProductId) -> Result<Option<Product>, StoreError>;
    /// Several products at once (one batch read per 100), by id; absent ones are left out.
    async fn find_products(
        &self,
        ids: &[ProductId],
    ) -> Result<std::collections::HashMap<ProductId, Product>, StoreError>;
    /// Replaces `current` by `next` (same id): claims added SKUs, releases removed ones, moves
    /// the category count. [`StoreError::NotFound`] when it is gone,
    /// `Conflict("product_changed")` when it changed since `current` was read,
    /// `Conflict("sku_taken")` when an added SKU belongs to another product.
    async fn replace_product(&self, current: &Product, next: &Product) -> Result<(), StoreError>;
    /// Deletes the product, releases its SKUs and uncounts it. [`StoreError::NotFound`] when
    /// it is gone, `Conflict("product_changed")` when it changed since it was read.
    async fn delete_product(&self, current: &Product) -> Result<(), StoreError>;
    /// One page, newest first, optionally of one category.
    async fn list_products(&self, query: &ProductQuery) -> Result<ProductPage, StoreError>;
    /// The exact number of products (in `category`), from the counter, not a scan.
    async fn count_products(&self, category: Option<&str>) -> Result<u64, StoreError>;
}

/// Coupons, unique by code.
#[async_trait]
pub trait CouponStore: Send + Sync {
    /// Stores a new coupon; [`StoreError::Conflict`]`("coupon_exists")` when the code is taken.
    async fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError>;
    /// The coupon with this code.
    async fn find_coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError>;
    /// Writes the admin-editable fields (never the use count, which checkouts own);
    /// [`StoreError::NotFound`] when the coupon is gone.
    async fn update_coupon(&self, coupon: &Coupon) -> Result<(), StoreError>;
    /// Deletes the coupon; [`StoreError::NotFound`] when it is absent.
    async fn delete_coupon(&self, code: &CouponCode) -> Result<(), StoreError>;
    /// Every coupon, by code.
    async fn list_coupons(&self) -> Result<Vec<Coupon>, StoreError>;
}

/// Carts: one item per user holding every line, written whole and conditionally on its
/// version, so the line limit holds under concurrent requests and checkout deletes the cart
/// in one action (see [`StoredCart`]).
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The user's cart (one read); no lines and version 0 when there is none.
    async fn cart(&self, user: UserId) -> Result<StoredCart, StoreError>;
    /// Replaces the lines if the cart is still at `version` (0: no cart yet) and returns the
    /// new version; `Conflict("cart_changed")` when another write came first. No lines
    /// deletes the cart.
    async fn save_cart(
        &self,
        user: UserId,
        version: u64,
        lines: &[CartLine],
    ) -> Result<u64, StoreError>;
}

/// Everything the functions need from storage.
pub trait Store: UserStore + SessionStore + ProductStore + CouponStore + CartStore {}

impl<T: UserStore + SessionStore + ProductStore + CouponStore + CartStore> Store for T {}
