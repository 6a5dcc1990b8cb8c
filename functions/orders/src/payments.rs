//! Payments: paying an order, the provider's signed events, refunds, the owner's
//! cancellation and the payment ledger. Answer 404 `payments_disabled` when the shop takes no
//! payments.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    auth::AuthUser,
    domain::{LedgerStatus, from_minor_units},
    http::{AdminUser, ApiError, OptionalJsonBody, idempotency_key},
    orders::{EventOutcome, RefundRequest},
};

/// The header Stripe signs its events with.
pub const STRIPE_SIGNATURE: &str = "stripe-signature";

pub(crate) async fn pay_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let paying = state.orders().pay(&user, &order_id).await?;
    Ok(Json(json!({
        "payment_intent_id": paying.intent.id,
        "client_secret": paying.intent.client_secret,
        "status": paying.payment.status,
        "amount": from_minor_units(paying.payment.amount).to_string(),
        "currency": paying.payment.currency,
    })))
}

pub(crate) async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let signature = headers.get(STRIPE_SIGNATURE).and_then(|v| v.to_str().ok());
    let outcome = state.orders().provider_event(&body, signature).await?;
    let outcome = match outcome {
        EventOutcome::Recorded => "recorded",
        EventOutcome::Duplicate => "duplicate",
        EventOutcome::Ignored => "ignored",
    };
    Ok(Json(json!({ "received": true, "outcome": outcome })))
}

pub(crate) async fn cancel_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = state.orders().cancel(&user, &order_id).await?;
    Ok(Json(json!({ "message": "Order cancelled", "order": order })))
}

pub(crate) async fn refund_order(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<RefundRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = idempotency_key(&headers)?;
    let (order, entry) = state.orders().refund(admin.id, &order_id, key, body).await?;
    // Pending: the provider has not answered yet; reconciliation records its answer.
    let status = if entry.status == LedgerStatus::Pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(json!({ "refund": entry, "order": order }))))
}

pub(crate) async fn order_payments(
    State(state): State<AppState>,
    user: AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (order, ledger) = state.orders().payments_of(&user, &order_id).await?;
    Ok(Json(json!({ "order_id": order.id, "payment": order.payment, "ledger": ledger })))
}
