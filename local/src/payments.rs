//! Payments in the local server: the shop's Stripe adapter pointed at the Stripe-compatible
//! provider this process serves (over real HTTP, on its own port), the shop's webhook endpoint
//! subscribed to the provider's events, and the scheduled jobs (expiring unpaid holds,
//! reconciliation) run by a timer.

use std::{sync::Arc, time::Duration};

use rand::RngCore;
use shared::{
    AppState,
    config::ConfigError,
    domain::{Branding, Timestamp},
    payments::{config::settings, stripe::StripeClient},
};

use crate::stripe::{LocalStripe, PREFIX};

/// The API key the local server's adapter uses when `STRIPE_API_KEY` is unset.
pub const LOCAL_API_KEY: &str = "sk_test_local";
/// The shop's webhook route.
pub const WEBHOOK_PATH: &str = "/payments/stripe/webhook";

/// `state` taking payments through `provider`, served at `address`: `STRIPE_API_BASE`
/// (default this server's provider), `STRIPE_API_KEY` (default `sk_test_local`),
/// `STRIPE_WEBHOOK_SECRET` (random if unset), `PAYMENT_HOLD_SECONDS`, `PAYMENT_CAPTURE`.
pub fn with_local_payments(
    state: AppState,
    provider: &LocalStripe,
    address: std::net::SocketAddr,
    lookup: &impl Fn(&str) -> Option<String>,
    branding: &Branding,
) -> anyhow::Result<AppState> {
    let config = settings(lookup, &format!("http://{address}{PREFIX}"))?;
    let key = lookup("STRIPE_API_KEY").unwrap_or_else(|| LOCAL_API_KEY.to_owned());
    let secret = lookup("STRIPE_WEBHOOK_SECRET").filter(|s| !s.is_empty()).unwrap_or_else(|| {
        let mut bytes = [0_u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        format!("whsec_{}", hex::encode(bytes))
    });
    let client = StripeClient::new(&config.api_base, &key)
        .map_err(|e| ConfigError { name: "STRIPE_API_BASE", problem: e.to_string() })?;
    provider.subscribe(format!("http://{address}{WEBHOOK_PATH}"), secret.clone());
    let settings = config.settings(Arc::new(client), secret, branding.currency);
    Ok(state.with_payments(settings))
}

/// Runs the payment jobs every `every` for the life of the process: unpaid holds that ended
/// are expired, and payments not final are reconciled with the provider.
pub fn spawn_payment_jobs(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(every);
        loop {
            timer.tick().await;
            if let Err(error) = state.orders().reconcile(Timestamp::now()).await {
                tracing::warn!(error = %error, "payment jobs failed; trying again");
            }
        }
    })
}
