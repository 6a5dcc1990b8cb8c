//! Money: a non-negative decimal with two places, never a float.

use std::{fmt, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Why an input is not an acceptable amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal number")]
    NotANumber,
    #[error("must not be negative")]
    Negative,
    #[error("must have at most two decimal places")]
    TooPrecise,
    #[error("is too large")]
    TooLarge,
}

/// A non-negative amount in the shop's currency, exact to the cent. Written as a
/// two-place decimal string (`"129.99"`); read from a string or a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// The largest amount accepted (a guard against overflow in totals).
    pub const MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Validates an exact decimal: non-negative, at most two places, at most [`Money::MAX`].
    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        if amount.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        if amount > Self::MAX {
            return Err(MoneyError::TooLarge);
        }
        Ok(Self(amount.abs()))
    }

    /// The exact amount.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Rounds an exact decimal to the cent, half away from zero (the rule for discounts).
    pub fn round_half_up(amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let amount = Decimal::from_str(s.trim()).map_err(|_| MoneyError::NotANumber)?;
        Self::new(amount)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut amount = self.0;
        amount.rescale(2);
        fmt::Display::fmt(&amount, f)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal amount as a string or a number")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                // f64's Display is the shortest text that reads back as the same float,
                // so 129.99 becomes exactly "129.99", never 129.9899999….
                if !v.is_finite() {
                    return Err(E::custom(MoneyError::NotANumber));
                }
                v.to_string().parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn writes_two_places() {
        assert_eq!(money("5").to_string(), "5.00");
        assert_eq!(money("129.9").to_string(), "129.90");
        assert_eq!(serde_json::to_value(money("0.1")).unwrap(), "0.10");
    }

    #[test]
    fn reads_strings_and_numbers_exactly() {
        let from_number: Money = serde_json::from_str("129.99").unwrap();
        let from_string: Money = serde_json::from_str("\"129.99\"").unwrap();
        let from_integer: Money = serde_json::from_str("7").unwrap();
        assert_eq!(from_number, money("129.99"));
        assert_eq!(from_string, from_number);
        assert_eq!(from_integer.to_string(), "7.00");
        assert!(serde_json::from_str::<Money>("true").is_err());
    }

    #[test]
    fn rejects_negative_precise_and_huge_amounts() {
        assert_eq!("-1".parse::<Money>(), Err(MoneyError::Negative));
        assert_eq!("1.001".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert_eq!("1.100".parse::<Money>().map(|m| m.to_string()), Ok("1.10".to_owned()));
        assert_eq!("1000000001".parse::<Money>(), Err(MoneyError::TooLarge));
        assert_eq!("abc".parse::<Money>(), Err(MoneyError::NotANumber));
        assert!(serde_json::from_str::<Money>("-0.5").is_err());
    }

    #[test]
    fn rounds_half_up_to_the_cent() {
        assert_eq!(Money::round_half_up(Decimal::new(12345, 3)).to_string(), "12.35");
        assert_eq!(Money::round_half_up(Decimal::new(12344, 3)).to_string(), "12.34");
    }
}
