//! Configuration from the environment, parsed once at start into typed values. A missing or
//! invalid variable stops start-up with a message naming it.

use crate::domain::{Branding, CurrencyError, ORDER_ID_PLACEHOLDER, is_forbidden_in_text};
use std::env;

/// Signing settings, read from the environment at start.
#[derive(Clone)]
pub struct TokenConfig {
    /// HS256 key; at least 32 bytes.
    pub secret: Vec<u8>,
    /// The key's generation: the `kid` of every token signed with `secret`. Generation `n - 1`
    /// is the previous key.
    pub key_generation: u32,
    /// The previous generation's key, still accepted (never used to sign) so tokens issued
    /// before a rotation keep working until they expire.
    pub previous_secret: Option<Vec<u8>>,
    /// How long the refresh token just rotated out may be exchanged again (0: never).
    pub refresh_reuse_grace_seconds: i64,
    /// `iss` of issued and accepted tokens.
    pub issuer: String,
    /// `aud` of issued and accepted tokens.
    pub audience: String,
    /// Access token lifetime.
    pub access_ttl_seconds: i64,
    /// Refresh token and session lifetime.
    pub refresh_ttl_seconds: i64,
}

impl TokenConfig {
    /// The defaults with this key: generation 1, no previous key, a 10 s refresh grace,
    /// issuer `shop`, audience `shop-api`, 15-minute access and 7-day refresh tokens.
    pub fn with_secret(secret: Vec<u8>) -> Self {
        Self {
            secret,
            key_generation: 1,
            previous_secret: None,
            refresh_reuse_grace_seconds: 10,
            issuer: "shop".into(),
            audience: "shop-api".into(),
            access_ttl_seconds: 15 * 60,
            refresh_ttl_seconds: 7 * 86_400,
        }
    }
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("secret", &"***")
            .field("key_generation", &self.key_generation)
            .field("previous_secret", &self.previous_secret.as_ref().map(|_| "***"))
            .field("refresh_reuse_grace_seconds", &self.refresh_reuse_grace_seconds)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl_seconds", &self.access_ttl_seconds)
            .field("refresh_ttl_seconds", &self.refresh_ttl_seconds)
            .finish()
    }
}

/// Per-account login throttling: after `max_failures` failed logins for one e-mail within
/// `window_seconds` of the first, every login for it is refused until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Failures that lock the address.
    pub max_failures: u32,
    /// The window, from the first failure.
    pub window_seconds: i64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self { max_failures: 10, window_seconds: 15 * 60 }
    }
}

/// A variable that is missing or invalid.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

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

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`*`): the API authenticates with bearer tokens, never cookies, so a page on
    /// another origin gains nothing a script elsewhere could not do.
    Any,
    /// Only these origins (`https://shop.example.com`), compared exactly.
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `*` or a comma-separated list of origins (`scheme://host[:port]`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for origin in text.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let well_formed = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && origin.split("://").nth(1).is_some_and(|rest| {
                    !rest.is_empty() && !rest.contains('/') && !rest.contains(char::is_whitespace)
                });
            if !well_formed {
                return Err(format!("{origin:?} is not an origin (scheme://host[:port], no path)"));
            }
            origins.push(origin.to_owned());
        }
        Ok(Self::List(origins))
    }
}

/// `CORS_ALLOWED_ORIGINS` from `lookup` (`*` when unset).
pub fn cors_origins(lookup: &impl Fn(&str) -> Option<String>) -> Result<CorsOrigins, ConfigError> {
    CorsOrigins::parse(&lookup("CORS_ALLOWED_ORIGINS").unwrap_or_default())
        .map_err(|problem| ConfigError { name: "CORS_ALLOWED_ORIGINS", problem })
}

/// `LOGIN_MAX_FAILURES` and `LOGIN_FAILURE_WINDOW_MINUTES` from `lookup`.
pub fn login_policy(lookup: &impl Fn(&str) -> Option<String>) -> Result<LoginPolicy, ConfigError> {
    Ok(LoginPolicy {
        max_failures: number(lookup, "LOGIN_MAX_FAILURES", 10, 1..=1000)? as u32,
        window_seconds: number(lookup, "LOGIN_FAILURE_WINDOW_MINUTES", 15, 1..=1440)? * 60,
    })
}

/// What the orders function needs besides [`Config`]: where order events go.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// `ORDER_EVENTS_TOPIC_ARN`: the order-events SNS topic (one queue per consumer).
    pub topic_arn: String,
}

impl FromEnvironment for EventsConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { topic_arn: required(&lookup, "ORDER_EVENTS_TOPIC_ARN")? })
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

/// `SHOP_VISIBILITY_TIMEOUT_SECONDS`: how long the local server's pipeline waits before it
/// delivers a failed order event again, as SQS's visibility timeout (default 30, 1 to 43200).
pub fn local_visibility_timeout(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<u64, ConfigError> {
    number(lookup, "SHOP_VISIBILITY_TIMEOUT_SECONDS", 30, 1..=43_200).map(|n| n.unsigned_abs())
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

/// The shortest accepted HS256 secret, in bytes (the hash's output size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Settings read from named variables: the process environment on Lambda, a map in tests.
pub trait FromEnvironment: Sized {
    /// Reads through `lookup`; a missing or invalid variable is an error naming it.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    /// Reads the process environment.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
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

/// Token settings from `lookup`, with `secret` already chosen.
pub fn token_config(
    lookup: &impl Fn(&str) -> Option<String>,
    secret: Vec<u8>,
) -> Result<TokenConfig, ConfigError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(ConfigError {
            name: "JWT_SECRET",
            problem: format!("must be at least {MIN_SECRET_BYTES} bytes"),
        });
    }
    let previous_secret = match lookup("JWT_PREVIOUS_SECRET") {
        // The deployed secret holds `none` until its first rotation.
        None => None,
        Some(text) if text.trim().is_empty() || text.trim() == "none" => None,
        Some(text) if text.len() < MIN_SECRET_BYTES => {
            return Err(ConfigError {
                name: "JWT_PREVIOUS_SECRET",
                problem: format!("must be at least {MIN_SECRET_BYTES} bytes, or none"),
            });
        }
        Some(text) => Some(text.into_bytes()),
    };
    Ok(TokenConfig {
        key_generation: number(lookup, "JWT_KEY_GENERATION", 1, 1..=1_000_000)? as u32,
        previous_secret,
        refresh_reuse_grace_seconds: number(lookup, "REFRESH_REUSE_GRACE_SECONDS", 10, 0..=300)?,
        issuer: lookup("JWT_ISSUER").unwrap_or_else(|| "shop".into()),
        audience: lookup("JWT_AUDIENCE").unwrap_or_else(|| "shop-api".into()),
        access_ttl_seconds: number(lookup, "ACCESS_TOKEN_TTL_MINUTES", 15, 1..=1440)? * 60,
        refresh_ttl_seconds: number(lookup, "REFRESH_TOKEN_TTL_DAYS", 7, 1..=90)? * 86_400,
        ..TokenConfig::with_secret(secret)
    })
}

pub(crate) fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    match lookup(name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError { name, problem: "is required".into() }),
    }
}

pub(crate) fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    let Some(text) = lookup(name) else {
        return Ok(default);
    };
    match text.trim().parse::<i64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ConfigError {
            name,
            problem: format!(
                "must be a whole number from {} to {}, got {text:?}",
                range.start(),
                range.end()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_required_and_default_values() {
        let config = from(&[
            ("TABLE_NAME", "shop"),
            ("JWT_SECRET", SECRET),
            ("ACCESS_TOKEN_TTL_MINUTES", "5"),
        ])
        .unwrap();
        assert_eq!(config.table_name, "shop");
        assert_eq!(config.tokens.access_ttl_seconds, 300);
        assert_eq!(config.tokens.refresh_ttl_seconds, 7 * 86_400);
        assert_eq!(config.tokens.refresh_reuse_grace_seconds, 10);
        assert_eq!(config.tokens.key_generation, 1);
        assert_eq!(config.tokens.previous_secret, None);
        assert_eq!(config.login.max_failures, 10);
        assert_eq!(config.login.window_seconds, 15 * 60);
        assert_eq!(config.cors, CorsOrigins::Any);
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn the_workers_name_their_missing_variables() {
        let vars = |pairs: &'static [(&str, &str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let worker = WorkerConfig::from_lookup(vars(&[("TABLE_NAME", "t")]));
        assert_eq!(worker.unwrap_err().name, "SENDER_ADDRESS");
        let relay = RelayConfig::from_lookup(vars(&[("TABLE_NAME", "t")]));
        assert_eq!(relay.unwrap_err().name, "ORDER_EVENTS_TOPIC_ARN");
        let events = EventsConfig::from_lookup(vars(&[("ORDER_EVENTS_TOPIC_ARN", "arn:t")]));
        assert_eq!(events.unwrap().topic_arn, "arn:t");
        let hooks = WebhookWorkerConfig::from_lookup(vars(&[("TABLE_NAME", "t")]));
        assert_eq!(hooks.unwrap_err().name, "WEBHOOK_QUEUE_URL");
        let hooks = WebhookWorkerConfig::from_lookup(vars(&[
            ("TABLE_NAME", "t"),
            ("WEBHOOK_QUEUE_URL", "q"),
        ]));
        assert_eq!(hooks.unwrap().retry_base_seconds, 10);
        let base = |v: &'static str| {
            webhook_retry_base(&|name: &str| {
                (name == "WEBHOOK_RETRY_BASE_SECONDS").then(|| v.to_owned())
            })
        };
        assert_eq!(base("3").unwrap(), 3);
        for bad in ["0", "-5", "ten", "3601"] {
            assert_eq!(base(bad).unwrap_err().name, "WEBHOOK_RETRY_BASE_SECONDS", "{bad}");
        }
        let worker = WorkerConfig::from_lookup(vars(&[
            ("TABLE_NAME", "t"),
            ("SENDER_ADDRESS", "orders@shop.example"),
        ]));
        assert_eq!(worker.unwrap().sender, "orders@shop.example");
    }

    #[test]
    fn reads_rotation_throttling_and_cors_settings() {
        let previous = "fedcba9876543210fedcba9876543210";
        let config = from(&[
            ("TABLE_NAME", "shop"),
            ("JWT_SECRET", SECRET),
            ("JWT_KEY_GENERATION", "3"),
            ("JWT_PREVIOUS_SECRET", previous),
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
            ("LOGIN_MAX_FAILURES", "3"),
            ("LOGIN_FAILURE_WINDOW_MINUTES", "1"),
            ("CORS_ALLOWED_ORIGINS", "https://shop.example.com, http://localhost:5173"),
        ])
        .unwrap();
        assert_eq!(config.tokens.key_generation, 3);
        assert_eq!(config.tokens.previous_secret.as_deref(), Some(previous.as_bytes()));
        assert!(!format!("{config:?}").contains(previous));
        assert_eq!(config.tokens.refresh_reuse_grace_seconds, 0);
        assert_eq!(config.login.max_failures, 3);
        assert_eq!(config.login.window_seconds, 60);
        assert_eq!(
            config.cors,
            CorsOrigins::List(vec![
                "https://shop.example.com".into(),
                "http://localhost:5173".into()
            ])
        );
        let none = from(&[
            ("TABLE_NAME", "shop"),
            ("JWT_SECRET", SECRET),
            ("JWT_PREVIOUS_SECRET", "none"),
        ]);
        assert_eq!(none.unwrap().tokens.previous_secret, None);
    }

    #[test]
    fn names_the_variable_at_fault() {
        assert_eq!(from(&[("TABLE_NAME", "shop")]).unwrap_err().name, "JWT_SECRET");
        assert_eq!(from(&[("JWT_SECRET", SECRET)]).unwrap_err().name, "TABLE_NAME");
        assert_eq!(
            from(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")]).unwrap_err().name,
            "JWT_SECRET"
        );
        let bad = from(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("REFRESH_TOKEN_TTL_DAYS", "lots"),
        ]);
        assert_eq!(bad.unwrap_err().name, "REFRESH_TOKEN_TTL_DAYS");
        for (name, value) in [
            ("JWT_PREVIOUS_SECRET", "short"),
            ("JWT_KEY_GENERATION", "0"),
            ("REFRESH_REUSE_GRACE_SECONDS", "-1"),
            ("LOGIN_MAX_FAILURES", "0"),
            ("LOGIN_FAILURE_WINDOW_MINUTES", "never"),
            ("CORS_ALLOWED_ORIGINS", "https://shop.example.com/"),
            ("CORS_ALLOWED_ORIGINS", "shop.example.com"),
        ] {
            let bad = from(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), (name, value)]);
            assert_eq!(bad.unwrap_err().name, name, "{name}={value}");
        }
    }
}
