//! The caller of an authenticated request, as its session identifies it.

use crate::domain::{Role, SessionId, UserId};

/// The caller, proven by a valid access token whose session is still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub session: SessionId,
}
