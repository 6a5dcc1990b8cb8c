//! `/products/*`: the catalog. Reads are public (and cached by API Gateway); writes need an
//! admin and flush that cache. Handlers parse, call [`shared::catalog::Catalog`] and shape
//! the response.

mod edge;

pub use edge::{ApiGatewayCache, ServedBy};

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};
use shared::{
    AppState,
    catalog::ProductList,
    domain::{ListParams, Listing, Product, ProductInput},
    http::{AdminUser, ApiError, CachedQuery, JsonBody},
};

shared::operations! {
    list_products, get_product, create_product, update_product, delete_product
}

async fn list_products(
    State(state): State<AppState>,
    CachedQuery(params): CachedQuery<ListParams>,
) -> Result<Json<ProductList>, ApiError> {
    let listing = Listing::parse(params).map_err(ApiError::validation)?;
    Ok(Json(state.catalog().list(listing).await?))
}

async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Product>, ApiError> {
    Ok(Json(state.catalog().get(&id).await?))
}

async fn create_product(
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

async fn update_product(
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

async fn delete_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    served_by: ServedBy,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.catalog().delete(admin.id, &id).await?;
    edge::flush_after_write(&state, served_by).await;
    Ok(Json(json!({ "message": "Product deleted successfully" })))
}
