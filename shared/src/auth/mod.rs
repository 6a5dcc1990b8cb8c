//! Accounts and sessions: password hashing, JWTs, the authenticated-user extractors and
//! the account operations (register, login, refresh, logout) built on the store traits.

mod accounts;
mod error;
mod extract;
mod password;
pub(crate) mod token;

pub use accounts::{Accounts, LoggedIn, LoginPolicy, StaleRefresh, ensure_admin, stale_refresh};
pub use error::AuthError;
pub use extract::{AdminUser, AuthUser, BearerToken, OptionalUser};
pub use password::{PasswordHasher, StoredHash};
pub use token::{Claims, TokenConfig, TokenKind, TokenPair, Tokens};
