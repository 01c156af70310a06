//! `speaking` on tokio's paused clock: each line at exactly its moment, `delayed` never once
//! the call has answered, `failed` only on failure. The calls are timers standing for a server
//! that answers after a given time, so every instant is exact.

use std::time::Duration;

use apicall_runtime::{EventSink, SayReason, Spoken, ToolEvent, speaking};
use tokio::time::Instant;

/// What was reported, with when (milliseconds after the start).
type Log = Vec<(u128, ToolEvent)>;

fn lines() -> Spoken {
    Spoken::new(
        Some("Let me look.".to_owned()),
        Some((Duration::from_millis(1500), "Still looking.".to_owned())),
        Some("I can't reach it.".to_owned()),
    )
}

/// Runs a call that answers `answer` after `after_ms`.
async fn run(
    after_ms: u64,
    answer: Result<u32, &'static str>,
    spoken: Spoken,
) -> (Log, Result<u32, &'static str>) {
    let started = Instant::now();
    let mut log = Log::new();
    let call = async move {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        answer
    };
    let mut record = |event| log.push((started.elapsed().as_millis(), event));
    let result = speaking("lookup", call, spoken, &EventSink::for_call(&mut record)).await;
    (log, result)
}

fn say(text: &str, reason: SayReason) -> ToolEvent {
    ToolEvent::Say {
        tool: "lookup",
        text: text.to_owned(),
        reason,
    }
}

fn finished(ok: bool) -> ToolEvent {
    ToolEvent::Finished { tool: "lookup", ok }
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_gets_the_delayed_line_at_exactly_after_ms() {
    let (log, result) = run(4000, Ok(7), lines()).await;
    assert_eq!(result, Ok(7));
    assert_eq!(
        log,
        [
            (0, say("Let me look.", SayReason::Start)),
            (1500, say("Still looking.", SayReason::Delayed)),
            (4000, finished(true)),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_that_answers_first_never_gets_the_delayed_line() {
    for after_ms in [0, 1, 1499, 1500] {
        let (log, _) = run(after_ms, Ok(7), lines()).await;
        assert_eq!(
            log,
            [
                (0, say("Let me look.", SayReason::Start)),
                (u128::from(after_ms), finished(true)),
            ],
            "answered after {after_ms} ms"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_failure_gets_the_failed_line_after_the_delayed_one() {
    let (log, result) = run(2000, Err("timed out"), lines()).await;
    assert_eq!(result, Err("timed out"));
    assert_eq!(
        log,
        [
            (0, say("Let me look.", SayReason::Start)),
            (1500, say("Still looking.", SayReason::Delayed)),
            (2000, say("I can't reach it.", SayReason::Failed)),
            (2000, finished(false)),
        ]
    );
    let (log, _) = run(10, Err("HTTP 500"), lines()).await;
    assert_eq!(
        log,
        [
            (0, say("Let me look.", SayReason::Start)),
            (10, say("I can't reach it.", SayReason::Failed)),
            (10, finished(false)),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_without_lines_only_reports_that_it_finished() {
    let (log, _) = run(3000, Ok(1), Spoken::default()).await;
    assert_eq!(log, [(3000, finished(true))]);
}

/// A turn of two calls: only the first `start` line; the `delayed` line that comes due while
/// its own call still runs (the first call answered before its delay, so the second's is
/// said); both `Finished`.
#[tokio::test(start_paused = true)]
async fn a_turn_says_one_start_line_and_the_first_delayed_line_due() {
    let started = Instant::now();
    let mut log = Log::new();
    let mut record = |event| log.push((started.elapsed().as_millis(), event));
    let sink = EventSink::for_turn(&mut record);
    let call = |after_ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        Ok::<_, ()>(after_ms)
    };
    let line = |text: &str, after_ms: u64| {
        Spoken::new(
            Some(format!("{text} starts.")),
            Some((Duration::from_millis(after_ms), format!("{text} is slow."))),
            None,
        )
    };
    let (first, second) = tokio::join!(
        speaking("lookup", call(1000), line("first", 1500), &sink),
        speaking("lookup", call(4000), line("second", 2000), &sink),
    );
    assert_eq!((first, second), (Ok(1000), Ok(4000)));
    assert_eq!(
        log,
        [
            (0, say("first starts.", SayReason::Start)),
            (1000, finished(true)),
            (2000, say("second is slow.", SayReason::Delayed)),
            (4000, finished(true)),
        ]
    );
}
