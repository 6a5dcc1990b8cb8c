//! Order-event publishing behind a trait: SQS on AWS ([`SqsPublisher`], feature `sqs`), an
//! in-process queue locally ([`InProcessQueue`]). Events are first written to the outbox in the
//! transaction that makes them true; publishing happens after commit, and an event whose
//! publishing fails stays in the outbox for the re-publisher.

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::domain::OrderEvent;

pub mod email;
pub mod mail;
pub mod relay;
#[cfg(feature = "sqs")]
mod sqs;
pub mod worker;
#[cfg(feature = "sqs")]
pub use sqs::SqsPublisher;

/// Why an event was not published (it stays in the outbox).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No queue is configured for this process.
    #[error("no order-event queue is configured")]
    NotConfigured,
    /// The queue refused or could not be reached.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Where committed order events go.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Sends one event; at-least-once (a consumer deduplicates by event).
    async fn publish(&self, event: &OrderEvent) -> Result<(), PublishError>;
}

/// A process with no queue: every event stays in the outbox.
#[derive(Debug, Default)]
pub struct NoQueue;

#[async_trait]
impl EventPublisher for NoQueue {
    async fn publish(&self, _event: &OrderEvent) -> Result<(), PublishError> {
        Err(PublishError::NotConfigured)
    }
}

/// The local server's queue: events go to a channel an in-process consumer reads.
#[derive(Debug, Clone)]
pub struct InProcessQueue {
    sender: mpsc::UnboundedSender<OrderEvent>,
}

impl InProcessQueue {
    /// A queue and the receiving end its consumer reads.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<OrderEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self { sender }, receiver)
    }
}

#[async_trait]
impl EventPublisher for InProcessQueue {
    async fn publish(&self, event: &OrderEvent) -> Result<(), PublishError> {
        self.sender
            .send(event.clone())
            .map_err(|_| PublishError::Failed(anyhow::anyhow!("the in-process consumer stopped")))
    }
}

#[cfg(any(test, feature = "test-support"))]
/// Keeps every published event in memory, or refuses them all while switched off: for tests
/// of what is published and of a queue that is down.
#[derive(Debug, Default)]
pub struct RecordingQueue {
    state: std::sync::Mutex<(Vec<OrderEvent>, bool)>,
}

#[cfg(any(test, feature = "test-support"))]
impl RecordingQueue {
    /// The events published so far, in order.
    pub fn events(&self) -> Vec<OrderEvent> {
        self.lock().0.clone()
    }

    /// Makes every later publish fail (`down`) or succeed again.
    pub fn set_down(&self, down: bool) {
        self.lock().1 = down;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<OrderEvent>, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(any(test, feature = "test-support"))]
#[async_trait]
impl EventPublisher for RecordingQueue {
    async fn publish(&self, event: &OrderEvent) -> Result<(), PublishError> {
        let mut state = self.lock();
        if state.1 {
            return Err(PublishError::Failed(anyhow::anyhow!("queue is down")));
        }
        state.0.push(event.clone());
        Ok(())
    }
}
