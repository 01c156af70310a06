//! Every way a call can fail, as a typed value. Messages name the call and never include
//! URLs, header values or query values: any of them may carry a secret.

use std::fmt;

/// Which part of the exchange the timeout cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Connecting, sending, or waiting for the response headers.
    Headers,
    /// Reading the response body.
    Body,
    /// Getting an OAuth2 access token, before the call itself was sent.
    Token,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Headers => "before the response headers",
            TimeoutPhase::Body => "while reading the body",
            TimeoutPhase::Token => "while getting an access token",
        })
    }
}

/// Why a redirect was not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectReason {
    /// It would have been the sixth redirect of the call.
    TooMany,
    /// It leads to another scheme, host or port, where the call's headers and query (secrets
    /// among them) must not go.
    OtherOrigin,
    /// The request has a body: re-sending it to another URL, or dropping it as clients do on
    /// 301/302/303, would change what the call does.
    HasBody,
    /// The response has no `Location` header, or one that is not a valid URL.
    NoLocation,
    /// The `reqwest::Client` given to [`Client::with_http_client`](crate::Client::with_http_client)
    /// followed redirects itself; build it with `redirect::Policy::none()`.
    FollowedByClient,
}

impl fmt::Display for RedirectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RedirectReason::TooMany => "more than 5 redirects",
            RedirectReason::OtherOrigin => "it leads to another origin",
            RedirectReason::HasBody => "the request has a body",
            RedirectReason::NoLocation => "no valid Location header",
            RedirectReason::FollowedByClient => {
                "the HTTP client followed it itself (build it with redirect::Policy::none())"
            }
        })
    }
}

/// Why an OAuth2 token endpoint gave no usable token. Never shows the client secret, the token
/// or anything else the endpoint answered but a standard error code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenFailure {
    /// The token request failed on the way: the endpoint could not be reached (refused, DNS,
    /// TLS) or broke off.
    #[error("the token request failed")]
    Request {
        /// The transport's error, without the URL.
        #[source]
        source: reqwest::Error,
    },
    /// The endpoint answered a status outside 200..=299 (a 3xx included: it is not followed).
    #[error("the token endpoint answered HTTP {status}{}", error_text(*.error))]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The answer's `error`, when it is one of RFC 6749 §5.2's codes (`invalid_client`,
        /// `invalid_scope`...); any other text the endpoint sent is not kept.
        error: Option<&'static str>,
    },
    /// The answer is not a JSON object (or larger than 64 KiB).
    #[error("the token endpoint's answer is not a JSON object")]
    NotJson,
    /// The answer has no `access_token`, an empty one, or one that cannot be sent in a header.
    #[error("the token endpoint's answer has no usable access_token")]
    NoAccessToken,
    /// The answer's `token_type` is not `Bearer`, the only kind apicall sends.
    #[error("the token endpoint's answer has a token_type other than Bearer")]
    NotBearer,
}

fn error_text(error: Option<&str>) -> String {
    error.map_or_else(String::new, |error| format!(" ({error})"))
}

fn status_text(status: Option<u16>) -> String {
    status.map_or_else(String::new, |status| format!("HTTP {status}: "))
}

fn target_text(target: Option<&str>) -> String {
    target.map_or_else(String::new, |target| format!(" to {target}"))
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call's `timeout_ms` elapsed.
    #[error("{call}: timed out after {timeout_ms} ms {phase}")]
    Timeout {
        /// The call's name.
        call: &'static str,
        /// The call's timeout.
        timeout_ms: u64,
        /// Where the exchange was when time ran out.
        phase: TimeoutPhase,
    },
    /// No connection could be made (refused, unreachable, DNS, TLS handshake).
    #[error("{call}: could not connect")]
    Connect {
        /// The call's name.
        call: &'static str,
        /// The transport's error, without the URL.
        #[source]
        source: reqwest::Error,
    },
    /// The TLS handshake failed (certificate, protocol, or a server that does not speak TLS),
    /// or the server ended the connection with a TLS alert, as one does that refuses the
    /// client certificate or wanted one and got none.
    #[error("{call}: the secure connection (TLS) could not be established")]
    Tls {
        /// The call's name.
        call: &'static str,
        /// The transport's error, without the URL.
        #[source]
        source: reqwest::Error,
    },
    /// The connection broke while the body was being read (closed early, a `Content-Length`
    /// that promised more, a malformed chunk).
    #[error("{call}: the response body was cut off")]
    Body {
        /// The call's name.
        call: &'static str,
        /// The transport's error, without the URL.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a status outside 200..=299.
    #[error("{call}: the server answered HTTP {status}")]
    Status {
        /// The call's name.
        call: &'static str,
        /// The HTTP status code.
        status: u16,
    },
    /// The response body is not JSON.
    #[error("{call}: the response is not valid JSON")]
    NotJson {
        /// The call's name.
        call: &'static str,
        /// Where the JSON broke (line and column; never the content).
        #[source]
        source: serde_json::Error,
    },
    /// The response body is larger than the client's cap; reading stopped there.
    #[error("{call}: the response body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The call's name.
        call: &'static str,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A value in the response has a different JSON type than the variable declares.
    #[error("{call}: `{variable}` should be {expected} but the response has {found}")]
    WrongType {
        /// The call's name.
        call: &'static str,
        /// The response variable.
        variable: &'static str,
        /// The declared type.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A response variable marked `required` is missing from the response.
    #[error("{call}: the response has no value for required `{variable}`")]
    MissingRequired {
        /// The call's name.
        call: &'static str,
        /// The response variable.
        variable: &'static str,
    },
    /// A value the URL needs (an `api.*` value from an earlier call) is not there yet:
    /// nothing was sent.
    #[error("{call}: `{variable}` has no value yet, and the URL needs it")]
    MissingValue {
        /// The call's name.
        call: &'static str,
        /// The `api.*` variable.
        variable: &'static str,
    },
    /// A rendered header value contains bytes HTTP forbids (CR, LF, NUL...): nothing was sent.
    #[error(
        "{call}: the value of header `{header}` contains characters not allowed in HTTP headers"
    )]
    InvalidHeaderValue {
        /// The call's name.
        call: &'static str,
        /// The header's name.
        header: &'static str,
    },
    /// A header name is not a valid HTTP token: nothing was sent.
    #[error("{call}: `{header}` is not a valid HTTP header name")]
    InvalidHeaderName {
        /// The call's name.
        call: &'static str,
        /// The header's name.
        header: &'static str,
    },
    /// A value in the URL path would form a `.` or `..` segment, which URL parsers remove, or
    /// leave its segment empty (`/orders/` for `/orders/{{id}}`): either changes the request's
    /// target. Nothing was sent.
    #[error("{call}: a value in the URL path would form an empty, `.` or `..` segment")]
    UnsafePathValue {
        /// The call's name.
        call: &'static str,
    },
    /// The rendered URL is not a valid URL: nothing was sent.
    #[error("{call}: the URL is invalid: {reason}")]
    InvalidUrl {
        /// The call's name.
        call: &'static str,
        /// What the URL parser objected to (never the URL itself).
        reason: String,
    },
    /// [`Client::with_base_url`](crate::Client::with_base_url) was given an unusable URL.
    #[error("invalid base URL: {reason}")]
    InvalidBaseUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// The server redirected the call somewhere apicall will not follow: nothing was sent
    /// there. A call follows at most 5 redirects, each to the same scheme, host and port, and
    /// only for a request without a body.
    #[error("{call}: {}refused the redirect{}: {reason}", status_text(*.status), target_text(.target.as_deref()))]
    Redirect {
        /// The call's name.
        call: &'static str,
        /// The redirect's status (301, 302, 303, 307, 308); `None` when a caller-supplied
        /// `reqwest::Client` followed redirects itself and the status is unknown.
        status: Option<u16>,
        /// The target's origin (`scheme://host:port`), never its path or query, which may
        /// carry secrets; `None` without a usable `Location`.
        target: Option<String>,
        /// Why it was not followed.
        reason: RedirectReason,
    },
    /// An OAuth2 token endpoint gave no usable token: the call was not sent.
    #[error("{call}: no access token for `{scheme}`: {failure}")]
    Token {
        /// The call's name.
        call: &'static str,
        /// The OAuth2 scheme's name.
        scheme: &'static str,
        /// What went wrong.
        #[source]
        failure: TokenFailure,
    },
    /// The credentials given for an auth scheme cannot be used (a Basic username with `:`, an
    /// empty secret...): nothing was sent.
    #[error("{call}: the credentials for `{scheme}` cannot be used: {reason}")]
    InvalidCredentials {
        /// The call's name.
        call: &'static str,
        /// The auth scheme's name (`basic` for Basic credentials).
        scheme: &'static str,
        /// What is wrong, never the credentials themselves.
        reason: &'static str,
    },
    /// A client certificate and key do not make a usable TLS identity (not PEM, no
    /// certificate, no key, or a key that does not fit): nothing was sent.
    #[error("{call}: the client certificate for `{scheme}` cannot be used")]
    InvalidIdentity {
        /// The call's name.
        call: &'static str,
        /// The auth scheme's name.
        scheme: &'static str,
        /// What the TLS library objected to (never the key).
        #[source]
        source: reqwest::Error,
    },
    /// [`Client::with_root_certificate`](crate::Client::with_root_certificate) could not build
    /// an HTTP client trusting the certificate.
    #[error("the HTTP client could not be built")]
    ClientSetup {
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// Any other transport failure (connection reset, malformed response...).
    #[error("{call}: the request failed")]
    Request {
        /// The call's name.
        call: &'static str,
        /// The transport's error, without the URL.
        #[source]
        source: reqwest::Error,
    },
}

impl Error {
    /// The name of the call that failed, when the error belongs to one.
    #[must_use]
    pub fn call(&self) -> Option<&'static str> {
        match self {
            Error::Timeout { call, .. }
            | Error::Connect { call, .. }
            | Error::Tls { call, .. }
            | Error::Body { call, .. }
            | Error::Status { call, .. }
            | Error::NotJson { call, .. }
            | Error::BodyTooLarge { call, .. }
            | Error::WrongType { call, .. }
            | Error::MissingRequired { call, .. }
            | Error::MissingValue { call, .. }
            | Error::InvalidHeaderValue { call, .. }
            | Error::InvalidHeaderName { call, .. }
            | Error::UnsafePathValue { call }
            | Error::InvalidUrl { call, .. }
            | Error::Redirect { call, .. }
            | Error::Request { call, .. }
            | Error::Token { call, .. }
            | Error::InvalidCredentials { call, .. }
            | Error::InvalidIdentity { call, .. } => Some(call),
            Error::InvalidBaseUrl { .. } | Error::ClientSetup { .. } => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
