//! Orders and checkout (items in `order_item.rs`; a coupon's use by a customer is
//! `COUPON#<CODE>/USER#<uid>` with `uses`).
//!
//! Checkout is one `TransactWriteItems`: an order put, one stock update per product (every
//! SKU's `stock >= :q` in its condition), the cart delete (at the version read), the coupon's
//! and the customer's use counts, the idempotency record and the outbox event.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::{
    DynamoStore, admin,
    attrs::{Item, n, s},
    built, classify, keys,
    order_item::{idempotency_item, order_item, outbox_item},
    transact::{Action, Expression},
};
use crate::{
    domain::{
        Coupon, CouponCode, Order, OrderId, OrderStatus, ProductId, Timestamp, UnitsByProduct,
        UserId,
    },
    store::{
        CheckoutReads, Conflict, IdempotencyRecord, NewOrder, OrderPage, OrderQuery, OrderScope,
        OrderStore, StatusChange, StoreError, StoreResult, StoredCart,
    },
};

const ALL_STATUSES: [OrderStatus; 4] =
    [OrderStatus::Pending, OrderStatus::Shipped, OrderStatus::Delivered, OrderStatus::Cancelled];

impl DynamoStore {
    async fn query_orders(
        &self,
        index: &str,
        pk: String,
        sk_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Order)>> {
        let (pk_name, sk_name) = match index {
            "GSI1" => ("GSI1PK", "GSI1SK"),
            _ => ("GSI2PK", "GSI2SK"),
        };
        let mut query = self
            .query()
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
                let order = Order::try_from(&item)?;
                Ok((order.sort_key(), order))
            })
            .collect()
    }

    /// Deletes the cart if it is still at `version` (checkout priced that version).
    fn cart_delete(&self, user: UserId, version: u64) -> StoreResult<Action> {
        let mut cart = Expression::default();
        let name = cart.name("version");
        let expected = cart.value(n(i64::try_from(version).unwrap_or(i64::MAX)));
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::user(user)))
            .key("SK", s(keys::CART))
            .condition_expression(format!("{name} = {expected}"))
            .set_expression_attribute_names(cart.names())
            .set_expression_attribute_values(cart.values());
        Ok(Action {
            item: TransactWriteItem::builder().delete(built(delete.build())?).build(),
            conflict: Some(Conflict::CartChanged),
        })
    }

    /// Counts a use of the coupon (while it exists, is unexpired and under `max_uses`) and
    /// one by this customer (under `max_uses_per_user`).
    fn coupon_uses(
        &self,
        coupon: &Coupon,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<[Action; 2]> {
        let mut e = Expression::default();
        let (uses, max, expiry) = (e.name("uses"), e.name("max_uses"), e.name("expiry"));
        let (one, now) = (e.value(n(1)), e.value(s(now.to_string())));
        let total = self.update(
            keys::coupon(&coupon.code),
            keys::META,
            &format!("SET {uses} = {uses} + {one}"),
            Some(&format!(
                "attribute_exists(PK) AND {expiry} > {now} AND (attribute_not_exists({max}) OR {uses} < {max})"
            )),
            e,
            Some(Conflict::CouponUnavailable),
        )?;
        let mut e = Expression::default();
        let uses = e.name("uses");
        let (one, zero) = (e.value(n(1)), e.value(n(0)));
        let condition = coupon.max_uses_per_user.map(|limit| {
            let limit = e.value(n(i64::from(limit)));
            format!("attribute_not_exists({uses}) OR {uses} < {limit}")
        });
        let by_customer = self.update(
            keys::coupon(&coupon.code),
            &keys::coupon_user(user),
            &format!("SET {uses} = if_not_exists({uses}, {zero}) + {one}"),
            condition.as_deref(),
            e,
            Some(Conflict::CouponLimitReached),
        )?;
        Ok([total, by_customer])
    }

    /// Records the idempotency key, unless a live record holds it.
    fn idempotency_put(&self, record: &IdempotencyRecord, now: Timestamp) -> StoreResult<Action> {
        let mut e = Expression::default();
        let (pk, ttl) = (e.name("PK"), e.name("ttl"));
        let now = e.value(n(now.unix()));
        self.put(
            idempotency_item(record)?,
            Some((&format!("attribute_not_exists({pk}) OR {ttl} <= {now}"), e)),
            Some(Conflict::IdempotencyKeyUsed),
        )
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn checkout_start(
        &self,
        user: UserId,
        key: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<(StoredCart, Option<IdempotencyRecord>)> {
        use crate::store::CartStore;
        let Some(key) = key else {
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
                cart = StoredCart::try_from(item)?;
            } else {
                record = Some(IdempotencyRecord::try_from(item)?);
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
    ) -> StoreResult<CheckoutReads> {
        let mut unique = products.to_vec();
        unique.sort();
        unique.dedup();
        let mut keys: Vec<_> =
            unique.iter().map(|id| keys::key(keys::product(*id), keys::META)).collect();
        if let Some(code) = coupon {
            keys.push(keys::key(keys::coupon(code), keys::META));
            keys.push(keys::key(keys::coupon(code), &keys::coupon_user(user)));
        }
        keys.push(keys::key(keys::user(user), keys::ADDRESSES));
        let mut reads = CheckoutReads::default();
        for item in self.batch_get(keys).await? {
            let pk = item.s("PK")?;
            if admin::is_address_book(&item)? {
                reads.addresses = admin::addresses_of(&item)?;
            } else if pk.starts_with("PRODUCT#") {
                let product = crate::domain::Product::try_from(&item)?;
                reads.products.insert(product.id, product);
            } else if item.s("SK")? == keys::META {
                reads.coupon = Some(Coupon::try_from(&item)?);
            } else {
                reads.coupon_uses_by_user = item.count("uses")?;
            }
        }
        Ok(reads)
    }

    async fn place_order(&self, new: &NewOrder<'_>) -> StoreResult<()> {
        let order = &new.checkout.order;
        let mut absent = Expression::default();
        let pk = absent.name("PK");
        let mut actions = vec![self.put(
            order_item(order)?,
            Some((&format!("attribute_not_exists({pk})"), absent)),
            Some(Conflict::OrderExists),
        )?];
        for (product, units) in &new.checkout.stock {
            let shortage = Some(Conflict::InsufficientStock);
            actions.push(self.stock_update(*product, units, true, shortage)?);
        }
        actions.push(self.cart_delete(order.user_id, new.cart_version)?);
        if let Some(coupon) = new.coupon {
            actions.extend(self.coupon_uses(coupon, order.user_id, new.now)?);
        }
        if let Some(record) = new.idempotency {
            actions.push(self.idempotency_put(record, new.now)?);
        }
        if let Some(max) = new.max_unpaid {
            actions.extend(self.hold_actions(order, max)?);
        }
        if super::payments::watched(order) {
            return Err(StoreError::Unexpected(anyhow::anyhow!("a new order has no intent")));
        }
        actions.push(self.put(outbox_item(new.event)?, None, None)?);
        self.transact_actions(actions).await
    }

    async fn find_order(&self, id: OrderId) -> StoreResult<Option<Order>> {
        self.get(keys::order(id), keys::ORDER).await?.map(|item| Order::try_from(&item)).transpose()
    }

    async fn list_orders(&self, query: &OrderQuery) -> StoreResult<OrderPage> {
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
                self.query_orders("GSI2", keys::status(status), "", after, query.limit).await?
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
            next: more.then(|| found.last().map(|(key, _)| key.clone())).flatten(),
            orders: found.into_iter().map(|(_, order)| order).collect(),
        })
    }

    async fn change_order_status(&self, change: &StatusChange<'_>) -> StoreResult<()> {
        let next = change.next;
        let mut actions = vec![self.order_change(change.current, next)?];
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
        actions.push(self.audit_put(change.audit)?);
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
}
