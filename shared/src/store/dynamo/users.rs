//! Accounts and failed logins on DynamoDB: creation (e-mail uniqueness by a conditional put in
//! the same transaction as the profile), login reads, role changes that reach every session.

use super::keys;
use crate::store::Conflict;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update,
};

use super::{
    DynamoStore, NOT_EXISTS,
    attrs::{Item, n, s},
    built, cancelled_conditions, classify, is_condition_failure,
    keys::key,
    transact, user_item,
};
use crate::{
    domain::{AuditEntry, Email, Role, Timestamp, User, UserId},
    store::{LoginFailures, LoginRecord, StoreError, StoreResult, UserRecord, UserStore},
};

/// At most this many actions per transaction (DynamoDB's limit).
const MAX_ACTIONS: usize = 100;

/// How often a role change is retried when a login or logout races it.
const ROLE_CHANGE_ATTEMPTS: usize = 5;

pub(super) fn put_new(
    table: &str,
    item: std::collections::HashMap<String, AttributeValue>,
) -> StoreResult<TransactWriteItem> {
    let put = built(
        Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(NOT_EXISTS)
            .build(),
    )?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn set_role_action(
    table: &str,
    (pk, sk): (String, String),
    role: Role,
    condition: &str,
    values: &[(&str, AttributeValue)],
) -> StoreResult<TransactWriteItem> {
    let mut update = Update::builder()
        .table_name(table)
        .key("PK", s(pk))
        .key("SK", s(sk))
        .update_expression("SET #role = :role")
        .condition_expression(condition)
        .expression_attribute_names("#role", "role")
        .expression_attribute_values(":role", s(role.as_str()));
    for (name, value) in values {
        update = update.expression_attribute_values(*name, value.clone());
    }
    Ok(TransactWriteItem::builder().update(built(update.build())?).build())
}

impl DynamoStore {
    /// The sort keys of every session of `user` (strongly consistent).
    async fn session_keys(&self, user: UserId) -> StoreResult<Vec<String>> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(keys::SESSION_PREFIX))
            .projection_expression("SK")
            .consistent_read(true);
        self.query_all(request).await?.iter().map(|item| item.s("SK").map(str::to_owned)).collect()
    }

    /// The role set on the account's e-mail item (only if no session was opened since
    /// `generation` was read) and on its profile.
    fn account_role_actions(
        &self,
        user: &User,
        role: Role,
        generation: Option<AttributeValue>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let uid = (":uid", s(user.id.to_string()));
        let email = (keys::email(&user.email), keys::EMAIL.to_owned());
        let on_email = match generation {
            Some(generation) => set_role_action(
                &self.table,
                email,
                role,
                "user_id = :uid AND session_gen = :gen",
                &[uid.clone(), (":gen", generation)],
            )?,
            None => set_role_action(
                &self.table,
                email,
                role,
                "user_id = :uid AND attribute_not_exists(session_gen)",
                std::slice::from_ref(&uid),
            )?,
        };
        let profile = (keys::user(user.id), keys::PROFILE.to_owned());
        let on_profile = set_role_action(
            &self.table,
            profile,
            role,
            "attribute_exists(PK) AND user_id = :uid",
            &[uid],
        )?;
        Ok(vec![on_email, on_profile])
    }

    /// One attempt at a role change: `Ok(false)` when a login or logout raced it.
    async fn try_set_role(&self, user: &User, role: Role, audit: &AuditEntry) -> StoreResult<bool> {
        let email =
            self.get(keys::email(&user.email), keys::EMAIL).await?.ok_or(StoreError::NotFound)?;
        if email.s("user_id")? != user.id.to_string() {
            return Err(StoreError::NotFound);
        }
        // Every login bumps `session_gen` in the transaction that creates its session: if it is
        // unchanged when this commits, the sessions read below are all there are.
        let generation = email.0.get("session_gen").cloned();
        let sessions = self.session_keys(user.id).await?;
        let mut actions = self.account_role_actions(user, role, generation)?;
        let mut rest = Vec::new();
        for sk in sessions {
            let key = (keys::user(user.id), sk);
            rest.push(set_role_action(&self.table, key, role, "attribute_exists(PK)", &[])?);
        }
        rest.push(self.audit_put(audit)?.item);
        let mut batches = Vec::new();
        for action in rest {
            if actions.len() == MAX_ACTIONS {
                batches.push(std::mem::take(&mut actions));
            }
            actions.push(action);
        }
        batches.push(actions);
        // The first transaction holds the account and up to 98 sessions: an account with more
        // sessions than that has the rest updated right after (each still conditional). The
        // audit entry goes in the last one, so a retry after a later batch failed records once.
        for batch in batches {
            match transact(self, batch).await {
                Ok(()) => {}
                Err(error) if cancelled_conditions(&error).is_some() => return Ok(false),
                Err(error) => return Err(classify("TransactWriteItems", error)),
            }
        }
        Ok(true)
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(
        &self,
        record: &UserRecord,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        let mut items = vec![
            put_new(&self.table, user_item::email_item(record))?,
            put_new(&self.table, user_item::profile_item(&record.user))?,
        ];
        if let Some(audit) = audit {
            items.push(self.audit_put(audit)?.item);
        }
        let result = transact(self, items).await;
        match result {
            Ok(()) => Ok(()),
            Err(error) => match cancelled_conditions(&error).as_deref() {
                Some([true, ..]) => Err(StoreError::Conflict(Conflict::EmailTaken)),
                Some([_, true, ..]) => Err(StoreError::Conflict(Conflict::UserExists)),
                _ => Err(classify("TransactWriteItems", error)),
            },
        }
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        let item = self.get(keys::email(email), keys::EMAIL).await?;
        item.map(|item| UserRecord::try_from(&item)).transpose()
    }

    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let item = self.get(keys::user(id), keys::PROFILE).await?;
        item.map(|item| User::try_from(&item)).transpose()
    }

    async fn set_role(&self, user: &User, role: Role, audit: &AuditEntry) -> StoreResult<()> {
        for _ in 0..ROLE_CHANGE_ATTEMPTS {
            if self.try_set_role(user, role, audit).await? {
                return Ok(());
            }
        }
        Err(StoreError::Conflict(Conflict::TransactionConflict))
    }

    async fn find_login(&self, email: &Email) -> StoreResult<LoginRecord> {
        let items = self
            .batch_get(vec![
                key(keys::email(email), keys::EMAIL),
                key(keys::login(email), keys::FAILURES),
            ])
            .await?;
        let mut record = LoginRecord::default();
        for item in items {
            if item.s("SK")? == keys::FAILURES {
                record.failures = Some(LoginFailures::try_from(&item)?);
            } else {
                record.account = Some(UserRecord::try_from(&item)?);
            }
        }
        Ok(record)
    }

    async fn record_login_failure(
        &self,
        email: &Email,
        seen: Option<LoginFailures>,
        now: Timestamp,
        window_seconds: i64,
    ) -> StoreResult<LoginFailures> {
        // Count in the open window, or open a new one; each step is conditional, so concurrent
        // failures never lose a count, and a step whose condition fails hands over to the
        // other. The caller's read picks the likely one first: one request in the usual case.
        let mut open_window = seen.is_some_and(|f| f.window_ends > now);
        for _ in 0..4 {
            let outcome = if open_window {
                self.count_failure(email, now).await?
            } else {
                self.open_failure_window(email, now, window_seconds).await?
            };
            if let Some(failures) = outcome {
                return Ok(failures);
            }
            open_window = !open_window;
        }
        Err(StoreError::Conflict(Conflict::TransactionConflict))
    }
}

impl DynamoStore {
    /// One more failure in the open window; `None` when no window is open.
    async fn count_failure(
        &self,
        email: &Email,
        now: Timestamp,
    ) -> StoreResult<Option<LoginFailures>> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(keys::login(email)))
            .key("SK", s(keys::FAILURES))
            .update_expression("SET failures = failures + :one")
            .condition_expression("window_ends > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.unix()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match counted {
            Ok(output) => {
                LoginFailures::try_from(&Item::from(output.attributes.unwrap_or_default()))
                    .map(Some)
            }
            Err(error) if is_condition_failure(&error) => Ok(None),
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }

    /// A new window holding one failure; `None` when a window is still open.
    async fn open_failure_window(
        &self,
        email: &Email,
        now: Timestamp,
        window_seconds: i64,
    ) -> StoreResult<Option<LoginFailures>> {
        let ends = now.plus_seconds(window_seconds);
        let opened = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(keys::login(email)))
            .key("SK", s(keys::FAILURES))
            .update_expression("SET failures = :one, window_ends = :ends, #ttl = :ends")
            .condition_expression("attribute_not_exists(window_ends) OR window_ends <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ends", n(ends.unix()))
            .expression_attribute_values(":now", n(now.unix()))
            .send()
            .await;
        match opened {
            Ok(_) => Ok(Some(LoginFailures { count: 1, window_ends: ends })),
            Err(error) if is_condition_failure(&error) => Ok(None),
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }
}

/// Deletes the e-mail's failed logins if they do not lock it out (a delete of an absent item
/// is a no-op): part of the transaction that opens a session.
pub(super) fn clear_failures(
    table: &str,
    email: &Email,
    max_failures: u32,
    now: Timestamp,
) -> StoreResult<TransactWriteItem> {
    let delete = built(
        Delete::builder()
            .table_name(table)
            .key("PK", s(keys::login(email)))
            .key("SK", s(keys::FAILURES))
            .condition_expression(
                "attribute_not_exists(PK) OR failures < :max OR window_ends <= :now",
            )
            .expression_attribute_values(":max", n(i64::from(max_failures)))
            .expression_attribute_values(":now", n(now.unix()))
            .build(),
    )?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Bumps the account's session generation if it still has `role`: part of the transaction
/// that opens a session (see `try_set_role`).
pub(super) fn bump_session_gen(
    table: &str,
    email: &Email,
    user: UserId,
    role: Role,
) -> StoreResult<TransactWriteItem> {
    let update = built(
        Update::builder()
            .table_name(table)
            .key("PK", s(keys::email(email)))
            .key("SK", s(keys::EMAIL))
            .update_expression("SET session_gen = if_not_exists(session_gen, :zero) + :one")
            .condition_expression("user_id = :uid AND #role = :role")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":uid", s(user.to_string()))
            .expression_attribute_values(":role", s(role.as_str()))
            .build(),
    )?;
    Ok(TransactWriteItem::builder().update(update).build())
}
