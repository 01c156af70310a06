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
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Headers => "before the response headers",
            TimeoutPhase::Body => "while reading the body",
        })
    }
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
    /// The TLS handshake failed (certificate, protocol, or a server that does not speak TLS).
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
    /// A value in the URL path would form a `.` or `..` segment, which URL parsers remove
    /// (changing the request's target): nothing was sent.
    #[error("{call}: a value in the URL path would form a `.` or `..` segment")]
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
    /// Redirects looped or went on too long.
    #[error("{call}: too many redirects")]
    Redirect {
        /// The call's name.
        call: &'static str,
        /// The transport's error, without the URL.
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
            | Error::Request { call, .. } => Some(call),
            Error::InvalidBaseUrl { .. } => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
