//! Transactions: one builder for every multi-item write of checkout, status changes and
//! the catalog's stock updates, and the mapping of a cancelled transaction to the conflict
//! that caused it.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Put, TransactWriteItem, Update},
};

use super::{DynamoStore, attrs::n, attrs::s, built, classify, keys};
use crate::{
    domain::{ProductId, Sku},
    store::{Conflict, StoreError, StoreResult},
};

/// One transaction action and the conflict its failed condition means.
pub(super) struct Action {
    pub(super) item: TransactWriteItem,
    pub(super) conflict: Option<Conflict>,
}

/// Builds condition expressions with numbered placeholders.
#[derive(Default)]
pub(super) struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    pub(super) fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    pub(super) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(super) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

impl DynamoStore {
    pub(super) fn put(
        &self,
        item: HashMap<String, AttributeValue>,
        condition: Option<(&str, Expression)>,
        conflict: Option<Conflict>,
    ) -> StoreResult<Action> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((text, expression)) = condition {
            put = put
                .condition_expression(text)
                .set_expression_attribute_names(expression.names())
                .set_expression_attribute_values(expression.values());
        }
        Ok(Action { item: TransactWriteItem::builder().put(built(put.build())?).build(), conflict })
    }

    pub(super) fn update(
        &self,
        pk: String,
        sk: &str,
        set: &str,
        condition: Option<&str>,
        expression: Expression,
        conflict: Option<Conflict>,
    ) -> StoreResult<Action> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .update_expression(set)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(expression.names())
            .set_expression_attribute_values(expression.values());
        Ok(Action {
            item: TransactWriteItem::builder().update(built(update.build())?).build(),
            conflict,
        })
    }

    /// One product's stock moved by `units` (taken when `take`), its version bumped so a
    /// concurrent catalog edit re-reads. Taking is conditional on every SKU's stock.
    pub(super) fn stock_update(
        &self,
        product: ProductId,
        units: &[(Sku, u32)],
        take: bool,
        conflict: Option<Conflict>,
    ) -> StoreResult<Action> {
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

    pub(super) async fn transact_actions(&self, actions: Vec<Action>) -> StoreResult<()> {
        self.transact_actions_named(actions, "").await
    }

    /// [`DynamoStore::transact_actions`] with `operation` in the transaction's token (for a
    /// write whose keys repeat from one change to the next).
    pub(super) async fn transact_actions_named(
        &self,
        actions: Vec<Action>,
        operation: &str,
    ) -> StoreResult<()> {
        let conflicts: Vec<Option<Conflict>> = actions.iter().map(|a| a.conflict).collect();
        let items: Vec<_> = actions.into_iter().map(|a| a.item).collect();
        let result = self
            .client
            .transact_write_items()
            .client_request_token(super::client_token(&items, operation))
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => Err(transaction_error(error, &conflicts)),
        }
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
    if reasons.iter().any(|reason| reason.code() == Some("TransactionConflict")) {
        return StoreError::Conflict(Conflict::TransactionConflict);
    }
    classify("TransactWriteItems", error)
}
