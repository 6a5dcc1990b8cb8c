//! Cart lines: `USER#<uid>/CART#<pid>#<sku>`, so one Query reads a cart; and the batch read
//! of several products.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{
    DynamoStore,
    attrs::{Item, n, s},
    classify, is_condition_failure,
    product_item::{self, META_SK},
};
use crate::{
    domain::{CartLine, Money, Product, ProductId, Sku, UserId},
    store::{CartStore, StoreError},
};

fn user_pk(user: UserId) -> String {
    format!("USER#{user}")
}

fn line_sk(product: ProductId, sku: &Sku) -> String {
    format!("CART#{product}#{sku}")
}

fn malformed(what: &str) -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!("stored cart line has a malformed `{what}`"))
}

impl DynamoStore {
    /// Products by id through BatchGetItem (100 keys a request), retrying unprocessed keys.
    pub(super) async fn batch_products(
        &self,
        ids: &[ProductId],
    ) -> Result<HashMap<ProductId, Product>, StoreError> {
        let mut found = HashMap::new();
        let mut unique: Vec<ProductId> = ids.to_vec();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(100) {
            let keys = chunk
                .iter()
                .map(|id| {
                    HashMap::from([
                        ("PK".to_owned(), s(product_item::pk(*id))),
                        ("SK".to_owned(), s(META_SK)),
                    ])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
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
                for item in output
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let product = product_item::from_item(&Item(item))?;
                    found.insert(product.id, product);
                }
                request = output
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.table);
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl CartStore for DynamoStore {
    async fn cart_lines(&self, user: UserId) -> Result<Vec<CartLine>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :cart)")
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":cart", s("CART#"))
            .consistent_read(true);
        self.query_all(query)
            .await?
            .iter()
            .map(|item| {
                Ok(CartLine {
                    product_id: item.parse("product_id")?,
                    sku: Sku::parse(item.s("sku")?).map_err(|_| malformed("sku"))?,
                    quantity: u32::try_from(item.n("quantity")?)
                        .map_err(|_| malformed("quantity"))?,
                    price_when_added: item.parse::<Money>("price_when_added")?,
                })
            })
            .collect()
    }

    async fn put_cart_line(&self, user: UserId, line: &CartLine) -> Result<(), StoreError> {
        let item: HashMap<String, AttributeValue> = HashMap::from([
            ("PK".into(), s(user_pk(user))),
            ("SK".into(), s(line_sk(line.product_id, &line.sku))),
            ("product_id".into(), s(line.product_id.to_string())),
            ("sku".into(), s(line.sku.as_str())),
            ("quantity".into(), n(i64::from(line.quantity))),
            (
                "price_when_added".into(),
                s(line.price_when_added.to_string()),
            ),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn delete_cart_line(
        &self,
        user: UserId,
        product: ProductId,
        sku: &Sku,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(user_pk(user)))
            .key("SK", s(line_sk(product, sku)))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Err(StoreError::NotFound),
            Err(error) => Err(classify("DeleteItem", error)),
        }
    }
}
