//! The catalog and coupons in memory: products with their SKU claims, listing order and
//! counters; coupons by code.

use std::{collections::HashMap, ops::Bound};

use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    domain::{AuditEntry, Coupon, CouponCode, Product, ProductId},
    store::{
        Conflict, CouponStore, ListStart, ProductPage, ProductQuery, ProductStore, StoreError,
        StoreResult, sort_key,
    },
};

#[async_trait]
impl ProductStore for MemoryStore {
    async fn create_product(&self, product: &Product, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if inner.products.contains_key(&product.id) {
            return Err(StoreError::Conflict(Conflict::ProductExists));
        }
        if !inner.skus_free_for(product) {
            return Err(StoreError::Conflict(Conflict::SkuTaken));
        }
        inner.check_audit(audit)?;
        for variant in &product.variants {
            inner.sku_owners.insert(variant.sku.clone(), product.id);
        }
        inner.count(&product.category, 1);
        inner.order.insert(sort_key(product), product.id);
        inner.products.insert(product.id, product.clone());
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn find_product(&self, id: ProductId) -> StoreResult<Option<Product>> {
        Ok(self.enter().await.products.get(&id).cloned())
    }

    async fn find_products(&self, ids: &[ProductId]) -> StoreResult<HashMap<ProductId, Product>> {
        let inner = self.enter().await;
        Ok(ids.iter().filter_map(|id| inner.products.get(id).map(|p| (*id, p.clone()))).collect())
    }

    async fn replace_product(
        &self,
        current: &Product,
        next: &Product,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut inner = self.enter().await;
        inner.check_current(current)?;
        if !inner.skus_free_for(next) {
            return Err(StoreError::Conflict(Conflict::SkuTaken));
        }
        inner.check_audit(audit)?;
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
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn delete_product(&self, current: &Product, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        inner.check_current(current)?;
        inner.check_audit(audit)?;
        for variant in &current.variants {
            inner.sku_owners.remove(&variant.sku);
        }
        inner.count(&current.category, -1);
        inner.order.remove(&sort_key(current));
        inner.products.remove(&current.id);
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn list_products(&self, query: &ProductQuery) -> StoreResult<ProductPage> {
        let inner = self.enter().await;
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
            next: more.then(|| listed.last().map(|(key, _)| (*key).clone())).flatten(),
            products: listed.into_iter().map(|(_, p)| p.clone()).collect(),
        })
    }

    async fn count_products(&self, category: Option<&str>) -> StoreResult<u64> {
        let inner = self.enter().await;
        Ok(match category {
            Some(category) => inner.category_counts.get(category).copied().unwrap_or(0),
            None => inner.products.len() as u64,
        })
    }
}

#[async_trait]
impl CouponStore for MemoryStore {
    async fn create_coupon(&self, coupon: &Coupon, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if inner.coupons.contains_key(&coupon.code) {
            return Err(StoreError::Conflict(Conflict::CouponExists));
        }
        inner.check_audit(audit)?;
        inner.coupons.insert(coupon.code.clone(), coupon.clone());
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn find_coupon(&self, code: &CouponCode) -> StoreResult<Option<Coupon>> {
        Ok(self.enter().await.coupons.get(code).cloned())
    }

    async fn update_coupon(&self, coupon: &Coupon, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if !inner.coupons.contains_key(&coupon.code) {
            return Err(StoreError::NotFound);
        }
        inner.check_audit(audit)?;
        let stored = inner.coupons.get_mut(&coupon.code).ok_or(StoreError::NotFound)?;
        let uses = stored.uses;
        *stored = Coupon { uses, ..coupon.clone() };
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn delete_coupon(&self, code: &CouponCode, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if !inner.coupons.contains_key(code) {
            return Err(StoreError::NotFound);
        }
        inner.check_audit(audit)?;
        inner.coupons.remove(code);
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn list_coupons(&self) -> StoreResult<Vec<Coupon>> {
        Ok(self.enter().await.coupons.values().cloned().collect())
    }
}
