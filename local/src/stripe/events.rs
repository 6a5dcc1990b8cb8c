//! Events sent to webhook endpoints, signed as Stripe signs them (`Stripe-Signature:
//! t=…,v1=…` under the endpoint's `whsec_…` secret), each retried after 1, 2, 4 and 8 s while
//! the endpoint does not answer 2xx. Test switches make the next events arrive twice, late
//! (so later ones overtake them), or never.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use shared::{domain::AttemptResult, payments::signature, webhooks::WebhookSender};

use super::{Books, new_id, now};

/// Attempts per event and endpoint.
const ATTEMPTS: u32 = 5;

/// A webhook endpoint (`POST /v1/webhook_endpoints`).
#[derive(Debug, Clone)]
pub(super) struct Endpoint {
    pub(super) id: String,
    pub(super) url: String,
    pub(super) secret: String,
    pub(super) enabled_events: Vec<String>,
}

impl Endpoint {
    /// A new endpoint with a new secret.
    pub(super) fn new(url: String, enabled_events: Vec<String>) -> Self {
        Self::with_secret(url, enabled_events, new_id("whsec"))
    }

    /// An endpoint signing with a secret chosen by its owner.
    pub(super) fn with_secret(url: String, enabled_events: Vec<String>, secret: String) -> Self {
        Self { id: new_id("we"), url, secret, enabled_events }
    }

    /// The JSON object; the secret only when it is created, as Stripe answers.
    pub(super) fn to_json(&self, with_secret: bool) -> Value {
        let mut object = json!({
            "id": self.id, "object": "webhook_endpoint", "url": self.url,
            "enabled_events": self.enabled_events, "status": "enabled", "livemode": false,
            "api_version": shared::payments::API_VERSION, "created": now(), "metadata": {},
        });
        if with_secret {
            object["secret"] = json!(self.secret);
        }
        object
    }

    fn wants(&self, kind: &str) -> bool {
        self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }
}

/// What the next events suffer (`POST /test/webhooks`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Switches {
    /// The next N events are never sent.
    pub(super) drop_next: u32,
    /// The next N events are sent twice.
    pub(super) duplicate_next: u32,
    /// The next N events are sent `delay_ms` late.
    pub(super) delay_next: u32,
    /// How late.
    pub(super) delay_ms: u64,
}

/// One event to one endpoint.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    url: String,
    secret: String,
    body: Vec<u8>,
    delay: Duration,
    copies: u32,
}

/// The deliveries an event causes, after the switches (which it consumes).
pub(super) fn plan(books: &mut Books, event: &Value) -> Vec<Delivery> {
    let kind = event["type"].as_str().unwrap_or_default();
    let targets: Vec<Endpoint> =
        books.endpoints.values().filter(|e| e.wants(kind)).cloned().collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let switches = &mut books.switches;
    if switches.drop_next > 0 {
        switches.drop_next -= 1;
        return Vec::new();
    }
    let copies = if switches.duplicate_next > 0 {
        switches.duplicate_next -= 1;
        2
    } else {
        1
    };
    let delay = if switches.delay_next > 0 {
        switches.delay_next -= 1;
        Duration::from_millis(switches.delay_ms)
    } else {
        Duration::ZERO
    };
    let body = event.to_string().into_bytes();
    targets
        .into_iter()
        .map(|e| Delivery { url: e.url, secret: e.secret, body: body.clone(), delay, copies })
        .collect()
}

/// Sends `delivery` in the background: each copy signed at its attempt, retried while the
/// endpoint does not answer 2xx.
pub(super) fn send(sender: Arc<dyn WebhookSender>, delivery: Delivery) {
    tokio::spawn(async move {
        tokio::time::sleep(delivery.delay).await;
        for _ in 0..delivery.copies {
            deliver(sender.as_ref(), &delivery).await;
        }
    });
}

async fn deliver(sender: &dyn WebhookSender, delivery: &Delivery) {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        let header = signature::sign(&delivery.secret, now(), &delivery.body);
        let headers = [
            ("content-type", "application/json; charset=utf-8".to_owned()),
            ("stripe-signature", header),
            ("user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)".to_owned()),
        ];
        match sender.post(&delivery.url, &headers, &delivery.body).await {
            AttemptResult::Answered(status) if (200..300).contains(&status) => return,
            outcome => {
                tracing::info!(url = %delivery.url, attempt, ?outcome, "payment event not accepted");
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    tracing::warn!(url = %delivery.url, "payment event given up after {ATTEMPTS} attempts");
}
