//! The database behind an outbox: one enum over the backends, so the worker and the public
//! API stay the same for all of them.

use super::*;

/// Which claimed rows this process can send, by id and whether the row needs secrets.
pub(super) type Wanted = Arc<dyn Fn(i64, bool) -> bool + Send + Sync>;

/// The database behind an outbox. An enum rather than a trait object: each backend's
/// methods are few, and the worker stays the same for all of them.
pub(super) enum Store {
    #[cfg(feature = "outbox-sqlite")]
    Sqlite(sqlite::SqliteStore),
    #[cfg(feature = "outbox-postgres")]
    Postgres(postgres::PostgresStore),
}

impl Store {
    /// Writes a row, then runs `written` with its id before any worker of this process can
    /// claim it (the row's secrets are registered there).
    pub(super) fn enqueue(
        &self,
        row: NewRow,
        written: Box<dyn FnOnce(i64) + Send>,
    ) -> Result<i64, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.enqueue(&row, written),
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.enqueue(row, written),
        }
    }

    /// Leases due rows to `owner`, counting the attempt; `wanted` says which this process can
    /// send (a row it cannot is left for another process).
    pub(super) async fn claim(
        &self,
        owner: &str,
        now: i64,
        limit: usize,
        lease_margin: Duration,
        wanted: Wanted,
    ) -> Result<Vec<Claimed>, OutboxError> {
        let (owner, margin) = (owner.to_owned(), millis(lease_margin));
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let store = store.clone();
                blocking(move || store.claim(&owner, now, limit, margin, &*wanted)).await
            }
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.claim(owner, now, limit, margin, wanted).await,
        }
    }

    /// Writes how an attempt ended, if `owner` still holds the row's lease.
    pub(super) async fn settle(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        settle: Settle,
    ) -> Result<bool, OutboxError> {
        let owner = owner.to_owned();
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let store = store.clone();
                blocking(move || store.settle(id, &owner, now, &settle)).await
            }
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.settle(id, owner, now, settle).await,
        }
    }

    /// When the next pending row comes due (its attempt time or its lease's expiry).
    pub(super) async fn next_due(&self) -> Result<Option<i64>, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let store = store.clone();
                blocking(move || store.next_due()).await
            }
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.next_due().await,
        }
    }

    pub(super) fn list(&self) -> Result<Vec<OutboxRow>, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.list(),
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.list(),
        }
    }

    pub(super) fn retry(&self, id: i64, now: i64) -> Result<(), OutboxError> {
        let changed: u64 = match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.retry(id, now)?,
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.retry(id, now)?,
        };
        if changed == 0 {
            return Err(OutboxError::NoSuchRow {
                id,
                wanted: "parked or given-up",
            });
        }
        Ok(())
    }

    pub(super) fn purge(&self, finished_before: i64) -> Result<u64, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => store.purge(finished_before),
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.purge(finished_before),
        }
    }

    /// [`Store::purge`] for the worker, which must not block its runtime's threads.
    pub(super) async fn purge_async(&self, finished_before: i64) -> Result<u64, OutboxError> {
        match *self {
            #[cfg(feature = "outbox-sqlite")]
            Store::Sqlite(ref store) => {
                let store = store.clone();
                blocking(move || store.purge(finished_before)).await
            }
            #[cfg(feature = "outbox-postgres")]
            Store::Postgres(ref store) => store.purge_async(finished_before).await,
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
