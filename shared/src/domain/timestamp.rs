//! UTC instants, written as RFC 3339.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// An instant in UTC to the whole second, written as RFC 3339 (`2026-01-31T12:00:00Z`).
/// Whole seconds are what every store keeps and what the API shows, so a value reads back
/// equal to what was written, whichever store holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current instant.
    pub fn now() -> Self {
        Self::whole_seconds(OffsetDateTime::now_utc())
    }

    fn whole_seconds(instant: OffsetDateTime) -> Self {
        Self(instant.replace_nanosecond(0).unwrap_or(instant))
    }

    /// From whole seconds since the Unix epoch (DynamoDB's TTL unit).
    pub fn from_unix(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds).ok().map(Self)
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Parses RFC 3339 with any offset, normalised to UTC.
    pub fn parse(input: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(input, &Rfc3339)
            .map(|t| Self::whole_seconds(t.to_offset(UtcOffset::UTC)))
    }

    /// This instant as a person reads it, in UTC: `24 November 2026, 09:00 UTC`.
    pub fn readable(self) -> String {
        let at = self.0.to_offset(UtcOffset::UTC);
        format!(
            "{} {} {}, {:02}:{:02} UTC",
            at.day(),
            at.month(),
            at.year(),
            at.hour(),
            at.minute()
        )
    }

    /// This instant moved by `seconds`.
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0 + Duration::seconds(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole seconds keep the wire format stable and sortable as text.
        let truncated = self.0.replace_nanosecond(0).unwrap_or(self.0);
        match truncated.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_a_date_a_person_writes_in_utc() {
        let at = Timestamp::parse("2026-11-24T10:05:09+01:00").expect("parsed");
        assert_eq!(at.readable(), "24 November 2026, 09:05 UTC");
        let new_year = Timestamp::parse("2027-01-01T00:00:00Z").expect("parsed");
        assert_eq!(new_year.readable(), "1 January 2027, 00:00 UTC");
    }

    #[test]
    fn prints_utc_rfc3339_and_parses_offsets() {
        let t = Timestamp::parse("2026-03-01T10:30:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-03-01T08:30:00Z");
        assert_eq!(Timestamp::from_unix(t.unix()), Some(t));
        assert_eq!(t.plus_seconds(60).to_string(), "2026-03-01T08:31:00Z");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn keeps_whole_seconds_so_it_round_trips_through_unix_time() {
        let now = Timestamp::now();
        assert_eq!(Timestamp::from_unix(now.unix()), Some(now));
        let parsed = Timestamp::parse("2026-03-01T08:30:00.75Z").unwrap();
        assert_eq!(parsed, Timestamp::parse("2026-03-01T08:30:00Z").unwrap());
    }
}
