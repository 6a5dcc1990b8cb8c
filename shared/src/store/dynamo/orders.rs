//! Orders and checkout.
//!
//! - order: `ORDER#<oid>/ORDER`, GSI1 `USER#<uid>` / `ORDER#<created>#<oid>` (my orders),
//!   GSI2 `STATUS#<status>` / `<created>#<oid>` (admin by status); the order as JSON in
//!   `order`, its `status` as an attribute every change is conditional on.
//! - coupon use by a customer: `COUPON#<CODE>/USER#<uid>` with `uses`.
//! - idempotency: `IDEMPOTENCY#<uid>#<key>/IDEMPOTENCY` with the request and the order, `ttl`.
//! - outbox: `OUTBOX#<event id>/OUTBOX`, GSI1 `OUTBOX` / `<event id>`, the event as JSON.
//!
//! Checkout is one `TransactWriteItems`: an order put, one stock update per product (every
//! SKU's `stock >= :q` in its condition), the cart delete (at the version read), the coupon's
//! and the customer's use counts, the idempotency record and the outbox event.

use super::keys;
use crate::domain::UnitsByProduct;
use crate::store::Conflict;
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Delete, Put, TransactWriteItem, Update},
};

use super::{
    DynamoStore, attrs::Item, attrs::n, attrs::s, cart_items, classify, coupons, product_item,
};
use crate::{
    domain::{
        CouponCode, EventId, Order, OrderEvent, OrderId, OrderStatus, ProductId, Sku, Timestamp,
        UserId,
    },
    store::{
        CheckoutReads, IdempotencyRecord, NewOrder, OrderPage, OrderQuery, OrderScope, OrderStore,
        StatusChange, StoreError, StoredCart,
    },
};

const ALL_STATUSES: [OrderStatus; 4] = [
    OrderStatus::Pending,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
];

fn malformed(what: &str) -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!(
        "stored order data has a malformed `{what}`"
    ))
}

fn json<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Unexpected(e.into()))
}

fn from_json<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    serde_json::from_str(item.s(name)?).map_err(|_| malformed(name))
}

fn order_item(order: &Order) -> Result<HashMap<String, AttributeValue>, StoreError> {
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
    ]))
}

fn order_from_item(item: &Item) -> Result<Order, StoreError> {
    let mut order: Order = from_json(item, "order")?;
    order.status = item.parse::<OrderStatus>("status")?;
    Ok(order)
}

fn outbox_item(event: &OrderEvent) -> Result<HashMap<String, AttributeValue>, StoreError> {
    Ok(HashMap::from([
        ("PK".into(), s(keys::outbox(event.id))),
        ("SK".into(), s(keys::OUTBOX)),
        ("GSI1PK".into(), s(keys::OUTBOX)),
        ("GSI1SK".into(), s(event.id.to_string())),
        ("event".into(), json(event)?),
    ]))
}

fn idempotency_from_item(item: &Item) -> Result<IdempotencyRecord, StoreError> {
    Ok(IdempotencyRecord {
        user: item.parse("user_id")?,
        key: item.s("key")?.to_owned(),
        request: item.s("request")?.to_owned(),
        order: from_json(item, "order")?,
        expires_at: Timestamp::from_unix(item.n("ttl")?).ok_or_else(|| malformed("ttl"))?,
    })
}

/// One transaction action and the conflict its failed condition means.
struct Action {
    item: TransactWriteItem,
    conflict: Option<Conflict>,
}

/// Builds condition expressions with numbered placeholders.
#[derive(Default)]
struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn built<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Unexpected(e.into()))
}

impl DynamoStore {
    fn put(
        &self,
        item: HashMap<String, AttributeValue>,
        condition: Option<(&str, Expression)>,
        conflict: Option<Conflict>,
    ) -> Result<Action, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((text, expression)) = condition {
            put = put
                .condition_expression(text)
                .set_expression_attribute_names(expression.names())
                .set_expression_attribute_values(expression.values());
        }
        Ok(Action {
            item: TransactWriteItem::builder()
                .put(built(put.build())?)
                .build(),
            conflict,
        })
    }

    fn update(
        &self,
        pk: String,
        sk: &str,
        set: &str,
        condition: Option<&str>,
        expression: Expression,
        conflict: Option<Conflict>,
    ) -> Result<Action, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .update_expression(set)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(expression.names())
            .set_expression_attribute_values(expression.values());
        Ok(Action {
            item: TransactWriteItem::builder()
                .update(built(update.build())?)
                .build(),
            conflict,
        })
    }

    /// One product's stock moved by `units` (taken when `take`), its version bumped so a
    /// concurrent catalog edit re-reads. Taking is conditional on every SKU's stock.
    fn stock_update(
        &self,
        product: ProductId,
        units: &[(Sku, u32)],
        take: bool,
        conflict: Option<Conflict>,
    ) -> Result<Action, StoreError> {
        let mut expression = Expression::default();
        let variants = expression.name("variants");
        let stock = expression.name("stock");
        let version = expression.name("version");
        let one = expression.value(n(1));
        let mut sets = Vec::new();
        let mut conditions = vec!["attribute_exists(PK)".to_owned()];
        for (sku, quantity) in units {
            let sku = expression.name(sku.as_str());
            let quantity = expression.value(n(i64::from(*quantity)));
            let path = format!("{variants}.{sku}.{stock}");
            let sign = if take { '-' } else { '+' };
            sets.push(format!("{path} = {path} {sign} {quantity}"));
            conditions.push(if take {
                format!("{path} >= {quantity}")
            } else {
                format!("attribute_exists({path})")
            });
        }
        sets.push(format!("{version} = {version} + {one}"));
        self.update(
            keys::product(product),
            keys::META,
            &format!("SET {}", sets.join(", ")),
            Some(&conditions.join(" AND ")),
            expression,
            conflict,
        )
    }

    async fn transact_actions(&self, actions: Vec<Action>) -> Result<(), StoreError> {
        let conflicts: Vec<Option<Conflict>> = actions.iter().map(|a| a.conflict).collect();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions.into_iter().map(|a| a.item).collect()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => Err(transaction_error(error, &conflicts)),
        }
    }

    async fn query_orders(
        &self,
        index: &str,
        pk: String,
        sk_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Order)>, StoreError> {
        let (pk_name, sk_name) = match index {
            "GSI1" => ("GSI1PK", "GSI1SK"),
            _ => ("GSI2PK", "GSI2SK"),
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .expression_attribute_values(":pk", s(pk));
        query = match after {
            Some(position) => query
                .key_condition_expression(format!("{pk_name} = :pk AND {sk_name} < :after"))
                .expression_attribute_values(":after", s(format!("{sk_prefix}{position}"))),
            None if sk_prefix.is_empty() => {
                query.key_condition_expression(format!("{pk_name} = :pk"))
            }
            None => query
                .key_condition_expression(format!(
                    "{pk_name} = :pk AND begins_with({sk_name}, :prefix)"
                ))
                .expression_attribute_values(":prefix", s(sk_prefix)),
        };
        let output = query.send().await.map_err(|e| classify("Query", e))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let item = Item(item);
                let order = order_from_item(&item)?;
                Ok((order.sort_key(), order))
            })
            .collect()
    }
}

/// The conflict a cancelled transaction means: the first failed condition in the store
/// contract's order of causes ([`Conflict`]'s order), or `TransactionConflict` when another
/// transaction held an item.
fn transaction_error(
    error: SdkError<TransactWriteItemsError>,
    conflicts: &[Option<Conflict>],
) -> StoreError {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        error.as_service_error()
    else {
        return classify("TransactWriteItems", error);
    };
    let reasons = cancelled.cancellation_reasons();
    let first_cause = reasons
        .iter()
        .zip(conflicts)
        .filter(|(reason, _)| reason.code() == Some("ConditionalCheckFailed"))
        .filter_map(|(_, conflict)| *conflict)
        .min();
    if let Some(cause) = first_cause {
        return StoreError::Conflict(cause);
    }
    if reasons
        .iter()
        .any(|reason| reason.code() == Some("TransactionConflict"))
    {
        return StoreError::Conflict(Conflict::TransactionConflict);
    }
    classify("TransactWriteItems", error)
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn checkout_start(
        &self,
        user: UserId,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<(StoredCart, Option<IdempotencyRecord>), StoreError> {
        use crate::store::CartStore;
        let Some(key) = idempotency_key else {
            return Ok((self.cart(user).await?, None));
        };
        let items = self
            .batch_get(vec![
                keys::key(keys::user(user), keys::CART),
                keys::key(keys::idempotency(user, key), keys::IDEMPOTENCY),
            ])
            .await?;
        let mut cart = StoredCart::default();
        let mut record = None;
        for item in &items {
            if item.s("SK")? == keys::CART {
                cart = cart_items::cart_from_item(item)?;
            } else {
                record = Some(idempotency_from_item(item)?);
            }
        }
        // TTL deletion runs late: an expired record is treated as absent.
        Ok((cart, record.filter(|r| now < r.expires_at)))
    }

    async fn checkout_reads(
        &self,
        user: UserId,
        products: &[ProductId],
        coupon: Option<&CouponCode>,
    ) -> Result<CheckoutReads, StoreError> {
        let mut unique = products.to_vec();
        unique.sort();
        unique.dedup();
        let mut keys: Vec<_> = unique
            .iter()
            .map(|id| keys::key(keys::product(*id), keys::META))
            .collect();
        if let Some(code) = coupon {
            keys.push(keys::key(keys::coupon(code), keys::META));
            keys.push(keys::key(keys::coupon(code), &keys::coupon_user(user)));
        }
        let mut reads = CheckoutReads::default();
        for item in self.batch_get(keys).await? {
            let pk = item.s("PK")?;
            if pk.starts_with("PRODUCT#") {
                let product = product_item::from_item(&item)?;
                reads.products.insert(product.id, product);
            } else if item.s("SK")? == keys::META {
                reads.coupon = Some(coupons::from_item(&item)?);
            } else {
                reads.coupon_uses_by_user =
                    u32::try_from(item.n("uses")?).map_err(|_| malformed("uses"))?;
            }
        }
        Ok(reads)
    }

    async fn place_order(&self, new: &NewOrder<'_>) -> Result<(), StoreError> {
        let order = &new.checkout.order;
        let user = order.user_id;
        let mut actions = Vec::new();
        let mut absent = Expression::default();
        let pk = absent.name("PK");
        actions.push(self.put(
            order_item(order)?,
            Some((&format!("attribute_not_exists({pk})"), absent)),
            Some(Conflict::OrderExists),
        )?);
        for (product, units) in &new.checkout.stock {
            actions.push(self.stock_update(
                *product,
                units,
                true,
                Some(Conflict::InsufficientStock),
            )?);
        }
        let mut cart = Expression::default();
        let version = cart.name("version");
        let expected = cart.value(n(i64::try_from(new.cart_version).unwrap_or(i64::MAX)));
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user(user)))
            .key("SK", s(keys::CART))
            .condition_expression(format!("{version} = {expected}"))
            .set_expression_attribute_names(cart.names())
            .set_expression_attribute_values(cart.values());
        actions.push(Action {
            item: TransactWriteItem::builder()
                .delete(built(delete.build())?)
                .build(),
            conflict: Some(Conflict::CartChanged),
        });
        if let Some(coupon) = new.coupon {
            let mut e = Expression::default();
            let (uses, max, expiry) = (e.name("uses"), e.name("max_uses"), e.name("expiry"));
            let (one, now) = (e.value(n(1)), e.value(s(new.now.to_string())));
            actions.push(self.update(
                keys::coupon(&coupon.code),
                keys::META,
                &format!("SET {uses} = {uses} + {one}"),
                Some(&format!(
                    "attribute_exists(PK) AND {expiry} > {now} AND (attribute_not_exists({max}) OR {uses} < {max})"
                )),
                e,
                Some(Conflict::CouponUnavailable),
            )?);
            let mut e = Expression::default();
            let uses = e.name("uses");
            let (one, zero) = (e.value(n(1)), e.value(n(0)));
            let condition = coupon.max_uses_per_user.map(|limit| {
                let limit = e.value(n(i64::from(limit)));
                format!("attribute_not_exists({uses}) OR {uses} < {limit}")
            });
            actions.push(self.update(
                keys::coupon(&coupon.code),
                &keys::coupon_user(user),
                &format!("SET {uses} = if_not_exists({uses}, {zero}) + {one}"),
                condition.as_deref(),
                e,
                Some(Conflict::CouponLimitReached),
            )?);
        }
        if let Some(record) = new.idempotency {
            let item = HashMap::from([
                ("PK".to_owned(), s(keys::idempotency(user, &record.key))),
                ("SK".to_owned(), s(keys::IDEMPOTENCY)),
                ("user_id".to_owned(), s(user.to_string())),
                ("key".to_owned(), s(&record.key)),
                ("request".to_owned(), s(&record.request)),
                ("order".to_owned(), json(&record.order)?),
                ("ttl".to_owned(), n(record.expires_at.unix())),
            ]);
            let mut e = Expression::default();
            let (pk, ttl) = (e.name("PK"), e.name("ttl"));
            let now = e.value(n(new.now.unix()));
            actions.push(self.put(
                item,
                Some((&format!("attribute_not_exists({pk}) OR {ttl} <= {now}"), e)),
                Some(Conflict::IdempotencyKeyUsed),
            )?);
        }
        actions.push(self.put(outbox_item(new.event)?, None, None)?);
        self.transact_actions(actions).await
    }

    async fn find_order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.get(keys::order(id), keys::ORDER)
            .await?
            .map(|item| order_from_item(&item))
            .transpose()
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        let after = query.after.as_deref();
        let mut found = match query.scope {
            OrderScope::Customer(user) => {
                self.query_orders(
                    "GSI1",
                    keys::user(user),
                    keys::CUSTOMER_ORDER_PREFIX,
                    after,
                    query.limit,
                )
                .await?
            }
            OrderScope::All(Some(status)) => {
                self.query_orders("GSI2", keys::status(status), "", after, query.limit)
                    .await?
            }
            // One partition per status, merged: four Queries of at most `limit + 1` each.
            OrderScope::All(None) => {
                let mut all = Vec::new();
                for status in ALL_STATUSES {
                    all.extend(
                        self.query_orders("GSI2", keys::status(status), "", after, query.limit)
                            .await?,
                    );
                }
                all
            }
        };
        found.sort_by(|a, b| b.0.cmp(&a.0));
        let more = found.len() > query.limit;
        found.truncate(query.limit);
        Ok(OrderPage {
            next: more
                .then(|| found.last().map(|(key, _)| key.clone()))
                .flatten(),
            orders: found.into_iter().map(|(_, order)| order).collect(),
        })
    }

    async fn change_order_status(&self, change: &StatusChange<'_>) -> Result<(), StoreError> {
        let next = change.next;
        let mut e = Expression::default();
        let (status, gsi2, order) = (e.name("status"), e.name("GSI2PK"), e.name("order"));
        let (to, index, document, from) = (
            e.value(s(next.status.as_str())),
            e.value(s(keys::status(next.status))),
            e.value(json(next)?),
            e.value(s(change.current.status.as_str())),
        );
        let mut actions = vec![self.update(
            keys::order(next.id),
            keys::ORDER,
            &format!("SET {status} = {to}, {gsi2} = {index}, {order} = {document}"),
            Some(&format!("{status} = {from}")),
            e,
            Some(Conflict::OrderChanged),
        )?];
        let restock: &UnitsByProduct = change.restock;
        for (product, units) in restock {
            actions.push(self.stock_update(
                *product,
                units,
                false,
                Some(Conflict::ProductChanged),
            )?);
        }
        actions.push(self.put(outbox_item(change.event)?, None, None)?);
        match self.transact_actions(actions).await {
            // The order item is absent, not at another status.
            Err(StoreError::Conflict(Conflict::OrderChanged))
                if self.find_order(next.id).await?.is_none() =>
            {
                Err(StoreError::NotFound)
            }
            other => other,
        }
    }

    async fn outbox_events(&self, limit: usize) -> Result<Vec<OrderEvent>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(keys::OUTBOX))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_json(&Item(item), "event"))
            .collect()
    }

    async fn delete_outbox_event(&self, id: EventId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(keys::outbox(id)))
            .key("SK", s(keys::OUTBOX))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }
}
