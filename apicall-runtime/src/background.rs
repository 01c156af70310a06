//! Calls the LLM does not wait for (`execution: async` in calls.yaml): the dispatcher answers
//! at once with [`STARTED`] and the call runs on a task of its own, owned by the conversation's
//! [`Background`]; what it extracts waits there until the session keeps it.
//!
//! The tasks belong to one conversation: [`Background::cancel`] (which the generated
//! `Session::finish` calls) or dropping the `Background` aborts every call still in flight.
//! An aborted call's request is dropped where it stands (its connection closed) and is never
//! retried.
//!
//! An async call says its `start` line through the dispatcher's events as it starts; what it
//! says later (`delayed` while it still runs, `failed`, then `Finished`) goes to the
//! conversation's [`BackgroundEvents`], for a voice pipeline that wants to speak it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;

use crate::events::{EventSink, SayReason, Spoken, ToolEvent, speak};

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
    /// Where calls started from now on report what they say; none until [`Background::events`].
    listener: Mutex<Option<mpsc::UnboundedSender<ToolEvent>>>,
}

/// What a conversation's async calls say after the dispatcher has returned: each call's
/// `delayed` line (if it still runs at `after_ms`), its `failed` line, then
/// [`ToolEvent::Finished`]. A call aborted with its conversation reports nothing more.
#[derive(Debug)]
pub struct BackgroundEvents {
    receiver: mpsc::UnboundedReceiver<ToolEvent>,
}

impl BackgroundEvents {
    /// The next event, when it happens; `None` once the conversation is gone (or listens
    /// elsewhere) and its calls have ended.
    pub async fn recv(&mut self) -> Option<ToolEvent> {
        self.receiver.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<ToolEvent> {
        self.receiver.try_recv().ok()
    }
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
            listener: Mutex::new(None),
        }
    }

    /// Where calls started from now on report what they say after the dispatcher has
    /// returned; replaces the previous receiver for them.
    pub fn events(&self) -> BackgroundEvents {
        let (sender, receiver) = mpsc::unbounded_channel();
        *lock(&self.listener) = Some(sender);
        BackgroundEvents { receiver }
    }

    /// Runs `call` (the call named `tool`) on a task of the current tokio runtime. Its
    /// `start` line and [`ToolEvent::Backgrounded`] go to `events` at once; its `delayed` and
    /// `failed` lines and [`ToolEvent::Finished`] to the [`BackgroundEvents`], if someone
    /// listens. Its values are kept when it succeeds; a failure is logged (a `tracing` warning
    /// with the error, which never holds a secret) and extracts nothing.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as `tokio::spawn` does; generated dispatchers call it from
    /// their own async code.
    pub fn spawn<F>(
        &self,
        tool: &'static str,
        call: F,
        spoken: Spoken,
        events: Option<&EventSink<'_>>,
    ) where
        F: Future<Output = Result<V, crate::Error>> + Send + 'static,
    {
        let Spoken {
            start,
            delayed,
            failed,
        } = spoken;
        if let Some(events) = events {
            if let Some(text) = start {
                events.send(ToolEvent::Say {
                    tool,
                    text,
                    reason: SayReason::Start,
                });
            }
            events.send(ToolEvent::Backgrounded { tool });
        }
        let listener = lock(&self.listener).clone();
        self.shared.in_flight.fetch_add(1, Ordering::AcqRel);
        let in_flight = InFlight(Arc::clone(&self.shared));
        let task = async move {
            let outcome = match listener {
                Some(listener) => {
                    let later = Spoken::new(None, delayed, failed);
                    speak(tool, call, later, move |event| {
                        // A listener that has gone away wants nothing more.
                        let _ = listener.send(event);
                    })
                    .await
                }
                None => call.await,
            };
            match outcome {
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

    /// Starts a call that answers `value` after `after`, saying nothing.
    fn answer_after(background: &Background<u8>, tool: &'static str, after: Duration, value: u8) {
        background.spawn(
            tool,
            async move {
                tokio::time::sleep(after).await;
                Ok(value)
            },
            Spoken::default(),
            None,
        );
    }

    #[tokio::test(start_paused = true)]
    async fn completed_values_wait_in_completion_order() {
        let background = Background::new();
        answer_after(&background, "slow", Duration::from_millis(200), 2);
        answer_after(&background, "quick", Duration::from_millis(100), 1);
        background.spawn(
            "failing",
            async {
                Err(crate::Error::MissingValue {
                    call: "failing",
                    variable: "x",
                })
            },
            Spoken::default(),
            None,
        );
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
        answer_after(&background, "quick", Duration::ZERO, 1);
        background.settle().await;
        answer_after(&background, "slow", Duration::from_secs(60), 2);
        background.cancel();
        background.settle().await;
        assert_eq!(background.in_flight(), 0);
        assert_eq!(background.take_completed(), [1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_clone_has_the_completed_values_and_no_calls() {
        let background = Background::new();
        answer_after(&background, "quick", Duration::ZERO, 1);
        background.settle().await;
        answer_after(&background, "slow", Duration::from_secs(1), 2);
        let clone = background.clone();
        assert_eq!(clone.in_flight(), 0);
        assert_eq!(clone.completed(), [1]);
        drop(background);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(clone.completed(), [1]);
    }

    /// On the paused clock: the start line goes to the dispatcher's events at once; the
    /// delayed line exactly at `after_ms` while the call still runs, then `failed` and
    /// `Finished` to the background listener.
    #[tokio::test(start_paused = true)]
    async fn later_lines_reach_the_listener_when_they_are_due() {
        let background: Background<u8> = Background::new();
        let mut later = background.events();
        let mut now = Vec::new();
        let started = tokio::time::Instant::now();
        {
            let mut record = |event| now.push(event);
            let sink = EventSink::for_call(&mut record);
            background.spawn(
                "slow",
                async {
                    tokio::time::sleep(Duration::from_millis(900)).await;
                    Err(crate::Error::MissingValue {
                        call: "slow",
                        variable: "x",
                    })
                },
                Spoken::new(
                    Some("On it.".into()),
                    Some((Duration::from_millis(300), "Still on it.".into())),
                    Some("That failed.".into()),
                ),
                Some(&sink),
            );
        }
        assert_eq!(
            now,
            [
                ToolEvent::Say {
                    tool: "slow",
                    text: "On it.".into(),
                    reason: SayReason::Start
                },
                ToolEvent::Backgrounded { tool: "slow" },
            ]
        );
        let delayed = later.recv().await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        assert!(matches!(
            delayed,
            ToolEvent::Say {
                reason: SayReason::Delayed,
                ..
            }
        ));
        let failed = later.recv().await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(900));
        assert_eq!(
            failed,
            ToolEvent::Say {
                tool: "slow",
                text: "That failed.".into(),
                reason: SayReason::Failed
            }
        );
        assert_eq!(
            later.recv().await,
            Some(ToolEvent::Finished {
                tool: "slow",
                ok: false
            })
        );
        drop(background);
        assert_eq!(later.recv().await, None);
    }

    /// A call that answers before `after_ms` never gets its delayed line, and a call aborted
    /// with its conversation reports nothing more.
    #[tokio::test(start_paused = true)]
    async fn no_delayed_line_after_the_answer_and_nothing_after_cancel() {
        let background: Background<u8> = Background::new();
        let mut later = background.events();
        let spoken = || {
            Spoken::new(
                None,
                Some((Duration::from_millis(300), "Still on it.".into())),
                None,
            )
        };
        background.spawn(
            "quick",
            async {
                tokio::time::sleep(Duration::from_millis(299)).await;
                Ok(1)
            },
            spoken(),
            None,
        );
        assert_eq!(
            later.recv().await,
            Some(ToolEvent::Finished {
                tool: "quick",
                ok: true
            })
        );
        background.spawn(
            "stuck",
            async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(2)
            },
            spoken(),
            None,
        );
        assert!(matches!(
            later.recv().await,
            Some(ToolEvent::Say {
                reason: SayReason::Delayed,
                ..
            })
        ));
        background.cancel();
        background.settle().await;
        drop(background);
        assert_eq!(later.recv().await, None);
    }
}
