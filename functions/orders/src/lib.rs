//! `/orders/*`: checkout from the caller's cart, order tracking, and the admin status machine.
//! Handlers parse, call [`shared::orders::Orders`] and shape the response.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    auth::AuthUser,
    http::{AdminUser, ApiError, JsonBody, OptionalJsonBody, QueryParams},
    orders::{
        ChangeStatus, IdempotencyKey, ListScope, OrderListParams, OrdersPage, PlaceOrder, Placed,
    },
};

/// The header that makes a checkout safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a 201 that repeats an earlier checkout's answer.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The routes of this function, without state (the local server merges them with others).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/create", post(create))
        .route("/orders", get(mine))
        .route("/orders/all", get(all))
        .route("/orders/{order_id}", get(one))
        .route("/orders/{order_id}/status", put(set_status))
}

/// The complete application of this function, as Lambda serves it.
pub fn router(state: AppState) -> Router {
    shared::http::app(routes(), state)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    headers
        .get(IDEMPOTENCY_KEY)
        .map(|value| IdempotencyKey::parse(value.to_str().unwrap_or("\u{0}")))
        .transpose()
        .map_err(ApiError::validation)
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<PlaceOrder>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let (order, replayed) = match state.orders().place(&user, key, body).await? {
        Placed::New(order) => (order, false),
        Placed::Replayed(order) => (order, true),
    };
    let body = Json(json!({ "message": "Order placed successfully", "order": order }));
    let mut response = (StatusCode::CREATED, body).into_response();
    if replayed {
        response
            .headers_mut()
            .insert(HeaderName::from_static(IDEMPOTENT_REPLAYED), HeaderValue::from_static("true"));
    }
    Ok(response)
}

async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = state.orders().get(&user, &order_id).await?;
    Ok(Json(json!({ "order": order })))
}

fn page(page: OrdersPage) -> Json<Value> {
    Json(json!({
        "message": "Orders retrieved successfully",
        "orders": page.orders,
        "next_cursor": page.next_cursor,
    }))
}

async fn mine(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(params): QueryParams<OrderListParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(page(state.orders().list(ListScope::Mine(&user), params).await?))
}

async fn all(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    QueryParams(params): QueryParams<OrderListParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(page(state.orders().list(ListScope::All, params).await?))
}

async fn set_status(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(order_id): Path<String>,
    JsonBody(body): JsonBody<ChangeStatus>,
) -> Result<Json<Value>, ApiError> {
    let order = state.orders().set_status(&order_id, body).await?;
    Ok(Json(json!({ "message": "Order status updated successfully", "order": order })))
}
