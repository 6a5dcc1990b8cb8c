use axum::http::StatusCode;

use super::token::TokenError;
use crate::{domain::FieldErrors, http::ApiError, store::StoreError};

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

impl From<AuthError> for ApiError {
    /// The codes of the API this one replaces (`authorization_header`, `token_expired`,
    /// `invalid_token`), so its clients keep recognising them.
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::MissingToken => {
                ApiError::unauthorized("authorization_header", "Missing Authorization Header")
            }
            AuthError::MalformedHeader => ApiError::unauthorized(
                "authorization_header",
                "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
            ),
            AuthError::TokenExpired => {
                ApiError::unauthorized("token_expired", "The token has expired")
            }
            AuthError::TokenInvalid => {
                ApiError::unauthorized("invalid_token", "Signature verification failed")
            }
            AuthError::TokenRevoked => {
                ApiError::unauthorized("token_revoked", "The token has been revoked")
            }
            AuthError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", "Invalid email or password")
            }
            AuthError::TooManyAttempts {
                retry_after_seconds,
            } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many failed logins for this account; try again later",
            )
            .with_retry_after(u32::try_from(retry_after_seconds).unwrap_or(u32::MAX)),
            AuthError::EmailTaken => {
                ApiError::new(StatusCode::CONFLICT, "email_taken", "User already exists")
            }
            AuthError::Forbidden(message) => ApiError::forbidden(message),
            AuthError::Validation(errors) => ApiError::validation(errors),
            AuthError::Store(error) => error.into(),
        }
    }
}
