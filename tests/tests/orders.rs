//! Checkout and orders end to end, on both stores: the original flow, every checkout error
//! with nothing written, IDOR, price tampering, the status machine with restock, idempotency,
//! listings, the outbox when the queue is down, and races that must never oversell.

use axum::http::{Method, Request, StatusCode, header};
use e2e::{Backend, Reply, TestApp, both_stores};
use serde_json::{Value, json};
use shared::domain::{OrderEventKind, OrderStatus};

async fn customer(app: &TestApp, email: &str) -> String {
    let reply = app.register(email, "a-good-password").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    app.login(email, "a-good-password").await.0
}

/// A product in category "c" with the given `(sku, stock, price)` variants.
async fn product(
    app: &TestApp,
    admin: &str,
    name: &str,
    variants: &[(&str, usize, &str)],
) -> String {
    let variants: Vec<Value> = variants
        .iter()
        .map(|(sku, stock, price)| json!({ "sku": sku, "stock": stock, "price": price }))
        .collect();
    let reply = app
        .post(
            "/products/create_product",
            Some(admin),
            json!({ "name": name, "category": "c", "variants": variants }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["product"]["id"].as_str().expect("id").to_owned()
}

async fn add(app: &TestApp, token: &str, product: &str, sku: &str, quantity: u32) {
    let reply = app
        .post(
            "/cart/add_item",
            Some(token),
            json!({ "product_id": product, "sku": sku, "quantity": quantity }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
}

async fn coupon(app: &TestApp, admin: &str, body: Value) {
    let reply = app.post("/coupons/create", Some(admin), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
}

async fn checkout(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/orders/create", Some(token), body).await
}

async fn checkout_with_key(app: &TestApp, token: &str, key: &str, body: Value) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/orders/create")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    app.send(request).await
}

async fn stock(app: &TestApp, product: &str) -> Vec<(String, u64)> {
    let reply = app.get(&format!("/products/{product}"), None).await;
    reply.json["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| (v["sku"].as_str().expect("sku").to_owned(), v["stock"].as_u64().expect("stock")))
        .collect()
}

async fn cart_lines(app: &TestApp, token: &str) -> usize {
    app.get("/cart/details", Some(token)).await.json["items"].as_array().map_or(0, Vec::len)
}

async fn my_orders(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app.get("/orders?limit=100", Some(token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    reply.json["orders"].as_array().expect("orders").clone()
}

async fn coupon_uses(app: &TestApp, admin: &str, code: &str) -> u64 {
    let all = app.get("/coupons/all", Some(admin)).await;
    all.json["coupons"]
        .as_array()
        .expect("coupons")
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["uses"].as_u64())
        .expect("coupon listed")
}

/// The ids of a listing's orders, in its order.
fn order_ids(listing: &Reply) -> Vec<String> {
    let orders = listing.json["orders"].as_array().expect("orders");
    orders.iter().map(|o| o["id"].as_str().expect("id").to_owned()).collect()
}

/// An admin's token and a customer's (`buyer@shop.test`).
async fn admin_and_buyer(app: &TestApp) -> (String, String) {
    (app.admin().await, customer(app, "buyer@shop.test").await)
}

/// Registers `count` customers concurrently (argon2 dominates) and returns their tokens.
async fn customers(app: &TestApp, prefix: &str, count: usize) -> Vec<String> {
    let mut joins = tokio::task::JoinSet::new();
    for i in 0..count {
        let app = app.clone();
        let email = format!("{prefix}{i}@shop.test");
        joins.spawn(async move { customer(&app, &email).await });
    }
    joins.join_all().await
}

/// Every buyer checks out at once with `body`: the status and error code of each answer.
async fn race_checkouts(
    app: &TestApp,
    buyers: Vec<String>,
    body: Value,
) -> Vec<(StatusCode, String)> {
    let mut racers = tokio::task::JoinSet::new();
    for buyer in buyers {
        let (app, body) = (app.clone(), body.clone());
        racers.spawn(async move {
            let reply = checkout(&app, &buyer, body).await;
            (reply.status, reply.code().to_owned())
        });
    }
    racers.join_all().await
}

async fn the_original_flow_from_registration_to_tracking(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let variants = [("MUG-S", 5, "8.00"), ("MUG-L", 3, "11.50")];
    let mug = product(&app, &admin, "Mug", &variants).await;
    let lamp = product(&app, &admin, "Lamp", &[("LAMP", 2, "40.00")]).await;
    add(&app, &buyer, &mug, "MUG-S", 2).await;
    add(&app, &buyer, &mug, "MUG-L", 1).await;
    add(&app, &buyer, &lamp, "LAMP", 1).await;
    coupon(
        &app,
        &admin,
        json!({ "code": "save15", "discount_percent": 15, "expiry": "2999-01-01T00:00:00" }),
    )
    .await;

    let placed = checkout(&app, &buyer, json!({ "coupon_code": "SAVE15" })).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(placed.json["message"], "Order placed successfully");
    let order = &placed.json["order"];
    // 2 × 8.00 + 11.50 + 40.00 = 67.50; 15 % = 10.125 → 10.13; final 57.37.
    assert_eq!(
        (
            order["total_amount"].as_str(),
            order["discount_applied"].as_str(),
            order["final_amount"].as_str()
        ),
        (Some("67.50"), Some("10.13"), Some("57.37"))
    );
    assert_eq!(
        (order["status"].as_str(), order["coupon_code"].as_str()),
        (Some("Pending"), Some("SAVE15"))
    );
    assert_eq!(order["items"].as_array().map(Vec::len), Some(3));
    let first = &order["items"][0];
    for field in ["product_id", "sku", "name", "quantity", "price"] {
        assert!(!first[field].is_null(), "{field}: {first}");
    }
    for field in ["id", "user_id", "created_at"] {
        assert!(order[field].is_string(), "{field}");
    }

    // Stock left, cart emptied, coupon counted, event published.
    assert_eq!(stock(&app, &mug).await, [("MUG-S".into(), 3), ("MUG-L".into(), 2)]);
    assert_eq!(stock(&app, &lamp).await, [("LAMP".into(), 1)]);
    assert_eq!(cart_lines(&app, &buyer).await, 0);
    assert_eq!(coupon_uses(&app, &admin, "SAVE15").await, 1);
    let id = order["id"].as_str().expect("id");
    let events = app.events.recorded();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].order_id.to_string(), events[0].kind),
        (id.to_owned(), OrderEventKind::OrderPlaced)
    );
    assert!(
        app.store.outbox_events(10).await.expect("outbox").is_empty(),
        "published events leave the outbox"
    );

    // Tracking: the owner and admins see it.
    let tracked = app.get(&format!("/orders/{id}"), Some(&buyer)).await;
    assert_eq!(tracked.status, StatusCode::OK);
    assert_eq!(&tracked.json["order"], order);
    assert_eq!(app.get(&format!("/orders/{id}"), Some(&admin)).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/orders/{id}"), None).await.status, StatusCode::UNAUTHORIZED);
}

async fn other_customers_orders_are_not_found(app: TestApp) {
    let admin = app.admin().await;
    let (alice, mallory) =
        (customer(&app, "alice@shop.test").await, customer(&app, "mallory@shop.test").await);
    let mug = product(&app, &admin, "Mug", &[("MUG", 5, "8.00")]).await;
    add(&app, &alice, &mug, "MUG", 1).await;
    let placed = checkout(&app, &alice, json!({})).await;
    let id = placed.json["order"]["id"].as_str().expect("id");
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{}", ulid::Ulid::new()),
        "/orders/not-an-id".to_owned(),
    ] {
        let reply = app.get(&path, Some(&mallory)).await;
        assert_eq!(reply.outcome(), (StatusCode::NOT_FOUND, "order_not_found"), "{path}");
    }
    assert!(my_orders(&app, &mallory).await.is_empty());
    assert_eq!(app.set_status(&mallory, id, "Cancelled").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/orders/all", Some(&mallory)).await.status, StatusCode::FORBIDDEN);
}

async fn prices_come_from_the_catalog_at_checkout(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let mug = product(&app, &admin, "Mug", &[("MUG", 5, "8.00")]).await;
    let reply = app
        .post(
            "/cart/add_item",
            Some(&buyer),
            json!({ "product_id": mug, "quantity": 2, "price": "0.01" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // Repriced after it was added: the order takes the catalog's price now.
    let reprice = app
        .put(
            &format!("/products/update_product/{mug}"),
            Some(&admin),
            json!({ "variants": [{ "sku": "MUG", "stock": 5, "price": "9.25" }] }),
        )
        .await;
    assert_eq!(reprice.status, StatusCode::OK);
    let placed = checkout(&app, &buyer, json!({})).await;
    assert_eq!(placed.status, StatusCode::CREATED);
    assert_eq!(
        (
            placed.json["order"]["items"][0]["price"].as_str(),
            placed.json["order"]["final_amount"].as_str()
        ),
        (Some("9.25"), Some("18.50"))
    );
    // A price or total in the checkout body is not a field at all.
    add(&app, &buyer, &mug, "MUG", 1).await;
    let tampered = checkout(&app, &buyer, json!({ "total_amount": "0.01" })).await;
    assert_eq!(tampered.outcome(), (StatusCode::BAD_REQUEST, "validation_error"));
}

async fn checkout_errors_write_nothing(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let empty = checkout(&app, &buyer, json!({})).await;
    assert_eq!(
        (empty.status, empty.code(), empty.json["message"].as_str()),
        (StatusCode::BAD_REQUEST, "empty_cart", Some("Cart is empty"))
    );
    // No body at all is an empty request, not a 400 about JSON.
    let bare = app.call(Method::POST, "/orders/create", Some(&buyer), None).await;
    assert_eq!(bare.code(), "empty_cart");

    let variants = [("MUG-S", 20, "10.00"), ("MUG-L", 20, "10.00")];
    let mug = product(&app, &admin, "Mug", &variants).await;
    add(&app, &buyer, &mug, "MUG-S", 3).await;
    add(&app, &buyer, &mug, "MUG-L", 2).await;
    for body in [
        json!({ "code": "OLD", "discount_percent": 10, "expiry": "2001-01-01T00:00:00Z" }),
        json!({ "code": "LATER", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "starts_at": "2998-01-01T00:00:00Z" }),
        json!({ "code": "PRIME", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "eligible_roles": ["prime_customer"] }),
        json!({ "code": "BIG", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "min_order_amount": "50.01" }),
        json!({ "code": "GONE", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "max_uses": 1 }),
        json!({ "code": "ONCE", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "max_uses_per_user": 1 }),
    ] {
        coupon(&app, &admin, body).await;
    }
    // Use up GONE (by someone else) and ONCE (by the buyer), then refill the buyer's cart.
    let other = customer(&app, "other@shop.test").await;
    add(&app, &other, &mug, "MUG-S", 1).await;
    assert_eq!(
        checkout(&app, &other, json!({ "coupon_code": "gone" })).await.status,
        StatusCode::CREATED
    );
    let before_once = app.get("/cart/details", Some(&buyer)).await.json;
    let once = checkout(&app, &buyer, json!({ "coupon_code": "ONCE" })).await;
    assert_eq!(once.status, StatusCode::CREATED, "{:?}", once.json);
    assert_eq!(once.json["order"]["final_amount"], "45.00");
    add(&app, &buyer, &mug, "MUG-S", 3).await;
    add(&app, &buyer, &mug, "MUG-L", 2).await;
    assert_eq!(
        app.get("/cart/details", Some(&buyer)).await.json["subtotal"],
        before_once["subtotal"]
    );
    let stock_before = stock(&app, &mug).await;
    let orders_before = my_orders(&app, &buyer).await.len();

    for (code, error) in [
        ("NOPE", "coupon_not_found"),
        ("x", "coupon_not_found"),
        ("OLD", "coupon_expired"),
        ("LATER", "coupon_not_started"),
        ("PRIME", "coupon_not_eligible"),
        ("BIG", "coupon_below_minimum"),
        ("GONE", "coupon_exhausted"),
        ("ONCE", "coupon_limit_reached"),
    ] {
        let reply = checkout(&app, &buyer, json!({ "coupon_code": code })).await;
        assert_eq!(reply.outcome(), (StatusCode::BAD_REQUEST, error), "{code}: {:?}", reply.json);
        assert!(reply.json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    // Stock runs out after the cart was filled: 409 naming each short SKU.
    let cut = app.put(&format!("/products/update_product/{mug}"), Some(&admin), json!({ "variants": [{ "sku": "MUG-S", "stock": 1, "price": "10.00" }, { "sku": "MUG-L", "stock": 0, "price": "10.00" }] })).await;
    assert_eq!(cut.status, StatusCode::OK);
    let short = checkout(&app, &buyer, json!({})).await;
    assert_eq!(short.outcome(), (StatusCode::CONFLICT, "insufficient_stock"), "{:?}", short.json);
    let message = short.json["message"].as_str().expect("message");
    assert!(
        message.contains("MUG-S (3 wanted, 1 available)")
            && message.contains("MUG-L (2 wanted, 0 available)"),
        "{message}"
    );
    let shortages = short.json["shortages"].as_array().expect("shortages");
    assert_eq!(shortages.len(), 2);

    // Nothing was written by any refused checkout.
    assert_eq!(stock(&app, &mug).await, [("MUG-S".into(), 1), ("MUG-L".into(), 0)]);
    assert_ne!(stock_before, stock(&app, &mug).await, "only the admin's edit changed stock");
    assert_eq!(cart_lines(&app, &buyer).await, 2);
    assert_eq!(my_orders(&app, &buyer).await.len(), orders_before);
    assert_eq!(coupon_uses(&app, &admin, "ONCE").await, 1);
    assert_eq!(coupon_uses(&app, &admin, "GONE").await, 1);
}

async fn the_status_machine_holds_and_cancelling_restocks(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let variants = [("MUG-S", 5, "8.00"), ("MUG-L", 5, "9.00")];
    let mug = product(&app, &admin, "Mug", &variants).await;
    add(&app, &buyer, &mug, "MUG-S", 2).await;
    add(&app, &buyer, &mug, "MUG-L", 1).await;
    let first = checkout(&app, &buyer, json!({})).await.json["order"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    add(&app, &buyer, &mug, "MUG-S", 1).await;
    let second = checkout(&app, &buyer, json!({})).await.json["order"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(stock(&app, &mug).await, [("MUG-S".into(), 2), ("MUG-L".into(), 4)]);

    let shipped = app.set_status(&admin, &first, "shipped").await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.json);
    assert_eq!(shipped.json["order"]["status"], "Shipped");
    for (to, code) in
        [("Pending", "invalid_status_transition"), ("Cancelled", "invalid_status_transition")]
    {
        let refused = app.set_status(&admin, &first, to).await;
        assert_eq!(refused.outcome(), (StatusCode::CONFLICT, code), "{to}");
    }
    assert_eq!(app.set_status(&admin, &first, "Delivered").await.status, StatusCode::OK);
    assert_eq!(app.set_status(&admin, &first, "Shipped").await.status, StatusCode::CONFLICT);
    let bad = app.set_status(&admin, &first, "Lost").await;
    assert_eq!(bad.outcome(), (StatusCode::BAD_REQUEST, "validation_error"));
    assert_eq!(
        app.set_status(&admin, &ulid::Ulid::new().to_string(), "Shipped").await.status,
        StatusCode::NOT_FOUND
    );

    // Cancelling puts the units back, once.
    let cancelled = app.set_status(&admin, &second, "Cancelled").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
    assert_eq!(stock(&app, &mug).await, [("MUG-S".into(), 3), ("MUG-L".into(), 4)]);
    assert_eq!(app.set_status(&admin, &second, "Cancelled").await.status, StatusCode::CONFLICT);
    assert_eq!(stock(&app, &mug).await, [("MUG-S".into(), 3), ("MUG-L".into(), 4)]);
    assert_eq!(
        app.get(&format!("/orders/{second}"), Some(&buyer)).await.json["order"]["status"],
        "Cancelled"
    );

    let kinds: Vec<_> = app.events.recorded().into_iter().map(|e| e.kind).collect();
    use OrderStatus::*;
    assert_eq!(
        kinds,
        [
            OrderEventKind::OrderPlaced,
            OrderEventKind::OrderPlaced,
            OrderEventKind::StatusChanged { from: Pending, to: Shipped },
            OrderEventKind::StatusChanged { from: Shipped, to: Delivered },
            OrderEventKind::StatusChanged { from: Pending, to: Cancelled },
        ]
    );
}

async fn two_admins_racing_on_one_order_cannot_both_win(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let mug = product(&app, &admin, "Mug", &[("MUG", 5, "8.00")]).await;
    add(&app, &buyer, &mug, "MUG", 2).await;
    let id = checkout(&app, &buyer, json!({})).await.json["order"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut racers = tokio::task::JoinSet::new();
    for to in ["Shipped", "Cancelled", "Shipped", "Cancelled"] {
        let (app, admin, id) = (app.clone(), admin.clone(), id.clone());
        racers.spawn(async move { (to, app.set_status(&admin, &id, to).await.status) });
    }
    let outcomes = racers.join_all().await;
    let winners: Vec<_> = outcomes.iter().filter(|(_, s)| *s == StatusCode::OK).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|(_, s)| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{outcomes:?}"
    );
    let final_status =
        app.get(&format!("/orders/{id}"), Some(&buyer)).await.json["order"]["status"]
            .as_str()
            .expect("status")
            .to_owned();
    assert_eq!(final_status, winners[0].0);
    let expected_stock = if final_status == "Cancelled" { 5 } else { 3 };
    assert_eq!(stock(&app, &mug).await, [("MUG".into(), expected_stock)]);
}

async fn an_idempotency_key_replays_the_order_and_refuses_another_body(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let mug = product(&app, &admin, "Mug", &[("MUG", 10, "8.00")]).await;
    coupon(
        &app,
        &admin,
        json!({ "code": "TEN", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" }),
    )
    .await;
    add(&app, &buyer, &mug, "MUG", 2).await;
    let first = checkout_with_key(&app, &buyer, "order-1", json!({ "coupon_code": "TEN" })).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // The cart is empty now, yet the retry answers the same order and creates nothing.
    let again = checkout_with_key(&app, &buyer, "order-1", json!({ "coupon_code": "ten" })).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.json);
    assert_eq!(
        again.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.json, first.json);
    let different = checkout_with_key(&app, &buyer, "order-1", json!({})).await;
    assert_eq!(different.outcome(), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert_eq!(my_orders(&app, &buyer).await.len(), 1);
    assert_eq!(stock(&app, &mug).await, [("MUG".into(), 8)]);
    assert_eq!(coupon_uses(&app, &admin, "TEN").await, 1);
    // Keys are per customer: another customer's same key is a new checkout.
    let other = customer(&app, "other@shop.test").await;
    add(&app, &other, &mug, "MUG", 1).await;
    let theirs = checkout_with_key(&app, &other, "order-1", json!({})).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.json["order"]["id"], first.json["order"]["id"]);
    let bad = checkout_with_key(&app, &other, "has space", json!({})).await;
    assert_eq!(bad.outcome(), (StatusCode::BAD_REQUEST, "validation_error"));
}

async fn concurrent_retries_with_one_key_place_one_order(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let mug = product(&app, &admin, "Mug", &[("MUG", 10, "8.00")]).await;
    add(&app, &buyer, &mug, "MUG", 3).await;
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, buyer) = (app.clone(), buyer.clone());
        racers.spawn(async move { checkout_with_key(&app, &buyer, "same-key", json!({})).await });
    }
    let replies = racers.join_all().await;
    let ids: std::collections::BTreeSet<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| r.json["order"]["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one order id across every success: {replies:?}");
    assert!(
        replies.iter().all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT),
        "{replies:?}"
    );
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::CREATED
                && r.headers.get("idempotent-replayed").is_none())
            .count(),
        1
    );
    assert_eq!(my_orders(&app, &buyer).await.len(), 1);
    assert_eq!(stock(&app, &mug).await, [("MUG".into(), 7)]);
}

async fn listings_page_newest_first(app: TestApp) {
    let admin = app.admin().await;
    let (alice, bob) =
        (customer(&app, "alice@shop.test").await, customer(&app, "bob@shop.test").await);
    let mug = product(&app, &admin, "Mug", &[("MUG", 50, "1.00")]).await;
    let mut placed = Vec::new();
    for i in 0..5 {
        let token = if i % 2 == 0 { &alice } else { &bob };
        add(&app, token, &mug, "MUG", 1).await;
        let reply = checkout(&app, token, json!({})).await;
        placed.push(reply.json["order"]["id"].as_str().expect("id").to_owned());
    }
    app.set_status(&admin, &placed[0], "Shipped").await;

    // Alice's three, newest first, two per page.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/orders?limit=2&cursor={cursor}"), Some(&alice)).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.json);
        seen.extend(order_ids(&page));
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, [placed[4].clone(), placed[2].clone(), placed[0].clone()]);

    let everyone = app.get("/orders/all?limit=100", Some(&admin)).await;
    let all = order_ids(&everyone);
    assert_eq!(all, placed.iter().rev().cloned().collect::<Vec<_>>());
    let mut walked = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/orders/all?limit=2&cursor={cursor}"), Some(&admin)).await;
        walked.extend(order_ids(&page));
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, all, "every order once, across status partitions");
    let pending = app.get("/orders/all?status=pending", Some(&admin)).await;
    assert_eq!(pending.json["orders"].as_array().map(Vec::len), Some(4));
    let shipped = app.get("/orders/all?status=Shipped", Some(&admin)).await;
    assert_eq!(shipped.json["orders"][0]["id"].as_str(), Some(placed[0].as_str()));
    for query in ["status=lost", "limit=0", "limit=101", "cursor=bm9wZQ"] {
        let reply = app.get(&format!("/orders/all?{query}"), Some(&admin)).await;
        assert_eq!(reply.outcome(), (StatusCode::BAD_REQUEST, "validation_error"), "{query}");
    }
    for path in ["/orders/all?status=Pending&status=Shipped", "/orders?limit=1&limit=2"] {
        let reply = app.get(path, Some(&admin)).await;
        assert_eq!(reply.outcome(), (StatusCode::BAD_REQUEST, "invalid_query"), "{path}");
        assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    }
}

async fn an_order_placed_while_the_queue_is_down_keeps_its_event_in_the_outbox(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    let mug = product(&app, &admin, "Mug", &[("MUG", 5, "8.00")]).await;
    add(&app, &buyer, &mug, "MUG", 1).await;
    app.events.set_failing(true);
    let placed = checkout(&app, &buyer, json!({})).await;
    assert_eq!(placed.status, StatusCode::CREATED, "the order does not depend on the queue");
    let outbox = app.store.outbox_events(10).await.expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].order_id.to_string(), placed.json["order"]["id"].as_str().expect("id"));
    assert_eq!(outbox[0].kind, OrderEventKind::OrderPlaced);
    assert!(app.events.recorded().is_empty());
    // The queue is back: the next event is published and leaves the outbox; the earlier
    // one waits for the re-publisher.
    app.events.set_failing(false);
    let id = placed.json["order"]["id"].as_str().expect("id");
    assert_eq!(app.set_status(&admin, id, "Shipped").await.status, StatusCode::OK);
    assert_eq!(app.events.recorded().len(), 1);
    assert_eq!(app.store.outbox_events(10).await.expect("outbox"), outbox);
}

async fn racing_customers_never_oversell(app: TestApp) {
    // N customers each hold one unit; K are in stock. Moto's transactions are unsafe above
    // ~50 concurrent callers, so DynamoDB runs 30.
    let (n, k) = match app.backend {
        Backend::Memory => (200, 70),
        Backend::Dynamo => (30, 10),
    };
    let admin = app.admin().await;
    let mug = product(&app, &admin, "Mug", &[("HOT", n, "5.00")]).await;
    let buyers = customers(&app, "racer", n).await;
    for buyer in &buyers {
        add(&app, buyer, &mug, "HOT", 1).await;
    }
    let cut = app
        .put(
            &format!("/products/update_product/{mug}"),
            Some(&admin),
            json!({ "variants": [{ "sku": "HOT", "stock": k, "price": "5.00" }] }),
        )
        .await;
    assert_eq!(cut.status, StatusCode::OK);
    let outcomes = race_checkouts(&app, buyers, json!({})).await;
    let placed = outcomes.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused = outcomes.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    println!(
        "{:?}: {n} customers, stock {k}: {placed} placed, {refused} refused with 409",
        app.backend
    );
    assert_eq!((placed, refused), (k, n - k), "{outcomes:?}");
    assert_eq!(stock(&app, &mug).await, [("HOT".into(), 0)]);
    let orders = app.get("/orders/all?limit=100&status=Pending", Some(&admin)).await;
    let mut listed = orders.json["orders"].as_array().map_or(0, Vec::len);
    let mut cursor = orders.json["next_cursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let page = app
            .get(&format!("/orders/all?limit=100&status=Pending&cursor={next}"), Some(&admin))
            .await;
        listed += page.json["orders"].as_array().map_or(0, Vec::len);
        cursor = page.json["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(listed, k, "one order per success");
}

async fn a_coupons_max_uses_holds_under_a_race(app: TestApp) {
    let n = match app.backend {
        Backend::Memory => 40,
        Backend::Dynamo => 20,
    };
    let admin = app.admin().await;
    let mug = product(&app, &admin, "Mug", &[("MUG", 1000, "10.00")]).await;
    coupon(&app, &admin, json!({ "code": "FIRST5", "discount_percent": 50, "expiry": "2999-01-01T00:00:00Z", "max_uses": 5 })).await;
    let buyers = customers(&app, "coupon", n).await;
    for buyer in &buyers {
        add(&app, buyer, &mug, "MUG", 1).await;
    }
    let outcomes = race_checkouts(&app, buyers, json!({ "coupon_code": "FIRST5" })).await;
    let placed = outcomes.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let exhausted = outcomes.iter().filter(|(_, code)| code == "coupon_exhausted").count();
    println!(
        "{:?}: {n} customers, coupon max_uses 5: {placed} placed, {exhausted} coupon_exhausted",
        app.backend
    );
    assert_eq!((placed, exhausted), (5, n - 5), "{outcomes:?}");
    assert_eq!(coupon_uses(&app, &admin, "FIRST5").await, 5);
    assert_eq!(stock(&app, &mug).await, [("MUG".into(), 995)]);
}

async fn a_full_cart_of_fifty_products_checks_out_in_one_transaction(app: TestApp) {
    let (admin, buyer) = admin_and_buyer(&app).await;
    coupon(&app, &admin, json!({ "code": "BULK", "discount_percent": 5, "expiry": "2999-01-01T00:00:00Z", "max_uses": 10, "max_uses_per_user": 2 })).await;
    let mut products = Vec::new();
    for i in 0..50 {
        let id =
            product(&app, &admin, &format!("Item {i}"), &[(&format!("BULK-{i}"), 3, "1.00")]).await;
        add(&app, &buyer, &id, &format!("BULK-{i}"), 2).await;
        products.push(id);
    }
    // The most a checkout writes: 50 stock updates, 2 coupon counts, order, cart,
    // idempotency record and outbox event.
    let placed = checkout_with_key(&app, &buyer, "bulk-1", json!({ "coupon_code": "BULK" })).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(placed.json["order"]["items"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        (
            placed.json["order"]["total_amount"].as_str(),
            placed.json["order"]["final_amount"].as_str()
        ),
        (Some("100.00"), Some("95.00"))
    );
    for id in [&products[0], &products[49]] {
        assert_eq!(stock(&app, id).await[0].1, 1);
    }
    assert_eq!(cart_lines(&app, &buyer).await, 0);
}

both_stores!(
    the_original_flow_from_registration_to_tracking,
    other_customers_orders_are_not_found,
    prices_come_from_the_catalog_at_checkout,
    checkout_errors_write_nothing,
    the_status_machine_holds_and_cancelling_restocks,
    two_admins_racing_on_one_order_cannot_both_win,
    an_idempotency_key_replays_the_order_and_refuses_another_body,
    concurrent_retries_with_one_key_place_one_order,
    listings_page_newest_first,
    an_order_placed_while_the_queue_is_down_keeps_its_event_in_the_outbox,
    racing_customers_never_oversell,
    a_coupons_max_uses_holds_under_a_race,
    a_full_cart_of_fifty_products_checks_out_in_one_transaction,
);
