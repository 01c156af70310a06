//! Authentication the way real APIs want it: HTTP Basic, OAuth2 client credentials, HMAC
//! request signing and client certificates (mutual TLS).
//!
//! Generated code describes each `auth:` scheme of a calls.yaml as a `static` ([`OAuth2Spec`],
//! [`HmacSpec`]) and, per call, hands the scheme and its credentials to the
//! [`Request`](crate::call::Request):
//! [`basic_auth`](crate::call::Request::basic_auth),
//! [`oauth2`](crate::call::Request::oauth2),
//! [`hmac_signature`](crate::call::Request::hmac_signature),
//! [`client_identity`](crate::call::Request::client_identity). Credentials are
//! [`Secret`]s; what needs the network or the clock happens when the request is
//! sent, at each attempt.
//!
//! # Basic (RFC 7617)
//!
//! `Authorization: Basic base64(username ":" password)`, the header marked sensitive (HTTP/2
//! never indexes it, reqwest never shows it). It replaces an `Authorization` header the YAML
//! set. A username with `:` cannot be sent (the password would start early) and is refused with
//! [`Error::InvalidCredentials`]; an empty password is fine
//! (APIs that take a key as the username want exactly that).
//!
//! # OAuth2 client credentials (RFC 6749 §4.4)
//!
//! Before a call goes out, an access token is taken from the [`Client`](crate::Client)'s token
//! cache, or fetched: a `POST` of `grant_type=client_credentials` (and `scope`, the spec's
//! scopes joined by spaces, when it has any) form-encoded to the token URL. The client
//! authenticates as [`ClientAuth`] says: by default with `Authorization: Basic`, the client id
//! and secret each form-urlencoded before base64 (§2.3.1), or with `client_id` and
//! `client_secret` in the form. The answer must be a 2xx JSON object with an `access_token`, and
//! a `token_type` of `Bearer` (any case) if it has one; the call then sends
//! `Authorization: Bearer <token>` (sensitive, replacing a YAML `Authorization`).
//!
//! - **Cache.** One token per `Client` (shared by its clones), scheme, token URL and client id.
//!   A token is used until shortly before it expires: 30 s before the end of its
//!   `expires_in` (counted from when it was asked for), or a tenth of its lifetime before when
//!   that is less (a one-hour token is renewed after 59½ minutes, a 60 s one after 54 s).
//!   Without `expires_in`, a token is taken to last [`DEFAULT_TOKEN_LIFETIME`] (one hour); the
//!   401 rule below covers one that ends earlier.
//! - **Single flight.** Each cache entry is behind an async lock held while a token is fetched:
//!   calls that need the token meanwhile wait for that one request instead of sending their own
//!   (100 concurrent calls, one token request). A failed request is not remembered: the next
//!   waiting call tries again.
//! - **401.** When the API answers 401 to a call sent with a cached token, that token is dropped
//!   from the cache (unless another call already replaced it) and the call is sent once more,
//!   with a fresh token, inside the same attempt. A second 401 is the call's
//!   [`Error::Status`].
//! - **Timeout.** The token request runs inside the call's timeout (each attempt's share of it);
//!   running out there is [`Error::Timeout`] with
//!   [`TimeoutPhase::Token`](crate::TimeoutPhase::Token).
//! - **Failures** of the token endpoint (unreachable, non-2xx, not JSON, no `access_token`, a
//!   token type other than Bearer) are [`Error::Token`] with a
//!   [`TokenFailure`](crate::TokenFailure), never retried by the call's `retries`.
//! - **Base URL.** [`Client::with_base_url`](crate::Client::with_base_url) moves the token URL
//!   too, so a test server can play the token endpoint as well as the API.
//! - **Transport.** The token request goes through the client's own `reqwest::Client`, without
//!   a client certificate, follows no redirect (a 3xx is a failed token request) and reads at
//!   most 64 KiB of answer.
//!
//! The `oauth2` crate is not used: it brings its own HTTP client abstraction, through which the
//! call's timeout, the client's TLS roots, redirect rule and body cap would have to be carried
//! again, for what is one form POST and one JSON read here (on the `reqwest::Client` already
//! held). The client-credentials grant has no redirect, PKCE or state to get wrong.
//!
//! # HMAC request signing
//!
//! The header [`HmacSpec::header`] carries HMAC-SHA256, keyed with the secret's UTF-8 bytes, of
//! the [`HmacSpec::payload`]: its [`PayloadPart`]s in order, the timestamp as decimal Unix
//! seconds and the body as the exact bytes sent (empty without one). The value is lowercase hex
//! or standard base64 with padding ([`SignatureEncoding`]), written into the header as
//! [`HmacSpec::value`] says: its [`ValuePart`]s in order, such as `sha256=` and the signature
//! (GitHub, Slack's `v0=`) or `t=`, the timestamp, `,v1=` and the signature (Stripe). The
//! timestamp goes in [`HmacSpec::timestamp_header`] when there is one. Each attempt is signed
//! anew with the time it is sent, so a retry after a wait still carries a fresh timestamp, and
//! the signature header and the timestamp it names are always of the same attempt.
//!
//! # Client certificates (mutual TLS)
//!
//! A call with a client identity is sent through a `reqwest::Client` built for that identity
//! (`reqwest::Identity::from_pem` of the certificate chain and the private key): following no
//! redirect, and trusting the system's roots plus those given to
//! [`Client::with_root_certificate`](crate::Client::with_root_certificate). It is built once and
//! kept in the `Client` (shared by its clones), keyed by scheme and a SHA-256 of the PEM text,
//! so connections are reused. The 64 most recently used identities are kept: a renewed
//! certificate, or one tenant's among many, makes a new client, and the least recently used one
//! is let go with its idle connections, so memory does not grow with every renewal. Settings
//! of a client given to [`Client::with_http_client`](crate::Client::with_http_client) (proxies, say) do not carry
//! over to it, and its pooled connections belong to the Tokio runtime that opened them: make
//! client-certificate calls through a `Client` within one runtime. PEM that holds no usable
//! certificate and key is [`Error::InvalidIdentity`]; a server that refuses the certificate (or
//! wants one and gets none) fails the call with [`Error::Tls`].
//!
//! # Never shown
//!
//! Client secrets, tokens, HMAC keys, signatures and private keys appear in no `Debug` output,
//! error message or tracing event: the token cache shows how many entries it has, errors carry
//! the call and scheme names, an HTTP status and a standard OAuth2 error code at most, and
//! tracing records only `fetching an access token` / `access token fetched` (scheme and
//! lifetime) and `access token refused; retrying with a fresh one` at `DEBUG`.

mod hmac;
mod oauth2;
mod tls;

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};

pub(crate) use self::oauth2::Tokens;
pub(crate) use self::tls::Identities;
use crate::{Error, Secret};

/// How long a token without `expires_in` is taken to last.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// How an OAuth2 client proves who it is to the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `Authorization: Basic`, the client id and secret each form-urlencoded first: what every
    /// server must accept.
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body, for servers that want them there.
    Body,
}

/// An OAuth2 client-credentials scheme (RFC 6749 §4.4), emitted by the generator as a `static`.
#[derive(Debug)]
pub struct OAuth2Spec {
    /// The scheme's name in the calls.yaml, for errors, tracing and the token cache.
    pub scheme: &'static str,
    /// The token endpoint, an absolute `http` or `https` URL.
    pub token_url: &'static str,
    /// The scopes asked for, sent space-separated as `scope`; none sends no `scope`.
    pub scopes: &'static [&'static str],
    /// How the client authenticates to the token endpoint.
    pub client_auth: ClientAuth,
}

/// A piece of what an HMAC signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadPart {
    /// Fixed text.
    Text(&'static str),
    /// The attempt's send time, decimal seconds since the Unix epoch.
    Timestamp,
    /// The request body, the exact bytes sent (nothing when there is no body).
    Body,
}

/// How an HMAC signature is written in its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureEncoding {
    /// Lowercase hexadecimal, 64 characters.
    Hex,
    /// Standard base64 with padding, 44 characters.
    Base64,
}

/// A piece of the signature header's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValuePart {
    /// Fixed text.
    Text(&'static str),
    /// The attempt's send time, decimal seconds since the Unix epoch (the one signed).
    Timestamp,
    /// The signature, encoded as [`HmacSpec::encoding`] says.
    Signature,
}

/// An HMAC-SHA256 request-signing scheme, emitted by the generator as a `static`.
///
/// `"{timestamp}.{body}"` is `payload: &[PayloadPart::Timestamp, PayloadPart::Text("."),
/// PayloadPart::Body]`; a header value of the signature alone is
/// `value: &[ValuePart::Signature]`, GitHub's `sha256=<hex>` is
/// `value: &[ValuePart::Text("sha256="), ValuePart::Signature]`.
#[derive(Debug)]
pub struct HmacSpec {
    /// The scheme's name in the calls.yaml, for errors.
    pub scheme: &'static str,
    /// The header that carries the signature.
    pub header: &'static str,
    /// The header that carries the timestamp, if the API wants it sent.
    pub timestamp_header: Option<&'static str>,
    /// What is signed, in order.
    pub payload: &'static [PayloadPart],
    /// How the signature is written.
    pub encoding: SignatureEncoding,
    /// The signature header's value, in order.
    pub value: &'static [ValuePart],
}

/// One request's credentials, applied as it is sent. The schemes that need work at each
/// attempt are boxed: most calls have none, and every call's future holds an `Auth`.
#[derive(Default)]
pub(crate) struct Auth {
    /// A ready `Authorization: Basic` value (sensitive).
    pub basic: Option<HeaderValue>,
    pub oauth2: Option<Box<OAuth2>>,
    pub hmac: Option<Box<Hmac>>,
    pub identity: Option<Box<Identity>>,
}

/// An OAuth2 scheme with its client's credentials.
pub(crate) struct OAuth2 {
    pub spec: &'static OAuth2Spec,
    pub client_id: String,
    pub client_secret: Secret,
}

/// An HMAC scheme with its key.
pub(crate) struct Hmac {
    pub spec: &'static HmacSpec,
    pub key: Secret,
}

/// A client certificate and its key, as PEM.
pub(crate) struct Identity {
    pub scheme: &'static str,
    pub certificate_pem: Secret,
    pub key_pem: Secret,
}

impl Auth {
    /// Whether anything must be done when each attempt is sent (a token, a signature), or the
    /// request must go through another client (an identity): what a webhook cannot do.
    pub(crate) fn needs_sending(&self) -> bool {
        self.oauth2.is_some() || self.hmac.is_some() || self.identity.is_some()
    }

    /// The scheme of the first credential a webhook cannot carry, for its error.
    pub(crate) fn first_scheme(&self) -> &'static str {
        if let Some(oauth2) = &self.oauth2 {
            oauth2.spec.scheme
        } else if let Some(hmac) = &self.hmac {
            hmac.spec.scheme
        } else if let Some(identity) = &self.identity {
            identity.scheme
        } else {
            "basic"
        }
    }
}

/// `Authorization: Basic base64(username:password)`, sensitive.
pub(crate) fn basic_header(username: &str, password: &str) -> Option<HeaderValue> {
    use base64::Engine as _;
    let credentials = format!("{username}:{password}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials.as_bytes());
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Puts `value` as the request's only `Authorization` header.
pub(crate) fn set_authorization(request: &mut reqwest::Request, value: HeaderValue) {
    request.headers_mut().insert(AUTHORIZATION, value);
}

pub(crate) use self::hmac::sign_request;

/// An error for credentials that cannot be used.
pub(crate) fn invalid(call: &'static str, scheme: &'static str, reason: &'static str) -> Error {
    Error::InvalidCredentials {
        call,
        scheme,
        reason,
    }
}
