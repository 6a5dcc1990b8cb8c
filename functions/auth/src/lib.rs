//! `/auth/*`: register, login, refresh, protected, logout; `/account/addresses`: the caller's
//! address book. Handlers parse, call [`shared::auth::Accounts`] or
//! [`shared::addresses::Addresses`] and shape the response; the rules live in `shared`.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderName, StatusCode, header},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    AppState,
    auth::AuthUser,
    domain::AddressInput,
    http::{ApiError, BearerToken, JsonBody, OptionalUser},
};

shared::operations! {
    register, login, refresh_access_token, protected, logout, list_addresses, add_address,
    update_address, delete_address
}

async fn list_addresses(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let addresses = state.addresses().list(user.id).await?;
    Ok(Json(json!({ "addresses": addresses })))
}

async fn add_address(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(input): JsonBody<AddressInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let address = state.addresses().add(user.id, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "message": "Address added", "address": address }))))
}

async fn update_address(
    State(state): State<AppState>,
    user: AuthUser,
    Path(address_id): Path<String>,
    JsonBody(input): JsonBody<AddressInput>,
) -> Result<Json<Value>, ApiError> {
    let address = state.addresses().update(user.id, &address_id, input).await?;
    Ok(Json(json!({ "message": "Address updated", "address": address })))
}

async fn delete_address(
    State(state): State<AppState>,
    user: AuthUser,
    Path(address_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.addresses().remove(user.id, &address_id).await?;
    Ok(Json(json!({ "message": "Address deleted" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    email: String,
    password: String,
    role: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    OptionalUser(requester): OptionalUser,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = state
        .accounts()
        .register(&body.email, &body.password, body.role.as_deref(), requester.as_ref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": "User registered successfully", "user": user })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
}

/// Answers that carry tokens must not be stored by any cache (RFC 6749 §5.1).
const NO_STORE: [(HeaderName, &str); 2] =
    [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")];

async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<([(HeaderName, &'static str); 2], Json<Value>), ApiError> {
    let logged_in = state.accounts().login(&body.email, &body.password).await?;
    Ok((
        NO_STORE,
        Json(
            json!({ "message": "Logged in successfully", "tokens": logged_in.tokens, "user": logged_in.user }),
        ),
    ))
}

async fn refresh_access_token(
    State(state): State<AppState>,
    BearerToken(token): BearerToken,
) -> Result<([(HeaderName, &'static str); 2], Json<Value>), ApiError> {
    let tokens = state.accounts().refresh(&token).await?;
    Ok((NO_STORE, Json(json!(tokens))))
}

async fn protected(user: AuthUser) -> Json<Value> {
    Json(json!({
        "message": "Protected route accessed",
        "role": user.role,
        "email": user.email,
        "user_id": user.id,
    }))
}

async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    state.accounts().logout(&user).await?;
    Ok(Json(json!({ "message": "Successfully logged out" })))
}
