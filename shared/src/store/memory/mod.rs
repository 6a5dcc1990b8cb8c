use crate::domain::UnitsByProduct;
use crate::store::Conflict;
use std::{
    collections::{BTreeMap, HashMap},
    ops::Bound,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;

mod accounts;

use super::{
    CartStore, CheckoutReads, CouponStore, EmailClaim, IdempotencyRecord, ListStart, LoginFailures,
    NewOrder, OrderPage, OrderQuery, OrderScope, OrderStore, ProductPage, ProductQuery,
    ProductStore, SentEmailStore, Session, StatusChange, StoreError, StoredCart, UserRecord,
    records::sort_lines, sort_key,
};
use crate::domain::{
    CartLine, Coupon, CouponCode, Email, EventId, Order, OrderEvent, OrderId, Product, ProductId,
    SessionId, Sku, Timestamp, UserId,
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
    coupon_uses: HashMap<(CouponCode, UserId), u32>,
    outbox: BTreeMap<EventId, OrderEvent>,
    /// (order, event) → (sent, claimed at).
    sent_emails: HashMap<(OrderId, String), (bool, Timestamp)>,
}

impl Inner {
    /// Whether every SKU `product` claims is free or already its own.
    fn skus_free_for(&self, product: &Product) -> bool {
        product.variants.iter().all(|variant| {
            self.sku_owners
                .get(&variant.sku)
                .is_none_or(|owner| *owner == product.id)
        })
    }

    /// The stored product, if it is still the version `current` was read at.
    fn check_current(&self, current: &Product) -> Result<(), StoreError> {
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
                    product
                        .variants
                        .iter()
                        .any(|v| v.sku == *sku && v.stock >= *quantity)
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

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half an operation behind (each
        // operation writes only after all its checks), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl ProductStore for MemoryStore {
    async fn create_product(&self, product: &Product) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.products.contains_key(&product.id) {
            return Err(StoreError::Conflict(Conflict::ProductExists));
        }
        if !inner.skus_free_for(product) {
            return Err(StoreError::Conflict(Conflict::SkuTaken));
        }
        for variant in &product.variants {
            inner.sku_owners.insert(variant.sku.clone(), product.id);
        }
        inner.count(&product.category, 1);
        inner.order.insert(sort_key(product), product.id);
        inner.products.insert(product.id, product.clone());
        Ok(())
    }

    async fn find_product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.lock().products.get(&id).cloned())
    }

    async fn find_products(
        &self,
        ids: &[ProductId],
    ) -> Result<HashMap<ProductId, Product>, StoreError> {
        let inner = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| inner.products.get(id).map(|p| (*id, p.clone())))
            .collect())
    }

    async fn replace_product(&self, current: &Product, next: &Product) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.check_current(current)?;
        if !inner.skus_free_for(next) {
            return Err(StoreError::Conflict(Conflict::SkuTaken));
        }
        let changes = current.sku_changes(next);
        for sku in &changes.removed {
            inner.sku_owners.remove(sku);
        }
        for sku in changes.added {
            inner.sku_owners.insert(sku, next.id);
        }
        if current.category != next.category {
            inner.count(&current.category, -1);
            inner.count(&next.category, 1);
        }
        inner.products.insert(next.id, next.clone());
        Ok(())
    }

    async fn delete_product(&self, current: &Product) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.check_current(current)?;
        for variant in &current.variants {
            inner.sku_owners.remove(&variant.sku);
        }
        inner.count(&current.category, -1);
        inner.order.remove(&sort_key(current));
        inner.products.remove(&current.id);
        Ok(())
    }

    async fn list_products(&self, query: &ProductQuery) -> Result<ProductPage, StoreError> {
        let inner = self.lock();
        let (skip, before) = match &query.start {
            ListStart::Offset(skip) => (*skip, None),
            ListStart::After(key) => (0, Some(key.as_str())),
        };
        let upper = before.map_or(Bound::Unbounded, Bound::Excluded);
        let newest_first = inner.order.range::<str, _>((Bound::Unbounded, upper)).rev();
        let mut listed: Vec<(&String, &Product)> = newest_first
            .filter_map(|(key, id)| inner.products.get(id).map(|p| (key, p)))
            .filter(|(_, p)| query.category.as_ref().is_none_or(|c| *c == p.category))
            .skip(skip)
            .take(query.limit + 1)
            .collect();
        let more = listed.len() > query.limit;
        listed.truncate(query.limit);
        Ok(ProductPage {
            next: more
                .then(|| listed.last().map(|(key, _)| (*key).clone()))
                .flatten(),
            products: listed.into_iter().map(|(_, p)| p.clone()).collect(),
        })
    }

    async fn count_products(&self, category: Option<&str>) -> Result<u64, StoreError> {
        let inner = self.lock();
        Ok(match category {
            Some(category) => inner.category_counts.get(category).copied().unwrap_or(0),
            None => inner.products.len() as u64,
        })
    }
}

#[async_trait]
impl CouponStore for MemoryStore {
    async fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.coupons.contains_key(&coupon.code) {
            return Err(StoreError::Conflict(Conflict::CouponExists));
        }
        inner.coupons.insert(coupon.code.clone(), coupon.clone());
        Ok(())
    }

    async fn find_coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        Ok(self.lock().coupons.get(code).cloned())
    }

    async fn update_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let stored = inner
            .coupons
            .get_mut(&coupon.code)
            .ok_or(StoreError::NotFound)?;
        let uses = stored.uses;
        *stored = Coupon {
            uses,
            ..coupon.clone()
        };
        Ok(())
    }

    async fn delete_coupon(&self, code: &CouponCode) -> Result<(), StoreError> {
        self.lock()
            .coupons
            .remove(code)
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    async fn list_coupons(&self) -> Result<Vec<Coupon>, StoreError> {
        Ok(self.lock().coupons.values().cloned().collect())
    }
}

#[async_trait]
impl CartStore for MemoryStore {
    async fn cart(&self, user: UserId) -> Result<StoredCart, StoreError> {
        Ok(self.lock().carts.get(&user).cloned().unwrap_or_default())
    }

    async fn save_cart(
        &self,
        user: UserId,
        version: u64,
        lines: &[CartLine],
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let current = inner.carts.get(&user).map_or(0, |cart| cart.version);
        if current != version {
            return Err(StoreError::Conflict(Conflict::CartChanged));
        }
        if lines.is_empty() {
            inner.carts.remove(&user);
            return Ok(0);
        }
        let mut lines = lines.to_vec();
        sort_lines(&mut lines);
        let next = version + 1;
        inner.carts.insert(
            user,
            StoredCart {
                lines,
                version: next,
            },
        );
        Ok(next)
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn checkout_start(
        &self,
        user: UserId,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<(StoredCart, Option<IdempotencyRecord>), StoreError> {
        let inner = self.lock();
        let cart = inner.carts.get(&user).cloned().unwrap_or_default();
        let record = idempotency_key
            .and_then(|key| inner.idempotency.get(&(user, key.to_owned())))
            .filter(|record| now < record.expires_at)
            .cloned();
        Ok((cart, record))
    }

    async fn checkout_reads(
        &self,
        user: UserId,
        products: &[ProductId],
        coupon: Option<&CouponCode>,
    ) -> Result<CheckoutReads, StoreError> {
        let inner = self.lock();
        Ok(CheckoutReads {
            products: products
                .iter()
                .filter_map(|id| inner.products.get(id).map(|p| (*id, p.clone())))
                .collect(),
            coupon: coupon.and_then(|code| inner.coupons.get(code).cloned()),
            coupon_uses_by_user: coupon
                .and_then(|code| inner.coupon_uses.get(&(code.clone(), user)).copied())
                .unwrap_or(0),
        })
    }

    async fn place_order(&self, new: &NewOrder<'_>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let order = &new.checkout.order;
        let user = order.user_id;
        // The checks, in the order of the store contract; nothing is written until all pass.
        if let Some(record) = new.idempotency {
            let taken = inner
                .idempotency
                .get(&(user, record.key.clone()))
                .is_some_and(|r| new.now < r.expires_at);
            if taken {
                return Err(StoreError::Conflict(Conflict::IdempotencyKeyUsed));
            }
        }
        let cart_version = inner.carts.get(&user).map_or(0, |cart| cart.version);
        if cart_version != new.cart_version || new.cart_version == 0 {
            return Err(StoreError::Conflict(Conflict::CartChanged));
        }
        if !inner.in_stock(&new.checkout.stock) {
            return Err(StoreError::Conflict(Conflict::InsufficientStock));
        }
        if let Some(coupon) = new.coupon {
            let stored = inner.coupons.get(&coupon.code);
            let usable = stored
                .is_some_and(|c| new.now < c.expiry && c.max_uses.is_none_or(|max| c.uses < max));
            if !usable {
                return Err(StoreError::Conflict(Conflict::CouponUnavailable));
            }
            let used = inner
                .coupon_uses
                .get(&(coupon.code.clone(), user))
                .copied()
                .unwrap_or(0);
            if coupon.max_uses_per_user.is_some_and(|max| used >= max) {
                return Err(StoreError::Conflict(Conflict::CouponLimitReached));
            }
        }
        if inner.orders.contains_key(&order.id) {
            return Err(StoreError::Conflict(Conflict::OrderExists));
        }
        inner.move_stock(&new.checkout.stock, true);
        if let Some(coupon) = new.coupon {
            if let Some(stored) = inner.coupons.get_mut(&coupon.code) {
                stored.uses += 1;
            }
            *inner
                .coupon_uses
                .entry((coupon.code.clone(), user))
                .or_default() += 1;
        }
        inner.carts.remove(&user);
        if let Some(record) = new.idempotency {
            inner
                .idempotency
                .insert((user, record.key.clone()), record.clone());
        }
        inner.order_keys.insert(order.sort_key(), order.id);
        inner.orders.insert(order.id, order.clone());
        inner.outbox.insert(new.event.id, new.event.clone());
        Ok(())
    }

    async fn find_order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.lock().orders.get(&id).cloned())
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        let inner = self.lock();
        let upper = query
            .after
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Excluded);
        let mut listed: Vec<(&String, &Order)> = inner
            .order_keys
            .range::<str, _>((Bound::Unbounded, upper))
            .rev()
            .filter_map(|(key, id)| inner.orders.get(id).map(|o| (key, o)))
            .filter(|(_, order)| match query.scope {
                OrderScope::Customer(user) => order.user_id == user,
                OrderScope::All(status) => status.is_none_or(|s| order.status == s),
            })
            .take(query.limit + 1)
            .collect();
        let more = listed.len() > query.limit;
        listed.truncate(query.limit);
        Ok(OrderPage {
            next: more
                .then(|| listed.last().map(|(key, _)| (*key).clone()))
                .flatten(),
            orders: listed.into_iter().map(|(_, o)| o.clone()).collect(),
        })
    }

    async fn change_order_status(&self, change: &StatusChange<'_>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.orders.get(&change.current.id) {
            Some(stored) if stored.status == change.current.status => {}
            Some(_) => return Err(StoreError::Conflict(Conflict::OrderChanged)),
            None => return Err(StoreError::NotFound),
        }
        let restockable = change.restock.iter().all(|(id, skus)| {
            inner.products.get(id).is_some_and(|product| {
                skus.iter()
                    .all(|(sku, _)| product.variants.iter().any(|v| v.sku == *sku))
            })
        });
        if !restockable {
            return Err(StoreError::Conflict(Conflict::ProductChanged));
        }
        inner.move_stock(change.restock, false);
        inner.orders.insert(change.next.id, change.next.clone());
        inner.outbox.insert(change.event.id, change.event.clone());
        Ok(())
    }

    async fn outbox_events(&self, limit: usize) -> Result<Vec<OrderEvent>, StoreError> {
        Ok(self.lock().outbox.values().take(limit).cloned().collect())
    }

    async fn delete_outbox_event(&self, id: EventId) -> Result<(), StoreError> {
        self.lock().outbox.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl SentEmailStore for MemoryStore {
    async fn claim_email(
        &self,
        order: OrderId,
        event: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<EmailClaim, StoreError> {
        let mut inner = self.lock();
        let key = (order, event.to_owned());
        match inner.sent_emails.get(&key) {
            Some((true, _)) => Ok(EmailClaim::AlreadySent),
            Some((false, claimed)) if *claimed >= stale_before => Ok(EmailClaim::InFlight),
            _ => {
                inner.sent_emails.insert(key, (false, now));
                Ok(EmailClaim::Claimed)
            }
        }
    }

    async fn mark_email_sent(
        &self,
        order: OrderId,
        event: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock()
            .sent_emails
            .insert((order, event.to_owned()), (true, now));
        Ok(())
    }

    async fn release_email(
        &self,
        order: OrderId,
        event: &str,
        claimed_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let key = (order, event.to_owned());
        if inner.sent_emails.get(&key) == Some(&(false, claimed_at)) {
            inner.sent_emails.remove(&key);
        }
        Ok(())
    }
}
