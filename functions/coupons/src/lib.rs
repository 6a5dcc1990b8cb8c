//! `/coupons/*`: admins manage coupons; any signed-in caller lists the coupons their role may
//! use now. Handlers parse, call [`shared::coupons::Coupons`] and shape the response.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};
use shared::{
    AppState,
    auth::AuthUser,
    domain::CouponInput,
    http::{AdminUser, ApiError, JsonBody},
};

shared::operations! {
    create_coupon, update_coupon, delete_coupon, all_coupons, my_coupons
}

async fn create_coupon(
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

async fn update_coupon(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(code): Path<String>,
    JsonBody(input): JsonBody<CouponInput>,
) -> Result<Json<Value>, ApiError> {
    let coupon = state.coupons().update(admin.id, &code, input).await?;
    Ok(Json(json!({ "message": "Coupon updated successfully", "coupon": coupon })))
}

async fn delete_coupon(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.coupons().delete(admin.id, &code).await?;
    Ok(Json(json!({ "message": "Coupon deleted successfully" })))
}

async fn all_coupons(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Value>, ApiError> {
    let coupons = state.coupons().all().await?;
    Ok(Json(json!({ "message": "Coupons retrieved successfully", "coupons": coupons })))
}

async fn my_coupons(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let coupons = state.coupons().offered_to(user.role).await?;
    Ok(Json(json!({ "message": "Coupons retrieved successfully", "coupons": coupons })))
}
