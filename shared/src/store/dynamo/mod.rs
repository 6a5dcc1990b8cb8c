//! The single-table DynamoDB implementation (README, "Table"; every key in `keys.rs`).

mod admin;
mod attrs;
mod cart_items;
mod coupons;
mod keys;
mod login_item;
mod order_item;
mod orders;
mod outbox;
mod product_item;
mod products;
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
    match error.code() {
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded",
        ) => StoreError::Throttled,
        _ if server_failed || unanswered => {
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

/// Sends one transaction of `items`.
async fn transact(
    store: &DynamoStore,
    items: Vec<TransactWriteItem>,
) -> Result<(), SdkError<TransactWriteItemsError>> {
    store.client.transact_write_items().set_transact_items(Some(items)).send().await.map(|_| ())
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
