//! What each Lambda function reads at start, one struct per binary.

use crate::domain::{Branding, CurrencyError, ORDER_ID_PLACEHOLDER, is_forbidden_in_text};

use super::{
    ConfigError, CorsOrigins, FromEnvironment, LoginPolicy, TokenConfig, cors_origins,
    login_policy, number, required, token_config,
};

/// What a Lambda function needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `JWT_SECRET` (required, ≥ 32 bytes), `JWT_KEY_GENERATION` (default 1),
    /// `JWT_PREVIOUS_SECRET` (optional), `JWT_ISSUER`, `JWT_AUDIENCE`,
    /// `ACCESS_TOKEN_TTL_MINUTES` (default 15), `REFRESH_TOKEN_TTL_DAYS` (default 7),
    /// `REFRESH_REUSE_GRACE_SECONDS` (default 10).
    pub tokens: TokenConfig,
    /// `LOGIN_MAX_FAILURES` (default 10), `LOGIN_FAILURE_WINDOW_MINUTES` (default 15).
    pub login: LoginPolicy,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins, or `*` (the default).
    pub cors: CorsOrigins,
}

/// What the orders function needs besides [`Config`]: where order events go.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// `ORDER_EVENTS_TOPIC_ARN`: the order-events SNS topic (one queue per consumer).
    pub topic_arn: String,
    /// `PAYMENT_HOLDS_QUEUE_URL` (optional): where unpaid holds are announced to end.
    pub holds_queue_url: Option<String>,
}

impl FromEnvironment for EventsConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            topic_arn: required(&lookup, "ORDER_EVENTS_TOPIC_ARN")?,
            holds_queue_url: lookup("PAYMENT_HOLDS_QUEUE_URL").filter(|q| !q.trim().is_empty()),
        })
    }
}

/// What the order-webhooks worker needs.
#[derive(Debug, Clone)]
pub struct WebhookWorkerConfig {
    /// `TABLE_NAME`.
    pub table_name: String,
    /// `WEBHOOK_QUEUE_URL`: the worker's queue, whose messages it delays for retries.
    pub queue_url: String,
    /// `WEBHOOK_RETRY_BASE_SECONDS` (see [`webhook_retry_base`]).
    pub retry_base_seconds: u64,
}

impl FromEnvironment for WebhookWorkerConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(&lookup, "TABLE_NAME")?,
            queue_url: required(&lookup, "WEBHOOK_QUEUE_URL")?,
            retry_base_seconds: webhook_retry_base(&lookup)?,
        })
    }
}

/// `WEBHOOK_RETRY_BASE_SECONDS`: the wait before a webhook's first retry, doubling after
/// (default 10, 1 to 3600).
pub fn webhook_retry_base(lookup: &impl Fn(&str) -> Option<String>) -> Result<u64, ConfigError> {
    number(lookup, "WEBHOOK_RETRY_BASE_SECONDS", 10, 1..=3600).map(|n| n.unsigned_abs())
}

/// How customer e-mails present the shop: `SHOP_NAME` (default `Shop`, at most 100
/// characters of one line), `CURRENCY` (default `eur`; a currency with cents, as the prices),
/// `ORDER_URL_TEMPLATE` (optional: an `http(s)://` URL holding `{order_id}`).
pub fn branding(lookup: &impl Fn(&str) -> Option<String>) -> Result<Branding, ConfigError> {
    let defaults = Branding::default();
    let set = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
    let shop_name = match set("SHOP_NAME") {
        None => defaults.shop_name,
        Some(name) if name.chars().count() <= 100 && !name.chars().any(is_forbidden_in_text) => {
            name.trim().to_owned()
        }
        Some(_) => {
            return Err(ConfigError {
                name: "SHOP_NAME",
                problem: "must be one line of at most 100 characters".into(),
            });
        }
    };
    let currency = match set("CURRENCY") {
        None => defaults.currency,
        Some(code) => code
            .parse()
            .map_err(|e: CurrencyError| ConfigError { name: "CURRENCY", problem: e.to_string() })?,
    };
    let order_url_template = set("ORDER_URL_TEMPLATE").map(|t| t.trim().to_owned());
    if let Some(template) = &order_url_template {
        let web = template.starts_with("https://") || template.starts_with("http://");
        if !web || !template.contains(ORDER_ID_PLACEHOLDER) {
            let problem = format!("must be an http(s) URL holding {ORDER_ID_PLACEHOLDER}");
            return Err(ConfigError { name: "ORDER_URL_TEMPLATE", problem });
        }
    }
    Ok(Branding { shop_name, currency, order_url_template })
}

/// What the order-emails worker needs: the table and the From address.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `TABLE_NAME`.
    pub table_name: String,
    /// `SENDER_ADDRESS`: the From of every order e-mail (an SES identity).
    pub sender: String,
    /// `SES_CONFIGURATION_SET` (optional): the SES configuration set the e-mails are sent
    /// through, which publishes their deliveries, bounces and complaints.
    pub configuration_set: Option<String>,
    /// `SHOP_NAME`, `CURRENCY`, `ORDER_URL_TEMPLATE`: how the e-mails present the shop.
    pub branding: Branding,
}

impl FromEnvironment for WorkerConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(&lookup, "TABLE_NAME")?,
            sender: required(&lookup, "SENDER_ADDRESS")?,
            configuration_set: lookup("SES_CONFIGURATION_SET").filter(|s| !s.is_empty()),
            branding: branding(&lookup)?,
        })
    }
}

/// What the outbox relay needs: the table and the topic.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// `TABLE_NAME`.
    pub table_name: String,
    /// `ORDER_EVENTS_TOPIC_ARN`.
    pub topic_arn: String,
}

impl FromEnvironment for RelayConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(&lookup, "TABLE_NAME")?,
            topic_arn: required(&lookup, "ORDER_EVENTS_TOPIC_ARN")?,
        })
    }
}

impl FromEnvironment for Config {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = required(&lookup, "JWT_SECRET")?;
        Ok(Self {
            table_name: required(&lookup, "TABLE_NAME")?,
            tokens: token_config(&lookup, secret.into_bytes())?,
            login: login_policy(&lookup)?,
            cors: cors_origins(&lookup)?,
        })
    }
}

/// What the payment-jobs function needs besides the payment settings.
#[derive(Debug, Clone)]
pub struct PaymentJobsConfig {
    /// `TABLE_NAME`.
    pub table_name: String,
    /// `PAYMENT_HOLDS_QUEUE_URL`: the holds queue, required when payments are on.
    pub holds_queue_url: Option<String>,
}

impl FromEnvironment for PaymentJobsConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(&lookup, "TABLE_NAME")?,
            holds_queue_url: lookup("PAYMENT_HOLDS_QUEUE_URL").filter(|q| !q.trim().is_empty()),
        })
    }
}
