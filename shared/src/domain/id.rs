use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use ulid::Ulid;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Ulid);

        impl $name {
            /// A fresh id; ids created later sort after earlier ones.
            pub fn new() -> Self {
                Self(Ulid::new())
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
}
