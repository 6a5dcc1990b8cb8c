//! A shop taking payments, for the payment suites: the composed API and the local
//! Stripe-compatible provider on one real loopback port (the shop's adapter reaches the
//! provider over HTTP, and the provider sends its signed events to the shop over HTTP), over
//! either store. The scheduled jobs are not started: tests run them with the time they want.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::{Value, json};
use shared::{
    AppState,
    domain::{Branding, Timestamp, UrlPolicy},
    notify::RecordingQueue,
    webhooks::HttpSender,
};

use crate::{Backend, Reply, TestApp, store, token_config};

/// The webhook signing secret of every test shop.
pub const WEBHOOK_SECRET: &str = "whsec_test_secret_for_payment_suites";
/// The provider's API key the tests use.
pub const PROVIDER_KEY: &str = "sk_test_local";
/// How long unpaid orders hold their stock in the test shops.
pub const HOLD_SECONDS: i64 = 600;

/// A shop taking payments.
pub struct PayingShop {
    /// The API (in-process calls; the same router serves the port).
    pub app: TestApp,
    /// Its state, to run the scheduled jobs.
    pub state: AppState,
}

impl PayingShop {
    /// The shop over a new store of `backend`, with `settings` (`PAYMENT_CAPTURE`, …) on top
    /// of the test defaults.
    pub async fn start(backend: Backend, settings: &[(&str, &str)]) -> Self {
        Self::over(store(backend).await, backend, settings).await
    }

    /// The shop over a store built by the caller.
    pub async fn over(
        store: Arc<dyn shared::store::Store>,
        backend: Backend,
        settings: &[(&str, &str)],
    ) -> Self {
        let events = Arc::new(RecordingQueue::default());
        let sender = HttpSender::new(UrlPolicy::AllowLoopback).expect("client");
        let provider = local::stripe::LocalStripe::new(Arc::new(sender));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let hold = HOLD_SECONDS.to_string();
        let mut env: Vec<(&str, &str)> =
            vec![("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET), ("PAYMENT_HOLD_SECONDS", &hold)];
        env.extend_from_slice(settings);
        let lookup =
            |name: &str| env.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned());
        let state =
            AppState::new(Arc::clone(&store), token_config()).with_events(Arc::clone(&events) as _);
        let state = local::payments::with_local_payments(
            state,
            &provider,
            address,
            &lookup,
            &Branding::default(),
        )
        .expect("payments configured");
        let router = local::app_with(state.clone(), Some(provider));
        let served = router.clone();
        tokio::spawn(async move { axum::serve(listener, served).await });
        let app = TestApp { router, store, backend, events };
        Self { app, state }
    }

    /// A form POST to the provider (`/provider/stripe…`) with the test key.
    pub async fn provider(&self, path: &str, form: &str) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{path}", local::stripe::PREFIX))
            .header(header::AUTHORIZATION, format!("Bearer {PROVIDER_KEY}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .expect("request");
        self.app.send(request).await
    }

    /// The buyer pays the order: `POST /orders/{id}/pay`, then confirms the intent at the
    /// provider with `payment_method`; returns the intent id and the confirmation's reply.
    pub async fn pay_with(
        &self,
        buyer: &str,
        order: &str,
        payment_method: &str,
    ) -> (String, Reply) {
        let paying = self.app.post(&format!("/orders/{order}/pay"), Some(buyer), json!({})).await;
        assert_eq!(paying.status, StatusCode::OK, "{:?}", paying.json);
        let intent = paying.json["payment_intent_id"].as_str().expect("intent").to_owned();
        let path = format!("/v1/payment_intents/{intent}/confirm");
        let confirmed = self.provider(&path, &format!("payment_method={payment_method}")).await;
        (intent, confirmed)
    }

    /// The order (as an admin sees it).
    pub async fn order(&self, admin: &str, order: &str) -> Value {
        let reply = self.app.get(&format!("/orders/{order}"), Some(admin)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        reply.json["order"].clone()
    }

    /// Waits (at most 10 s) until `check` holds for the order: events arrive over HTTP, in
    /// their own time.
    pub async fn until(&self, admin: &str, order: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let current = self.order(admin, order).await;
            if check(&current) {
                return current;
            }
            assert!(tokio::time::Instant::now() < deadline, "order never got there: {current}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Posts `event` to the shop's webhook route, signed with `secret` at `timestamp`.
    pub async fn send_event(&self, event: &Value, secret: &str, timestamp: i64) -> Reply {
        let payload = event.to_string();
        let signature = shared::payments::signature::sign(secret, timestamp, payload.as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri("/payments/stripe/webhook")
            .header("stripe-signature", signature)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(payload))
            .expect("request");
        self.app.send(request).await
    }

    /// Runs the scheduled jobs as of `now`.
    pub async fn run_jobs(&self, now: Timestamp) -> shared::orders::Reconciled {
        self.state.orders().reconcile(now).await.expect("jobs ran")
    }
}

/// A provider event about an order's intent, as Stripe sends it.
pub fn intent_event(id: &str, kind: &str, order: &str, intent: &str, fields: Value) -> Value {
    let mut object = json!({
        "id": intent, "object": "payment_intent", "amount": 0, "currency": "eur",
        "status": "requires_payment_method", "metadata": { "order_id": order },
    });
    if let (Some(object), Some(fields)) = (object.as_object_mut(), fields.as_object()) {
        object.extend(fields.clone());
    }
    json!({ "id": id, "object": "event", "type": kind, "data": { "object": object } })
}
