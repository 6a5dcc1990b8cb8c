//! Cart writes made under an `Idempotency-Key`: `IDEMPOTENCY#<uid>#<key>/CART` holds the
//! request (canonical JSON) and the lines written, `ttl` 24 hours on; it is put in the same
//! transaction as the cart, conditional on its absence.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::{
    DynamoStore,
    attrs::{malformed, n, s},
    built, cancelled_conditions,
    cart_items::{line_from_value, line_to_value, version_condition},
    classify, keys,
};
use crate::{
    domain::{Timestamp, UserId},
    store::{CartKeyRecord, Conflict, StoreError, StoreResult, records::sort_lines},
};

/// The sort key of a cart write's idempotency record (checkout's records use `IDEMPOTENCY`).
const CART_KEY: &str = "CART";

impl DynamoStore {
    pub(super) async fn read_cart_key(
        &self,
        user: UserId,
        key: &str,
        now: Timestamp,
    ) -> StoreResult<Option<CartKeyRecord>> {
        let Some(item) = self.get(keys::idempotency(user, key), CART_KEY).await? else {
            return Ok(None);
        };
        let lines = match item.0.get("lines") {
            Some(AttributeValue::L(values)) => {
                values.iter().map(line_from_value).collect::<Result<Vec<_>, _>>()?
            }
            _ => return Err(malformed("lines")),
        };
        let expires_at = Timestamp::from_unix(item.n("ttl")?).ok_or_else(|| malformed("ttl"))?;
        let record = CartKeyRecord {
            user,
            key: key.to_owned(),
            request: item.s("request")?.to_owned(),
            lines,
            expires_at,
        };
        // TTL deletion runs late: an expired record is treated as absent.
        Ok((expires_at > now).then_some(record))
    }

    pub(super) async fn write_cart_keyed(
        &self,
        version: u64,
        write_id: &str,
        record: &CartKeyRecord,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let user = record.user;
        let (condition, expected) = version_condition(version);
        let values =
            expected.map(|v| std::collections::HashMap::from([(":version".to_owned(), v)]));
        let mut lines = record.lines.clone();
        sort_lines(&mut lines);
        let next = if lines.is_empty() { 0 } else { version + 1 };
        let cart = if lines.is_empty() {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key("PK", s(keys::user(user)))
                .key("SK", s(keys::CART))
                .condition_expression(condition)
                .set_expression_attribute_values(values);
            TransactWriteItem::builder().delete(built(delete.build())?).build()
        } else {
            let put = Put::builder()
                .table_name(&self.table)
                .item("PK", s(keys::user(user)))
                .item("SK", s(keys::CART))
                .item("lines", AttributeValue::L(lines.iter().map(line_to_value).collect()))
                .item("version", n(next as i64))
                .item("write_id", s(write_id))
                .condition_expression(condition)
                .set_expression_attribute_values(values);
            TransactWriteItem::builder().put(built(put.build())?).build()
        };
        let key = Put::builder()
            .table_name(&self.table)
            .item("PK", s(keys::idempotency(user, &record.key)))
            .item("SK", s(CART_KEY))
            .item("request", s(record.request.clone()))
            .item("lines", AttributeValue::L(lines.iter().map(line_to_value).collect()))
            .item("ttl", n(record.expires_at.unix()))
            // A record past its expiry is free to replace: TTL deletes it only eventually.
            .condition_expression("attribute_not_exists(PK) OR #ttl <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(now.unix()));
        let key = TransactWriteItem::builder().put(built(key.build())?).build();
        match super::transact(self, vec![cart, key]).await {
            Ok(()) => Ok(next),
            Err(error) => match cancelled_conditions(&error).as_deref() {
                Some([_, true]) => Err(StoreError::Conflict(Conflict::IdempotencyKeyUsed)),
                Some([true, _]) => Err(StoreError::Conflict(Conflict::CartChanged)),
                _ => Err(classify("TransactWriteItems", error)),
            },
        }
    }
}
