//! `/cart/*`: the signed-in caller's cart. Handlers parse, call [`shared::cart::Carts`] and
//! shape the response; every price comes from the catalog.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    auth::AuthUser,
    cart::{AddItem, RemoveItem, SetQuantity},
    domain::CartView,
    http::{ApiError, JsonBody, idempotency_key},
};

shared::operations! {
    cart_details, add_cart_item, update_cart_item_quantity, remove_cart_item
}

async fn cart_details(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let cart = state.carts().view(user.id).await?;
    if cart.items.is_empty() {
        return Ok(Json(
            json!({ "message": "Cart is empty", "user_id": cart.user_id, "items": [], "subtotal": cart.subtotal }),
        ));
    }
    Ok(Json(json!(cart)))
}

fn answer(message: &str, cart: CartView) -> Json<Value> {
    Json(json!({ "message": message, "cart": cart }))
}

/// The answer to a write that may replay an earlier one under the same key.
fn keyed_answer(message: &str, (cart, replayed): (CartView, bool)) -> Response {
    let mut response = answer(message, cart).into_response();
    if replayed {
        let name = HeaderName::from_static("idempotent-replayed");
        response.headers_mut().insert(name, HeaderValue::from_static("true"));
    }
    response
}

async fn add_cart_item(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AddItem>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let added = state.carts().add(user.id, body, key.as_ref()).await?;
    Ok(keyed_answer("Item added to cart", added))
}

async fn update_cart_item_quantity(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SetQuantity>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let set = state.carts().set_quantity(user.id, body, key.as_ref()).await?;
    Ok(keyed_answer("Cart updated successfully", set))
}

async fn remove_cart_item(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<RemoveItem>,
) -> Result<Json<Value>, ApiError> {
    Ok(answer("Item removed from cart", state.carts().remove(user.id, body).await?))
}
