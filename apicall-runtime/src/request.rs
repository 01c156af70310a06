//! Rendering and sending one call's request, within its timeout and body cap.

use std::borrow::Cow;
use std::time::Instant;

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use tracing::Instrument;

use crate::auth::{self, Auth, HmacSpec, OAuth2Spec};
use crate::send::{Outgoing, Seen, Sending};
use crate::spec::CallSpec;
use crate::{Client, Error, Secret};

/// Everything but RFC 3986's unreserved characters: `/ ? # % @ :` and the rest cannot leave
/// the one path segment the YAML put the value in.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// RFC 3986's unreserved characters, the bytes [`PATH_VALUE`] leaves as they are.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// The longest URL the `http` crate (and so reqwest) can carry; refused with a clear error
/// rather than a transport failure.
const MAX_URL_BYTES: usize = 65_534;

/// The room a request's URL text starts with.
const URL_CAPACITY: usize = 128;

/// Identifies apicall to the APIs it calls, unless the YAML sets its own `User-Agent`.
pub(crate) const APICALL_USER_AGENT: &str = concat!("apicall/", env!("CARGO_PKG_VERSION"));

/// A checked request's URL, headers and body.
pub(crate) type RequestParts = (Url, Vec<(HeaderName, HeaderValue)>, Option<Vec<u8>>);

/// A request under construction. The URL is built as text from pushes, in order; query
/// entries, headers and the body are added beside it. Nothing is sent before [`Request::send`],
/// which refuses anything unsafe first.
pub struct Request<'a> {
    client: &'a Client,
    spec: &'static CallSpec,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The first header or credential problem, reported by `send` before anything goes out.
    /// Boxed, as is rarely needed: every call's future holds its `Request` until it is sent.
    header_error: Option<Box<Error>>,
    body: Option<Vec<u8>>,
    auth: Auth,
    /// Whether an empty path value left a segment empty, which names another resource
    /// (`/orders/` for `/orders/{{id}}`).
    empty_segment: EmptySegment,
}

impl<'a> Request<'a> {
    /// Starts a request for `spec` through `client`.
    #[must_use]
    pub fn new(client: &'a Client, spec: &'static CallSpec) -> Self {
        Self {
            client,
            spec,
            // Room for most URLs, so that pushing their pieces does not grow it.
            url: String::with_capacity(URL_CAPACITY),
            query: Vec::new(),
            headers: Vec::new(),
            header_error: None,
            body: None,
            auth: Auth::default(),
            empty_segment: EmptySegment::No,
        }
    }

    /// Appends literal URL text from the YAML, or a context variable the YAML author placed in
    /// the URL's origin: verbatim.
    pub fn push_url_raw(&mut self, text: &str) {
        if self.empty_segment == EmptySegment::Open && !text.is_empty() {
            self.empty_segment = if text.starts_with(['/', '?', '#']) {
                EmptySegment::Left
            } else {
                EmptySegment::No
            };
        }
        self.url.push_str(text);
    }

    /// Appends a value inside a URL path segment, percent-encoded so it stays in that segment.
    /// An empty value that would leave its segment empty is refused by `send`, as `.` and
    /// `..` are.
    pub fn push_path_value(&mut self, value: &str) {
        if value.is_empty() {
            if self.empty_segment == EmptySegment::No && self.url.ends_with('/') {
                self.empty_segment = EmptySegment::Open;
            }
            return;
        }
        if self.empty_segment == EmptySegment::Open {
            self.empty_segment = EmptySegment::No;
        }
        // Most values (ids, numbers) have nothing to encode: copied at once.
        if !value.bytes().all(is_unreserved) {
            self.url.extend(utf8_percent_encode(value, PATH_VALUE));
        } else {
            self.url.push_str(value);
        }
    }

    /// Appends a value inside the URL's own query string, form-encoded.
    pub fn push_query_value(&mut self, value: &str) {
        self.url
            .extend(form_urlencoded::byte_serialize(value.as_bytes()));
    }

    /// Adds a `query:` entry from the YAML, form-encoded after any query already in the URL.
    pub fn query(&mut self, name: &str, value: &str) {
        self.query.push((name.to_owned(), value.to_owned()));
    }

    /// Adds a header. `sensitive` marks a value holding a secret, so HTTP/2 never indexes it
    /// and reqwest never shows it. An invalid name or value is reported by `send`.
    pub fn header(&mut self, name: &'static str, value: &str, sensitive: bool) {
        if self.header_error.is_some() {
            return;
        }
        let call = self.spec.name;
        let Ok(header_name) = HeaderName::from_bytes(name.as_bytes()) else {
            self.fail(Error::InvalidHeaderName { call, header: name });
            return;
        };
        // `HeaderValue::from_str` refuses CR, LF, NUL and other control bytes: a value that
        // could smuggle another header never reaches the wire.
        match HeaderValue::from_str(value) {
            Ok(mut header_value) => {
                header_value.set_sensitive(sensitive);
                self.headers.push((header_name, header_value));
            }
            Err(_) => {
                self.fail(Error::InvalidHeaderValue { call, header: name });
            }
        }
    }

    /// Sends HTTP Basic credentials (RFC 7617): `Authorization: Basic
    /// base64(username:password)`, marked sensitive, replacing an `Authorization` header set
    /// with [`Request::header`]. An empty password is sent as such.
    ///
    /// A username with `:`, or either part with a control character, cannot be sent and is
    /// reported by `send` as [`Error::InvalidCredentials`] (scheme `basic`).
    pub fn basic_auth(&mut self, username: &str, password: &Secret) {
        let control = |text: &str| text.chars().any(char::is_control);
        let problem = if username.contains(':') {
            Some("a Basic username must not contain `:`")
        } else if control(username) || control(password.expose()) {
            Some("a Basic username or password must not contain control characters")
        } else {
            None
        };
        if let Some(reason) = problem {
            self.fail(auth::invalid(self.spec.name, "basic", reason));
            return;
        }
        self.auth.basic = auth::basic_header(username, password.expose());
    }

    /// Authenticates with an OAuth2 access token for `spec` (client credentials, RFC 6749
    /// §4.4): taken from the client's token cache or fetched when the request is sent, and sent
    /// as `Authorization: Bearer`, replacing any other `Authorization`. A 401 drops the token
    /// and sends the call once more with a fresh one. See [`auth`](crate::auth).
    ///
    /// An empty client id or secret is reported by `send` as [`Error::InvalidCredentials`].
    pub fn oauth2(&mut self, spec: &'static OAuth2Spec, client_id: &str, client_secret: &Secret) {
        if client_id.is_empty() || client_secret.is_empty() {
            self.fail(auth::invalid(
                self.spec.name,
                spec.scheme,
                "the client id or client secret is empty",
            ));
            return;
        }
        self.auth.oauth2 = Some(Box::new(auth::OAuth2 {
            spec,
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
        }));
    }

    /// Signs each attempt with HMAC-SHA256 as `spec` says, keyed with `key`'s UTF-8 bytes, over
    /// the exact body bytes sent and the attempt's time. See [`auth`](crate::auth).
    ///
    /// An empty key is reported by `send` as [`Error::InvalidCredentials`].
    pub fn hmac_signature(&mut self, spec: &'static HmacSpec, key: &Secret) {
        if key.is_empty() {
            self.fail(auth::invalid(
                self.spec.name,
                spec.scheme,
                "the signing key is empty",
            ));
            return;
        }
        self.auth.hmac = Some(Box::new(auth::Hmac {
            spec,
            key: key.clone(),
        }));
    }

    /// Presents a client certificate (mutual TLS): `certificate_pem` is the certificate chain
    /// (the client's certificate first), `key_pem` its private key (PKCS#8, PKCS#1 or SEC1), both
    /// PEM. The call goes through a client built for this identity and kept by the
    /// [`Client`]. See [`auth`](crate::auth).
    ///
    /// PEM that makes no identity is reported by `send` as [`Error::InvalidIdentity`].
    pub fn client_identity(
        &mut self,
        scheme: &'static str,
        certificate_pem: &Secret,
        key_pem: &Secret,
    ) {
        self.auth.identity = Some(Box::new(auth::Identity {
            scheme,
            certificate_pem: certificate_pem.clone(),
            key_pem: key_pem.clone(),
        }));
    }

    /// Keeps the first problem, for `send` to report.
    fn fail(&mut self, error: Error) {
        if self.header_error.is_none() {
            self.header_error = Some(Box::new(error));
        }
    }

    /// Sets the JSON body from text built by generated code, which keeps every digit of the
    /// YAML's numbers (see [`JsonText`](crate::call::JsonText)).
    pub fn json_body_text(&mut self, body: crate::json_text::JsonText) {
        self.body = Some(body.into_bytes());
    }

    /// Sets the JSON body.
    pub fn json_body(&mut self, body: &serde_json::Value) {
        // `Value`'s Display is its compact JSON and cannot fail.
        self.body = Some(body.to_string().into_bytes());
    }

    /// The URL this request goes to: parsed, checked, query entries appended, rebased if the
    /// client says. It may hold secrets (in the query): show it only redacted.
    ///
    /// # Errors
    ///
    /// As `send` would refuse it: [`Error::UnsafePathValue`], [`Error::InvalidUrl`].
    pub fn url(&self) -> Result<Url, Error> {
        self.resolve_url()
    }

    fn resolve_url(&self) -> Result<Url, Error> {
        let call = self.spec.name;
        if self.empty_segment != EmptySegment::No || has_dot_segment(&self.url) {
            return Err(Error::UnsafePathValue { call });
        }
        let mut url = Url::parse(&self.url).map_err(|error| Error::InvalidUrl {
            call,
            reason: error.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl {
                call,
                reason: "the scheme is not http or https".to_owned(),
            });
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &self.query {
                pairs.append_pair(name, value);
            }
        }
        self.client.rebase(&mut url);
        if url.as_str().len() > MAX_URL_BYTES {
            return Err(Error::InvalidUrl {
                call,
                reason: format!("it is longer than {MAX_URL_BYTES} bytes"),
            });
        }
        Ok(url)
    }

    /// Sends the request and returns the body of a 2xx response.
    ///
    /// The call's timeout bounds everything from connecting to the body's last byte, across
    /// all attempts. With retries, each attempt but the last gets an equal share of it.
    ///
    /// # Errors
    ///
    /// Any [`Error`] variant that belongs to a call; unsafe input is refused before sending.
    pub async fn send(self) -> Result<Bytes, Error> {
        let mut seen = Seen::default();
        // Boxed: the exchange's state (about a kilobyte) is put on the heap once, instead of
        // inline in every future awaiting a call, each of which would copy it as it moves.
        Box::pin(self.send_noting(&mut seen)).await
    }

    /// Sends the request as [`Request::send`] does, keeping for a person to read what `send`
    /// drops: the final status, and the first `error_body_limit` bytes of a non-2xx
    /// response's body (which `send` never reads). For tools that show a call (`apicall run`);
    /// the result is exactly `send`'s.
    pub async fn send_and_inspect(self, error_body_limit: usize) -> Inspected {
        let mut seen = Seen {
            error_body_limit,
            ..Seen::default()
        };
        let result = self.send_noting(&mut seen).await;
        Inspected {
            result,
            status: seen.status,
            error_body: seen.error_body,
        }
    }

    /// Checks the request (in the call's span, so that refused requests are traced too): the
    /// attempts to send it, noting in `seen` what [`Request::send_and_inspect`] shows.
    ///
    /// An `async` block rather than an `async fn`, whose future would keep this `Request` all
    /// along (it holds its arguments as passed, beside anything moved out of them): it holds
    /// the checked parts only, once.
    fn send_noting(self, seen: &mut Seen) -> impl Future<Output = Result<Bytes, Error>> {
        let spec = self.spec;
        // Only the call's name and method: the URL, query and header values may hold secrets.
        let span = tracing::info_span!(
            "apicall.call",
            call = spec.name,
            method = spec.method.as_str(),
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let client = self.client;
        let mut checked = span.in_scope(|| self.into_outgoing());
        async move {
            // Sent in place: no future of its own around the attempts.
            let outcome = match checked {
                Ok((ref mut outgoing, ref http, ref auth)) => {
                    let sending = Sending {
                        client,
                        spec,
                        http,
                        auth,
                        span: &span,
                    };
                    sending
                        .attempts(outgoing, seen)
                        .instrument(span.clone())
                        .await
                }
                Err(error) => Err(error),
            };
            let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            span.record("latency_ms", latency_ms);
            span.in_scope(|| match &outcome {
                Ok(body) => tracing::debug!(latency_ms, bytes = body.len(), "call succeeded"),
                // An error's Display names the call and the failure, never a value.
                Err(error) => tracing::debug!(latency_ms, %error, "call failed"),
            });
            outcome
        }
    }

    /// The call this request belongs to.
    pub(crate) fn spec(&self) -> &'static CallSpec {
        self.spec
    }

    /// The checked URL, headers (Basic credentials among them) and body, refusing anything
    /// unsafe as `send` would. For a webhook, which can carry no credential that needs work at
    /// each attempt: a token, a signature or a client certificate is refused.
    pub(crate) fn into_parts(self) -> Result<RequestParts, Error> {
        let call = self.spec.name;
        let (parts, auth) = self.into_checked()?;
        if auth.needs_sending() {
            return Err(auth::invalid(
                call,
                auth.first_scheme(),
                "a webhook can carry only Basic credentials",
            ));
        }
        Ok(parts)
    }

    /// The checked URL, headers and body, and the credentials to apply at each attempt.
    fn into_checked(mut self) -> Result<(RequestParts, Auth), Error> {
        if let Some(error) = self.header_error.take() {
            return Err(*error);
        }
        let url = self.resolve_url()?;
        // Here rather than as a client default, so a caller's own client sends it too and a
        // YAML `User-Agent` replaces it instead of going out beside it.
        if !self.headers.iter().any(|(name, _)| name == USER_AGENT) {
            self.headers
                .push((USER_AGENT, HeaderValue::from_static(APICALL_USER_AGENT)));
        }
        if let Some(basic) = self.auth.basic.take() {
            self.headers.retain(|(name, _)| name != AUTHORIZATION);
            self.headers.push((AUTHORIZATION, basic));
        }
        Ok(((url, self.headers, self.body), self.auth))
    }

    /// The checked request's parts, with the client to send it through and the credentials to
    /// apply at each attempt.
    fn into_outgoing(self) -> Result<(Outgoing, reqwest::Client, Auth), Error> {
        let spec = self.spec;
        let client = self.client;
        let ((url, headers, body), auth) = self.into_checked()?;
        let http = match &auth.identity {
            Some(identity) => client
                .identities()
                .client(spec.name, identity, || client.http_builder())?,
            None => client.http().clone(),
        };
        // Built into a `reqwest::Request` directly at each send rather than through a
        // `RequestBuilder`, which would append the same headers (keeping their sensitive flags)
        // and check that the URL has a host, which an http(s) URL always has.
        let outgoing = Outgoing {
            method: spec.method.to_reqwest(),
            url,
            headers,
            body: body.map(Bytes::from),
        };
        Ok((outgoing, http, auth))
    }
}

/// What [`Request::send_and_inspect`] saw.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inspected {
    /// Exactly what [`Request::send`] returns.
    pub result: Result<Bytes, Error>,
    /// The final response's status, when one arrived.
    pub status: Option<u16>,
    /// The start of a non-2xx response's body. It may hold anything the server sent: show it
    /// only to the person running the call.
    pub error_body: Option<Bytes>,
}

/// Where empty path values have left the URL (see [`Request::push_path_value`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum EmptySegment {
    /// No segment is empty because of a value.
    No,
    /// The URL ends in `/` and the empty value pushed after it: the segment is empty unless
    /// text follows within it.
    Open,
    /// A segment was left empty (or, at the end of the URL, it is).
    Left,
}

/// Whether the path of a URL under construction has a segment that decodes to `.` or `..`,
/// which URL parsers resolve away (so `/orders/..` would become `/`).
///
/// The text is read the way the URL parser will read it: leading and trailing spaces and
/// control characters are trimmed and tabs and newlines dropped (so `.\n.` counts as `..`),
/// a backslash separates segments like `/` (as it does in http and https URLs), and each
/// segment is percent-decoded (`%2e%2E` is `..`). Anything that might be a path is checked:
/// a false alarm refuses a call, a miss would send it somewhere else.
fn has_dot_segment(url: &str) -> bool {
    // A segment that decodes to `.` or `..` starts with `.` or `%` right after a slash or a
    // backslash (tabs and newlines between them are dropped). Most URLs have no such pair: one
    // pass over the bytes rules them out.
    let mut after_separator = false;
    let mut possible = false;
    for &byte in url.as_bytes() {
        if matches!(byte, b'\t' | b'\n' | b'\r') {
            continue;
        }
        if after_separator && matches!(byte, b'.' | b'%') {
            possible = true;
            break;
        }
        after_separator = matches!(byte, b'/' | b'\\');
    }
    possible && has_dot_segment_in_path(url)
}

/// [`has_dot_segment`] for a URL that may have one.
fn has_dot_segment_in_path(url: &str) -> bool {
    // Byte by byte: every character that matters here is ASCII.
    let is_dropped = |byte: &u8| matches!(byte, b'\t' | b'\n' | b'\r');
    let trimmed = url.trim_matches(|c: char| c <= ' ').as_bytes();
    let cleaned: Cow<'_, [u8]> = if trimmed.iter().any(is_dropped) {
        Cow::Owned(trimmed.iter().copied().filter(|b| !is_dropped(b)).collect())
    } else {
        Cow::Borrowed(trimmed)
    };
    // After the first `://` (found from the colons, which are few).
    let rest = cleaned
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| byte == b':')
        .find_map(|(at, _)| cleaned[at + 1..].strip_prefix(b"//"))
        .unwrap_or(&cleaned);
    // The authority ends at the first of these; only a slash starts a path.
    let Some(path_start) = rest
        .iter()
        .position(|byte| matches!(byte, b'/' | b'\\' | b'?' | b'#'))
    else {
        return false;
    };
    let path = &rest[path_start..];
    let path = match path.iter().position(|byte| matches!(byte, b'?' | b'#')) {
        Some(end) => &path[..end],
        None => path,
    };
    path.split(|byte| matches!(byte, b'/' | b'\\'))
        .any(|segment| {
            // Only `.`, `%2e` and `%2E` make up a segment that decodes to `.` or `..`: decode
            // nothing else.
            (1..=6).contains(&segment.len())
                && segment
                    .iter()
                    .all(|byte| matches!(byte, b'.' | b'%' | b'2' | b'e' | b'E'))
                && {
                    let decoded: Cow<'_, [u8]> = percent_decode(segment).into();
                    *decoded == *b"." || *decoded == *b".."
                }
        })
}

#[cfg(test)]
mod tests;
