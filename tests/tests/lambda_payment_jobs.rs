//! The payment-jobs Lambda's sample events (`events/payment-jobs-*.json`) through its
//! handler, on both stores, against the local provider over HTTP: a batch of hold messages
//! (one due, one not yet, one malformed) and the scheduled run.

use std::sync::Mutex;

use axum::http::StatusCode;
use e2e::{
    both_stores,
    payments::{HOLD_SECONDS, PayingShop},
    place_order,
};
use serde_json::{Value, json};
use shared::{
    domain::Timestamp,
    payments::holds::{HoldMessage, HoldTimer},
};

both_stores!(
    a_due_hold_expires_a_later_one_is_announced_again_and_a_bad_one_is_reported,
    the_scheduled_run_reconciles_a_payment_whose_events_were_lost
);

/// Records the holds announced again.
#[derive(Default)]
struct Announced(Mutex<Vec<HoldMessage>>);

#[async_trait::async_trait]
impl HoldTimer for Announced {
    async fn schedule(&self, hold: HoldMessage) -> anyhow::Result<()> {
        self.0.lock().expect("lock").push(hold);
        Ok(())
    }
}

fn event(name: &str, substitutions: &[(&str, &str)]) -> Value {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).expect("sample event");
    for (placeholder, value) in substitutions {
        text = text.replace(&format!("{{{{{placeholder}}}}}"), value);
    }
    serde_json::from_str(&text).expect("JSON")
}

async fn a_due_hold_expires_a_later_one_is_announced_again_and_a_bad_one_is_reported(
    app: e2e::TestApp,
) {
    let shop = PayingShop::start(app.backend, &[]).await;
    let first = place_order(&shop.app, "due@shop.test", "Jar", "JAR-1", "6.00", 1).await;
    let second = place_order(&shop.app, "later@shop.test", "Tin", "TIN-1", "3.00", 1).await;
    let (due, later) =
        (first.order["id"].as_str().expect("id"), second.order["id"].as_str().expect("id"));
    let now = Timestamp::now();
    let after_hold = now.plus_seconds(HOLD_SECONDS + 1);
    let due_until = now.plus_seconds(HOLD_SECONDS).to_string();
    let later_until = now.plus_seconds(3 * HOLD_SECONDS).to_string();
    let batch = event(
        "payment-jobs-holds",
        &[
            ("due_order_id", due),
            ("due_hold_until", &due_until),
            ("later_order_id", later),
            ("later_hold_until", &later_until),
        ],
    );
    let announced = Announced::default();
    let orders = shop.state.orders();
    // A message delivered early (its hold not ended) expires nothing: it is announced again.
    let early = payment_jobs::handle(&orders, &announced, batch.clone(), now).await;
    assert_eq!(early["batchItemFailures"].as_array().map(Vec::len), Some(1));
    assert_eq!(announced.0.lock().expect("lock").len(), 2, "both announced again");
    assert_eq!(shop.order(&first.admin, due).await["status"], "Pending");

    let answer = payment_jobs::handle(&orders, &announced, batch, after_hold).await;
    assert_eq!(
        answer["batchItemFailures"],
        json!([{ "itemIdentifier": "9e4d1b62-0a7c-4f3e-b5d8-2c6a8e0f1a03" }]),
        "only the malformed message goes back to the queue"
    );
    let expired = shop.order(&first.admin, due).await;
    assert_eq!(
        (expired["status"].as_str(), expired["cancel_reason"].as_str()),
        (Some("Cancelled"), Some("payment_expired"))
    );
    let again = announced.0.lock().expect("lock").clone();
    assert_eq!(again.len(), 3, "the later hold is announced again");
    assert_eq!(again[2].order_id.to_string(), later);
    assert_eq!(shop.order(&first.admin, later).await["status"], "Pending", "not due yet");

    let off = shared::orders::Orders { payments: None, ..shop.state.orders() };
    let idle = payment_jobs::handle(&off, &announced, json!({}), after_hold).await;
    assert_eq!(idle, json!({ "payments": "off" }));
}

async fn the_scheduled_run_reconciles_a_payment_whose_events_were_lost(app: e2e::TestApp) {
    let shop = PayingShop::start(app.backend, &[("PAYMENT_RECONCILE_AFTER_SECONDS", "0")]).await;
    let placed = place_order(&shop.app, "sched@shop.test", "Pot", "POT-1", "11.00", 1).await;
    let order = placed.order["id"].as_str().expect("id");
    shop.provider("/test/webhooks", "drop_next=10").await;
    let (_, confirmed) = shop.pay_with(&placed.buyer, order, "pm_card_visa").await;
    assert_eq!(confirmed.status, StatusCode::OK);
    assert_eq!(shop.order(&placed.admin, order).await["payment"]["status"], "requires_payment");
    let orders = shop.state.orders();
    let run = event("payment-jobs-schedule", &[]);
    let report =
        payment_jobs::handle(&orders, &shared::payments::holds::SweepOnly, run, Timestamp::now())
            .await;
    assert_eq!(report, json!({ "checked": 1, "drifted": 1, "expired": 0 }));
    assert_eq!(shop.order(&placed.admin, order).await["payment"]["status"], "captured");
}
