//! Accounts and sessions: password hashing, JWTs, the caller's identity and the account
//! operations (register, login, refresh, logout) built on the store traits.

mod accounts;
mod caller;
mod error;
mod password;
pub(crate) mod token;

pub use accounts::{Accounts, LoggedIn, StaleRefresh, ensure_account, ensure_admin, stale_refresh};
pub use caller::AuthUser;
pub use error::AuthError;
pub use password::PasswordHasher;
pub use token::{Claims, TokenKind, TokenPair, Tokens};

// Settings types live with the configuration; named here too for the callers of this module.
pub use crate::config::{LoginPolicy, TokenConfig};
