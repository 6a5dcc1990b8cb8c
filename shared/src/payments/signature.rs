//! Stripe's webhook signatures: `Stripe-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is
//! the HMAC-SHA256 of `"<t>.<payload>"` keyed with the endpoint's signing secret (`whsec_…`,
//! the whole string). Several `v1` may be present (a secret being rolled); one matching is
//! enough. The timestamp must be within the tolerance of now, so a captured event cannot be
//! replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The tolerance Stripe's libraries default to.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signature is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `t=` or no `v1=` in the header.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// No `v1` matches the payload under the secret.
    #[error("no signature matches the payload")]
    Mismatch,
    /// The timestamp is outside the tolerance.
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// The header value for `payload` signed at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let digest = mac(secret, timestamp, payload).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks `header` against `payload` and `secret` at `now` (Unix seconds).
pub fn verify(
    header: &str,
    payload: &[u8],
    secret: &str,
    now: i64,
    tolerance_seconds: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let matches = signatures
        .iter()
        .any(|signature| mac(secret, timestamp, payload).verify_slice(signature).is_ok());
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    if (now - timestamp).abs() > tolerance_seconds {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_signed_payload_verifies_within_the_tolerance_only() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
        let header = sign(SECRET, 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="), "{header}");
        assert_eq!(verify(&header, body, SECRET, 1_800_000_000, 300), Ok(()));
        assert_eq!(verify(&header, body, SECRET, 1_800_000_300, 300), Ok(()));
        assert_eq!(verify(&header, body, SECRET, 1_800_000_301, 300), Err(SignatureError::Stale));
        assert_eq!(
            verify(&header, b"{}", SECRET, 1_800_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, body, "whsec_other", 1_800_000_000, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn one_matching_signature_among_several_is_enough_and_garbage_is_malformed() {
        let body = b"payload";
        let good = sign(SECRET, 10, body);
        let other = sign("whsec_old", 10, body);
        let (_, good_v1) = good.split_once(",v1=").expect("v1");
        let (_, other_v1) = other.split_once(",v1=").expect("v1");
        let both = format!("t=10,v1={other_v1},v1={good_v1},v0=ignored");
        assert_eq!(verify(&both, body, SECRET, 10, 300), Ok(()));
        for bad in ["", "t=10", "v1=00", "t=x,v1=00", "garbage"] {
            assert_eq!(verify(bad, body, SECRET, 10, 300), Err(SignatureError::Malformed), "{bad}");
        }
        // Stripe's documented example: the HMAC of "t.payload" under the secret.
        let expected = {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
            m.update(b"10.payload");
            hex::encode(m.finalize().into_bytes())
        };
        assert_eq!(good, format!("t=10,v1={expected}"));
    }
}
