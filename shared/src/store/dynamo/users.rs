//! Accounts and failed logins on DynamoDB: creation (e-mail uniqueness by a conditional put in
//! the same transaction as the profile), login reads, role changes that reach every session.

use super::keys;
use crate::store::Conflict;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};

use super::{
    DynamoStore, NOT_EXISTS,
    attrs::{Item, n, s},
    built, cancelled_conditions, classify, is_condition_failure, transact, transact_named,
    user_item,
};
use crate::{
    domain::{AuditEntry, Email, Role, Timestamp, User, UserId},
    store::{
        LoginAdmission, LoginFailures, LoginWindow, StoreError, StoreResult, UserRecord, UserStore,
    },
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
            .query_prefix(keys::user(user), keys::SESSION_PREFIX)
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
        // Each batch's token names the role change (its audit entry) and the batch.
        for (at, batch) in batches.into_iter().enumerate() {
            let operation = format!("{}#{at}", audit.id);
            match transact_named(self, batch, &operation).await {
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

    async fn admit_login(&self, email: &Email, window: LoginWindow) -> StoreResult<LoginAdmission> {
        // The count of an account lives on its e-mail item, beside the password hash, so an
        // admitted attempt reads the hash in the same request (a successful login costs this
        // update and the session's transaction). An address without an account counts on
        // `LOGIN#<email>`, which expires with its window.
        let account = (keys::email(email), keys::EMAIL);
        let attempts = AttemptCounter(window);
        match attempts.admit(self, account, true).await? {
            Some(admission) => Ok(admission),
            None => {
                let unknown = (keys::login(email), keys::FAILURES);
                attempts.admit(self, unknown, false).await?.ok_or_else(|| {
                    StoreError::Unexpected(anyhow::anyhow!("login attempt counter vanished"))
                })
            }
        }
    }
}

/// Counts login attempts on one item, each step a conditional update so that concurrent
/// attempts never admit more than `max_attempts` in a window.
struct AttemptCounter(LoginWindow);

/// What one conditional step did.
enum Step {
    Admitted(Item),
    /// Its condition failed; the item as it was, if there is one.
    Refused(Option<Item>),
}

impl AttemptCounter {
    /// Admits or refuses an attempt on the item `pk`/`sk`. With `account`, the item must
    /// exist (the e-mail item of an account): `None` when it does not.
    ///
    /// Requests: 1 in the usual cases (no window: the update opens one; an open window below
    /// the limit: it counts; at the limit: the refused update returns the item). A window that
    /// ended without a success since is replaced by a second, compare-and-swap update.
    ///
    /// Retry safety: an attempt counted twice (an SDK retry after a lost answer) only brings
    /// the lockout one attempt closer; it is never admitted beyond the limit.
    async fn admit(
        &self,
        store: &DynamoStore,
        (pk, sk): (String, &str),
        account: bool,
    ) -> StoreResult<Option<LoginAdmission>> {
        for _ in 0..4 {
            let ended = match step(self.update(store, (&pk, sk), account, None).send().await)? {
                Step::Admitted(item) => return self.admitted(&item, account).map(Some),
                Step::Refused(None) if account => return Ok(None),
                Step::Refused(None) => continue,
                Step::Refused(Some(old)) => {
                    if let Some(locked) = self.locked(&old) {
                        return Ok(Some(locked));
                    }
                    LoginFailures::try_from(&old)?.window_ends
                }
            };
            // The window ended: open a new one holding this attempt, unless a concurrent
            // attempt did first (then count in that one, from the top).
            let reopen = self.update(store, (&pk, sk), account, Some(ended)).send().await;
            if let Step::Admitted(item) = step(reopen)? {
                return self.admitted(&item, account).map(Some);
            }
        }
        Err(StoreError::Conflict(Conflict::TransactionConflict))
    }

    /// Counts the attempt in the open window, or opens one where there is none; with
    /// `ended`, replaces that ended window by a new one. It returns the item as it is after
    /// the update, or as it was when its condition failed.
    fn update(
        &self,
        store: &DynamoStore,
        (pk, sk): (&str, &str),
        account: bool,
        ended: Option<Timestamp>,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let exists = if account { "attribute_exists(PK) AND " } else { "" };
        // The address item (no account) goes when its window ends.
        let (ttl, reopened_ttl) = if account {
            ("", "")
        } else {
            (", #ttl = if_not_exists(window_ends, :ends)", ", #ttl = :ends")
        };
        let ends = self.0.now.plus_seconds(self.0.seconds);
        let request = store
            .update_item(pk.to_owned(), sk)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ends", n(ends.unix()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request =
            if account { request } else { request.expression_attribute_names("#ttl", "ttl") };
        match ended {
            None => request
                .update_expression(format!(
                    "SET failures = if_not_exists(failures, :zero) + :one, \
                     window_ends = if_not_exists(window_ends, :ends){ttl}"
                ))
                .condition_expression(format!(
                    "{exists}(attribute_not_exists(window_ends) \
                     OR (window_ends > :now AND failures < :max))"
                ))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":now", n(self.0.now.unix()))
                .expression_attribute_values(":max", n(i64::from(self.0.max_attempts))),
            Some(ended) => request
                .update_expression(format!(
                    "SET failures = :one, window_ends = :ends{reopened_ttl}"
                ))
                .condition_expression(format!("{exists}window_ends = :ended"))
                .expression_attribute_values(":ended", n(ended.unix())),
        }
    }

    /// The refusal `old` (the item a refused update saw) calls for, if it is locked.
    fn locked(&self, old: &Item) -> Option<LoginAdmission> {
        let current = LoginFailures::try_from(old).ok()?;
        let retry_after_seconds = current.lockout(self.0.max_attempts, self.0.now)?;
        Some(LoginAdmission::Locked { retry_after_seconds })
    }

    fn admitted(&self, item: &Item, account: bool) -> StoreResult<LoginAdmission> {
        let attempts = LoginFailures::try_from(item)?;
        let account = if account { Some(UserRecord::try_from(item)?) } else { None };
        Ok(LoginAdmission::Admitted { account, attempts })
    }
}

fn step(
    result: Result<
        aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        >,
    >,
) -> StoreResult<Step> {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    match result {
        Ok(output) => Ok(Step::Admitted(Item::from(output.attributes.unwrap_or_default()))),
        Err(error) if is_condition_failure(&error) => {
            let old = match error.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned().map(Item::from)
                }
                _ => None,
            };
            Ok(Step::Refused(old))
        }
        Err(error) => Err(classify("UpdateItem", error)),
    }
}

/// Bumps the account's session generation if it still has `role`, and clears its login
/// attempts (the login succeeded): part of the transaction that opens a session (see
/// `try_set_role`).
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
            .update_expression(
                "SET session_gen = if_not_exists(session_gen, :zero) + :one \
                 REMOVE failures, window_ends",
            )
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
