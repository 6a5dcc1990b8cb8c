//! HS256 access and refresh tokens: issuing with the current key generation, verifying with
//! the current or the previous one.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::{
    config::TokenConfig,
    domain::{Email, Role, SessionId, Timestamp, TokenId, UserId},
};

/// Access tokens authorise requests; refresh tokens only buy a new pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Authorises requests; short-lived.
    Access,
    /// Buys a new pair; spent when used.
    Refresh,
}

/// The claims of every token this service issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the account's id.
    pub sub: UserId,
    /// The role at issue time (informational: the session's role is the one that counts).
    pub role: Role,
    /// The e-mail at issue time (informational).
    pub email: String,
    /// The token's own id.
    pub jti: TokenId,
    /// The session it belongs to.
    pub sid: SessionId,
    /// Access or refresh.
    pub typ: TokenKind,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// An access and a refresh token, as the login and refresh responses carry them.
#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    /// Authorises requests.
    pub access_token: String,
    /// Buys a new pair.
    pub refresh_token: String,
}

/// Why a presented token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid")]
    Invalid,
}

/// Issues and verifies HS256 JWTs. Each token names its key generation in its `kid` header;
/// the current and the previous generation are accepted.
pub struct Tokens {
    config: TokenConfig,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    previous: Option<(String, DecodingKey)>,
    validation: Validation,
}

impl Tokens {
    /// Builds keys and validation rules once per cold start.
    pub fn new(config: TokenConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let previous = config.previous_secret.as_ref().map(|secret| {
            (
                config.key_generation.saturating_sub(1).to_string(),
                DecodingKey::from_secret(secret.expose_secret()),
            )
        });
        Self {
            kid: config.key_generation.to_string(),
            encoding: EncodingKey::from_secret(config.secret.expose_secret()),
            decoding: DecodingKey::from_secret(config.secret.expose_secret()),
            previous,
            validation,
            config,
        }
    }

    /// The grace window for exchanging a just-rotated refresh token again, in seconds.
    pub fn refresh_reuse_grace_seconds(&self) -> i64 {
        self.config.refresh_reuse_grace_seconds
    }

    /// The key a token's `kid` names: the current one (also for tokens without a `kid`, from
    /// before generations), or the previous one.
    fn key_for(&self, token: &str) -> Result<&DecodingKey, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        match header.kid {
            None => Ok(&self.decoding),
            Some(kid) if kid == self.kid => Ok(&self.decoding),
            Some(kid) => match &self.previous {
                Some((previous, key)) if *previous == kid => Ok(key),
                _ => Err(TokenError::Invalid),
            },
        }
    }

    /// The configured lifetime of a refresh token, which is also the session's.
    pub fn refresh_ttl_seconds(&self) -> i64 {
        self.config.refresh_ttl_seconds
    }

    /// Signs one token of `kind` for the user within session `sid`.
    pub fn issue(
        &self,
        kind: TokenKind,
        user: (UserId, &Email, Role),
        sid: SessionId,
        jti: TokenId,
        now: Timestamp,
    ) -> anyhow::Result<String> {
        let ttl = match kind {
            TokenKind::Access => self.config.access_ttl_seconds,
            TokenKind::Refresh => self.config.refresh_ttl_seconds,
        };
        let claims = Claims {
            sub: user.0,
            email: user.1.as_str().to_owned(),
            role: user.2,
            jti,
            sid,
            typ: kind,
            iat: now.unix(),
            exp: now.unix() + ttl,
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Checks key generation, signature, algorithm, issuer, audience, expiry and kind.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<Claims, TokenError> {
        let key = self.key_for(token)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        if data.claims.typ == expected { Ok(data.claims) } else { Err(TokenError::Invalid) }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn config() -> TokenConfig {
        TokenConfig::with_secret(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    fn issue(tokens: &Tokens, kind: TokenKind, now: Timestamp) -> String {
        let email = Email::parse("a@example.com").unwrap();
        tokens
            .issue(
                kind,
                (UserId::new(), &email, Role::Customer),
                SessionId::new(),
                TokenId::new(),
                now,
            )
            .unwrap()
    }

    #[test]
    fn round_trips_and_checks_the_kind() {
        let tokens = Tokens::new(config());
        let access = issue(&tokens, TokenKind::Access, Timestamp::now());
        let claims = tokens.verify(&access, TokenKind::Access).unwrap();
        assert_eq!(claims.email, "a@example.com");
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(tokens.verify(&access, TokenKind::Refresh), Err(TokenError::Invalid));
    }

    #[test]
    fn refuses_expired_foreign_and_unsigned_tokens() {
        let tokens = Tokens::new(config());
        let old = issue(&tokens, TokenKind::Access, Timestamp::now().plus_seconds(-1000));
        assert_eq!(tokens.verify(&old, TokenKind::Access), Err(TokenError::Expired));

        let other = Tokens::new(TokenConfig {
            secret: b"another-secret-another-secret-xx".to_vec().into(),
            ..config()
        });
        let foreign = issue(&other, TokenKind::Access, Timestamp::now());
        assert_eq!(tokens.verify(&foreign, TokenKind::Access), Err(TokenError::Invalid));

        let wrong_audience = Tokens::new(TokenConfig { audience: "elsewhere".into(), ..config() });
        let token = issue(&wrong_audience, TokenKind::Access, Timestamp::now());
        assert_eq!(tokens.verify(&token, TokenKind::Access), Err(TokenError::Invalid));

        // alg=none: same claims, no signature.
        let valid = issue(&tokens, TokenKind::Access, Timestamp::now());
        let payload = valid.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(tokens.verify(&none, TokenKind::Access), Err(TokenError::Invalid));
        assert_eq!(tokens.verify("garbage", TokenKind::Access), Err(TokenError::Invalid));
    }

    #[test]
    fn a_rotation_keeps_the_previous_generations_tokens_valid() {
        let before = Tokens::new(config());
        let old = issue(&before, TokenKind::Access, Timestamp::now());
        let header = jsonwebtoken::decode_header(&old).unwrap();
        assert_eq!(header.kid.as_deref(), Some("1"));

        let rotated = TokenConfig {
            secret: b"the-next-key-the-next-key-the-nex".to_vec().into(),
            key_generation: 2,
            previous_secret: Some(config().secret),
            ..config()
        };
        let after = Tokens::new(rotated.clone());
        let new = issue(&after, TokenKind::Access, Timestamp::now());
        assert_eq!(jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(), Some("2"));
        // Both generations verify after the rotation; the old key never signs.
        assert!(after.verify(&old, TokenKind::Access).is_ok());
        assert!(after.verify(&new, TokenKind::Access).is_ok());
        // Functions not yet rotated reject the new generation; a second rotation drops the first.
        assert_eq!(before.verify(&new, TokenKind::Access), Err(TokenError::Invalid));
        let twice = Tokens::new(TokenConfig {
            secret: b"a-third-key-a-third-key-a-third-k".to_vec().into(),
            key_generation: 3,
            previous_secret: Some(rotated.secret),
            ..config()
        });
        assert!(twice.verify(&new, TokenKind::Access).is_ok());
        assert_eq!(twice.verify(&old, TokenKind::Access), Err(TokenError::Invalid));
    }

    #[test]
    fn a_kid_signed_with_the_wrong_generations_key_is_refused() {
        // A token claiming generation 1 but signed with generation 2's key.
        let current = TokenConfig {
            secret: b"the-next-key-the-next-key-the-nex".to_vec().into(),
            key_generation: 2,
            previous_secret: Some(config().secret),
            ..config()
        };
        let mislabelled = Tokens::new(TokenConfig {
            key_generation: 1,
            previous_secret: None,
            ..current.clone()
        });
        let token = issue(&mislabelled, TokenKind::Access, Timestamp::now());
        assert_eq!(
            Tokens::new(current).verify(&token, TokenKind::Access),
            Err(TokenError::Invalid)
        );
    }
}
