//! Orders paid through the local Stripe-compatible provider over real HTTP, on both stores:
//! paying, declines and authentication, duplicate, reordered and late events, signatures,
//! unpaid holds expiring, payment racing expiry, concurrent refunds, a provider answer lost
//! after it committed, shipping only what is paid, and the unpaid-orders limit.

use axum::http::StatusCode;
use e2e::{
    Backend, PlacedOrder, both_stores,
    payments::{HOLD_SECONDS, PayingShop, WEBHOOK_SECRET, intent_event},
    place_order,
};
use serde_json::{Value, json};
use shared::domain::{OrderEventKind, Timestamp};

/// The kinds of the events the shop published about `order`.
fn published(shop: &PayingShop, order: &str) -> Vec<OrderEventKind> {
    let recorded = shop.app.events.recorded();
    recorded.into_iter().filter(|e| e.order_id.to_string() == order).map(|e| e.kind).collect()
}

both_stores!(
    a_paid_order_is_marked_paid_by_the_providers_event,
    declines_and_authentication_move_the_payment_and_the_order_can_still_be_paid,
    duplicate_reordered_and_late_events_change_nothing_twice,
    a_wrong_stale_or_missing_signature_is_refused,
    an_unpaid_order_expires_once_giving_back_its_stock_and_coupon,
    payment_racing_expiry_has_exactly_one_winner,
    concurrent_partial_refunds_never_exceed_what_was_captured,
    a_provider_answer_lost_after_commit_converges_through_reconciliation,
    an_unpaid_order_cannot_ship,
    a_customer_holds_at_most_three_unpaid_orders,
);

async fn shop(app: e2e::TestApp) -> PayingShop {
    PayingShop::start(app.backend, &[]).await
}

fn id(order: &Value) -> String {
    order["id"].as_str().expect("order id").to_owned()
}

fn payment_status(order: &Value) -> &str {
    order["payment"]["status"].as_str().unwrap_or_default()
}

async fn stock(shop: &PayingShop, order: &Value) -> u64 {
    let product = order["items"][0]["product_id"].as_str().expect("product");
    let reply = shop.app.get(&format!("/products/{product}"), None).await;
    reply.json["variants"][0]["stock"].as_u64().expect("stock")
}

/// The end of the hold of every order placed now.
fn after_hold() -> Timestamp {
    Timestamp::now().plus_seconds(HOLD_SECONDS + 1)
}

async fn a_paid_order_is_marked_paid_by_the_providers_event(app: e2e::TestApp) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "payer@shop.test", "Lamp", "LAMP-1", "31.50", 1).await;
    let order = id(&placed.order);
    assert_eq!(payment_status(&placed.order), "requires_payment");
    assert_eq!(placed.order["payment"]["amount"], 3150);

    let paying =
        shop.app.post(&format!("/orders/{order}/pay"), Some(&placed.buyer), json!({})).await;
    assert_eq!(paying.status, StatusCode::OK, "{:?}", paying.json);
    assert_eq!(paying.json["amount"], "31.50");
    assert_eq!(paying.json["currency"], "eur");
    assert!(paying.json["client_secret"].as_str().is_some_and(|s| s.contains("_secret_")));
    let again =
        shop.app.post(&format!("/orders/{order}/pay"), Some(&placed.buyer), json!({})).await;
    assert_eq!(again.json["payment_intent_id"], paying.json["payment_intent_id"], "one intent");

    let (_, confirmed) = shop.pay_with(&placed.buyer, &order, "pm_card_visa").await;
    assert_eq!(confirmed.status, StatusCode::OK, "{:?}", confirmed.json);
    let paid = shop.until(&placed.admin, &order, |o| payment_status(o) == "captured").await;
    assert_eq!(
        (paid["payment"]["captured"].as_i64(), paid["status"].as_str()),
        (Some(3150), Some("Pending"))
    );
    let paid_events: Vec<_> = published(&shop, &order)
        .into_iter()
        .filter(|k| matches!(k, OrderEventKind::PaymentReceived { .. }))
        .collect();
    assert_eq!(paid_events, [OrderEventKind::PaymentReceived { amount: 3150 }], "order.paid once");

    let ledger = shop.app.get(&format!("/orders/{order}/payments"), Some(&placed.buyer)).await;
    assert_eq!(ledger.status, StatusCode::OK);
    let kinds: Vec<&str> = ledger.json["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(kinds.contains(&"payment_intent.succeeded"), "{kinds:?}");
    let stranger = shop.app.register("other@shop.test", "a-good-password").await;
    assert_eq!(stranger.status, StatusCode::CREATED);
    let (other, _) = shop.app.login("other@shop.test", "a-good-password").await;
    let hidden = shop.app.get(&format!("/orders/{order}/payments"), Some(&other)).await;
    assert_eq!(hidden.outcome(), (StatusCode::NOT_FOUND, "order_not_found"));
}

async fn declines_and_authentication_move_the_payment_and_the_order_can_still_be_paid(
    app: e2e::TestApp,
) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "decline@shop.test", "Mug", "MUG-1", "8.00", 1).await;
    let order = id(&placed.order);
    let (intent, declined) = shop.pay_with(&placed.buyer, &order, "pm_card_chargeDeclined").await;
    assert_eq!(declined.status, StatusCode::PAYMENT_REQUIRED, "{:?}", declined.json);
    shop.until(&placed.admin, &order, |o| payment_status(o) == "failed").await;

    let (_, action) = shop.pay_with(&placed.buyer, &order, "pm_card_authenticationRequired").await;
    assert_eq!(action.json["status"], "requires_action", "{:?}", action.json);
    shop.until(&placed.admin, &order, |o| payment_status(o) == "requires_action").await;
    let path = format!("/test/payment_intents/{intent}/authenticate");
    let authenticated = shop.provider(&path, "result=success").await;
    assert_eq!(authenticated.status, StatusCode::OK, "{:?}", authenticated.json);
    let paid = shop.until(&placed.admin, &order, |o| payment_status(o) == "captured").await;
    assert_eq!(paid["payment"]["captured"], 800);
}

async fn duplicate_reordered_and_late_events_change_nothing_twice(app: e2e::TestApp) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "events@shop.test", "Pen", "PEN-1", "20.00", 1).await;
    let order = id(&placed.order);
    // The provider sends the next events twice.
    let switched = shop.provider("/test/webhooks", "duplicate_next=5").await;
    assert_eq!(switched.status, StatusCode::OK, "{:?}", switched.json);
    let (intent, _) = shop.pay_with(&placed.buyer, &order, "pm_card_visa").await;
    shop.until(&placed.admin, &order, |o| payment_status(o) == "captured").await;

    let now = Timestamp::now().unix();
    let paid = json!({ "status": "succeeded", "amount": 2000, "amount_received": 2000 });
    let succeeded =
        intent_event("evt_test_succeeded", "payment_intent.succeeded", &order, &intent, paid);
    let first = shop.send_event(&succeeded, WEBHOOK_SECRET, now).await;
    assert_eq!(first.json["outcome"], "recorded", "{:?}", first.json);
    let repeated = shop.send_event(&succeeded, WEBHOOK_SECRET, now).await;
    assert_eq!(
        (repeated.status, repeated.json["outcome"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    // An older event arriving late never takes the payment back.
    let failed = json!({ "last_payment_error": { "code": "card_declined" } });
    let late = intent_event(
        "evt_test_late_failure",
        "payment_intent.payment_failed",
        &order,
        &intent,
        failed,
    );
    assert_eq!(shop.send_event(&late, WEBHOOK_SECRET, now).await.status, StatusCode::OK);
    let settled = shop.order(&placed.admin, &order).await;
    assert_eq!(
        (payment_status(&settled), settled["payment"]["captured"].as_i64()),
        ("captured", Some(2000))
    );

    let ledger = shop.app.get(&format!("/orders/{order}/payments"), Some(&placed.admin)).await;
    let entries = ledger.json["ledger"].as_array().expect("ledger").clone();
    let mut ids: Vec<&str> = entries.iter().filter_map(|e| e["id"].as_str()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "every event once: {entries:?}");
    let succeeded = entries.iter().filter(|e| e["detail"] == "payment_intent.succeeded").count();
    assert_eq!(succeeded, 2, "the provider's own and the test's (distinct ids)");
}

async fn a_wrong_stale_or_missing_signature_is_refused(app: e2e::TestApp) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "sig@shop.test", "Cup", "CUP-1", "5.00", 1).await;
    let order = id(&placed.order);
    let paid = json!({ "status": "succeeded", "amount": 500, "amount_received": 500 });
    let event = intent_event("evt_forged", "payment_intent.succeeded", &order, "pi_forged", paid);
    let now = Timestamp::now().unix();
    for (secret, at) in
        [("whsec_wrong", now), (WEBHOOK_SECRET, now - 301), (WEBHOOK_SECRET, now + 301)]
    {
        let refused = shop.send_event(&event, secret, at).await;
        assert_eq!(
            refused.outcome(),
            (StatusCode::BAD_REQUEST, "invalid_signature"),
            "{secret} at {at}"
        );
    }
    let unsigned = shop.app.post("/payments/stripe/webhook", None, event.clone()).await;
    assert_eq!(unsigned.outcome(), (StatusCode::BAD_REQUEST, "invalid_signature"));
    assert_eq!(payment_status(&shop.order(&placed.admin, &order).await), "requires_payment");
    let accepted = shop.send_event(&event, WEBHOOK_SECRET, now - 299).await;
    assert_eq!(accepted.status, StatusCode::OK, "within the tolerance: {:?}", accepted.json);
}

async fn an_unpaid_order_expires_once_giving_back_its_stock_and_coupon(app: e2e::TestApp) {
    let shop = shop(app).await;
    let admin = shop.app.admin().await;
    let coupon = json!({ "code": "HOLD10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z", "max_uses": 1 });
    assert_eq!(
        shop.app.post("/coupons/create", Some(&admin), coupon).await.status,
        StatusCode::CREATED
    );
    let body = json!({ "name": "Vase", "category": "c", "variants": [{ "sku": "VASE-1", "stock": 5, "price": "10.00" }] });
    let product = shop.app.post("/products/create_product", Some(&admin), body).await;
    let product = product.json["product"]["id"].as_str().expect("id").to_owned();
    shop.app.register("hold@shop.test", "a-good-password").await;
    let (buyer, _) = shop.app.login("hold@shop.test", "a-good-password").await;
    shop.app
        .post("/cart/add_item", Some(&buyer), json!({ "product_id": product, "quantity": 2 }))
        .await;
    let placed =
        shop.app.post("/orders/create", Some(&buyer), json!({ "coupon_code": "HOLD10" })).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let order = placed.json["order"].clone();
    assert_eq!(stock(&shop, &order).await, 3);

    assert_eq!(shop.run_jobs(Timestamp::now()).await.expired, 0, "not yet");
    assert_eq!(shop.run_jobs(after_hold()).await.expired, 1);
    let expired = shop.order(&admin, &id(&order)).await;
    assert_eq!(
        (expired["status"].as_str(), expired["cancel_reason"].as_str()),
        (Some("Cancelled"), Some("payment_expired"))
    );
    assert_eq!(payment_status(&expired), "expired");
    assert_eq!(stock(&shop, &order).await, 5, "the units are back");
    assert_eq!(shop.run_jobs(after_hold()).await.expired, 0, "expired once");
    let expiries =
        published(&shop, &id(&order)).into_iter().filter(|k| *k == OrderEventKind::Expired).count();
    assert_eq!(expiries, 1, "order.expired once");
    assert_eq!(stock(&shop, &order).await, 5, "and restocked once");
    let coupons = shop.app.get("/coupons/all", Some(&admin)).await;
    let uses =
        coupons.json["coupons"].as_array().and_then(|c| c.first()).map(|c| c["uses"].clone());
    assert_eq!(uses, Some(json!(0)), "the coupon's use is given back: {:?}", coupons.json);
    let late = shop.app.post(&format!("/orders/{}/pay", id(&order)), Some(&buyer), json!({})).await;
    assert_eq!(late.outcome(), (StatusCode::CONFLICT, "order_not_payable"));
}

async fn payment_racing_expiry_has_exactly_one_winner(app: e2e::TestApp) {
    let rounds = if app.backend == Backend::Memory { 12 } else { 6 };
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "race@shop.test", "Clock", "CLOCK-1", "12.00", 1).await;
    let (admin, buyer) = (placed.admin.clone(), placed.buyer.clone());
    let first = placed.order.clone();
    // The first order is expired at once so that each round starts with the stock of 5.
    shop.run_jobs(after_hold()).await;
    let product = first["items"][0]["product_id"].as_str().expect("product").to_owned();
    let mut winners = (0, 0);
    for seed in 0..rounds {
        shop.app
            .post("/cart/add_item", Some(&buyer), json!({ "product_id": product, "quantity": 1 }))
            .await;
        let placed = shop.app.post("/orders/create", Some(&buyer), json!({})).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
        let order = id(&placed.json["order"]);
        let paying = shop.app.post(&format!("/orders/{order}/pay"), Some(&buyer), json!({})).await;
        let intent = paying.json["payment_intent_id"].as_str().expect("intent").to_owned();
        let confirm = async {
            tokio::time::sleep(std::time::Duration::from_millis(seed * 3 % 11)).await;
            shop.provider(
                &format!("/v1/payment_intents/{intent}/confirm"),
                "payment_method=pm_card_visa",
            )
            .await
        };
        let expire = async {
            tokio::time::sleep(std::time::Duration::from_millis(seed * 7 % 13)).await;
            shop.run_jobs(after_hold()).await
        };
        let (confirmed, _) = tokio::join!(confirm, expire);
        let settled = shop
            .until(&admin, &order, |o| {
                let p = &o["payment"];
                match (o["status"].as_str(), p["status"].as_str()) {
                    (Some("Pending"), Some("captured")) => true,
                    (Some("Cancelled"), Some("expired")) => {
                        p["captured"] == p["refunded"] && p["refunding"] == 0
                    }
                    _ => false,
                }
            })
            .await;
        let paid_won = settled["status"] == "Pending";
        if paid_won {
            winners.0 += 1;
            assert_eq!(confirmed.status, StatusCode::OK);
            assert_eq!(
                stock(&shop, &first).await,
                4,
                "round {seed}: the paid order keeps its unit"
            );
            shop.app.post(&format!("/orders/{order}/cancel"), Some(&buyer), json!({})).await;
        } else {
            winners.1 += 1;
        }
        let after = shop.until(&admin, &order, |o| o["status"] == "Cancelled").await;
        assert!(
            after["payment"]["refunded"] == after["payment"]["captured"],
            "round {seed}: {after}"
        );
        assert_eq!(stock(&shop, &first).await, 5, "round {seed}: restocked exactly once");
    }
    println!("payment won {} rounds, expiry {}", winners.0, winners.1);
}

async fn concurrent_partial_refunds_never_exceed_what_was_captured(app: e2e::TestApp) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "refunds@shop.test", "Rug", "RUG-1", "30.00", 1).await;
    let order = id(&placed.order);
    shop.pay_with(&placed.buyer, &order, "pm_card_visa").await;
    shop.until(&placed.admin, &order, |o| payment_status(o) == "captured").await;
    let path = format!("/orders/{order}/refunds");
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, path, admin) = (shop.app.clone(), path.clone(), placed.admin.clone());
        asks.spawn(async move {
            app.post(&path, Some(&admin), json!({ "amount": "0.70", "reason": "race" })).await
        });
    }
    let replies = asks.join_all().await;
    let mut done = 0;
    for reply in &replies {
        match reply.status {
            StatusCode::CREATED | StatusCode::ACCEPTED => done += 1,
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {:?}", reply.json),
        }
    }
    assert!(done <= 42, "{done} refunds of 0.70 out of 30.00");
    // Answers the provider gave but the shop could not record yet (202) are recorded by
    // reconciliation, under the refunds' own keys.
    shop.run_jobs(Timestamp::now().plus_seconds(HOLD_SECONDS + 1)).await;
    let settled = shop.order(&placed.admin, &order).await;
    assert_eq!(settled["payment"]["refunded"], done * 70, "{settled}");
    assert_eq!(settled["payment"]["refunding"], 0);
    let ledger = shop.app.get(&path.replace("refunds", "payments"), Some(&placed.admin)).await;
    let succeeded: i64 = ledger.json["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .filter(|e| e["kind"] == "refund" && e["status"] == "succeeded")
        .map(|e| e["amount"].as_i64().unwrap_or_default())
        .sum();
    assert_eq!(succeeded, done * 70, "the ledger agrees");
    let refund_events = published(&shop, &order)
        .into_iter()
        .filter(|k| *k == OrderEventKind::Refunded { amount: 70 })
        .count();
    assert_eq!(refund_events, done as usize, "one order.refunded per refund");
    // A refund retried under its Idempotency-Key is answered again, never made twice.
    let keyed = |amount: &str| {
        axum::http::Request::post(path.as_str())
            .header("authorization", format!("Bearer {}", placed.admin))
            .header("content-type", "application/json")
            .header("idempotency-key", "refund-race-1")
            .body(axum::body::Body::from(json!({ "amount": amount }).to_string()))
            .expect("request")
    };
    let first = shop.app.send(keyed("0.10")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.json);
    let retried = shop.app.send(keyed("0.10")).await;
    assert_eq!(
        (retried.status, &retried.json["refund"]),
        (StatusCode::CREATED, &first.json["refund"])
    );
    let other = shop.app.send(keyed("0.20")).await;
    assert_eq!(other.outcome(), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    let once = shop.order(&placed.admin, &order).await;
    assert_eq!(once["payment"]["refunded"], done * 70 + 10, "refunded once: {once}");
    let rest = shop.app.post(&path, Some(&placed.admin), json!({})).await;
    assert_eq!(rest.status, StatusCode::CREATED, "the rest in one: {:?}", rest.json);
    let all = shop.order(&placed.admin, &order).await;
    assert_eq!(
        (payment_status(&all), all["payment"]["refunded"].as_i64()),
        ("refunded", Some(3000))
    );
    let more = shop.app.post(&path, Some(&placed.admin), json!({ "amount": "0.01" })).await;
    assert_eq!(more.outcome(), (StatusCode::UNPROCESSABLE_ENTITY, "refund_refused"));
}

async fn a_provider_answer_lost_after_commit_converges_through_reconciliation(app: e2e::TestApp) {
    let shop = PayingShop::start(app.backend, &[("PAYMENT_RECONCILE_AFTER_SECONDS", "0")]).await;
    let PlacedOrder { admin, buyer, order, .. } =
        place_order(&shop.app, "lost@shop.test", "Bowl", "BOWL-1", "15.00", 1).await;
    let order = id(&order);
    // The payment's events are lost: only reconciliation can learn it was paid.
    shop.provider("/test/webhooks", "drop_next=10").await;
    shop.pay_with(&buyer, &order, "pm_card_visa").await;
    assert_eq!(payment_status(&shop.order(&admin, &order).await), "requires_payment");
    let report = shop.run_jobs(Timestamp::now()).await;
    assert_eq!((report.checked, report.drifted), (1, 1));
    assert_eq!(payment_status(&shop.order(&admin, &order).await), "captured");

    // A refund the provider applies and whose answer is lost stays pending, reserved.
    shop.provider("/test/faults", "fail_after_commit=1").await;
    let refund = shop
        .app
        .post(&format!("/orders/{order}/refunds"), Some(&admin), json!({ "amount": "5.00" }))
        .await;
    assert_eq!(refund.status, StatusCode::ACCEPTED, "{:?}", refund.json);
    assert_eq!(refund.json["refund"]["status"], "pending");
    let reserved = shop.order(&admin, &order).await;
    assert_eq!(
        (reserved["payment"]["refunded"].as_i64(), reserved["payment"]["refunding"].as_i64()),
        (Some(0), Some(500))
    );
    let report = shop.run_jobs(Timestamp::now()).await;
    assert_eq!(report.drifted, 1);
    let converged = shop.order(&admin, &order).await;
    assert_eq!(
        (converged["payment"]["refunded"].as_i64(), converged["payment"]["refunding"].as_i64()),
        (Some(500), Some(0))
    );
    assert_eq!(payment_status(&converged), "partially_refunded");
    let report = shop.run_jobs(Timestamp::now()).await;
    assert_eq!(report.checked, 0, "nothing left to reconcile");

    // An expiry whose cancellation the provider applies but whose answer is lost: the
    // payment stays watched until reconciliation hears the intent is cancelled.
    let product = placed_product(&shop, &admin, &order).await;
    shop.app
        .post("/cart/add_item", Some(&buyer), json!({ "product_id": product, "quantity": 1 }))
        .await;
    let second = shop.app.post("/orders/create", Some(&buyer), json!({})).await;
    let second = id(&second.json["order"]);
    let paying = shop.app.post(&format!("/orders/{second}/pay"), Some(&buyer), json!({})).await;
    assert_eq!(paying.status, StatusCode::OK);
    shop.provider("/test/faults", "fail_after_commit=1").await;
    let report = shop.run_jobs(after_hold()).await;
    assert_eq!((report.expired, report.drifted), (1, 1), "{report:?}");
    let expired = shop.order(&admin, &second).await;
    assert_eq!(
        (payment_status(&expired), expired["payment"]["intent_canceled"].as_bool()),
        ("expired", Some(true))
    );
    let ledger = shop.app.get(&format!("/orders/{second}/payments"), Some(&admin)).await;
    let cancels: Vec<&Value> = ledger.json["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .filter(|e| e["kind"] == "cancel")
        .collect();
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0]["status"], "succeeded", "asked again under its key");
    assert_eq!(shop.run_jobs(after_hold()).await.checked, 0, "final");
}

async fn placed_product(shop: &PayingShop, admin: &str, order: &str) -> String {
    let order = shop.order(admin, order).await;
    order["items"][0]["product_id"].as_str().expect("product").to_owned()
}

async fn an_unpaid_order_cannot_ship(app: e2e::TestApp) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "ship@shop.test", "Box", "BOX-1", "9.00", 1).await;
    let order = id(&placed.order);
    let refused = shop.app.set_status(&placed.admin, &order, "Shipped").await;
    assert_eq!(refused.outcome(), (StatusCode::CONFLICT, "order_unpaid"));
    shop.pay_with(&placed.buyer, &order, "pm_card_visa").await;
    shop.until(&placed.admin, &order, |o| payment_status(o) == "captured").await;
    let shipped = shop.app.set_status(&placed.admin, &order, "Shipped").await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.json);
    let cancel =
        shop.app.post(&format!("/orders/{order}/cancel"), Some(&placed.buyer), json!({})).await;
    assert_eq!(cancel.outcome(), (StatusCode::CONFLICT, "invalid_status_transition"));
}

async fn a_customer_holds_at_most_three_unpaid_orders(app: e2e::TestApp) {
    let shop = shop(app).await;
    let placed = place_order(&shop.app, "greedy@shop.test", "Card", "CARD-1", "1.00", 1).await;
    let product = placed.order["items"][0]["product_id"].as_str().expect("product").to_owned();
    let mut orders = vec![id(&placed.order)];
    for _ in 0..3 {
        shop.app
            .post(
                "/cart/add_item",
                Some(&placed.buyer),
                json!({ "product_id": product, "quantity": 1 }),
            )
            .await;
        let next = shop.app.post("/orders/create", Some(&placed.buyer), json!({})).await;
        if orders.len() < 3 {
            assert_eq!(next.status, StatusCode::CREATED, "{:?}", next.json);
            orders.push(id(&next.json["order"]));
        } else {
            assert_eq!(next.outcome(), (StatusCode::TOO_MANY_REQUESTS, "too_many_unpaid_orders"));
        }
    }
    let stock_before = stock(&shop, &placed.order).await;
    let cancel = format!("/orders/{}/cancel", orders[0]);
    let cancelled = shop.app.post(&cancel, Some(&placed.buyer), json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
    assert_eq!(cancelled.json["order"]["cancel_reason"], "customer_cancelled");
    // Retried after a lost answer: answered as done, the unit given back once.
    let again = shop.app.post(&cancel, Some(&placed.buyer), json!({})).await;
    assert_eq!((again.status, &again.json["order"]), (StatusCode::OK, &cancelled.json["order"]));
    assert_eq!(stock(&shop, &placed.order).await, stock_before + 1);
    let again = shop.app.post("/orders/create", Some(&placed.buyer), json!({})).await;
    assert_eq!(again.status, StatusCode::CREATED, "a slot is free again: {:?}", again.json);
}
