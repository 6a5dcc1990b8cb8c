//! Account roles and who may obtain them.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Buys at list price.
    Customer,
    /// A customer some coupons are reserved for.
    PrimeCustomer,
    /// Manages the catalog, coupons and orders.
    Admin,
}

/// The string names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: customer, prime_customer, admin")]
pub struct UnknownRole;

impl Role {
    /// Every role, in order of privilege.
    pub const ALL: [Role; 3] = [Role::Customer, Role::PrimeCustomer, Role::Admin];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::PrimeCustomer => "prime_customer",
            Role::Admin => "admin",
        }
    }

    /// Whether someone may obtain this role by registering themselves. Only customers may:
    /// the original API let anyone register as an admin.
    pub fn is_self_service(self) -> bool {
        self == Role::Customer
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or(UnknownRole)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn only_customers_register_themselves() {
        assert!(Role::Customer.is_self_service());
        assert!(!Role::PrimeCustomer.is_self_service());
        assert!(!Role::Admin.is_self_service());
    }
}
