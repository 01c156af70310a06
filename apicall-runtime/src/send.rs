//! Sending a checked request: its attempts inside the call's one timeout, the redirects the
//! rule allows, the status, and the body read under the cap; reqwest's errors sorted into ours.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};

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

impl Client {
    /// Runs the attempts of one call inside its single deadline.
    pub(crate) async fn attempts(
        &self,
        spec: &CallSpec,
        mut request: reqwest::Request,
        http: &reqwest::Client,
        auth: &Auth,
        span: &tracing::Span,
        seen: &mut Seen,
    ) -> Result<Bytes, Error> {
        let total = Duration::from_millis(spec.timeout_ms);
        let started = Instant::now();
        // Measured as time left rather than as an `Instant` deadline, which would overflow
        // (and panic) for an absurd `timeout_ms`; `tokio::time::timeout` copes with any length.
        let remaining = || total.saturating_sub(started.elapsed());
        let share = total / spec.retries.saturating_add(1);
        let mut attempt: u32 = 0;
        loop {
            // Our bodies are bytes, so the copy always exists; without one, no retry.
            let retry = if attempt < spec.retries {
                request.try_clone()
            } else {
                None
            };
            let budget = if retry.is_some() {
                share.min(remaining())
            } else {
                remaining()
            };
            // The phase is written by the exchange as it goes, and read if the timeout drops
            // it, so the error says whether the headers or the body were late.
            let mut phase = TimeoutPhase::Headers;
            let exchange = self.authorized(spec, request, http, auth, span, &mut phase, seen);
            let result = tokio::time::timeout(budget, exchange).await;
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
            let Some(next) = retry else {
                return Err(error);
            };
            if !is_retryable(&error) || remaining() <= backoff {
                return Err(error);
            }
            tracing::debug!(attempt, %error, "retrying");
            tokio::time::sleep(backoff).await;
            attempt = attempt.saturating_add(1);
            request = next;
        }
    }

    /// One attempt with its credentials: an OAuth2 token (and, when the API answers 401, once
    /// more with a fresh one) and an HMAC signature made now.
    #[allow(clippy::too_many_arguments)]
    async fn authorized(
        &self,
        spec: &CallSpec,
        mut request: reqwest::Request,
        http: &reqwest::Client,
        auth: &Auth,
        span: &tracing::Span,
        phase: &mut TimeoutPhase,
        seen: &mut Seen,
    ) -> Result<Bytes, Error> {
        let Some(oauth2) = &auth.oauth2 else {
            sign(spec, auth, &mut request)?;
            return self.exchange(spec, request, http, span, phase, seen).await;
        };
        // Boxed: inline, the state of its token requests would make every call's future
        // bigger, with OAuth2 or without.
        Box::pin(self.with_token(spec, request, http, auth, oauth2, span, phase, seen)).await
    }

    /// [`Client::authorized`] for a call with an OAuth2 scheme.
    #[allow(clippy::too_many_arguments)]
    async fn with_token(
        &self,
        spec: &CallSpec,
        mut request: reqwest::Request,
        http: &reqwest::Client,
        auth: &Auth,
        oauth2: &auth::OAuth2,
        span: &tracing::Span,
        phase: &mut TimeoutPhase,
        seen: &mut Seen,
    ) -> Result<Bytes, Error> {
        // Our bodies are bytes, so the copy always exists.
        let again = request.try_clone();
        *phase = TimeoutPhase::Token;
        let token = self.tokens().get(self, spec.name, oauth2).await?;
        *phase = TimeoutPhase::Headers;
        auth::set_authorization(&mut request, token.authorization.clone());
        sign(spec, auth, &mut request)?;
        let result = self.exchange(spec, request, http, span, phase, seen).await;
        if !matches!(result, Err(Error::Status { status: 401, .. })) {
            return result;
        }
        let Some(mut again) = again else {
            return result;
        };
        Tokens::invalidate(&token).await;
        tracing::debug!(
            scheme = oauth2.spec.scheme,
            "access token refused; retrying with a fresh one"
        );
        *phase = TimeoutPhase::Token;
        let token = self.tokens().get(self, spec.name, oauth2).await?;
        *phase = TimeoutPhase::Headers;
        auth::set_authorization(&mut again, token.authorization);
        sign(spec, auth, &mut again)?;
        self.exchange(spec, again, http, span, phase, seen).await
    }

    /// One exchange: send, follow the redirects the rule allows, check the status, read the body
    /// under the cap.
    async fn exchange(
        &self,
        spec: &CallSpec,
        request: reqwest::Request,
        http: &reqwest::Client,
        span: &tracing::Span,
        phase: &mut TimeoutPhase,
        seen: &mut Seen,
    ) -> Result<Bytes, Error> {
        let mut request = request;
        let mut redirects = 0;
        let response = loop {
            let sent = request.url().clone();
            // Taken before sending, since `execute` consumes the request. Only a request
            // without a body is ever redirected, and for one the copy always exists.
            let next = if request.body().is_none() {
                request.try_clone()
            } else {
                None
            };
            let response = http
                .execute(request)
                .await
                .map_err(|error| transport(spec, error))?;
            if !same_resource(response.url(), &sent) {
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
                break response;
            }
            span.record("status", status.as_u16());
            let target = location(&response, &sent);
            let refuse = |reason, target: Option<&Url>| Error::Redirect {
                call: spec.name,
                status: Some(status.as_u16()),
                target: target.map(origin),
                reason,
            };
            let Some(target) = target else {
                return Err(refuse(RedirectReason::NoLocation, None));
            };
            let Some(mut next) = next else {
                return Err(refuse(RedirectReason::HasBody, Some(&target)));
            };
            if origin(&target) != origin(&sent) {
                return Err(refuse(RedirectReason::OtherOrigin, Some(&target)));
            }
            if redirects == MAX_REDIRECTS {
                return Err(refuse(RedirectReason::TooMany, Some(&target)));
            }
            redirects += 1;
            // 303 means "see the result with GET"; the others repeat the same method.
            if status == StatusCode::SEE_OTHER && next.method() != reqwest::Method::HEAD {
                *next.method_mut() = reqwest::Method::GET;
            }
            *next.url_mut() = target;
            // The status only: the target's path and query may hold secrets.
            tracing::debug!(
                status = status.as_u16(),
                redirects,
                "following a same-origin redirect"
            );
            request = next;
        };
        let status = response.status();
        span.record("status", status.as_u16());
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
        read_body(spec, response, self.max_body_bytes()).await
    }
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
async fn read_body(
    spec: &CallSpec,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Error> {
    let too_large = || Error::BodyTooLarge {
        call: spec.name,
        limit,
    };
    // A declared length over the cap is refused before a byte of the body is read. The
    // declaration can lie, so the count below is what actually holds the cap. For a gzip, br
    // or zstd body reqwest reports no length (the declared one is the compressed size), and
    // the chunks counted below are decoded ones: the cap is on what the body inflates to.
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

/// The first `limit` bytes of a body, or as much as arrived before the connection failed.
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Bytes {
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
