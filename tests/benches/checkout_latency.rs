//! `cargo bench -p e2e --bench checkout_latency`: in-process latency of `GET /cart/details`
//! and `POST /orders/create` through the composed router on the memory store (no network, no
//! database): what the code itself costs per request, token check included. The cart is
//! refilled through the store between checkouts, outside the timed part.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use serde_json::json;
use shared::{
    AppState,
    domain::{CartLine, Sku},
    notify::InProcessQueue,
    store::{CartStore, MemoryStore, OutboxStore, VersionedWrite},
};
use tower::ServiceExt;

const CALLS: usize = 5_000;

async fn call(router: &axum::Router, request: Request<Body>) -> serde_json::Value {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let reply = e2e::Reply::read(response).await;
    assert!(reply.status.is_success(), "{}: {}", reply.status, reply.json);
    reply.json
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let (median, p99) = (samples[samples.len() / 2], samples[samples.len() * 99 / 100]);
    println!(
        "{label:<52} median {:>8.1} µs   p99 {:>8.1} µs",
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let store = Arc::new(MemoryStore::default());
    let (queue, mut events) = InProcessQueue::new();
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let state = AppState::new(store.clone(), e2e::token_config()).with_events(Arc::new(queue));
    let admin = e2e::admin_token(&state).await;
    let customer = e2e::customer_token(&state, "bench@shop.test").await;
    let user = state.accounts().authenticate(&customer).await.expect("customer").id;
    let router = local::app(state);
    let mut lines = Vec::new();
    for i in 0..3 {
        let body = json!({ "name": format!("Product {i}"), "category": "bench", "variants": [{ "sku": format!("BENCH-{i}"), "stock": 1_000_000_000, "price": "24.99" }] });
        let request = Request::post("/products/create_product")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {admin}"))
            .body(Body::from(body.to_string()))
            .expect("request");
        let created = call(&router, request).await;
        lines.push(CartLine {
            product_id: created["product"]["id"].as_str().expect("id").parse().expect("id"),
            sku: Sku::parse(&format!("BENCH-{i}")).expect("sku"),
            quantity: 2,
            price_when_added: "24.99".parse().expect("money"),
        });
    }
    let coupon =
        json!({ "code": "BENCH10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    let request = Request::post("/coupons/create")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {admin}"))
        .body(Body::from(coupon.to_string()))
        .expect("request");
    call(&router, request).await;

    println!("memory store, a cart of 3 lines, {CALLS} calls each, one thread");
    store
        .save_cart(VersionedWrite { user, version: 0, items: &lines, write_id: "w" })
        .await
        .expect("cart");
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let request = Request::get("/cart/details")
            .header("authorization", format!("Bearer {customer}"))
            .body(Body::empty())
            .expect("request");
        let start = Instant::now();
        call(&router, request).await;
        samples.push(start.elapsed());
    }
    summary("GET /cart/details", samples);
    store
        .save_cart(VersionedWrite {
            user,
            version: store.cart(user).await.expect("cart").version,
            items: &[],
            write_id: "w",
        })
        .await
        .expect("emptied");

    for (label, body) in [
        ("POST /orders/create", json!({})),
        ("POST /orders/create with a coupon", json!({ "coupon_code": "BENCH10" })),
    ] {
        let mut samples = Vec::with_capacity(CALLS);
        for _ in 0..CALLS {
            store
                .save_cart(VersionedWrite { user, version: 0, items: &lines, write_id: "w" })
                .await
                .expect("cart");
            let request = Request::post("/orders/create")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {customer}"))
                .body(Body::from(body.to_string()))
                .expect("request");
            let start = Instant::now();
            let placed = call(&router, request).await;
            samples.push(start.elapsed());
            assert_eq!(placed["order"]["total_amount"], "149.94");
        }
        summary(label, samples);
    }
    let orders = store.outbox_events(10).await.expect("outbox");
    assert!(orders.is_empty(), "every event was published");
}
