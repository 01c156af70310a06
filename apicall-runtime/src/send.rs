//! Sending a checked request: its attempts inside the call's one timeout, the redirects the
//! rule allows, the status, and the body read under the cap; reqwest's errors sorted into ours.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};

use crate::auth::{self, Auth, Tokens};
use crate::backoff::backoff;
use crate::spec::CallSpec;
use crate::{Client, Error, RedirectReason, TimeoutPhase};

/// A call follows at most this many redirects, each to its own origin.
const MAX_REDIRECTS: usize = 5;
/// A call's first retry waits about this long, each later one about twice as long as the one
/// before; the call's one timeout bounds them all anyway.
const BACKOFF: Duration = Duration::from_millis(50);
/// No wait between a call's attempts is longer than this (`BACKOFF` doubled eight times).
const MAX_BACKOFF: Duration = Duration::from_millis(12_800);

/// What an exchange noted beside its result, for a tool that shows the call to a person.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// How much of a non-2xx body to keep; 0 reads none (generated code's way).
    pub error_body_limit: usize,
    /// The final status.
    pub status: Option<u16>,
    /// The start of the last non-2xx response's body.
    pub error_body: Option<Bytes>,
}

/// A checked request, kept as parts while another attempt, a redirect or a second token may
/// need it again: each send builds its `reqwest::Request` from them, rather than a copy of the
/// request being made before every send in case one is needed. A send copies the URL and the
/// headers (their values are shared, not copied); the last send of a request with a body,
/// which is neither redirected nor sent again, moves them.
pub(crate) struct Outgoing {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
}

impl Outgoing {
    /// The request of these parts to `url` with `method`, the parts kept.
    fn build(&self, method: Method, url: Url) -> reqwest::Request {
        let mut request = reqwest::Request::new(method, url);
        let headers = request.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        if let Some(body) = &self.body {
            headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            *request.body_mut() = Some(body.clone().into());
        }
        request
    }

    /// The request of these parts, its headers and body moved out: for a request sent for the
    /// last time. The method and URL stay, for what its response is compared with.
    fn take(&mut self) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        let headers = request.headers_mut();
        for (name, value) in self.headers.drain(..) {
            headers.append(name, value);
        }
        if let Some(body) = self.body.take() {
            headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            *request.body_mut() = Some(body.into());
        }
        request
    }
}

/// What every attempt and exchange of one call is sent with.
pub(crate) struct Sending<'a> {
    pub client: &'a Client,
    pub spec: &'a CallSpec,
    /// The client the call goes through: the [`Client`]'s own, or one for its identity.
    pub http: &'a reqwest::Client,
    pub auth: &'a Auth,
    pub span: &'a tracing::Span,
}

// `attempts`, `exchange` and `follow` are `async` blocks rather than `async fn`s: an `async fn`'s
// future holds its arguments twice, as passed and as moved into its body, and these futures
// nest in every call's (boxed) future.
#[allow(
    clippy::manual_async_fn,
    reason = "an async block's future holds its arguments once"
)]
impl Sending<'_> {
    /// Runs the attempts of one call inside its single deadline.
    pub(crate) fn attempts(
        &self,
        outgoing: &mut Outgoing,
        seen: &mut Seen,
    ) -> impl Future<Output = Result<Bytes, Error>> {
        async move {
            let spec = self.spec;
            let total = Duration::from_millis(spec.timeout_ms);
            let started = Instant::now();
            // Measured as time left rather than as an `Instant` deadline, which would overflow
            // (and panic) for an absurd `timeout_ms`; `tokio::time::timeout` copes with any length.
            let remaining = || total.saturating_sub(started.elapsed());
            let share = total / spec.retries.saturating_add(1);
            let mut attempt: u32 = 0;
            loop {
                // Our bodies are bytes, so the request can always be sent again; after the last
                // attempt, no retry.
                let retry = attempt < spec.retries;
                let budget = if retry {
                    share.min(remaining())
                } else {
                    remaining()
                };
                // The phase is written by the exchange as it goes, and read if the timeout drops
                // it, so the error says whether the headers or the body were late.
                let mut phase = TimeoutPhase::Headers;
                let result = match &self.auth.oauth2 {
                    None => {
                        let exchange = self.exchange(outgoing, !retry, None, &mut phase, seen);
                        tokio::time::timeout(budget, exchange).await
                    }
                    Some(oauth2) => {
                        // Boxed: inline, the state of its token requests would make every call's
                        // future bigger, with OAuth2 or without.
                        let exchange =
                            Box::pin(self.with_token(outgoing, !retry, oauth2, &mut phase, seen));
                        tokio::time::timeout(budget, exchange).await
                    }
                };
                let error = match result {
                    Ok(Ok(body)) => return Ok(body),
                    Ok(Err(error)) => error,
                    Err(_) => Error::Timeout {
                        call: spec.name,
                        timeout_ms: spec.timeout_ms,
                        phase,
                    },
                };
                // Back off about 50, 100, 200... ms, and only when that still leaves time to try.
                // Jittered like a webhook's: many calls failing on one server's blip come back
                // spread out rather than together.
                let backoff = backoff(BACKOFF, MAX_BACKOFF, attempt.saturating_add(1));
                if !retry || !is_retryable(&error) || remaining() <= backoff {
                    return Err(error);
                }
                tracing::debug!(attempt, %error, "retrying");
                tokio::time::sleep(backoff).await;
                attempt = attempt.saturating_add(1);
            }
        }
    }

    /// One attempt of a call with an OAuth2 scheme: with a token (and, when the API answers
    /// 401, once more with a fresh one). `last` when no later attempt sends `outgoing` again.
    async fn with_token(
        &self,
        outgoing: &mut Outgoing,
        last: bool,
        oauth2: &auth::OAuth2,
        phase: &mut TimeoutPhase,
        seen: &mut Seen,
    ) -> Result<Bytes, Error> {
        let (client, call) = (self.client, self.spec.name);
        *phase = TimeoutPhase::Token;
        let token = client.tokens().get(client, call, oauth2).await?;
        *phase = TimeoutPhase::Headers;
        // Not the last use of `outgoing`: a 401 sends it again.
        let authorization = Some(&token.authorization);
        let result = self
            .exchange(outgoing, false, authorization, phase, seen)
            .await;
        if !matches!(result, Err(Error::Status { status: 401, .. })) {
            return result;
        }
        Tokens::invalidate(&token).await;
        tracing::debug!(
            scheme = oauth2.spec.scheme,
            "access token refused; retrying with a fresh one"
        );
        *phase = TimeoutPhase::Token;
        let token = client.tokens().get(client, call, oauth2).await?;
        *phase = TimeoutPhase::Headers;
        let authorization = Some(&token.authorization);
        self.exchange(outgoing, last, authorization, phase, seen)
            .await
    }

    /// One exchange: the request built from `outgoing` with its credentials (an OAuth2
    /// `authorization`, an HMAC signature made now) and sent; the redirects the rule allows
    /// followed; the status checked; the body read under the cap. `last` when no later
    /// attempt sends `outgoing` again.
    fn exchange(
        &self,
        outgoing: &mut Outgoing,
        last: bool,
        authorization: Option<&HeaderValue>,
        phase: &mut TimeoutPhase,
        seen: &mut Seen,
    ) -> impl Future<Output = Result<Bytes, Error>> {
        async move {
            let spec = self.spec;
            let (status, response) = self.follow(outgoing, last, authorization).await?;
            self.span.record("status", status.as_u16());
            seen.status = Some(status.as_u16());
            if !status.is_success() {
                // The body of an error page is not read (nothing in it is extracted), unless a
                // person is to be shown it.
                if seen.error_body_limit > 0 {
                    *phase = TimeoutPhase::Body;
                    seen.error_body = Some(read_prefix(response, seen.error_body_limit).await);
                }
                return Err(Error::Status {
                    call: spec.name,
                    status: status.as_u16(),
                });
            }
            *phase = TimeoutPhase::Body;
            read_body(spec, response, self.client.max_body_bytes()).await
        }
    }

    /// Sends the request (see [`Sending::exchange`]) and follows the redirects the rule
    /// allows: the last response, and its status.
    ///
    /// The request and the response are only ever moved here, never borrowed, so that the
    /// future keeps neither once it is sent or handed on.
    fn follow(
        &self,
        outgoing: &mut Outgoing,
        last: bool,
        authorization: Option<&HeaderValue>,
    ) -> impl Future<Output = Result<(StatusCode, reqwest::Response), Error>> {
        async move {
            let spec = self.spec;
            let mut request = self.request(outgoing, last, authorization)?;
            // A redirected request carries the headers it was sent with. A token or a signature is
            // in no part, so a request with one is copied as sent, before it is sent.
            let copied = authorization.is_some() || self.auth.hmac.is_some();
            // The method and URL sent after a redirect; before one, the parts'.
            let mut hop: Option<(Method, Url)> = None;
            let mut redirects = 0;
            loop {
                let (outbound, bodiless, copy) = copy_if(request, copied);
                let response = self
                    .http
                    .execute(outbound)
                    .await
                    .map_err(|error| transport(spec, error))?;
                let (method, sent) = match &hop {
                    Some((method, url)) => (method, url),
                    None => (&outgoing.method, &outgoing.url),
                };
                if !same_resource(response.url(), sent) {
                    // A caller's client with its own redirect policy already went elsewhere.
                    return Err(Error::Redirect {
                        call: spec.name,
                        status: None,
                        target: Some(origin(response.url())),
                        reason: RedirectReason::FollowedByClient,
                    });
                }
                let status = response.status();
                if !is_redirect(status) {
                    return Ok((status, response));
                }
                self.span.record("status", status.as_u16());
                let target = location(&response, sent);
                let refuse = |reason, target: Option<&Url>| Error::Redirect {
                    call: spec.name,
                    status: Some(status.as_u16()),
                    target: target.map(origin),
                    reason,
                };
                let Some(target) = target else {
                    return Err(refuse(RedirectReason::NoLocation, None));
                };
                if !bodiless {
                    return Err(refuse(RedirectReason::HasBody, Some(&target)));
                }
                if origin(&target) != origin(sent) {
                    return Err(refuse(RedirectReason::OtherOrigin, Some(&target)));
                }
                if redirects == MAX_REDIRECTS {
                    return Err(refuse(RedirectReason::TooMany, Some(&target)));
                }
                redirects += 1;
                // 303 means "see the result with GET"; the others repeat the same method.
                let method = if status == StatusCode::SEE_OTHER && *method != Method::HEAD {
                    Method::GET
                } else {
                    method.clone()
                };
                request = match copy {
                    Some(copy) => {
                        let mut next = *copy;
                        *next.method_mut() = method.clone();
                        *next.url_mut() = target.clone();
                        next
                    }
                    None => outgoing.build(method.clone(), target.clone()),
                };
                // The status only: the target's path and query may hold secrets.
                tracing::debug!(
                    status = status.as_u16(),
                    redirects,
                    "following a same-origin redirect"
                );
                hop = Some((method, target));
            }
        }
    }

    /// The request of `outgoing` with its credentials: an OAuth2 `authorization`, an HMAC
    /// signature made now. `last` when no later attempt sends `outgoing` again.
    fn request(
        &self,
        outgoing: &mut Outgoing,
        last: bool,
        authorization: Option<&HeaderValue>,
    ) -> Result<reqwest::Request, Error> {
        // Only a request without a body is ever redirected: it keeps its parts to build the
        // next one from.
        let mut request = if last && outgoing.body.is_some() {
            outgoing.take()
        } else {
            outgoing.build(outgoing.method.clone(), outgoing.url.clone())
        };
        if let Some(authorization) = authorization {
            auth::set_authorization(&mut request, authorization.clone());
        }
        sign(self.spec, self.auth, &mut request)?;
        Ok(request)
    }
}

/// `request`, whether it has no body (so may be redirected), and a copy of it if `copied` and
/// it may be.
fn copy_if(
    request: reqwest::Request,
    copied: bool,
) -> (reqwest::Request, bool, Option<Box<reqwest::Request>>) {
    let bodiless = request.body().is_none();
    let copy = if bodiless && copied {
        request.try_clone().map(Box::new)
    } else {
        None
    };
    (request, bodiless, copy)
}

/// Signs `request` if the call has an HMAC scheme.
fn sign(spec: &CallSpec, auth: &Auth, request: &mut reqwest::Request) -> Result<(), Error> {
    match &auth.hmac {
        Some(hmac) => auth::sign_request(spec.name, hmac, request),
        None => Ok(()),
    }
}

/// The statuses that ask the client to go to `Location` (not 300 or 304, which do not).
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// `Location` resolved against the URL that was asked (it may be relative), without the
/// fragment, which never goes on the wire; `None` when absent or not a URL.
fn location(response: &reqwest::Response, sent: &Url) -> Option<Url> {
    let text = response.headers().get(LOCATION)?.to_str().ok()?;
    let mut target = sent.join(text.trim()).ok()?;
    target.set_fragment(None);
    // Credentials in a Location are the server's to send, not ours to forward; these setters
    // fail only for URLs that cannot have them.
    let _ = target.set_username("");
    let _ = target.set_password(None);
    Some(target)
}

/// `scheme://host:port`, with the port spelled out even when it is the scheme's default: all
/// of a URL that errors may show, since the path and query may hold secrets.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// Whether two URLs name the same resource on the wire: reqwest reports the response's URL
/// re-parsed from the request line, so the fragment (never sent) may differ.
pub(crate) fn same_resource(a: &Url, b: &Url) -> bool {
    let without_fragment = |url: &Url| {
        let mut url = url.clone();
        url.set_fragment(None);
        url
    };
    a == b || without_fragment(a) == without_fragment(b)
}

/// Failures another attempt may fix without risk: the request never arrived, or the server
/// (or a gateway) said it is briefly unavailable.
fn is_retryable(error: &Error) -> bool {
    match error {
        Error::Connect { .. } | Error::Timeout { .. } => true,
        Error::Status { status, .. } => matches!(status, 502..=504),
        _ => false,
    }
}

/// Reads the body up to `limit` decoded bytes, stopping as soon as it is exceeded.
///
/// An `async` block rather than an `async fn`, whose argument would be kept twice in its
/// future: as passed, and moved into the body (as with [`read_prefix`]).
#[allow(
    clippy::manual_async_fn,
    reason = "an async block's future holds the response once"
)]
fn read_body(
    spec: &CallSpec,
    mut response: reqwest::Response,
    limit: usize,
) -> impl Future<Output = Result<Bytes, Error>> {
    async move {
        let too_large = || Error::BodyTooLarge {
            call: spec.name,
            limit,
        };
        // A declared length over the cap is refused before a byte of the body is read. The
        // declaration can lie, so the count below is what actually holds the cap. For a gzip,
        // br or zstd body reqwest reports no length (the declared one is the compressed size),
        // and the chunks counted below are decoded ones: the cap is on what the body inflates
        // to.
        let declared = response.content_length();
        if declared.is_some_and(|length| u64::try_from(limit).is_ok_and(|limit| length > limit)) {
            return Err(too_large());
        }
        let expected = declared
            .and_then(|length| usize::try_from(length).ok())
            .unwrap_or(0);
        let mut body = BytesMut::with_capacity(expected.min(limit));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| transport(spec, error))?
        {
            if body.len().saturating_add(chunk.len()) > limit {
                // Dropping the response here closes the connection: the rest is never read.
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// The first `limit` bytes of a body, or as much as arrived before the connection failed.
#[allow(
    clippy::manual_async_fn,
    reason = "an async block's future holds the response once"
)]
fn read_prefix(mut response: reqwest::Response, limit: usize) -> impl Future<Output = Bytes> {
    async move {
        let mut body = BytesMut::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let room = limit.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= limit {
                break;
            }
        }
        body.freeze()
    }
}

/// Sorts a reqwest error into our variants, dropping the URL (its query may hold a secret).
pub(crate) fn transport(spec: &CallSpec, error: reqwest::Error) -> Error {
    let call = spec.name;
    let source = error.without_url();
    if source.is_timeout() {
        Error::Timeout {
            call,
            timeout_ms: spec.timeout_ms,
            phase: if source.is_body() || source.is_decode() {
                TimeoutPhase::Body
            } else {
                TimeoutPhase::Headers
            },
        }
    } else if (source.is_connect() || source.is_request()) && is_tls(&source) {
        // With TLS 1.3 the server checks a client certificate after the client's side of the
        // handshake is done: its refusal (an alert) arrives as the request is sent.
        Error::Tls { call, source }
    } else if source.is_connect() {
        Error::Connect { call, source }
    } else if source.is_body() || source.is_decode() {
        Error::Body { call, source }
    } else if source.is_redirect() {
        // Only a caller's client with its own redirect policy follows redirects (and gives up
        // on too many); the status and target are not reported.
        Error::Redirect {
            call,
            status: None,
            target: None,
            reason: RedirectReason::FollowedByClient,
        }
    } else {
        Error::Request { call, source }
    }
}

/// Whether a connect error came from the TLS handshake. reqwest does not say, so look through
/// the causes for rustls's error. `std::io::Error::source` skips the error it wraps, so step
/// into wrapped I/O errors with `get_ref`.
fn is_tls(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.is::<rustls::Error>() {
            return true;
        }
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    false
}
