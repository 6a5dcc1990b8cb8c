//! The one loop for optimistic writes: an attempt reads, decides and writes conditionally; when
//! another writer got there first it says so, and the loop reads and decides again, a bounded
//! number of times.

use std::{future::Future, time::Duration};

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
}
