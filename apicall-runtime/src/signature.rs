//! Webhook signatures: how the sender signs and how a receiver checks.
//!
//! A signed webhook carries its send time in [`TIMESTAMP_HEADER`] (Unix seconds) and
//! `v1=<hex>` in [`SIGNATURE_HEADER`], the HMAC-SHA256 of `"{timestamp}.{body}"` under the
//! shared secret. Signing the timestamp with the body means a captured webhook cannot be
//! replayed later than the receiver's tolerance.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

use crate::Secret;
use crate::conversation::unix_ms;

/// The header holding the send time, in seconds since the Unix epoch.
pub const TIMESTAMP_HEADER: &str = "x-apicall-timestamp";
/// The header holding `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-apicall-signature";
/// The header holding the webhook's idempotency key: the same for every attempt and every
/// repeat of one webhook for one conversation, so a receiver can drop duplicates.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// How far a webhook's timestamp may be from the receiver's clock unless told otherwise.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

const VERSION: &str = "v1=";

/// `v1=<hex>` for `body` sent at `timestamp`.
pub(crate) fn sign(key: &Secret, timestamp: u64, body: &[u8]) -> String {
    let digest = mac(key, timestamp.to_string().as_bytes(), body).finalize();
    let mut signature = String::with_capacity(VERSION.len() + 64);
    signature.push_str(VERSION);
    push_hex(&mut signature, digest.as_bytes());
    signature
}

/// An HMAC-SHA256 keyed with the secret's UTF-8 bytes, before anything is signed.
pub(crate) fn keyed(key: &Secret) -> Hmac<Sha256> {
    // HMAC takes keys of any length (long ones are hashed), so this never fails.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"))
}

fn mac(key: &Secret, timestamp: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(key);
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac
}

/// Appends `bytes` as lowercase hex.
pub(crate) fn push_hex(text: &mut String, bytes: &[u8]) {
    for byte in bytes {
        text.push(hex_digit(byte >> 4));
        text.push(hex_digit(byte & 0xf));
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0xf)])
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?))
        .collect()
}

/// Why a webhook failed verification. Messages never include the secret or the signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the check needs is absent (or not text).
    #[error("the `{header}` header is missing")]
    MissingHeader {
        /// The header's name.
        header: &'static str,
    },
    /// The timestamp is not a whole number of seconds.
    #[error("the timestamp is not a number of seconds")]
    MalformedTimestamp,
    /// The signature header holds no `v1=<hex>` signature.
    #[error("the signature header holds no `v1=` signature")]
    MalformedSignature,
    /// The timestamp is further from now than the tolerance: a replay, or a badly wrong clock.
    #[error("the timestamp is {skew_secs} s from now, more than the {tolerance_secs} s allowed")]
    OutsideTolerance {
        /// How far the timestamp is from now, in seconds.
        skew_secs: u64,
        /// The tolerance, in seconds.
        tolerance_secs: u64,
    },
    /// The signature does not match the body and timestamp under any accepted secret.
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks webhooks signed by apicall, in the receiving service.
///
/// ```
/// use apicall_runtime::{Secret, Verifier};
/// # let (timestamp, signature, body) = ("0", "v1=00", b"{}");
/// let verifier = Verifier::new(Secret::new("whsec_shared"));
/// // With the request's headers: verifier.verify(request.headers(), &body)
/// let checked = verifier.verify_parts(timestamp, signature, body);
/// assert!(checked.is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    secrets: Vec<Secret>,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier for webhooks signed with `secret`, accepting timestamps within
    /// [`DEFAULT_TOLERANCE`] (5 minutes) of now.
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self {
            secrets: vec![secret],
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Also accepts signatures made with `secret`: while rotating secrets, accept the old and
    /// the new one.
    #[must_use]
    pub fn also_accepting(mut self, secret: Secret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Accepts timestamps up to `tolerance` away from now, in either direction.
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks a webhook request by its headers and raw body (the exact bytes received).
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] saying why the webhook must not be trusted.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .ok_or(VerifyError::MissingHeader { header: name })
        };
        self.verify_parts(header(TIMESTAMP_HEADER)?, header(SIGNATURE_HEADER)?, body)
    }

    /// Checks a webhook by its timestamp and signature header values and raw body.
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] saying why the webhook must not be trusted.
    pub fn verify_parts(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        self.verify_at(timestamp, signature, body, SystemTime::now())
    }

    /// As [`Verifier::verify_parts`], with `now` as the receiver's clock.
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] saying why the webhook must not be trusted.
    pub fn verify_at(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let sent: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::MalformedTimestamp)?;
        let now = unix_ms(now) / 1000;
        let skew_secs = now.abs_diff(sent);
        if skew_secs > self.tolerance.as_secs() {
            return Err(VerifyError::OutsideTolerance {
                skew_secs,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        // Several `v1=` entries may be given (a sender mid-rotation); any one matching will do.
        let candidates: Vec<Vec<u8>> = signature
            .split(',')
            .filter_map(|entry| entry.trim().strip_prefix(VERSION))
            .filter_map(decode_hex)
            .collect();
        if candidates.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        let timestamp = timestamp.trim().as_bytes();
        let matched = self.secrets.iter().any(|secret| {
            candidates.iter().any(|candidate| {
                // `verify_slice` compares in constant time.
                mac(secret, timestamp, body).verify_slice(candidate).is_ok()
            })
        });
        if matched {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn matches_an_independent_hmac_sha256() {
        // RFC 4231 has no vector with our "{timestamp}.{body}" framing; this one is
        // `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key`.
        let signature = sign(&Secret::new("key"), 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            signature,
            "v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
    }

    #[test]
    fn accepts_what_it_signed_and_refuses_any_change() {
        let secret = Secret::new("whsec_test");
        let verifier = Verifier::new(secret.clone());
        let body = br#"{"outcome":"completed"}"#;
        let signature = sign(&secret, 1_000, body);
        assert_eq!(
            verifier.verify_at("1000", &signature, body, at(1_010)),
            Ok(())
        );
        assert_eq!(
            verifier.verify_at("1000", &signature, br#"{"outcome":"failed"}"#, at(1_010)),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verifier.verify_at("1001", &signature, body, at(1_010)),
            Err(VerifyError::Mismatch)
        );
        let other = Verifier::new(Secret::new("whsec_other"));
        assert_eq!(
            other.verify_at("1000", &signature, body, at(1_010)),
            Err(VerifyError::Mismatch)
        );
        let rotating = other.also_accepting(secret);
        assert_eq!(
            rotating.verify_at("1000", &signature, body, at(1_010)),
            Ok(())
        );
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let secret = Secret::new("whsec_test");
        let verifier = Verifier::new(secret.clone()).with_tolerance(Duration::from_secs(60));
        let signature = sign(&secret, 1_000, b"{}");
        assert_eq!(
            verifier.verify_at("1000", &signature, b"{}", at(1_060)),
            Ok(())
        );
        assert_eq!(
            verifier.verify_at("1000", &signature, b"{}", at(1_061)),
            Err(VerifyError::OutsideTolerance {
                skew_secs: 61,
                tolerance_secs: 60
            })
        );
        assert!(matches!(
            verifier.verify_at("1000", &signature, b"{}", at(900)),
            Err(VerifyError::OutsideTolerance { skew_secs: 100, .. })
        ));
    }

    #[test]
    fn the_default_tolerance_is_five_minutes() {
        let secret = Secret::new("whsec_test");
        let verifier = Verifier::new(secret.clone());
        let signature = sign(&secret, 1_000, b"{}");
        assert_eq!(
            verifier.verify_at("1000", &signature, b"{}", at(1_300)),
            Ok(())
        );
        assert!(matches!(
            verifier.verify_at("1000", &signature, b"{}", at(1_301)),
            Err(VerifyError::OutsideTolerance {
                tolerance_secs: 300,
                ..
            })
        ));
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        let verifier = Verifier::new(Secret::new("k"));
        for timestamp in ["", "soon", "-1", "1.5", "99999999999999999999999"] {
            assert_eq!(
                verifier.verify_at(timestamp, "v1=00", b"", at(0)),
                Err(VerifyError::MalformedTimestamp),
                "{timestamp:?}"
            );
        }
        for signature in ["", "v1=", "v1=abc", "v1=zz", "v2=00", "sha256=00", "v1=é"] {
            assert_eq!(
                verifier.verify_at("0", signature, b"", at(0)),
                Err(VerifyError::MalformedSignature),
                "{signature:?}"
            );
        }
        assert_eq!(
            verifier.verify(&HeaderMap::new(), b""),
            Err(VerifyError::MissingHeader {
                header: TIMESTAMP_HEADER
            })
        );
    }
}
