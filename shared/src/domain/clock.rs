//! Where "now" comes from: the system's clock in production, a clock tests set and advance.

use std::sync::Mutex;

use super::Timestamp;

/// The source of the current instant. Services read time through one, so a test advances
/// time instead of sleeping through it.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until advanced (tests).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn at(start: Timestamp) -> Self {
        Self { now: Mutex::new(start) }
    }

    /// A clock standing at the system's current instant.
    pub fn starting_now() -> Self {
        Self::at(Timestamp::now())
    }

    /// Moves the clock `seconds` forward.
    pub fn advance(&self, seconds: i64) {
        if let Ok(mut now) = self.now.lock() {
            *now = now.plus_seconds(seconds);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.now.lock().map(|now| *now).unwrap_or_else(|poisoned| *poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced() {
        let start = Timestamp::parse("2026-01-31T12:00:00Z").expect("valid");
        let clock = ManualClock::at(start);
        assert_eq!((clock.now(), clock.now()), (start, start));
        clock.advance(90);
        assert_eq!(clock.now().to_string(), "2026-01-31T12:01:30Z");
    }
}
