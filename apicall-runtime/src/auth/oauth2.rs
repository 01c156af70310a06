//! OAuth2 client credentials: the token request, and the cache that makes one request serve
//! every call until the token is due for renewal.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BytesMut;
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use serde::Deserialize;
use tokio::time::Instant;

use super::{ClientAuth, DEFAULT_TOKEN_LIFETIME, OAuth2, basic_header};
use crate::request::APICALL_USER_AGENT;
use crate::{Client, Error, Secret, TokenFailure};

/// The most of a token endpoint's answer that is read.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// A token is renewed this long before it expires, or a tenth of its lifetime when less.
const RENEW_BEFORE: Duration = Duration::from_secs(30);
/// An `expires_in` longer than this counts as this (an `Instant` cannot be arbitrarily far).
const MAX_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The most client ids whose tokens one [`Client`] keeps: each tenant's credentials (or each
/// rotated client secret's id) would otherwise add an entry for the life of the process. Past
/// it, the least recently used entry no call holds goes, and its next call fetches again.
pub(crate) const MAX_TOKEN_SLOTS: usize = 1024;

/// Cache key: scheme, token URL, client id.
type Key = (&'static str, &'static str, String);
/// One cache entry, locked while its token is fetched.
type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The tokens of one [`Client`] and its clones.
#[derive(Default)]
pub(crate) struct Tokens {
    /// Each slot, and when it was last asked for (a count of the asks).
    slots: Mutex<HashMap<Key, (Slot, u64)>>,
    asks: AtomicU64,
    next_id: AtomicU64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Tokens")
            .field("entries", &entries)
            .finish_non_exhaustive()
    }
}

/// A cached token.
struct Cached {
    /// Tells this token from the one that replaces it.
    id: u64,
    /// `Bearer <token>`, sensitive.
    authorization: HeaderValue,
    /// When to stop using it.
    renew_at: Instant,
}

/// The token a request was sent with, to drop it if the API refuses it.
pub(crate) struct Token {
    slot: Slot,
    id: u64,
    /// `Bearer <token>`, sensitive.
    pub authorization: HeaderValue,
}

impl Tokens {
    /// The `Authorization` value for `oauth2`: the cached token while it is fresh, else a new
    /// one, fetched by exactly one of the calls that need it.
    pub(crate) async fn get(
        &self,
        client: &Client,
        call: &'static str,
        oauth2: &OAuth2,
    ) -> Result<Token, Error> {
        let spec = oauth2.spec;
        let slot = self.slot((spec.scheme, spec.token_url, oauth2.client_id.clone()));
        // Held across the token request: every other call for this key waits here, then finds
        // the fresh token.
        let mut cached = slot.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|token| Instant::now() < token.renew_at)
        {
            return Ok(Token {
                slot: Arc::clone(&slot),
                id: token.id,
                authorization: token.authorization.clone(),
            });
        }
        *cached = None;
        let asked = Instant::now();
        let (authorization, lifetime) = fetch(client, call, oauth2).await?;
        let lifetime = lifetime.min(MAX_LIFETIME);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        *cached = Some(Cached {
            id,
            authorization: authorization.clone(),
            renew_at: asked + lifetime.saturating_sub(RENEW_BEFORE.min(lifetime / 10)),
        });
        drop(cached);
        Ok(Token {
            slot,
            id,
            authorization,
        })
    }

    /// The slot for `key`, made if there is none; the least recently used idle slot goes
    /// first when there are [`MAX_TOKEN_SLOTS`].
    fn slot(&self, key: Key) -> Slot {
        let asked = self.asks.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((slot, last_asked)) = slots.get_mut(&key) {
            *last_asked = asked;
            return Arc::clone(slot);
        }
        if slots.len() >= MAX_TOKEN_SLOTS {
            // Idle: no call holds it (one waiting for its token, or one sending with it and
            // ready to invalidate it, holds a clone).
            let least_recent = (slots.iter())
                .filter(|(_, (slot, _))| Arc::strong_count(slot) == 1)
                .min_by_key(|(_, (_, last_asked))| *last_asked)
                .map(|(key, _)| key.clone());
            if let Some(key) = least_recent {
                slots.remove(&key);
            }
        }
        let slot = Slot::default();
        slots.insert(key, (Arc::clone(&slot), asked));
        slot
    }

    /// Drops `token` from the cache, unless another call already replaced it.
    pub(crate) async fn invalidate(token: &Token) {
        let mut cached = token.slot.lock().await;
        if cached.as_ref().is_some_and(|cached| cached.id == token.id) {
            *cached = None;
        }
    }
}

/// A token endpoint's answer (RFC 6749 §5.1). No `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// A token endpoint's error answer (RFC 6749 §5.2).
#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
}

/// Asks the token endpoint for a token: `Bearer <token>` and how long it lasts.
async fn fetch(
    client: &Client,
    call: &'static str,
    oauth2: &OAuth2,
) -> Result<(HeaderValue, Duration), Error> {
    let spec = oauth2.spec;
    let scheme = spec.scheme;
    let fail = |failure| Error::Token {
        call,
        scheme,
        failure,
    };
    let url = token_url(client, call, scheme, spec.token_url)?;
    let request = token_request(client, oauth2, url);
    tracing::debug!(scheme, "fetching an access token");
    let response = request.send().await.map_err(|error| {
        fail(TokenFailure::Request {
            source: error.without_url(),
        })
    })?;
    let status = response.status();
    let body = read_capped(response).await.map_err(|error| {
        fail(TokenFailure::Request {
            source: error.without_url(),
        })
    })?;
    if !status.is_success() {
        let error = body.as_deref().and_then(|body| {
            let answer: ErrorResponse = serde_json::from_slice(body).ok()?;
            standard_error(&answer.error?)
        });
        return Err(fail(TokenFailure::Status {
            status: status.as_u16(),
            error,
        }));
    }
    let answer: TokenResponse = body
        .as_deref()
        .and_then(|body| serde_json::from_slice(body).ok())
        .ok_or_else(|| fail(TokenFailure::NotJson))?;
    if answer
        .token_type
        .as_deref()
        .is_some_and(|kind| !kind.eq_ignore_ascii_case("bearer"))
    {
        return Err(fail(TokenFailure::NotBearer));
    }
    let token = answer
        .access_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| fail(TokenFailure::NoAccessToken))?;
    let mut authorization = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| fail(TokenFailure::NoAccessToken))?;
    authorization.set_sensitive(true);
    let lifetime = answer
        .expires_in
        .as_ref()
        .and_then(seconds)
        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    tracing::debug!(
        scheme,
        expires_in_s = lifetime.as_secs(),
        "access token fetched"
    );
    Ok((authorization, lifetime))
}

/// The token request (RFC 6749 §4.4.2), client authentication included. Built apart from the
/// `async` fetch: the form serializer is not `Send`.
fn token_request(client: &Client, oauth2: &OAuth2, url: Url) -> reqwest::RequestBuilder {
    let spec = oauth2.spec;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if !spec.scopes.is_empty() {
        form.append_pair("scope", &spec.scopes.join(" "));
    }
    let mut request = client
        .http()
        .post(url)
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(APICALL_USER_AGENT));
    match spec.client_auth {
        ClientAuth::Body => {
            form.append_pair("client_id", &oauth2.client_id);
            form.append_pair("client_secret", oauth2.client_secret.expose());
        }
        // RFC 6749 §2.3.1: each form-urlencoded, then joined and base64-encoded.
        ClientAuth::Basic => {
            let id = form_encode(&oauth2.client_id);
            let secret = Secret::new(form_encode(oauth2.client_secret.expose()));
            let Some(value) = basic_header(&id, secret.expose()) else {
                unreachable!("form-urlencoded text in base64 is a valid header value")
            };
            request = request.header(AUTHORIZATION, value);
        }
    }
    request.body(form.finish())
}

/// The token URL, checked and moved onto the client's base URL.
fn token_url(
    client: &Client,
    call: &'static str,
    scheme: &'static str,
    text: &str,
) -> Result<Url, Error> {
    let invalid = || Error::InvalidUrl {
        call,
        reason: format!("the token URL of `{scheme}` is not an http or https URL"),
    };
    let mut url = Url::parse(text).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid());
    }
    client.rebase(&mut url);
    Ok(url)
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B).
fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The body, or `None` when it is larger than the token answer cap.
async fn read_capped(mut response: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len().saturating_add(chunk.len()) > MAX_TOKEN_RESPONSE_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.to_vec()))
}

/// `expires_in` as a duration: a number of seconds, or (as some servers send it) a string of
/// one. Anything else is ignored.
fn seconds(value: &serde_json::Value) -> Option<Duration> {
    match value {
        serde_json::Value::Number(number) => {
            number.as_u64().map(Duration::from_secs).or_else(|| {
                number
                    .as_f64()
                    .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            })
        }
        serde_json::Value::String(text) => text.trim().parse().ok().map(Duration::from_secs),
        _ => None,
    }
}

/// RFC 6749 §5.2's error codes: the only text of a token endpoint's answer an error shows.
fn standard_error(code: &str) -> Option<&'static str> {
    [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ]
    .into_iter()
    .find(|standard| *standard == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_the_least_recently_used_idle_slot_goes() {
        let tokens = Tokens::default();
        let key = |i: usize| {
            (
                "crm",
                "https://auth.example.com/token",
                format!("tenant-{i}"),
            )
        };
        let held = tokens.slot(key(0));
        for i in 1..MAX_TOKEN_SLOTS {
            drop(tokens.slot(key(i)));
        }
        // Tenant 1 is asked for again: tenant 2 is now the least recent idle one.
        drop(tokens.slot(key(1)));
        drop(tokens.slot(key(MAX_TOKEN_SLOTS)));
        let slots = tokens.slots.lock().unwrap();
        assert_eq!(slots.len(), MAX_TOKEN_SLOTS);
        assert!(!slots.contains_key(&key(2)));
        // Held by a call (the oldest, but in use) and recently asked for: kept.
        assert!(slots.contains_key(&key(0)) && slots.contains_key(&key(1)));
        assert!(slots.contains_key(&key(MAX_TOKEN_SLOTS)));
        drop(slots);
        drop(held);
    }

    #[test]
    fn expires_in_reads_numbers_and_numeric_strings() {
        let read = |json: &str| seconds(&serde_json::from_str(json).unwrap());
        assert_eq!(read("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(read("\"120\""), Some(Duration::from_secs(120)));
        assert_eq!(read("59.5"), Some(Duration::from_millis(59_500)));
        assert_eq!(read("-5"), None);
        assert_eq!(read("null"), None);
        assert_eq!(read("\"soon\""), None);
    }

    #[test]
    fn only_standard_error_codes_are_kept() {
        assert_eq!(standard_error("invalid_client"), Some("invalid_client"));
        assert_eq!(standard_error("sk-live-secret"), None);
    }

    #[test]
    fn client_credentials_are_form_encoded_before_base64() {
        // RFC 6749 §2.3.1 and Appendix B: space is `+`, reserved characters percent-encoded.
        assert_eq!(form_encode("a b:c/é+"), "a+b%3Ac%2F%C3%A9%2B");
    }
}
