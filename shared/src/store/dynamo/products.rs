//! [`ProductStore`] on the single table: each write is one `TransactWriteItems` (product item,
//! SKU claims, counters), each read one request, listings one `Query` on a GSI per 1 MB.

use super::keys;
use crate::store::Conflict;
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::{
    DynamoStore, NOT_EXISTS,
    attrs::{Item, n, s},
    cancelled_conditions, classify,
    product_item::{self as item},
};
use crate::{
    domain::{AuditEntry, Product, ProductId, Sku},
    store::{
        ListStart, ProductPage, ProductQuery, ProductStore, StoreError, StoreResult, sort_key,
    },
};

type Key = HashMap<String, AttributeValue>;

fn key(pk: String, sk: &str) -> Key {
    HashMap::from([("PK".into(), s(pk)), ("SK".into(), s(sk))])
}

fn unexpected(error: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Unexpected(error.into())
}

impl DynamoStore {
    fn put_new(&self, item: Key) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(NOT_EXISTS)
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Writes the product item over the version `current` was read at.
    fn put_over(&self, next: &Product, current: &Product) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item::to_item(next)))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(current.version as i64))
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete_if(
        &self,
        key: Key,
        condition: &str,
        values: [(&str, AttributeValue); 1],
    ) -> StoreResult<TransactWriteItem> {
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition);
        for (name, value) in values {
            delete = delete.expression_attribute_values(name, value);
        }
        Ok(TransactWriteItem::builder().delete(delete.build().map_err(unexpected)?).build())
    }

    fn release_sku(&self, sku: &Sku, product: ProductId) -> StoreResult<TransactWriteItem> {
        self.delete_if(
            key(keys::sku(sku), keys::SKU),
            "product_id = :product",
            [(":product", s(product.to_string()))],
        )
    }

    fn add_to_counter(&self, sk: String, delta: i64) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::COUNTERS.into(), &sk)))
            .update_expression("ADD #count :delta")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":delta", n(delta))
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn count_changes(&self, category: &str, delta: i64) -> StoreResult<[TransactWriteItem; 2]> {
        Ok([
            self.add_to_counter(keys::TOTAL.into(), delta)?,
            self.add_to_counter(keys::category(category), delta)?,
        ])
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactFailure> {
        let token = super::client_token(&items, "");
        let request = self.client.transact_write_items().client_request_token(token);
        let result = request.set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match cancelled_conditions(&error) {
                Some(failed) => Err(TransactFailure::Conditions(failed)),
                None => Err(TransactFailure::Other(classify("TransactWriteItems", error))),
            },
        }
    }

    /// After the product item's condition failed: gone, or changed by someone else.
    async fn missing_or_changed(&self, id: ProductId) -> StoreError {
        match self.find_product(id).await {
            Ok(None) => StoreError::NotFound,
            Ok(Some(_)) => StoreError::Conflict(Conflict::ProductChanged),
            Err(error) => error,
        }
    }
}

enum TransactFailure {
    /// Which actions failed their condition, in order.
    Conditions(Vec<bool>),
    Other(StoreError),
}

#[async_trait]
impl ProductStore for DynamoStore {
    async fn create_product(&self, product: &Product, audit: &AuditEntry) -> StoreResult<()> {
        let mut items = vec![self.put_new(item::to_item(product))?];
        for variant in &product.variants {
            items.push(self.put_new(item::sku_item(&variant.sku, product.id))?);
        }
        items.extend(self.count_changes(&product.category, 1)?);
        items.push(self.audit_put(audit)?.item);
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TransactFailure::Conditions(failed)) if failed.first() == Some(&true) => {
                Err(StoreError::Conflict(Conflict::ProductExists))
            }
            Err(TransactFailure::Conditions(_)) => Err(StoreError::Conflict(Conflict::SkuTaken)),
            Err(TransactFailure::Other(error)) => Err(error),
        }
    }

    async fn find_product(&self, id: ProductId) -> StoreResult<Option<Product>> {
        self.get(keys::product(id), keys::META)
            .await?
            .map(|found| Product::try_from(&found))
            .transpose()
    }

    async fn find_products(&self, ids: &[ProductId]) -> StoreResult<HashMap<ProductId, Product>> {
        self.batch_products(ids).await
    }

    async fn replace_product(
        &self,
        current: &Product,
        next: &Product,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let changes = current.sku_changes(next);
        let mut items = vec![self.put_over(next, current)?];
        for sku in &changes.added {
            items.push(self.put_new(item::sku_item(sku, next.id))?);
        }
        for sku in &changes.removed {
            items.push(self.release_sku(sku, current.id)?);
        }
        if current.category != next.category {
            items.push(self.add_to_counter(keys::category(&current.category), -1)?);
            items.push(self.add_to_counter(keys::category(&next.category), 1)?);
        }
        items.push(self.audit_put(audit)?.item);
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TransactFailure::Conditions(failed)) if failed.first() == Some(&true) => {
                Err(self.missing_or_changed(current.id).await)
            }
            Err(TransactFailure::Conditions(failed)) => {
                let added_failed = failed.iter().skip(1).take(changes.added.len()).any(|f| *f);
                Err(if added_failed {
                    StoreError::Conflict(Conflict::SkuTaken)
                } else {
                    StoreError::Conflict(Conflict::ProductChanged)
                })
            }
            Err(TransactFailure::Other(error)) => Err(error),
        }
    }

    async fn delete_product(&self, current: &Product, audit: &AuditEntry) -> StoreResult<()> {
        let mut items = vec![self.delete_if(
            key(keys::product(current.id), keys::META),
            "version = :version",
            [(":version", n(current.version as i64))],
        )?];
        for variant in &current.variants {
            items.push(self.release_sku(&variant.sku, current.id)?);
        }
        items.extend(self.count_changes(&current.category, -1)?);
        items.push(self.audit_put(audit)?.item);
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TransactFailure::Conditions(_)) => Err(self.missing_or_changed(current.id).await),
            Err(TransactFailure::Other(error)) => Err(error),
        }
    }

    async fn list_products(&self, query: &ProductQuery) -> StoreResult<ProductPage> {
        let (index, partition) = match &query.category {
            Some(category) => ("GSI1", keys::category(category)),
            None => ("GSI2", keys::ALL_PRODUCTS.to_owned()),
        };
        let (skip, after) = match &query.start {
            ListStart::Offset(skip) => (*skip, None),
            ListStart::After(key) => (0, Some(key.clone())),
        };
        // One item beyond the page tells whether another page follows.
        let wanted = skip + query.limit + 1;
        let mut found = Vec::with_capacity(wanted.min(1_000));
        let mut start_key = None;
        loop {
            let request = self
                .newest_first(index, partition.clone(), after.clone())
                .limit(i32::try_from(wanted - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take());
            let output = request.send().await.map_err(|e| classify("Query", e))?;
            for listed in output.items.unwrap_or_default() {
                found.push(Product::try_from(&Item(listed))?);
            }
            start_key = output.last_evaluated_key;
            if found.len() >= wanted || start_key.is_none() {
                break;
            }
        }
        let mut products: Vec<Product> = found.into_iter().skip(skip).collect();
        let more = products.len() > query.limit;
        products.truncate(query.limit);
        let next = if more { products.last().map(sort_key) } else { None };
        Ok(ProductPage { products, next })
    }

    async fn count_products(&self, category: Option<&str>) -> StoreResult<u64> {
        let sk = match category {
            Some(category) => keys::category(category),
            None => keys::TOTAL.to_owned(),
        };
        let Some(counter) = self.get(keys::COUNTERS.into(), &sk).await? else {
            return Ok(0);
        };
        u64::try_from(counter.n("count")?)
            .map_err(|_| unexpected(anyhow::anyhow!("negative product count")))
    }
}
