//! Configuration from the environment, parsed once at start into typed values. A missing or
//! invalid variable stops start-up with a message naming it. One file per concern:
//! [`tokens`] (signing keys, token lifetimes, login throttling), [`cors`] (browser origins),
//! [`functions`] (what each Lambda binary reads) and [`local`] (the local server, built from
//! the same readers). Payment settings are read in `payments::config`.

mod cors;
mod functions;
mod local;
mod tokens;

use std::env;

pub use cors::{CorsOrigins, cors_origins};
pub use functions::{
    Config, EventsConfig, PaymentJobsConfig, RelayConfig, WebhookWorkerConfig, WorkerConfig,
    branding, webhook_retry_base,
};
pub use local::{DEFAULT_TABLE, LocalConfig};
pub use tokens::{LoginPolicy, MIN_SECRET_BYTES, TokenConfig, login_policy, token_config};

/// The metrics namespace when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_METRICS_NAMESPACE: &str = "Shop";

/// A variable that is missing or invalid.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// Settings read from named variables: the process environment on Lambda, a map in tests.
pub trait FromEnvironment: Sized {
    /// Reads through `lookup`; a missing or invalid variable is an error naming it.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    /// Reads the process environment.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }
}

/// `METRICS_NAMESPACE`: the CloudWatch namespace of the EMF metrics (default `Shop`).
pub fn metrics_namespace(lookup: &impl Fn(&str) -> Option<String>) -> String {
    lookup("METRICS_NAMESPACE")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into())
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

    use secrecy::ExposeSecret;

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
        assert!(config.tokens.previous_secret.is_none());
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
        let kept = config.tokens.previous_secret.as_ref().map(|s| s.expose_secret().to_vec());
        assert_eq!(kept.as_deref(), Some(previous.as_bytes()));
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
        assert!(none.unwrap().tokens.previous_secret.is_none());
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
