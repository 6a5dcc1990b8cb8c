//! Storage behind traits that speak the domain. Two implementations pass one contract
//! suite: [`DynamoStore`] (the single table of docs/design/table.md) and
//! [`MemoryStore`].

mod dynamo;
mod error;
mod memory;
mod records;
mod views;

use async_trait::async_trait;

pub use dynamo::DynamoStore;
#[cfg(feature = "schema")]
pub use dynamo::schema::{TableSchema, create_table};
pub use error::{Conflict, StoreError};

/// What every store operation returns.
pub type StoreResult<T> = Result<T, StoreError>;
pub use memory::MemoryStore;
pub use records::{
    AuditPage, AuditQuery, CartKeyRecord, CheckoutReads, DeliveryClaim, IdempotencyRecord,
    ListStart, LoginAdmission, LoginFailures, LoginWindow, NewOrder, OrderPage, OrderQuery,
    OrderScope, OrderUpdate, ProductPage, ProductQuery, RotateOutcome, Session, StatusChange,
    StoredAddresses, StoredCart, UserRecord, VersionedWrite, sort_key,
};
pub use views::{
    AccountStorage, CartStorage, CatalogStorage, CouponStorage, DeliveryStorage, EmailStorage,
    OrderStorage, Store, WebhookStorage,
};

use crate::domain::{
    Address, AuditEntry, CartLine, Coupon, CouponCode, DeliveryRecord, Email, EventId, LedgerEntry,
    Order, OrderEvent, OrderId, Product, ProductId, Role, SessionId, Timestamp, TokenId, User,
    UserId, Webhook, WebhookEventType, WebhookId,
};

/// The most records one atomic write may change (DynamoDB's limit on a transaction's
/// actions); a catalog update must fit in one.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

/// Accounts. E-mail addresses are unique (case-insensitively, as [`Email`] is lower-case).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the account, with its audit entry when an admin registers it;
    /// [`StoreError::Conflict`] when the e-mail is taken.
    async fn create_user(&self, record: &UserRecord, audit: Option<&AuditEntry>)
    -> StoreResult<()>;
    /// The account and its password hash, for login (one read).
    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>>;
    /// The account by id.
    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Changes an account's role, and the role held by each of its live sessions, so the
    /// change takes effect at the next request, with its audit entry; [`StoreError::NotFound`]
    /// when it does not exist.
    async fn set_role(&self, user: &User, role: Role, audit: &AuditEntry) -> StoreResult<()>;
    /// Counts a login attempt for `email` (an account or not) before its password is
    /// checked, atomically: in the open window, or in a new one from `window.now` when there
    /// is none, unless the open window already holds `window.max_attempts`. An admitted
    /// attempt carries the account (one request in the usual case: the count lives on the
    /// account's e-mail item, which holds the password hash). Concurrent attempts never admit
    /// more than `max_attempts` per window.
    async fn admit_login(&self, email: &Email, window: LoginWindow) -> StoreResult<LoginAdmission>;
}

/// A refresh: the session (by user and id), the refresh token presented, the one to replace
/// it, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// The session's user.
    pub user: UserId,
    /// The session.
    pub session: SessionId,
    /// The refresh token's id as presented.
    pub presented: TokenId,
    /// The id of the refresh token that replaces it.
    pub next: TokenId,
    /// When.
    pub now: Timestamp,
}

/// Login sessions, found by their user and id. A session lives until it is deleted or its
/// expiry passes; an expired session is never returned even before the table's TTL sweep
/// removes it.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session and clears the e-mail's login attempts, atomically, if the account
    /// still has `session.role`. Conflicts: `role_changed` (read the account again),
    /// `session_exists`.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The session if it exists, belongs to `user` and has not expired at `now`.
    async fn find_session(
        &self,
        user: UserId,
        id: SessionId,
        now: Timestamp,
    ) -> StoreResult<Option<Session>>;
    /// Replaces the session's current refresh token by the next one atomically, keeping the
    /// presented one as the previous one (rotated at `now`).
    async fn rotate_refresh(&self, rotation: &Rotation) -> StoreResult<RotateOutcome>;
    /// Ends the session; ending an absent session is not an error.
    async fn delete_session(&self, user: UserId, id: SessionId) -> StoreResult<()>;
}

/// The catalog. SKUs are unique across it; every write is atomic (the product, its SKU claims,
/// the catalog counters and the write's audit entry change together or not at all).
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Stores a new product, claiming its SKUs and counting it;
    /// [`StoreError::Conflict`]`("sku_taken")` when another product holds one of them.
    async fn create_product(&self, product: &Product, audit: &AuditEntry) -> StoreResult<()>;
    /// The product with its variants (one read).
    async fn find_product(&self, id: ProductId) -> StoreResult<Option<Product>>;
    /// Several products at once (one batch read per 100), by id; absent ones are left out.
    async fn find_products(
        &self,
        ids: &[ProductId],
    ) -> StoreResult<std::collections::HashMap<ProductId, Product>>;
    /// Replaces `current` by `next` (same id): claims added SKUs, releases removed ones, moves
    /// the category count. [`StoreError::NotFound`] when it is gone,
    /// `Conflict(Conflict::ProductChanged)` when it changed since `current` was read,
    /// `Conflict(Conflict::SkuTaken)` when an added SKU belongs to another product.
    async fn replace_product(
        &self,
        current: &Product,
        next: &Product,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Deletes the product, releases its SKUs and uncounts it. [`StoreError::NotFound`] when
    /// it is gone, `Conflict(Conflict::ProductChanged)` when it changed since it was read.
    async fn delete_product(&self, current: &Product, audit: &AuditEntry) -> StoreResult<()>;
    /// One page, newest first, optionally of one category.
    async fn list_products(&self, query: &ProductQuery) -> StoreResult<ProductPage>;
    /// The exact number of products (in `category`), from the counter, not a scan.
    async fn count_products(&self, category: Option<&str>) -> StoreResult<u64>;
}

/// Coupons, unique by code. Every write stores its audit entry in the same transaction.
#[async_trait]
pub trait CouponStore: Send + Sync {
    /// Stores a new coupon; [`StoreError::Conflict`]`("coupon_exists")` when the code is taken.
    async fn create_coupon(&self, coupon: &Coupon, audit: &AuditEntry) -> StoreResult<()>;
    /// The coupon with this code.
    async fn find_coupon(&self, code: &CouponCode) -> StoreResult<Option<Coupon>>;
    /// Writes the admin-editable fields (never the use count, which checkouts own);
    /// [`StoreError::NotFound`] when the coupon is gone.
    async fn update_coupon(&self, coupon: &Coupon, audit: &AuditEntry) -> StoreResult<()>;
    /// Deletes the coupon; [`StoreError::NotFound`] when it is absent.
    async fn delete_coupon(&self, code: &CouponCode, audit: &AuditEntry) -> StoreResult<()>;
    /// Every coupon, by code.
    async fn list_coupons(&self) -> StoreResult<Vec<Coupon>>;
}

/// Carts: one item per user holding every line, written whole and conditionally on its
/// version, so the line limit holds under concurrent requests and checkout deletes the cart
/// in one action (see [`StoredCart`]).
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The user's cart (one read); no lines and version 0 when there is none.
    async fn cart(&self, user: UserId) -> StoreResult<StoredCart>;
    /// Replaces the lines if the cart is still at the version read and returns the new
    /// version; `Conflict(Conflict::CartChanged)` when another write came first. No lines
    /// deletes the cart.
    async fn save_cart(&self, write: VersionedWrite<'_, CartLine>) -> StoreResult<u64>;
    /// The record of a cart write made under `key`, unless absent or expired at `now`.
    async fn cart_key(
        &self,
        user: UserId,
        key: &str,
        now: Timestamp,
    ) -> StoreResult<Option<CartKeyRecord>>;
    /// [`CartStore::save_cart`] and the key's record, atomically;
    /// `Conflict(Conflict::IdempotencyKeyUsed)` when a record live at `now` holds the key (an
    /// expired one is replaced, whether or not the table's TTL has removed it yet).
    async fn save_cart_keyed(
        &self,
        version: u64,
        write_id: &str,
        record: &CartKeyRecord,
        now: Timestamp,
    ) -> StoreResult<u64>;
}

/// Orders, checkout and the order-event outbox.
///
/// [`OrderStore::place_order`] is all-or-nothing. Its conflicts name the first cause found:
/// `idempotency_key_used` (another request placed an order under the key), `cart_changed`,
/// `insufficient_stock`, `coupon_unavailable` (deleted, expired or used up meanwhile),
/// `coupon_limit_reached` (this customer's limit), `transaction_conflict` (a concurrent
/// transaction on the same items; retry). A caller re-reads and decides again.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// The cart and, with a key, the live idempotency record for it (one read).
    async fn checkout_start(
        &self,
        user: UserId,
        key: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<(StoredCart, Option<IdempotencyRecord>)>;
    /// The products, the coupon, the customer's uses of it and their address book (one batch
    /// read).
    async fn checkout_reads(
        &self,
        user: UserId,
        products: &[ProductId],
        coupon: Option<&CouponCode>,
    ) -> StoreResult<CheckoutReads>;
    /// Decrements stock (never below zero), counts the coupon use, stores the order, deletes
    /// the cart, records the idempotency key and puts the event in the outbox; all or nothing.
    async fn place_order(&self, order: &NewOrder<'_>) -> StoreResult<()>;
    /// The order with this id.
    async fn find_order(&self, id: OrderId) -> StoreResult<Option<Order>>;
    /// A page of orders, newest first.
    async fn list_orders(&self, query: &OrderQuery) -> StoreResult<OrderPage>;
    /// Moves the order to `next`'s status if it is still at `current`'s, restocking and
    /// recording the event and the audit entry with it. `Conflict(Conflict::OrderChanged)` when the status moved
    /// meanwhile, `Conflict(Conflict::ProductChanged)` when a product to restock lost the SKU.
    async fn change_order_status(&self, change: &StatusChange<'_>) -> StoreResult<()>;
}

/// Order payments: changes of an order's payment, its ledger, and the unpaid holds.
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Applies `update` all or nothing (ledger entries as [`PaymentStore::record_event`]
    /// writes them). `Conflict(OrderChanged)` when the order's status or
    /// revision moved since it was read, `Conflict(EventSeen)` when the provider event is in
    /// the ledger already, `Conflict(ProductChanged)` when a product to restock lost the SKU,
    /// `Conflict(CouponUnavailable)` when the coupon to give a use back to is gone.
    async fn update_order(&self, update: &OrderUpdate<'_>) -> StoreResult<()>;
    /// Writes one ledger entry alone (a provider event that changes nothing, an operation's
    /// answer that moves no money): an event or a new operation only if absent, an
    /// operation's answer only while it is pending; `Conflict(EventSeen)` otherwise.
    async fn record_event(&self, entry: &LedgerEntry) -> StoreResult<()>;
    /// The order's ledger, oldest first.
    async fn ledger(&self, order: OrderId) -> StoreResult<Vec<LedgerEntry>>;
    /// Orders whose unpaid hold ended before `now`, soonest first (at most `limit`).
    async fn due_holds(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<OrderId>>;
    /// Orders with an operation still pending or a payment not final, as of their last change
    /// before `before` (at most `limit`): what reconciliation asks the provider about.
    async fn unsettled(&self, before: Timestamp, limit: usize) -> StoreResult<Vec<OrderId>>;
}

/// The order-event outbox: every committed event is written there with its change (by
/// [`OrderStore::place_order`] and [`OrderStore::change_order_status`]) and removed once
/// published.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Events still in the outbox, oldest first.
    async fn outbox_events(&self, limit: usize) -> StoreResult<Vec<OrderEvent>>;
    /// Removes a published event from the outbox (absent is not an error).
    async fn delete_outbox_event(&self, id: EventId) -> StoreResult<()>;
}

/// What a claim on sending one order event's e-mail found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailClaim {
    /// This caller may send it now, and must mark it sent (or release the claim) after.
    Claimed,
    /// It was sent already: send nothing.
    AlreadySent,
    /// Another delivery claimed it recently and has not finished: try again later.
    InFlight,
}

/// The e-mail of one order event: `event` is the event's [`OrderEvent::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailMarker<'a> {
    /// The order.
    pub order: OrderId,
    /// The event's name (`placed`, `shipped`, …).
    pub event: &'a str,
}

/// A claim on sending an e-mail or a webhook: made `at`, taking over claims older than
/// `stale_before`.
///
/// Retry safety: the claim carries a random `token`, stored with it. Claiming again with the
/// same token succeeds while the claim is still this one, so a claim whose answer was lost is
/// simply made again (by the SDK's retry, or by the worker) and finds itself, instead of
/// seeing "another delivery in flight" and waiting out the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// When the claim is made.
    pub at: Timestamp,
    /// Claims made before this, never marked sent, belong to a sender that died.
    pub stale_before: Timestamp,
    /// This claim's own mark.
    pub token: u64,
}

impl Claim {
    /// A new claim at `at`, taking over claims older than `lease_seconds`.
    pub fn new(at: Timestamp, lease_seconds: i64) -> Self {
        Self { at, stale_before: at.plus_seconds(-lease_seconds), token: rand::random() }
    }
}

/// One marker per (order, event) e-mail, so a redelivered or duplicated event sends nothing.
#[async_trait]
pub trait SentEmailStore: Send + Sync {
    /// Claims the e-mail at `claim.at`. A claim older than `claim.stale_before` that was
    /// never marked sent is taken over: its sender is assumed to have died (and may or may not
    /// have sent it). The same claim (its token) made again is `Claimed` again.
    async fn claim_email(&self, email: EmailMarker<'_>, claim: Claim) -> StoreResult<EmailClaim>;
    /// Records that the claimed e-mail was sent.
    async fn mark_email_sent(&self, email: EmailMarker<'_>, now: Timestamp) -> StoreResult<()>;
    /// Gives up a claim made at `claimed` (sending failed), if it is still that claim.
    async fn release_email(&self, email: EmailMarker<'_>, claimed: Timestamp) -> StoreResult<()>;
}

/// A customer's address book: one record per account holding every address, written whole
/// and conditionally on its version (so the limit and the single default hold under concurrent
/// requests, and checkout reads it with the cart's other reads).
#[async_trait]
pub trait AddressStore: Send + Sync {
    /// The book (one read); no addresses and version 0 when there is none.
    async fn addresses(&self, user: UserId) -> StoreResult<StoredAddresses>;
    /// Replaces the book if it is still at the version read and returns the new version;
    /// `Conflict(Conflict::AddressesChanged)` when another write came first.
    async fn save_addresses(&self, write: VersionedWrite<'_, Address>) -> StoreResult<u64>;
}

/// The admin audit trail; entries are written by the admin writes themselves.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// One entry by id: how an admin write whose answer was lost finds out it landed (its
    /// entry is written in its own transaction).
    async fn audit_entry(&self, id: crate::domain::AuditId) -> StoreResult<Option<AuditEntry>>;
    /// A page of entries, newest first.
    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<AuditPage>;
}

/// Webhook subscriptions and the delivery log of each event to each of them.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new webhook with its audit entry.
    async fn create_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()>;
    /// Every webhook, oldest first, with their secrets.
    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// The webhook with this id.
    async fn find_webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>>;
    /// Deletes the webhook with its audit entry; [`StoreError::NotFound`] when absent. Its
    /// delivery log expires with its items' TTL.
    async fn delete_webhook(&self, id: WebhookId, audit: &AuditEntry) -> StoreResult<()>;
    /// Claims an attempt to deliver `event` to `webhook` at `claim.at`: when there is no
    /// record yet, when a retry is due, or when a `sending` claim older than
    /// `claim.stale_before` belongs to a worker that died. The same claim (its token) made
    /// again is `Claimed` again.
    async fn claim_delivery(
        &self,
        webhook: WebhookId,
        event: EventId,
        event_type: WebhookEventType,
        claim: Claim,
    ) -> StoreResult<DeliveryClaim>;
    /// Stores the record after an attempt.
    async fn record_delivery(&self, record: &DeliveryRecord) -> StoreResult<()>;
    /// The delivery log of a webhook, newest event first (at most `limit`).
    async fn deliveries(
        &self,
        webhook: WebhookId,
        limit: usize,
    ) -> StoreResult<Vec<DeliveryRecord>>;
}
