//! The payment settings a function or the local server reads from its environment.

use crate::config::{ConfigError, number};

use super::{CaptureMethod, MAX_UNPAID};

/// Stripe's API.
pub const STRIPE_API: &str = "https://api.stripe.com";
/// Unpaid orders hold their stock this long by default (30 minutes).
pub const DEFAULT_HOLD_SECONDS: i64 = 1800;
/// Payments not final this long are compared with the provider by default (10 minutes).
pub const DEFAULT_RECONCILE_SECONDS: i64 = 600;

/// How payments are configured (besides the provider's secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentConfig {
    /// `STRIPE_API_BASE` (default Stripe's).
    pub api_base: String,
    /// `PAYMENT_CAPTURE`: `automatic` (default) or `manual`.
    pub capture: CaptureMethod,
    /// `PAYMENT_HOLD_SECONDS` (default 1800, 2 to 86,400).
    pub hold_seconds: i64,
    /// `PAYMENT_MAX_UNPAID` (default 3, 1 to 100).
    pub max_unpaid: u32,
    /// `PAYMENT_RECONCILE_AFTER_SECONDS` (default 600, 0 to 86,400).
    pub reconcile_after_seconds: i64,
}

impl PaymentConfig {
    /// The settings of a shop taking payments through `provider`.
    pub fn settings(
        &self,
        provider: std::sync::Arc<dyn super::PaymentProvider>,
        webhook_secret: String,
        currency: crate::domain::Currency,
    ) -> super::PaymentSettings {
        super::PaymentSettings {
            provider,
            webhook_secret: webhook_secret.into(),
            currency,
            capture: self.capture,
            hold_seconds: self.hold_seconds,
            max_unpaid: self.max_unpaid,
            reconcile_after_seconds: self.reconcile_after_seconds,
        }
    }
}

/// A function's payment settings from its environment: none with `PAYMENTS` off; with
/// `stripe`, Stripe's API (`STRIPE_API_BASE`) with `STRIPE_API_KEY` and
/// `STRIPE_WEBHOOK_SECRET` (both required; on AWS they come from Secrets Manager).
#[cfg(feature = "stripe")]
pub fn payment_settings(
    lookup: &impl Fn(&str) -> Option<String>,
    currency: crate::domain::Currency,
) -> Result<Option<super::PaymentSettings>, ConfigError> {
    let Some(config) = payment_config(lookup)? else {
        return Ok(None);
    };
    let key = crate::config::required(lookup, "STRIPE_API_KEY")?;
    let secret = crate::config::required(lookup, "STRIPE_WEBHOOK_SECRET")?;
    let client = super::stripe::StripeClient::new(&config.api_base, &key)
        .map_err(|e| ConfigError { name: "STRIPE_API_BASE", problem: e.to_string() })?;
    Ok(Some(config.settings(std::sync::Arc::new(client), secret, currency)))
}

/// The settings; `PAYMENTS` must be `off` (or unset: `None`) or `stripe`.
pub fn payment_config(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<PaymentConfig>, ConfigError> {
    match lookup("PAYMENTS").as_deref().map(str::trim) {
        None | Some("" | "off") => Ok(None),
        Some("stripe") => Ok(Some(settings(lookup, STRIPE_API)?)),
        Some(other) => Err(ConfigError {
            name: "PAYMENTS",
            problem: format!("must be off or stripe, got {other:?}"),
        }),
    }
}

/// The settings with `default_base` as the API base when `STRIPE_API_BASE` is unset.
pub fn settings(
    lookup: &impl Fn(&str) -> Option<String>,
    default_base: &str,
) -> Result<PaymentConfig, ConfigError> {
    let api_base = lookup("STRIPE_API_BASE")
        .filter(|base| !base.trim().is_empty())
        .unwrap_or_else(|| default_base.to_owned());
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        return Err(ConfigError {
            name: "STRIPE_API_BASE",
            problem: "must be an http(s) URL".into(),
        });
    }
    let capture = match lookup("PAYMENT_CAPTURE").as_deref().map(str::trim) {
        None | Some("" | "automatic") => CaptureMethod::Automatic,
        Some("manual") => CaptureMethod::Manual,
        Some(other) => {
            return Err(ConfigError {
                name: "PAYMENT_CAPTURE",
                problem: format!("must be automatic or manual, got {other:?}"),
            });
        }
    };
    let max_unpaid = number(lookup, "PAYMENT_MAX_UNPAID", i64::from(MAX_UNPAID), 1..=100)?;
    Ok(PaymentConfig {
        api_base,
        capture,
        hold_seconds: number(lookup, "PAYMENT_HOLD_SECONDS", DEFAULT_HOLD_SECONDS, 2..=86_400)?,
        max_unpaid: u32::try_from(max_unpaid).unwrap_or(MAX_UNPAID),
        reconcile_after_seconds: number(
            lookup,
            "PAYMENT_RECONCILE_AFTER_SECONDS",
            DEFAULT_RECONCILE_SECONDS,
            0..=86_400,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<PaymentConfig>, ConfigError> {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        payment_config(&|name: &str| env.get(name).cloned())
    }

    #[test]
    fn payments_are_off_unless_asked_and_read_with_their_defaults() {
        assert_eq!(read(&[]).unwrap(), None);
        assert_eq!(read(&[("PAYMENTS", "off")]).unwrap(), None);
        let on = read(&[("PAYMENTS", "stripe")]).unwrap().expect("on");
        assert_eq!(on.api_base, STRIPE_API);
        assert_eq!(
            (on.capture, on.hold_seconds, on.max_unpaid),
            (CaptureMethod::Automatic, 1800, 3)
        );
        let set = read(&[
            ("PAYMENTS", "stripe"),
            ("PAYMENT_CAPTURE", "manual"),
            ("PAYMENT_HOLD_SECONDS", "5"),
            ("STRIPE_API_BASE", "http://127.0.0.1:9/provider/stripe"),
        ])
        .unwrap()
        .expect("on");
        assert_eq!((set.capture, set.hold_seconds), (CaptureMethod::Manual, 5));
        for (name, value) in [
            ("PAYMENTS", "paypal"),
            ("PAYMENT_CAPTURE", "later"),
            ("PAYMENT_HOLD_SECONDS", "1"),
            ("STRIPE_API_BASE", "ftp://x"),
        ] {
            let pairs = [("PAYMENTS", "stripe"), (name, value)];
            let pairs = if name == "PAYMENTS" { &pairs[1..] } else { &pairs[..] };
            assert_eq!(read(pairs).unwrap_err().name, name, "{name}={value}");
        }
    }
}
