//! Writes whose answer is lost after they committed, on both stores: the memory store's
//! "applied but answered as failed" mode, and on DynamoDB (moto) an SDK interceptor that turns
//! a committed write's answer into a 500, so the SDK retries it as it would after a dropped
//! connection. The service must find its own write and answer as if the first attempt had
//! succeeded: one unit in the cart, one order, stock taken once.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents, SharedInterceptor,
    interceptors::BeforeDeserializationInterceptorContextMut,
};
use axum::http::StatusCode;
use e2e::{
    Backend, TestApp,
    sdk::{OnRequest, intercepted_store},
};
use serde_json::json;
use shared::store::MemoryStore;

/// Answers the next `armed` requests of one operation (`PutItem`, `UpdateItem`,
/// `TransactWriteItems`) that DynamoDB applied with a 500 InternalServerError instead. (The
/// operation is noted when the request leaves, by [`LoseAnswers::noting`]: the request is gone
/// by the time its answer is read. The tests send one at a time.)
#[derive(Debug, Clone, Default)]
struct LoseAnswers(Arc<AtomicUsize>, Arc<std::sync::Mutex<String>>, Arc<std::sync::Mutex<String>>);

impl Intercept for LoseAnswers {
    fn name(&self) -> &'static str {
        "LoseAnswers"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = self.1.lock().map_err(|_| "poisoned")?.clone();
        let wanted = self.2.lock().map_err(|_| "poisoned")?.clone();
        let write = target == wanted;
        let applied = context.response().status().is_success();
        if write
            && applied
            && self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
        {
            let response = context.response_mut();
            *response.status_mut() = 500u16.try_into()?;
            *response.body_mut() = aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost after the write"}"#,
            );
        }
        Ok(())
    }
}

impl LoseAnswers {
    /// The interceptor that notes each request's operation as it leaves.
    fn noting(&self) -> SharedInterceptor {
        let noted = Arc::clone(&self.1);
        OnRequest::shared("NoteOperation", move |operation, _| {
            if let Ok(mut target) = noted.lock() {
                operation.clone_into(&mut target);
            }
        })
    }
}

/// Loses the answer of the next write of an operation: `lose("PutItem")`.
type Lose = Box<dyn Fn(&str) + Send + Sync>;

/// The app over a store, and a switch that loses the answer of the next write. (The memory
/// store loses the next cart save, checkout, session opening or rotation, whatever the
/// operation named.)
async fn lossy(backend: Backend) -> (TestApp, Lose) {
    match backend {
        Backend::Memory => {
            let store = Arc::new(MemoryStore::default());
            let app = TestApp::over(store.clone(), backend);
            (app, Box::new(move |_| store.lose_next_answers(1)))
        }
        Backend::Dynamo => {
            let lose = LoseAnswers::default();
            let interceptors = [lose.noting(), SharedInterceptor::new(lose.clone())];
            let store = intercepted_store("shop-lost", &interceptors).await;
            let app = TestApp::over(Arc::new(store), backend);
            let switch = move |operation: &str| {
                if let Ok(mut wanted) = lose.2.lock() {
                    *wanted = operation.to_owned();
                }
                lose.0.store(1, Ordering::SeqCst);
            };
            (app, Box::new(switch))
        }
    }
}

async fn a_lost_answer_is_neither_applied_twice_nor_reported_as_failed(backend: Backend) {
    let (app, lose) = lossy(backend).await;
    let admin = app.admin().await;
    // Product writes whose answers are lost: created, changed and deleted once, each 2xx.
    let body = json!({ "name": "Lamp", "category": "c", "variants": [{ "sku": "LOST-0", "stock": 1, "price": "9.00" }] });
    lose("TransactWriteItems");
    let lamp = app.post("/products/create_product", Some(&admin), body).await;
    assert_eq!(lamp.status, StatusCode::CREATED, "{:?}", lamp.json);
    let lamp = lamp.json["product"]["id"].as_str().expect("id").to_owned();
    lose("TransactWriteItems");
    let change = json!({ "name": "Desk lamp" });
    let path = format!("/products/update_product/{lamp}");
    let changed = app.put(&path, Some(&admin), change).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.json);
    lose("TransactWriteItems");
    let deleted = app.delete(&format!("/products/delete_product/{lamp}"), Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.json);
    let trail = app.get("/admin/audit?action=product.updated", Some(&admin)).await;
    assert_eq!(trail.json["entries"].as_array().map(Vec::len), Some(1), "{:?}", trail.json);

    // Coupon and webhook writes whose answers are lost: each applied once, answered 2xx (the
    // write's own audit entry tells it landed).
    let coupon =
        json!({ "code": "LOST10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    lose("TransactWriteItems");
    let created = app.post("/coupons/create", Some(&admin), coupon).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    lose("TransactWriteItems");
    let change = json!({ "discount_percent": 15 });
    let changed = app.put("/coupons/update/LOST10", Some(&admin), change).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.json);
    lose("TransactWriteItems");
    let deleted = app.delete("/coupons/delete/LOST10", Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.json);
    let hook = json!({ "url": "https://93.184.216.34/hook", "events": ["order.placed"] });
    lose("TransactWriteItems");
    let hook = app.post("/admin/webhooks", Some(&admin), hook).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{:?}", hook.json);
    let hook = hook.json["webhook"]["id"].as_str().expect("id").to_owned();
    lose("TransactWriteItems");
    let gone = app.delete(&format!("/admin/webhooks/{hook}"), Some(&admin)).await;
    assert!(gone.status.is_success(), "{:?}", gone.json);
    let listed = app.get("/admin/webhooks", Some(&admin)).await;
    assert_eq!(listed.json["webhooks"], json!([]));

    let body = json!({ "name": "Mug", "category": "c", "variants": [{ "sku": "LOST-1", "stock": 5, "price": "4.00" }] });
    let created = app.post("/products/create_product", Some(&admin), body).await;
    let product = created.json["product"]["id"].as_str().expect("id").to_owned();
    // A registration whose answer is lost: 201 (not "e-mail taken" by itself), one account.
    lose("TransactWriteItems");
    let registered = app.register("lost@shop.test", "a-good-password").await;
    assert_eq!(registered.status, StatusCode::CREATED, "{:?}", registered.json);
    // A login whose session write's answer is lost: 200, and the session is live.
    lose("TransactWriteItems");
    let (buyer, refresh) = app.login("lost@shop.test", "a-good-password").await;
    assert_eq!(app.get("/auth/protected", Some(&buyer)).await.status, StatusCode::OK);
    // A refresh whose rotation's answer is lost: 200 with the rotated token, which works
    // (the session is not taken for a replay and revoked).
    lose("UpdateItem");
    let rotated = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.json);
    let next = rotated.json["refresh_token"].as_str().expect("refresh token").to_owned();
    let again = app.get("/auth/refresh_access_token", Some(&next)).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.json);
    let buyer = Some(buyer.as_str());

    // An address whose book write's answer is lost: added once, answered 201.
    lose("PutItem");
    let address = json!({
        "full_name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
        "postal_code": "SW1Y 4JH", "country": "gb"
    });
    let added = app.post("/account/addresses", buyer, address).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.json);
    let book = app.get("/account/addresses", buyer).await;
    assert_eq!(book.json["addresses"].as_array().map(Vec::len), Some(1), "{:?}", book.json);

    // "+1" whose answer is lost: one unit, answered 200.
    lose("PutItem");
    let added = app.post("/cart/add_item", buyer, json!({ "product_id": product })).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
    let cart = app.get("/cart/details", buyer).await;
    assert_eq!(cart.json["items"][0]["quantity"], 1, "{:?}", cart.json);

    // A quantity change whose answer is lost: applied once, answered 200.
    lose("PutItem");
    let body = json!({ "product_id": product, "quantity": 2 });
    let set = app.post("/cart/update_item_quantity", buyer, body).await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.json);

    // A checkout without an Idempotency-Key whose answer is lost: one order of 2, answered as
    // placed, the stock taken once.
    lose("TransactWriteItems");
    let placed = app.post("/orders/create", buyer, json!({})).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let orders = app.get("/orders", buyer).await;
    let orders = orders.json["orders"].as_array().cloned().unwrap_or_default();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["id"], placed.json["order"]["id"]);
    assert_eq!(orders[0]["items"][0]["quantity"], 2);
    // The admin ships it; the answer is lost: answered 200, Shipped once (one audit entry).
    lose("TransactWriteItems");
    let order = placed.json["order"]["id"].as_str().expect("id").to_owned();
    let shipped = app.set_status(&admin, &order, "Shipped").await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.json);
    let trail = app.get("/admin/audit?action=order.status_changed", Some(&admin)).await;
    assert_eq!(trail.json["entries"].as_array().map(Vec::len), Some(1), "{:?}", trail.json);

    let product = app.get(&format!("/products/{product}"), None).await;
    assert_eq!(product.json["variants"][0]["stock"], 3, "{:?}", product.json);
}

#[tokio::test]
async fn memory() {
    a_lost_answer_is_neither_applied_twice_nor_reported_as_failed(Backend::Memory).await;
}

#[tokio::test]
async fn dynamodb() {
    a_lost_answer_is_neither_applied_twice_nor_reported_as_failed(Backend::Dynamo).await;
}

/// `POST path` with a JSON body, a bearer token and an `Idempotency-Key`.
async fn keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: serde_json::Value,
) -> e2e::Reply {
    let request = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    app.send(request).await
}

/// Cart writes under an `Idempotency-Key`: a retry with the same body replays the first
/// answer and changes nothing (`Idempotent-Replayed`), another body is a 422, a malformed key
/// a 400; and a keyed write whose answer is lost is applied once.
async fn cart_writes_under_a_key_are_applied_once(backend: Backend) {
    let (app, lose) = lossy(backend).await;
    let admin = app.admin().await;
    let body = json!({ "name": "Cup", "category": "c", "variants": [{ "sku": "KEY-1", "stock": 9, "price": "2.00" }] });
    let created = app.post("/products/create_product", Some(&admin), body).await;
    let product = created.json["product"]["id"].as_str().expect("id").to_owned();
    app.register("keyed@shop.test", "a-good-password").await;
    let (buyer, _) = app.login("keyed@shop.test", "a-good-password").await;
    let quantity = |reply: &e2e::Reply| reply.json["cart"]["items"][0]["quantity"].clone();
    let replayed = |reply: &e2e::Reply| reply.headers.get("idempotent-replayed").cloned();

    let add = json!({ "product_id": product, "quantity": 2 });
    let first = keyed(&app, "/cart/add_item", &buyer, "add-1", add.clone()).await;
    assert_eq!((first.status, quantity(&first)), (StatusCode::OK, json!(2)), "{:?}", first.json);
    assert_eq!(replayed(&first), None);
    let again = keyed(&app, "/cart/add_item", &buyer, "add-1", add).await;
    assert_eq!((again.status, quantity(&again)), (StatusCode::OK, json!(2)), "{:?}", again.json);
    assert_eq!(replayed(&again).as_ref().map(|v| v.as_bytes()), Some(&b"true"[..]));
    let other = json!({ "product_id": product, "quantity": 1 });
    let reused = keyed(&app, "/cart/add_item", &buyer, "add-1", other.clone()).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    keyed(&app, "/cart/add_item", &buyer, "bad key", other.clone())
        .await
        .assert_invalid("Idempotency-Key");
    // A keyed write whose answer is lost: applied once.
    lose("TransactWriteItems");
    let lost = keyed(&app, "/cart/add_item", &buyer, "add-2", other).await;
    assert_eq!((lost.status, quantity(&lost)), (StatusCode::OK, json!(3)), "{:?}", lost.json);
    let set = json!({ "product_id": product, "quantity": 5 });
    let first = keyed(&app, "/cart/update_item_quantity", &buyer, "set-1", set.clone()).await;
    assert_eq!((first.status, quantity(&first)), (StatusCode::OK, json!(5)), "{:?}", first.json);
    let again = keyed(&app, "/cart/update_item_quantity", &buyer, "set-1", set).await;
    assert_eq!(replayed(&again).as_ref().map(|v| v.as_bytes()), Some(&b"true"[..]));
    let cart = app.get("/cart/details", Some(&buyer)).await;
    assert_eq!(cart.json["items"][0]["quantity"], 5, "{:?}", cart.json);
}

#[tokio::test]
async fn keyed_cart_writes_memory() {
    cart_writes_under_a_key_are_applied_once(Backend::Memory).await;
}

#[tokio::test]
async fn keyed_cart_writes_dynamodb() {
    cart_writes_under_a_key_are_applied_once(Backend::Dynamo).await;
}

/// An e-mail claim whose answer is lost: the worker claims again with the same token, finds
/// its own claim, and sends the e-mail once, at once (not after the claim's lease); then marks
/// it, so a redelivery sends nothing.
async fn an_e_mail_claim_whose_answer_is_lost_sends_once(backend: Backend) {
    use shared::notify::{
        mail::RecordingMailer,
        worker::{Delivery, EmailWorker},
    };
    let (app, lose) = lossy(backend).await;
    e2e::place_order(&app, "claim@shop.test", "Bowl", "CLAIM-1", "3.00", 1).await;
    let event = app.events.recorded()[0].clone();
    let mailer = RecordingMailer::default();
    let worker = EmailWorker {
        store: app.store.as_ref(),
        mailer: &mailer,
        sender: "s@shop.test",
        branding: &shared::domain::Branding::default(),
    };
    lose("PutItem");
    assert_eq!(worker.deliver_event(&event).await.expect("delivered"), Delivery::Sent);
    assert_eq!(worker.deliver_event(&event).await.expect("again"), Delivery::AlreadySent);
    let sent = mailer.recorded();
    assert_eq!(sent.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(), ["claim@shop.test"]);
}

#[tokio::test]
async fn e_mail_claim_memory() {
    an_e_mail_claim_whose_answer_is_lost_sends_once(Backend::Memory).await;
}

#[tokio::test]
async fn e_mail_claim_dynamodb() {
    an_e_mail_claim_whose_answer_is_lost_sends_once(Backend::Dynamo).await;
}

/// A webhook delivery claim whose answer is lost: the worker claims again with the same token,
/// finds its own claim, and delivers at once, once; a redelivery of the event sends nothing.
async fn a_delivery_claim_whose_answer_is_lost_delivers_once(backend: Backend) {
    use shared::{
        domain::UrlPolicy,
        webhooks::{HttpSender, deliver::WebhookWorker},
    };
    let (app, lose) = lossy(backend).await;
    let app = app.with_settings(e2e::token_config(), |state| {
        state.with_webhook_policy(UrlPolicy::AllowLoopback)
    });
    let admin = app.admin().await;
    let receiver = e2e::receiver::Receiver::start(&[]).await;
    let hook = json!({ "url": receiver.url, "events": ["order.placed"] });
    let created = app.post("/admin/webhooks", Some(&admin), hook).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    e2e::place_order(&app, "hooked@shop.test", "Vase", "CLAIM-2", "6.00", 1).await;
    let event = app.events.recorded().last().cloned().expect("placed");
    let sender = HttpSender::new(UrlPolicy::AllowLoopback).expect("client");
    let worker = WebhookWorker::new(app.store.as_ref(), &sender, 1);
    lose("UpdateItem");
    let report = worker.deliver_event(&event).await.expect("delivered");
    assert_eq!((report.delivered, report.retry_in), (1, None), "{report:?}");
    assert_eq!(worker.deliver_event(&event).await.expect("again"), Default::default());
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn delivery_claim_memory() {
    a_delivery_claim_whose_answer_is_lost_delivers_once(Backend::Memory).await;
}

#[tokio::test]
async fn delivery_claim_dynamodb() {
    a_delivery_claim_whose_answer_is_lost_delivers_once(Backend::Dynamo).await;
}
