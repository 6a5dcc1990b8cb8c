//! Address books (`USER#<uid>/ADDRESSES`, one JSON list and a version), audit entries
//! (`AUDIT#<id>/AUDIT`, listed through GSI1 `AUDIT` and, per action, GSI2 `AUDIT#<action>`,
//! both sorted by id), webhooks (`WEBHOOK#<id>/WEBHOOK`, listed through GSI1 `WEBHOOKS`, their
//! secrets in `WEBHOOK#<id>/SECRET` (in no index), counted in `WEBHOOKS/COUNT`) and their
//! delivery log (`WEBHOOK#<id>/DELIVERY#<event id>`, expiring 30 days after the last attempt).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{
    DynamoStore,
    attrs::{Item, malformed, n, s},
    cart_items::version_condition,
    classify, is_condition_failure, keys,
    transact::{Action, Expression},
    webhook_secret::{self, webhook_from},
};
use crate::{
    domain::{
        Address, AuditEntry, DeliveryRecord, DeliveryState, EventId, MAX_WEBHOOKS, Timestamp,
        UserId, Webhook, WebhookEventType, WebhookId,
    },
    store::{
        AddressStore, AuditPage, AuditQuery, AuditStore, Claim, Conflict, DeliveryClaim,
        StoreError, StoreResult, StoredAddresses, VersionedWrite, WebhookStore,
    },
};

/// Delivery records expire (DynamoDB TTL) 30 days after their last attempt.
const DELIVERY_TTL_SECONDS: i64 = 30 * 86_400;

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<AttributeValue> {
    serde_json::to_string(value).map(s).map_err(|e| StoreError::Unexpected(e.into()))
}

impl DynamoStore {
    /// The put of an admin write's audit entry, for the write's transaction.
    pub(super) fn audit_put(&self, entry: &AuditEntry) -> StoreResult<Action> {
        let id = entry.id.to_string();
        let item = HashMap::from([
            ("PK".to_owned(), s(keys::audit(entry.id))),
            ("SK".to_owned(), s(keys::AUDIT)),
            ("GSI1PK".to_owned(), s(keys::AUDIT)),
            ("GSI1SK".to_owned(), s(id.clone())),
            ("GSI2PK".to_owned(), s(keys::audit_action(entry.action))),
            ("GSI2SK".to_owned(), s(id)),
            ("entry".to_owned(), to_json(entry)?),
        ]);
        let mut absent = Expression::default();
        let pk = absent.name("PK");
        let exists = Some(Conflict::AuditExists);
        self.put(item, Some((&format!("attribute_not_exists({pk})"), absent)), exists)
    }
}

/// A transaction conditional only on the changed item's existence (fails `NotFound`).
pub(super) fn absent_is_not_found(result: StoreResult<()>) -> StoreResult<()> {
    match result {
        Err(StoreError::Conflict(Conflict::Absent)) => Err(StoreError::NotFound),
        other => other,
    }
}

fn stored_addresses(item: &Item) -> StoreResult<StoredAddresses> {
    Ok(StoredAddresses {
        addresses: item.json("addresses")?,
        version: u64::try_from(item.n("version")?).map_err(|_| malformed("version"))?,
        write_id: item.0.get("write_id").and_then(|v| v.as_s().ok()).cloned(),
    })
}

/// The address book in a batch read's items (checkout), if there.
pub(super) fn is_address_book(item: &Item) -> StoreResult<bool> {
    Ok(item.s("SK")? == keys::ADDRESSES)
}

/// The addresses of an address-book item.
pub(super) fn addresses_of(item: &Item) -> StoreResult<Vec<Address>> {
    Ok(stored_addresses(item)?.addresses)
}

#[async_trait]
impl AddressStore for DynamoStore {
    async fn addresses(&self, user: UserId) -> StoreResult<StoredAddresses> {
        match self.get(keys::user(user), keys::ADDRESSES).await? {
            Some(item) => stored_addresses(&item),
            None => Ok(StoredAddresses::default()),
        }
    }

    async fn save_addresses(&self, write: VersionedWrite<'_, Address>) -> StoreResult<u64> {
        let VersionedWrite { user, version, items: addresses, write_id } = write;
        let next = version + 1;
        let (condition, expected) = version_condition(version);
        let result = self
            .put_item()
            .item("PK", s(keys::user(user)))
            .item("SK", s(keys::ADDRESSES))
            .item("addresses", to_json(&addresses)?)
            .item("version", n(i64::try_from(next).unwrap_or(i64::MAX)))
            .item("write_id", s(write_id))
            .condition_expression(condition)
            .set_expression_attribute_values(
                expected.map(|v| HashMap::from([(":version".to_owned(), v)])),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(next),
            Err(error) if is_condition_failure(&error) => {
                Err(StoreError::Conflict(Conflict::AddressesChanged))
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn audit_entry(&self, id: crate::domain::AuditId) -> StoreResult<Option<AuditEntry>> {
        let item = self.get(keys::audit(id), keys::AUDIT).await?;
        item.map(|item| item.json("entry")).transpose()
    }

    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<AuditPage> {
        let (index, partition) = match query.action {
            Some(action) => ("GSI2", keys::audit_action(action)),
            None => ("GSI1", keys::AUDIT.to_owned()),
        };
        let request = self.newest_first(index, partition, query.after.map(|a| a.to_string()));
        let items = self.query_page(request, query.limit + 1).await?;
        let mut entries = items
            .iter()
            .map(|item| item.json::<AuditEntry>("entry"))
            .collect::<StoreResult<Vec<_>>>()?;
        let more = entries.len() > query.limit;
        entries.truncate(query.limit);
        Ok(AuditPage { next: more.then(|| entries.last().map(|e| e.id)).flatten(), entries })
    }
}

/// A delivery record from its item (the JSON of the last recorded attempt, with the state and
/// claim the conditional writes keep as attributes).
fn delivery_from(webhook: WebhookId, event: EventId, item: &Item) -> StoreResult<DeliveryRecord> {
    let state: DeliveryState =
        serde_json::from_value(serde_json::Value::String(item.s("state")?.to_owned()))
            .map_err(|_| malformed("state"))?;
    let mut record = match item.0.get("record") {
        Some(_) => item.json::<DeliveryRecord>("record")?,
        None => DeliveryRecord {
            webhook_id: webhook,
            event_id: event,
            event_type: item.json_str("event_type")?,
            state,
            attempts: 0,
            last_status: None,
            last_error: None,
            delivered_at: None,
            next_attempt_at: None,
            claimed_at: None,
        },
    };
    record.webhook_id = webhook;
    record.state = state;
    record.claimed_at = match item.0.get("claimed_at") {
        Some(_) => Some(item.timestamp("claimed_at")?),
        None => None,
    };
    Ok(record)
}

impl Item {
    /// A string attribute holding a serde enum's name.
    fn json_str<T: serde::de::DeserializeOwned>(&self, name: &str) -> StoreResult<T> {
        serde_json::from_value(serde_json::Value::String(self.s(name)?.to_owned()))
            .map_err(|_| malformed(name))
    }
}

fn state_name(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Sending => "sending",
        DeliveryState::Retrying => "retrying",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Failed => "failed",
    }
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn create_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()> {
        let item = HashMap::from([
            ("PK".to_owned(), s(keys::webhook(webhook.id))),
            ("SK".to_owned(), s(keys::WEBHOOK)),
            ("GSI1PK".to_owned(), s(keys::ALL_WEBHOOKS)),
            ("GSI1SK".to_owned(), s(webhook.id.to_string())),
            ("webhook".to_owned(), to_json(webhook)?),
        ]);
        // Written with the webhook (a retry whose first attempt committed fails on the
        // webhook's absence condition, as before).
        let secret = self.put(webhook_secret::item(webhook), None, None)?;
        let mut absent = Expression::default();
        let pk = absent.name("PK");
        let put = self.put(item, Some((&format!("attribute_not_exists({pk})"), absent)), None)?;
        let mut below = Expression::default();
        let (count_name, one, max) =
            (below.name("n"), below.value(n(1)), below.value(n(MAX_WEBHOOKS.into())));
        let count = self.update(
            keys::ALL_WEBHOOKS.to_owned(),
            keys::WEBHOOK_COUNT,
            &format!("ADD {count_name} {one}"),
            Some(&format!("attribute_not_exists({count_name}) OR {count_name} < {max}")),
            below,
            Some(Conflict::WebhookLimit),
        )?;
        self.transact_actions(vec![put, secret, count, self.audit_put(audit)?]).await
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        let items = self.query_all(self.query_index(keys::ALL_WEBHOOKS)).await?;
        let secrets = self.webhook_secrets(&items).await?;
        items.iter().map(|item| webhook_from(item, &secrets)).collect()
    }

    async fn find_webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        self.webhook_with_secret(id).await
    }

    async fn delete_webhook(&self, id: WebhookId, audit: &AuditEntry) -> StoreResult<()> {
        let mut present = Expression::default();
        let pk = present.name("PK");
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::webhook(id)))
            .key("SK", s(keys::WEBHOOK))
            .condition_expression(format!("attribute_exists({pk})"))
            .set_expression_attribute_names(present.names())
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        let action = Action {
            item: aws_sdk_dynamodb::types::TransactWriteItem::builder().delete(delete).build(),
            conflict: Some(Conflict::Absent),
        };
        let mut fewer = Expression::default();
        let (count_name, minus_one) = (fewer.name("n"), fewer.value(n(-1)));
        let count = self.update(
            keys::ALL_WEBHOOKS.to_owned(),
            keys::WEBHOOK_COUNT,
            &format!("ADD {count_name} {minus_one}"),
            None,
            fewer,
            None,
        )?;
        let secret = webhook_secret::delete(&self.table, id)?;
        let actions = vec![action, secret, count, self.audit_put(audit)?];
        absent_is_not_found(self.transact_actions(actions).await)
    }

    async fn claim_delivery(
        &self,
        webhook: WebhookId,
        event: EventId,
        event_type: WebhookEventType,
        claim: Claim,
    ) -> StoreResult<DeliveryClaim> {
        let result = self
            .update_item(keys::webhook(webhook), keys::delivery(event))
            .update_expression(
                "SET #state = :sending, claimed_at = :now, claim_token = :token, event_type = if_not_exists(event_type, :type), #ttl = :ttl",
            )
            // Retry safety: the same claim (its token) passes again; see `Claim`.
            .condition_expression(
                "attribute_not_exists(PK) OR (#state = :retrying AND next_attempt_at <= :now) \
                 OR (#state = :sending AND (claimed_at < :stale OR claim_token = :token))",
            )
            .expression_attribute_values(":token", AttributeValue::N(claim.token.to_string()))
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":sending", s(state_name(DeliveryState::Sending)))
            .expression_attribute_values(":retrying", s(state_name(DeliveryState::Retrying)))
            .expression_attribute_values(":now", n(claim.at.unix()))
            .expression_attribute_values(":stale", n(claim.stale_before.unix()))
            .expression_attribute_values(":type", s(event_type.as_str()))
            .expression_attribute_values(":ttl", n(claim.at.unix() + DELIVERY_TTL_SECONDS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item = Item(output.attributes.unwrap_or_default());
                Ok(DeliveryClaim::Claimed(delivery_from(webhook, event, &item)?))
            }
            Err(error) if is_condition_failure(&error) => {
                let Some(item) = self.get(keys::webhook(webhook), &keys::delivery(event)).await?
                else {
                    return Ok(DeliveryClaim::InFlight);
                };
                let record = delivery_from(webhook, event, &item)?;
                Ok(match record.state {
                    DeliveryState::Delivered | DeliveryState::Failed => DeliveryClaim::Done(record),
                    DeliveryState::Retrying => DeliveryClaim::NotYet(record),
                    DeliveryState::Sending => DeliveryClaim::InFlight,
                })
            }
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }

    async fn record_delivery(&self, record: &DeliveryRecord) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut request = self
            .put_item()
            .item("PK", s(keys::webhook(record.webhook_id)))
            .item("SK", s(keys::delivery(record.event_id)))
            .item("state", s(state_name(record.state)))
            .item("event_type", s(record.event_type.as_str()))
            .item("record", to_json(record)?)
            .item("ttl", n(now.unix() + DELIVERY_TTL_SECONDS));
        if let Some(due) = record.next_attempt_at {
            request = request.item("next_attempt_at", n(due.unix()));
        }
        if let Some(at) = record.claimed_at {
            request = request.item("claimed_at", n(at.unix()));
        }
        request.send().await.map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn deliveries(
        &self,
        webhook: WebhookId,
        limit: usize,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let request = self
            .query_prefix(keys::webhook(webhook), keys::DELIVERY_PREFIX)
            .scan_index_forward(false);
        let items = self.query_page(request, limit).await?;
        items
            .iter()
            .map(|item| {
                let event = item
                    .s("SK")?
                    .strip_prefix(keys::DELIVERY_PREFIX)
                    .and_then(|id| id.parse().ok())
                    .ok_or_else(|| malformed("SK"))?;
                delivery_from(webhook, event, item)
            })
            .collect()
    }
}
