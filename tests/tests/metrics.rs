//! Business metrics are published where they happen, on both stores: checkouts and their
//! refusals, status changes, logins, and the outbox relay. (E-mail deliveries: order_emails.rs.)

use std::sync::Arc;

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use serde_json::json;
use shared::{auth::LoginPolicy, domain::Timestamp, metrics::Recorder, notify::relay::republish};

/// The app over the same store, publishing its metrics to a recorder.
fn recorded(app: &TestApp) -> (TestApp, Arc<Recorder>) {
    let metrics = Arc::new(Recorder::default());
    let sink = Arc::clone(&metrics);
    let policy = LoginPolicy { max_failures: 2, window_seconds: 600 };
    let app = app.with_settings(e2e::token_config(), |state| {
        state.with_metrics(sink).with_login_policy(policy)
    });
    (app, metrics)
}

async fn checkouts_publish_orders_their_value_and_refusals_by_kind(app: TestApp) {
    let (app, metrics) = recorded(&app);
    let placed = e2e::place_order(&app, "ann@shop.test", "Mug", "MUG-1", "12.50", 2).await;
    assert_eq!(metrics.total("checkout", "OrdersPlaced"), 1.0);
    assert_eq!(metrics.total("checkout", "OrderValue"), 25.0);

    // 4 more than the 3 left: refused for stock; an unknown coupon: refused for the coupon.
    let id = placed.order["items"][0]["product_id"].clone();
    let add = json!({ "product_id": id, "quantity": 4 });
    let added = app.post("/cart/add_item", Some(&placed.buyer), add).await;
    assert_eq!(added.status, StatusCode::CONFLICT, "more than the stock is refused at once");
    let add = json!({ "product_id": id, "quantity": 3 });
    assert_eq!(app.post("/cart/add_item", Some(&placed.buyer), add).await.status, StatusCode::OK);
    let coupon = json!({ "coupon_code": "NOPE" });
    let refused = app.post("/orders/create", Some(&placed.buyer), coupon).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(metrics.total("checkout", "CheckoutRefusedCoupon"), 1.0);

    let stock = json!({ "name": "Mug", "category": "c", "variants": [{ "sku": "MUG-1", "stock": 1, "price": "12.50" }] });
    let path = format!("/products/update_product/{}", id.as_str().unwrap_or_default());
    assert_eq!(app.put(&path, Some(&placed.admin), stock).await.status, StatusCode::OK);
    let refused = app.post("/orders/create", Some(&placed.buyer), json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.json);
    assert_eq!(metrics.total("checkout", "CheckoutRefusedStock"), 1.0);
    assert_eq!(metrics.total("checkout", "OrdersPlaced"), 1.0, "refusals place nothing");

    let order = placed.order["id"].as_str().expect("id");
    assert_eq!(app.set_status(&placed.admin, order, "Shipped").await.status, StatusCode::OK);
    assert_eq!(app.set_status(&placed.admin, order, "Pending").await.status, StatusCode::CONFLICT);
    assert_eq!(metrics.total("set_status", "OrderStatusChanged"), 1.0, "only the change made");
}

async fn logins_publish_success_failure_and_lockout(app: TestApp) {
    let (app, metrics) = recorded(&app);
    app.register("bob@shop.test", "a-good-password").await;
    app.login("bob@shop.test", "a-good-password").await;
    for _ in 0..2 {
        let body = json!({ "email": "bob@shop.test", "password": "wrong-password" });
        assert_eq!(app.post("/auth/login", None, body).await.status, StatusCode::UNAUTHORIZED);
    }
    let body = json!({ "email": "bob@shop.test", "password": "a-good-password" });
    assert_eq!(app.post("/auth/login", None, body).await.status, StatusCode::TOO_MANY_REQUESTS);
    let counts =
        ["LoginSucceeded", "LoginFailed", "LoginThrottled"].map(|m| metrics.total("login", m));
    assert_eq!(counts, [1.0, 2.0, 1.0]);
}

async fn the_relay_reports_what_it_relayed_and_the_oldest_events_age(app: TestApp) {
    app.events.set_failing(true);
    e2e::place_order(&app, "cy@shop.test", "Lamp", "LAMP-1", "30.00", 1).await;
    app.events.set_failing(false);

    let later = Timestamp::now().plus_seconds(90);
    let report =
        republish(app.store.as_ref(), app.events.as_ref(), later, 30, 10).await.expect("relay");
    let [relayed, age] = report.metrics();
    assert_eq!((relayed.name, relayed.value), ("OutboxEventsRelayed", 1.0));
    assert_eq!(age.name, "OutboxOldestEventAgeSeconds");
    assert!((90.0..100.0).contains(&age.value), "the event waited 90 s: {}", age.value);

    let empty =
        republish(app.store.as_ref(), app.events.as_ref(), later, 30, 10).await.expect("relay");
    assert_eq!(empty.metrics().map(|m| m.value), [0.0, 0.0], "an empty outbox reports zero");
}

/// Every log line of this test binary, as JSON. A global subscriber rather than a scoped
/// one: with tests on several threads, a scoped subscriber can miss events whose call site
/// another thread saw first without one.
#[derive(Clone, Default)]
struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> String {
    static LINES: std::sync::OnceLock<Lines> = std::sync::OnceLock::new();
    let lines = LINES.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber =
            tracing_subscriber::fmt().json().with_writer(move || writer.clone()).finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        lines
    });
    String::from_utf8_lossy(&lines.0.lock().expect("lines")).into_owned()
}

async fn each_request_logs_its_caller_and_publishes_its_dynamodb_requests(app: TestApp) {
    captured_logs();
    let (app, metrics) = recorded(&app);
    app.register("dee@shop.test", "a-good-password").await;
    let (token, _) = app.login("dee@shop.test", "a-good-password").await;
    let trace = "Root=1-6750e3a1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
    let request = axum::http::Request::get("/auth/protected")
        .header("authorization", format!("Bearer {token}"))
        .header("x-amzn-trace-id", trace)
        .body(axum::body::Body::empty())
        .expect("request");
    let me = app.send(request).await;
    assert_eq!(me.status, StatusCode::OK);

    // One request, one read of the session on DynamoDB (none on the memory store).
    let expected = match app.backend {
        e2e::Backend::Memory => 0.0,
        e2e::Backend::Dynamo => 1.0,
    };
    assert_eq!(metrics.total("GET /auth/protected", "DynamoDbRequests"), expected);
    let text = captured_logs();
    let line: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|l: &serde_json::Value| {
            l["fields"]["message"] == "request" && l["fields"]["user_id"] == me.json["user_id"]
        })
        .expect("the request line");
    let fields = &line["fields"];
    assert_eq!(fields["user_id"], me.json["user_id"]);
    assert_eq!(fields["route"], "/auth/protected");
    assert_eq!(fields["trace_id"], "1-6750e3a1-0123456789abcdef01234567");
    assert_eq!(fields["dynamodb_requests"].as_f64(), Some(expected));
    assert!(!text.contains("@shop.test") && !text.contains(&token), "no e-mail or token: {text}");
}

both_stores!(
    each_request_logs_its_caller_and_publishes_its_dynamodb_requests,
    checkouts_publish_orders_their_value_and_refusals_by_kind,
    logins_publish_success_failure_and_lockout,
    the_relay_reports_what_it_relayed_and_the_oldest_events_age,
);
