//! Order, idempotency and outbox items.
//!
//! - order: `ORDER#<oid>/ORDER`, GSI1 `USER#<uid>` / `ORDER#<created>#<oid>` (my orders),
//!   GSI2 `STATUS#<status>` / `<created>#<oid>` (admin by status); the order as JSON in
//!   `order`, its `status` as an attribute every change is conditional on.
//! - idempotency: `IDEMPOTENCY#<uid>#<key>/IDEMPOTENCY` with the request and the order, `ttl`.
//! - outbox: `OUTBOX#<event id>/OUTBOX`, GSI1 `OUTBOX` / `<event id>`, the event as JSON.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    attrs::{Item, n, s},
    keys,
};
use crate::{
    domain::{Order, OrderEvent, OrderStatus},
    store::{IdempotencyRecord, StoreError, StoreResult},
};

pub(super) fn json<T: serde::Serialize>(value: &T) -> StoreResult<AttributeValue> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Unexpected(e.into()))
}

pub(super) fn order_item(order: &Order) -> StoreResult<HashMap<String, AttributeValue>> {
    let position = order.sort_key();
    Ok(HashMap::from([
        ("PK".into(), s(keys::order(order.id))),
        ("SK".into(), s(keys::ORDER)),
        ("GSI1PK".into(), s(keys::user(order.user_id))),
        ("GSI1SK".into(), s(keys::customer_order(&position))),
        ("GSI2PK".into(), s(keys::status(order.status))),
        ("GSI2SK".into(), s(position)),
        ("status".into(), s(order.status.as_str())),
        ("order".into(), json(order)?),
        ("rev".into(), n(i64::try_from(order.revision).unwrap_or(i64::MAX))),
    ]))
}

impl TryFrom<&Item> for Order {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        let mut order: Order = item.json("order")?;
        order.status = item.parse::<OrderStatus>("status")?;
        // Orders written before revisions existed have none: 0.
        order.revision = item.n("rev").map_or(0, |rev| u64::try_from(rev).unwrap_or(0));
        Ok(order)
    }
}

/// The idempotency record's item.
pub(super) fn idempotency_item(
    record: &IdempotencyRecord,
) -> StoreResult<HashMap<String, AttributeValue>> {
    Ok(HashMap::from([
        ("PK".to_owned(), s(keys::idempotency(record.user, &record.key))),
        ("SK".to_owned(), s(keys::IDEMPOTENCY)),
        ("user_id".to_owned(), s(record.user.to_string())),
        ("key".to_owned(), s(&record.key)),
        ("request".to_owned(), s(&record.request)),
        ("order".to_owned(), json(&record.order)?),
        ("ttl".to_owned(), n(record.expires_at.unix())),
    ]))
}

pub(super) fn outbox_item(event: &OrderEvent) -> StoreResult<HashMap<String, AttributeValue>> {
    Ok(HashMap::from([
        ("PK".into(), s(keys::outbox(event.id))),
        ("SK".into(), s(keys::OUTBOX)),
        ("GSI1PK".into(), s(keys::OUTBOX)),
        ("GSI1SK".into(), s(event.id.to_string())),
        ("event".into(), json(event)?),
    ]))
}

impl TryFrom<&Item> for IdempotencyRecord {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        Ok(IdempotencyRecord {
            user: item.parse("user_id")?,
            key: item.s("key")?.to_owned(),
            request: item.s("request")?.to_owned(),
            order: item.json("order")?,
            expires_at: item.timestamp("ttl")?,
        })
    }
}

impl TryFrom<&Item> for OrderEvent {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        item.json("event")
    }
}
