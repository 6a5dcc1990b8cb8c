//! What the local server reads from its environment: the same readers as the Lambda functions
//! (tokens, login throttling, CORS, e-mail branding, webhook retries), so a setting added there
//! is read here too, plus what only the local server has.

use rand::RngCore;
use secrecy::SecretString;

use super::{
    ConfigError, CorsOrigins, FromEnvironment, LoginPolicy, TokenConfig, branding, cors_origins,
    login_policy, number, token_config, webhook_retry_base,
};
use crate::domain::Branding;

/// The local server's table when `TABLE_NAME` is unset.
pub const DEFAULT_TABLE: &str = "shop-local";

/// The local server's settings.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// `TABLE_NAME` (default [`DEFAULT_TABLE`]), with `--store dynamodb`.
    pub table_name: String,
    /// `JWT_SECRET` and the other token settings; without `JWT_SECRET`, a random key for this
    /// run only (tokens then do not survive a restart).
    pub tokens: TokenConfig,
    /// Whether the key was generated.
    pub generated_secret: bool,
    /// `SHOP_ADMIN_EMAIL` and `SHOP_ADMIN_PASSWORD`: an admin account made at start.
    pub admin: Option<(String, SecretString)>,
    /// As the functions read it.
    pub login: LoginPolicy,
    /// As the functions read it.
    pub cors: CorsOrigins,
    /// As the e-mail worker reads it.
    pub branding: Branding,
    /// As the webhook worker reads it.
    pub retry_base_seconds: u64,
    /// `SHOP_VISIBILITY_TIMEOUT_SECONDS`: how long the in-process queue waits before it
    /// delivers a failed order event again, as SQS's visibility timeout (default 30, 1 to
    /// 43,200).
    pub visibility_timeout_seconds: u64,
}

impl FromEnvironment for LocalConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let (secret, generated_secret) = match set("JWT_SECRET") {
            Some(secret) => (secret.into_bytes(), false),
            None => {
                let mut secret = vec![0_u8; 64];
                rand::rng().fill_bytes(&mut secret);
                (secret, true)
            }
        };
        let admin = set("SHOP_ADMIN_EMAIL")
            .zip(set("SHOP_ADMIN_PASSWORD"))
            .map(|(email, password)| (email, SecretString::from(password)));
        let timeout = number(&lookup, "SHOP_VISIBILITY_TIMEOUT_SECONDS", 30, 1..=43_200)?;
        Ok(Self {
            table_name: set("TABLE_NAME").unwrap_or_else(|| DEFAULT_TABLE.into()),
            tokens: token_config(&lookup, secret)?,
            generated_secret,
            admin,
            login: login_policy(&lookup)?,
            cors: cors_origins(&lookup)?,
            branding: branding(&lookup)?,
            retry_base_seconds: webhook_retry_base(&lookup)?,
            visibility_timeout_seconds: timeout.unsigned_abs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn from(vars: &[(&'static str, &str)]) -> Result<LocalConfig, ConfigError> {
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        LocalConfig::from_lookup(|name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn a_missing_secret_is_generated_per_run_and_a_given_one_is_used() {
        let (first, second) = (from(&[]).expect("defaults"), from(&[]).expect("defaults"));
        assert!(first.generated_secret);
        assert!(first.tokens.secret.expose_secret().len() >= 32);
        assert_ne!(first.tokens.secret.expose_secret(), second.tokens.secret.expose_secret());
        assert_eq!(
            (first.table_name.as_str(), first.visibility_timeout_seconds),
            (DEFAULT_TABLE, 30)
        );
        assert_eq!(first.admin.map(|(email, _)| email), None);

        let given = "x".repeat(40);
        let config = from(&[("JWT_SECRET", &given)]).expect("valid");
        assert!(!config.generated_secret);
        assert_eq!(config.tokens.secret.expose_secret(), given.as_bytes());
        assert!(!format!("{config:?}").contains(&given), "secrets are redacted");
        assert_eq!(from(&[("JWT_SECRET", "short")]).unwrap_err().name, "JWT_SECRET");
    }

    #[test]
    fn the_functions_readers_apply_locally() {
        let config = from(&[
            ("LOGIN_MAX_FAILURES", "3"),
            ("CORS_ALLOWED_ORIGINS", "https://shop.example.com"),
            ("SHOP_NAME", "Local Shop"),
            ("WEBHOOK_RETRY_BASE_SECONDS", "1"),
            ("SHOP_ADMIN_EMAIL", "boss@shop.test"),
            ("SHOP_ADMIN_PASSWORD", "a-secret-password"),
        ])
        .expect("valid");
        assert_eq!(config.login.max_failures, 3);
        assert_eq!(config.cors, CorsOrigins::List(vec!["https://shop.example.com".into()]));
        assert_eq!(
            (config.branding.shop_name.as_str(), config.retry_base_seconds),
            ("Local Shop", 1)
        );
        let (email, password) = config.admin.clone().expect("admin");
        assert_eq!(
            (email.as_str(), password.expose_secret()),
            ("boss@shop.test", "a-secret-password")
        );
        assert!(!format!("{config:?}").contains("a-secret-password"));
        let bad = from(&[("SHOP_VISIBILITY_TIMEOUT_SECONDS", "0")]);
        assert_eq!(bad.unwrap_err().name, "SHOP_VISIBILITY_TIMEOUT_SECONDS");
    }
}
