//! A Stripe-compatible payment provider in the local server, under `/provider/stripe`: the
//! subset of Stripe's API the shop's adapter uses, on Stripe's wire format, so Stripe's own
//! client libraries work against it unchanged (base URL `http://127.0.0.1:3000/provider/stripe`,
//! any `sk_test_…` key).
//!
//! - `POST /v1/payment_intents`, `GET /v1/payment_intents/{id}`, `POST …/{id}/confirm`,
//!   `…/{id}/capture` (partial allowed), `…/{id}/cancel`; `POST /v1/refunds`,
//!   `GET /v1/refunds/{id}`; `GET /v1/events` (newest first).
//! - Form-encoded parameters (`metadata[order_id]=…`), unknown ones refused as Stripe does;
//!   Stripe's error object and statuses (400, 401, 402, 404).
//! - `Idempotency-Key` on POSTs: the same key and parameters replay the first answer
//!   (`Idempotent-Replayed: true`), other parameters are a 400 `idempotency_error`.
//! - Test payment methods `pm_card_visa`, `pm_card_chargeDeclined`,
//!   `pm_card_visa_chargeDeclinedInsufficientFunds`, `pm_card_authenticationRequired`
//!   (`requires_action`; `POST /test/payment_intents/{id}/authenticate` with `result=success`
//!   or `failure` plays the customer).
//! - `POST /test/faults` with `fail_after_commit=N`: the next N POSTs are applied and then
//!   answered 500, as a provider that committed and lost its answer.
//! - `POST /v1/webhook_endpoints` (`url`, `enabled_events[]`, `*` for all; the answer holds
//!   the `whsec_…` secret), `GET /v1/webhook_endpoints`, `DELETE /v1/webhook_endpoints/{id}`:
//!   every event is sent, signed, to the endpoints that want it (`events.rs`).
//!   `POST /test/webhooks` with `drop_next`, `duplicate_next`, `delay_next` and `delay_ms`
//!   makes the next events arrive never, twice, or late.
//!
//! State is in memory, for the life of the process.

mod endpoints;
mod events;
mod objects;
mod routes;
mod wire;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard},
};

use serde_json::Value;
use shared::webhooks::WebhookSender;

use events::{Delivery, Endpoint, Switches};

use objects::Intent;
use objects::StripeError;

/// The prefix the local server serves the provider under.
pub const PREFIX: &str = "/provider/stripe";

/// A saved answer of an idempotent request.
#[derive(Debug, Clone)]
struct Saved {
    fingerprint: String,
    status: u16,
    body: Value,
}

/// The provider's state.
#[derive(Debug, Default)]
struct Books {
    intents: HashMap<String, Intent>,
    refunds: HashMap<String, Value>,
    /// Newest last.
    events: Vec<Value>,
    /// (API key, Idempotency-Key) → the first answer.
    idempotent: HashMap<(String, String), Saved>,
    fail_after_commit: u32,
    endpoints: BTreeMap<String, Endpoint>,
    switches: Switches,
    /// Deliveries of the events just recorded, sent once the books are released.
    outgoing: Vec<Delivery>,
}

/// The local provider: cheap to clone, shared by its routes.
#[derive(Clone)]
pub struct LocalStripe {
    books: Arc<Mutex<Books>>,
    /// Sends events to webhook endpoints.
    sender: Arc<dyn WebhookSender>,
}

impl LocalStripe {
    /// A provider with no objects, sending its events through `sender`.
    pub fn new(sender: Arc<dyn WebhookSender>) -> Self {
        Self { books: Arc::default(), sender }
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // A poisoned lock only means a handler panicked mid-update of plain data.
        self.books.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends every event to `url`, signed with `secret` (the shop's own endpoint, registered
    /// in process so the shop knows its signing secret).
    pub fn subscribe(&self, url: String, secret: String) {
        let endpoint = Endpoint::with_secret(url, vec!["*".to_owned()], secret);
        self.books().endpoints.insert(endpoint.id.clone(), endpoint);
    }

    /// Its routes, to nest under [`PREFIX`].
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }
}

/// A new object id: `prefix_` and 24 alphanumerics, as Stripe's.
fn new_id(prefix: &str) -> String {
    use rand::{Rng, distr::Alphanumeric};
    let tail: String = rand::rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    format!("{prefix}_{tail}")
}

fn now() -> i64 {
    shared::domain::Timestamp::now().unix()
}

/// An event of `kind` about `object`, recorded newest last.
fn record_event(books: &mut Books, kind: &str, object: Value, idempotency_key: Option<&str>) {
    let event = serde_json::json!({
        "id": new_id("evt"), "object": "event", "api_version": shared::payments::API_VERSION,
        "created": now(), "data": { "object": object }, "livemode": false,
        "pending_webhooks": 0, "request": { "id": new_id("req"), "idempotency_key": idempotency_key },
        "type": kind,
    });
    let deliveries = events::plan(books, &event);
    books.outgoing.extend(deliveries);
    books.events.push(event);
}
