//! What the store traits read and write besides the domain types: sessions, login failures,
//! pages, checkout and status-change writes.

use crate::domain::{
    Address, AuditAction, AuditEntry, CartLine, Checkout, Coupon, DeliveryRecord, Email, Order,
    OrderEvent, OrderStatus, Product, ProductId, Role, SessionId, StoredHash, Timestamp, TokenId,
    User, UserId,
};
use crate::domain::{LedgerEntry, UnitsByProduct};

/// An account with its password hash: what login needs in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The account.
    pub user: User,
    /// Its password hash.
    pub password_hash: StoredHash,
}

/// A login session: who it belongs to and with which role (the identity every authenticated
/// request uses, whatever a token claims), the refresh token currently valid for it, the one
/// it replaced and when, and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (in every token of the session).
    pub id: SessionId,
    /// The account.
    pub user_id: UserId,
    /// The account's e-mail address.
    pub email: Email,
    /// The account's role; kept current by [`super::UserStore::set_role`].
    pub role: Role,
    /// The id of the one refresh token that may be spent now.
    pub refresh_jti: TokenId,
    /// The refresh token rotated out last, and when (for the reuse grace window).
    pub previous_jti: Option<(TokenId, Timestamp)>,
    /// When it was created (UTC).
    pub created_at: Timestamp,
    /// When it ends (UTC).
    pub expires_at: Timestamp,
}

impl Session {
    /// A new session of `user` opened at `now`, lasting `lifetime_seconds`, with a fresh id
    /// and refresh token.
    pub fn open(user: &User, now: Timestamp, lifetime_seconds: i64) -> Self {
        Session {
            id: SessionId::new(),
            user_id: user.id,
            email: user.email.clone(),
            role: user.role,
            refresh_jti: TokenId::new(),
            previous_jti: None,
            created_at: now,
            expires_at: now.plus_seconds(lifetime_seconds),
        }
    }

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
    /// The presented token is not the current one (the session is returned as it is): either
    /// the one just rotated out, or a replay of a stolen or leaked token. The caller decides.
    Stale(Session),
    /// No live session: logged out, revoked or expired.
    Gone,
}

/// Login attempts for one e-mail address within a fixed window: each attempt is counted
/// before its password is checked, and a successful one clears the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    /// Attempts so far in the window that did not (yet) succeed.
    pub count: u32,
    /// When the window that started with the first attempt ends.
    pub window_ends: Timestamp,
}

impl LoginFailures {
    /// If logins are refused at `now` under a limit of `max` attempts: the seconds until the
    /// window ends (at least 1).
    pub fn lockout(&self, max: u32, now: Timestamp) -> Option<i64> {
        let left = self.window_ends.unix() - now.unix();
        (self.count >= max && left > 0).then_some(left.max(1))
    }
}

/// The window a login attempt counts in: the attempt's time, and at most `max_attempts` per
/// window of `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginWindow {
    /// When the attempt is made.
    pub now: Timestamp,
    /// The attempts a window admits.
    pub max_attempts: u32,
    /// A window's length, from its first attempt.
    pub seconds: i64,
}

/// The answer to a login attempt's request to check a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAdmission {
    /// The attempt is counted (`attempts` includes it): check the password against
    /// `account` (`None`: no account has this e-mail).
    Admitted {
        /// The account with this e-mail, if any, with its password hash.
        account: Option<UserRecord>,
        /// The attempts in the open window, this one included.
        attempts: LoginFailures,
    },
    /// The window already holds the maximum: refuse without checking anything.
    Locked {
        /// Seconds until the window ends (at least 1).
        retry_after_seconds: i64,
    },
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
    /// The category it is listed under.
    pub category: Option<String>,
    /// Where the page starts.
    pub start: ListStart,
    /// Items per page.
    pub limit: usize,
}

/// A page of products and, when more follow, the [`sort_key`] to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    /// The products of the page.
    pub products: Vec<Product>,
    /// Where the next page starts (a sort key); none on the last.
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
    /// The lines.
    pub lines: Vec<CartLine>,
    /// The version the next write must match.
    pub version: u64,
    /// The id of the write that stored these lines: a write whose answer was lost finds its
    /// own id here (and knows it landed) when its retry fails on the version.
    pub write_id: Option<String>,
}

/// A document written whole, if it is still at the version read: a cart's lines or an address
/// book. `version` 0 means none yet; `write_id` marks the stored document, so a write whose
/// answer was lost finds its own id on the next read and knows it landed.
#[derive(Debug, Clone, Copy)]
pub struct VersionedWrite<'a, T> {
    /// The document's owner.
    pub user: UserId,
    /// The version read (0: none yet).
    pub version: u64,
    /// The document's new contents (none deletes a cart).
    pub items: &'a [T],
    /// The write's own id.
    pub write_id: &'a str,
}

/// A cart write made under an `Idempotency-Key`: the request it answered (canonical JSON) and
/// the lines it wrote, kept 24 hours per customer and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartKeyRecord {
    /// The customer.
    pub user: UserId,
    /// The key.
    pub key: String,
    /// The request, as compared with a retry's.
    pub request: String,
    /// The lines the write left in the cart.
    pub lines: Vec<CartLine>,
    /// When the record is forgotten.
    pub expires_at: Timestamp,
}

/// Puts cart lines in their stored order: by product id (so by product age), then SKU.
pub(super) fn sort_lines(lines: &mut [CartLine]) {
    lines.sort_by(|a, b| (a.product_id, &a.sku).cmp(&(b.product_id, &b.sku)));
}

/// What checkout reads besides the cart, in one batch: the cart's products, the coupon and how
/// often this customer has used it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutReads {
    /// The cart's products that still exist, by id.
    pub products: std::collections::HashMap<ProductId, Product>,
    /// The coupon asked for, if it exists.
    pub coupon: Option<Coupon>,
    /// How often this customer has used it.
    pub coupon_uses_by_user: u32,
    /// The customer's address book.
    pub addresses: Vec<Address>,
}

/// A checkout kept under the customer's `Idempotency-Key` for 24 hours: the request it answered
/// (canonical JSON) and the order it placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The customer who sent the key.
    pub user: UserId,
    /// The `Idempotency-Key`.
    pub key: String,
    /// The request it answered (canonical JSON).
    pub request: String,
    /// The order it placed.
    pub order: Order,
    /// When it ends (UTC).
    pub expires_at: Timestamp,
}

/// Everything one checkout writes, atomically.
#[derive(Debug, Clone, Copy)]
pub struct NewOrder<'a> {
    /// The priced order and the stock it takes.
    pub checkout: &'a Checkout,
    /// The version of the cart the order was priced from (the cart is deleted only if unchanged).
    pub cart_version: u64,
    /// The coupon applied: its use is counted, within `max_uses` and `max_uses_per_user`.
    pub coupon: Option<&'a Coupon>,
    /// The idempotency record to keep, with a key.
    pub idempotency: Option<&'a IdempotencyRecord>,
    /// The "placed" event, written to the outbox.
    pub event: &'a OrderEvent,
    /// The time of the request.
    pub now: Timestamp,
    /// With payments: the order holds its stock unpaid until `order.payment.hold_until`,
    /// counted among the customer's unpaid orders, of which there may be at most this many.
    pub max_unpaid: Option<u32>,
}

/// A change of an order's payment (and maybe its status), atomically: the order (only if
/// still at `current`'s status and revision), the units put back in stock, the coupon use
/// given back, the hold released, ledger entries, the event in the outbox, the audit entry.
#[derive(Debug, Clone, Copy)]
pub struct OrderUpdate<'a> {
    /// The order as read.
    pub current: &'a Order,
    /// The order as it becomes (its revision one more than `current`'s).
    pub next: &'a Order,
    /// Units to put back in stock.
    pub restock: &'a UnitsByProduct,
    /// Give the coupon's use back (the coupon still exists).
    pub coupon_back: bool,
    /// Release the unpaid hold (the order is paid, expired or cancelled).
    pub release_hold: bool,
    /// Ledger entries to write: operations (replacing an entry with the same id) and, with
    /// `event_id`, the provider's event, which must be new (`Conflict(EventSeen)`).
    pub ledger: &'a [LedgerEntry],
    /// The order event, for the outbox.
    pub event: Option<&'a OrderEvent>,
    /// The audit entry (captures, refunds, cancellations).
    pub audit: Option<&'a AuditEntry>,
}

/// A status change, atomically: the order (only if still at `current`'s status), the units put
/// back in stock, and the event in the outbox.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange<'a> {
    /// The order as read.
    pub current: &'a Order,
    /// The order as it becomes.
    pub next: &'a Order,
    /// Units to put back in stock.
    pub restock: &'a UnitsByProduct,
    /// The status-change event, for the outbox.
    pub event: &'a OrderEvent,
    /// The admin's audit entry.
    pub audit: &'a AuditEntry,
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
    /// Whose orders.
    pub scope: OrderScope,
    /// Continue after this position.
    pub after: Option<String>,
    /// Items per page.
    pub limit: usize,
}

/// A page of orders and, when more follow, the position to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    /// The orders of the page.
    pub orders: Vec<Order>,
    /// Where the next page starts (a sort key); none on the last.
    pub next: Option<String>,
}

/// A customer's address book as stored, and the version the next write must match (0 when
/// there is none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredAddresses {
    /// The addresses, oldest first.
    pub addresses: Vec<Address>,
    /// The version the next write must match.
    pub version: u64,
    /// The id of the write that stored this book (see [`StoredCart::write_id`]).
    pub write_id: Option<String>,
}

/// An audit-trail listing: newest first, optionally one action, after an entry id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Continue after (older than) this entry id.
    pub after: Option<crate::domain::AuditId>,
    /// Entries per page.
    pub limit: usize,
}

/// A page of audit entries, and the id to continue after when more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// The last entry's id when another page follows.
    pub next: Option<crate::domain::AuditId>,
}

/// What a claim on delivering one event to one webhook found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryClaim {
    /// This caller attempts it now; the record as claimed (attempts so far).
    Claimed(DeliveryRecord),
    /// Delivered or given up before: nothing to do.
    Done(DeliveryRecord),
    /// A retry is due later, at `next_attempt_at`.
    NotYet(DeliveryRecord),
    /// Another worker is attempting it now.
    InFlight,
}
