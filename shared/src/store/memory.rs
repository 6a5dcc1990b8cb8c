use std::{
    collections::{BTreeMap, HashMap},
    ops::Bound,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;

use super::{
    CartStore, CouponStore, ListStart, ProductPage, ProductQuery, ProductStore, RotateOutcome,
    Session, SessionStore, StoreError, StoredCart, UserRecord, UserStore, records::sort_lines,
    sort_key,
};
use crate::domain::{
    CartLine, Coupon, CouponCode, Email, Product, ProductId, Role, SessionId, Sku, Timestamp,
    TokenId, User, UserId,
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
    products: HashMap<ProductId, Product>,
    /// Listing order: [`sort_key`] → id (a product's sort key never changes).
    order: BTreeMap<String, ProductId>,
    sku_owners: HashMap<Sku, ProductId>,
    category_counts: HashMap<String, u64>,
    coupons: BTreeMap<CouponCode, Coupon>,
    carts: HashMap<UserId, StoredCart>,
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
                Err(StoreError::Conflict("product_changed"))
            }
            Some(_) => Ok(()),
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
impl UserStore for MemoryStore {
    async fn create_user(&self, record: &UserRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.users.contains_key(&record.user.email) {
            return Err(StoreError::Conflict("email_taken"));
        }
        if inner.emails_by_id.contains_key(&record.user.id) {
            return Err(StoreError::Conflict("user_exists"));
        }
        inner
            .emails_by_id
            .insert(record.user.id, record.user.email.clone());
        inner
            .users
            .insert(record.user.email.clone(), record.clone());
        Ok(())
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().users.get(email).cloned())
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let inner = self.lock();
        let record = inner
            .emails_by_id
            .get(&id)
            .and_then(|email| inner.users.get(email));
        Ok(record.map(|r| r.user.clone()))
    }

    async fn set_role(&self, user: &User, role: Role) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.users.get_mut(&user.email) {
            Some(record) if record.user.id == user.id => {
                record.user.role = role;
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict("session_exists"));
        }
        inner.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn find_session(
        &self,
        id: SessionId,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        Ok(self
            .lock()
            .sessions
            .get(&id)
            .filter(|s| s.is_live(now))
            .cloned())
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        now: Timestamp,
    ) -> Result<RotateOutcome, StoreError> {
        let mut inner = self.lock();
        let Some(session) = inner.sessions.get_mut(&id).filter(|s| s.is_live(now)) else {
            return Ok(RotateOutcome::Gone);
        };
        if session.refresh_jti != presented {
            return Ok(RotateOutcome::Reused);
        }
        session.refresh_jti = next;
        Ok(RotateOutcome::Rotated(session.clone()))
    }

    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        self.lock().sessions.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl ProductStore for MemoryStore {
    async fn create_product(&self, product: &Product) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.products.contains_key(&product.id) {
            return Err(StoreError::Conflict("product_exists"));
        }
        if !inner.skus_free_for(product) {
            return Err(StoreError::Conflict("sku_taken"));
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
            return Err(StoreError::Conflict("sku_taken"));
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
            return Err(StoreError::Conflict("coupon_exists"));
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
            return Err(StoreError::Conflict("cart_changed"));
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
