//! Sortable ids (ULIDs) of every kind of record.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// A ULID greater than every one this process made before: within one millisecond the
/// random part is incremented, so creation order is id order. (Should the random part ever
/// overflow within a millisecond, a plain random ULID is used.)
fn monotonic() -> Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

/// A fresh id for one conditional write, stored with what it wrote, so that a write whose
/// answer was lost can find out whether it landed.
pub fn new_write_id() -> String {
    monotonic().to_string()
}

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Ulid);

        impl $name {
            /// The smallest id (for range bounds).
            pub const MIN: Self = Self(Ulid(0));
            /// The largest id (for range bounds).
            pub const MAX: Self = Self(Ulid(u128::MAX));

            /// A fresh id; ids created later in this process sort after earlier ones, even
            /// within one millisecond.
            pub fn new() -> Self {
                Self(monotonic())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = ulid::DecodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(s).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ulid::DecodeError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

ulid_id!(
    /// Identifies an account (a ULID: sortable by creation time).
    UserId
);
ulid_id!(
    /// Identifies a login session: every token issued by one login and its refreshes.
    SessionId
);
ulid_id!(
    /// Identifies one token (`jti`).
    TokenId
);
ulid_id!(
    /// Identifies a product; sorts by creation time.
    ProductId
);

ulid_id!(
    /// Identifies an order; sorts by creation time.
    OrderId
);
ulid_id!(
    /// Identifies one order event (placed, status changed).
    EventId
);
ulid_id!(
    /// Identifies a customer's shipping address.
    AddressId
);
ulid_id!(
    /// Identifies an audit-trail entry; sorts by creation time.
    AuditId
);
ulid_id!(
    /// Identifies a webhook subscription.
    WebhookId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_back_and_sort_by_creation() {
        let first = UserId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = UserId::new();
        assert!(first.to_string() < second.to_string());
        assert_eq!(first.to_string().parse::<UserId>().unwrap(), first);
        assert!("not-an-id".parse::<UserId>().is_err());
    }

    #[test]
    fn ids_made_in_one_millisecond_still_sort_by_creation() {
        let ids: Vec<OrderId> = (0..1000).map(|_| OrderId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
