//! Carts: one item per user, `USER#<uid>/CART`, holding every line (a list of maps) and a
//! version every write is conditional on; and the batch read of several products.
//!
//! One item rather than one per line (`CART#<pid>#<sku>` items, say): checkout
//! deletes the cart in one transaction action instead of up to 50, which keeps a 50-line
//! checkout within DynamoDB's 100 actions, and the 50-line limit holds under concurrent adds.

use super::attrs::malformed;
use crate::store::Conflict;
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{
    DynamoStore,
    attrs::{Item, n, s},
    classify, is_condition_failure,
    keys::{self, Key, key},
};
use crate::{
    domain::{CartLine, Money, Product, ProductId, Sku, UserId},
    store::{CartStore, StoreError, StoreResult, StoredCart, VersionedWrite, records::sort_lines},
};

pub(super) fn line_to_value(line: &CartLine) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("product_id".into(), s(line.product_id.to_string())),
        ("sku".into(), s(line.sku.as_str())),
        ("quantity".into(), n(i64::from(line.quantity))),
        ("price_when_added".into(), s(line.price_when_added.to_string())),
    ]))
}

pub(super) fn line_from_value(value: &AttributeValue) -> StoreResult<CartLine> {
    let fields = Item(value.as_m().map_err(|_| malformed("lines"))?.clone());
    Ok(CartLine {
        product_id: fields.parse("product_id")?,
        sku: Sku::parse(fields.s("sku")?).map_err(|_| malformed("sku"))?,
        quantity: u32::try_from(fields.n("quantity")?).map_err(|_| malformed("quantity"))?,
        price_when_added: fields.parse::<Money>("price_when_added")?,
    })
}

/// The stored cart in an item (read alone, or in a batch with other items).
impl TryFrom<&Item> for StoredCart {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        let lines = match item.0.get("lines") {
            Some(AttributeValue::L(values)) => {
                values.iter().map(line_from_value).collect::<Result<Vec<_>, _>>()?
            }
            _ => return Err(malformed("lines")),
        };
        let version = u64::try_from(item.n("version")?).map_err(|_| malformed("version"))?;
        let write_id = item.0.get("write_id").and_then(|v| v.as_s().ok()).cloned();
        Ok(StoredCart { lines, version, write_id })
    }
}

/// The condition that the cart is still at `version` (0: absent).
pub(super) fn version_condition(version: u64) -> (&'static str, Option<AttributeValue>) {
    if version == 0 {
        ("attribute_not_exists(PK)", None)
    } else {
        ("version = :version", Some(n(version as i64)))
    }
}

impl DynamoStore {
    /// Items by key through BatchGetItem (100 keys a request, strongly consistent), retrying
    /// unprocessed keys; absent items are left out, in no particular order.
    pub(super) async fn batch_get(&self, keys: Vec<Key>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Unexpected(e.into()))?,
            );
            while let Some(keys) = request.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| classify("BatchGetItem", e))?;
                found.extend(
                    output
                        .responses
                        .unwrap_or_default()
                        .remove(&self.table)
                        .unwrap_or_default()
                        .into_iter()
                        .map(Item),
                );
                request = output.unprocessed_keys.unwrap_or_default().remove(&self.table);
            }
        }
        Ok(found)
    }

    /// Products by id (one BatchGetItem per 100).
    pub(super) async fn batch_products(
        &self,
        ids: &[ProductId],
    ) -> StoreResult<HashMap<ProductId, Product>> {
        let mut unique: Vec<ProductId> = ids.to_vec();
        unique.sort();
        unique.dedup();
        let keys = unique.iter().map(|id| key(keys::product(*id), keys::META)).collect();
        self.batch_get(keys)
            .await?
            .iter()
            .map(|item| Product::try_from(item).map(|p| (p.id, p)))
            .collect()
    }
}

#[async_trait]
impl CartStore for DynamoStore {
    async fn cart_key(
        &self,
        user: UserId,
        key: &str,
        now: crate::domain::Timestamp,
    ) -> StoreResult<Option<crate::store::CartKeyRecord>> {
        self.read_cart_key(user, key, now).await
    }

    async fn save_cart_keyed(
        &self,
        version: u64,
        write_id: &str,
        record: &crate::store::CartKeyRecord,
        now: crate::domain::Timestamp,
    ) -> StoreResult<u64> {
        self.write_cart_keyed(version, write_id, record, now).await
    }

    async fn cart(&self, user: UserId) -> StoreResult<StoredCart> {
        match self.get(keys::user(user), keys::CART).await? {
            Some(item) => StoredCart::try_from(&item),
            None => Ok(StoredCart::default()),
        }
    }

    async fn save_cart(&self, write: VersionedWrite<'_, CartLine>) -> StoreResult<u64> {
        let VersionedWrite { user, version, items: lines, write_id } = write;
        let (condition, value) = version_condition(version);
        let result = if lines.is_empty() {
            self.delete_item(keys::user(user), keys::CART)
                .condition_expression(condition)
                .set_expression_attribute_values(
                    value.map(|v| HashMap::from([(":version".to_owned(), v)])),
                )
                .send()
                .await
                .map(|_| 0)
                .map_err(|e| (is_condition_failure(&e), classify("DeleteItem", e)))
        } else {
            let mut sorted = lines.to_vec();
            sort_lines(&mut sorted);
            let next = version + 1;
            let item = HashMap::from([
                ("PK".to_owned(), s(keys::user(user))),
                ("SK".to_owned(), s(keys::CART)),
                ("lines".to_owned(), AttributeValue::L(sorted.iter().map(line_to_value).collect())),
                ("version".to_owned(), n(next as i64)),
                ("write_id".to_owned(), s(write_id)),
            ]);
            self.put_item()
                .set_item(Some(item))
                .condition_expression(condition)
                .set_expression_attribute_values(
                    value.map(|v| HashMap::from([(":version".to_owned(), v)])),
                )
                .send()
                .await
                .map(|_| next)
                .map_err(|e| (is_condition_failure(&e), classify("PutItem", e)))
        };
        match result {
            Ok(version) => Ok(version),
            Err((true, _)) => Err(StoreError::Conflict(Conflict::CartChanged)),
            Err((false, error)) => Err(error),
        }
    }
}
