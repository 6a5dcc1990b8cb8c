//! [`PaymentProvider`] over Stripe's HTTP API: form-encoded requests with the secret key as a
//! bearer token, an `Idempotency-Key` on every POST, the API version pinned, and Stripe's
//! error object mapped to [`ProviderError`]. The base URL is configurable, so the same client
//! talks to Stripe (`https://api.stripe.com`) or to the local Stripe-compatible provider.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Intent, NewIntent, PaymentProvider, ProviderError, Refund};

/// Stripe's API.
pub const DEFAULT_BASE: &str = "https://api.stripe.com";

pub use super::API_VERSION;

/// Stripe's error object: `{"error": {"type", "code", "decline_code", "message"}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: StripeError,
}

#[derive(Debug, Deserialize)]
struct StripeError {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A Stripe (or Stripe-compatible) API client.
#[derive(Debug, Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl StripeClient {
    /// A client of the API at `base` (no trailing `/v1`) with the secret key `key`.
    pub fn new(base: &str, key: &str) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::Unexpected(format!("HTTP client: {e}")))?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), key: key.to_owned() })
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, String)],
        key: &str,
    ) -> Result<T, ProviderError> {
        let body = serde_urlencoded::to_string(form)
            .map_err(|e| ProviderError::Unexpected(format!("encoding the form: {e}")))?;
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("idempotency-key", key)
            .body(body);
        self.send(request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let response = request
            .bearer_auth(&self.key)
            .header("stripe-version", API_VERSION)
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let status = response.status();
        let bytes =
            response.bytes().await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| ProviderError::Unexpected(format!("malformed answer: {e}")));
        }
        Err(error_of(status, &bytes))
    }
}

/// The error an answer other than 2xx stands for.
fn error_of(status: reqwest::StatusCode, bytes: &[u8]) -> ProviderError {
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return ProviderError::Unavailable(format!("HTTP {status}"));
    }
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(bytes) else {
        return ProviderError::Unexpected(format!("HTTP {status} without an error object"));
    };
    let code = error.code.unwrap_or_else(|| error.kind.clone());
    match error.kind.as_str() {
        "card_error" => ProviderError::Declined { code, decline_code: error.decline_code },
        "idempotency_error" => ProviderError::KeyReused,
        "invalid_request_error" if status.is_client_error() && status.as_u16() != 401 => {
            ProviderError::Refused { code, message: error.message.unwrap_or_default() }
        }
        "rate_limit_error" | "api_error" => ProviderError::Unavailable(code),
        _ => ProviderError::Unexpected(format!("HTTP {status}: {}: {code}", error.kind)),
    }
}

#[async_trait]
impl PaymentProvider for StripeClient {
    async fn create_intent(&self, intent: &NewIntent, key: &str) -> Result<Intent, ProviderError> {
        let form = [
            ("amount", intent.amount.to_string()),
            ("currency", intent.currency.code().to_owned()),
            ("capture_method", intent.capture.as_str().to_owned()),
            ("payment_method_types[0]", "card".to_owned()),
            ("metadata[order_id]", intent.order_id.clone()),
        ];
        self.post("/v1/payment_intents", &form, key).await
    }

    async fn retrieve_intent(&self, id: &str) -> Result<Intent, ProviderError> {
        let request = self.http.get(format!("{}/v1/payment_intents/{}", self.base, path_id(id)?));
        self.send(request).await
    }

    async fn confirm_intent(
        &self,
        id: &str,
        payment_method: &str,
        key: &str,
    ) -> Result<Intent, ProviderError> {
        let path = format!("/v1/payment_intents/{}/confirm", path_id(id)?);
        self.post(&path, &[("payment_method", payment_method.to_owned())], key).await
    }

    async fn capture_intent(
        &self,
        id: &str,
        amount: Option<i64>,
        key: &str,
    ) -> Result<Intent, ProviderError> {
        let path = format!("/v1/payment_intents/{}/capture", path_id(id)?);
        let form: Vec<(&str, String)> =
            amount.map(|a| ("amount_to_capture", a.to_string())).into_iter().collect();
        self.post(&path, &form, key).await
    }

    async fn cancel_intent(&self, id: &str, key: &str) -> Result<Intent, ProviderError> {
        let path = format!("/v1/payment_intents/{}/cancel", path_id(id)?);
        self.post(&path, &[], key).await
    }

    async fn refund(&self, intent: &str, amount: i64, key: &str) -> Result<Refund, ProviderError> {
        let form = [("payment_intent", intent.to_owned()), ("amount", amount.to_string())];
        self.post("/v1/refunds", &form, key).await
    }
}

/// An intent id safe to put in a path (Stripe's are `pi_` and alphanumerics).
fn path_id(id: &str) -> Result<&str, ProviderError> {
    let safe = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    safe.then_some(id).ok_or_else(|| ProviderError::Unexpected(format!("not an intent id: {id:?}")))
}
