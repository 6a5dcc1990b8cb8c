//! Coupons: what a valid coupon is, who may use it when, and what it takes off an order.

use crate::domain::ErrorCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{FieldErrors, Money, Role, Timestamp};

/// A coupon code: 3–32 of `A–Z 0–9 _ -`, stored upper-case (codes match in any case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

impl TryFrom<String> for CouponCode {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CouponCode> for String {
    fn from(code: CouponCode) -> String {
        code.0
    }
}

impl CouponCode {
    /// Validates and upper-cases a code.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let code = input.trim().to_ascii_uppercase();
        let allowed =
            |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '-');
        if !(3..=32).contains(&code.len()) || !code.chars().all(allowed) {
            return Err("must be 3 to 32 of A-Z, 0-9, '_' and '-'");
        }
        Ok(Self(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A coupon as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coupon {
    /// The code (upper-case).
    pub code: CouponCode,
    /// Percent off the order total (1–100).
    pub discount_percent: u8,
    /// When it stops applying (UTC).
    pub expiry: Timestamp,
    /// The roles that may use it (all when empty).
    pub eligible_roles: Vec<Role>,
    /// Uses across all customers at most.
    pub max_uses: Option<u32>,
    /// Uses per customer at most.
    pub max_uses_per_user: Option<u32>,
    /// The smallest order total it applies to.
    pub min_order_amount: Option<Money>,
    /// When it starts applying (UTC).
    pub starts_at: Option<Timestamp>,
    /// How many orders have used it.
    pub uses: u32,
}

/// The JSON an admin sends to create or update a coupon.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponInput {
    /// The code (upper-case).
    pub code: Option<String>,
    /// Percent off the order total (1–100).
    pub discount_percent: Option<i64>,
    /// When it stops applying (UTC).
    pub expiry: Option<String>,
    /// The roles that may use it (all when empty).
    pub eligible_roles: Option<Vec<String>>,
    /// Uses across all customers at most.
    pub max_uses: Option<i64>,
    /// Uses per customer at most.
    pub max_uses_per_user: Option<i64>,
    /// The smallest order total it applies to.
    pub min_order_amount: Option<Money>,
    /// When it starts applying (UTC).
    pub starts_at: Option<String>,
}

/// Why a coupon cannot be applied to an order; each has its own stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CouponRejection {
    /// Coupon has expired.
    #[error("coupon has expired")]
    Expired,
    /// Coupon is not valid yet.
    #[error("coupon is not valid yet")]
    NotStarted,
    /// Coupon is not available for this account.
    #[error("coupon is not available for this account")]
    NotEligible,
    /// Coupon has been used up.
    #[error("coupon has been used up")]
    Exhausted,
    /// You have used this coupon as many times as it allows.
    #[error("you have used this coupon as many times as it allows")]
    UsedUpByYou,
    /// Order total is below the coupon's minimum.
    #[error("order total is below the coupon's minimum")]
    BelowMinimum,
}

impl CouponRejection {
    /// The envelope's `error` code.
    pub fn code(self) -> ErrorCode {
        match self {
            CouponRejection::Expired => ErrorCode::CouponExpired,
            CouponRejection::NotStarted => ErrorCode::CouponNotStarted,
            CouponRejection::NotEligible => ErrorCode::CouponNotEligible,
            CouponRejection::Exhausted => ErrorCode::CouponExhausted,
            CouponRejection::UsedUpByYou => ErrorCode::CouponLimitReached,
            CouponRejection::BelowMinimum => ErrorCode::CouponBelowMinimum,
        }
    }
}

/// A timestamp as the original API wrote it: RFC 3339, or a naive date-time meaning UTC.
pub fn parse_instant(input: &str) -> Result<Timestamp, &'static str> {
    const PROBLEM: &str = "must be an RFC 3339 date-time (a time without offset is UTC)";
    let trimmed = input.trim();
    Timestamp::parse(trimmed)
        .or_else(|_| Timestamp::parse(&format!("{trimmed}Z")))
        .map_err(|_| PROBLEM)
}

impl Coupon {
    /// Validates a create request: `code`, `discount_percent` and `expiry` are required;
    /// `eligible_roles` defaults to customers.
    pub fn parse_new(input: CouponInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, missing) in [
            ("code", input.code.is_none()),
            ("discount_percent", input.discount_percent.is_none()),
            ("expiry", input.expiry.is_none()),
        ] {
            if missing {
                errors.add(field, "is required");
            }
        }
        let code = input.code.as_deref().and_then(|c| errors.check("code", CouponCode::parse(c)));
        let base = Coupon {
            code: code.unwrap_or(CouponCode(String::new())),
            discount_percent: 1,
            expiry: Timestamp::now(),
            eligible_roles: vec![Role::Customer],
            max_uses: None,
            max_uses_per_user: None,
            min_order_amount: None,
            starts_at: None,
            uses: 0,
        };
        let coupon = base.apply(input, &mut errors);
        errors.into_result(|| coupon)
    }

    /// Validates a partial update (`code` cannot change) and applies it.
    pub fn parse_update(&self, mut input: CouponInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        if input.code.take().is_some() {
            errors.add("code", "cannot be changed; create a new coupon");
        }
        let updated = self.apply(input, &mut errors);
        errors.into_result(|| updated)
    }

    fn apply(&self, input: CouponInput, errors: &mut FieldErrors) -> Self {
        let mut next = self.clone();
        if let Some(percent) = input.discount_percent {
            match u8::try_from(percent) {
                Ok(p @ 1..=100) => next.discount_percent = p,
                _ => errors.add("discount_percent", "must be a whole number from 1 to 100"),
            }
        }
        if let Some(expiry) =
            input.expiry.as_deref().and_then(|e| errors.check("expiry", parse_instant(e)))
        {
            next.expiry = expiry;
        }
        if let Some(start) =
            input.starts_at.as_deref().and_then(|s| errors.check("starts_at", parse_instant(s)))
        {
            next.starts_at = Some(start);
        }
        if let Some(roles) = input.eligible_roles {
            let parsed: Result<Vec<Role>, _> = roles.iter().map(|r| r.parse::<Role>()).collect();
            match parsed {
                Ok(mut roles) if !roles.is_empty() => {
                    roles.sort();
                    roles.dedup();
                    next.eligible_roles = roles;
                }
                _ => errors.add(
                    "eligible_roles",
                    "must be a non-empty list of customer, prime_customer, admin",
                ),
            }
        }
        for (field, value, slot) in [
            ("max_uses", input.max_uses, &mut next.max_uses),
            ("max_uses_per_user", input.max_uses_per_user, &mut next.max_uses_per_user),
        ] {
            if let Some(value) = value {
                match u32::try_from(value) {
                    Ok(n) if n >= 1 => *slot = Some(n),
                    _ => errors.add(field, "must be a whole number of at least 1"),
                }
            }
        }
        if let Some(minimum) = input.min_order_amount {
            next.min_order_amount = Some(minimum);
        }
        if let Some(start) = next.starts_at
            && start >= next.expiry
        {
            errors.add("starts_at", "must be before expiry");
        }
        next
    }

    /// Whether `role` may see and use it at `now` (not expired, started, not used up).
    pub fn offered_to(&self, role: Role, now: Timestamp) -> bool {
        self.check(role, now, None).is_ok()
    }

    /// Why it cannot take money off an order of `total` by `role` at `now`, if it cannot.
    pub fn check(
        &self,
        role: Role,
        now: Timestamp,
        total: Option<Money>,
    ) -> Result<(), CouponRejection> {
        if now >= self.expiry {
            return Err(CouponRejection::Expired);
        }
        if self.starts_at.is_some_and(|start| now < start) {
            return Err(CouponRejection::NotStarted);
        }
        if !self.eligible_roles.contains(&role) {
            return Err(CouponRejection::NotEligible);
        }
        if self.max_uses.is_some_and(|max| self.uses >= max) {
            return Err(CouponRejection::Exhausted);
        }
        if let (Some(minimum), Some(total)) = (self.min_order_amount, total)
            && total < minimum
        {
            return Err(CouponRejection::BelowMinimum);
        }
        Ok(())
    }

    /// The discount on `total`: `total × percent / 100`, rounded half-up to the cent.
    pub fn discount_on(&self, total: Money) -> Money {
        let exact = total.amount() * Decimal::from(self.discount_percent) / Decimal::from(100);
        // Never more than the total, so the rounding cannot make a final amount negative.
        let rounded = Money::round_half_up(exact).min(total.amount());
        Money::new(rounded).unwrap_or(Money::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(value: serde_json::Value) -> CouponInput {
        serde_json::from_value(value).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn coupon() -> Coupon {
        Coupon::parse_new(input(
            json!({ "code": " save-10 ", "discount_percent": 10, "expiry": "2030-01-01T00:00:00" }),
        ))
        .unwrap()
    }

    #[test]
    fn codes_are_upper_case_and_naive_expiry_is_utc() {
        let coupon = coupon();
        assert_eq!(coupon.code.as_str(), "SAVE-10");
        assert_eq!(coupon.expiry, at("2030-01-01T00:00:00Z"));
        assert_eq!(coupon.eligible_roles, [Role::Customer]);
    }

    #[test]
    fn every_rule_names_its_field() {
        let errors = Coupon::parse_new(input(json!({
            "code": "a!", "discount_percent": 101, "expiry": "soon", "eligible_roles": [],
            "max_uses": 0, "max_uses_per_user": -1
        })))
        .unwrap_err();
        for field in [
            "code",
            "discount_percent",
            "expiry",
            "eligible_roles",
            "max_uses",
            "max_uses_per_user",
        ] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        let missing = Coupon::parse_new(input(json!({}))).unwrap_err();
        for field in ["code", "discount_percent", "expiry"] {
            assert!(missing.get(field).is_some(), "{field}");
        }
        let late_start = Coupon::parse_new(input(
            json!({ "code": "ABC", "discount_percent": 5, "expiry": "2030-01-01T00:00:00Z", "starts_at": "2031-01-01T00:00:00Z" }),
        ));
        assert!(late_start.unwrap_err().get("starts_at").is_some());
        assert!(
            coupon()
                .parse_update(input(json!({ "code": "OTHER" })))
                .unwrap_err()
                .get("code")
                .is_some()
        );
    }

    #[test]
    fn eligibility_follows_time_role_uses_and_minimum() {
        let mut coupon = coupon().parse_update(input(json!({ "starts_at": "2029-01-01T00:00:00Z", "max_uses": 2, "min_order_amount": "50" }))).unwrap();
        let during = at("2029-06-01T00:00:00Z");
        let fifty = "50.00".parse::<Money>().unwrap();
        assert_eq!(coupon.check(Role::Customer, during, Some(fifty)), Ok(()));
        assert_eq!(
            coupon.check(Role::Customer, at("2028-01-01T00:00:00Z"), None),
            Err(CouponRejection::NotStarted)
        );
        assert_eq!(
            coupon.check(Role::Customer, at("2030-01-01T00:00:00Z"), None),
            Err(CouponRejection::Expired)
        );
        assert_eq!(
            coupon.check(Role::PrimeCustomer, during, None),
            Err(CouponRejection::NotEligible)
        );
        assert_eq!(
            coupon.check(Role::Customer, during, Some("49.99".parse().unwrap())),
            Err(CouponRejection::BelowMinimum)
        );
        coupon.uses = 2;
        assert_eq!(coupon.check(Role::Customer, during, None), Err(CouponRejection::Exhausted));
        assert!(!coupon.offered_to(Role::Customer, during));
    }

    #[test]
    fn discounts_round_half_up_to_the_cent() {
        let mut coupon = coupon();
        coupon.discount_percent = 15;
        // 15 % of 0.10 = 0.015 → 0.02; 15 % of 19.99 = 2.9985 → 3.00.
        assert_eq!(coupon.discount_on("0.10".parse().unwrap()).to_string(), "0.02");
        assert_eq!(coupon.discount_on("19.99".parse().unwrap()).to_string(), "3.00");
        coupon.discount_percent = 100;
        assert_eq!(coupon.discount_on("19.99".parse().unwrap()).to_string(), "19.99");
    }
}
