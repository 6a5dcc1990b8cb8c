//! `/orders/*`: checkout from the caller's cart, order tracking, and the admin status machine;
//! `/admin/*`: the audit trail and order webhooks. Handlers parse, call the services of
//! `shared` and shape the response.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    audit::AuditParams,
    auth::AuthUser,
    domain::WebhookInput,
    http::{AdminUser, ApiError, JsonBody, OptionalJsonBody, QueryParams, idempotency_key},
    orders::{ChangeStatus, ListScope, OrderListParams, OrdersPage, PlaceOrder, Placed},
};

pub mod payments;

use payments::{cancel_order, order_payments, pay_order, refund_order, stripe_webhook};

/// The header that makes a checkout safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a 201 that repeats an earlier checkout's answer.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

shared::operations! {
    create_order, list_my_orders, list_all_orders, get_order, set_order_status, pay_order,
    cancel_order, refund_order, order_payments, stripe_webhook, list_audit_entries, list_webhooks,
    create_webhook, delete_webhook, list_webhook_deliveries
}

async fn list_audit_entries(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    QueryParams(params): QueryParams<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let page = state.audit().list(params).await?;
    Ok(Json(json!({ "entries": page.entries, "next_cursor": page.next_cursor })))
}

async fn list_webhooks(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "webhooks": state.webhooks().list().await? })))
}

async fn create_webhook(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let webhook = state.webhooks().create(admin.id, input).await?;
    let secret = webhook.secret.clone();
    let body = json!({ "message": "Webhook created", "webhook": webhook, "secret": secret });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn delete_webhook(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(webhook_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.webhooks().delete(admin.id, &webhook_id).await?;
    Ok(Json(json!({ "message": "Webhook deleted" })))
}

async fn list_webhook_deliveries(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(webhook_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "deliveries": state.webhooks().deliveries(&webhook_id).await? })))
}

async fn create_order(
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

async fn get_order(
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

async fn list_my_orders(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(params): QueryParams<OrderListParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(page(state.orders().list(ListScope::Mine(&user), params).await?))
}

async fn list_all_orders(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    QueryParams(params): QueryParams<OrderListParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(page(state.orders().list(ListScope::All, params).await?))
}

async fn set_order_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(order_id): Path<String>,
    JsonBody(body): JsonBody<ChangeStatus>,
) -> Result<Json<Value>, ApiError> {
    let order = state.orders().set_status(admin.id, &order_id, body).await?;
    Ok(Json(json!({ "message": "Order status updated successfully", "order": order })))
}
