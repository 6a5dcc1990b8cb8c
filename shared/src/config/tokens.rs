//! Signing keys, token lifetimes and login throttling: what the account service is given.

use secrecy::SecretSlice;

use super::{ConfigError, number};

/// The shortest accepted HS256 secret, in bytes (the hash's output size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Signing settings, read from the environment at start. The keys are secrets: their `Debug`
/// is redacted and their memory zeroed when dropped.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// HS256 key; at least 32 bytes.
    pub secret: SecretSlice<u8>,
    /// The key's generation: the `kid` of every token signed with `secret`. Generation `n - 1`
    /// is the previous key.
    pub key_generation: u32,
    /// The previous generation's key, still accepted (never used to sign) so tokens issued
    /// before a rotation keep working until they expire.
    pub previous_secret: Option<SecretSlice<u8>>,
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
    /// issuer `shop`, audience `shop-api`, 15-minute access and 7-day refresh tokens. The one
    /// place these defaults are written: [`token_config`] reads its defaults from here.
    pub fn with_secret(secret: Vec<u8>) -> Self {
        Self {
            secret: secret.into(),
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
    /// 10 failures in 15 minutes (the one place these defaults are written).
    fn default() -> Self {
        Self { max_failures: 10, window_seconds: 15 * 60 }
    }
}

/// `LOGIN_MAX_FAILURES` and `LOGIN_FAILURE_WINDOW_MINUTES` from `lookup`, defaulting to
/// [`LoginPolicy::default`].
pub fn login_policy(lookup: &impl Fn(&str) -> Option<String>) -> Result<LoginPolicy, ConfigError> {
    let default = LoginPolicy::default();
    let max_failures = number(lookup, "LOGIN_MAX_FAILURES", default.max_failures.into(), 1..=1000)?;
    let minutes =
        number(lookup, "LOGIN_FAILURE_WINDOW_MINUTES", default.window_seconds / 60, 1..=1440)?;
    Ok(LoginPolicy {
        max_failures: u32::try_from(max_failures).unwrap_or(default.max_failures),
        window_seconds: minutes * 60,
    })
}

/// Token settings from `lookup`, with `secret` already chosen; every default is
/// [`TokenConfig::with_secret`]'s.
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
        Some(text) => Some(text.into_bytes().into()),
    };
    let d = TokenConfig::with_secret(secret);
    let generation = number(lookup, "JWT_KEY_GENERATION", d.key_generation.into(), 1..=1_000_000)?;
    let grace = d.refresh_reuse_grace_seconds;
    let access_minutes = d.access_ttl_seconds / 60;
    let refresh_days = d.refresh_ttl_seconds / 86_400;
    Ok(TokenConfig {
        key_generation: u32::try_from(generation).unwrap_or(d.key_generation),
        previous_secret,
        refresh_reuse_grace_seconds: number(lookup, "REFRESH_REUSE_GRACE_SECONDS", grace, 0..=300)?,
        issuer: lookup("JWT_ISSUER").unwrap_or_else(|| d.issuer.clone()),
        audience: lookup("JWT_AUDIENCE").unwrap_or_else(|| d.audience.clone()),
        access_ttl_seconds: number(lookup, "ACCESS_TOKEN_TTL_MINUTES", access_minutes, 1..=1440)?
            * 60,
        refresh_ttl_seconds: number(lookup, "REFRESH_TOKEN_TTL_DAYS", refresh_days, 1..=90)?
            * 86_400,
        ..d
    })
}
