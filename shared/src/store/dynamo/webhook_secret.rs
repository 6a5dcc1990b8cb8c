//! A webhook's signing secret: `WEBHOOK#<id>/SECRET`, an item of its own without index keys,
//! so the secret is in no index (a function allowed to query an index could read it there)
//! and only functions allowed `WEBHOOK#*` keys read it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};

use super::{
    DynamoStore,
    attrs::{Item, s},
    keys::{self, key},
    transact::Action,
};
use crate::{
    domain::{Webhook, WebhookId},
    store::{StoreError, StoreResult},
};

/// The secret's item for a new webhook.
pub(super) fn item(webhook: &Webhook) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".to_owned(), s(keys::webhook(webhook.id))),
        ("SK".to_owned(), s(keys::WEBHOOK_SECRET)),
        ("secret".to_owned(), s(webhook.secret.clone())),
    ])
}

/// Deletes the secret with its webhook (a transaction's action).
pub(super) fn delete(table: &str, id: WebhookId) -> StoreResult<Action> {
    let delete = Delete::builder()
        .table_name(table)
        .key("PK", s(keys::webhook(id)))
        .key("SK", s(keys::WEBHOOK_SECRET))
        .build()
        .map_err(|e| StoreError::Unexpected(e.into()))?;
    Ok(Action { item: TransactWriteItem::builder().delete(delete).build(), conflict: None })
}

/// A webhook from its item and, when found, its secret's item.
pub(super) fn webhook_from(item: &Item, secrets: &HashMap<String, String>) -> StoreResult<Webhook> {
    let mut webhook: Webhook = item.json("webhook")?;
    webhook.secret = secrets.get(item.s("PK")?).cloned().ok_or_else(|| {
        StoreError::Unexpected(anyhow::anyhow!("webhook {} has no secret", webhook.id))
    })?;
    Ok(webhook)
}

impl DynamoStore {
    /// A webhook and its secret, in one read.
    pub(super) async fn webhook_with_secret(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        let pk = keys::webhook(id);
        let keys = vec![key(pk.clone(), keys::WEBHOOK), key(pk, keys::WEBHOOK_SECRET)];
        let (mut webhook, mut secrets) = (None, HashMap::new());
        for item in self.batch_get(keys).await? {
            if item.s("SK")? == keys::WEBHOOK {
                webhook = Some(item);
            } else {
                secrets.insert(item.s("PK")?.to_owned(), item.s("secret")?.to_owned());
            }
        }
        webhook.map(|item| webhook_from(&item, &secrets)).transpose()
    }

    /// The secrets of the webhooks whose items are `items`, by partition key (one batch read).
    pub(super) async fn webhook_secrets(
        &self,
        items: &[Item],
    ) -> StoreResult<HashMap<String, String>> {
        let keys = items
            .iter()
            .map(|item| Ok(key(item.s("PK")?.to_owned(), keys::WEBHOOK_SECRET)))
            .collect::<StoreResult<Vec<_>>>()?;
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.batch_get(keys)
            .await?
            .iter()
            .map(|item| Ok((item.s("PK")?.to_owned(), item.s("secret")?.to_owned())))
            .collect()
    }
}
