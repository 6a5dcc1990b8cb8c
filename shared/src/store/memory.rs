use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;

use super::{RotateOutcome, Session, SessionStore, StoreError, UserRecord, UserStore};
use crate::domain::{Email, Role, SessionId, Timestamp, TokenId, User, UserId};

/// An in-process store with the same semantics as [`super::DynamoStore`]: every operation
/// is atomic under one lock, as the conditional writes and transactions are in DynamoDB.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<Email, UserRecord>,
    emails_by_id: HashMap<UserId, Email>,
    sessions: HashMap<SessionId, Session>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half an operation behind (each
        // operation writes only after all its checks), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, record: &UserRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.users.contains_key(&record.user.email) {
            return Err(StoreError::Conflict("email_taken"));
        }
        if inner.emails_by_id.contains_key(&record.user.id) {
            return Err(StoreError::Conflict("user_exists"));
        }
        inner
            .emails_by_id
            .insert(record.user.id, record.user.email.clone());
        inner
            .users
            .insert(record.user.email.clone(), record.clone());
        Ok(())
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().users.get(email).cloned())
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let inner = self.lock();
        let record = inner
            .emails_by_id
            .get(&id)
            .and_then(|email| inner.users.get(email));
        Ok(record.map(|r| r.user.clone()))
    }

    async fn set_role(&self, user: &User, role: Role) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.users.get_mut(&user.email) {
            Some(record) if record.user.id == user.id => {
                record.user.role = role;
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict("session_exists"));
        }
        inner.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn find_session(
        &self,
        id: SessionId,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        Ok(self
            .lock()
            .sessions
            .get(&id)
            .filter(|s| s.is_live(now))
            .cloned())
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        now: Timestamp,
    ) -> Result<RotateOutcome, StoreError> {
        let mut inner = self.lock();
        let Some(session) = inner.sessions.get_mut(&id).filter(|s| s.is_live(now)) else {
            return Ok(RotateOutcome::Gone);
        };
        if session.refresh_jti != presented {
            return Ok(RotateOutcome::Reused);
        }
        session.refresh_jti = next;
        Ok(RotateOutcome::Rotated(session.clone()))
    }

    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError> {
        self.lock().sessions.remove(&id);
        Ok(())
    }
}
