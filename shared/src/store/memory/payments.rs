//! Order payments in memory: every change all or nothing under the store's one lock.

use async_trait::async_trait;

use super::{Inner, MemoryStore};
use crate::{
    domain::{LedgerEntry, LedgerKind, LedgerStatus, Order, OrderId, Timestamp},
    store::{Conflict, OrderUpdate, PaymentStore, StoreError, StoreResult},
};

fn watched(order: &Order) -> bool {
    order.payment.as_ref().is_some_and(|p| p.intent_id.is_some() && !p.is_final())
}

impl Inner {
    /// Every condition of `update`, checked before anything is written.
    fn check_update(&self, update: &OrderUpdate<'_>) -> StoreResult<()> {
        let current = update.current;
        match self.orders.get(&current.id) {
            Some(stored)
                if stored.status == current.status && stored.revision == current.revision => {}
            Some(_) => return Err(StoreError::Conflict(Conflict::OrderChanged)),
            None => return Err(StoreError::NotFound),
        }
        let restockable = update.restock.iter().all(|(id, skus)| {
            self.products.get(id).is_some_and(|product| {
                skus.iter().all(|(sku, _)| product.variants.iter().any(|v| v.sku == *sku))
            })
        });
        if !restockable {
            return Err(StoreError::Conflict(Conflict::ProductChanged));
        }
        if update.coupon_back {
            let usable = current.coupon_code.as_ref().and_then(|code| self.coupons.get(code));
            if usable.is_none_or(|coupon| coupon.uses == 0) {
                return Err(StoreError::Conflict(Conflict::CouponUnavailable));
            }
        }
        if !update.ledger.iter().all(|entry| self.ledger_writable(entry)) {
            return Err(StoreError::Conflict(Conflict::EventSeen));
        }
        if let Some(audit) = update.audit {
            self.check_audit(audit)?;
        }
        Ok(())
    }

    /// An event or a new operation only if absent, an operation's answer only while absent or pending.
    fn ledger_writable(&self, entry: &LedgerEntry) -> bool {
        let stored = self.ledger.get(&(entry.order_id, entry.id.clone()));
        if entry.kind == LedgerKind::Event || entry.status == LedgerStatus::Pending {
            stored.is_none()
        } else {
            stored.is_none_or(|stored| stored.status == LedgerStatus::Pending)
        }
    }

    fn give_coupon_back(&mut self, order: &Order) {
        let Some(code) = &order.coupon_code else {
            return;
        };
        if let Some(coupon) = self.coupons.get_mut(code) {
            coupon.uses = coupon.uses.saturating_sub(1);
        }
        if let Some(uses) = self.coupon_uses.get_mut(&(code.clone(), order.user_id)) {
            *uses = uses.saturating_sub(1);
        }
    }

    fn release_hold(&mut self, order: &Order) {
        let Some(until) = order.payment.as_ref().and_then(|p| p.hold_until) else {
            return;
        };
        if self.holds.remove(&(until, order.id))
            && let Some(count) = self.unpaid.get_mut(&order.user_id)
        {
            *count = count.saturating_sub(1);
        }
    }
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn update_order(&self, update: &OrderUpdate<'_>) -> StoreResult<()> {
        let mut inner = self.enter().await;
        inner.check_update(update)?;
        let (current, next) = (update.current, update.next);
        inner.move_stock(update.restock, false);
        if update.coupon_back {
            inner.give_coupon_back(current);
        }
        if update.release_hold {
            inner.release_hold(current);
        }
        for entry in update.ledger {
            inner.ledger.insert((entry.order_id, entry.id.clone()), entry.clone());
        }
        if watched(next) {
            inner.watch.insert(next.id, next.updated_at);
        } else {
            inner.watch.remove(&next.id);
        }
        if let Some(event) = update.event {
            inner.outbox.insert(event.id, event.clone());
        }
        if let Some(audit) = update.audit {
            inner.audit(audit);
        }
        inner.orders.insert(next.id, next.clone());
        inner.answer(Ok(()))
    }

    async fn record_event(&self, entry: &LedgerEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if !inner.ledger_writable(entry) {
            return Err(StoreError::Conflict(Conflict::EventSeen));
        }
        inner.ledger.insert((entry.order_id, entry.id.clone()), entry.clone());
        inner.answer(Ok(()))
    }

    async fn ledger(&self, order: OrderId) -> StoreResult<Vec<LedgerEntry>> {
        let inner = self.enter().await;
        let mut entries: Vec<LedgerEntry> = inner
            .ledger
            .iter()
            .filter(|((id, _), _)| *id == order)
            .map(|(_, entry)| entry.clone())
            .collect();
        entries.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(entries)
    }

    async fn due_holds(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<OrderId>> {
        let inner = self.enter().await;
        Ok(inner
            .holds
            .iter()
            .take_while(|(until, _)| *until <= now)
            .take(limit)
            .map(|h| h.1)
            .collect())
    }

    async fn unsettled(&self, before: Timestamp, limit: usize) -> StoreResult<Vec<OrderId>> {
        let inner = self.enter().await;
        Ok(inner
            .watch
            .iter()
            .filter(|(_, since)| **since <= before)
            .take(limit)
            .map(|(id, _)| *id)
            .collect())
    }
}
