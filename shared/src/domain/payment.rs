//! An order's payment: amounts in the currency's minor units (cents), a status that only
//! moves forward, and the ledger's invariant `refunded ≤ captured ≤ authorized ≤ amount`.
//!
//! Everything here is pure. The provider's news (an event, or an intent read back) is
//! [`Payment::observe`]d: a duplicate or older piece of news changes nothing, so events can
//! arrive twice, late or out of order. Refunds are checked by [`Payment::refund`] against
//! what was captured and not yet refunded.

use std::{fmt, str::FromStr};

use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};

use super::Money;

/// Currencies whose minor unit is not the cent (zero or three decimals, as Stripe lists them):
/// the shop's prices have two decimals, so these are refused.
const NOT_CENTS: [&str; 21] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf", "bhd", "jod", "kwd", "omr", "tnd",
];

/// Why a currency code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// Not three ASCII letters.
    #[error("must be a three-letter ISO 4217 code")]
    NotACode,
    /// A currency without cents.
    #[error("must be a currency with two decimals, as the prices are")]
    NotCents,
}

/// A currency with two decimals, as an ISO 4217 code in lower case (Stripe's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The lower-case code (`eur`).
    pub fn code(&self) -> &str {
        // Three ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("xxx")
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let bytes: [u8; 3] = lower.as_bytes().try_into().map_err(|_| CurrencyError::NotACode)?;
        if !bytes.iter().all(u8::is_ascii_lowercase) {
            return Err(CurrencyError::NotACode);
        }
        if NOT_CENTS.contains(&lower.as_str()) {
            return Err(CurrencyError::NotCents);
        }
        Ok(Self(bytes))
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in cents: exact, since [`Money`] has at most two places and at most 10⁹.
pub fn minor_units(amount: Money) -> i64 {
    (amount.amount() * Decimal::ONE_HUNDRED).trunc().to_i64().unwrap_or(i64::MAX)
}

/// Cents as a decimal amount (`1050` → `10.50`).
pub fn from_minor_units(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid yet; the customer has not (successfully) confirmed a payment method.
    RequiresPayment,
    /// The customer must authenticate (3-D Secure) to go on.
    RequiresAction,
    /// The last attempt was declined; another payment method may still pay.
    Failed,
    /// Authorised, not captured (manual capture): the money is held.
    Authorized,
    /// Captured in part or in full.
    Captured,
    /// Captured, and refunded in part.
    PartiallyRefunded,
    /// Captured, and refunded in full.
    Refunded,
    /// The hold expired unpaid, or the owner cancelled before paying; any later payment is
    /// given back.
    Expired,
    /// An authorisation released without capture (the owner cancelled).
    Voided,
}

impl PaymentStatus {
    /// Whether nothing has been authorised yet.
    pub fn is_unpaid(self) -> bool {
        matches!(self, Self::RequiresPayment | Self::RequiresAction | Self::Failed)
    }
}

/// What the provider says about the payment's intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderState {
    /// Waiting for a payment method (again, after a decline: `failed` says so).
    RequiresPayment {
        /// Whether an attempt was declined.
        failed: bool,
    },
    /// Waiting for the customer's authentication.
    RequiresAction,
    /// Authorised for `capturable` cents (manual capture).
    Authorized {
        /// Cents that may be captured.
        capturable: i64,
    },
    /// `received` cents captured, `refunded` of them given back.
    Captured {
        /// Cents captured.
        received: i64,
        /// Cents refunded so far.
        refunded: i64,
    },
    /// Cancelled at the provider.
    Canceled,
}

/// Why a refund is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefused {
    /// Zero or negative.
    #[error("the amount must be positive")]
    NotPositive,
    /// More than was captured and not yet refunded (`refundable` cents).
    #[error("at most {refundable} cents can be refunded")]
    TooMuch {
        /// What could be refunded.
        refundable: i64,
    },
}

/// An order's payment ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The provider's intent, once created.
    pub intent_id: Option<String>,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The currency of every amount.
    pub currency: Currency,
    /// What the order costs, in cents.
    pub amount: i64,
    /// Cents authorised (held or captured).
    pub authorized: i64,
    /// Cents captured.
    pub captured: i64,
    /// Cents refunded.
    pub refunded: i64,
    /// Cents of refunds asked of the provider and not answered yet: reserved, so concurrent
    /// refunds never exceed what was captured (`refunded + refunding ≤ captured`).
    #[serde(default)]
    pub refunding: i64,
    /// Until when an unpaid order holds its stock (none once paid, or for a free order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<super::Timestamp>,
    /// Whether the provider confirmed the intent cancelled (after an expiry, a cancellation
    /// or a released authorisation): until then the payment is watched.
    #[serde(default)]
    pub intent_canceled: bool,
}

impl Payment {
    /// A payment of `amount` not started yet, holding the order's stock until `hold_until`.
    /// An order that costs nothing is paid already.
    pub fn new(amount: Money, currency: Currency, hold_until: super::Timestamp) -> Self {
        let cents = minor_units(amount);
        let free = cents == 0;
        Self {
            intent_id: None,
            status: if free { PaymentStatus::Captured } else { PaymentStatus::RequiresPayment },
            currency,
            amount: cents,
            authorized: 0,
            captured: 0,
            refunded: 0,
            refunding: 0,
            hold_until: (!free).then_some(hold_until),
            intent_canceled: false,
        }
    }

    /// The payment after the provider's news, or `None` when the news changes nothing (a
    /// duplicate, or older than what is known): amounts only grow, and a paid payment never
    /// goes back to unpaid. An expired or voided payment keeps its status and records the
    /// money a late payment moved, so it can be given back ([`Payment::owes_refund`]).
    pub fn observe(&self, news: ProviderState) -> Option<Payment> {
        let mut next = self.clone();
        match news {
            // A decline is news; "waiting for a payment method" without one is where every
            // intent starts (its `created` event), so it never takes an unpaid payment back:
            // arriving late, after a decline or a request for authentication, it changes
            // nothing.
            ProviderState::RequiresPayment { failed: true } if self.status.is_unpaid() => {
                next.status = PaymentStatus::Failed;
            }
            ProviderState::RequiresAction if self.status.is_unpaid() => {
                next.status = PaymentStatus::RequiresAction;
            }
            ProviderState::Authorized { capturable } => {
                next.authorized = self.authorized.max(capturable.clamp(0, self.amount));
                if self.status.is_unpaid() {
                    next.status = PaymentStatus::Authorized;
                }
            }
            ProviderState::Captured { received, refunded } => {
                next.captured = self.captured.max(received.clamp(0, self.amount));
                next.authorized = self.authorized.max(next.captured);
                // While the shop's own refunds are in flight, their money is counted when
                // their answers are recorded, not from the provider's running total.
                if self.refunding == 0 {
                    next.refunded = self.refunded.max(refunded.clamp(0, next.captured));
                }
                next.status = self.settled_status(&next);
            }
            ProviderState::Canceled if self.status.is_unpaid() => {
                next.status = PaymentStatus::Expired;
                next.intent_canceled = true;
            }
            ProviderState::Canceled if self.status == PaymentStatus::Authorized => {
                next.status = PaymentStatus::Voided;
                next.intent_canceled = true;
            }
            ProviderState::Canceled
                if matches!(self.status, PaymentStatus::Expired | PaymentStatus::Voided) =>
            {
                next.intent_canceled = true;
            }
            _ => return None,
        }
        (next != *self).then_some(next)
    }

    /// The status once money was captured: expired and voided payments keep theirs.
    fn settled_status(&self, next: &Payment) -> PaymentStatus {
        match self.status {
            PaymentStatus::Expired | PaymentStatus::Voided => self.status,
            _ if next.refunded == 0 => PaymentStatus::Captured,
            _ if next.refunded < next.captured => PaymentStatus::PartiallyRefunded,
            _ => PaymentStatus::Refunded,
        }
    }

    /// Cents captured and neither refunded nor being refunded.
    pub fn refundable(&self) -> i64 {
        self.captured - self.refunded - self.refunding
    }

    /// The ledger with `cents` reserved for a refund about to be asked of the provider,
    /// refused beyond what is refundable.
    pub fn reserve_refund(&self, cents: i64) -> Result<Payment, RefundRefused> {
        if cents <= 0 {
            return Err(RefundRefused::NotPositive);
        }
        if cents > self.refundable() {
            return Err(RefundRefused::TooMuch { refundable: self.refundable() });
        }
        Ok(Payment { refunding: self.refunding + cents, ..self.clone() })
    }

    /// The ledger once the provider answered a reserved refund of `cents`: refunded when it
    /// `succeeded`, given back to the refundable amount otherwise.
    pub fn settle_refund(&self, cents: i64, succeeded: bool) -> Payment {
        let mut next = Payment { refunding: (self.refunding - cents).max(0), ..self.clone() };
        if succeeded {
            next.refunded = (self.refunded + cents).min(self.captured);
            next.status = self.settled_status(&next);
        }
        next
    }

    /// Whether the order still holds stock unpaid after `now`'s deadline passed.
    pub fn hold_expired(&self, now: super::Timestamp) -> bool {
        self.status.is_unpaid() && self.hold_until.is_some_and(|until| until <= now)
    }

    /// Whether the payment is in a state the provider will not change by itself any more.
    pub fn is_final(&self) -> bool {
        // Closed: the provider cancelled the intent, or there is none, or it took money (a
        // paid intent cannot be cancelled: that money is given back by refund instead).
        let closed = self.intent_canceled || self.intent_id.is_none() || self.captured > 0;
        self.refunding == 0
            && match self.status {
                PaymentStatus::Captured
                | PaymentStatus::PartiallyRefunded
                | PaymentStatus::Refunded => true,
                PaymentStatus::Voided => closed,
                PaymentStatus::Expired => closed && !self.owes_refund(),
                _ => false,
            }
    }

    /// The ledger after a refund of `cents`, refused beyond what is refundable.
    pub fn refund(&self, cents: i64) -> Result<Payment, RefundRefused> {
        Ok(self.reserve_refund(cents)?.settle_refund(cents, true))
    }

    /// The payment expired unpaid, or `None` when money was authorised meanwhile (payment won).
    pub fn expire(&self) -> Option<Payment> {
        self.status.is_unpaid().then(|| Payment { status: PaymentStatus::Expired, ..self.clone() })
    }

    /// Whether money moved after the payment expired or was voided: it must be given back.
    pub fn owes_refund(&self) -> bool {
        matches!(self.status, PaymentStatus::Expired | PaymentStatus::Voided)
            && self.refundable() > 0
    }

    /// Whether the order may ship: paid in full, or authorised in full under manual capture.
    pub fn may_ship(&self, manual_capture: bool) -> bool {
        match self.status {
            // Partly refunded (a line given back) still ships the rest.
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => {
                self.captured == self.amount
            }
            PaymentStatus::Authorized => manual_capture && self.authorized == self.amount,
            _ => false,
        }
    }

    /// Whether `refunded ≤ captured ≤ authorized ≤ amount` holds (and nothing is negative).
    pub fn is_consistent(&self) -> bool {
        0 <= self.refunded
            && 0 <= self.refunding
            && self.refunded + self.refunding <= self.captured
            && self.captured <= self.authorized
            && self.authorized <= self.amount
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        "EUR".parse().expect("eur")
    }

    fn payment(amount: &str) -> Payment {
        Payment::new(amount.parse().expect("money"), eur(), super::super::Timestamp::now())
    }

    #[test]
    fn reserved_refunds_count_against_the_refundable_amount_until_answered() {
        let paid = payment("20.00")
            .observe(ProviderState::Captured { received: 2000, refunded: 0 })
            .expect("paid");
        let first = paid.reserve_refund(1500).expect("reserved");
        assert_eq!(first.refundable(), 500);
        assert_eq!(
            first.reserve_refund(501),
            Err(RefundRefused::TooMuch { refundable: 500 }),
            "a refund in flight is not refundable twice"
        );
        assert!(first.is_consistent() && !first.is_final());
        let failed = first.settle_refund(1500, false);
        assert_eq!((failed.refunded, failed.refundable()), (0, 2000));
        assert_eq!(failed.status, PaymentStatus::Captured);
        let done = first.settle_refund(1500, true);
        assert_eq!((done.refunded, done.refunding), (1500, 0));
        assert_eq!(done.status, PaymentStatus::PartiallyRefunded);
        assert!(done.is_final() && done.is_consistent());
    }

    #[test]
    fn an_unpaid_hold_expires_at_its_deadline_and_a_free_order_holds_nothing() {
        let at = super::super::Timestamp::parse("2026-12-04T10:00:00Z").expect("time");
        let unpaid = Payment::new("5.00".parse().expect("money"), eur(), at);
        assert!(!unpaid.hold_expired(at.plus_seconds(-1)));
        assert!(unpaid.hold_expired(at));
        let paid = unpaid.observe(ProviderState::Captured { received: 500, refunded: 0 });
        assert!(!paid.expect("paid").hold_expired(at.plus_seconds(60)));
        let free = Payment::new("0".parse().expect("money"), eur(), at);
        assert_eq!((free.status, free.hold_until), (PaymentStatus::Captured, None));
        assert!(free.may_ship(false));
    }

    #[test]
    fn currencies_are_lower_case_codes_with_cents() {
        assert_eq!(eur().code(), "eur");
        assert_eq!(serde_json::to_string(&eur()).expect("json"), "\"eur\"");
        assert_eq!("jpy".parse::<Currency>(), Err(CurrencyError::NotCents));
        assert_eq!("kwd".parse::<Currency>(), Err(CurrencyError::NotCents));
        for bad in ["", "eu", "euro", "e1r", "€ur"] {
            assert_eq!(bad.parse::<Currency>(), Err(CurrencyError::NotACode), "{bad}");
        }
    }

    #[test]
    fn amounts_go_to_cents_and_back_exactly() {
        for (text, cents) in [("0", 0), ("0.01", 1), ("10.5", 1050), ("31.50", 3150)] {
            let money: Money = text.parse().expect("money");
            assert_eq!(minor_units(money), cents, "{text}");
            assert_eq!(from_minor_units(cents), money.amount(), "{text}");
        }
        assert_eq!(minor_units(Money::new(Money::MAX).expect("max")), 100_000_000_000);
    }

    #[test]
    fn a_late_created_event_takes_no_unpaid_status_back() {
        let start = payment("31.50");
        let waiting = ProviderState::RequiresPayment { failed: false };
        let declined = start.observe(ProviderState::RequiresPayment { failed: true });
        let declined = declined.expect("a decline moves");
        let action = start.observe(ProviderState::RequiresAction).expect("moves");
        for unpaid in [&start, &declined, &action] {
            assert_eq!(unpaid.observe(waiting), None, "{:?}", unpaid.status);
        }
    }

    #[test]
    fn news_moves_the_status_forward_only() {
        let start = payment("31.50");
        let action = start.observe(ProviderState::RequiresAction).expect("moves");
        assert_eq!(action.status, PaymentStatus::RequiresAction);
        let failed =
            action.observe(ProviderState::RequiresPayment { failed: true }).expect("moves");
        assert_eq!(failed.status, PaymentStatus::Failed);
        let paid =
            failed.observe(ProviderState::Captured { received: 3150, refunded: 0 }).expect("moves");
        assert_eq!(
            (paid.status, paid.captured, paid.authorized),
            (PaymentStatus::Captured, 3150, 3150)
        );
        // Late or repeated news changes nothing.
        for late in [
            ProviderState::RequiresAction,
            ProviderState::RequiresPayment { failed: true },
            ProviderState::Authorized { capturable: 3150 },
            ProviderState::Captured { received: 3150, refunded: 0 },
            ProviderState::Canceled,
        ] {
            assert_eq!(paid.observe(late), None, "{late:?}");
        }
        assert!(paid.may_ship(false));
        assert!(!start.may_ship(true));
    }

    #[test]
    fn refunds_never_exceed_what_was_captured() {
        let paid = payment("20.00")
            .observe(ProviderState::Captured { received: 2000, refunded: 0 })
            .expect("paid");
        assert_eq!(paid.refund(0), Err(RefundRefused::NotPositive));
        assert_eq!(paid.refund(2001), Err(RefundRefused::TooMuch { refundable: 2000 }));
        let part = paid.refund(500).expect("part");
        assert_eq!((part.status, part.refunded), (PaymentStatus::PartiallyRefunded, 500));
        assert_eq!(part.refund(1501), Err(RefundRefused::TooMuch { refundable: 1500 }));
        let all = part.refund(1500).expect("rest");
        assert_eq!((all.status, all.refundable()), (PaymentStatus::Refunded, 0));
        assert!(all.is_consistent());
        // The provider's count of refunds only raises the ledger's.
        let told = paid.observe(ProviderState::Captured { received: 2000, refunded: 700 });
        assert_eq!(
            told.map(|p| (p.status, p.refunded)),
            Some((PaymentStatus::PartiallyRefunded, 700))
        );
        assert_eq!(all.observe(ProviderState::Captured { received: 2000, refunded: 700 }), None);
    }

    #[test]
    fn expiry_wins_only_over_an_unpaid_payment_and_a_late_payment_is_owed_back() {
        let unpaid = payment("12.00");
        let expired = unpaid.expire().expect("expires");
        assert_eq!(expired.status, PaymentStatus::Expired);
        assert!(!expired.owes_refund());
        let late = expired
            .observe(ProviderState::Captured { received: 1200, refunded: 0 })
            .expect("records the money");
        assert_eq!((late.status, late.owes_refund()), (PaymentStatus::Expired, true));
        let given_back = late.refund(1200).expect("refund");
        assert!(!given_back.owes_refund());
        let authorized =
            unpaid.observe(ProviderState::Authorized { capturable: 1200 }).expect("held");
        assert_eq!(authorized.expire(), None, "the payment won");
        assert!(authorized.may_ship(true) && !authorized.may_ship(false));
        let voided = authorized.observe(ProviderState::Canceled).expect("voided");
        assert_eq!(voided.status, PaymentStatus::Voided);
    }

    #[test]
    fn amounts_beyond_the_order_are_clamped_and_the_ledger_stays_consistent() {
        let paid = payment("5.00")
            .observe(ProviderState::Captured { received: 9999, refunded: 12_000 })
            .expect("paid");
        assert_eq!((paid.captured, paid.refunded), (500, 500));
        assert!(paid.is_consistent());
    }

    #[test]
    fn an_ended_payment_is_watched_until_its_intent_is_cancelled_or_its_money_given_back() {
        let mut unpaid = payment("12.00");
        unpaid.intent_id = Some("pi_1".into());
        let expired = unpaid.expire().expect("expired");
        assert!(!expired.is_final(), "the intent may still be paid");
        let cancelled = expired.observe(ProviderState::Canceled).expect("news");
        assert!(cancelled.intent_canceled && cancelled.is_final());
        assert_eq!(cancelled.observe(ProviderState::Canceled), None, "once");
        let late = expired.observe(ProviderState::Captured { received: 1200, refunded: 0 });
        let late = late.expect("a late payment");
        assert!(late.owes_refund() && !late.is_final());
        let given_back = late.refund(1200).expect("refunded");
        assert!(given_back.is_final(), "{given_back:?}");
    }
}
