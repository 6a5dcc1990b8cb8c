//! `/coupons/*`: admins manage coupons; any signed-in caller lists the coupons their role may
//! use now. Handlers parse, call [`shared::coupons::Coupons`] and shape the response.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, post, put},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    auth::AuthUser,
    domain::CouponInput,
    http::{AdminUser, ApiError, JsonBody},
};

/// The routes of this function, without state (the local server merges them with others).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/coupons/create", post(create))
        .route("/coupons/update/{coupon_code}", put(update))
        .route("/coupons/delete/{coupon_code}", delete(remove))
        .route("/coupons/all", get(all))
        .route("/coupons/my_coupons", get(mine))
}

/// The complete application of this function, as Lambda serves it.
pub fn router(state: AppState) -> Router {
    shared::http::app(routes(), state)
}

async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(input): JsonBody<CouponInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let coupon = state.coupons().create(admin.id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": "Coupon created successfully", "coupon": coupon })),
    ))
}

async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(code): Path<String>,
    JsonBody(input): JsonBody<CouponInput>,
) -> Result<Json<Value>, ApiError> {
    let coupon = state.coupons().update(admin.id, &code, input).await?;
    Ok(Json(json!({ "message": "Coupon updated successfully", "coupon": coupon })))
}

async fn remove(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.coupons().delete(admin.id, &code).await?;
    Ok(Json(json!({ "message": "Coupon deleted successfully" })))
}

async fn all(State(state): State<AppState>, _admin: AdminUser) -> Result<Json<Value>, ApiError> {
    let coupons = state.coupons().all().await?;
    Ok(Json(json!({ "message": "Coupons retrieved successfully", "coupons": coupons })))
}

async fn mine(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    let coupons = state.coupons().offered_to(user.role).await?;
    Ok(Json(json!({ "message": "Coupons retrieved successfully", "coupons": coupons })))
}
