//! The caller of an authenticated request, as its session identifies it.

use crate::domain::{Role, SessionId, UserId};

/// The caller, proven by a valid access token whose session is still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// The account.
    pub id: UserId,
    /// Its e-mail address.
    pub email: String,
    /// Its current role.
    pub role: Role,
    /// The session the token belongs to.
    pub session: SessionId,
}
