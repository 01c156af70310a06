//! Post-call webhooks: rendered when the conversation ends, then signed and delivered in the
//! background with retries, so the conversation never waits on the receiver.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use tracing::Instrument;

use crate::backoff::backoff;
use crate::conversation::{CallEnd, unix_ms};
use crate::outbox::{NotQueued, ParkReason};
use crate::request::Request;
use crate::send::{same_resource, transport};
use crate::signature::{IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use crate::spec::CallSpec;
use crate::{Client, Error, Secret};

/// The first retry waits about this long unless the client says otherwise; each later one
/// twice as long as the one before.
pub const DEFAULT_WEBHOOK_BACKOFF: Duration = Duration::from_millis(500);
/// No wait between attempts is longer than this (see [`backoff`]).
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A `Retry-After` asking for longer than this ends the delivery rather than holding a
/// background task for hours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Why a webhook was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The webhook could not be rendered (an invalid header value, a URL value missing...):
    /// nothing was sent.
    #[error("webhook {webhook}: not sent: {source}")]
    NotSent {
        /// The webhook's name.
        webhook: &'static str,
        /// Why.
        #[source]
        source: Error,
    },
    /// The signing secret is empty (as after restoring a session without its secrets):
    /// nothing was sent, since the receiver could not trust it.
    #[error("webhook {webhook}: not sent: the signing secret is empty")]
    MissingSigningKey {
        /// The webhook's name.
        webhook: &'static str,
    },
    /// The receiver refused it with a status that retrying will not change (4xx other than
    /// 408 and 429).
    #[error("webhook {webhook}: the receiver answered HTTP {status}")]
    Rejected {
        /// The webhook's name.
        webhook: &'static str,
        /// The HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The receiver answered with a redirect (any 3xx). A webhook never follows one: the
    /// signed body must not go to a second address, and an HTTP client would turn a redirected
    /// POST into a GET without its body, which would look delivered and deliver nothing. Point
    /// `url:` at the final address.
    #[error("webhook {webhook}: the receiver redirected it; point `url:` at the final address")]
    Redirected {
        /// The webhook's name.
        webhook: &'static str,
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt failed, or one failed in a way retrying cannot fix (TLS, say).
    #[error("webhook {webhook}: gave up after {attempts} attempt(s): {last}")]
    GaveUp {
        /// The webhook's name.
        webhook: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: Error,
    },
    /// `finish` was called outside a Tokio runtime, so nothing could run the delivery.
    #[error("webhook {webhook}: not sent: no Tokio runtime to deliver it")]
    NoRuntime {
        /// The webhook's name.
        webhook: &'static str,
    },
    /// The delivery task was cancelled (the runtime shut down) before it finished. With an
    /// [`Outbox`](crate::Outbox), the webhook's row is still there for the next worker.
    #[error("webhook delivery was cancelled before it finished")]
    Cancelled,
    /// The client has an [`Outbox`](crate::Outbox), and the webhook could not be written to
    /// it: nothing was sent.
    #[error("webhook {webhook}: not queued: {reason}")]
    NotQueued {
        /// The webhook's name.
        webhook: &'static str,
        /// Why.
        #[source]
        reason: NotQueued,
    },
    /// The outbox row is parked: the worker could not send it as it stands (a secret it names
    /// is not configured in this process, say). It stays in the outbox until retried.
    #[error("webhook {webhook}: parked in the outbox: {reason}")]
    Parked {
        /// The webhook's name.
        webhook: &'static str,
        /// Why.
        reason: ParkReason,
    },
}

impl WebhookError {
    /// The webhook's name, when the error belongs to one.
    #[must_use]
    pub fn webhook(&self) -> Option<&'static str> {
        match self {
            WebhookError::NotSent { webhook, .. }
            | WebhookError::MissingSigningKey { webhook }
            | WebhookError::Rejected { webhook, .. }
            | WebhookError::Redirected { webhook, .. }
            | WebhookError::GaveUp { webhook, .. }
            | WebhookError::NoRuntime { webhook }
            | WebhookError::NotQueued { webhook, .. }
            | WebhookError::Parked { webhook, .. } => Some(webhook),
            WebhookError::Cancelled => None,
        }
    }
}

/// A webhook the receiver accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivered {
    /// The webhook's name.
    pub webhook: &'static str,
    /// The receiver's 2xx status.
    pub status: u16,
    /// Attempts it took (1 when the first one landed).
    pub attempts: u32,
    /// The idempotency key it carried.
    pub idempotency_key: String,
}

/// The background delivery of a conversation's webhooks.
///
/// Delivery runs whether or not this handle is kept; [`Delivery::wait`] reports how each
/// webhook fared (and `tracing` reports it either way). Keep the handle, or await it, before
/// shutting the runtime down: a runtime that stops cancels what is still retrying.
#[derive(Debug)]
#[must_use = "delivery runs in the background; wait on the handle to learn how it went"]
pub struct Delivery {
    state: DeliveryState,
}

#[derive(Debug)]
enum DeliveryState {
    Running(tokio::task::JoinHandle<Vec<Result<Delivered, WebhookError>>>),
    Done(Vec<Result<Delivered, WebhookError>>),
}

impl Delivery {
    pub(crate) fn running(
        task: tokio::task::JoinHandle<Vec<Result<Delivered, WebhookError>>>,
    ) -> Self {
        Self {
            state: DeliveryState::Running(task),
        }
    }

    pub(crate) fn done(results: Vec<Result<Delivered, WebhookError>>) -> Self {
        Self {
            state: DeliveryState::Done(results),
        }
    }

    /// Whether every webhook has been delivered or given up on.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        match &self.state {
            DeliveryState::Running(task) => task.is_finished(),
            DeliveryState::Done(_) => true,
        }
    }

    /// Waits for every webhook, and says how each fared, in the YAML's order.
    pub async fn wait(self) -> Vec<Result<Delivered, WebhookError>> {
        match self.state {
            DeliveryState::Running(task) => task
                .await
                .unwrap_or_else(|_| vec![Err(WebhookError::Cancelled)]),
            DeliveryState::Done(results) => results,
        }
    }
}

/// A rendered webhook, ready to sign and send.
pub struct Webhook {
    pub(crate) spec: &'static CallSpec,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// The same bytes go out on every attempt: `Bytes` clones without copying.
    pub(crate) body: Bytes,
    pub(crate) signing_key: Option<Secret>,
    pub(crate) idempotency_key: HeaderValue,
    /// The variable the signing key came from: an outbox stores this name, never the key.
    pub(crate) signing_key_name: Option<&'static str>,
    /// The secret variables the webhook was rendered with, by name: an outbox writes each
    /// one's place in a header as its name, and refuses a secret anywhere else.
    pub(crate) secrets: Vec<(&'static str, Secret)>,
}

impl std::fmt::Debug for Webhook {
    /// The name only: the URL, headers and body may hold secrets or personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.spec.name)
            .field("signed", &self.signing_key.is_some())
            .finish_non_exhaustive()
    }
}

/// Finishes a rendered request as a webhook of the conversation that ended with `end`.
///
/// # Errors
///
/// [`WebhookError::NotSent`] for a request that cannot be sent,
/// [`WebhookError::MissingSigningKey`] for an empty signing secret.
pub fn prepare(
    request: Request<'_>,
    signing_key: Option<&Secret>,
    end: &CallEnd,
) -> Result<Webhook, WebhookError> {
    prepare_inner(request, signing_key, None, &[], end)
}

/// [`prepare`], also naming the secret variables the webhook was rendered with (the signing
/// key among them), as generated code does. A client with an [`Outbox`](crate::Outbox) needs
/// the names: it stores them in place of the secrets, and resolves them again at send time.
///
/// # Errors
///
/// As [`prepare`].
pub fn prepare_with_secrets(
    request: Request<'_>,
    signing_key: Option<(&'static str, &Secret)>,
    secrets: &[(&'static str, &Secret)],
    end: &CallEnd,
) -> Result<Webhook, WebhookError> {
    let (name, key) = signing_key.map_or((None, None), |(name, key)| (Some(name), Some(key)));
    prepare_inner(request, key, name, secrets, end)
}

fn prepare_inner(
    request: Request<'_>,
    signing_key: Option<&Secret>,
    signing_key_name: Option<&'static str>,
    secrets: &[(&'static str, &Secret)],
    end: &CallEnd,
) -> Result<Webhook, WebhookError> {
    let spec = request.spec();
    let webhook = spec.name;
    if signing_key.is_some_and(Secret::is_empty) {
        return Err(WebhookError::MissingSigningKey { webhook });
    }
    let (url, headers, body) = request
        .into_parts()
        .map_err(|source| WebhookError::NotSent { webhook, source })?;
    let idempotency_key = HeaderValue::try_from(format!("{}:{webhook}", end.id)).map_err(|_| {
        WebhookError::NotSent {
            webhook,
            source: Error::InvalidHeaderValue {
                call: webhook,
                header: "Idempotency-Key",
            },
        }
    })?;
    Ok(Webhook {
        spec,
        url,
        headers,
        body: Bytes::from(body.unwrap_or_else(|| b"{}".to_vec())),
        signing_key: signing_key.cloned(),
        idempotency_key,
        signing_key_name,
        secrets: secrets
            .iter()
            .map(|(name, secret)| (*name, (*secret).clone()))
            .collect(),
    })
}

/// Starts delivering `webhooks` in the background, concurrently.
///
/// With an [`Outbox`](crate::Outbox) on the client, each webhook is written to it before this
/// returns, and the outbox's worker delivers it (see [`Client::with_outbox`]).
pub fn deliver(client: &Client, webhooks: Vec<Result<Webhook, WebhookError>>) -> Delivery {
    if let Some(outbox) = client.outbox() {
        return outbox.deliver(client, webhooks);
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        let results = webhooks
            .into_iter()
            .map(|webhook| {
                Err(match webhook {
                    Ok(webhook) => WebhookError::NoRuntime {
                        webhook: webhook.spec.name,
                    },
                    Err(error) => error,
                })
            })
            .collect();
        return Delivery {
            state: DeliveryState::Done(results),
        };
    };
    let client = client.clone();
    // The task runs after `finish` returns: carry the caller's span (a conversation's, say) so
    // the delivery's events still sit under it.
    let parent = tracing::Span::current();
    let task = runtime.spawn(async move {
        let sends = webhooks.into_iter().map(|webhook| {
            let client = &client;
            async move {
                match webhook {
                    Ok(webhook) => webhook.send(client).await,
                    Err(error) => {
                        tracing::warn!(%error, "webhook not sent");
                        Err(error)
                    }
                }
            }
        });
        futures_util::future::join_all(sends)
            .instrument(parent)
            .await
    });
    Delivery {
        state: DeliveryState::Running(task),
    }
}

impl Webhook {
    /// Sends until delivered, refused, or out of attempts.
    async fn send(self, client: &Client) -> Result<Delivered, WebhookError> {
        // The name and outcome only: the URL, headers and body may hold secrets or personal data.
        let span = tracing::info_span!(
            "apicall.webhook",
            webhook = self.spec.name,
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let result = self.attempts(client, &span).instrument(span.clone()).await;
        span.in_scope(|| match &result {
            Ok(delivered) => tracing::info!(
                attempts = delivered.attempts,
                status = delivered.status,
                "webhook delivered"
            ),
            Err(error) => tracing::warn!(%error, "webhook not delivered"),
        });
        result
    }

    async fn attempts(
        &self,
        client: &Client,
        span: &tracing::Span,
    ) -> Result<Delivered, WebhookError> {
        let webhook = self.spec.name;
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            span.record("attempts", attempt);
            let verdict = self.try_once(client).await;
            if let Some(status) = verdict.status() {
                span.record("status", status);
            }
            let failure = match verdict {
                Verdict::Delivered { status } => {
                    return Ok(Delivered {
                        webhook,
                        status,
                        attempts: attempt,
                        idempotency_key: self.idempotency_key_text(),
                    });
                }
                Verdict::Redirected { .. } => {
                    return Err(WebhookError::Redirected {
                        webhook,
                        attempts: attempt,
                    });
                }
                Verdict::Rejected { status } => {
                    return Err(WebhookError::Rejected {
                        webhook,
                        status,
                        attempts: attempt,
                    });
                }
                Verdict::Failed(failure) => failure,
            };
            let Some(wait) = retry_wait(client, self.spec, attempt, &failure) else {
                return Err(WebhookError::GaveUp {
                    webhook,
                    attempts: attempt,
                    last: failure.error,
                });
            };
            tracing::debug!(attempt, error = %failure.error, wait_ms = wait.as_millis(), "webhook attempt failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// The idempotency key as text (it was made from text, so this never loses anything).
    pub(crate) fn idempotency_key_text(&self) -> String {
        String::from_utf8_lossy(self.idempotency_key.as_bytes()).into_owned()
    }

    /// One attempt within the webhook's timeout, and what it means.
    pub(crate) async fn try_once(&self, client: &Client) -> Verdict {
        let timeout = Duration::from_millis(self.spec.timeout_ms);
        match tokio::time::timeout(timeout, self.attempt(client)).await {
            // The shared client follows no redirect, so a 3xx arrives here; a caller's own
            // client may have followed it already, which only the URL shows.
            Ok(Ok(response))
                if response.status().is_redirection()
                    || !same_resource(response.url(), &self.url) =>
            {
                Verdict::Redirected {
                    status: response.status().as_u16(),
                }
            }
            Ok(Ok(response)) if response.status().is_success() => Verdict::Delivered {
                status: response.status().as_u16(),
            },
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                if !matches!(status, 408 | 429 | 500..=599) {
                    return Verdict::Rejected { status };
                }
                Verdict::Failed(Failure {
                    error: Error::Status {
                        call: self.spec.name,
                        status,
                    },
                    retry_after: retry_after(response.headers().get(RETRY_AFTER)),
                    status: Some(status),
                })
            }
            Ok(Err(error)) => Verdict::Failed(Failure {
                error: transport(self.spec, error),
                retry_after: None,
                status: None,
            }),
            Err(_) => Verdict::Failed(Failure {
                error: Error::Timeout {
                    call: self.spec.name,
                    timeout_ms: self.spec.timeout_ms,
                    phase: crate::TimeoutPhase::Headers,
                },
                retry_after: None,
                status: None,
            }),
        }
    }

    /// One signed POST. The timestamp is taken per attempt, so a retry after a long wait is
    /// still inside the receiver's tolerance; the body and idempotency key stay the same.
    async fn attempt(&self, client: &Client) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = client
            .http()
            .post(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(IDEMPOTENCY_KEY_HEADER, self.idempotency_key.clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(key) = &self.signing_key {
            let timestamp = unix_ms(SystemTime::now()) / 1000;
            let signature = sign(key, timestamp, &self.body);
            request = request
                .header(TIMESTAMP_HEADER, timestamp)
                .header(SIGNATURE_HEADER, signature);
        }
        request.body(self.body.clone()).send().await
    }
}

/// What one attempt came to.
pub(crate) enum Verdict {
    /// A 2xx.
    Delivered { status: u16 },
    /// A 3xx, or a client that followed one: never retried.
    Redirected { status: u16 },
    /// A 4xx other than 408 and 429: retrying will not change it.
    Rejected { status: u16 },
    /// Something another attempt may fix (or TLS, which it will not: see [`retry_wait`]).
    Failed(Failure),
}

impl Verdict {
    /// The receiver's status, when it answered.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Verdict::Delivered { status }
            | Verdict::Redirected { status }
            | Verdict::Rejected { status } => Some(*status),
            Verdict::Failed(failure) => failure.status,
        }
    }
}

pub(crate) struct Failure {
    pub(crate) error: Error,
    retry_after: Option<Duration>,
    status: Option<u16>,
}

/// How long to wait after failed attempt number `attempt` before the next, or `None` to give
/// up: out of retries, a TLS failure, or a `Retry-After` longer than [`MAX_RETRY_AFTER`]. One
/// rule for in-process delivery and the outbox's worker.
pub(crate) fn retry_wait(
    client: &Client,
    spec: &CallSpec,
    attempt: u32,
    failure: &Failure,
) -> Option<Duration> {
    if attempt > spec.retries || matches!(failure.error, Error::Tls { .. }) {
        return None;
    }
    let backoff = backoff(client.webhook_backoff(), MAX_BACKOFF, attempt);
    match failure.retry_after {
        Some(asked) if asked > MAX_RETRY_AFTER => None,
        Some(asked) => Some(asked.max(backoff)),
        None => Some(backoff),
    }
}

/// `Retry-After` as a wait: a number of seconds, or an HTTP date.
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let header = |text: &str| HeaderValue::from_str(text).unwrap();
        assert_eq!(
            retry_after(Some(&header("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(Some(&header(" 0 "))), Some(Duration::ZERO));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = retry_after(Some(&header(&soon))).unwrap();
        assert!(
            (Duration::from_secs(28)..=Duration::from_secs(30)).contains(&wait),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        assert_eq!(retry_after(Some(&header(&past))), Some(Duration::ZERO));
        assert_eq!(retry_after(Some(&header("later"))), None);
        assert_eq!(retry_after(Some(&header("-5"))), None);
        assert_eq!(retry_after(None), None);
    }
}
