//! What a voice pipeline should say while a tool call runs, reported as it happens: the
//! runtime never owns audio, it says *when* a line is due.
//!
//! A call's `messages:` in calls.yaml give up to three lines: `start` (said as the call
//! starts), `delayed` (said once if the call is still running after `after_ms`, never after it
//! has finished) and `failed` (said when it fails). The generated `dispatch_with_events` runs
//! a tool call through [`speaking`] and hands each [`ToolEvent`] to the caller's callback.

use std::future::Future;
use std::pin::pin;
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

/// Runs `call` and reports through `events` what to say and when: `start` before it is
/// polled, `delayed` once if it is still running after its delay (checked before the timer,
/// so a call that is done never gets it), `failed` if it fails, then
/// [`ToolEvent::Finished`].
pub async fn speaking<T, E>(
    tool: &'static str,
    call: impl Future<Output = Result<T, E>>,
    spoken: Spoken,
    events: &mut dyn FnMut(ToolEvent),
) -> Result<T, E> {
    let Spoken {
        start,
        delayed,
        failed,
    } = spoken;
    let say = |events: &mut dyn FnMut(ToolEvent), text: String, reason| {
        events(ToolEvent::Say { tool, text, reason });
    };
    if let Some(text) = start {
        say(events, text, SayReason::Start);
    }
    let call = pin!(call);
    let result = match delayed {
        None => call.await,
        Some((after, text)) => {
            let timer = pin!(tokio::time::sleep(after));
            // `select` polls the call first: when both are ready, the call has answered.
            match select(call, timer).await {
                Either::Left((result, _)) => result,
                Either::Right(((), call)) => {
                    say(events, text, SayReason::Delayed);
                    call.await
                }
            }
        }
    };
    if result.is_err()
        && let Some(text) = failed
    {
        say(events, text, SayReason::Failed);
    }
    events(ToolEvent::Finished {
        tool,
        ok: result.is_ok(),
    });
    result
}
