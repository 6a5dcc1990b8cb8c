//! The in-memory store: one map per kind of item under one lock, one file per aggregate.

mod accounts;
mod admin;
mod carts;
mod catalog;
mod emails;
mod orders;
mod payments;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, MutexGuard},
};

use super::{
    Conflict, IdempotencyRecord, LoginFailures, Session, StoreError, StoreResult, StoredAddresses,
    StoredCart, UserRecord,
};
use crate::domain::{
    AuditEntry, AuditId, Coupon, CouponCode, DeliveryRecord, Email, EventId, Order, OrderEvent,
    OrderId, Product, ProductId, SessionId, Sku, Timestamp, UnitsByProduct, UserId, Webhook,
    WebhookId,
};

/// An in-process store with the same semantics as [`super::DynamoStore`]: every operation
/// is atomic under one lock, as the conditional writes and transactions are in DynamoDB.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<Email, UserRecord>,
    emails_by_id: HashMap<UserId, Email>,
    sessions: HashMap<SessionId, Session>,
    login_failures: HashMap<Email, LoginFailures>,
    products: HashMap<ProductId, Product>,
    /// Listing order: [`sort_key`] → id (a product's sort key never changes).
    order: BTreeMap<String, ProductId>,
    sku_owners: HashMap<Sku, ProductId>,
    category_counts: HashMap<String, u64>,
    coupons: BTreeMap<CouponCode, Coupon>,
    carts: HashMap<UserId, StoredCart>,
    orders: HashMap<OrderId, Order>,
    /// Listing order: [`Order::sort_key`] → id.
    order_keys: BTreeMap<String, OrderId>,
    idempotency: HashMap<(UserId, String), IdempotencyRecord>,
    cart_keys: HashMap<(UserId, String), super::CartKeyRecord>,
    coupon_uses: HashMap<(CouponCode, UserId), u32>,
    outbox: BTreeMap<EventId, OrderEvent>,
    /// (order, event) → (sent, claimed at).
    /// Per e-mail: sent, claimed or sent at, the claim's token.
    sent_emails: HashMap<(OrderId, String), (bool, Timestamp, u64)>,
    addresses: HashMap<UserId, StoredAddresses>,
    audit: BTreeMap<AuditId, AuditEntry>,
    webhooks: BTreeMap<WebhookId, Webhook>,
    deliveries: BTreeMap<(WebhookId, EventId), DeliveryRecord>,
    /// The token of each delivery's last claim.
    delivery_claims: BTreeMap<(WebhookId, EventId), u64>,
    /// Payment ledgers: (order, entry id) → entry.
    ledger: BTreeMap<(OrderId, String), crate::domain::LedgerEntry>,
    /// Unpaid holds by deadline.
    holds: std::collections::BTreeSet<(Timestamp, OrderId)>,
    /// Unpaid orders per customer.
    unpaid: HashMap<UserId, u32>,
    /// Payments not final, since their last change.
    watch: BTreeMap<OrderId, Timestamp>,
    /// Writes still to be applied but answered as failed (a lost answer), for tests.
    lost_answers: usize,
}

impl MemoryStore {
    /// Applies the next `count` account creations, cart and address-book saves, checkouts,
    /// status changes, product, coupon and webhook writes, session openings, refresh
    /// rotations, e-mail and webhook delivery claims, but answers each as failed with
    /// [`StoreError::Unavailable`], as a database whose answer is lost after it committed.
    pub fn lose_next_answers(&self, count: usize) {
        self.lock().lost_answers = count;
    }
}

impl Inner {
    /// The answer to a write just applied: `result`, or a lost answer if some are due.
    fn answer<T>(&mut self, result: StoreResult<T>) -> StoreResult<T> {
        if result.is_ok() && self.lost_answers > 0 {
            self.lost_answers -= 1;
            return Err(StoreError::Unavailable(anyhow::anyhow!("answer lost after the write")));
        }
        result
    }

    /// Records an admin write's audit entry (under the lock of the write, after
    /// [`Inner::check_audit`]).
    fn audit(&mut self, entry: &AuditEntry) {
        self.audit.insert(entry.id, entry.clone());
    }

    /// Refuses a write whose audit entry cannot be stored (its id is taken), as the
    /// conditional put of the entry fails the whole transaction on DynamoDB.
    fn check_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        if self.audit.contains_key(&entry.id) {
            return Err(StoreError::Unexpected(anyhow::anyhow!("audit entry {} exists", entry.id)));
        }
        Ok(())
    }

    /// Whether every SKU `product` claims is free or already its own.
    fn skus_free_for(&self, product: &Product) -> bool {
        product.variants.iter().all(|variant| {
            self.sku_owners.get(&variant.sku).is_none_or(|owner| *owner == product.id)
        })
    }

    /// The stored product, if it is still the version `current` was read at.
    fn check_current(&self, current: &Product) -> StoreResult<()> {
        match self.products.get(&current.id) {
            None => Err(StoreError::NotFound),
            Some(stored) if stored.version != current.version => {
                Err(StoreError::Conflict(Conflict::ProductChanged))
            }
            Some(_) => Ok(()),
        }
    }

    /// Whether every (SKU, units) of `units` can leave stock.
    fn in_stock(&self, units: &UnitsByProduct) -> bool {
        units.iter().all(|(id, skus)| {
            self.products.get(id).is_some_and(|product| {
                skus.iter().all(|(sku, quantity)| {
                    product.variants.iter().any(|v| v.sku == *sku && v.stock >= *quantity)
                })
            })
        })
    }

    /// Moves stock by `units` (taken when `take`, put back otherwise); the caller checked it.
    fn move_stock(&mut self, units: &UnitsByProduct, take: bool) {
        for (id, skus) in units {
            let Some(product) = self.products.get_mut(id) else {
                continue;
            };
            for (sku, quantity) in skus {
                if let Some(variant) = product.variants.iter_mut().find(|v| v.sku == *sku) {
                    variant.stock = if take {
                        variant.stock.saturating_sub(*quantity)
                    } else {
                        variant.stock.saturating_add(*quantity)
                    };
                }
            }
            product.version += 1;
        }
    }

    fn count(&mut self, category: &str, delta: i64) {
        let count = self.category_counts.entry(category.to_owned()).or_default();
        *count = count.saturating_add_signed(delta);
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enters an operation: yields to the runtime first, then takes the lock. A remote store
    /// suspends a request at every call; yielding here does the same, so concurrent requests
    /// interleave between a service's reads and its conditional write, and a race test on
    /// this store proves the store's own checks rather than the order tasks happen to run in.
    async fn enter(&self) -> MutexGuard<'_, Inner> {
        tokio::task::yield_now().await;
        self.lock()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half an operation behind (each
        // operation writes only after all its checks), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
