//! Orders, checkout, status changes and the outbox in memory, each all-or-nothing under the
//! store's one lock.

use std::ops::Bound;

use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    domain::{CouponCode, EventId, Order, OrderEvent, OrderId, ProductId, Timestamp, UserId},
    store::{
        CheckoutReads, Conflict, IdempotencyRecord, NewOrder, OrderPage, OrderQuery, OrderScope,
        OrderStore, OutboxStore, StatusChange, StoreError, StoreResult, StoredCart,
    },
};

#[async_trait]
impl OrderStore for MemoryStore {
    async fn checkout_start(
        &self,
        user: UserId,
        key: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<(StoredCart, Option<IdempotencyRecord>)> {
        let inner = self.enter().await;
        let cart = inner.carts.get(&user).cloned().unwrap_or_default();
        let record = key
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
    ) -> StoreResult<CheckoutReads> {
        let inner = self.enter().await;
        Ok(CheckoutReads {
            products: products
                .iter()
                .filter_map(|id| inner.products.get(id).map(|p| (*id, p.clone())))
                .collect(),
            coupon: coupon.and_then(|code| inner.coupons.get(code).cloned()),
            coupon_uses_by_user: coupon
                .and_then(|code| inner.coupon_uses.get(&(code.clone(), user)).copied())
                .unwrap_or(0),
            addresses: inner
                .addresses
                .get(&user)
                .map(|book| book.addresses.clone())
                .unwrap_or_default(),
        })
    }

    async fn place_order(&self, new: &NewOrder<'_>) -> StoreResult<()> {
        let mut inner = self.enter().await;
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
            let used = inner.coupon_uses.get(&(coupon.code.clone(), user)).copied().unwrap_or(0);
            if coupon.max_uses_per_user.is_some_and(|max| used >= max) {
                return Err(StoreError::Conflict(Conflict::CouponLimitReached));
            }
        }
        if inner.orders.contains_key(&order.id) {
            return Err(StoreError::Conflict(Conflict::OrderExists));
        }
        let hold = new.max_unpaid.and_then(|max| {
            order.payment.as_ref().and_then(|p| p.hold_until).map(|until| (until, max))
        });
        if let Some((_, max)) = hold
            && inner.unpaid.get(&user).copied().unwrap_or(0) >= max
        {
            return Err(StoreError::Conflict(Conflict::TooManyUnpaid));
        }
        if let Some((until, _)) = hold {
            *inner.unpaid.entry(user).or_default() += 1;
            inner.holds.insert((until, order.id));
        }
        inner.move_stock(&new.checkout.stock, true);
        if let Some(coupon) = new.coupon {
            if let Some(stored) = inner.coupons.get_mut(&coupon.code) {
                stored.uses += 1;
            }
            *inner.coupon_uses.entry((coupon.code.clone(), user)).or_default() += 1;
        }
        inner.carts.remove(&user);
        if let Some(record) = new.idempotency {
            inner.idempotency.insert((user, record.key.clone()), record.clone());
        }
        inner.order_keys.insert(order.sort_key(), order.id);
        inner.orders.insert(order.id, order.clone());
        inner.outbox.insert(new.event.id, new.event.clone());
        inner.answer(Ok(()))
    }

    async fn find_order(&self, id: OrderId) -> StoreResult<Option<Order>> {
        Ok(self.enter().await.orders.get(&id).cloned())
    }

    async fn list_orders(&self, query: &OrderQuery) -> StoreResult<OrderPage> {
        let inner = self.enter().await;
        let upper = query.after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
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
            next: more.then(|| listed.last().map(|(key, _)| (*key).clone())).flatten(),
            orders: listed.into_iter().map(|(_, o)| o.clone()).collect(),
        })
    }

    async fn change_order_status(&self, change: &StatusChange<'_>) -> StoreResult<()> {
        let mut inner = self.enter().await;
        match inner.orders.get(&change.current.id) {
            Some(stored)
                if stored.status == change.current.status
                    && stored.revision == change.current.revision => {}
            Some(_) => return Err(StoreError::Conflict(Conflict::OrderChanged)),
            None => return Err(StoreError::NotFound),
        }
        let restockable = change.restock.iter().all(|(id, skus)| {
            inner.products.get(id).is_some_and(|product| {
                skus.iter().all(|(sku, _)| product.variants.iter().any(|v| v.sku == *sku))
            })
        });
        if !restockable {
            return Err(StoreError::Conflict(Conflict::ProductChanged));
        }
        inner.check_audit(change.audit)?;
        inner.move_stock(change.restock, false);
        inner.orders.insert(change.next.id, change.next.clone());
        inner.outbox.insert(change.event.id, change.event.clone());
        inner.audit(change.audit);
        inner.answer(Ok(()))
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn outbox_events(&self, limit: usize) -> StoreResult<Vec<OrderEvent>> {
        Ok(self.enter().await.outbox.values().take(limit).cloned().collect())
    }

    async fn delete_outbox_event(&self, id: EventId) -> StoreResult<()> {
        self.enter().await.outbox.remove(&id);
        Ok(())
    }
}
