//! The single-table DynamoDB implementation (DESIGN §4).

mod attrs;
mod cart_items;
mod coupons;
mod orders;
mod product_item;
mod products;
#[cfg(feature = "schema")]
pub mod schema;
mod sent_emails;
mod session_item;
mod user_item;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Put, TransactWriteItem, Update},
};

use super::{RotateOutcome, Session, SessionStore, StoreError, UserRecord, UserStore};
use crate::domain::{Email, Role, SessionId, Timestamp, TokenId, User, UserId};

/// DynamoDB behind the store traits. Cheap to clone (the SDK client is an `Arc`).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The SDK client (for table administration in tools and tests).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
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
    ) -> Result<Vec<attrs::Item>, StoreError> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let output = request
                .clone()
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            items.extend(
                output
                    .items
                    .unwrap_or_default()
                    .into_iter()
                    .map(attrs::Item),
            );
            start_key = output.last_evaluated_key;
            if start_key.is_none() {
                return Ok(items);
            }
        }
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<attrs::Item>, StoreError> {
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
    format!(
        "{}: {}",
        error.code().unwrap_or("unknown"),
        error.message().unwrap_or("no message")
    )
}

/// Maps an SDK failure to a store error; throttling is kept distinct so the API can say 503.
fn classify<E>(operation: &'static str, error: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error.code() {
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded",
        ) => StoreError::Throttled,
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

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, record: &UserRecord) -> Result<(), StoreError> {
        let put = |item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(NOT_EXISTS)
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| StoreError::Unexpected(e.into()))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(user_item::email_item(record))?)
            .transact_items(put(user_item::profile_item(&record.user))?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match cancelled_conditions(&error).as_deref() {
                Some([true, ..]) => Err(StoreError::Conflict("email_taken")),
                Some([_, true]) => Err(StoreError::Conflict("user_exists")),
                _ => Err(classify("TransactWriteItems", error)),
            },
        }
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let item = self
            .get(user_item::email_pk(email), user_item::EMAIL_SK)
            .await?;
        item.map(|item| user_item::record_from_item(&item))
            .transpose()
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let item = self
            .get(user_item::user_pk(id), user_item::PROFILE_SK)
            .await?;
        item.map(|item| user_item::user_from_item(&item))
            .transpose()
    }

    async fn set_role(&self, user: &User, role: Role) -> Result<(), StoreError> {
        let update = |pk: String, sk: &str| {
            Update::builder()
                .table_name(&self.table)
                .key("PK", AttributeValue::S(pk))
                .key("SK", AttributeValue::S(sk.into()))
                .update_expression("SET #role = :role")
                .condition_expression("attribute_exists(PK) AND user_id = :uid")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", AttributeValue::S(role.as_str().into()))
                .expression_attribute_values(":uid", AttributeValue::S(user.id.to_string()))
                .build()
                .map(|update| TransactWriteItem::builder().update(update).build())
                .map_err(|e| StoreError::Unexpected(e.into()))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(update(
                user_item::email_pk(&user.email),
                user_item::EMAIL_SK,
            )?)
            .transact_items(update(user_item::user_pk(user.id), user_item::PROFILE_SK)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if cancelled_conditions(&error).is_some() => Err(StoreError::NotFound),
            Err(error) => Err(classify("TransactWriteItems", error)),
        }
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item::to_item(session)))
            .condition_expression(NOT_EXISTS)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => {
                Err(StoreError::Conflict("session_exists"))
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    async fn find_session(
        &self,
        id: SessionId,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let item = self.get(session_item::pk(id), session_item::SK).await?;
        let session = item
            .map(|item| session_item::from_item(&item))
            .transpose()?;
        // TTL deletion runs up to days late: an expired item is treated as absent.
        Ok(session.filter(|s| s.is_live(now)))
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        now: Timestamp,
    ) -> Result<RotateOutcome, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(session_item::pk(id)))
            .key("SK", AttributeValue::S(session_item::SK.into()))
            .update_expression("SET refresh_jti = :next")
            .condition_expression(
                "attribute_exists(PK) AND refresh_jti = :presented AND #ttl > :now",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":next", AttributeValue::S(next.to_string()))
            .expression_attribute_values(":presented", AttributeValue::S(presented.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.unix().to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item = attrs::Item::from(output.attributes.unwrap_or_default());
                Ok(RotateOutcome::Rotated(session_item::from_item(&item)?))
            }
            // The condition failed: either the session is gone or the token was rotated out.
            Err(error) if is_condition_failure(&error) => match self.find_session(id, now).await? {
                Some(_) => Ok(RotateOutcome::Reused),
                None => Ok(RotateOutcome::Gone),
            },
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }

    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(session_item::pk(id)))
            .key("SK", AttributeValue::S(session_item::SK.into()))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }
}
