//! The HTTP client every generated call goes through.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Url;

use crate::auth::{Identities, Tokens};
use crate::webhook::DEFAULT_WEBHOOK_BACKOFF;
use crate::{Error, Outbox};

/// Response bodies larger than this are refused unless the client says otherwise: an agent
/// extracts a few values, and a runaway body should not stall the conversation.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// A cheaply clonable handle for making calls.
///
/// [`Client::new`] shares one `reqwest::Client` per Tokio runtime, so connections are reused
/// across calls and conversations; clones of a `Client` share its connections too, and its
/// OAuth2 token cache and client-certificate connections (see [`auth`](crate::auth)).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: Option<Url>,
    max_body_bytes: usize,
    webhook_backoff: Duration,
    /// Extra roots for `http` (when built here) and for the identity clients.
    roots: Vec<reqwest::Certificate>,
    tokens: Arc<Tokens>,
    identities: Arc<Identities>,
    outbox: Option<Outbox>,
}

impl Client {
    /// The shared default client: rustls, connection pooling, gzip/brotli/zstd decoding, no
    /// base URL override, a 1 MiB body cap. Timeouts are per call, from the YAML.
    ///
    /// It follows no redirect by itself: apicall decides which to follow (see
    /// [`Error::Redirect`]).
    ///
    /// # Panics
    ///
    /// When the TLS backend cannot be initialised, as `reqwest::Client::new` does.
    #[must_use]
    pub fn new() -> Self {
        Self::with_http_client(shared_for_this_runtime())
    }

    /// Uses your own `reqwest::Client` (proxies, TLS roots...).
    ///
    /// Build it with `.redirect(reqwest::redirect::Policy::none())`: apicall follows redirects
    /// itself, only where it is safe (same origin, no body, at most 5). A client that follows
    /// them on its own may already have sent the request elsewhere; apicall notices (the final
    /// URL is not the one it asked for) and fails the call with [`Error::Redirect`] all the
    /// same, but cannot unsend it.
    ///
    /// apicall sets `User-Agent: apicall/<version>` on each request unless the YAML sets one,
    /// which replaces a default user agent configured on this client.
    #[must_use]
    pub fn with_http_client(http: reqwest::Client) -> Self {
        Self {
            http,
            base_url: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            webhook_backoff: DEFAULT_WEBHOOK_BACKOFF,
            roots: Vec::new(),
            tokens: Arc::default(),
            identities: Arc::default(),
            outbox: None,
        }
    }

    /// Trusts `certificate` as a root certificate authority, besides the system's: for a
    /// private CA, or a test server's. Parse it with `reqwest::Certificate::from_pem` (or
    /// `from_der`; `apicall_runtime::reqwest` is the same crate).
    ///
    /// This replaces the `reqwest::Client` (the shared one, or one given to
    /// [`Client::with_http_client`], whose own settings are lost) with one apicall builds as
    /// [`Client::new`] does, trusting every certificate given here; calls with a client
    /// certificate ([`Request::client_identity`](crate::call::Request::client_identity)) trust
    /// them too. Call it while setting the client up: clones made before keep what they had.
    ///
    /// # Errors
    ///
    /// [`Error::ClientSetup`] when the TLS backend refuses the certificate.
    pub fn with_root_certificate(
        mut self,
        certificate: reqwest::Certificate,
    ) -> Result<Self, Error> {
        self.roots.push(certificate);
        self.http = self
            .http_builder()
            .build()
            .map_err(|source| Error::ClientSetup { source })?;
        // Clients built for identities before do not trust the new root.
        self.identities = Arc::default();
        Ok(self.settings_changed())
    }

    /// Sends every call to `base` instead: its scheme, host and port replace the YAML URL's,
    /// and a path in `base` is put before the YAML URL's path. Meant for tests and staging,
    /// e.g. `http://127.0.0.1:8080`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBaseUrl`] unless `base` is an absolute `http` or `https` URL with a host
    /// and without query or fragment.
    pub fn with_base_url(mut self, base: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidBaseUrl {
            reason: reason.to_owned(),
        };
        let url = Url::parse(base).map_err(|error| invalid(&error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host().is_none() {
            return Err(invalid("it has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it must not have a query or fragment"));
        }
        self.base_url = Some(url);
        Ok(self.settings_changed())
    }

    /// Refuses response bodies larger than `limit` bytes ([`Error::BodyTooLarge`]).
    #[must_use]
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self.settings_changed()
    }

    /// Waits about `base` before a webhook's first retry, doubling for each one after
    /// (default [`DEFAULT_WEBHOOK_BACKOFF`]). A receiver's `Retry-After` still wins.
    #[must_use]
    pub fn with_webhook_backoff(mut self, base: Duration) -> Self {
        self.webhook_backoff = base;
        self.settings_changed()
    }

    /// Writes webhooks to `outbox` instead of sending them from memory: the generated
    /// `finish` returns once each is a row there, and a worker (one per outbox and process,
    /// started here when inside a Tokio runtime, else by the first `finish` inside one)
    /// delivers the rows with the same retries and backoff, surviving a crash or restart of the
    /// process. Rows hold no secret value; see [`Outbox`].
    ///
    /// Writing a row is a small blocking database write inside `finish` (on a multi-threaded
    /// Tokio runtime, the thread's other tasks move elsewhere meanwhile). The worker sends
    /// with this client's settings, including those set after this call.
    #[must_use]
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        outbox.use_client(&self);
        outbox.ensure_worker();
        self.outbox = Some(outbox);
        self
    }

    /// This client without its outbox: what an outbox's worker sends with.
    pub(crate) fn without_outbox(&self) -> Self {
        Self {
            outbox: None,
            ..self.clone()
        }
    }

    /// Hands settings changed after [`Client::with_outbox`] to the outbox's worker.
    fn settings_changed(self) -> Self {
        if let Some(outbox) = &self.outbox {
            outbox.use_client(&self);
        }
        self
    }

    /// The outbox webhooks are written to, if any.
    #[must_use]
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_ref()
    }

    /// The base wait between webhook attempts.
    #[must_use]
    pub fn webhook_backoff(&self) -> Duration {
        self.webhook_backoff
    }

    /// The underlying `reqwest::Client`.
    #[must_use]
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The response body cap in bytes.
    #[must_use]
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// A builder for a `reqwest::Client` as apicall makes them: following no redirect, trusting
    /// the roots given to [`Client::with_root_certificate`].
    pub(crate) fn http_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            // A followed redirect could carry the call's secret headers and query to another
            // host, or silently turn a POST into a bodiless GET: the runtime decides, per hop.
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge(self.roots.iter().cloned())
    }

    /// The OAuth2 token cache.
    pub(crate) fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The clients made for client certificates.
    pub(crate) fn identities(&self) -> &Identities {
        &self.identities
    }

    /// Moves `url` onto the base URL, if one is set.
    pub(crate) fn rebase(&self, url: &mut Url) {
        let Some(base) = &self.base_url else {
            return;
        };
        let prefix = base.path().trim_end_matches('/');
        if !url.username().is_empty() || url.password().is_some() {
            return rebase_keeping_credentials(base, prefix, url);
        }
        // The base (without credentials of its own, which are never sent) with `url`'s path,
        // query and fragment: the URL that setting the scheme, host and port in place gives,
        // without re-parsing the host and rewriting the URL at each step.
        let mut rebased = base.clone();
        if !base.username().is_empty() || base.password().is_some() {
            // Setters that cannot fail on an http(s) URL with a host.
            let _ = rebased.set_username("");
            let _ = rebased.set_password(None);
        }
        if prefix.is_empty() {
            rebased.set_path(url.path());
        } else {
            rebased.set_path(&format!("{prefix}{}", url.path()));
        }
        rebased.set_query(url.query());
        rebased.set_fragment(url.fragment());
        *url = rebased;
    }
}

/// [`Client::rebase`] for a URL with credentials in it, which it keeps.
fn rebase_keeping_credentials(base: &Url, prefix: &str, url: &mut Url) {
    let path = format!("{prefix}{}", url.path());
    // Both URLs are http(s) with a host, for which these setters cannot fail.
    let _ = url.set_scheme(base.scheme());
    let _ = url.set_host(base.host_str());
    let _ = url.set_port(base.port());
    url.set_path(&path);
}

/// The process-wide client behind [`Client::new`].
fn shared_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        // A followed redirect could carry the call's secret headers and query to another host,
        // or silently turn a POST into a bodiless GET: the runtime decides, per hop.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        // Fails only when the TLS backend cannot start, which `reqwest::Client::new` also
        // treats as fatal; nothing a call or its input controls.
        .expect("the TLS backend could not be initialised")
}

/// How many runtimes' shared clients are kept; a program that starts runtimes over and over
/// (each a `#[tokio::test]`, say) does not keep every one it ever made.
const SHARED_CLIENTS: usize = 16;

/// The shared `reqwest::Client` of the current Tokio runtime (one more for code outside any).
///
/// A pooled connection belongs to the runtime that opened it: reused from another runtime after
/// that one has shut down, it fails with "runtime dropped the dispatch task". One process-wide
/// client did exactly that when several `#[tokio::test]`s called the same server port in turn.
fn shared_for_this_runtime() -> reqwest::Client {
    static SHARED: Mutex<Vec<(Option<tokio::runtime::Id>, reqwest::Client)>> =
        Mutex::new(Vec::new());
    let runtime = tokio::runtime::Handle::try_current()
        .ok()
        .map(|handle| handle.id());
    // A panic elsewhere while holding the lock leaves the list intact: keep using it.
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, client)) = shared.iter().find(|(id, _)| *id == runtime) {
        return client.clone();
    }
    let client = shared_http_client();
    if shared.len() == SHARED_CLIENTS {
        shared.remove(0);
    }
    shared.push((runtime, client.clone()));
    client
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebased(base: &str, url: &str) -> String {
        let client = Client::with_http_client(reqwest::Client::new())
            .with_base_url(base)
            .unwrap();
        let mut url = Url::parse(url).unwrap();
        client.rebase(&mut url);
        url.to_string()
    }

    #[test]
    fn base_url_replaces_origin_and_keeps_path_and_query() {
        assert_eq!(
            rebased(
                "http://127.0.0.1:8080",
                "https://api.example.com/orders/A%2FB?x=1"
            ),
            "http://127.0.0.1:8080/orders/A%2FB?x=1"
        );
    }

    #[test]
    fn base_url_path_is_a_prefix() {
        assert_eq!(
            rebased(
                "http://localhost:9/mock/",
                "https://api.example.com/orders/1"
            ),
            "http://localhost:9/mock/orders/1"
        );
    }

    #[test]
    fn credentials_come_from_the_url_never_from_the_base() {
        assert_eq!(
            rebased(
                "http://base:secret@127.0.0.1:8080/mock",
                "https://api.example.com/a%20b/c?q=%C3%A9&r=a+b#frag"
            ),
            "http://127.0.0.1:8080/mock/a%20b/c?q=%C3%A9&r=a+b#frag"
        );
        assert_eq!(
            rebased(
                "http://127.0.0.1:8080",
                "https://user:pw@api.example.com/x?y"
            ),
            "http://user:pw@127.0.0.1:8080/x?y"
        );
    }

    #[test]
    fn unusable_base_urls_are_refused() {
        for bad in ["127.0.0.1:80", "ftp://x", "http://x/?q=1", "not a url"] {
            let result = Client::with_http_client(reqwest::Client::new()).with_base_url(bad);
            assert!(matches!(result, Err(Error::InvalidBaseUrl { .. })), "{bad}");
        }
    }
}
