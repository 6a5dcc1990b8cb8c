//! Order-event publishing behind a trait: SNS on AWS ([`SnsPublisher`], feature `sns`), an
//! in-process queue locally ([`InProcessQueue`]). Events are first written to the outbox in the
//! transaction that makes them true; publishing happens after commit, and an event whose
//! publishing fails stays in the outbox for the re-publisher.

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::domain::OrderEvent;

pub mod email;
pub mod mail;
pub mod relay;
#[cfg(feature = "sns")]
mod sns;
pub mod worker;
#[cfg(feature = "sns")]
pub use sns::SnsPublisher;

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
/// A test double that keeps everything handed to it, in order, or refuses everything while
/// switched to failing: the recording queue and the recording mailer.
#[derive(Debug)]
pub struct Recorder<T> {
    state: std::sync::Mutex<(Vec<T>, bool)>,
}

#[cfg(any(test, feature = "test-support"))]
impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Self { state: std::sync::Mutex::new((Vec::new(), false)) }
    }
}

#[cfg(any(test, feature = "test-support"))]
impl<T: Clone> Recorder<T> {
    /// Everything kept so far, in order.
    pub fn recorded(&self) -> Vec<T> {
        self.lock().0.clone()
    }

    /// Makes everything later fail (`failing`) or succeed again.
    pub fn set_failing(&self, failing: bool) {
        self.lock().1 = failing;
    }

    /// Keeps `item`, unless failing.
    fn keep(&self, item: T) -> Result<(), ()> {
        let mut state = self.lock();
        if state.1 {
            return Err(());
        }
        state.0.push(item);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<T>, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps every published event, or refuses them all while failing (a queue that is down).
#[cfg(any(test, feature = "test-support"))]
pub type RecordingQueue = Recorder<OrderEvent>;

#[cfg(any(test, feature = "test-support"))]
#[async_trait]
impl EventPublisher for RecordingQueue {
    async fn publish(&self, event: &OrderEvent) -> Result<(), PublishError> {
        self.keep(event.clone())
            .map_err(|()| PublishError::Failed(anyhow::anyhow!("queue is down")))
    }
}
