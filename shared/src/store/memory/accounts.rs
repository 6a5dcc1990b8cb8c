//! Accounts, failed logins and sessions in memory.

use crate::store::Conflict;
use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    domain::{AuditEntry, Email, Role, SessionId, Timestamp, User, UserId},
    store::{
        LoginAdmission, LoginFailures, LoginWindow, RotateOutcome, Rotation, Session, SessionStore,
        StoreError, StoreResult, UserRecord, UserStore,
    },
};

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(
        &self,
        record: &UserRecord,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if inner.users.contains_key(&record.user.email) {
            return Err(StoreError::Conflict(Conflict::EmailTaken));
        }
        if inner.emails_by_id.contains_key(&record.user.id) {
            return Err(StoreError::Conflict(Conflict::UserExists));
        }
        if let Some(audit) = audit {
            inner.check_audit(audit)?;
        }
        inner.emails_by_id.insert(record.user.id, record.user.email.clone());
        inner.users.insert(record.user.email.clone(), record.clone());
        if let Some(audit) = audit {
            inner.audit(audit);
        }
        inner.answer(Ok(()))
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        Ok(self.enter().await.users.get(email).cloned())
    }

    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let inner = self.enter().await;
        let record = inner.emails_by_id.get(&id).and_then(|email| inner.users.get(email));
        Ok(record.map(|r| r.user.clone()))
    }

    async fn set_role(&self, user: &User, role: Role, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if inner.users.get(&user.email).is_none_or(|record| record.user.id != user.id) {
            return Err(StoreError::NotFound);
        }
        inner.check_audit(audit)?;
        if let Some(record) = inner.users.get_mut(&user.email) {
            record.user.role = role;
        }
        inner.audit(audit);
        for session in inner.sessions.values_mut() {
            if session.user_id == user.id {
                session.role = role;
            }
        }
        Ok(())
    }

    async fn admit_login(&self, email: &Email, window: LoginWindow) -> StoreResult<LoginAdmission> {
        let LoginWindow { now, max_attempts, seconds: window_seconds } = window;
        // One lock: the check and the count are one step, as the conditional update is.
        let mut inner = self.enter().await;
        let fresh = LoginFailures { count: 1, window_ends: now.plus_seconds(window_seconds) };
        let attempts = match inner.login_failures.get(email).copied() {
            Some(open) if open.window_ends > now => {
                if let Some(retry_after_seconds) = open.lockout(max_attempts, now) {
                    return Ok(LoginAdmission::Locked { retry_after_seconds });
                }
                LoginFailures { count: open.count.saturating_add(1), ..open }
            }
            _ => fresh,
        };
        inner.login_failures.insert(email.clone(), attempts);
        Ok(LoginAdmission::Admitted { account: inner.users.get(email).cloned(), attempts })
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut inner = self.enter().await;
        let current_role = inner
            .emails_by_id
            .get(&session.user_id)
            .and_then(|email| inner.users.get(email))
            .map(|record| record.user.role);
        if current_role != Some(session.role) {
            return Err(StoreError::Conflict(Conflict::RoleChanged));
        }
        if inner.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict(Conflict::SessionExists));
        }
        inner.login_failures.remove(&session.email);
        inner.sessions.insert(session.id, session.clone());
        inner.answer(Ok(()))
    }

    async fn find_session(
        &self,
        user: UserId,
        id: SessionId,
        now: Timestamp,
    ) -> StoreResult<Option<Session>> {
        Ok(self
            .enter()
            .await
            .sessions
            .get(&id)
            .filter(|s| s.user_id == user && s.is_live(now))
            .cloned())
    }

    async fn rotate_refresh(&self, rotation: &Rotation) -> StoreResult<RotateOutcome> {
        let (user, id, now) = (rotation.user, rotation.session, rotation.now);
        let (presented, next) = (rotation.presented, rotation.next);
        let mut inner = self.enter().await;
        let Some(session) =
            inner.sessions.get_mut(&id).filter(|s| s.user_id == user && s.is_live(now))
        else {
            return Ok(RotateOutcome::Gone);
        };
        if session.refresh_jti != presented {
            return Ok(RotateOutcome::Stale(session.clone()));
        }
        session.previous_jti = Some((presented, now));
        session.refresh_jti = next;
        let rotated = RotateOutcome::Rotated(session.clone());
        inner.answer(Ok(rotated))
    }

    async fn delete_session(&self, user: UserId, id: SessionId) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if inner.sessions.get(&id).is_some_and(|s| s.user_id == user) {
            inner.sessions.remove(&id);
        }
        Ok(())
    }
}
