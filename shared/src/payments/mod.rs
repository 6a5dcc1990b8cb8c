//! The payment provider behind a trait: what the shop asks of it (PaymentIntents and refunds,
//! on Stripe's model) and how its answers map onto the order's [`Payment`] ledger. Stripe is
//! the real provider ([`stripe::StripeClient`], feature `stripe`); the local server serves a
//! Stripe-compatible one for laptops and tests, reached through the same client over HTTP.
//!
//! Every call that changes something carries an idempotency key chosen by the caller, derived
//! from the operation it performs (the order for its intent, the refund record's id for a
//! refund): a call whose answer was lost is made again with the same key, and the provider
//! applies it once and answers as the first time.
//!
//! [`Payment`]: crate::domain::Payment

pub mod config;
pub mod holds;
pub mod signature;
#[cfg(feature = "stripe")]
pub mod stripe;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{Currency, ProviderState};

/// The Stripe API version the shop speaks (pinned on every request, so an account's default
/// version cannot change the objects' shape under it).
pub const API_VERSION: &str = "2024-06-20";

/// When the money is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    /// At confirmation.
    Automatic,
    /// Authorised at confirmation, captured later (when the order ships).
    Manual,
}

impl CaptureMethod {
    /// Stripe's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::Manual => "manual",
        }
    }
}

/// An intent to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntent {
    /// Cents.
    pub amount: i64,
    /// The currency.
    pub currency: Currency,
    /// When the money is taken.
    pub capture: CaptureMethod,
    /// The order it pays (kept in the intent's metadata as `order_id`).
    pub order_id: String,
}

/// A PaymentIntent's status, as Stripe names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    /// Waiting for a payment method (first, or after a decline).
    RequiresPaymentMethod,
    /// A payment method is attached; confirmation pending.
    RequiresConfirmation,
    /// The customer must authenticate.
    RequiresAction,
    /// The provider is working on it.
    Processing,
    /// Authorised; waiting for capture.
    RequiresCapture,
    /// Cancelled.
    Canceled,
    /// Paid.
    Succeeded,
}

/// A PaymentIntent as the provider describes it (the fields the shop reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// `pi_…`.
    pub id: String,
    /// Where it stands.
    pub status: IntentStatus,
    /// Cents asked.
    pub amount: i64,
    /// Cents that may still be captured.
    #[serde(default)]
    pub amount_capturable: i64,
    /// Cents captured.
    #[serde(default)]
    pub amount_received: i64,
    /// The currency (lower case).
    pub currency: String,
    /// What a storefront passes to Stripe.js.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The last decline, if the last attempt was declined.
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    /// The shop's notes (`order_id`).
    #[serde(default)]
    pub metadata: std::collections::HashMap<String, String>,
}

/// Why the last attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentError {
    /// `card_declined`, ….
    #[serde(default)]
    pub code: Option<String>,
    /// `insufficient_funds`, ….
    #[serde(default)]
    pub decline_code: Option<String>,
}

impl Intent {
    /// What the intent says about the payment. `refunded` comes from the refunds the shop
    /// recorded or the provider reported (an intent does not carry it).
    pub fn state(&self, refunded: i64) -> ProviderState {
        match self.status {
            IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation => {
                ProviderState::RequiresPayment { failed: self.last_payment_error.is_some() }
            }
            IntentStatus::RequiresAction | IntentStatus::Processing => {
                ProviderState::RequiresAction
            }
            IntentStatus::RequiresCapture => {
                ProviderState::Authorized { capturable: self.amount_capturable }
            }
            IntentStatus::Succeeded => {
                ProviderState::Captured { received: self.amount_received, refunded }
            }
            IntentStatus::Canceled => ProviderState::Canceled,
        }
    }
}

/// A refund as the provider describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// Cents.
    pub amount: i64,
    /// `succeeded`, `pending`, `failed`, `canceled`.
    pub status: String,
    /// The intent refunded.
    pub payment_intent: String,
}

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The card was declined (the intent is back to `requires_payment_method`).
    #[error("declined: {code}")]
    Declined {
        /// `card_declined`, ….
        code: String,
        /// `insufficient_funds`, ….
        decline_code: Option<String>,
    },
    /// The request was refused as invalid in the intent's state (`payment_intent_unexpected_state`,
    /// `amount_too_large`, …): nothing was done.
    #[error("refused: {code}: {message}")]
    Refused {
        /// The provider's error code.
        code: String,
        /// Its message (for logs).
        message: String,
    },
    /// The idempotency key was used with other parameters: a bug, never retried.
    #[error("idempotency key reused with other parameters")]
    KeyReused,
    /// No answer, a 5xx, a 429 or a timeout: the call may or may not have been applied. Ask
    /// again with the same key, or read the intent back.
    #[error("the provider did not answer: {0}")]
    Unavailable(String),
    /// Anything else (authentication, a malformed answer): logged, never shown.
    #[error("payment provider error: {0}")]
    Unexpected(String),
}

/// How the shop takes payments: the provider, the webhook signing secret, the currency, when
/// money is captured, how long an unpaid order holds its stock, and how many unpaid orders a
/// customer may hold.
pub struct PaymentSettings {
    /// The provider.
    pub provider: std::sync::Arc<dyn PaymentProvider>,
    /// The secret the provider signs its events with (`whsec_…`).
    pub webhook_secret: secrecy::SecretString,
    /// The currency of every price.
    pub currency: Currency,
    /// Capture at confirmation, or when the order ships.
    pub capture: CaptureMethod,
    /// How long an unpaid order holds its stock.
    pub hold_seconds: i64,
    /// How many unpaid orders a customer may hold at once.
    pub max_unpaid: u32,
    /// How old an unsettled payment is before reconciliation asks the provider about it.
    pub reconcile_after_seconds: i64,
}

/// Unpaid orders a customer may hold at once by default.
pub const MAX_UNPAID: u32 = 3;

/// The payment provider (Stripe's PaymentIntents model).
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Creates the intent (or answers the one created under `key`).
    async fn create_intent(&self, intent: &NewIntent, key: &str) -> Result<Intent, ProviderError>;
    /// Reads an intent.
    async fn retrieve_intent(&self, id: &str) -> Result<Intent, ProviderError>;
    /// Confirms with a payment method (server-side confirmation: tests, demo, tooling).
    async fn confirm_intent(
        &self,
        id: &str,
        payment_method: &str,
        key: &str,
    ) -> Result<Intent, ProviderError>;
    /// Captures `amount` cents (all that is capturable when `None`).
    async fn capture_intent(
        &self,
        id: &str,
        amount: Option<i64>,
        key: &str,
    ) -> Result<Intent, ProviderError>;
    /// Cancels an intent not yet paid (or releases an authorisation).
    async fn cancel_intent(&self, id: &str, key: &str) -> Result<Intent, ProviderError>;
    /// Refunds `amount` cents of a paid intent.
    async fn refund(&self, intent: &str, amount: i64, key: &str) -> Result<Refund, ProviderError>;
}
