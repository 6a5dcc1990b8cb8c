//! Configuration from the environment, parsed once at start into typed values. A missing or
//! invalid variable stops start-up with a message naming it.

use std::env;

use crate::auth::TokenConfig;

/// A variable that is missing or invalid.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// What a Lambda function needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `JWT_SECRET` (required, ≥ 32 bytes), `JWT_ISSUER`, `JWT_AUDIENCE`,
    /// `ACCESS_TOKEN_TTL_MINUTES` (default 15), `REFRESH_TOKEN_TTL_DAYS` (default 7).
    pub tokens: TokenConfig,
}

/// The shortest accepted HS256 secret, in bytes (the hash's output size).
pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = required(&lookup, "JWT_SECRET")?;
        Ok(Self {
            table_name: required(&lookup, "TABLE_NAME")?,
            tokens: token_config(&lookup, secret.into_bytes())?,
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
    Ok(TokenConfig {
        secret,
        issuer: lookup("JWT_ISSUER").unwrap_or_else(|| "shop".into()),
        audience: lookup("JWT_AUDIENCE").unwrap_or_else(|| "shop-api".into()),
        access_ttl_seconds: number(lookup, "ACCESS_TOKEN_TTL_MINUTES", 15, 1..=1440)? * 60,
        refresh_ttl_seconds: number(lookup, "REFRESH_TOKEN_TTL_DAYS", 7, 1..=90)? * 86_400,
    })
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    match lookup(name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError {
            name,
            problem: "is required".into(),
        }),
    }
}

fn number(
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
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
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
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn names_the_variable_at_fault() {
        assert_eq!(
            from(&[("TABLE_NAME", "shop")]).unwrap_err().name,
            "JWT_SECRET"
        );
        assert_eq!(
            from(&[("JWT_SECRET", SECRET)]).unwrap_err().name,
            "TABLE_NAME"
        );
        assert_eq!(
            from(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")])
                .unwrap_err()
                .name,
            "JWT_SECRET"
        );
        let bad = from(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("REFRESH_TOKEN_TTL_DAYS", "lots"),
        ]);
        assert_eq!(bad.unwrap_err().name, "REFRESH_TOKEN_TTL_DAYS");
    }
}
