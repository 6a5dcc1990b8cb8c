//! The outbox re-publisher: publishes the order events whose publishing after commit failed
//! (the queue was unreachable, or the function stopped in between), then deletes them.

use crate::{
    domain::Timestamp,
    notify::EventPublisher,
    store::{Store, StoreError},
};

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Published and removed from the outbox.
    pub published: usize,
    /// Still failing to publish (left for the next pass).
    pub failed: usize,
    /// Younger than the minimum age: probably still being published by their request.
    pub too_recent: usize,
}

/// Publishes up to `limit` outbox events at least `min_age_seconds` old at `now`.
pub async fn republish(
    store: &dyn Store,
    publisher: &dyn EventPublisher,
    now: Timestamp,
    min_age_seconds: i64,
    limit: usize,
) -> Result<RelayReport, StoreError> {
    let mut report = RelayReport::default();
    let newest = now.plus_seconds(-min_age_seconds);
    for event in store.outbox_events(limit).await? {
        if event.at > newest {
            report.too_recent += 1;
            continue;
        }
        match publisher.publish(&event).await {
            Ok(()) => {
                store.delete_outbox_event(event.id).await?;
                report.published += 1;
            }
            Err(error) => {
                tracing::warn!(event = %event.id, error = %error, "re-publishing failed; will retry");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}
