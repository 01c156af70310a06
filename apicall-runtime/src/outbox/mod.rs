#![cfg_attr(
    not(any(feature = "outbox-sqlite", feature = "outbox-postgres")),
    allow(dead_code, unused_imports, unused_variables, unreachable_code)
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
//! The backends sit behind [`Store`], one enum: SQLite for one machine (feature
//! `outbox-sqlite`) and PostgreSQL for a fleet (feature `outbox-postgres`, claims
//! `FOR UPDATE SKIP LOCKED`).

use std::collections::HashMap;
use std::fmt;
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

mod error;
mod keywords;
mod location;
#[cfg(feature = "outbox-postgres")]
mod postgres;
mod row;
#[cfg(feature = "outbox-sqlite")]
mod sqlite;
mod store;
mod worker;

pub use error::{NotQueued, OutboxError, ParkReason};
use location::{is_postgres_url, masked_location};
use store::{Store, Wanted};

use row::{NewRow, new_row};
use worker::{Claimed, Settle};

/// Delivered and given-up rows are kept this long unless the outbox says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A worker looks for rows other processes wrote at least this often.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A lease lasts the attempt's timeout and this much more (unless the outbox says otherwise):
/// long enough that a live worker always settles its attempt first, short enough that a
/// crashed one's row is soon taken.
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// Rows one claim takes at most, and attempts one process has in flight at most: a worker
/// leases only what it is ready to send, leaving the rest to the fleet's other workers.
const CLAIM_LIMIT: usize = 32;
/// How often the worker removes rows past their retention.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Resolves a secret variable's name to its value when a row is sent.
type Resolver = Arc<dyn Fn(&str) -> Option<Secret> + Send + Sync>;

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
    /// What the worker sends with: the client most recently set up with this outbox or
    /// writing to it, so settings made after [`Client::with_outbox`] reach the worker too.
    client: Mutex<Option<Client>>,
    /// One permit per attempt this process may have in flight ([`CLAIM_LIMIT`]).
    sending: Arc<tokio::sync::Semaphore>,
}

/// A durable webhook outbox; see [`Client::with_outbox`]. Clones share the database, the
/// worker and the secrets held for rows this process wrote.
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
    resolver: Option<Resolver>,
    retention: Duration,
    lease_margin: Duration,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("location", &self.shared.location)
            .field("resolves_secrets", &self.resolver.is_some())
            .field("retention", &self.retention)
            .field("lease_margin", &self.lease_margin)
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
    pub fn sqlite(path: impl AsRef<std::path::Path>) -> Result<Self, OutboxError> {
        let path = path.as_ref();
        let store = sqlite::SqliteStore::open(path)?;
        Ok(Self::with_store(
            Store::Sqlite(store),
            path.display().to_string(),
        ))
    }

    /// The outbox at `location`: a PostgreSQL connection string (`postgres://` or
    /// `postgresql://`, see [`Outbox::postgres`]), else the path of a SQLite file (see
    /// [`Outbox::sqlite`]). Meant for tools that take either, such as `apicall outbox`.
    ///
    /// # Errors
    ///
    /// As [`Outbox::sqlite`] or [`Outbox::postgres`]; [`OutboxError::Open`] when this build
    /// lacks the backend's feature (`outbox-sqlite`, `outbox-postgres`).
    pub fn open(location: &str) -> Result<Self, OutboxError> {
        if is_postgres_url(location) {
            #[cfg(feature = "outbox-postgres")]
            return Self::postgres(location);
            #[cfg(not(feature = "outbox-postgres"))]
            return Err(OutboxError::missing_feature(location, "outbox-postgres"));
        }
        #[cfg(feature = "outbox-sqlite")]
        return Self::sqlite(location);
        #[cfg(not(feature = "outbox-sqlite"))]
        Err(OutboxError::missing_feature(location, "outbox-sqlite"))
    }

    /// An outbox in the PostgreSQL database at `url` (`postgres://user:password@host:port/db`,
    /// or rust-postgres's `key=value` form), migrated on first use: the table
    /// `webhook_outbox`, and `apicall_outbox_migrations` recording the schema's version.
    /// Agent processes on several machines may share it; each claim takes rows
    /// `FOR UPDATE SKIP LOCKED` under a lease, so no two send the same attempt at once.
    ///
    /// The outbox keeps one connection, on a thread of its own (rust-postgres's blocking
    /// client), opened again if it breaks. Leases compare the sending processes' clocks, so
    /// keep the machines' clocks in sync (NTP): a skew approaching [`LEASE_MARGIN`] could let a
    /// row be sent twice, which the receiver dedupes by its `Idempotency-Key`.
    ///
    /// With `sslmode=require` in `url` the connection is TLS, and the server's certificate is
    /// checked against the platform's roots and its host name, as reqwest checks an API's.
    /// A server whose certificate comes from a CA of its own (RDS, Supabase, a company CA)
    /// needs [`Outbox::postgres_with_root_certificates`], or libpq's
    /// `sslmode=verify-full&sslrootcert=/path/to/ca.pem` in the URL (or as `key=value` pairs;
    /// `verify-ca` is taken as `verify-full`: the host name is always checked). A server that
    /// asks for a client
    /// certificate (`cert` authentication, `clientcert=verify-full`) gets the one named by
    /// libpq's `sslcert=/path/to/agent.crt&sslkey=/path/to/agent.key` (PEM; TLS required).
    /// `sslmode=prefer` (the default) and `disable` connect in the clear: reach such a server
    /// over a private network or a tunnel.
    ///
    /// # Errors
    ///
    /// [`OutboxError::Open`] when `url` is not a connection string or the server cannot be
    /// reached (the error shows `url` without its password), [`OutboxError::Migration`] or
    /// [`OutboxError::NewerSchema`] when the schema cannot be brought to this release's.
    #[cfg(feature = "outbox-postgres")]
    pub fn postgres(url: &str) -> Result<Self, OutboxError> {
        Self::postgres_with_root_certificates(url, &[])
    }

    /// [`Outbox::postgres`], trusting the certificates in `pem` (one or more, PEM) beside the
    /// platform's roots for a TLS connection (`sslmode=require`): the CA bundle a managed
    /// database publishes, say.
    ///
    /// # Errors
    ///
    /// As [`Outbox::postgres`], and [`OutboxError::Open`] when `pem` holds something other
    /// than certificates.
    #[cfg(feature = "outbox-postgres")]
    pub fn postgres_with_root_certificates(url: &str, pem: &[u8]) -> Result<Self, OutboxError> {
        let shown = masked_location(url);
        let store = postgres::PostgresStore::open(url, &shown, pem)?;
        Ok(Self::with_store(Store::Postgres(store), shown))
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
                client: Mutex::default(),
                sending: Arc::new(tokio::sync::Semaphore::new(CLAIM_LIMIT)),
            }),
            resolver: None,
            retention: DEFAULT_RETENTION,
            lease_margin: LEASE_MARGIN,
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

    /// Makes each lease last the attempt's timeout plus `margin` (default [`LEASE_MARGIN`]):
    /// how long after a crash another process takes over the crashed one's rows. Shorter means
    /// a quicker takeover, and a duplicate send (deduped by the receiver) when a live worker's
    /// attempt outlasts it.
    #[must_use]
    pub fn with_lease_margin(mut self, margin: Duration) -> Self {
        self.lease_margin = margin;
        self
    }

    /// Where the outbox is: the SQLite file's path, or the PostgreSQL URL without its
    /// password.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.shared.location
    }

    /// `location` (as [`Outbox::open`] takes it) as apicall shows it in errors and
    /// [`Outbox::location`]: a PostgreSQL URL's password (in the user info or a `password`
    /// query parameter) as `***`; a URL that does not parse as its scheme alone; a path as it
    /// is, but for the value after a `password=` (a `key=value` connection string).
    #[must_use]
    pub fn masked_location(location: &str) -> String {
        masked_location(location)
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

    /// Writes each webhook as a row, and hands back a [`Delivery`] that reports what the
    /// worker makes of them.
    pub(crate) fn deliver(
        &self,
        client: &Client,
        webhooks: Vec<Result<Webhook, WebhookError>>,
    ) -> Delivery {
        // Writing rows blocks: on a multi-threaded runtime, let the thread's other tasks move
        // to another worker thread meanwhile.
        #[cfg(not(any(feature = "outbox-sqlite", feature = "outbox-postgres")))]
        let known = self.write_rows(webhooks);
        #[cfg(any(feature = "outbox-sqlite", feature = "outbox-postgres"))]
        let known = match tokio::runtime::Handle::try_current() {
            Ok(runtime)
                if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
            {
                tokio::task::block_in_place(|| self.write_rows(webhooks))
            }
            _ => self.write_rows(webhooks),
        };
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
        self.use_client(client);
        self.ensure_worker();
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

    /// Writes each webhook as a row; a webhook already failed, or refused here, stays an error.
    #[allow(clippy::type_complexity)]
    fn write_rows(
        &self,
        webhooks: Vec<Result<Webhook, WebhookError>>,
    ) -> Vec<
        Result<
            (
                &'static str,
                oneshot::Receiver<Result<Delivered, WebhookError>>,
            ),
            WebhookError,
        >,
    > {
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
        known
    }

    /// Makes the worker send with `client`'s settings (without its outbox: the worker holds
    /// the outbox already).
    pub(crate) fn use_client(&self, client: &Client) {
        *self
            .shared
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(client.without_outbox());
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
        let spec = webhook.spec;
        let shared = Arc::clone(&self.shared);
        let written = Box::new(move |id| {
            let held = Held {
                spec,
                secrets,
                waiter: Some(sender),
            };
            shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, held);
        });
        self.shared.store.enqueue(row, written)?;
        Ok((spec.name, receiver))
    }
}

fn now_ms() -> i64 {
    i64::try_from(unix_ms(SystemTime::now())).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
