//! Accounts as the API shows them.

use serde::Serialize;

use super::{Email, Role, Timestamp, UserId};

/// An account as the API shows it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The id.
    pub id: UserId,
    /// The e-mail address (lower-case).
    pub email: Email,
    /// What the account may do.
    pub role: Role,
    /// When it was created (UTC).
    pub created_at: Timestamp,
}

impl Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
