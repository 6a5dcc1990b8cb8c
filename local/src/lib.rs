//! The whole shop API in one process: every function's routes merged on one router, over
//! the in-memory store or any DynamoDB-compatible endpoint. The binary (`main.rs`) adds the
//! command line; tests build the same [`app`].

pub mod demo;
pub mod payments;
mod pipeline;
pub mod stripe;

pub use pipeline::{Consumers, Redelivery, in_process_queue};

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use axum::{Json, Router, routing::get};
use serde_json::Value;
use shared::{
    AppState,
    store::{DynamoStore, MemoryStore, Store, TableSchema, create_table},
};

/// The SAM template; the local table is created from its table resource, never a copy.
pub const TEMPLATE_YAML: &str = include_str!("../../template.yaml");
/// The hand-written OpenAPI 3 document of every route (checked against the routers by tests).
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// Every function's routes, merged, plus `GET /openapi.json` and the API explorer at
/// `GET /docs`, with the shared fallbacks and request logging.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .merge(auth::routes())
        .merge(products::routes())
        .merge(coupons::routes())
        .merge(cart::routes())
        .merge(orders::routes())
        .route("/openapi.json", get(openapi_json))
        .merge(explorer());
    shared::http::app(routes, state)
}

async fn openapi_json() -> Json<Value> {
    Json(openapi().clone())
}

/// Where the API explorer is served.
pub const EXPLORER_PATH: &str = "/docs";

/// Swagger UI at [`EXPLORER_PATH`], its assets embedded in this binary (works offline), over
/// the OpenAPI document with one server: the one serving the page, so "Try it out" calls
/// this server whatever its port.
fn explorer() -> Router<AppState> {
    let document = format!("{EXPLORER_PATH}/openapi.json");
    let ui = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: EXPLORER_PATH,
        api_definition: swagger_ui_dist::OpenApiSource::Uri(document.as_str()),
        title: Some("Shop API explorer"),
    });
    ui.route(&document, get(explorer_document)).with_state(())
}

async fn explorer_document() -> Json<Value> {
    let mut document = openapi().clone();
    document["servers"] = serde_json::json!([{ "url": "/", "description": "this server" }]);
    Json(document)
}

/// The OpenAPI document as JSON.
///
/// # Panics
/// If `openapi.yaml` is not valid YAML, which the test suite rules out.
pub fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_norway::from_str(OPENAPI_YAML).expect("openapi.yaml parses"))
}

/// Where the local server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// In this process's memory; gone when it stops.
    Memory,
    /// A DynamoDB table through the AWS SDK's default configuration (`AWS_ENDPOINT_URL`,
    /// credentials, region) and `TABLE_NAME`.
    Dynamodb,
}

/// Whether the local server serves a payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Payments {
    /// None.
    Off,
    /// The Stripe-compatible provider ([`stripe::LocalStripe`]) under [`stripe::PREFIX`].
    Local,
}

/// The shop's routes, and the local payment provider's under [`stripe::PREFIX`] when there
/// is one (outside the shop's middleware: it is another service).
pub fn app_with(state: AppState, provider: Option<stripe::LocalStripe>) -> Router {
    let shop = app(state);
    match provider {
        None => shop,
        Some(provider) => shop.nest(stripe::PREFIX, provider.router()),
    }
}

/// Opens the store, creating the DynamoDB table from `template.yaml` if it is missing.
pub async fn open_store(kind: StoreKind, table: &str) -> anyhow::Result<Arc<dyn Store>> {
    match kind {
        StoreKind::Memory => Ok(Arc::new(MemoryStore::default())),
        StoreKind::Dynamodb => Ok(Arc::new(open_dynamo(table).await?)),
    }
}

/// A [`DynamoStore`] over `table`, created from the template's definition if missing.
pub async fn open_dynamo(table: &str) -> anyhow::Result<DynamoStore> {
    let sdk = aws_config::load_from_env().await;
    let client = DynamoStore::client(&sdk);
    let schema = TableSchema::from_template(TEMPLATE_YAML)?;
    let created = create_table(&client, table, &schema)
        .await
        .with_context(|| format!("could not open or create table {table}"))?;
    if created {
        tracing::info!(table, "created the table from template.yaml");
    }
    Ok(DynamoStore::new(client, table))
}

/// The sender of the local server's e-mails when `SHOP_EMAIL_SENDER` is unset.
pub const DEFAULT_SENDER: &str = "orders@shop.localhost";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_parses() {
        assert!(openapi()["paths"].is_object());
    }
}
