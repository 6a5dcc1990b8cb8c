//! Order payments: the order's payment changes, its ledger, unpaid holds and the list of
//! payments reconciliation watches.
//!
//! - ledger entry: `ORDER#<oid>/PAY#<entry id>`, the entry as JSON in `entry`;
//! - unpaid hold: `HOLDS/<deadline>#<oid>` (what the expiry sweeper queries);
//! - unpaid count: `USER#<uid>/UNPAID` with `unpaid` (kept under the limit by checkout);
//! - watch: `PAYWATCH/<oid>` with `since` while the payment is not final.
//!
//! Every change is one `TransactWriteItems` conditional on the order's status and `rev`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::{
    DynamoStore,
    attrs::{n, s},
    built, classify, keys,
    order_item::{json, outbox_item},
    transact::{Action, Expression},
};
use crate::{
    domain::{LedgerEntry, LedgerKind, LedgerStatus, Order, OrderId, Timestamp, UserId},
    store::{Conflict, OrderUpdate, PaymentStore, StoreError, StoreResult},
};

/// Whether reconciliation watches this order's payment.
pub(super) fn watched(order: &Order) -> bool {
    order.payment.as_ref().is_some_and(|p| p.intent_id.is_some() && !p.is_final())
}

impl DynamoStore {
    /// The hold of a new unpaid order and its count among the customer's, within `max`.
    pub(super) fn hold_actions(&self, order: &Order, max: u32) -> StoreResult<Vec<Action>> {
        let Some(until) = order.payment.as_ref().and_then(|p| p.hold_until) else {
            return Ok(Vec::new());
        };
        let item = HashMap::from([
            ("PK".to_owned(), s(keys::HOLDS)),
            ("SK".to_owned(), s(keys::hold(until, order.id))),
            ("order_id".to_owned(), s(order.id.to_string())),
        ]);
        let mut e = Expression::default();
        let count = e.name("unpaid");
        let (one, zero, max) = (e.value(n(1)), e.value(n(0)), e.value(n(i64::from(max))));
        let counted = self.update(
            keys::user(order.user_id),
            keys::UNPAID,
            &format!("SET {count} = if_not_exists({count}, {zero}) + {one}"),
            Some(&format!("attribute_not_exists({count}) OR {count} < {max}")),
            e,
            Some(Conflict::TooManyUnpaid),
        )?;
        Ok(vec![self.put(item, None, None)?, counted])
    }

    /// The hold released: its item deleted and the customer's count lowered.
    fn release_actions(&self, user: UserId, order: &Order) -> StoreResult<Vec<Action>> {
        let Some(until) = order.payment.as_ref().and_then(|p| p.hold_until) else {
            return Ok(Vec::new());
        };
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::HOLDS))
            .key("SK", s(keys::hold(until, order.id)));
        let mut e = Expression::default();
        let count = e.name("unpaid");
        let (one, zero) = (e.value(n(1)), e.value(n(0)));
        let lowered = self.update(
            keys::user(user),
            keys::UNPAID,
            &format!("SET {count} = {count} - {one}"),
            Some(&format!("{count} > {zero}")),
            e,
            None,
        )?;
        let delete = TransactWriteItem::builder().delete(built(delete.build())?).build();
        Ok(vec![Action { item: delete, conflict: None }, lowered])
    }

    /// A ledger entry, written once per state: an event or a new operation only if absent,
    /// an operation's answer only while it is absent or pending (so an answer is applied once,
    /// whether the request or reconciliation gets it first).
    fn ledger_put(&self, entry: &LedgerEntry) -> StoreResult<Action> {
        let item = HashMap::from([
            ("PK".to_owned(), s(keys::order(entry.order_id))),
            ("SK".to_owned(), s(keys::ledger(&entry.id))),
            ("state".to_owned(), s(ledger_state(entry.status))),
            ("entry".to_owned(), json(entry)?),
        ]);
        let mut e = Expression::default();
        let condition = if entry.kind == LedgerKind::Event || entry.status == LedgerStatus::Pending
        {
            format!("attribute_not_exists({})", e.name("PK"))
        } else {
            let (pk, state) = (e.name("PK"), e.name("state"));
            let pending = e.value(s(ledger_state(LedgerStatus::Pending)));
            format!("attribute_not_exists({pk}) OR {state} = {pending}")
        };
        self.put(item, Some((&condition, e)), Some(Conflict::EventSeen))
    }

    /// Watches the order while its payment is not final, and stops when it is.
    fn watch_action(&self, order: &Order) -> StoreResult<Action> {
        if watched(order) {
            let item = HashMap::from([
                ("PK".to_owned(), s(keys::PAYWATCH)),
                ("SK".to_owned(), s(order.id.to_string())),
                ("since".to_owned(), n(order.updated_at.unix())),
            ]);
            return self.put(item, None, None);
        }
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::PAYWATCH))
            .key("SK", s(order.id.to_string()));
        let delete = TransactWriteItem::builder().delete(built(delete.build())?).build();
        Ok(Action { item: delete, conflict: None })
    }

    /// The order written as `next` if it is still at `current`'s status and revision.
    pub(super) fn order_change(&self, current: &Order, next: &Order) -> StoreResult<Action> {
        let mut e = Expression::default();
        let (status, gsi2, order, rev) =
            (e.name("status"), e.name("GSI2PK"), e.name("order"), e.name("rev"));
        let (to, index, document, from, was, becomes) = (
            e.value(s(next.status.as_str())),
            e.value(s(keys::status(next.status))),
            e.value(json(next)?),
            e.value(s(current.status.as_str())),
            e.value(n(i64::try_from(current.revision).unwrap_or(i64::MAX))),
            e.value(n(i64::try_from(next.revision).unwrap_or(i64::MAX))),
        );
        let unrevised = if current.revision == 0 {
            format!("attribute_not_exists({rev}) OR ")
        } else {
            String::new()
        };
        self.update(
            keys::order(next.id),
            keys::ORDER,
            &format!(
                "SET {status} = {to}, {gsi2} = {index}, {order} = {document}, {rev} = {becomes}"
            ),
            Some(&format!("{status} = {from} AND ({unrevised}{rev} = {was})")),
            e,
            Some(Conflict::OrderChanged),
        )
    }

    fn coupon_back(&self, order: &Order) -> StoreResult<Vec<Action>> {
        let Some(code) = &order.coupon_code else {
            return Ok(Vec::new());
        };
        let mut actions = Vec::new();
        for (sk, conflict) in [
            (keys::META.to_owned(), Some(Conflict::CouponUnavailable)),
            (keys::coupon_user(order.user_id), None),
        ] {
            let mut e = Expression::default();
            let uses = e.name("uses");
            let (one, zero) = (e.value(n(1)), e.value(n(0)));
            actions.push(self.update(
                keys::coupon(code),
                &sk,
                &format!("SET {uses} = {uses} - {one}"),
                Some(&format!("attribute_exists(PK) AND {uses} > {zero}")),
                e,
                conflict,
            )?);
        }
        Ok(actions)
    }
}

#[async_trait]
impl PaymentStore for DynamoStore {
    async fn update_order(&self, update: &OrderUpdate<'_>) -> StoreResult<()> {
        let (current, next) = (update.current, update.next);
        let mut actions = vec![self.order_change(current, next)?];
        for (product, units) in update.restock {
            actions.push(self.stock_update(
                *product,
                units,
                false,
                Some(Conflict::ProductChanged),
            )?);
        }
        if update.coupon_back {
            actions.extend(self.coupon_back(current)?);
        }
        if update.release_hold {
            actions.extend(self.release_actions(current.user_id, current)?);
        }
        for entry in update.ledger {
            actions.push(self.ledger_put(entry)?);
        }
        if watched(current) || watched(next) {
            actions.push(self.watch_action(next)?);
        }
        if let Some(event) = update.event {
            actions.push(self.put(outbox_item(event)?, None, None)?);
        }
        if let Some(audit) = update.audit {
            actions.push(self.audit_put(audit)?);
        }
        // One token per (order, revision): a re-send of this change is applied once, and the
        // order's next change (another revision) is a new transaction.
        let operation = format!("{}@{}", next.id, next.revision);
        match self.transact_actions_named(actions, &operation).await {
            Err(StoreError::Conflict(Conflict::OrderChanged))
                if self.get(keys::order(next.id), keys::ORDER).await?.is_none() =>
            {
                Err(StoreError::NotFound)
            }
            other => other,
        }
    }

    async fn record_event(&self, entry: &LedgerEntry) -> StoreResult<()> {
        let action = self.ledger_put(entry)?;
        let Some(put) = action.item.put else {
            return Err(StoreError::Unexpected(anyhow::anyhow!("a ledger entry is a put")));
        };
        let mut request = self
            .put_item()
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_names(put.expression_attribute_names);
        request = request.set_expression_attribute_values(put.expression_attribute_values);
        match request.send().await {
            Ok(_) => Ok(()),
            Err(error) if super::is_condition_failure(&error) => {
                Err(StoreError::Conflict(Conflict::EventSeen))
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    async fn ledger(&self, order: OrderId) -> StoreResult<Vec<LedgerEntry>> {
        let request =
            self.query_prefix(keys::order(order), keys::LEDGER_PREFIX).consistent_read(true);
        let mut entries: Vec<LedgerEntry> = self
            .query_all(request)
            .await?
            .iter()
            .map(|item| item.json("entry"))
            .collect::<StoreResult<_>>()?;
        entries.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(entries)
    }

    async fn due_holds(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<OrderId>> {
        let request = self
            .query()
            .key_condition_expression("PK = :pk AND SK < :now")
            .expression_attribute_values(":pk", s(keys::HOLDS))
            .expression_attribute_values(":now", s(format!("{now}#~")));
        let items = self.query_page(request, limit).await?;
        items.iter().map(|item| item.parse("order_id")).collect()
    }

    async fn unsettled(&self, before: Timestamp, limit: usize) -> StoreResult<Vec<OrderId>> {
        let request = self
            .query()
            .key_condition_expression("PK = :pk")
            .filter_expression("since <= :before")
            .expression_attribute_values(":pk", s(keys::PAYWATCH))
            .expression_attribute_values(":before", n(before.unix()));
        let items = self.query_all(request).await?;
        let mut found: Vec<OrderId> =
            items.iter().map(|item| item.parse("SK")).collect::<StoreResult<_>>()?;
        found.truncate(limit);
        Ok(found)
    }
}

fn ledger_state(status: LedgerStatus) -> &'static str {
    match status {
        LedgerStatus::Pending => "pending",
        LedgerStatus::Succeeded => "succeeded",
        LedgerStatus::Failed => "failed",
        LedgerStatus::Received => "received",
    }
}
