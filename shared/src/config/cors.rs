//! Which browser origins may call the API (`CORS_ALLOWED_ORIGINS`).

use super::ConfigError;

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
