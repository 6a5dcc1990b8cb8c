//! The single-table DynamoDB implementation (docs/design/table.md; every key in `keys.rs`).

mod admin;
mod attrs;
mod cart_items;
mod cart_keys;
mod coupons;
mod keys;
mod login_item;
mod order_item;
mod orders;
mod outbox;
mod payments;
mod product_item;
mod products;
mod requests;
#[cfg(feature = "schema")]
pub(super) mod schema;
mod sent_emails;
mod session_item;
mod sessions;
mod transact;
mod user_item;
mod users;
mod webhook_secret;

use aws_sdk_dynamodb::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, TransactWriteItem},
};

use super::{StoreError, StoreResult};

/// DynamoDB behind the store traits. Cheap to clone (the SDK client is an `Arc`).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// A DynamoDB client from the SDK configuration whose requests count towards
    /// [`crate::metrics::counting_dynamodb_requests`] (the request log line and the
    /// `DynamoDbRequests` metric).
    pub fn client(sdk: &aws_config::SdkConfig) -> Client {
        let config =
            aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(RequestCounter).build();
        Client::from_conf(config)
    }

    /// One cheap read, so the TLS handshake and credential fetch happen during the cold
    /// start instead of in the first customer's request. Failures are only logged.
    pub async fn warm_up(&self) {
        let result = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S("WARMUP".into()))
            .key("SK", AttributeValue::S("WARMUP".into()))
            .send()
            .await;
        if let Err(error) = result {
            tracing::warn!(error = %error_text(&error), "warm-up read failed");
        }
    }

    /// Every item a Query matches, following its 1 MB pages.
    async fn query_all(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> StoreResult<Vec<attrs::Item>> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let output = request
                .clone()
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            items.extend(output.items.unwrap_or_default().into_iter().map(attrs::Item));
            start_key = output.last_evaluated_key;
            if start_key.is_none() {
                return Ok(items);
            }
        }
    }

    /// A query of `index`'s partition `partition`, newest first, after the sort key `after`
    /// when given: the listings' cursor.
    fn newest_first(
        &self,
        index: &str,
        partition: String,
        after: Option<String>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let request = self
            .query()
            .index_name(index)
            .scan_index_forward(false)
            .expression_attribute_names("#pk", format!("{index}PK"))
            .expression_attribute_values(":pk", attrs::s(partition));
        match after {
            Some(after) => request
                .key_condition_expression("#pk = :pk AND #sk < :after")
                .expression_attribute_names("#sk", format!("{index}SK"))
                .expression_attribute_values(":after", attrs::s(after)),
            None => request.key_condition_expression("#pk = :pk"),
        }
    }

    /// The first page of `request`, at most `limit` items: the listings that show one page.
    async fn query_page(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: usize,
    ) -> StoreResult<Vec<attrs::Item>> {
        let output = request
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        Ok(output.items.unwrap_or_default().into_iter().map(attrs::Item).collect())
    }

    async fn get(&self, pk: String, sk: &str) -> StoreResult<Option<attrs::Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(pk))
            .key("SK", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(output.item.map(attrs::Item::from))
    }
}

/// The error code and message of an SDK error, without its (noisy) debug form.
fn error_text<E: ProvideErrorMetadata>(error: &E) -> String {
    format!("{}: {}", error.code().unwrap_or("unknown"), error.message().unwrap_or("no message"))
}

/// The operations that write.
const WRITES: [&str; 5] =
    ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"];

/// Maps an SDK failure to a store error; throttling is kept distinct so the API can say 503.
fn classify<E>(operation: &'static str, error: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let server_failed = error.raw_response().is_some_and(|r| r.status().is_server_error());
    let unanswered = matches!(
        error,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    );
    let throttled = matches!(
        error.code(),
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
        )
    );
    match error.code() {
        // A read's last throttle says nothing was done. A write's only says its last attempt
        // was refused: an earlier one may have landed with its answer lost, so the caller
        // settles it as an unknown outcome (reads a marker of its write back).
        _ if throttled && !WRITES.contains(&operation) => StoreError::Throttled,
        _ if throttled || server_failed || unanswered => {
            let text = error_text(&error);
            StoreError::Unavailable(
                anyhow::Error::new(error).context(format!("{operation} failed ({text})")),
            )
        }
        _ => {
            let text = error_text(&error);
            StoreError::Unexpected(
                anyhow::Error::new(error).context(format!("{operation} failed ({text})")),
            )
        }
    }
}

/// Whether the operation failed on its condition expression.
fn is_condition_failure<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.code() == Some("ConditionalCheckFailedException")
}

/// For a cancelled transaction: which of its items failed their condition, in order.
fn cancelled_conditions(error: &SdkError<TransactWriteItemsError>) -> Option<Vec<bool>> {
    match error.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

const NOT_EXISTS: &str = "attribute_not_exists(PK)";

/// A builder's result as a store error (a missing required field is a bug here).
fn built<T, E: std::error::Error + Send + Sync + 'static>(result: Result<T, E>) -> StoreResult<T> {
    result.map_err(|e| StoreError::Unexpected(e.into()))
}

/// Sends one transaction of `items`, with its [`client_token`].
async fn transact(
    store: &DynamoStore,
    items: Vec<TransactWriteItem>,
) -> Result<(), SdkError<TransactWriteItemsError>> {
    transact_named(store, items, "").await
}

/// [`transact`] for a transaction that may not write an item of its own (a batch of a role
/// change's sessions): `operation` names it in the token.
async fn transact_named(
    store: &DynamoStore,
    items: Vec<TransactWriteItem>,
    operation: &str,
) -> Result<(), SdkError<TransactWriteItemsError>> {
    let token = client_token(&items, operation);
    let request = store.client.transact_write_items().client_request_token(token);
    request.set_transact_items(Some(items)).send().await.map(|_| ())
}

/// The `ClientRequestToken` of a transaction: derived from the keys it writes. Every
/// transaction here writes an item with an id made for that one logical write (the order, the
/// session, the audit entry, the account), so the token names the operation: the SDK's retries
/// and any re-send of the same write carry it, and DynamoDB applies the write once (for ten
/// minutes). Emulators ignore it; the services' read-backs cover them.
fn client_token(items: &[TransactWriteItem], operation: &str) -> String {
    use sha2::{Digest, Sha256};
    let key_text = |key: Option<&std::collections::HashMap<String, AttributeValue>>| {
        let part = |name: &str| {
            key.and_then(|k| k.get(name)).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
        };
        format!("{}\u{1f}{}", part("PK"), part("SK"))
    };
    let mut keys: Vec<String> = items
        .iter()
        .map(|item| {
            if let Some(put) = item.put() {
                key_text(Some(put.item()))
            } else if let Some(update) = item.update() {
                key_text(Some(update.key()))
            } else if let Some(delete) = item.delete() {
                key_text(Some(delete.key()))
            } else {
                key_text(item.condition_check().map(|check| check.key()))
            }
        })
        .collect();
    keys.sort();
    keys.push(operation.to_owned());
    let digest = Sha256::digest(keys.join("\n").as_bytes());
    // At most 36 characters (DynamoDB's limit).
    hex::encode(&digest[..18])
}

/// Counts each DynamoDB request (retries included) towards the request being served.
#[derive(Debug)]
struct RequestCounter;

impl aws_sdk_dynamodb::config::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        crate::metrics::count_dynamodb_request();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

    use super::*;

    fn put(pk: &str, sk: &str, value: &str) -> TransactWriteItem {
        let put = Put::builder()
            .table_name("t")
            .item("PK", AttributeValue::S(pk.into()))
            .item("SK", AttributeValue::S(sk.into()))
            .item("v", AttributeValue::S(value.into()))
            .build()
            .unwrap();
        TransactWriteItem::builder().put(put).build()
    }

    fn update(pk: &str, sk: &str) -> TransactWriteItem {
        let update = Update::builder()
            .table_name("t")
            .key("PK", AttributeValue::S(pk.into()))
            .key("SK", AttributeValue::S(sk.into()))
            .update_expression("SET v = :v")
            .build()
            .unwrap();
        TransactWriteItem::builder().update(update).build()
    }

    /// The token names the keys written (in any order) and the operation: the same write
    /// rebuilt gets the same token; another order id, another batch, another token.
    #[test]
    fn a_transaction_token_is_derived_from_its_keys_and_operation() {
        let order =
            |id: &str| vec![put(&format!("ORDER#{id}"), "ORDER", "x"), update("PRODUCT#1", "META")];
        let token = client_token(&order("A"), "");
        assert_eq!(token.len(), 36);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        let mut reordered = order("A");
        reordered.reverse();
        assert_eq!(client_token(&reordered, ""), token);
        assert_eq!(
            client_token(&[put("ORDER#A", "ORDER", "y"), update("PRODUCT#1", "META")], ""),
            token
        );
        assert_ne!(client_token(&order("B"), ""), token);
        assert_ne!(client_token(&order("A"), "batch 1"), token);
    }
}
