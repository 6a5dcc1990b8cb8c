use super::token::TokenError;
use crate::{domain::FieldErrors, store::StoreError};

/// Why an account operation or an authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    MissingToken,
    #[error("malformed authorization header")]
    MalformedHeader,
    #[error("token expired")]
    TokenExpired,
    #[error("token invalid")]
    TokenInvalid,
    #[error("session ended")]
    TokenRevoked,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed logins")]
    TooManyAttempts { retry_after_seconds: i64 },
    #[error("e-mail already registered")]
    EmailTaken,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Validation(#[from] FieldErrors),
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
