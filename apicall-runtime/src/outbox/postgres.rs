//! The PostgreSQL outbox: one table shared by agent processes on several machines. A claim
//! reads due rows `FOR UPDATE SKIP LOCKED`, so two workers claiming at once take different
//! rows without waiting on each other, and writes a lease (owner and expiry) before it commits,
//! so a row stays out of every other claim while its attempt runs.
//!
//! rust-postgres's blocking client runs on a thread of the outbox's own, fed jobs over a
//! channel: `finish` (sync, possibly inside a runtime, whose thread must not start another)
//! and the worker (async) both reach the one connection, in the order they asked. The
//! connection is opened again after it breaks.
//!
//! With `sslmode=require` the connection is TLS, verified as reqwest verifies a server: the
//! platform's roots plus any given to
//! [`Outbox::postgres_with_root_certificates`](super::Outbox::postgres_with_root_certificates),
//! and the host name. A connection string written for libpq (URL or `key=value`) works too:
//! `sslmode=verify-full` (or `verify-ca`) is `require`, `sslrootcert=PATH` is read as extra
//! roots (`system`: the platform's only), and `sslcert=PATH&sslkey=PATH` as the client
//! certificate a server that asks for one gets. `prefer` (the default) and `disable` stay in
//! the clear: a verifying `prefer` would refuse the self-signed certificates local servers
//! are set up with, where libpq's `prefer` encrypts without checking anything.

use std::sync::mpsc;

use postgres::{Client as Connection, Config, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{Claimed, NewRow, OutboxError, OutboxRow, ParkReason, RowState, Settle};

mod tls;

/// The migrations, in order; `apicall_outbox_migrations` records which were applied.
const MIGRATIONS: &[&str] = &[include_str!(
    "../../migrations/postgres/0001_webhook_outbox.sql"
)];

/// The advisory lock migrations are applied under, so processes starting together on a new
/// database take turns ("apicall-o" in ASCII).
const MIGRATION_LOCK: i64 = 0x6170_6963_616c_6c6f;

/// The columns a claim hands to the worker, in [`claimed`]'s order.
const CLAIMED_COLUMNS: &str = "id, webhook, idempotency_key, url, headers, body, signing_key,
    timeout_ms, retries, attempts";

type Job = Box<dyn FnOnce(&mut Link) + Send>;

/// The outbox's side of its database thread. Clones share the thread, which ends when the
/// last clone is dropped.
#[derive(Clone)]
pub(super) struct PostgresStore {
    jobs: mpsc::Sender<Job>,
}

/// The database thread's connection, opened again when it breaks.
struct Link {
    config: Config,
    /// How to make TLS connections, when the connection string asks for them.
    tls: Option<MakeRustlsConnect>,
    connection: Option<Connection>,
}

impl Link {
    fn connection(&mut self) -> Result<&mut Connection, OutboxError> {
        if self.connection.as_ref().is_none_or(Connection::is_closed) {
            self.connection = None;
            let connected = match &self.tls {
                Some(tls) => self.config.connect(tls.clone()),
                None => self.config.connect(NoTls),
            };
            let connection = connected.map_err(database("connecting to PostgreSQL"))?;
            return Ok(self.connection.insert(connection));
        }
        match self.connection.as_mut() {
            Some(connection) => Ok(connection),
            None => Err(OutboxError::Cancelled),
        }
    }
}

fn database(action: &'static str) -> impl FnOnce(postgres::Error) -> OutboxError {
    move |error| OutboxError::Database {
        action,
        source: Box::new(error),
    }
}

impl PostgresStore {
    /// Connects, applies the migrations the database lacks, and starts the database thread.
    /// `shown` is the location as errors may print it (no password).
    /// `extra_roots`: certificates (PEM) trusted beside the platform's for a TLS connection.
    pub(super) fn open(url: &str, shown: &str, extra_roots: &[u8]) -> Result<Self, OutboxError> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| OutboxError::Open {
            location: shown.to_owned(),
            source,
        };
        let (config, tls) = tls::connection_settings(url, extra_roots).map_err(open_error)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened, ready) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("apicall-outbox-postgres".to_owned())
            .spawn(move || {
                let mut link = Link {
                    config,
                    tls,
                    connection: None,
                };
                let first = link.connection().and_then(migrate);
                let failed = first.is_err();
                let _ = opened.send(first);
                if failed {
                    return;
                }
                for job in queue {
                    job(&mut link);
                }
            })
            .map_err(|error| open_error(Box::new(error)))?;
        match ready.recv() {
            Ok(Ok(())) => Ok(Self { jobs }),
            Ok(Err(OutboxError::Database { source, .. })) => Err(open_error(source)),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(OutboxError::Cancelled),
        }
    }

    /// Runs `job` on the database thread and waits for its answer, blocking this thread.
    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, OutboxError> + Send + 'static,
    ) -> Result<T, OutboxError> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.submit(job, move |result| {
            let _ = answer.send(result);
        })?;
        answered.recv().unwrap_or(Err(OutboxError::Cancelled))
    }

    /// Runs `job` on the database thread; the task waits, not the thread.
    async fn call_async<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, OutboxError> + Send + 'static,
    ) -> Result<T, OutboxError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.submit(job, move |result| {
            let _ = answer.send(result);
        })?;
        answered.await.unwrap_or(Err(OutboxError::Cancelled))
    }

    fn submit<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, OutboxError> + Send + 'static,
        reply: impl FnOnce(Result<T, OutboxError>) + Send + 'static,
    ) -> Result<(), OutboxError> {
        self.jobs
            .send(Box::new(move |link: &mut Link| {
                reply(link.connection().and_then(job));
            }))
            .map_err(|_| OutboxError::Cancelled)
    }

    /// Writes a row, then runs `written` with its id on the database thread, before this
    /// process's worker (whose claims run there too) can see the row.
    pub(super) fn enqueue(
        &self,
        row: NewRow,
        written: Box<dyn FnOnce(i64) + Send>,
    ) -> Result<i64, OutboxError> {
        self.call(move |connection| {
            let id: i64 = connection
                .query_one(
                    "INSERT INTO webhook_outbox (webhook, idempotency_key, url, headers, body,
                         signing_key, needs_secrets, timeout_ms, retries, state, attempts,
                         next_attempt_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10)
                     RETURNING id",
                    &[
                        &row.webhook,
                        &row.idempotency_key,
                        &row.url,
                        &row.headers,
                        &row.body,
                        &row.signing_key,
                        &row.needs_secrets,
                        &i64::try_from(row.timeout_ms).unwrap_or(i64::MAX),
                        &i32::try_from(row.retries).unwrap_or(i32::MAX),
                        &row.now,
                    ],
                )
                .and_then(|inserted| inserted.try_get(0))
                .map_err(database("writing a webhook"))?;
            written(id);
            Ok(id)
        })
    }

    pub(super) async fn claim(
        &self,
        owner: String,
        now: i64,
        limit: usize,
        lease_margin_ms: i64,
        wanted: super::Wanted,
    ) -> Result<Vec<Claimed>, OutboxError> {
        self.call_async(move |connection| {
            let mut transaction = connection
                .transaction()
                .map_err(database("starting a claim"))?;
            let due = transaction
                .query(
                    "SELECT id, needs_secrets FROM webhook_outbox
                     WHERE state = 'pending' AND next_attempt_at <= $1
                       AND (lease_expires_at IS NULL OR lease_expires_at <= $1)
                     ORDER BY next_attempt_at, id LIMIT $2
                     FOR UPDATE SKIP LOCKED",
                    &[&now, &i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .map_err(database("finding due rows"))?;
            let mut ids = Vec::with_capacity(due.len());
            for row in due {
                let (id, needs_secrets): (i64, bool) =
                    (|| Ok((row.try_get(0)?, row.try_get(1)?)))()
                        .map_err(database("finding due rows"))?;
                if wanted(id, needs_secrets) {
                    ids.push(id);
                }
            }
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let leased = transaction
                .query(
                    &format!(
                        "UPDATE webhook_outbox
                         SET lease_owner = $2, lease_expires_at = $3 + timeout_ms + $4,
                             attempts = attempts + 1
                         WHERE id = ANY($1)
                         RETURNING {CLAIMED_COLUMNS}"
                    ),
                    &[&ids, &owner, &now, &lease_margin_ms],
                )
                .map_err(database("leasing rows"))?;
            let mut claimed = leased
                .iter()
                .map(claimed)
                .collect::<Result<Vec<_>, _>>()
                .map_err(database("leasing rows"))?;
            transaction.commit().map_err(database("leasing rows"))?;
            claimed.sort_by_key(|row| row.id);
            Ok(claimed)
        })
        .await
    }

    /// Writes an attempt's outcome and drops the lease; `false` when `owner` no longer holds
    /// it (it expired and another worker took the row), so nothing is overwritten.
    pub(super) async fn settle(
        &self,
        id: i64,
        owner: String,
        now: i64,
        settle: Settle,
    ) -> Result<bool, OutboxError> {
        self.call_async(move |connection| {
            let changed = match &settle {
                Settle::Delivered { status } => connection.execute(
                    "UPDATE webhook_outbox SET state = 'delivered', last_status = $3,
                         last_error = NULL, finished_at = $4, lease_owner = NULL,
                         lease_expires_at = NULL
                     WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                    &[&id, &owner, &i32::from(*status), &now],
                ),
                Settle::Retry { at, status, error } => connection.execute(
                    "UPDATE webhook_outbox SET next_attempt_at = $3, last_status = $4,
                         last_error = $5, lease_owner = NULL, lease_expires_at = NULL
                     WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                    &[&id, &owner, at, &status.map(i32::from), error],
                ),
                Settle::GaveUp { status, error } => connection.execute(
                    "UPDATE webhook_outbox SET state = 'gave_up', last_status = $3,
                         last_error = $4, finished_at = $5, lease_owner = NULL,
                         lease_expires_at = NULL
                     WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                    &[&id, &owner, &status.map(i32::from), error, &now],
                ),
                // Nothing was sent: the attempt the claim counted is given back.
                Settle::Parked(reason) => {
                    let (kind, detail) = reason.columns();
                    connection.execute(
                        "UPDATE webhook_outbox SET state = 'parked', park_kind = $3,
                             park_detail = $4, attempts = GREATEST(attempts - 1, 0),
                             lease_owner = NULL, lease_expires_at = NULL
                         WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                        &[&id, &owner, &kind, &detail],
                    )
                }
            }
            .map_err(database("recording an attempt"))?;
            Ok(changed == 1)
        })
        .await
    }

    pub(super) async fn next_due(&self) -> Result<Option<i64>, OutboxError> {
        self.call_async(|connection| {
            connection
                .query_one(
                    "SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_expires_at, 0)))
                     FROM webhook_outbox WHERE state = 'pending'",
                    &[],
                )
                .and_then(|row| row.try_get(0))
                .map_err(database("finding the next due row"))
        })
        .await
    }

    pub(super) fn list(&self) -> Result<Vec<OutboxRow>, OutboxError> {
        self.call(|connection| {
            connection
                .query(
                    "SELECT id, webhook, idempotency_key, state, attempts, last_status,
                            last_error, park_kind, park_detail, created_at, next_attempt_at,
                            finished_at
                     FROM webhook_outbox ORDER BY id",
                    &[],
                )
                .map_err(database("listing rows"))?
                .iter()
                .map(listed)
                .collect::<Result<_, _>>()
                .map_err(database("listing rows"))
        })
    }

    /// Makes a parked or given-up row pending again; how many rows changed (0 or 1).
    pub(super) fn retry(&self, id: i64, now: i64) -> Result<u64, OutboxError> {
        self.call(move |connection| {
            connection
                .execute(
                    "UPDATE webhook_outbox SET state = 'pending', next_attempt_at = $2,
                         park_kind = NULL, park_detail = NULL, finished_at = NULL,
                         lease_owner = NULL, lease_expires_at = NULL
                     WHERE id = $1 AND state IN ('parked', 'gave_up')",
                    &[&id, &now],
                )
                .map_err(database("retrying a row"))
        })
    }

    pub(super) fn purge(&self, finished_before: i64) -> Result<u64, OutboxError> {
        self.call(move |connection| purge(connection, finished_before))
    }

    pub(super) async fn purge_async(&self, finished_before: i64) -> Result<u64, OutboxError> {
        self.call_async(move |connection| purge(connection, finished_before))
            .await
    }
}

fn purge(connection: &mut Connection, finished_before: i64) -> Result<u64, OutboxError> {
    connection
        .execute(
            "DELETE FROM webhook_outbox
             WHERE state IN ('delivered', 'gave_up') AND finished_at < $1",
            &[&finished_before],
        )
        .map_err(database("purging rows"))
}

/// Applies the migrations the database lacks, each in the transaction that records it.
fn migrate(connection: &mut Connection) -> Result<(), OutboxError> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    loop {
        let mut transaction = connection
            .transaction()
            .map_err(database("starting a migration"))?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(database("waiting for other processes' migrations"))?;
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS apicall_outbox_migrations (
                     version    INTEGER PRIMARY KEY,
                     applied_at BIGINT  NOT NULL
                 )",
            )
            .map_err(database("reading the schema version"))?;
        let version: i32 = transaction
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM apicall_outbox_migrations",
                &[],
            )
            .and_then(|row| row.try_get(0))
            .map_err(database("reading the schema version"))?;
        if i64::from(version) > known {
            return Err(OutboxError::NewerSchema {
                found: i64::from(version),
                known,
            });
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
        else {
            return transaction
                .commit()
                .map_err(database("reading the schema version"));
        };
        let number = version + 1;
        let failed = |error: postgres::Error| OutboxError::Migration {
            version: u32::try_from(number).unwrap_or(u32::MAX),
            source: Box::new(error),
        };
        transaction.batch_execute(sql).map_err(failed)?;
        transaction
            .execute(
                "INSERT INTO apicall_outbox_migrations (version, applied_at) VALUES ($1, $2)",
                &[&number, &super::now_ms()],
            )
            .map_err(failed)?;
        transaction.commit().map_err(failed)?;
    }
}

fn claimed(row: &Row) -> Result<Claimed, postgres::Error> {
    Ok(Claimed {
        id: row.try_get(0)?,
        webhook: row.try_get(1)?,
        idempotency_key: row.try_get(2)?,
        url: row.try_get(3)?,
        headers: row.try_get(4)?,
        body: row.try_get(5)?,
        signing_key: row.try_get(6)?,
        timeout_ms: u64::try_from(row.try_get::<_, i64>(7)?).unwrap_or(0),
        retries: unsigned(row.try_get(8)?),
        attempts: unsigned(row.try_get(9)?),
    })
}

fn listed(row: &Row) -> Result<OutboxRow, postgres::Error> {
    let state: String = row.try_get(3)?;
    Ok(OutboxRow {
        id: row.try_get(0)?,
        webhook: row.try_get(1)?,
        idempotency_key: row.try_get(2)?,
        // A state this release does not know reads as parked: shown, never sent.
        state: RowState::parse(&state).unwrap_or(RowState::Parked),
        attempts: unsigned(row.try_get(4)?),
        last_status: row
            .try_get::<_, Option<i32>>(5)?
            .and_then(|status| u16::try_from(status).ok()),
        last_error: row.try_get(6)?,
        park_reason: ParkReason::from_columns(row.try_get(7)?, row.try_get(8)?),
        created_at_ms: row.try_get(9)?,
        next_attempt_at_ms: row.try_get(10)?,
        finished_at_ms: row.try_get(11)?,
    })
}

fn unsigned(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}
