//! The payment jobs: an SQS batch of hold messages (each delayed until its order's unpaid
//! hold ends) expires the orders still unpaid, reporting exactly the messages that failed;
//! the schedule's event (every minute) sweeps the holds whose message was lost and reconciles
//! the payments not final with the provider.

use serde_json::{Value, json};
use shared::{
    domain::Timestamp,
    orders::Orders,
    payments::holds::{HoldMessage, HoldTimer},
};

/// Handles one invocation at `now`: an SQS batch (`Records`) or the schedule's event
/// (anything else).
pub async fn handle(
    orders: &Orders<'_>,
    holds: &dyn HoldTimer,
    event: Value,
    now: Timestamp,
) -> Value {
    if orders.payments.is_none() {
        return json!({ "payments": "off" });
    }
    match event["Records"].as_array() {
        Some(records) => {
            let mut failures = Vec::new();
            for record in records {
                let id = record["messageId"].as_str().unwrap_or_default();
                if let Err(error) = end_hold(orders, holds, record["body"].as_str(), now).await {
                    tracing::error!(message = id, error = %error, "hold not handled; message returned to the queue");
                    failures.push(json!({ "itemIdentifier": id }));
                }
            }
            json!({ "batchItemFailures": failures })
        }
        None => match orders.reconcile(now).await {
            Ok(report) => {
                tracing::info!(
                    checked = report.checked,
                    drifted = report.drifted,
                    expired = report.expired,
                    "payments reconciled"
                );
                json!({ "checked": report.checked, "drifted": report.drifted, "expired": report.expired })
            }
            Err(error) => {
                tracing::error!(error = %error, "payment reconciliation failed; the next run tries again");
                json!({ "error": "reconciliation failed" })
            }
        },
    }
}

/// One hold message: announced again while the hold runs (SQS delays 15 minutes at most),
/// the order expired once it ended (nothing when payment won).
async fn end_hold(
    orders: &Orders<'_>,
    holds: &dyn HoldTimer,
    body: Option<&str>,
    now: Timestamp,
) -> anyhow::Result<()> {
    let hold: HoldMessage = serde_json::from_str(body.unwrap_or_default())?;
    if !hold.is_due(now) {
        return holds.schedule(hold).await;
    }
    match orders.expire(hold.order_id, now).await? {
        Some(order) => tracing::info!(order = %order.id, "unpaid order expired"),
        None => tracing::info!(order = %hold.order_id, "hold ended after payment; nothing to do"),
    }
    Ok(())
}
