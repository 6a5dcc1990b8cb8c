use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};

use super::AuthError;
use crate::{
    domain::{Role, SessionId, UserId},
    http::ApiError,
    state::AppState,
};

/// The caller, proven by a valid access token whose session is still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub session: SessionId,
}

/// An authenticated caller whose role is admin (403 otherwise).
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// The caller if an `Authorization` header is present (and then it must be valid), else none.
#[derive(Debug, Clone)]
pub struct OptionalUser(pub Option<AuthUser>);

/// The raw token of a required `Authorization: Bearer <token>` header, unverified (the
/// refresh endpoint verifies it as a refresh token).
#[derive(Debug, Clone)]
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?.ok_or(AuthError::MissingToken)?;
        Ok(BearerToken(token.to_owned()))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer_token(parts: &Parts) -> Result<Option<&str>, AuthError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(AuthError::MalformedHeader),
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?.ok_or(AuthError::MissingToken)?;
        Ok(state.accounts().authenticate(token).await?)
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::forbidden("Admins only"))
        }
    }
}

impl FromRequestParts<AppState> for OptionalUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer_token(parts)? {
            None => Ok(OptionalUser(None)),
            Some(token) => Ok(OptionalUser(Some(
                state.accounts().authenticate(token).await?,
            ))),
        }
    }
}
