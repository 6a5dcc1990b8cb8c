//! Storage behind traits that speak the domain. Two implementations pass one contract
//! suite: [`DynamoStore`] (the single-table design of DESIGN §4) and [`MemoryStore`].

mod dynamo;
mod error;
mod memory;
mod records;

use async_trait::async_trait;

pub use dynamo::DynamoStore;
#[cfg(feature = "schema")]
pub use dynamo::schema::{TableSchema, create_table};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use records::{RotateOutcome, Session, UserRecord};

use crate::domain::{Email, Role, SessionId, Timestamp, TokenId, User, UserId};

/// Accounts. E-mail addresses are unique (case-insensitively, as [`Email`] is lower-case).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the account; [`StoreError::Conflict`] when the e-mail is taken.
    async fn create_user(&self, record: &UserRecord) -> Result<(), StoreError>;
    /// The account and its password hash, for login (one read).
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError>;
    /// The account by id.
    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// Changes an account's role; [`StoreError::NotFound`] when it does not exist.
    async fn set_role(&self, user: &User, role: Role) -> Result<(), StoreError>;
}

/// Login sessions. A session lives until it is deleted or its expiry passes; an expired
/// session is never returned even before the table's TTL sweep removes it.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; [`StoreError::Conflict`] if the id exists.
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session if it exists and has not expired at `now`.
    async fn find_session(
        &self,
        id: SessionId,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError>;
    /// Replaces the session's current refresh token `presented` by `next`, atomically.
    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        now: Timestamp,
    ) -> Result<RotateOutcome, StoreError>;
    /// Ends the session; ending an absent session is not an error.
    async fn delete_session(&self, id: SessionId) -> Result<(), StoreError>;
}

/// Everything the functions need from storage.
pub trait Store: UserStore + SessionStore {}

impl<T: UserStore + SessionStore> Store for T {}
