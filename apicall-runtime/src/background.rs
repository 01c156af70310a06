//! Calls the LLM does not wait for (`execution: async` in calls.yaml): the dispatcher answers
//! at once with [`STARTED`] and the call runs on a task of its own, owned by the conversation's
//! [`Background`]; what it extracts waits there until the session keeps it.
//!
//! The tasks belong to one conversation: [`Background::cancel`] (which the generated
//! `Session::finish` calls) or dropping the `Background` aborts every call still in flight.
//! An aborted call's request is dropped where it stands (its connection closed) and is never
//! retried.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// The tool result content an async call answers the LLM with, at once: `{"status":
/// "started"}`.
#[must_use]
pub fn started() -> Value {
    json!({ "status": STARTED })
}

/// The `status` of an async call's acknowledgement.
pub const STARTED: &str = "started";

/// One conversation's calls in flight in the background, and the values of those that have
/// completed, in completion order, until they are taken.
///
/// Cloning gives a `Background` with the same completed values and no calls in flight: the
/// calls stay with the original. Dropping it aborts the calls it still runs.
pub struct Background<V> {
    shared: Arc<Shared<V>>,
    tasks: Mutex<JoinSet<()>>,
}

struct Shared<V> {
    completed: Mutex<Vec<V>>,
    in_flight: AtomicUsize,
    settled: Notify,
}

/// Counts a call out when its task ends, completed or aborted, and wakes whoever waits.
struct InFlight<V>(Arc<Shared<V>>);

impl<V> Drop for InFlight<V> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.settled.notify_waiters();
    }
}

impl<V: Send + 'static> Background<V> {
    /// No calls in flight, nothing completed.
    #[must_use]
    pub fn new() -> Self {
        Self::with_completed(Vec::new())
    }

    fn with_completed(completed: Vec<V>) -> Self {
        Self {
            shared: Arc::new(Shared {
                completed: Mutex::new(completed),
                in_flight: AtomicUsize::new(0),
                settled: Notify::new(),
            }),
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Runs `call` (the call named `tool`) on a task of the current tokio runtime. Its values
    /// are kept when it succeeds; a failure is logged (a `tracing` warning with the error,
    /// which never holds a secret) and extracts nothing.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as `tokio::spawn` does; generated dispatchers call it from
    /// their own async code.
    pub fn spawn<F>(&self, tool: &'static str, call: F)
    where
        F: Future<Output = Result<V, crate::Error>> + Send + 'static,
    {
        self.shared.in_flight.fetch_add(1, Ordering::AcqRel);
        let in_flight = InFlight(Arc::clone(&self.shared));
        let task = async move {
            match call.await {
                Ok(values) => lock(&in_flight.0.completed).push(values),
                Err(error) => {
                    tracing::warn!(tool, %error, "an async call failed; it extracted nothing");
                }
            }
            drop(in_flight);
        };
        let mut tasks = lock(&self.tasks);
        // Finished tasks' handles are only bookkeeping; drop them as new ones come.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// The values of calls completed since the last take, in completion order.
    pub fn take_completed(&self) -> Vec<V> {
        std::mem::take(&mut *lock(&self.shared.completed))
    }

    /// The values of calls completed since the last take, left in place.
    #[must_use]
    pub fn completed(&self) -> Vec<V>
    where
        V: Clone,
    {
        lock(&self.shared.completed).clone()
    }

    /// How many calls are still running.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// Waits until no call is running (those started meanwhile included).
    pub async fn settle(&self) {
        loop {
            let settled = self.shared.settled.notified();
            let mut settled = std::pin::pin!(settled);
            // Registered before the count is read, so a call ending in between still wakes us.
            settled.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            settled.await;
        }
    }

    /// Aborts every call still running: each request is dropped where it stands and never
    /// retried. Values already completed are kept.
    pub fn cancel(&self) {
        lock(&self.tasks).abort_all();
    }
}

impl<V: Send + 'static> Default for Background<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone + Send + 'static> Clone for Background<V> {
    fn clone(&self) -> Self {
        Self::with_completed(self.completed())
    }
}

impl<V> std::fmt::Debug for Background<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background")
            .field("in_flight", &self.shared.in_flight.load(Ordering::Acquire))
            .field("completed", &lock(&self.shared.completed).len())
            .finish()
    }
}

/// A lock whose holder panicked still guards plain data that is whole (every write is one
/// push or take), so carry on with it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn completed_values_wait_in_completion_order() {
        let background = Background::new();
        background.spawn("slow", async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(2)
        });
        background.spawn("quick", async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(1)
        });
        background.spawn("failing", async {
            Err(crate::Error::MissingValue {
                call: "failing",
                variable: "x",
            })
        });
        assert_eq!(background.in_flight(), 3);
        background.settle().await;
        assert_eq!(background.in_flight(), 0);
        assert_eq!(background.completed(), [1, 2]);
        assert_eq!(background.take_completed(), [1, 2]);
        assert!(background.take_completed().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_aborts_what_runs_and_keeps_what_completed() {
        let background = Background::new();
        background.spawn("quick", async { Ok(1) });
        background.settle().await;
        background.spawn("slow", async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(2)
        });
        background.cancel();
        background.settle().await;
        assert_eq!(background.in_flight(), 0);
        assert_eq!(background.take_completed(), [1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_clone_has_the_completed_values_and_no_calls() {
        let background = Background::new();
        background.spawn("quick", async { Ok(1) });
        background.settle().await;
        background.spawn("slow", async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(2)
        });
        let clone = background.clone();
        assert_eq!(clone.in_flight(), 0);
        assert_eq!(clone.completed(), [1]);
        drop(background);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(clone.completed(), [1]);
    }
}
