//! The outbox re-publisher: publishes the order events whose publishing after commit failed
//! (the queue was unreachable, or the function stopped in between), then deletes them.

use crate::{
    domain::Timestamp,
    metrics::{Metric, Unit},
    notify::EventPublisher,
    store::{OutboxStore, StoreError},
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
    /// The age in seconds of the oldest event read (none when the outbox was empty).
    pub oldest_age_seconds: Option<i64>,
}

impl RelayReport {
    /// The run as metrics (operation `relay`): events relayed, and the oldest event's age
    /// (0 when the outbox was empty, so the alarm's series never goes silent).
    pub fn metrics(&self) -> [Metric; 2] {
        let relayed = u32::try_from(self.published).unwrap_or(u32::MAX);
        [
            Metric { name: "OutboxEventsRelayed", value: f64::from(relayed), unit: Unit::Count },
            Metric {
                name: "OutboxOldestEventAgeSeconds",
                // Exact for any age below 2^53 seconds.
                #[allow(clippy::cast_precision_loss)]
                value: self.oldest_age_seconds.unwrap_or(0).max(0) as f64,
                unit: Unit::Seconds,
            },
        ]
    }
}

/// Publishes up to `limit` outbox events at least `min_age_seconds` old at `now`.
pub async fn republish(
    store: &dyn OutboxStore,
    publisher: &dyn EventPublisher,
    now: Timestamp,
    min_age_seconds: i64,
    limit: usize,
) -> Result<RelayReport, StoreError> {
    let mut report = RelayReport::default();
    let newest = now.plus_seconds(-min_age_seconds);
    for event in store.outbox_events(limit).await? {
        let age = now.unix() - event.at.unix();
        report.oldest_age_seconds = Some(report.oldest_age_seconds.map_or(age, |a| a.max(age)));
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
