//! What a voice pipeline should say while a tool call runs, reported as it happens: the
//! runtime never owns audio, it says *when* a line is due.
//!
//! A call's `messages:` in calls.yaml give up to three lines: `start` (said as the call
//! starts), `delayed` (said once if the call is still running after `after_ms`, never after it
//! has finished) and `failed` (said when it fails). The generated `dispatch_with_events` runs
//! a tool call through [`speaking`] and hands each [`ToolEvent`] to the caller's callback.

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::{Either, select};

/// Why a line is to be said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SayReason {
    /// The call is starting: `messages.start`.
    Start,
    /// The call is still running after `messages.delayed.after_ms`.
    Delayed,
    /// The call failed: `messages.failed`.
    Failed,
}

/// Something a voice pipeline may act on while a tool call runs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolEvent {
    /// Say `text` now.
    Say {
        /// The tool (call) it is about.
        tool: &'static str,
        /// What to say, rendered.
        text: String,
        /// Why now.
        reason: SayReason,
    },
    /// The call has finished; nothing more will be said for it.
    Finished {
        /// The tool (call).
        tool: &'static str,
        /// Whether it succeeded.
        ok: bool,
    },
    /// An `execution: async` call has started in the background and the LLM has its
    /// acknowledgement. What it says later (`delayed`, `failed`, then `Finished`) goes to the
    /// session's [`BackgroundEvents`](crate::BackgroundEvents), not to this callback.
    Backgrounded {
        /// The tool (call).
        tool: &'static str,
    },
}

/// A call's lines, rendered for this call's values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Spoken {
    /// Said as the call starts.
    pub start: Option<String>,
    /// Said if the call is still running after this long.
    pub delayed: Option<(Duration, String)>,
    /// Said if the call fails.
    pub failed: Option<String>,
}

impl Spoken {
    /// Lines from their parts (generated code builds them from calls.yaml's `messages:`).
    #[must_use]
    pub fn new(
        start: Option<String>,
        delayed: Option<(Duration, String)>,
        failed: Option<String>,
    ) -> Self {
        Self {
            start,
            delayed,
            failed,
        }
    }
}

/// Where a dispatcher's events go: the caller's callback, shared by the calls of one turn (they
/// run concurrently on one task, and each event is handed over synchronously, so the callback
/// is never called twice at once).
///
/// The callback must be `Send` so that the dispatcher's future is: a conversation's turn can
/// then run in `tokio::spawn` on a multi-threaded runtime. The lock is never contended (one
/// task), it only makes the sink `Sync`.
pub struct EventSink<'a> {
    state: Mutex<SinkState<'a>>,
}

struct SinkState<'a> {
    callback: &'a mut (dyn FnMut(ToolEvent) + Send),
    /// One turn's calls speak as one voice: its first `start` line and its first `delayed`
    /// line only; every `failed` line and every `Finished`.
    one_turn: bool,
    started: bool,
    delayed: bool,
}

impl<'a> EventSink<'a> {
    /// Every event of one call goes to `callback`.
    pub fn for_call(callback: &'a mut (dyn FnMut(ToolEvent) + Send)) -> Self {
        Self::new(callback, false)
    }

    /// The events of one LLM turn's calls go to `callback` as one voice would say them: the
    /// first call's `start` line only (not one per call), one `delayed` line (the first that
    /// comes due while its call still runs), each failed call's `failed` line, and every
    /// [`ToolEvent::Finished`].
    pub fn for_turn(callback: &'a mut (dyn FnMut(ToolEvent) + Send)) -> Self {
        Self::new(callback, true)
    }

    fn new(callback: &'a mut (dyn FnMut(ToolEvent) + Send), one_turn: bool) -> Self {
        Self {
            state: Mutex::new(SinkState {
                callback,
                one_turn,
                started: false,
                delayed: false,
            }),
        }
    }

    /// Hands `event` to the callback, unless the turn has said its line of that kind already.
    pub fn send(&self, event: ToolEvent) {
        // A callback that panicked leaves the state as it was: still usable.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.one_turn
            && let ToolEvent::Say { reason, .. } = &event
        {
            let said = match reason {
                SayReason::Start => &mut state.started,
                SayReason::Delayed => &mut state.delayed,
                SayReason::Failed => &mut false,
            };
            if std::mem::replace(said, true) {
                return;
            }
        }
        (state.callback)(event);
    }
}

impl std::fmt::Debug for EventSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").finish_non_exhaustive()
    }
}

/// Runs `call` and reports through `events` what to say and when: `start` before it is
/// polled, `delayed` once if it is still running after its delay (checked before the timer,
/// so a call that is done never gets it), `failed` if it fails, then
/// [`ToolEvent::Finished`].
pub fn speaking<T, E>(
    tool: &'static str,
    call: impl Future<Output = Result<T, E>>,
    spoken: Spoken,
    events: &EventSink<'_>,
) -> impl Future<Output = Result<T, E>> {
    speak(tool, call, spoken, move |event| events.send(event))
}

/// Runs `call`, [`speaking`] its lines through `events` when there is a sink: a dispatcher arm's
/// one await. `spoken` renders the lines, only when they will be said.
///
/// Either [`speaking`]'s future or `call` itself, not an `async fn` awaiting one of them: that
/// would hold `call` as passed beside the future awaited, so every arm's future would hold its
/// call's future two or more times, whether or not anyone listens.
pub fn speaking_if<T, E>(
    tool: &'static str,
    call: impl Future<Output = Result<T, E>>,
    events: Option<&EventSink<'_>>,
    spoken: impl FnOnce() -> Spoken,
) -> impl Future<Output = Result<T, E>> {
    match events {
        Some(events) => Either::Left(speaking(tool, call, spoken(), events)),
        None => Either::Right(call),
    }
}

/// [`speaking`], each event handed to `send`: an [`EventSink`] on the dispatcher's task, or a
/// session's channel for calls running in the background.
///
/// `call` is boxed before the future is made: an `async fn` (or a block it is moved into) holds
/// its arguments as passed beside what it moves them into, so the call's future would be in
/// this one twice.
pub(crate) fn speak<T, E>(
    tool: &'static str,
    call: impl Future<Output = Result<T, E>>,
    spoken: Spoken,
    send: impl Fn(ToolEvent),
) -> impl Future<Output = Result<T, E>> {
    let mut call = Box::pin(call);
    let Spoken {
        start,
        delayed,
        failed,
    } = spoken;
    async move {
        let say = |text: String, reason| send(ToolEvent::Say { tool, text, reason });
        if let Some(text) = start {
            say(text, SayReason::Start);
        }
        let result = match delayed {
            None => call.as_mut().await,
            Some((after, text)) => {
                let timer = pin!(tokio::time::sleep(after));
                // `select` polls the call first: when both are ready, the call has answered.
                // An `if let`, not a `match`: a match's scrutinee, which holds the call's
                // output, would live across the second await and make this future as large as
                // it.
                if let Either::Left((result, _)) = select(call.as_mut(), timer).await {
                    result
                } else {
                    say(text, SayReason::Delayed);
                    call.as_mut().await
                }
            }
        };
        if result.is_err()
            && let Some(text) = failed
        {
            say(text, SayReason::Failed);
        }
        send(ToolEvent::Finished {
            tool,
            ok: result.is_ok(),
        });
        result
    }
}
