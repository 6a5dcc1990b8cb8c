//! Passwords as they arrive (validated, never logged) and as they are stored (a hash).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// Why a string is not an acceptable password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least 8 characters")]
    TooShort,
    #[error("must be at most 128 characters")]
    TooLong,
}

/// A candidate password of 8–128 characters. Never printed: `Debug` is redacted, and the
/// memory is zeroed when dropped.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// Checks the length in characters (not bytes), so non-ASCII passwords are judged fairly.
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        match input.chars().count() {
            n if n < 8 => Err(PasswordError::TooShort),
            n if n > 128 => Err(PasswordError::TooLong),
            _ => Ok(Self(SecretString::from(input))),
        }
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_in_characters() {
        assert_eq!(Password::parse("1234567").err(), Some(PasswordError::TooShort));
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert_eq!(Password::parse(&"é".repeat(129)).err(), Some(PasswordError::TooLong));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}

/// A PHC-format argon2id hash (`$argon2id$v=19$m=…`), as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredHash(pub String);

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredHash(***)")
    }
}
