//! The orders function's Lambda path: each sample REST (v1) event through lambda_http into its
//! router, over the memory store, publishing to a recording queue.

use std::sync::Arc;

use axum::http::StatusCode;
use e2e::invoke_event;
use shared::{
    cart::AddItem,
    domain::{CouponInput, OrderEventKind, ProductInput},
    notify::RecordingQueue,
};

async fn call(router: &axum::Router, name: &str, values: &[(&str, String)]) -> e2e::Reply {
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    invoke_event(router, name, &pairs).await
}

#[tokio::test]
async fn every_sample_event_is_answered_by_the_orders_function() {
    let events = Arc::new(RecordingQueue::default());
    let state = e2e::lambda_state().with_events(events.clone());
    let input: ProductInput = serde_json::from_value(serde_json::json!({
        "name": "Trail shoe", "category": "shoes", "variants": [{ "sku": "TS-42", "stock": 10, "price": "89.90" }]
    }))
    .expect("input");
    let product =
        state.catalog().create(shared::domain::UserId::new(), input).await.expect("product");
    let coupon: CouponInput = serde_json::from_value(
        serde_json::json!({ "code": "WELCOME-10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" }),
    )
    .expect("coupon");
    state.coupons().create(shared::domain::UserId::new(), coupon).await.expect("coupon");
    let admin = e2e::admin_token(&state).await;
    let token = e2e::customer_token(&state, "c@shop.test").await;
    let customer = state.accounts().authenticate(&token).await.expect("customer");
    let add = AddItem {
        product_id: product.id.to_string(),
        quantity: Some(2),
        sku: None,
        _price: None,
        _user_id: None,
    };
    state.carts().add(customer.id, add, None).await.expect("added");
    let router = orders::router(state);
    let mut values = vec![
        ("access_token", token.clone()),
        ("admin_token", admin),
        ("idempotency_key", "checkout-1".to_owned()),
    ];

    let placed = call(&router, "orders-create", &values).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    // 2 × 89.90 = 179.80; 10 % = 17.98.
    assert_eq!(placed.json["order"]["final_amount"], "161.82");
    let replayed = call(&router, "orders-create", &values).await;
    assert_eq!(replayed.status, StatusCode::CREATED);
    assert_eq!(
        replayed.headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(replayed.json, placed.json);

    let id = placed.json["order"]["id"].as_str().expect("id").to_owned();
    values.push(("order_id", id.clone()));
    let tracked = call(&router, "orders-get", &values).await;
    assert_eq!(
        (tracked.status, tracked.json["order"]["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    let mine = call(&router, "orders-mine", &values).await;
    assert_eq!(mine.json["orders"].as_array().map(Vec::len), Some(1));
    let all = call(&router, "orders-all", &values).await;
    assert_eq!(
        (all.status, all.json["orders"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let shipped = call(&router, "orders-set_status", &values).await;
    assert_eq!(
        (shipped.status, shipped.json["order"]["status"].as_str()),
        (StatusCode::OK, Some("Shipped")),
        "{:?}",
        shipped.json
    );
    let pending = call(&router, "orders-all", &values).await;
    assert_eq!(pending.json["orders"].as_array().map(Vec::len), Some(0), "no order is Pending now");

    let kinds: Vec<_> = events.recorded().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 2);
    assert_eq!(kinds[0], OrderEventKind::OrderPlaced);

    // A customer cannot use the admin events.
    values.retain(|(k, _)| *k != "admin_token");
    values.push(("admin_token", token));
    assert_eq!(call(&router, "orders-set_status", &values).await.status, StatusCode::FORBIDDEN);
}
