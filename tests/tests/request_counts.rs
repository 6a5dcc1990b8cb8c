//! DynamoDB requests per API call, counted at the SDK (every HTTP request it sends, retries
//! included): reading a product is one request; a cursor page costs the same however large
//! the catalog and however deep the page.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use crate::iam_keys::{Access, accesses_of, allowed, statements_of};

use axum::http::StatusCode;
use e2e::{
    TestApp,
    sdk::{OnRequest, intercepted_store},
};
use serde_json::json;

/// Counts the requests the SDK sends, and records what IAM would authorise for each.
#[derive(Debug, Clone, Default)]
struct Counter(Arc<AtomicUsize>, Arc<Mutex<Vec<Access>>>);

impl Counter {
    /// Counts `operation`'s request and records its accesses.
    fn see(&self, operation: &str, body: &[u8]) {
        self.0.fetch_add(1, Ordering::SeqCst);
        let body = serde_json::from_slice(body).unwrap_or_default();
        if let Ok(mut accesses) = self.1.lock() {
            accesses.extend(accesses_of(operation, &body));
        }
    }

    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }

    fn take_accesses(&self) -> Vec<Access> {
        self.1.lock().map(|mut accesses| std::mem::take(&mut *accesses)).unwrap_or_default()
    }
}

async fn counted_app() -> (TestApp, Counter) {
    let (shop, counter) = counted_shop().await;
    (shop.app, counter)
}

/// [`counted_app`] with its state, for the payment jobs.
async fn counted_shop() -> (e2e::payments::PayingShop, Counter) {
    let counter = Counter::default();
    let seen = counter.clone();
    let interceptor = OnRequest::shared("RequestCounter", move |op, body| seen.see(op, body));
    let store = intercepted_store("shop-count", &[interceptor]).await;
    let store: Arc<dyn shared::store::Store> = Arc::new(store);
    // Payments on (the local provider over HTTP), so their routes are measured too; the
    // provider's own event deliveries are switched off so that each route's requests are
    // counted alone (the webhook route is measured with an event the test signs).
    let shop = e2e::payments::PayingShop::over(store, e2e::Backend::Dynamo, &[]).await;
    let off = shop.provider("/test/webhooks", "drop_next=1000").await;
    assert!(off.status.is_success(), "{:?}", off.json);
    (shop, counter)
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
async fn a_login_costs_two_requests_a_failure_one_and_a_refusal_one() {
    let (app, counter) = counted_app().await;
    app.register("count@shop.test", "a-good-password").await;
    let login = |password: &'static str| {
        app.post("/auth/login", None, json!({ "email": "count@shop.test", "password": password }))
    };

    // Success: one UpdateItem (counts the attempt on the account's e-mail item and returns it,
    // hash included), one transaction (session, account's session generation and clearing the
    // count) — as many requests as before attempts were counted ahead of the hash.
    counter.take();
    assert_eq!(login("a-good-password").await.status, StatusCode::OK);
    assert_eq!(counter.take(), 2, "successful login");

    // A failure that opens a window, and one that counts in it: the one UpdateItem.
    assert_eq!(login("wrong").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(counter.take(), 1, "failed login, no window open");
    assert_eq!(login("wrong").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(counter.take(), 1, "failed login in an open window");

    // A success after failures clears them in the same transaction: still two.
    assert_eq!(login("a-good-password").await.status, StatusCode::OK);
    assert_eq!(counter.take(), 2, "successful login after a failure");

    // A locked account is refused by the refused step alone (it returns the item): no
    // hashing, no second request.
    for _ in 0..10 {
        login("wrong").await;
    }
    counter.take();
    let reply = login("a-good-password").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(counter.take(), 1, "locked login");
}

/// docs/performance.md's per-route table (between the `route-costs` markers): `METHOD path` → requests.
fn documented_costs() -> std::collections::BTreeMap<String, usize> {
    let readme = include_str!("../../docs/performance.md");
    let start = readme.find("<!-- route-costs:start -->").expect("start marker");
    let end = readme.find("<!-- route-costs:end -->").expect("end marker");
    let rows = readme[start..end].lines().filter(|l| l.starts_with("| `"));
    rows.map(|row| {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let count = cells[2].parse().unwrap_or_else(|_| panic!("a count in: {row}"));
        (cells[1].trim_matches('`').to_owned(), count)
    })
    .collect()
}

/// One call of every route, in an order where each finds what it needs; each call's
/// requests are counted alone. Returns `METHOD path` (as the router declares it) → requests.
async fn cost_of_every_route(
    app: &TestApp,
    counter: &Counter,
) -> Vec<(String, usize, Vec<Access>)> {
    let admin = app.admin().await;
    let mut costs = Vec::new();
    let mut measure = async |route: &str, reply: e2e::Reply| {
        assert!(reply.status.is_success(), "{route}: {} {:?}", reply.status, reply.json);
        costs.push((route.to_owned(), counter.take(), counter.take_accesses()));
        reply
    };
    counter.take();
    counter.take_accesses();
    let body = json!({ "email": "route@shop.test", "password": "a-good-password" });
    measure("POST /auth/register", app.post("/auth/register", None, body.clone()).await).await;
    let login = measure("POST /auth/login", app.post("/auth/login", None, body).await).await;
    let refresh = login.json["tokens"]["refresh_token"].as_str().expect("refresh").to_owned();
    let reply = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    let user = measure("GET /auth/refresh_access_token", reply).await;
    let user = user.json["access_token"].as_str().expect("access").to_owned();
    let token = Some(user.as_str());
    measure("GET /auth/protected", app.get("/auth/protected", token).await).await;

    let body = json!({ "name": "Mug", "category": "c", "variants": [{ "sku": "RC-1", "stock": 9, "price": "4.00" }] });
    let created = app.post("/products/create_product", Some(&admin), body).await;
    let id = measure("POST /products/create_product", created).await.json["product"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let reply = app
        .put(
            &format!("/products/update_product/{id}"),
            Some(&admin),
            json!({ "description": "Tall" }),
        )
        .await;
    measure("PUT /products/update_product/{product_id}", reply).await;
    measure("GET /products/{product_id}", app.get(&format!("/products/{id}"), None).await).await;
    let reply = app.get("/products/all_products", None).await;
    measure("GET /products/all_products", reply).await;

    let body = json!({ "code": "RC-10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    measure("POST /coupons/create", app.post("/coupons/create", Some(&admin), body).await).await;
    let reply =
        app.put("/coupons/update/RC-10", Some(&admin), json!({ "discount_percent": 5 })).await;
    measure("PUT /coupons/update/{coupon_code}", reply).await;
    measure("GET /coupons/all", app.get("/coupons/all", Some(&admin)).await).await;
    measure("GET /coupons/my_coupons", app.get("/coupons/my_coupons", token).await).await;

    let line = json!({ "product_id": id, "sku": "RC-1", "quantity": 2 });
    measure("POST /cart/add_item", app.post("/cart/add_item", token, line.clone()).await).await;
    let reply = app
        .post("/cart/update_item_quantity", token, json!({ "product_id": id, "quantity": 1 }))
        .await;
    measure("POST /cart/update_item_quantity", reply).await;
    measure("GET /cart/details", app.get("/cart/details", token).await).await;
    let reply = app.post("/cart/remove_item", token, json!({ "product_id": id })).await;
    measure("POST /cart/remove_item", reply).await;
    app.post("/cart/add_item", token, line).await;
    counter.take();
    counter.take_accesses();

    let address = json!({ "full_name": "Ann", "line1": "1 Main St", "city": "Cork", "postal_code": "T12", "country": "IE" });
    let added = app.post("/account/addresses", token, address).await;
    let address = measure("POST /account/addresses", added).await.json["address"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let reply =
        app.put(&format!("/account/addresses/{address}"), token, json!({ "city": "Cobh" })).await;
    measure("PUT /account/addresses/{address_id}", reply).await;
    measure("GET /account/addresses", app.get("/account/addresses", token).await).await;

    let reply = app.post("/orders/create", token, json!({ "coupon_code": "RC-10" })).await;
    let order = measure("POST /orders/create", reply).await.json["order"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    measure("GET /orders", app.get("/orders", token).await).await;
    measure("GET /orders/all", app.get("/orders/all", Some(&admin)).await).await;
    measure("GET /orders/{order_id}", app.get(&format!("/orders/{order}"), token).await).await;
    let reply = app.post(&format!("/orders/{order}/pay"), token, json!({})).await;
    let intent = measure("POST /orders/{order_id}/pay", reply).await.json["payment_intent_id"]
        .as_str()
        .expect("intent")
        .to_owned();
    let confirm = axum::http::Request::post(format!(
        "{}/v1/payment_intents/{intent}/confirm",
        local::stripe::PREFIX
    ))
    .header("authorization", format!("Bearer {}", e2e::payments::PROVIDER_KEY))
    .header("content-type", "application/x-www-form-urlencoded")
    .body(axum::body::Body::from("payment_method=pm_card_visa"))
    .expect("request");
    assert!(app.send(confirm).await.status.is_success(), "paid at the provider");
    counter.take();
    counter.take_accesses();
    let placed = app.get(&format!("/orders/{order}"), token).await;
    let cents = placed.json["order"]["payment"]["amount"].clone();
    counter.take();
    counter.take_accesses();
    let paid = json!({ "status": "succeeded", "amount": cents, "amount_received": cents });
    let event =
        e2e::payments::intent_event("evt_rc", "payment_intent.succeeded", &order, &intent, paid);
    let shop_event = payment_event(app, &event).await;
    assert_eq!(shop_event.json["outcome"], "recorded", "{:?}", shop_event.json);
    measure("POST /payments/stripe/webhook", shop_event).await;
    let reply = app
        .post(&format!("/orders/{order}/refunds"), Some(&admin), json!({ "amount": "1.00" }))
        .await;
    measure("POST /orders/{order_id}/refunds", reply).await;
    let reply = app.get(&format!("/orders/{order}/payments"), token).await;
    measure("GET /orders/{order_id}/payments", reply).await;
    let reply = app.set_status(&admin, &order, "Shipped").await;
    measure("PUT /orders/{order_id}/status", reply).await;

    app.post("/cart/add_item", token, json!({ "product_id": id, "sku": "RC-1", "quantity": 1 }))
        .await;
    let second = app.post("/orders/create", token, json!({})).await;
    let second = second.json["order"]["id"].as_str().expect("second order").to_owned();
    counter.take();
    counter.take_accesses();
    let reply = app.post(&format!("/orders/{second}/cancel"), token, json!({})).await;
    measure("POST /orders/{order_id}/cancel", reply).await;

    let reply = app.delete(&format!("/account/addresses/{address}"), token).await;
    measure("DELETE /account/addresses/{address_id}", reply).await;
    let body = json!({ "url": "https://93.184.216.34/hook", "events": ["order.placed"] });
    let hook =
        measure("POST /admin/webhooks", app.post("/admin/webhooks", Some(&admin), body).await)
            .await
            .json["webhook"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
    measure("GET /admin/webhooks", app.get("/admin/webhooks", Some(&admin)).await).await;
    let reply = app.get(&format!("/admin/webhooks/{hook}/deliveries"), Some(&admin)).await;
    measure("GET /admin/webhooks/{webhook_id}/deliveries", reply).await;
    let reply = app.delete(&format!("/admin/webhooks/{hook}"), Some(&admin)).await;
    measure("DELETE /admin/webhooks/{webhook_id}", reply).await;
    measure("GET /admin/audit", app.get("/admin/audit", Some(&admin)).await).await;

    let reply = app.delete("/coupons/delete/RC-10", Some(&admin)).await;
    measure("DELETE /coupons/delete/{coupon_code}", reply).await;
    let reply = app.delete(&format!("/products/delete_product/{id}"), Some(&admin)).await;
    measure("DELETE /products/delete_product/{product_id}", reply).await;
    measure("GET /auth/logout", app.get("/auth/logout", token).await).await;
    costs
}

/// `event` posted to the shop's webhook route, signed as the provider signs.
async fn payment_event(app: &TestApp, event: &serde_json::Value) -> e2e::Reply {
    let payload = event.to_string();
    let now = shared::domain::Timestamp::now().unix();
    let signature =
        shared::payments::signature::sign(e2e::payments::WEBHOOK_SECRET, now, payload.as_bytes());
    let request = axum::http::Request::post("/payments/stripe/webhook")
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(payload))
        .expect("request");
    app.send(request).await
}

#[tokio::test]
async fn no_route_costs_more_requests_than_the_readme_says() {
    let (app, counter) = counted_app().await;
    let measured = cost_of_every_route(&app, &counter).await;
    println!("| route | DynamoDB requests |\n|---|---|");
    for (route, count, _) in &measured {
        println!("| `{route}` | {count} |");
    }
    let routes: Vec<String> =
        e2e::source_routes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let mut covered: Vec<String> = measured.iter().map(|(route, _, _)| route.clone()).collect();
    covered.sort();
    let mut every = routes.clone();
    every.sort();
    assert_eq!(covered, every, "every route is measured once");
    let documented = documented_costs();
    assert_eq!(
        documented.keys().cloned().collect::<Vec<_>>(),
        every,
        "docs/performance.md names every route"
    );
    for (route, count, _) in measured {
        assert!(
            count <= documented[&route],
            "{route}: {count} requests, docs/performance.md says {}",
            documented[&route]
        );
    }
}

/// Every DynamoDB request of every route is allowed by the IAM statements of the function that
/// serves the route: its action, its table or index, and each partition key against the
/// statement's `dynamodb:LeadingKeys`.
#[tokio::test]
async fn every_route_touches_only_keys_its_function_may() {
    let (app, counter) = counted_app().await;
    let measured = cost_of_every_route(&app, &counter).await;
    let template = e2e::template();
    let routes = e2e::source_routes();
    let mut refused = Vec::new();
    let mut checked = 0;
    for (route, _, accesses) in &measured {
        let function = routes
            .iter()
            .find(|r| format!("{} {}", r.method, r.path) == *route)
            .map(|r| r.function.clone())
            .unwrap_or_else(|| panic!("no function serves {route}"));
        let statements = statements_of(&template, &function);
        for access in accesses {
            checked += 1;
            if !allowed(&statements, access) {
                refused.push(format!("{function}: {route}: {access:?}"));
            }
        }
    }
    assert!(checked > measured.len(), "{checked} requests recorded");
    assert!(refused.is_empty(), "IAM would refuse:\n{}", refused.join("\n"));
}

/// The IAM statements of `function` allow every access recorded since the last call.
fn check_function(counter: &Counter, template: &serde_norway::Value, function: &str) {
    let statements = statements_of(template, function);
    let accesses = counter.take_accesses();
    assert!(!accesses.is_empty(), "{function} made no request");
    let refused: Vec<_> = accesses.iter().filter(|a| !allowed(&statements, a)).collect();
    assert!(refused.is_empty(), "IAM would refuse {function}: {refused:?}");
}

/// The workers' DynamoDB requests — the outbox relay republishing an event, the webhook
/// sender delivering it (signed with the secret it reads), the e-mail sender sending it — are
/// allowed by their functions' IAM statements.
#[tokio::test]
async fn the_workers_touch_only_keys_their_functions_may() {
    use shared::domain::{AuditAction, AuditEntry, Timestamp, UrlPolicy, Webhook, WebhookInput};
    let (shop, counter) = counted_shop().await;
    let app = shop.app.clone();
    let receiver = e2e::receiver::Receiver::start(&[200]).await;
    // A loopback receiver, so the webhook is stored directly (the API refuses loopback URLs).
    let input =
        WebhookInput { url: Some(receiver.url.clone()), events: Some(vec!["order.placed".into()]) };
    let now = Timestamp::now();
    let webhook = Webhook::parse_new(input, UrlPolicy::AllowLoopback, now).expect("webhook");
    let actor = shared::domain::UserId::new();
    let audit = AuditEntry::new(actor, AuditAction::WebhookCreated, webhook.id, json!({}), now);
    app.store.create_webhook(&webhook, &audit).await.expect("stored");
    // The queue is down at checkout: the event stays in the outbox for the relay.
    app.events.set_failing(true);
    e2e::place_order(&app, "workers@shop.test", "Mug", "WK-1", "3.00", 1).await;
    app.events.set_failing(false);
    let template = e2e::template();
    counter.take_accesses();

    let later = Timestamp::now().plus_seconds(600);
    let report =
        shared::notify::relay::republish(app.store.as_ref(), app.events.as_ref(), later, 0, 10)
            .await
            .expect("relayed");
    assert_eq!(report.published, 1, "{report:?}");
    check_function(&counter, &template, "outbox-relay");
    let event = app.events.recorded().pop().expect("the event");

    let sender = shared::webhooks::HttpSender::new(UrlPolicy::AllowLoopback).expect("client");
    let worker = shared::webhooks::deliver::WebhookWorker::new(app.store.as_ref(), &sender, 2);
    worker.deliver_event(&event).await.expect("delivered");
    assert_eq!(receiver.received().len(), 1);
    check_function(&counter, &template, "order-webhooks");

    let mailer = shared::notify::mail::RecordingMailer::default();
    let emails = shared::notify::worker::EmailWorker {
        store: app.store.as_ref(),
        mailer: &mailer,
        sender: "orders@shop.example",
        branding: &shared::domain::Branding::default(),
    };
    emails.deliver_event(&event).await.expect("sent");
    assert_eq!(mailer.recorded().len(), 1);
    check_function(&counter, &template, "order-emails");

    // The payment jobs: the order above is unpaid; its hold ends and it expires.
    let report = shop.state.orders().reconcile(later).await.expect("jobs ran");
    assert_eq!(report.expired, 1, "{report:?}");
    check_function(&counter, &template, "payment-jobs");
}
