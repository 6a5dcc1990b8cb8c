//! Sessions on DynamoDB: opened in one transaction with the account's role check and the
//! clearing of the account's login attempts; refresh tokens rotated by a conditional update.

use super::keys;
use crate::store::Conflict;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;

use super::{
    DynamoStore,
    attrs::{Item, n, s},
    cancelled_conditions, classify, is_condition_failure, session_item, transact,
    users::{bump_session_gen, put_new},
};
use crate::{
    domain::{SessionId, Timestamp, UserId},
    store::{RotateOutcome, Rotation, Session, SessionStore, StoreError, StoreResult},
};

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let actions = vec![
            put_new(&self.table, session_item::to_item(session))?,
            bump_session_gen(&self.table, &session.email, session.user_id, session.role)?,
        ];
        match transact(self, actions).await {
            Ok(()) => Ok(()),
            Err(error) => match cancelled_conditions(&error).as_deref() {
                Some([_, true]) => Err(StoreError::Conflict(Conflict::RoleChanged)),
                Some([true, _]) => Err(StoreError::Conflict(Conflict::SessionExists)),
                _ => Err(classify("TransactWriteItems", error)),
            },
        }
    }

    async fn find_session(
        &self,
        user: UserId,
        id: SessionId,
        now: Timestamp,
    ) -> StoreResult<Option<Session>> {
        let item = self.get(keys::user(user), &keys::session(id)).await?;
        let session = item.map(|item| Session::try_from(&item)).transpose()?;
        // TTL deletion runs up to days late: an expired item is treated as absent.
        Ok(session.filter(|s| s.is_live(now)))
    }

    async fn rotate_refresh(&self, rotation: &Rotation) -> StoreResult<RotateOutcome> {
        let (user, id, now) = (rotation.user, rotation.session, rotation.now);
        let (presented, next) = (rotation.presented, rotation.next);
        let result = self
            .update_item(keys::user(user), keys::session(id))
            .update_expression(
                "SET refresh_jti = :next, previous_jti = :presented, rotated_at = :now",
            )
            .condition_expression(
                "attribute_exists(PK) AND refresh_jti = :presented AND #ttl > :now",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":next", s(next.to_string()))
            .expression_attribute_values(":presented", s(presented.to_string()))
            .expression_attribute_values(":now", n(now.unix()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item = Item::from(output.attributes.unwrap_or_default());
                Ok(RotateOutcome::Rotated(Session::try_from(&item)?))
            }
            // The condition failed: either the session is gone or the token is not current.
            Err(error) if is_condition_failure(&error) => {
                match self.find_session(user, id, now).await? {
                    Some(session) => Ok(RotateOutcome::Stale(session)),
                    None => Ok(RotateOutcome::Gone),
                }
            }
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }

    async fn delete_session(&self, user: UserId, id: SessionId) -> StoreResult<()> {
        self.delete_item(keys::user(user), keys::session(id))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }
}
