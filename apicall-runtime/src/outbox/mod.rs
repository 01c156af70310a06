#![cfg_attr(
    not(feature = "outbox-sqlite"),
    allow(dead_code, unused_imports, unused_variables)
)]
//! A durable webhook outbox: `finish` writes each webhook to a database before it returns, and
//! a worker in each process delivers the rows with the same retry policy as in-process
//! delivery, so a webhook outlives a crash of the process that prepared it.
//!
//! Rows hold the rendered URL, body and headers, and never a secret value: a secret inside a
//! header is written as the name of its variable, the signing key as its name, and both are
//! resolved again when sending (signing at send time keeps the timestamp fresh). A secret
//! anywhere else (URL, body) cannot be named, so such a webhook is refused
//! ([`NotQueued::SecretInUrl`], [`NotQueued::SecretInBody`]) rather than written.
//!
//! Each attempt is made under a lease (an owner and an expiry column): two workers never send
//! the same attempt at once, and a crashed worker's row is taken again once its lease expires.
//! Backoff lives in the row (`next_attempt_at`), so a retry survives a restart too.
//!
//! The backends sit behind [`Store`], one enum: SQLite now (feature `outbox-sqlite`); a
//! PostgreSQL variant (`FOR UPDATE SKIP LOCKED` claims) is meant to slot in beside it.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, oneshot};
use tracing::Instrument;

use crate::conversation::{random_u64, unix_ms};
use crate::spec::{CallSpec, Method};
use crate::webhook::{Delivered, Delivery, Verdict, Webhook, WebhookError, retry_wait};
use crate::{Client, Secret};

#[cfg(feature = "outbox-sqlite")]
mod sqlite;

/// Delivered and given-up rows are kept this long unless the outbox says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A worker looks for rows other processes wrote at least this often.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A lease lasts the attempt's timeout and this much more: long enough that a live worker
/// always settles its attempt first, short enough that a crashed one's row is soon taken.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// Rows one claim takes at most.
const CLAIM_LIMIT: usize = 32;
/// How often the worker removes rows past their retention.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Resolves a secret variable's name to its value when a row is sent.
type Resolver = Arc<dyn Fn(&str) -> Option<Secret> + Send + Sync>;

/// Why an outbox failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The database could not be opened or created.
    #[error("outbox: cannot open {location}: {source}")]
    Open {
        /// The file or address, as given.
        location: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A migration failed; the schema is left as it was.
    #[error("outbox: migration {version} failed: {source}")]
    Migration {
        /// The migration's number.
        version: u32,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was migrated by a newer apicall than this one.
    #[error("outbox: schema version {found} is newer than this release knows ({known})")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this release knows.
        known: i64,
    },
    /// A query failed.
    #[error("outbox: {action} failed: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The backend's error (it names no stored value).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No row has that id, or it is in a state the action does not apply to.
    #[error("outbox: no {wanted} row with id {id}")]
    NoSuchRow {
        /// The row id.
        id: i64,
        /// The states the action wanted, in words.
        wanted: &'static str,
    },
    /// A database task could not finish (the runtime shut down).
    #[error("outbox: the database task was cancelled")]
    Cancelled,
}

/// Why a webhook was not written to the outbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotQueued {
    /// A secret's value is in the URL: a row holds the URL as sent, so it would be stored.
    #[error("the secret `{secret}` is in the URL, and the outbox stores no secret")]
    SecretInUrl {
        /// The secret variable.
        secret: &'static str,
    },
    /// A secret's value is in the body: a row holds the body as sent, so it would be stored.
    #[error("the secret `{secret}` is in the body, and the outbox stores no secret")]
    SecretInBody {
        /// The secret variable.
        secret: &'static str,
    },
    /// A header is marked as holding a secret, but no named secret is in it: it could only be
    /// stored as it is.
    #[error("the header `{header}` holds a secret the webhook does not name")]
    UnnamedSecretHeader {
        /// The header's name.
        header: String,
    },
    /// The webhook is signed, but the key's variable is not named (it was prepared with
    /// `prepare_webhook` rather than `prepare_webhook_with_secrets`).
    #[error("the signing key is not named, and the outbox stores no secret")]
    UnnamedSigningKey,
    /// The row could not be written.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// Why a row is parked: the worker cannot send it as it stands, and leaves it for a person
/// (see [`Outbox::retry`]) instead of dropping it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParkReason {
    /// A secret the row names is not configured in the process that took it: neither held
    /// from the conversation that wrote it nor given by [`Outbox::with_secrets`] (or empty).
    #[error("the secret `{name}` is not configured in this process")]
    UnresolvedSecret {
        /// The secret variable's name.
        name: String,
    },
    /// The row cannot be turned back into a request (an edited or damaged row).
    #[error("the row cannot be read: {detail}")]
    Unreadable {
        /// What is wrong, naming no stored value.
        detail: String,
    },
}

impl ParkReason {
    fn columns(&self) -> (&'static str, &str) {
        match self {
            ParkReason::UnresolvedSecret { name } => ("unresolved_secret", name),
            ParkReason::Unreadable { detail } => ("unreadable", detail),
        }
    }

    fn from_columns(kind: Option<String>, detail: Option<String>) -> Option<Self> {
        let detail = detail.unwrap_or_default();
        match kind?.as_str() {
            "unresolved_secret" => Some(ParkReason::UnresolvedSecret { name: detail }),
            _ => Some(ParkReason::Unreadable { detail }),
        }
    }
}

/// Where a row is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowState {
    /// Waiting for its next attempt (or being sent).
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Rejected, redirected, or out of attempts: kept with its last status and error.
    GaveUp,
    /// Cannot be sent as it stands ([`ParkReason`]): kept until retried or purged.
    Parked,
}

impl RowState {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => RowState::Pending,
            "delivered" => RowState::Delivered,
            "gave_up" => RowState::GaveUp,
            "parked" => RowState::Parked,
            _ => return None,
        })
    }
}

/// One row, as [`Outbox::list`] shows it: what happened, never the URL, headers or body (they
/// may hold personal data).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxRow {
    /// The row's id.
    pub id: i64,
    /// The webhook's name.
    pub webhook: String,
    /// The `Idempotency-Key` every attempt carries.
    pub idempotency_key: String,
    /// Where it is in its life.
    pub state: RowState,
    /// Attempts started.
    pub attempts: u32,
    /// The receiver's last status, when one answered.
    pub last_status: Option<u16>,
    /// The last failure, as the error's message (which names no value).
    pub last_error: Option<String>,
    /// Why it is parked.
    pub park_reason: Option<ParkReason>,
    /// When it was written (Unix ms).
    pub created_at_ms: i64,
    /// When its next attempt is due (Unix ms), while pending.
    pub next_attempt_at_ms: i64,
    /// When it was delivered or given up on (Unix ms).
    pub finished_at_ms: Option<i64>,
}

/// One piece of a stored header value: text as sent, or a secret variable's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Piece {
    Text(String),
    Secret(String),
}

/// A stored header value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum HeaderTemplate {
    /// Text and secret names, joined at send time.
    Pieces(Vec<Piece>),
    /// HTTP Basic credentials: the username as text, the password by name; encoded at send
    /// time (base64 of the whole pair cannot be split into pieces).
    Basic { username: String, password: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StoredHeader {
    name: String,
    value: HeaderTemplate,
    sensitive: bool,
}

/// A row to write.
struct NewRow {
    webhook: String,
    idempotency_key: String,
    url: String,
    headers: String,
    body: Vec<u8>,
    signing_key: Option<String>,
    needs_secrets: bool,
    timeout_ms: u64,
    retries: u32,
    now: i64,
}

/// A claimed row, ready to send.
struct Claimed {
    id: i64,
    webhook: String,
    idempotency_key: String,
    url: String,
    headers: String,
    body: Vec<u8>,
    signing_key: Option<String>,
    timeout_ms: u64,
    retries: u32,
    /// Including the one about to be made.
    attempts: u32,
}

/// How an attempt ended, to write to its row.
enum Settle {
    Delivered {
        status: u16,
    },
    Retry {
        at: i64,
        status: Option<u16>,
        error: String,
    },
    GaveUp {
        status: Option<u16>,
        error: String,
    },
    Parked(ParkReason),
}

/// The database behind an outbox. An enum rather than a trait object: each backend's
/// methods are few, and a PostgreSQL variant (async, `FOR UPDATE SKIP LOCKED` claims) adds
/// arms here without changing the worker.
enum Store {
    #[cfg(feature = "outbox-sqlite")]
    Sqlite(sqlite::SqliteStore),
}

impl Store {
    /// Writes a row, then runs `written` with its id before any worker of this process can
    /// claim it (the row's secrets are registered there).
    fn enqueue(&self, row: &NewRow, written: &mut dyn FnMut(i64)) -> Result<i64, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.enqueue(row, written),
        }
    }

    /// Leases due rows to `owner`, counting the attempt; `wanted` says which this process can
    /// send (a row it cannot is left for another process).
    async fn claim(
        &self,
        owner: &str,
        now: i64,
        wanted: Arc<dyn Fn(i64, bool) -> bool + Send + Sync>,
    ) -> Result<Vec<Claimed>, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let (store, owner) = (store.clone(), owner.to_owned());
                blocking(move || store.claim(&owner, now, CLAIM_LIMIT, &*wanted)).await
            }
        }
    }

    /// Writes how an attempt ended, if `owner` still holds the row's lease.
    async fn settle(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        settle: Settle,
    ) -> Result<bool, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let (store, owner) = (store.clone(), owner.to_owned());
                blocking(move || store.settle(id, &owner, now, &settle)).await
            }
        }
    }

    /// When the next pending row comes due (its attempt time or its lease's expiry).
    async fn next_due(&self) -> Result<Option<i64>, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let store = store.clone();
                blocking(move || store.next_due()).await
            }
        }
    }

    fn list(&self) -> Result<Vec<OutboxRow>, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.list(),
        }
    }

    fn retry(&self, id: i64, now: i64) -> Result<(), OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.retry(id, now),
        }
    }

    fn purge(&self, finished_before: i64) -> Result<u64, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.purge(finished_before),
        }
    }
}

/// Runs a blocking database call off the async worker threads.
#[cfg(feature = "outbox-sqlite")]
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, OutboxError> + Send + 'static,
) -> Result<T, OutboxError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or(Err(OutboxError::Cancelled))
}

/// What this process holds for a row it wrote: the conversation's secrets (in memory only)
/// and whoever waits on the [`Delivery`].
struct Held {
    spec: &'static CallSpec,
    secrets: HashMap<&'static str, Secret>,
    waiter: Option<oneshot::Sender<Result<Delivered, WebhookError>>>,
}

struct Shared {
    store: Store,
    /// Names this process's leases; random, so two processes (or two outboxes on one file in
    /// one process) never share one.
    owner: String,
    location: String,
    held: Mutex<HashMap<i64, Held>>,
    /// Woken when a row is written or an attempt settles, so the worker need not poll.
    wake: Notify,
    worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A durable webhook outbox; see [`Client::with_outbox`]. Clones share the database, the
/// worker and the secrets held for rows this process wrote.
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
    resolver: Option<Resolver>,
    retention: Duration,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("location", &self.shared.location)
            .field("resolves_secrets", &self.resolver.is_some())
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An outbox in the SQLite file at `path`, created (readable by its owner only, on Unix)
    /// and migrated on first use. Several processes may share the file.
    ///
    /// # Errors
    ///
    /// [`OutboxError::Open`] when the file cannot be opened or created,
    /// [`OutboxError::Migration`] or [`OutboxError::NewerSchema`] when its schema cannot be
    /// brought to this release's.
    #[cfg(feature = "outbox-sqlite")]
    pub fn sqlite(path: impl AsRef<Path>) -> Result<Self, OutboxError> {
        let path = path.as_ref();
        let store = sqlite::SqliteStore::open(path)?;
        Ok(Self::with_store(
            Store::Sqlite(store),
            path.display().to_string(),
        ))
    }

    fn with_store(store: Store, location: String) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                owner: format!("{}-{:016x}", std::process::id(), random_u64()),
                location,
                held: Mutex::default(),
                wake: Notify::new(),
                worker: Mutex::default(),
            }),
            resolver: None,
            retention: DEFAULT_RETENTION,
        }
    }

    /// Resolves the secret variables rows name (header secrets, signing keys) when this
    /// process sends a row another process wrote, as after a crash. Rows this process wrote
    /// use the conversation's own secrets, held in memory. A process without a resolver leaves
    /// other processes' rows that need secrets alone; with one, a name it cannot resolve parks
    /// the row ([`ParkReason::UnresolvedSecret`]).
    #[must_use]
    pub fn with_secrets(
        mut self,
        resolve: impl Fn(&str) -> Option<Secret> + Send + Sync + 'static,
    ) -> Self {
        self.resolver = Some(Arc::new(resolve));
        self
    }

    /// Keeps delivered and given-up rows this long after they finished (default
    /// [`DEFAULT_RETENTION`]); the worker removes them after that. Pending and parked rows are
    /// never removed by the worker.
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Every row, oldest first.
    ///
    /// # Errors
    ///
    /// [`OutboxError::Database`] when the query fails.
    pub fn list(&self) -> Result<Vec<OutboxRow>, OutboxError> {
        self.shared.store.list()
    }

    /// Sends a parked or given-up row again: a parked row gets the attempts it had left, a
    /// given-up one a single further attempt.
    ///
    /// # Errors
    ///
    /// [`OutboxError::NoSuchRow`] when no parked or given-up row has that id.
    pub fn retry(&self, id: i64) -> Result<(), OutboxError> {
        self.shared.store.retry(id, now_ms())?;
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Removes delivered and given-up rows that finished more than `older_than` ago, and
    /// says how many. Pending and parked rows stay.
    ///
    /// # Errors
    ///
    /// [`OutboxError::Database`] when the query fails.
    pub fn purge(&self, older_than: Duration) -> Result<u64, OutboxError> {
        self.shared
            .store
            .purge(now_ms().saturating_sub(millis(older_than)))
    }

    /// Starts this process's worker on the current Tokio runtime, unless one is running.
    pub(crate) fn ensure_worker(&self, client: &Client) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut worker = self
            .shared
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A worker whose runtime shut down has finished; start another on this one.
        if worker.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let outbox = self.clone();
        let client = client.clone();
        *worker = Some(runtime.spawn(async move { outbox.run(client).await }));
    }

    /// Writes each webhook as a row, and hands back a [`Delivery`] that reports what the
    /// worker makes of them.
    pub(crate) fn deliver(
        &self,
        client: &Client,
        webhooks: Vec<Result<Webhook, WebhookError>>,
    ) -> Delivery {
        let mut known = Vec::with_capacity(webhooks.len());
        for webhook in webhooks {
            known.push(match webhook {
                Ok(webhook) => {
                    let name = webhook.spec.name;
                    match self.enqueue(&webhook) {
                        Ok(receiver) => Ok(receiver),
                        Err(reason) => {
                            let error = WebhookError::NotQueued {
                                webhook: name,
                                reason,
                            };
                            tracing::warn!(webhook = name, %error, "webhook not queued");
                            Err(error)
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "webhook not sent");
                    Err(error)
                }
            });
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // The rows are written: a worker started later (in this process or another)
            // delivers them; only the report is lost.
            return Delivery::done(
                known
                    .into_iter()
                    .map(|entry| match entry {
                        Ok((webhook, _)) => Err(WebhookError::NoRuntime { webhook }),
                        Err(error) => Err(error),
                    })
                    .collect(),
            );
        };
        self.ensure_worker(client);
        self.shared.wake.notify_one();
        Delivery::running(runtime.spawn(async move {
            let mut results = Vec::with_capacity(known.len());
            for entry in known {
                results.push(match entry {
                    Ok((_, receiver)) => receiver.await.unwrap_or(Err(WebhookError::Cancelled)),
                    Err(error) => Err(error),
                });
            }
            results
        }))
    }

    /// Writes one webhook, holding its secrets in memory for the worker.
    #[allow(clippy::type_complexity)]
    fn enqueue(
        &self,
        webhook: &Webhook,
    ) -> Result<
        (
            &'static str,
            oneshot::Receiver<Result<Delivered, WebhookError>>,
        ),
        NotQueued,
    > {
        let (row, secrets) = new_row(webhook, now_ms())?;
        let (sender, receiver) = oneshot::channel();
        let mut sender = Some(sender);
        let spec = webhook.spec;
        let shared = &self.shared;
        shared.store.enqueue(&row, &mut |id| {
            let held = Held {
                spec,
                secrets: secrets.clone(),
                waiter: sender.take(),
            };
            shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, held);
        })?;
        Ok((spec.name, receiver))
    }

    /// The worker: claims due rows, sends each in a task of its own, sleeps until the next is
    /// due (or a row is written), and removes rows past their retention. Runs for the
    /// runtime's life.
    async fn run(self, client: Client) {
        let mut last_purge: Option<i64> = None;
        loop {
            let now = now_ms();
            if last_purge.is_none_or(|at| now.saturating_sub(at) >= millis(PURGE_EVERY)) {
                last_purge = Some(now);
                let before = now.saturating_sub(millis(self.retention));
                match self.shared.store.purge(before) {
                    Ok(0) => {}
                    Ok(removed) => tracing::debug!(removed, "outbox rows past retention removed"),
                    Err(error) => tracing::warn!(%error, "outbox purge failed"),
                }
            }
            let wanted = self.wanted();
            let claimed = match self
                .shared
                .store
                .claim(&self.shared.owner, now, wanted)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "outbox claim failed");
                    Vec::new()
                }
            };
            let busy = !claimed.is_empty();
            for row in claimed {
                let (outbox, client) = (self.clone(), client.clone());
                tokio::spawn(async move { outbox.send_row(&client, row).await });
            }
            let wait = if busy {
                // More may be due than one claim takes.
                Duration::ZERO
            } else {
                match self.shared.store.next_due().await {
                    Ok(Some(due)) if due > now => {
                        Duration::from_millis(u64::try_from(due - now).unwrap_or(0))
                            .min(POLL_INTERVAL)
                    }
                    // Due now but not claimed: rows this process cannot send; or nothing.
                    _ => POLL_INTERVAL,
                }
            };
            if !wait.is_zero() {
                let _ = tokio::time::timeout(wait, self.shared.wake.notified()).await;
            }
        }
    }

    /// Which rows this process can send: any that needs no secret, its own, and with a
    /// resolver every one.
    fn wanted(&self) -> Arc<dyn Fn(i64, bool) -> bool + Send + Sync> {
        let shared = Arc::clone(&self.shared);
        let resolves = self.resolver.is_some();
        Arc::new(move |id, needs_secrets| {
            !needs_secrets
                || resolves
                || shared
                    .held
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains_key(&id)
        })
    }

    /// One attempt at a claimed row, and its outcome written back.
    async fn send_row(&self, client: &Client, row: Claimed) {
        let (spec, secrets) = {
            let held = self
                .shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match held.get(&row.id) {
                Some(held) => (held.spec, Some(held.secrets.clone())),
                None => (spec_for(&row.webhook, row.timeout_ms, row.retries), None),
            }
        };
        let span = tracing::info_span!(
            "apicall.webhook",
            webhook = spec.name,
            attempts = row.attempts,
            status = tracing::field::Empty,
            outbox_row = row.id,
        );
        async {
            let resolve = |name: &str| -> Option<Secret> {
                let secret = match &secrets {
                    Some(held) => held.get(name).cloned(),
                    None => None,
                }
                .or_else(|| self.resolver.as_ref().and_then(|resolve| resolve(name)));
                secret.filter(|secret| !secret.is_empty())
            };
            let webhook = match rebuild(&row, spec, &resolve) {
                Ok(webhook) => webhook,
                Err(reason) => {
                    tracing::warn!(%reason, "webhook parked in the outbox");
                    let error = WebhookError::Parked {
                        webhook: spec.name,
                        reason: reason.clone(),
                    };
                    self.finish_row(row.id, Settle::Parked(reason), Err(error))
                        .await;
                    return;
                }
            };
            let verdict = webhook.try_once(client).await;
            if let Some(status) = verdict.status() {
                tracing::Span::current().record("status", status);
            }
            let attempts = row.attempts;
            let (settle, result) = match verdict {
                Verdict::Delivered { status } => {
                    tracing::info!(attempts, status, "webhook delivered");
                    let delivered = Delivered {
                        webhook: spec.name,
                        status,
                        attempts,
                        idempotency_key: row.idempotency_key.clone(),
                    };
                    (Settle::Delivered { status }, Ok(delivered))
                }
                Verdict::Redirected { status } => (
                    Settle::GaveUp {
                        status: Some(status),
                        error: "redirected".to_owned(),
                    },
                    Err(WebhookError::Redirected {
                        webhook: spec.name,
                        attempts,
                    }),
                ),
                Verdict::Rejected { status } => (
                    Settle::GaveUp {
                        status: Some(status),
                        error: format!("rejected with HTTP {status}"),
                    },
                    Err(WebhookError::Rejected {
                        webhook: spec.name,
                        status,
                        attempts,
                    }),
                ),
                Verdict::Failed(failure) => {
                    let status = verdict_status(&failure);
                    match retry_wait(client, spec, attempts, &failure) {
                        Some(wait) => {
                            tracing::debug!(attempt = attempts, error = %failure.error, wait_ms = wait.as_millis(), "webhook attempt failed; retrying");
                            let settle = Settle::Retry {
                                at: now_ms().saturating_add(millis(wait)),
                                status,
                                error: failure.error.to_string(),
                            };
                            if let Err(error) = self
                                .shared
                                .store
                                .settle(row.id, &self.shared.owner, now_ms(), settle)
                                .await
                            {
                                tracing::warn!(%error, "outbox row not updated; its lease will expire");
                            }
                            self.shared.wake.notify_one();
                            return;
                        }
                        None => (
                            Settle::GaveUp {
                                status,
                                error: failure.error.to_string(),
                            },
                            Err(WebhookError::GaveUp {
                                webhook: spec.name,
                                attempts,
                                last: failure.error,
                            }),
                        ),
                    }
                }
            };
            if let Err(error) = &result {
                tracing::warn!(%error, "webhook not delivered");
            }
            self.finish_row(row.id, settle, result).await;
        }
        .instrument(span)
        .await;
    }

    /// Writes a row's last state and tells whoever waits in this process.
    async fn finish_row(&self, id: i64, settle: Settle, result: Result<Delivered, WebhookError>) {
        let written = self
            .shared
            .store
            .settle(id, &self.shared.owner, now_ms(), settle)
            .await;
        match written {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("outbox row's lease was lost; another worker has it");
                return;
            }
            Err(error) => {
                // The lease expires and the row is sent again: the receiver dedupes by key.
                tracing::warn!(%error, "outbox row not updated; its lease will expire");
                return;
            }
        }
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(waiter) = held.and_then(|held| held.waiter) {
            let _ = waiter.send(result);
        }
    }
}

fn verdict_status(failure: &crate::webhook::Failure) -> Option<u16> {
    match failure.error {
        crate::Error::Status { status, .. } => Some(status),
        _ => None,
    }
}

/// The row for `webhook`, and the secrets to hold for it in memory.
fn new_row(
    webhook: &Webhook,
    now: i64,
) -> Result<(NewRow, HashMap<&'static str, Secret>), NotQueued> {
    let mut secrets: Vec<(&'static str, &Secret)> = webhook
        .secrets
        .iter()
        .map(|(name, secret)| (*name, secret))
        .collect();
    let signing_key = match (&webhook.signing_key, webhook.signing_key_name) {
        (None, _) => None,
        (Some(_), None) => return Err(NotQueued::UnnamedSigningKey),
        (Some(key), Some(name)) => {
            secrets.push((name, key));
            Some(name.to_owned())
        }
    };
    let findable: Vec<(&'static str, &Secret)> = secrets
        .iter()
        .copied()
        .filter(|(_, secret)| !secret.is_empty())
        .collect();
    let url = webhook.url.as_str();
    for (name, secret) in &findable {
        if url_holds(url, secret.expose()) {
            return Err(NotQueued::SecretInUrl { secret: name });
        }
        if body_holds(&webhook.body, secret.expose()) {
            return Err(NotQueued::SecretInBody { secret: name });
        }
    }
    let mut headers = Vec::with_capacity(webhook.headers.len());
    let mut needs_secrets = signing_key.is_some();
    for (name, value) in &webhook.headers {
        let template = header_template(name, value, &findable)?;
        needs_secrets |= match &template {
            HeaderTemplate::Pieces(pieces) => {
                pieces.iter().any(|piece| matches!(piece, Piece::Secret(_)))
            }
            HeaderTemplate::Basic { .. } => true,
        };
        headers.push(StoredHeader {
            name: name.as_str().to_owned(),
            value: template,
            sensitive: value.is_sensitive(),
        });
    }
    let headers = serde_json::to_string(&headers).map_err(|error| {
        NotQueued::Outbox(OutboxError::Database {
            action: "encoding headers",
            source: Box::new(error),
        })
    })?;
    let row = NewRow {
        webhook: webhook.spec.name.to_owned(),
        idempotency_key: webhook.idempotency_key_text(),
        url: url.to_owned(),
        headers,
        body: webhook.body.to_vec(),
        signing_key,
        needs_secrets,
        timeout_ms: webhook.spec.timeout_ms,
        retries: webhook.spec.retries,
        now,
    };
    let held = secrets
        .into_iter()
        .map(|(name, secret)| (name, secret.clone()))
        .collect();
    Ok((row, held))
}

/// Whether `secret` is in the URL as written there: verbatim (an origin), or encoded as a path
/// segment or a query value.
fn url_holds(url: &str, secret: &str) -> bool {
    const PATH_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let path = percent_encoding::utf8_percent_encode(secret, PATH_VALUE).to_string();
    let query: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    url.contains(secret) || url.contains(&path) || url.contains(&query)
}

/// Whether `secret` is in the JSON body, verbatim or as a JSON string's escaped content.
fn body_holds(body: &[u8], secret: &str) -> bool {
    let contains = |needle: &[u8]| body.windows(needle.len()).any(|window| window == needle);
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped
        .strip_prefix('"')
        .and_then(|text| text.strip_suffix('"'))
        .unwrap_or(&escaped);
    contains(secret.as_bytes()) || contains(escaped.as_bytes())
}

/// A header value with each named secret's value replaced by its name (the longest match
/// first, so a secret containing another is taken whole).
fn header_template(
    name: &HeaderName,
    value: &HeaderValue,
    secrets: &[(&'static str, &Secret)],
) -> Result<HeaderTemplate, NotQueued> {
    let unnamed = || NotQueued::UnnamedSecretHeader {
        header: name.as_str().to_owned(),
    };
    // Values come from `&str`s (or base64), so they are UTF-8; anything else is refused
    // rather than stored in a lossy form.
    let text = std::str::from_utf8(value.as_bytes()).map_err(|_| unnamed())?;
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let found = secrets
            .iter()
            .filter(|(_, secret)| rest.starts_with(secret.expose()))
            .max_by_key(|(_, secret)| secret.expose().len());
        if let Some((name, secret)) = found {
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Secret((*name).to_owned()));
            rest = &rest[secret.expose().len()..];
        } else {
            literal.push(first);
            rest = &rest[first.len_utf8()..];
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    let names_a_secret = pieces.iter().any(|piece| matches!(piece, Piece::Secret(_)));
    if !value.is_sensitive() || names_a_secret {
        return Ok(HeaderTemplate::Pieces(pieces));
    }
    // Basic credentials: base64 of `username:password` hides the password from the search
    // above; decode it and name the password.
    if name == AUTHORIZATION
        && let Some((username, password)) = basic_credentials(text)
        && let Some((secret_name, _)) = secrets
            .iter()
            .find(|(_, secret)| secret.expose() == password)
    {
        return Ok(HeaderTemplate::Basic {
            username,
            password: (*secret_name).to_owned(),
        });
    }
    Err(unnamed())
}

fn basic_credentials(value: &str) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

/// A claimed row as a webhook again, its secrets resolved.
fn rebuild(
    row: &Claimed,
    spec: &'static CallSpec,
    resolve: &dyn Fn(&str) -> Option<Secret>,
) -> Result<Webhook, ParkReason> {
    let unreadable = |detail: &str| ParkReason::Unreadable {
        detail: detail.to_owned(),
    };
    let secret = |name: &str| {
        resolve(name).ok_or_else(|| ParkReason::UnresolvedSecret {
            name: name.to_owned(),
        })
    };
    let url = Url::parse(&row.url).map_err(|_| unreadable("the URL does not parse"))?;
    let stored: Vec<StoredHeader> =
        serde_json::from_str(&row.headers).map_err(|_| unreadable("the headers do not parse"))?;
    let mut headers = Vec::with_capacity(stored.len());
    for header in stored {
        let text = match &header.value {
            HeaderTemplate::Pieces(pieces) => {
                let mut text = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(part) => text.push_str(part),
                        Piece::Secret(name) => text.push_str(secret(name)?.expose()),
                    }
                }
                text
            }
            HeaderTemplate::Basic { username, password } => {
                use base64::Engine;
                let password = secret(password)?;
                let pair = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
        };
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| unreadable("a header name is invalid"))?;
        let mut value = HeaderValue::from_str(&text).map_err(|_| ParkReason::Unreadable {
            detail: format!("the value of header `{name}` is invalid"),
        })?;
        value.set_sensitive(header.sensitive);
        headers.push((name, value));
    }
    let signing_key = match &row.signing_key {
        Some(name) => Some(secret(name)?),
        None => None,
    };
    let idempotency_key = HeaderValue::from_str(&row.idempotency_key)
        .map_err(|_| unreadable("the idempotency key is invalid"))?;
    Ok(Webhook {
        spec,
        url,
        headers,
        body: Bytes::from(row.body.clone()),
        signing_key,
        idempotency_key,
        signing_key_name: None,
        secrets: Vec::new(),
    })
}

/// A `'static` spec for a webhook known only from a row (written by another process). Each
/// distinct name, timeout and retries is leaked once: a process sees a handful.
fn spec_for(name: &str, timeout_ms: u64, retries: u32) -> &'static CallSpec {
    static SPECS: Mutex<Vec<&'static CallSpec>> = Mutex::new(Vec::new());
    let mut specs = SPECS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(spec) = specs
        .iter()
        .find(|spec| spec.name == name && spec.timeout_ms == timeout_ms && spec.retries == retries)
    {
        return spec;
    }
    let spec: &'static CallSpec = Box::leak(Box::new(CallSpec {
        name: Box::leak(name.to_owned().into_boxed_str()),
        method: Method::Post,
        timeout_ms,
        retries,
    }));
    specs.push(spec);
    spec
}

fn now_ms() -> i64 {
    i64::try_from(unix_ms(SystemTime::now())).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> Secret {
        Secret::new(value)
    }

    #[test]
    fn header_secrets_become_names_longest_first() {
        let (short, long) = (secret("abc"), secret("abcdef"));
        let secrets = [("short", &short), ("long", &long)];
        let mut value = HeaderValue::from_static("Bearer abcdef.abc!");
        value.set_sensitive(true);
        let template = header_template(&AUTHORIZATION, &value, &secrets).unwrap();
        assert_eq!(
            template,
            HeaderTemplate::Pieces(vec![
                Piece::Text("Bearer ".into()),
                Piece::Secret("long".into()),
                Piece::Text(".".into()),
                Piece::Secret("short".into()),
                Piece::Text("!".into()),
            ])
        );
    }

    #[test]
    fn basic_credentials_name_the_password() {
        use base64::Engine;
        let password = secret("p@ss:word");
        let encoded = base64::engine::general_purpose::STANDARD.encode("ann:p@ss:word");
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).unwrap();
        value.set_sensitive(true);
        let template = header_template(&AUTHORIZATION, &value, &[("pw", &password)]).unwrap();
        assert_eq!(
            template,
            HeaderTemplate::Basic {
                username: "ann".into(),
                password: "pw".into()
            }
        );
    }

    #[test]
    fn a_sensitive_header_without_a_named_secret_is_refused() {
        let mut value = HeaderValue::from_static("Bearer unknown");
        value.set_sensitive(true);
        let other = secret("nothere");
        let result = header_template(&AUTHORIZATION, &value, &[("k", &other)]);
        assert!(
            matches!(result, Err(NotQueued::UnnamedSecretHeader { ref header }) if header == "authorization"),
            "{result:?}"
        );
    }

    #[test]
    fn secrets_are_found_in_urls_and_bodies_however_encoded() {
        assert!(url_holds("https://x/a%2Fb", "a/b"));
        assert!(url_holds("https://x/?q=a+b", "a b"));
        assert!(!url_holds("https://x/?q=ab", "a b"));
        assert!(body_holds(br#"{"k":"say \"hi\""}"#, "say \"hi\""));
        assert!(!body_holds(br#"{"k":"hello"}"#, "hi"));
    }
}
