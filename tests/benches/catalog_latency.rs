//! `cargo bench -p e2e --bench catalog_latency`: in-process latency of the catalog reads
//! through the composed router on the memory store (no network, no database): what the
//! code itself costs per request. Median and 99th percentile of many calls.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use http_body_util::BodyExt;
use serde_json::json;
use shared::{AppState, store::MemoryStore};
use tower::ServiceExt;

const CALLS: usize = 5_000;
const PRODUCTS: usize = 500;

async fn call(router: &axum::Router, request: Request<Body>) -> usize {
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert!(response.status().is_success(), "{}", response.status());
    response.into_body().collect().await.expect("body").to_bytes().len()
}

async fn measure(router: &axum::Router, uri: &str) -> (Duration, Duration, usize) {
    let mut samples = Vec::with_capacity(CALLS);
    let mut bytes = 0;
    for _ in 0..CALLS {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        let start = Instant::now();
        bytes = call(router, request).await;
        samples.push(start.elapsed());
    }
    samples.sort();
    (samples[CALLS / 2], samples[CALLS * 99 / 100], bytes)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let state = AppState::new(Arc::new(MemoryStore::default()), e2e::token_config());
    let admin = e2e::admin_token(&state).await;
    let router = local::app(state);
    let mut id = String::new();
    for i in 0..PRODUCTS {
        let variants: Vec<_> = (0..3)
            .map(|v| json!({ "sku": format!("B-{i}-{v}"), "stock": 10, "price": "24.99" }))
            .collect();
        let body = json!({ "name": format!("Product {i}"), "description": "A product used to measure reads.", "category": format!("c{}", i % 10), "images": ["https://cdn.example.com/p.jpg"], "variants": variants });
        let request = Request::post("/products/create_product")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {admin}"))
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = router.clone().oneshot(request).await.expect("infallible");
        let created = e2e::Reply::read(response).await.json;
        id = created["product"]["id"].as_str().expect("id").to_owned();
    }
    println!("memory store, {PRODUCTS} products of 3 variants, {CALLS} calls each, one thread");
    for (label, uri) in [
        ("GET /products/{id}", format!("/products/{id}")),
        ("GET /products/all_products (page 1 of 5)", "/products/all_products".to_owned()),
        (
            "GET /products/all_products?per_page=100",
            "/products/all_products?per_page=100".to_owned(),
        ),
        (
            "GET /products/all_products?limit=20 (cursor)",
            "/products/all_products?limit=20".to_owned(),
        ),
        ("GET /products/all_products?category=c3", "/products/all_products?category=c3".to_owned()),
    ] {
        let (median, p99, bytes) = measure(&router, &uri).await;
        println!(
            "{label:<48} median {:>8.1} µs   p99 {:>8.1} µs   {bytes} B",
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
    }
}
