//! The SQLite outbox: one file, shared by the processes on one machine. WAL mode lets readers
//! (`list`) run beside the writer; `BEGIN IMMEDIATE` makes a claim take the write lock before
//! it reads, so two workers never lease the same row.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Claimed, NewRow, OutboxError, OutboxRow, ParkReason, RowState, Settle};

/// The migrations, in order; `PRAGMA user_version` records how many were applied.
const MIGRATIONS: &[&str] = &[include_str!(
    "../../migrations/sqlite/0001_webhook_outbox.sql"
)];

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection per outbox, shared by `finish` (writes) and the worker (in blocking tasks).
#[derive(Clone)]
pub(super) struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

fn database(action: &'static str) -> impl FnOnce(rusqlite::Error) -> OutboxError {
    move |error| OutboxError::Database {
        action,
        source: Box::new(error),
    }
}

impl SqliteStore {
    pub(super) fn open(path: &Path) -> Result<Self, OutboxError> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| OutboxError::Open {
            location: path.display().to_string(),
            source,
        };
        create_private(path).map_err(|error| open_error(Box::new(error)))?;
        let connection = Connection::open(path).map_err(|error| open_error(Box::new(error)))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|error| open_error(Box::new(error)))?;
        switch_to_wal(&connection).map_err(|error| open_error(Box::new(error)))?;
        let mut store = Self {
            connection: Arc::new(Mutex::new(connection)),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations this file lacks, each in the transaction that records it; two
    /// processes opening a new file at once take turns on the write lock.
    fn migrate(&mut self) -> Result<(), OutboxError> {
        let mut connection = self.lock();
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        loop {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(database("starting a migration"))?;
            let version: i64 = transaction
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .map_err(database("reading the schema version"))?;
            if version > known {
                return Err(OutboxError::NewerSchema {
                    found: version,
                    known,
                });
            }
            let Some(sql) = usize::try_from(version)
                .ok()
                .and_then(|index| MIGRATIONS.get(index))
            else {
                return Ok(());
            };
            let number = u32::try_from(version + 1).unwrap_or(u32::MAX);
            let failed = |error: rusqlite::Error| OutboxError::Migration {
                version: number,
                source: Box::new(error),
            };
            transaction.execute_batch(sql).map_err(failed)?;
            transaction
                .pragma_update(None, "user_version", version + 1)
                .map_err(failed)?;
            transaction.commit().map_err(failed)?;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the connection leaves it usable: SQLite rolls back an open
        // transaction when the next one begins.
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn enqueue(
        &self,
        row: &NewRow,
        written: Box<dyn FnOnce(i64) + Send>,
    ) -> Result<i64, OutboxError> {
        let connection = self.lock();
        connection
            .execute(
                "INSERT INTO webhook_outbox (webhook, idempotency_key, url, headers, body,
                     signing_key, needs_secrets, timeout_ms, retries, state, attempts,
                     next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', 0, ?10, ?10)",
                params![
                    row.webhook,
                    row.idempotency_key,
                    row.url,
                    row.headers,
                    row.body,
                    row.signing_key,
                    row.needs_secrets,
                    i64::try_from(row.timeout_ms).unwrap_or(i64::MAX),
                    row.retries,
                    row.now,
                ],
            )
            .map_err(database("writing a webhook"))?;
        let id = connection.last_insert_rowid();
        // Still holding the connection: this process's worker cannot claim the row before
        // its secrets are registered.
        written(id);
        Ok(id)
    }

    pub(super) fn claim(
        &self,
        owner: &str,
        now: i64,
        limit: usize,
        lease_margin_ms: i64,
        wanted: &dyn Fn(i64, bool) -> bool,
    ) -> Result<Vec<Claimed>, OutboxError> {
        let mut connection = self.lock();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database("starting a claim"))?;
        let due: Vec<(i64, bool)> = {
            let mut statement = transaction
                .prepare(
                    "SELECT id, needs_secrets FROM webhook_outbox
                     WHERE state = 'pending' AND next_attempt_at <= ?1
                       AND (lease_expires_at IS NULL OR lease_expires_at <= ?1)
                     ORDER BY next_attempt_at, id LIMIT ?2",
                )
                .map_err(database("finding due rows"))?;
            let rows = statement
                .query_map(
                    params![now, i64::try_from(limit).unwrap_or(i64::MAX)],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(database("finding due rows"))?;
            rows.collect::<Result<_, _>>()
                .map_err(database("finding due rows"))?
        };
        let mut claimed = Vec::new();
        for (id, needs_secrets) in due {
            if !wanted(id, needs_secrets) {
                continue;
            }
            let row = transaction
                .query_row(
                    "UPDATE webhook_outbox
                     SET lease_owner = ?2,
                         lease_expires_at = ?3 + timeout_ms + ?4,
                         attempts = attempts + 1
                     WHERE id = ?1
                     RETURNING id, webhook, idempotency_key, url, headers, body, signing_key,
                               timeout_ms, retries, attempts",
                    params![id, owner, now, lease_margin_ms],
                    |row| {
                        Ok(Claimed {
                            id: row.get(0)?,
                            webhook: row.get(1)?,
                            idempotency_key: row.get(2)?,
                            url: row.get(3)?,
                            headers: row.get(4)?,
                            body: row.get(5)?,
                            signing_key: row.get(6)?,
                            timeout_ms: u64::try_from(row.get::<_, i64>(7)?).unwrap_or(0),
                            retries: row.get(8)?,
                            attempts: row.get(9)?,
                        })
                    },
                )
                .map_err(database("leasing a row"))?;
            claimed.push(row);
        }
        transaction.commit().map_err(database("leasing rows"))?;
        Ok(claimed)
    }

    /// Writes an attempt's outcome and drops the lease; `false` when `owner` no longer holds
    /// it (it expired and another worker took the row), so nothing is overwritten.
    pub(super) fn settle(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        settle: &Settle,
    ) -> Result<bool, OutboxError> {
        let connection = self.lock();
        let changed = match settle {
            Settle::Delivered { status } => connection.execute(
                "UPDATE webhook_outbox SET state = 'delivered', last_status = ?3,
                     last_error = NULL, finished_at = ?4, lease_owner = NULL,
                     lease_expires_at = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'",
                params![id, owner, status, now],
            ),
            Settle::Retry { at, status, error } => connection.execute(
                "UPDATE webhook_outbox SET next_attempt_at = ?3, last_status = ?4,
                     last_error = ?5, lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'",
                params![id, owner, at, status, error],
            ),
            Settle::GaveUp { status, error } => connection.execute(
                "UPDATE webhook_outbox SET state = 'gave_up', last_status = ?3,
                     last_error = ?4, finished_at = ?5, lease_owner = NULL,
                     lease_expires_at = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'",
                params![id, owner, status, error, now],
            ),
            // Nothing was sent: the attempt the claim counted is given back.
            Settle::Parked(reason) => {
                let (kind, detail) = reason.columns();
                connection.execute(
                    "UPDATE webhook_outbox SET state = 'parked', park_kind = ?3,
                         park_detail = ?4, attempts = MAX(attempts - 1, 0),
                         lease_owner = NULL, lease_expires_at = NULL
                     WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'",
                    params![id, owner, kind, detail],
                )
            }
        }
        .map_err(database("recording an attempt"))?;
        Ok(changed == 1)
    }

    pub(super) fn next_due(&self) -> Result<Option<i64>, OutboxError> {
        self.lock()
            .query_row(
                "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_expires_at, 0)))
                 FROM webhook_outbox WHERE state = 'pending'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(database("finding the next due row"))
    }

    pub(super) fn list(&self) -> Result<Vec<OutboxRow>, OutboxError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare(
                "SELECT id, webhook, idempotency_key, state, attempts, last_status, last_error,
                        park_kind, park_detail, created_at, next_attempt_at, finished_at
                 FROM webhook_outbox ORDER BY id",
            )
            .map_err(database("listing rows"))?;
        let rows = statement
            .query_map([], |row| {
                let state: String = row.get(3)?;
                Ok(OutboxRow {
                    id: row.get(0)?,
                    webhook: row.get(1)?,
                    idempotency_key: row.get(2)?,
                    // A state this release does not know reads as parked: shown, never sent.
                    state: RowState::parse(&state).unwrap_or(RowState::Parked),
                    attempts: row.get(4)?,
                    last_status: row.get(5)?,
                    last_error: row.get(6)?,
                    park_reason: ParkReason::from_columns(row.get(7)?, row.get(8)?),
                    created_at_ms: row.get(9)?,
                    next_attempt_at_ms: row.get(10)?,
                    finished_at_ms: row.get(11)?,
                })
            })
            .map_err(database("listing rows"))?;
        rows.collect::<Result<_, _>>()
            .map_err(database("listing rows"))
    }

    /// Makes a parked or given-up row pending again; how many rows changed (0 or 1).
    pub(super) fn retry(&self, id: i64, now: i64) -> Result<u64, OutboxError> {
        let changed = self
            .lock()
            .execute(
                "UPDATE webhook_outbox SET state = 'pending', next_attempt_at = ?2,
                     park_kind = NULL, park_detail = NULL, finished_at = NULL,
                     lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = ?1 AND state IN ('parked', 'gave_up')",
                params![id, now],
            )
            .map_err(database("retrying a row"))?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    pub(super) fn purge(&self, finished_before: i64) -> Result<u64, OutboxError> {
        let removed = self
            .lock()
            .execute(
                "DELETE FROM webhook_outbox
                 WHERE state IN ('delivered', 'gave_up') AND finished_at < ?1",
                params![finished_before],
            )
            .map_err(database("purging rows"))?;
        Ok(u64::try_from(removed).unwrap_or(u64::MAX))
    }
}

/// WAL: `list` and other processes read while a worker writes.
///
/// Switching takes an exclusive lock, and SQLite answers `SQLITE_BUSY` at once, without the busy
/// handler, while another connection holds the file (one process opening a new file while
/// another still creates it). So the switch is retried for as long as a statement would wait.
fn switch_to_wal(connection: &Connection) -> rusqlite::Result<()> {
    const PAUSE: Duration = Duration::from_millis(5);
    let start = std::time::Instant::now();
    loop {
        // The answer is the mode now in force, which a query must read.
        match connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Err(error)
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(PAUSE);
            }
            outcome => return outcome.map(drop),
        }
    }
}

/// Creates the file readable and writable by its owner only (rows hold bodies, which may hold
/// personal data); SQLite gives its `-wal` and `-shm` files the same mode. An existing file
/// keeps its mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{LEASE_MARGIN, millis};

    const MARGIN: i64 = 30_000;

    fn row(now: i64) -> NewRow {
        NewRow {
            webhook: "hook".into(),
            idempotency_key: "conv-1:hook".into(),
            url: "http://127.0.0.1:9/".into(),
            headers: "[]".into(),
            body: b"{}".to_vec(),
            signing_key: None,
            needs_secrets: false,
            timeout_ms: 1000,
            retries: 2,
            now,
        }
    }

    /// A database path in a fresh directory, which is removed when the returned guard drops
    /// (the test's end, pass or fail): bind the guard before the stores that use the file.
    fn temp_db(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("apicall-outbox-{name}-"))
            .tempdir()
            .unwrap();
        let path = dir.path().join("outbox.db");
        (dir, path)
    }

    #[test]
    fn a_leased_row_is_taken_by_no_one_else_until_its_lease_expires() {
        let (_dir, path) = temp_db("lease");
        let store = SqliteStore::open(&path).unwrap();
        let id = store.enqueue(&row(1_000), Box::new(|_| {})).unwrap();
        let all = |_, _| true;
        let first = store.claim("a", 1_000, 10, MARGIN, &all).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].id, first[0].attempts), (id, 1));
        // A second process opening the same file sees the lease.
        let other = SqliteStore::open(&path).unwrap();
        assert!(
            other
                .claim("b", 1_500, 10, MARGIN, &all)
                .unwrap()
                .is_empty()
        );
        // "a" crashed: after timeout + margin the row is b's, as attempt 2.
        assert_eq!(MARGIN, millis(LEASE_MARGIN));
        let expiry = 1_000 + 1_000 + MARGIN;
        assert!(
            other
                .claim("b", expiry - 1, 10, MARGIN, &all)
                .unwrap()
                .is_empty()
        );
        let taken = other.claim("b", expiry, 10, MARGIN, &all).unwrap();
        assert_eq!((taken[0].id, taken[0].attempts), (id, 2));
        // a's late answer no longer lands; b's does.
        let delivered = Settle::Delivered { status: 200 };
        assert!(!store.settle(id, "a", expiry, &delivered).unwrap());
        assert!(other.settle(id, "b", expiry, &delivered).unwrap());
        let rows = store.list().unwrap();
        assert_eq!(rows[0].state, RowState::Delivered);
        assert_eq!(rows[0].last_status, Some(200));
        assert_eq!(rows[0].attempts, 2);
    }

    #[test]
    fn rows_a_process_cannot_send_are_left_for_another() {
        let (_dir, path) = temp_db("wanted");
        let store = SqliteStore::open(&path).unwrap();
        let id = store.enqueue(&row(0), Box::new(|_| {})).unwrap();
        assert!(
            store
                .claim("a", 0, 10, MARGIN, &|_, _| false)
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.list().unwrap()[0].attempts, 0);
        assert_eq!(
            store.claim("b", 0, 10, MARGIN, &|_, _| true).unwrap()[0].id,
            id
        );
    }

    #[test]
    fn parked_and_given_up_rows_are_kept_and_retried_on_demand() {
        let (_dir, path) = temp_db("park");
        let store = SqliteStore::open(&path).unwrap();
        let id = store.enqueue(&row(0), Box::new(|_| {})).unwrap();
        store.claim("a", 0, 10, MARGIN, &|_, _| true).unwrap();
        let reason = ParkReason::UnresolvedSecret { name: "k".into() };
        assert!(
            store
                .settle(id, "a", 5, &Settle::Parked(reason.clone()))
                .unwrap()
        );
        let parked = &store.list().unwrap()[0];
        assert_eq!(parked.state, RowState::Parked);
        assert_eq!(parked.park_reason, Some(reason));
        assert_eq!(parked.attempts, 0, "nothing was sent");
        // Purging finished rows leaves a parked one.
        assert_eq!(store.purge(i64::MAX).unwrap(), 0);
        assert_eq!(store.retry(id, 10).unwrap(), 1);
        assert_eq!(store.list().unwrap()[0].state, RowState::Pending);
        assert_eq!(
            store.retry(id, 10).unwrap(),
            0,
            "a pending row is not retried"
        );
        store.claim("a", 10, 10, MARGIN, &|_, _| true).unwrap();
        let gave_up = Settle::GaveUp {
            status: Some(503),
            error: "HTTP 503".into(),
        };
        assert!(store.settle(id, "a", 20, &gave_up).unwrap());
        assert_eq!(store.purge(20).unwrap(), 0, "kept until its retention ends");
        assert_eq!(store.list().unwrap()[0].last_status, Some(503));
        assert_eq!(store.purge(21).unwrap(), 1);
        assert!(store.list().unwrap().is_empty());
    }

    /// A process that opens the file while another is still creating it (switching it to WAL,
    /// migrating) waits for it instead of failing: CI saw "database is locked" from exactly that.
    #[test]
    fn processes_opening_a_new_file_at_once_all_succeed() {
        for round in 0..20 {
            let (_dir, path) = temp_db(&format!("race-{round}"));
            let start = std::sync::Barrier::new(6);
            std::thread::scope(|scope| {
                let openers: Vec<_> = (0..6)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            SqliteStore::open(&path).map(drop)
                        })
                    })
                    .collect();
                for opener in openers {
                    let opened = opener.join().unwrap();
                    assert!(opened.is_ok(), "round {round}: {opened:?}");
                }
            });
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (_dir, path) = temp_db("newer");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            SqliteStore::open(&path),
            Err(OutboxError::NewerSchema { found: 99, .. })
        ));
    }
}
