//! DynamoDB requests per API call, counted at the SDK (every HTTP request it sends, retries
//! included): reading a product is one request; a cursor page costs the same however large
//! the catalog and however deep the page.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextRef,
};
use axum::http::StatusCode;
use e2e::TestApp;
use serde_json::json;
use shared::store::{DynamoStore, TableSchema, create_table};

#[derive(Debug, Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Counter {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

async fn counted_app() -> (TestApp, Counter) {
    assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "run through scripts/test.sh");
    let sdk = aws_config::load_from_env().await;
    let counter = Counter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(counter.clone()).build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = format!("shop-count-{}", ulid::Ulid::new());
    let schema = TableSchema::from_template(local::TEMPLATE_YAML).expect("schema");
    create_table(&client, &table, &schema).await.expect("table");
    let store: Arc<dyn shared::store::Store> = Arc::new(DynamoStore::new(client, table));
    (TestApp::over(store, e2e::Backend::Dynamo), counter)
}

async fn add_products(app: &TestApp, admin: &str, from: usize, to: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in from..to {
        let body = json!({ "name": format!("P{i}"), "category": "c", "variants": [{ "sku": format!("SKU-{i}"), "stock": 1, "price": 1 }] });
        let reply = app.post("/products/create_product", Some(admin), body).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        ids.push(reply.json["product"]["id"].as_str().expect("id").to_owned());
    }
    ids
}

/// Requests used by walking the whole catalog by cursor, `limit` per page: one list per page.
async fn cursor_walk(app: &TestApp, counter: &Counter, limit: usize) -> Vec<usize> {
    let mut costs = Vec::new();
    let mut cursor = String::new();
    loop {
        counter.take();
        let reply =
            app.get(&format!("/products/all_products?limit={limit}&cursor={cursor}"), None).await;
        assert_eq!(reply.status, StatusCode::OK);
        costs.push(counter.take());
        match reply.json["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return costs,
        }
    }
}

#[tokio::test]
async fn a_product_read_is_one_request_and_a_cursor_page_a_constant_number() {
    let (app, counter) = counted_app().await;
    let admin = app.admin().await;
    let ids = add_products(&app, &admin, 0, 12).await;

    counter.take();
    let reply = app.get(&format!("/products/{}", ids[3]), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(counter.take(), 1, "GET /products/{{id}}: one GetItem");

    // Authenticated reads add the session check: one more.
    counter.take();
    app.get("/auth/protected", Some(&admin)).await;
    assert_eq!(counter.take(), 1, "session check: one GetItem");

    let small = cursor_walk(&app, &counter, 4).await;
    add_products(&app, &admin, 12, 40).await;
    let large = cursor_walk(&app, &counter, 4).await;
    assert_eq!(small.len(), 3);
    assert_eq!(large.len(), 10);
    // The list Query and the counter read, at every depth and catalog size.
    assert!(small.iter().chain(&large).all(|cost| *cost == 2), "{small:?} {large:?}");

    // Page numbers read what they skip: still a small bounded number at these sizes.
    counter.take();
    let deep = app.get("/products/all_products?page=10&per_page=4", None).await;
    assert_eq!(deep.json["products"].as_array().map(Vec::len), Some(4));
    assert_eq!(counter.take(), 2, "40 small products fit in one 1 MB Query page");
}

#[tokio::test]
async fn a_checkout_is_one_cart_read_one_batch_read_and_one_transaction() {
    let (app, counter) = counted_app().await;
    let admin = app.admin().await;
    let ids = add_products(&app, &admin, 0, 3).await;
    let coupon = app.post("/coupons/create", Some(&admin), json!({ "code": "TEN", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "max_uses_per_user": 3 })).await;
    assert_eq!(coupon.status, StatusCode::CREATED);
    app.register("counted@shop.test", "a-good-password").await;
    let (customer, _) = app.login("counted@shop.test", "a-good-password").await;
    for id in &ids {
        let added = app.post("/cart/add_item", Some(&customer), json!({ "product_id": id })).await;
        assert_eq!(added.status, StatusCode::OK);
    }

    counter.take();
    let cart = app.get("/cart/details", Some(&customer)).await;
    assert_eq!(cart.json["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        counter.take(),
        3,
        "GET /cart/details: session, cart GetItem, products BatchGetItem"
    );

    counter.take();
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/orders/create")
        .header("authorization", format!("Bearer {customer}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "counted-1")
        .body(axum::body::Body::from(json!({ "coupon_code": "TEN" }).to_string()))
        .expect("request");
    let placed = app.send(request).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(
        counter.take(),
        5,
        "checkout: session GetItem, BatchGetItem (cart + idempotency record), BatchGetItem \
         (3 products + coupon + the customer's coupon uses), TransactWriteItems, and the \
         outbox DeleteItem after the event is published"
    );
}

#[tokio::test]
async fn a_login_costs_two_requests_and_a_failure_two() {
    let (app, counter) = counted_app().await;
    app.register("count@shop.test", "a-good-password").await;
    let login = |password: &'static str| {
        app.post("/auth/login", None, json!({ "email": "count@shop.test", "password": password }))
    };

    // Success: one BatchGetItem (account + failed logins), one transaction (session, account's
    // session generation, clearing failures) — as many requests as before the lockout existed.
    counter.take();
    assert_eq!(login("a-good-password").await.status, StatusCode::OK);
    assert_eq!(counter.take(), 2, "successful login");

    // Failure: the read and one UpdateItem counting it.
    assert_eq!(login("wrong").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(counter.take(), 2, "failed login");

    // A success after failures clears them in the same transaction: still two.
    assert_eq!(login("a-good-password").await.status, StatusCode::OK);
    assert_eq!(counter.take(), 2, "successful login after a failure");

    // A locked account is refused after the read alone (no hashing, no write).
    for _ in 0..10 {
        login("wrong").await;
    }
    counter.take();
    let reply = login("a-good-password").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(counter.take(), 1, "locked login");
}
