//! The order status machine: Pending → Shipped → Delivered, and Pending → Cancelled.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Placed, not shipped yet.
    Pending,
    /// On its way.
    Shipped,
    /// Received by the customer.
    Delivered,
    /// Cancelled; its units are back in stock.
    Cancelled,
}

/// A status change the machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct InvalidTransition {
    /// The current status.
    pub from: OrderStatus,
    /// The status asked for.
    pub to: OrderStatus,
}

impl OrderStatus {
    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "Pending",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::Cancelled => "Cancelled",
        }
    }

    /// `to`, if the machine allows it from here.
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, InvalidTransition> {
        use OrderStatus::*;
        match (self, to) {
            (Pending, Shipped) | (Shipped, Delivered) | (Pending, Cancelled) => Ok(to),
            _ => Err(InvalidTransition { from: self, to }),
        }
    }

    /// Whether reaching this status puts the order's items back in stock.
    pub fn restocks(self) -> bool {
        self == OrderStatus::Cancelled
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = &'static str;

    /// Accepts any letter case (`shipped`, `Shipped`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pending" => Ok(OrderStatus::Pending),
            "shipped" => Ok(OrderStatus::Shipped),
            "delivered" => Ok(OrderStatus::Delivered),
            "cancelled" => Ok(OrderStatus::Cancelled),
            _ => Err("must be one of Pending, Shipped, Delivered, Cancelled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    #[test]
    fn only_the_designed_transitions_are_allowed() {
        let all = [Pending, Shipped, Delivered, Cancelled];
        let allowed = [(Pending, Shipped), (Shipped, Delivered), (Pending, Cancelled)];
        for from in all {
            for to in all {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), expected, "{from} -> {to}");
            }
        }
        assert!(Cancelled.restocks() && !Delivered.restocks());
    }

    #[test]
    fn parses_any_case_and_prints_the_api_form() {
        assert_eq!("shipped".parse::<OrderStatus>(), Ok(Shipped));
        assert_eq!(" CANCELLED ".parse::<OrderStatus>(), Ok(Cancelled));
        assert!("lost".parse::<OrderStatus>().is_err());
        assert_eq!(Delivered.to_string(), "Delivered");
    }
}
