//! HMAC-SHA256 request signatures, made at each attempt over the bytes it sends.

use std::time::SystemTime;

use base64::Engine as _;
use hmac::Mac as _;
use reqwest::header::{HeaderName, HeaderValue};

use super::{Hmac, PayloadPart, SignatureEncoding, ValuePart};
use crate::Error;
use crate::conversation::unix_ms;
use crate::signature::{keyed, push_hex};

/// Signs `request` as `hmac` says, with the time now: sets the signature header and, if the
/// scheme has one, the timestamp header (each replacing one already there).
pub(crate) fn sign_request(
    call: &'static str,
    hmac: &Hmac,
    request: &mut reqwest::Request,
) -> Result<(), Error> {
    let spec = hmac.spec;
    let timestamp = (unix_ms(SystemTime::now()) / 1000).to_string();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .unwrap_or_default();
    let signature = signature(hmac, timestamp.as_bytes(), body);
    let mut written = String::with_capacity(signature.len() + 32);
    for part in spec.value {
        match part {
            ValuePart::Text(text) => written.push_str(text),
            ValuePart::Timestamp => written.push_str(&timestamp),
            ValuePart::Signature => written.push_str(&signature),
        }
    }
    let header = |name: &'static str| {
        HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::InvalidHeaderName { call, header: name })
    };
    let mut value = HeaderValue::try_from(written).map_err(|_| Error::InvalidHeaderValue {
        call,
        header: spec.header,
    })?;
    value.set_sensitive(true);
    let signature_header = header(spec.header)?;
    if let Some(name) = spec.timestamp_header {
        let timestamp_header = header(name)?;
        // Decimal digits are always a valid header value.
        let timestamp = HeaderValue::try_from(timestamp)
            .map_err(|_| Error::InvalidHeaderValue { call, header: name })?;
        request.headers_mut().insert(timestamp_header, timestamp);
    }
    request.headers_mut().insert(signature_header, value);
    Ok(())
}

/// The encoded HMAC-SHA256 of the scheme's payload for this timestamp and body.
pub(crate) fn signature(hmac: &Hmac, timestamp: &[u8], body: &[u8]) -> String {
    let mut mac = keyed(&hmac.key);
    for part in hmac.spec.payload {
        match part {
            PayloadPart::Text(text) => mac.update(text.as_bytes()),
            PayloadPart::Timestamp => mac.update(timestamp),
            PayloadPart::Body => mac.update(body),
        }
    }
    let digest = mac.finalize();
    let digest = digest.as_bytes();
    match hmac.spec.encoding {
        SignatureEncoding::Hex => {
            let mut text = String::with_capacity(64);
            push_hex(&mut text, digest);
            text
        }
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::auth::HmacSpec;

    static SPEC: HmacSpec = HmacSpec {
        scheme: "signed",
        header: "X-Signature",
        timestamp_header: Some("X-Timestamp"),
        payload: &[
            PayloadPart::Timestamp,
            PayloadPart::Text("."),
            PayloadPart::Body,
        ],
        encoding: SignatureEncoding::Hex,
        value: &[ValuePart::Signature],
    };

    static BASE64: HmacSpec = HmacSpec {
        encoding: SignatureEncoding::Base64,
        ..SPEC
    };

    #[test]
    fn matches_openssl() {
        // `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key` (and `-binary |
        // base64`): the same vector as the webhook signature's.
        let hmac = Hmac {
            spec: &SPEC,
            key: Secret::new("key"),
        };
        assert_eq!(
            signature(&hmac, b"1700000000", br#"{"a":1}"#),
            "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
        let hmac = Hmac {
            spec: &BASE64,
            key: Secret::new("key"),
        };
        assert_eq!(
            signature(&hmac, b"1700000000", br#"{"a":1}"#),
            "pDjjmL+vxX5Dlrt/wjBEIvD3aOll0HPKMTy1LiLmrQM="
        );
    }
}
