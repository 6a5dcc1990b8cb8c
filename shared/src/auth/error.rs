//! Why an account operation or an authentication failed.

use super::token::TokenError;
use crate::{domain::FieldErrors, store::StoreError};

/// Why an account operation or an authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No bearer token.
    #[error("no bearer token")]
    MissingToken,
    /// Malformed authorization header.
    #[error("malformed authorization header")]
    MalformedHeader,
    /// Token expired.
    #[error("token expired")]
    TokenExpired,
    /// Token invalid.
    #[error("token invalid")]
    TokenInvalid,
    /// Session ended.
    #[error("session ended")]
    TokenRevoked,
    /// Invalid credentials.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins.
    #[error("too many failed logins")]
    TooManyAttempts {
        /// Seconds until the window ends.
        retry_after_seconds: i64,
    },
    /// E-mail already registered.
    #[error("e-mail already registered")]
    EmailTaken,
    /// Forbidden: ….
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Invalid fields, each with its messages.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TokenError> for AuthError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Expired => AuthError::TokenExpired,
            TokenError::Invalid => AuthError::TokenInvalid,
        }
    }
}

impl From<anyhow::Error> for AuthError {
    fn from(error: anyhow::Error) -> Self {
        AuthError::Store(StoreError::Unexpected(error))
    }
}
