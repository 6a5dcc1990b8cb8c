//! Signed order webhooks: administration (admins only, secret shown once, SSRF refusals),
//! deliveries to a real receiver on loopback that fails first and then accepts (signature,
//! retries with backoff, one delivery per event, the delivery log), giving up after the last
//! attempt, one event's webhooks called at the same time, timeouts; on both stores.

use std::time::Duration;

use axum::http::StatusCode;
use e2e::{
    TestApp, both_stores,
    receiver::{Gate, Receiver},
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use shared::{
    domain::{AttemptResult, ManualClock, OrderEvent, UrlPolicy},
    webhooks::{HttpSender, WebhookSender, deliver::WebhookWorker},
};

/// The app accepting loopback receivers, as the local server does.
fn loopback(app: &TestApp) -> TestApp {
    app.with_settings(e2e::token_config(), |state| {
        state.with_webhook_policy(UrlPolicy::AllowLoopback)
    })
}

async fn subscribe(app: &TestApp, admin: &str, url: &str, events: Value) -> (String, String) {
    let created =
        app.post("/admin/webhooks", Some(admin), json!({ "url": url, "events": events })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let id = created.json["webhook"]["id"].as_str().expect("as set up").to_owned();
    (id, created.json["secret"].as_str().expect("as set up").to_owned())
}

/// Verifies `Shop-Signature` with the receiver's own HMAC, as a receiver would.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header.strip_prefix("t=").and_then(|rest| rest.split_once(",v1=")) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("as set up");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::decode(v1).is_ok_and(|v1| mac.verify_slice(&v1).is_ok())
}

async fn admins_manage_webhooks_and_secrets_are_shown_once(app: TestApp) {
    let admin = app.admin().await;
    let created = app
        .post("/admin/webhooks", Some(&admin), json!({ "url": "https://93.184.216.34/shop", "events": ["order.placed", "order.status_changed"] }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let secret = created.json["secret"].as_str().expect("as set up");
    assert!(secret.starts_with("whsec_"));
    let webhook = &created.json["webhook"];
    assert!(webhook.get("secret").is_none());
    assert_eq!(webhook["events"], json!(["order.placed", "order.status_changed"]));
    let listed = app.get("/admin/webhooks", Some(&admin)).await;
    assert_eq!(listed.json["webhooks"].as_array().map(Vec::len), Some(1));
    assert!(!listed.json.to_string().contains(secret), "never listed with its secret");

    // Refused URLs (deployed policy): plain http, internal literals, names resolving inside.
    for url in [
        "http://93.184.216.34/",
        "https://127.0.0.1/",
        "https://10.0.0.7/",
        "https://[::1]/",
        "https://169.254.169.254/latest",
        "https://localhost/hook",
        "ftp://93.184.216.34/",
        "https://u:p@93.184.216.34/",
    ] {
        let refused = app
            .post(
                "/admin/webhooks",
                Some(&admin),
                json!({ "url": url, "events": ["order.placed"] }),
            )
            .await;
        refused.assert_invalid("url");
    }
    let bad = app
        .post(
            "/admin/webhooks",
            Some(&admin),
            json!({ "url": "https://93.184.216.34/", "events": ["order.exploded"] }),
        )
        .await;
    bad.assert_invalid("events");
    app.post("/admin/webhooks", Some(&admin), json!({ "events": [] })).await.assert_invalid("url");

    let id = webhook["id"].as_str().expect("as set up");
    let customer = {
        app.register("c@example.com", "a-good-password").await;
        app.login("c@example.com", "a-good-password").await.0
    };
    let (get, delete) = (axum::http::Method::GET, axum::http::Method::DELETE);
    for (method, path) in [
        (get.clone(), "/admin/webhooks".to_owned()),
        (delete, format!("/admin/webhooks/{id}")),
        (get, format!("/admin/webhooks/{id}/deliveries")),
    ] {
        let reply = app.call(method.clone(), &path, Some(&customer), None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let forbidden = app
        .post(
            "/admin/webhooks",
            Some(&customer),
            json!({ "url": "https://93.184.216.34/", "events": ["order.placed"] }),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let log = app.get(&format!("/admin/webhooks/{id}/deliveries"), Some(&admin)).await;
    assert_eq!((log.status, log.json["deliveries"].clone()), (StatusCode::OK, json!([])));
    assert_eq!(
        app.delete(&format!("/admin/webhooks/{id}"), Some(&admin)).await.status,
        StatusCode::OK
    );
    for path in [format!("/admin/webhooks/{id}"), "/admin/webhooks/not-an-id".to_owned()] {
        assert_eq!(
            app.delete(&path, Some(&admin)).await.outcome(),
            (StatusCode::NOT_FOUND, "webhook_not_found")
        );
    }
    let gone = app.get(&format!("/admin/webhooks/{id}/deliveries"), Some(&admin)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/admin/webhooks", Some(&admin)).await.json["webhooks"], json!([]));
}

/// The app's last published event (the test app records what it publishes).
fn last_event(app: &TestApp) -> OrderEvent {
    app.events.recorded().last().cloned().expect("an event was published")
}

async fn a_delivery_fails_then_succeeds_signed_once_and_logged(app: TestApp) {
    let app = loopback(&app);
    let admin = app.admin().await;
    let receiver = Receiver::start(&[500]).await;
    let (id, secret) = subscribe(&app, &admin, &receiver.url, json!(["order.placed"])).await;
    let other = Receiver::start(&[]).await;
    subscribe(&app, &admin, &other.url, json!(["order.status_changed"])).await;
    let placed = e2e::place_order(&app, "hook@example.com", "Mug", "HOOK-1", "9.50", 2).await;
    let event = last_event(&app);

    let sender = HttpSender::new(UrlPolicy::AllowLoopback).expect("as set up");
    // Base 0: a failed attempt is due again at once (the backoff itself is tested below).
    let worker = WebhookWorker::new(app.store.as_ref(), &sender, 0);
    let first = worker.deliver_event(&event).await.expect("as set up");
    assert_eq!((first.delivered, first.failed_attempts, first.retry_in), (0, 1, Some(1)));
    let second = worker.deliver_event(&event).await.expect("as set up");
    assert_eq!((second.delivered, second.failed_attempts, second.retry_in), (1, 0, None));
    let again = worker.deliver_event(&event).await.expect("as set up");
    assert_eq!(again, Default::default(), "delivered once: nothing more is sent");

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert!(other.received().is_empty(), "not subscribed to order.placed");
    for request in &received {
        let header =
            |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(header("shop-event-id"), event.id.to_string());
        assert_eq!(header("content-type"), "application/json");
        assert!(
            verify(&secret, header("shop-signature"), &request.body),
            "{}",
            header("shop-signature")
        );
        assert!(!verify("whsec_wrong", header("shop-signature"), &request.body));
        let body: Value = serde_json::from_slice(&request.body).expect("as set up");
        assert_eq!(
            (body["id"].as_str(), body["type"].as_str()),
            (Some(event.id.to_string().as_str()), Some("order.placed"))
        );
        assert_eq!(body["data"]["order"]["id"], placed.order["id"]);
        assert_eq!(body["data"]["order"]["final_amount"], "19.00");
        assert!(body["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    let log = app.get(&format!("/admin/webhooks/{id}/deliveries"), Some(&admin)).await;
    let deliveries = log.json["deliveries"].as_array().cloned().unwrap_or_default();
    assert_eq!(deliveries.len(), 1, "{:?}", log.json);
    let delivery = &deliveries[0];
    assert_eq!(delivery["event_id"], event.id.to_string());
    assert_eq!(delivery["event_type"], "order.placed");
    assert_eq!(
        (delivery["attempts"].as_u64(), delivery["last_status"].as_u64()),
        (Some(2), Some(200))
    );
    assert_eq!(delivery["state"], "delivered");
    assert!(delivery["delivered_at"].is_string() && delivery["next_attempt_at"].is_null());

    // A status change goes to the other webhook only, with the previous status.
    app.set_status(&admin, placed.order["id"].as_str().expect("as set up"), "Shipped").await;
    let changed = last_event(&app);
    assert_eq!(worker.deliver_event(&changed).await.expect("as set up").delivered, 1);
    let body: Value = serde_json::from_slice(&other.received()[0].body).expect("as set up");
    assert_eq!(
        (body["type"].as_str(), body["data"]["previous_status"].as_str()),
        (Some("order.status_changed"), Some("Pending"))
    );
    assert_eq!(body["data"]["order"]["status"], "Shipped");
    assert_eq!(receiver.received().len(), 2);
}

async fn retries_back_off_and_the_last_failure_gives_up(app: TestApp) {
    let app = loopback(&app);
    let admin = app.admin().await;
    let never = Receiver::start(&[503; 10]).await;
    let (id, _) = subscribe(&app, &admin, &never.url, json!(["order.placed"])).await;
    e2e::place_order(&app, "never@example.com", "Mug", "HOOK-2", "1.00", 1).await;
    let event = last_event(&app);
    let sender = HttpSender::new(UrlPolicy::AllowLoopback).expect("as set up");

    // Base 10 s: after one failure the next attempt is 10 s away, and nothing is sent before.
    // The worker's clock is the test's: time passes when the test advances it.
    let clock = ManualClock::starting_now();
    let patient = WebhookWorker::new(app.store.as_ref(), &sender, 10).with_clock(&clock);
    assert_eq!(patient.deliver_event(&event).await.expect("as set up").retry_in, Some(10));
    assert_eq!(patient.deliver_event(&event).await.expect("as set up").retry_in, Some(10));
    clock.advance(4);
    assert_eq!(patient.deliver_event(&event).await.expect("as set up").retry_in, Some(6));
    assert_eq!(never.received().len(), 1);
    let log = app.get(&format!("/admin/webhooks/{id}/deliveries"), Some(&admin)).await;
    let record = &log.json["deliveries"][0];
    assert_eq!(
        (record["state"].as_str(), record["last_status"].as_u64()),
        (Some("retrying"), Some(503))
    );
    assert!(record["next_attempt_at"].is_string());

    // Due: the second attempt goes out, and the next is twice as far.
    clock.advance(6);
    assert_eq!(patient.deliver_event(&event).await.expect("as set up").retry_in, Some(20));
    assert_eq!(never.received().len(), 2);

    // Six attempts in all, then failed for good.
    let eager = WebhookWorker::new(app.store.as_ref(), &sender, 0);
    // The record says the retry is due in 20 s; an eager worker still waits for it...
    assert_eq!(eager.deliver_event(&event).await.expect("as set up").failed_attempts, 0);
    // ...so this one comes from a fresh event of a new order.
    e2e::place_order(&app, "never2@example.com", "Cup", "HOOK-3", "1.00", 1).await;
    let fresh = last_event(&app);
    let mut given_up = 0;
    for attempt in 1..=6 {
        let report = eager.deliver_event(&fresh).await.expect("as set up");
        assert_eq!(report.failed_attempts, 1, "attempt {attempt}");
        given_up += report.given_up;
    }
    assert_eq!(given_up, 1);
    assert_eq!(eager.deliver_event(&fresh).await.expect("as set up"), Default::default());
    assert_eq!(never.received().len(), 8);
    let log = app.get(&format!("/admin/webhooks/{id}/deliveries"), Some(&admin)).await;
    let newest = &log.json["deliveries"][0];
    assert_eq!(newest["event_id"], fresh.id.to_string());
    assert_eq!((newest["state"].as_str(), newest["attempts"].as_u64()), (Some("failed"), Some(6)));
    assert!(newest["next_attempt_at"].is_null());
}

async fn one_events_webhooks_are_called_at_the_same_time(app: TestApp) {
    let app = loopback(&app);
    let admin = app.admin().await;
    // Each receiver answers 200 only once both have a request in hand (503 after waiting 3 s
    // alone): called one after the other, neither would be delivered.
    let gate = Gate::new(2);
    let (first, second) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    for receiver in [&first, &second] {
        receiver.meet(&gate);
        subscribe(&app, &admin, &receiver.url, json!(["order.placed"])).await;
    }
    e2e::place_order(&app, "both@example.com", "Mug", "HOOK-4", "2.00", 1).await;
    let sender = HttpSender::new(UrlPolicy::AllowLoopback).expect("as set up");
    let worker = WebhookWorker::new(app.store.as_ref(), &sender, 1);
    let report = worker.deliver_event(&last_event(&app)).await.expect("as set up");
    assert_eq!((report.delivered, report.failed_attempts), (2, 0), "{report:?}");
    assert_eq!((first.received().len(), second.received().len()), (1, 1));
}

async fn a_shop_keeps_at_most_sixteen_webhooks_even_when_created_at_once(app: TestApp) {
    let admin = app.admin().await;
    let body = json!({ "url": "https://93.184.216.34/shop", "events": ["order.placed"] });
    let mut creations = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (app, admin, body) = (app.clone(), admin.clone(), body.clone());
        creations.spawn(async move { app.post("/admin/webhooks", Some(&admin), body).await });
    }
    let replies = creations.join_all().await;
    let (created, refused): (Vec<_>, Vec<_>) =
        replies.iter().partition(|reply| reply.status == StatusCode::CREATED);
    assert_eq!((created.len(), refused.len()), (16, 4));
    for reply in refused {
        reply.assert_invalid("webhooks");
    }
    let listed = app.get("/admin/webhooks", Some(&admin)).await.json["webhooks"].clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(16));
    let audit = app.get("/admin/audit?action=webhook.created&limit=100", Some(&admin)).await;
    assert_eq!(audit.json["entries"].as_array().map(Vec::len), Some(16), "refusals leave none");

    // Deleting one makes room for one.
    let id = listed[0]["id"].as_str().expect("as set up");
    let deleted = app.delete(&format!("/admin/webhooks/{id}"), Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.json);
    let again = app.post("/admin/webhooks", Some(&admin), body.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.json);
    app.post("/admin/webhooks", Some(&admin), body).await.assert_invalid("webhooks");
    // Deleting an unknown one moves nothing.
    let unknown = format!("/admin/webhooks/{}", ulid::Ulid::new());
    assert_eq!(app.delete(&unknown, Some(&admin)).await.status, StatusCode::NOT_FOUND);
    let id = listed[1]["id"].as_str().expect("as set up");
    app.delete(&format!("/admin/webhooks/{id}"), Some(&admin)).await;
    let last = app
        .post(
            "/admin/webhooks",
            Some(&admin),
            json!({ "url": "https://93.184.216.34/x", "events": ["order.placed"] }),
        )
        .await;
    assert_eq!(last.status, StatusCode::CREATED, "{:?}", last.json);
    let full = app
        .post(
            "/admin/webhooks",
            Some(&admin),
            json!({ "url": "https://93.184.216.34/y", "events": ["order.placed"] }),
        )
        .await;
    full.assert_invalid("webhooks");
}

both_stores!(
    a_shop_keeps_at_most_sixteen_webhooks_even_when_created_at_once,
    one_events_webhooks_are_called_at_the_same_time,
    admins_manage_webhooks_and_secrets_are_shown_once,
    a_delivery_fails_then_succeeds_signed_once_and_logged,
    retries_back_off_and_the_last_failure_gives_up,
);

#[tokio::test]
async fn the_deployed_client_never_reaches_internal_addresses() {
    let receiver = Receiver::start(&[]).await;
    let strict = HttpSender::new(UrlPolicy::PublicHttps).expect("as set up");
    let port = receiver.port;
    for url in [
        format!("https://localhost:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
        "https://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        let result = strict.post(&url, &[], b"{}").await;
        assert!(
            matches!(&result, AttemptResult::NoAnswer(why) if why.starts_with("refused")),
            "{url}: {result:?}"
        );
    }
    assert!(receiver.received().is_empty(), "nothing reached the receiver");
    // The same receiver is reachable under the local policy.
    let local = HttpSender::new(UrlPolicy::AllowLoopback).expect("as set up");
    assert_eq!(local.post(&receiver.url, &[], b"{}").await, AttemptResult::Answered(200));
    let by_name = format!("http://localhost:{port}/hook");
    assert_eq!(local.post(&by_name, &[], b"{}").await, AttemptResult::Answered(200));
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_is_a_timeout() {
    // Deployed, a receiver gets five seconds.
    let deployed = HttpSender::new(UrlPolicy::PublicHttps).expect("as set up");
    assert_eq!(deployed.timeout(), Duration::from_secs(5));
    // The same client with a short timeout, so the test waits a fraction of a second.
    let receiver = Receiver::start(&[]).await;
    receiver.slow(Duration::from_secs(3));
    let timeout = Duration::from_millis(300);
    let sender = HttpSender::with_timeout(UrlPolicy::AllowLoopback, timeout).expect("as set up");
    let started = std::time::Instant::now();
    let result = sender.post(&receiver.url, &[], b"{}").await;
    assert_eq!(result, AttemptResult::NoAnswer("timed out after 300 ms".into()));
    assert!(started.elapsed() < Duration::from_secs(3), "gave up before the answer");
}
