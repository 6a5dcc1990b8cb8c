//! argon2id password hashing, off the async runtime's threads.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version,
    password_hash::{PasswordHasher as _, SaltString},
};

use crate::domain::{Password, StoredHash};

/// A well-formed hash (random salt and digest) with exactly [`PasswordHasher::params`], verified when the
/// e-mail is unknown so that both failure paths of a login cost the same hashing work.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$3jzfvCLNgHPDB0BdLyqhZA$4WOWTIzfxPpjEb2ri7NuqT4ObfEc5ukLdAIm5Rb1Y7M";

/// argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1). They fit a 128 MB Lambda;
/// the auth function is given more memory for CPU share, not because the hash needs it.
/// Hashing runs on the blocking pool so it never stalls the async workers.
#[derive(Clone, Debug, Default)]
pub struct PasswordHasher;

impl PasswordHasher {
    /// The parameters every new hash uses.
    pub fn params() -> Params {
        // The constants are valid by construction; `Params::DEFAULT` is the same triple.
        Params::new(19 * 1024, 2, 1, None).unwrap_or(Params::DEFAULT)
    }

    fn argon2() -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, Self::params())
    }

    /// Hashes a new password with a fresh random salt.
    pub async fn hash(&self, password: Password) -> anyhow::Result<StoredHash> {
        tokio::task::spawn_blocking(move || Self::hash_blocking(&password)).await?
    }

    /// The same, on the calling thread (for commands and benchmarks).
    pub fn hash_blocking(password: &Password) -> anyhow::Result<StoredHash> {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| anyhow::anyhow!("salt encoding failed: {e}"))?;
        let hash = Self::argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(StoredHash(hash.to_string()))
    }

    /// Whether `candidate` matches `stored`. With no stored hash (unknown e-mail) it verifies
    /// against a dummy hash and answers false, spending the same time as a wrong password.
    pub async fn verify(&self, candidate: String, stored: Option<StoredHash>) -> bool {
        tokio::task::spawn_blocking(move || Self::verify_blocking(&candidate, stored.as_ref()))
            .await
            .unwrap_or(false)
    }

    /// The same, on the calling thread.
    pub fn verify_blocking(candidate: &str, stored: Option<&StoredHash>) -> bool {
        let known = stored.is_some();
        let phc = stored.map_or(DUMMY_HASH, |h| h.0.as_str());
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let matches = Self::argon2().verify_password(candidate.as_bytes(), &parsed).is_ok();
        known && matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_right_password_only() {
        let password = Password::parse("correct horse battery").unwrap();
        let hash = PasswordHasher::hash_blocking(&password).unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(PasswordHasher::verify_blocking("correct horse battery", Some(&hash)));
        assert!(!PasswordHasher::verify_blocking("correct horse batterY", Some(&hash)));
    }

    #[test]
    fn salts_differ_between_hashes() {
        let password = Password::parse("same password").unwrap();
        let a = PasswordHasher::hash_blocking(&password).unwrap();
        let b = PasswordHasher::hash_blocking(&password).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn unknown_user_path_does_the_same_work_and_fails() {
        // The dummy hash must carry the live parameters, or the two paths would differ in cost.
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let params = Params::try_from(&dummy).unwrap();
        let live = PasswordHasher::params();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (live.m_cost(), live.t_cost(), live.p_cost())
        );
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
        assert!(!PasswordHasher::verify_blocking("anything", None));
    }
}
