//! The authenticated-caller extractors: the session behind a bearer token, admins only,
//! the raw bearer token of the refresh endpoint.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};

use super::{ApiError, log::CallerSlot};
use crate::{
    auth::{AuthError, AuthUser},
    domain::Role,
    state::AppState,
};

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

/// The optional `Idempotency-Key` header of a write that may be retried (checkout, cart
/// writes); a malformed one is a 400 naming the header.
pub fn idempotency_key(
    headers: &axum::http::HeaderMap,
) -> Result<Option<crate::orders::IdempotencyKey>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|value| crate::orders::IdempotencyKey::parse(value.to_str().unwrap_or("\u{0}")))
        .transpose()
        .map_err(ApiError::validation)
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
        let user = state.accounts().authenticate(token).await?;
        if let Some(caller) = parts.extensions.get::<CallerSlot>() {
            caller.set(user.id.to_string());
        }
        Ok(user)
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
            Some(_) => Ok(OptionalUser(Some(AuthUser::from_request_parts(parts, state).await?))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::{
        Router,
        body::{Body, to_bytes},
        http::{Request, StatusCode},
        routing::get,
    };
    use tower::ServiceExt;

    use super::*;
    use crate::{auth::ensure_admin, auth::token::tests::config, store::MemoryStore};

    async fn status_and_code(router: &Router, token: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::get("/admin");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        // The handler answers plain text; the rejections answer the JSON envelope.
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        (status, body["error"].as_str().unwrap_or("").to_owned())
    }

    #[tokio::test]
    async fn admin_user_admits_admins_only() {
        let state = AppState::new(Arc::new(MemoryStore::default()), config());
        let router = Router::new()
            .route("/admin", get(|AdminUser(user): AdminUser| async move { user.email }))
            .with_state(state.clone());
        let accounts = state.accounts();
        ensure_admin(state.store(), "boss@shop.test", "boss-password").await.unwrap();
        accounts.register("pat@shop.test", "pat-password", None, None).await.unwrap();
        let admin = accounts.login("boss@shop.test", "boss-password").await.unwrap().tokens;
        let customer = accounts.login("pat@shop.test", "pat-password").await.unwrap().tokens;

        assert_eq!(status_and_code(&router, Some(&admin.access_token)).await.0, StatusCode::OK);
        assert_eq!(
            status_and_code(&router, Some(&customer.access_token)).await,
            (StatusCode::FORBIDDEN, "forbidden".into())
        );
        assert_eq!(
            status_and_code(&router, None).await,
            (StatusCode::UNAUTHORIZED, "authorization_header".into())
        );
        assert_eq!(
            status_and_code(&router, Some(&admin.refresh_token)).await,
            (StatusCode::UNAUTHORIZED, "invalid_token".into())
        );
    }
}
