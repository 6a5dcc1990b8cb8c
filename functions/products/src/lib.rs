//! `/products/*`: the catalog. Reads are public (and cached by API Gateway); writes need an
//! admin and flush that cache. Handlers parse, call [`shared::catalog::Catalog`] and shape
//! the response.

mod edge;

pub use edge::{ApiGatewayCache, ServedBy};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, post, put},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    catalog::ProductList,
    domain::{ListParams, Listing, Product, ProductInput},
    http::{AdminUser, ApiError, CachedQuery, JsonBody},
};

/// The routes of this function, without state (the local server merges them with others).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products/all_products", get(list))
        .route("/products/{product_id}", get(show))
        .route("/products/create_product", post(create))
        .route("/products/update_product/{product_id}", put(update))
        .route("/products/delete_product/{product_id}", delete(remove))
}

/// The complete application of this function, as Lambda serves it.
pub fn router(state: AppState) -> Router {
    shared::http::app(routes(), state)
}

async fn list(
    State(state): State<AppState>,
    CachedQuery(params): CachedQuery<ListParams>,
) -> Result<Json<ProductList>, ApiError> {
    let listing = Listing::parse(params).map_err(ApiError::validation)?;
    Ok(Json(state.catalog().list(listing).await?))
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Product>, ApiError> {
    Ok(Json(state.catalog().get(&id).await?))
}

async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    served_by: ServedBy,
    JsonBody(input): JsonBody<ProductInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let product = state.catalog().create(admin.id, input).await?;
    edge::flush_after_write(&state, served_by).await;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": "Product created successfully", "product": product })),
    ))
}

async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    served_by: ServedBy,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ProductInput>,
) -> Result<Json<Value>, ApiError> {
    let product = state.catalog().update(admin.id, &id, input).await?;
    edge::flush_after_write(&state, served_by).await;
    Ok(Json(json!({ "message": "Product updated successfully", "product": product })))
}

async fn remove(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    served_by: ServedBy,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.catalog().delete(admin.id, &id).await?;
    edge::flush_after_write(&state, served_by).await;
    Ok(Json(json!({ "message": "Product deleted successfully" })))
}
