//! The one loop for optimistic writes: an attempt reads, decides and writes conditionally; when
//! another writer got there first it says so, and the loop reads and decides again, a bounded
//! number of times.

use std::{future::Future, time::Duration};

use crate::store::{StoreError, StoreResult};

/// What one attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T> {
    /// It finished with this value.
    Done(T),
    /// Its condition failed because the state changed: read again at once.
    Retry,
    /// The database cancelled it because another transaction held an item: read again after
    /// a short random pause, so racing retries spread out.
    Backoff,
}

impl<T> Attempt<T> {
    /// The same attempt with its value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attempt<U> {
        match self {
            Attempt::Done(value) => Attempt::Done(f(value)),
            Attempt::Retry => Attempt::Retry,
            Attempt::Backoff => Attempt::Backoff,
        }
    }
}

/// Runs `attempt` up to `attempts` times until it is done; `Ok(None)` when every attempt had
/// to be retried. An error ends the loop at once.
pub async fn with_retries<T, E, F, Fut>(attempts: usize, mut attempt: F) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, E>>,
{
    for _ in 0..attempts {
        match attempt().await? {
            Attempt::Done(value) => return Ok(Some(value)),
            Attempt::Retry => {}
            Attempt::Backoff => {
                let millis = rand::random_range(5..40);
                tokio::time::sleep(Duration::from_millis(millis)).await;
            }
        }
    }
    Ok(None)
}

/// Rounds of [`until_answered`] (each is the SDK's own attempts, with its backoff).
pub const ANSWER_ROUNDS: usize = 4;

/// Runs `operation` until the database answers it: an [`StoreError::Unavailable`] or
/// [`StoreError::Throttled`] is tried again after a pause (50, 100, 200 ms), up to
/// [`ANSWER_ROUNDS`] rounds; any other outcome is returned at once. For the reads that
/// settle a write whose answer was lost, and for the writes that are idempotent as they stand
/// (an unconditional put or update of the same values): answering "unknown" there would make
/// a client retry a write that landed, or a worker redo work that was done.
pub async fn until_answered<T, F, Fut>(mut operation: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut pause = Duration::from_millis(50);
    for _ in 1..ANSWER_ROUNDS {
        match operation().await {
            Err(StoreError::Unavailable(error)) => {
                tracing::debug!(error = format!("{error:#}"), "no answer; asking again");
            }
            Err(StoreError::Throttled) => {}
            answered => return answered,
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    operation().await
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn retries_until_done_and_gives_up_after_the_last_attempt() {
        let calls = Cell::new(0);
        let outcome: Result<Option<u32>, ()> = with_retries(4, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                Ok(match n {
                    1 => Attempt::Retry,
                    2 => Attempt::Backoff,
                    _ => Attempt::Done(n),
                })
            }
        })
        .await;
        assert_eq!((outcome, calls.get()), (Ok(Some(3)), 3));

        calls.set(0);
        let exhausted: Result<Option<u32>, ()> = with_retries(3, || {
            calls.set(calls.get() + 1);
            async { Ok(Attempt::Retry) }
        })
        .await;
        assert_eq!((exhausted, calls.get()), (Ok(None), 3));

        let failed: Result<Option<u32>, &str> = with_retries(3, || async { Err("broken") }).await;
        assert_eq!(failed, Err("broken"));
    }

    #[tokio::test(start_paused = true)]
    async fn asks_again_while_unanswered_and_returns_any_answer_at_once() {
        let calls = Cell::new(0);
        let answered = until_answered(|| {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                match n {
                    1 => Err(StoreError::Throttled),
                    2 => Err(StoreError::Unavailable(anyhow::anyhow!("dropped"))),
                    _ => Ok(n),
                }
            }
        })
        .await;
        assert_eq!((answered.ok(), calls.get()), (Some(3), 3));

        // The same failure every time: how often is it asked, and what is answered?
        let always = async |failure: fn() -> StoreError| {
            calls.set(0);
            let answer = until_answered(|| {
                calls.set(calls.get() + 1);
                async move { Err::<(), _>(failure()) }
            })
            .await;
            (answer, calls.get())
        };
        let (conflict, asked) = always(|| StoreError::NotFound).await;
        assert!(matches!(conflict, Err(StoreError::NotFound)));
        assert_eq!(asked, 1, "an answer, even a refusal, is not asked again");
        let (never, asked) = always(|| StoreError::Throttled).await;
        assert!(matches!(never, Err(StoreError::Throttled)));
        assert_eq!(asked, ANSWER_ROUNDS);
    }
}
