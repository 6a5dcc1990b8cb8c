//! The Stripe adapter (`shared::payments::stripe::StripeClient`) against the local
//! Stripe-compatible provider over real HTTP: intents through every test payment method,
//! manual and partial capture, refunds never beyond what was captured, cancellation, Stripe's
//! error objects, idempotency keys (replayed, refused with other parameters), and a call
//! applied by the provider whose answer was lost, made again under its key.

use serde_json::Value;
use shared::{
    domain::{Currency, ProviderState},
    payments::{
        CaptureMethod, IntentStatus, NewIntent, PaymentProvider, ProviderError,
        stripe::StripeClient,
    },
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "sk_test_local";

/// The provider on a free loopback port; returns its base URL (the adapter's `STRIPE_API_BASE`).
async fn provider() -> String {
    let sender = shared::webhooks::HttpSender::new(shared::domain::UrlPolicy::AllowLoopback);
    let provider = local::stripe::LocalStripe::new(std::sync::Arc::new(sender.expect("client")));
    let app = axum::Router::new().nest(local::stripe::PREFIX, provider.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}{}", local::stripe::PREFIX)
}

/// A raw HTTP/1.0 request to the provider: (status, JSON body).
async fn raw(base: &str, method: &str, path: &str, form: &str) -> (u16, Value) {
    let rest = base.trim_start_matches("http://");
    let (host, prefix) = rest.split_once('/').expect("prefix");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!(
        "{method} /{prefix}{path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP answer");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, serde_json::from_str(body).expect("JSON"))
}

fn intent(amount: i64, capture: CaptureMethod) -> NewIntent {
    let currency: Currency = "eur".parse().expect("eur");
    NewIntent { amount, currency, capture, order_id: "01ORDER".into() }
}

fn refused_code(error: ProviderError) -> String {
    match error {
        ProviderError::Refused { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn intents_move_as_stripe_moves_them_through_each_test_card() {
    let base = provider().await;
    let stripe = StripeClient::new(&base, KEY).expect("client");
    let created = stripe
        .create_intent(&intent(3150, CaptureMethod::Automatic), "o1-create")
        .await
        .expect("created");
    assert_eq!(created.status, IntentStatus::RequiresPaymentMethod);
    assert!(
        created
            .client_secret
            .as_deref()
            .is_some_and(|s| s.starts_with(&format!("{}_secret_", created.id)))
    );
    assert_eq!((created.amount, created.currency.as_str()), (3150, "eur"));
    // The same key and parameters: the same intent; other parameters: refused.
    let again = stripe
        .create_intent(&intent(3150, CaptureMethod::Automatic), "o1-create")
        .await
        .expect("replayed");
    assert_eq!(again.id, created.id);
    let reused = stripe.create_intent(&intent(999, CaptureMethod::Automatic), "o1-create").await;
    assert!(matches!(reused, Err(ProviderError::KeyReused)), "{reused:?}");

    // Declined: a card error, and the intent waits for another payment method.
    let declined = stripe.confirm_intent(&created.id, "pm_card_chargeDeclined", "o1-c1").await;
    match declined {
        Err(ProviderError::Declined { code, decline_code }) => {
            assert_eq!(
                (code.as_str(), decline_code.as_deref()),
                ("card_declined", Some("generic_decline"))
            );
        }
        other => panic!("expected a decline, got {other:?}"),
    }
    let after = stripe.retrieve_intent(&created.id).await.expect("read");
    assert_eq!(after.state(0), ProviderState::RequiresPayment { failed: true });
    let broke = stripe
        .confirm_intent(&created.id, "pm_card_visa_chargeDeclinedInsufficientFunds", "o1-c2")
        .await;
    assert!(
        matches!(broke, Err(ProviderError::Declined { decline_code: Some(ref d), .. }) if d == "insufficient_funds"),
        "{broke:?}"
    );
    // 3-D Secure, then a good card pays.
    let action = stripe
        .confirm_intent(&created.id, "pm_card_authenticationRequired", "o1-c3")
        .await
        .expect("action");
    assert_eq!(action.state(0), ProviderState::RequiresAction);
    let paid = stripe.confirm_intent(&created.id, "pm_card_visa", "o1-c4").await.expect("paid");
    assert_eq!(paid.state(0), ProviderState::Captured { received: 3150, refunded: 0 });
    let unknown = stripe.confirm_intent(&created.id, "pm_card_visa", "o1-c5").await;
    assert_eq!(refused_code(unknown.expect_err("paid already")), "payment_intent_unexpected_state");

    let events = raw(&base, "GET", "/v1/events", "").await.1;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "payment_intent.succeeded",
            "payment_intent.requires_action",
            "payment_intent.payment_failed",
            "payment_intent.payment_failed",
            "payment_intent.created"
        ]
    );
}

#[tokio::test]
async fn manual_capture_may_be_partial_and_refunds_never_exceed_it() {
    let base = provider().await;
    let stripe = StripeClient::new(&base, KEY).expect("client");
    let held = stripe
        .create_intent(&intent(1000, CaptureMethod::Manual), "o2-create")
        .await
        .expect("created");
    let held = stripe.confirm_intent(&held.id, "pm_card_visa", "o2-confirm").await.expect("held");
    assert_eq!(held.state(0), ProviderState::Authorized { capturable: 1000 });
    let too_much = stripe.capture_intent(&held.id, Some(1001), "o2-cap-x").await;
    assert_eq!(refused_code(too_much.expect_err("beyond")), "amount_too_large");
    let captured = stripe.capture_intent(&held.id, Some(600), "o2-cap").await.expect("captured");
    assert_eq!(captured.state(0), ProviderState::Captured { received: 600, refunded: 0 });
    let twice = stripe.capture_intent(&held.id, None, "o2-cap-2").await;
    assert_eq!(refused_code(twice.expect_err("captured")), "payment_intent_unexpected_state");

    let first = stripe.refund(&held.id, 200, "o2-r1").await.expect("refund");
    assert_eq!((first.amount, first.status.as_str()), (200, "succeeded"));
    assert!(first.id.starts_with("re_"));
    // The same key replays the refund: nothing more is refunded.
    assert_eq!(stripe.refund(&held.id, 200, "o2-r1").await.expect("replay").id, first.id);
    let beyond = stripe.refund(&held.id, 401, "o2-r2").await;
    assert_eq!(refused_code(beyond.expect_err("beyond")), "amount_too_large");
    stripe.refund(&held.id, 400, "o2-r3").await.expect("the rest");
    let done = stripe.refund(&held.id, 1, "o2-r4").await;
    assert_eq!(refused_code(done.expect_err("all refunded")), "charge_already_refunded");
    let (_, events) = raw(&base, "GET", "/v1/events", "").await;
    let refunded = &events["data"][0];
    assert_eq!(refunded["type"], "charge.refunded");
    assert_eq!(refunded["data"]["object"]["amount_refunded"], 600);
    assert_eq!(refunded["data"]["object"]["refunded"], true);
}

#[tokio::test]
async fn cancellation_and_refusals_use_stripes_errors() {
    let base = provider().await;
    let stripe = StripeClient::new(&base, KEY).expect("client");
    let open = stripe
        .create_intent(&intent(500, CaptureMethod::Automatic), "o3-create")
        .await
        .expect("created");
    let canceled = stripe.cancel_intent(&open.id, "o3-cancel").await.expect("canceled");
    assert_eq!(canceled.state(0), ProviderState::Canceled);
    let pay = stripe.confirm_intent(&open.id, "pm_card_visa", "o3-confirm").await;
    assert_eq!(refused_code(pay.expect_err("canceled")), "payment_intent_unexpected_state");
    let refund = stripe.refund(&open.id, 100, "o3-refund").await;
    assert_eq!(refused_code(refund.expect_err("unpaid")), "charge_not_refundable");
    let missing = stripe.retrieve_intent("pi_missing").await;
    assert_eq!(refused_code(missing.expect_err("missing")), "resource_missing");
    let bad_key =
        StripeClient::new(&base, "sk_live_nope").expect("client").retrieve_intent(&open.id).await;
    assert!(matches!(bad_key, Err(ProviderError::Unexpected(_))), "{bad_key:?}");
    // Unknown parameters are refused as Stripe refuses them.
    let (status, body) =
        raw(&base, "POST", "/v1/payment_intents", "amount=100&currency=eur&colour=red").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_unknown")));
    let (status, body) = raw(&base, "POST", "/v1/payment_intents", "currency=eur").await;
    assert_eq!((status, body["error"]["param"].as_str()), (400, Some("amount")));
}

#[tokio::test]
async fn a_call_applied_whose_answer_was_lost_is_made_again_under_its_key() {
    let base = provider().await;
    let stripe = StripeClient::new(&base, KEY).expect("client");
    let (status, _) = raw(&base, "POST", "/test/faults", "fail_after_commit=1").await;
    assert_eq!(status, 200);
    let lost = stripe.create_intent(&intent(700, CaptureMethod::Automatic), "o4-create").await;
    assert!(matches!(lost, Err(ProviderError::Unavailable(_))), "{lost:?}");
    let found = stripe
        .create_intent(&intent(700, CaptureMethod::Automatic), "o4-create")
        .await
        .expect("replayed");
    let (_, events) = raw(&base, "GET", "/v1/events", "").await;
    let created: Vec<&Value> = events["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| e["type"] == "payment_intent.created")
        .collect();
    assert_eq!(created.len(), 1, "created once: {created:?}");
    assert_eq!(created[0]["data"]["object"]["id"].as_str(), Some(found.id.as_str()));
}

/// Waits until `receiver` holds `count` requests (at most 10 s).
async fn received(
    receiver: &e2e::receiver::Receiver,
    count: usize,
) -> Vec<e2e::receiver::Received> {
    for _ in 0..200 {
        if receiver.received().len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    receiver.received()
}

/// (event type, intent id) of a received event, after checking its signature as the shop's
/// webhook route will (`shared::payments::signature`).
fn verified(request: &e2e::receiver::Received, secret: &str) -> (String, String) {
    let header = request.headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let now = shared::domain::Timestamp::now().unix();
    let checked = shared::payments::signature::verify(
        header.unwrap_or_default(),
        &request.body,
        secret,
        now,
        300,
    );
    assert_eq!(checked, Ok(()), "{header:?}");
    let wrong = shared::payments::signature::verify(
        header.unwrap_or_default(),
        &request.body,
        "whsec_other",
        now,
        300,
    );
    assert!(wrong.is_err());
    let event: Value = serde_json::from_slice(&request.body).expect("JSON");
    let intent = event["data"]["object"]["id"].as_str().unwrap_or_default().to_owned();
    (event["type"].as_str().unwrap_or_default().to_owned(), intent)
}

#[tokio::test]
async fn events_reach_endpoints_signed_and_the_switches_drop_repeat_and_delay_them() {
    let base = provider().await;
    let stripe = StripeClient::new(&base, KEY).expect("client");
    let receiver = e2e::receiver::Receiver::start(&[503]).await;
    let form = format!(
        "url={}&enabled_events[0]=payment_intent.succeeded&enabled_events[1]=payment_intent.canceled",
        receiver.url
    );
    let (status, endpoint) = raw(&base, "POST", "/v1/webhook_endpoints", &form).await;
    assert_eq!(status, 200, "{endpoint}");
    let secret = endpoint["secret"].as_str().expect("whsec").to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, listed) = raw(&base, "GET", "/v1/webhook_endpoints", "").await;
    assert!(listed["data"][0].get("secret").is_none(), "the secret is shown once");

    // Paid: one signed `payment_intent.succeeded` (the first attempt answered 503, retried);
    // `payment_intent.created` is not subscribed.
    let paid =
        stripe.create_intent(&intent(100, CaptureMethod::Automatic), "e1").await.expect("created");
    stripe.confirm_intent(&paid.id, "pm_card_visa", "e1-pay").await.expect("paid");
    let got = received(&receiver, 2).await;
    assert_eq!(got.len(), 2, "the 503, then the retry");
    assert_eq!(
        verified(&got[1], &secret),
        ("payment_intent.succeeded".to_owned(), paid.id.clone())
    );

    // Dropped, then duplicated, then delayed (overtaken by the next one).
    raw(&base, "POST", "/test/webhooks", "drop_next=1&duplicate_next=0").await;
    let lost =
        stripe.create_intent(&intent(100, CaptureMethod::Automatic), "e2").await.expect("created");
    stripe.cancel_intent(&lost.id, "e2-cancel").await.expect("canceled");
    raw(&base, "POST", "/test/webhooks", "duplicate_next=1").await;
    let twice =
        stripe.create_intent(&intent(100, CaptureMethod::Automatic), "e3").await.expect("created");
    stripe.cancel_intent(&twice.id, "e3-cancel").await.expect("canceled");
    raw(&base, "POST", "/test/webhooks", "delay_next=1&delay_ms=700").await;
    let late =
        stripe.create_intent(&intent(100, CaptureMethod::Automatic), "e4").await.expect("created");
    stripe.cancel_intent(&late.id, "e4-cancel").await.expect("canceled");
    let early =
        stripe.create_intent(&intent(100, CaptureMethod::Automatic), "e5").await.expect("created");
    stripe.cancel_intent(&early.id, "e5-cancel").await.expect("canceled");
    let got = received(&receiver, 6).await;
    let intents: Vec<String> = got[2..].iter().map(|r| verified(r, &secret).1).collect();
    let count = |id: &String| intents.iter().filter(|i| *i == id).count();
    assert_eq!((count(&twice.id), count(&early.id), count(&late.id)), (2, 1, 1), "{intents:?}");
    assert_eq!(intents.last(), Some(&late.id), "the late event is overtaken");
    assert_eq!(count(&lost.id), 0, "the dropped event never arrives");
}
