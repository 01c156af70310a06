//! A call's `messages:` through the generated `dispatch_with_events`, against a real server on
//! 127.0.0.1 (`fixtures/messages.yaml`: `delayed` after 400 ms, timeout 2000 ms). The exact
//! timing is tested on tokio's paused clock in apicall-runtime/tests/speaking.rs; here the
//! server's delays are far from the thresholds, so real time is enough.

use std::time::Duration;

use apicall_runtime::{Client, SayReason, Secret, ToolCall, ToolEvent};
use apicall_tests::messages::{Context, Session};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

/// A server whose order `A-1` answers after `delay_ms` with `status`.
async fn server(delay_ms: u64, status: StatusCode) -> Client {
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        (status, axum::Json(json!({"status": "shipped", "ok": true}))).into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Client::new().with_base_url(&base).unwrap()
}

fn session() -> Session {
    Session::new(Context {
        caller_name: "Ada".to_owned(),
        api_key: Secret::new("sk-spoken-secret"),
        member: false,
        credit: 0.0,
        visits: 0,
    })
}

/// Dispatches `call` and returns what was said (and whether it finished ok), in order.
async fn said(client: &Client, session: &mut Session, call: &ToolCall) -> Vec<(SayReason, String)> {
    let mut events = Vec::new();
    let result = session
        .dispatch_with_events(client, call, &mut |event| events.push(event))
        .await;
    let Some(ToolEvent::Finished { tool, ok }) = events.pop() else {
        panic!("the last event is Finished: {events:?}");
    };
    assert_eq!((tool, ok), (call.name.as_str(), result.is_ok()));
    events
        .into_iter()
        .map(|event| match event {
            ToolEvent::Say { tool, text, reason } => {
                assert_eq!(tool, call.name);
                assert!(!text.contains("sk-spoken-secret"));
                (reason, text)
            }
            other => panic!("only the last event is Finished: {other:?}"),
        })
        .collect()
}

fn order(rush: bool) -> ToolCall {
    ToolCall::openai(
        "t1",
        "order_status",
        json!({"order_id": "A-1", "rush": rush}).to_string(),
    )
}

const START: &str = "Let me pull up order A-1.";
const DELAYED: &str = "Still looking, Ada, one moment please.";
const FAILED: &str = "I can't reach the order system right now.";

#[tokio::test]
async fn a_fast_answer_gets_only_the_start_line() {
    let client = server(0, StatusCode::OK).await;
    let mut session = session();
    let lines = said(&client, &mut session, &order(false)).await;
    assert_eq!(lines, [(SayReason::Start, START.to_owned())]);
    assert_eq!(session.api.order_state.as_deref(), Some("shipped"));
}

#[tokio::test]
async fn a_slow_answer_gets_the_delayed_line_then_its_values() {
    let client = server(1200, StatusCode::OK).await;
    let mut session = session();
    let lines = said(&client, &mut session, &order(true)).await;
    assert_eq!(
        lines,
        [
            (
                SayReason::Start,
                "Let me pull up order A-1, quickly.".to_owned()
            ),
            (SayReason::Delayed, DELAYED.to_owned()),
        ]
    );
    assert_eq!(session.api.order_state.as_deref(), Some("shipped"));
}

#[tokio::test]
async fn a_500_and_a_timeout_get_the_failed_line() {
    let client = server(0, StatusCode::INTERNAL_SERVER_ERROR).await;
    let lines = said(&client, &mut session(), &order(false)).await;
    assert_eq!(
        lines,
        [
            (SayReason::Start, START.to_owned()),
            (SayReason::Failed, FAILED.to_owned())
        ]
    );
    // Later than the 2000 ms timeout: the delayed line, then the failed one.
    let client = server(4000, StatusCode::OK).await;
    let lines = said(&client, &mut session(), &order(false)).await;
    assert_eq!(
        lines,
        [
            (SayReason::Start, START.to_owned()),
            (SayReason::Delayed, DELAYED.to_owned()),
            (SayReason::Failed, FAILED.to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_call_without_messages_only_finishes_and_dispatch_says_nothing() {
    let client = server(300, StatusCode::OK).await;
    let call = ToolCall::openai("t2", "quiet_lookup", "{}");
    let mut session = session();
    assert!(said(&client, &mut session, &call).await.is_empty());
    assert_eq!(session.api.pinged, Some(true));
    // Plain `dispatch` takes no callback and behaves as before.
    assert!(session.dispatch(&client, &order(false)).await.is_ok());
}

#[tokio::test]
async fn enum_parameters_are_said_as_their_values() {
    let client = server(0, StatusCode::OK).await;
    let call = ToolCall::openai(
        "t3",
        "book_table",
        json!({"seats": 4, "area": "terrace", "notes": ["window"]}).to_string(),
    );
    let lines = said(&client, &mut session(), &call).await;
    assert_eq!(
        lines,
        [(
            SayReason::Start,
            "Booking a table for 4 on the terrace.".to_owned()
        )]
    );
    let call = ToolCall::openai("t4", "book_table", json!({"seats": 2}).to_string());
    let lines = said(&client, &mut session(), &call).await;
    assert_eq!(
        lines,
        [(SayReason::Start, "Booking a table for 2.".to_owned())]
    );
}

/// The lines among `events`, in order.
fn lines_of(events: &[ToolEvent]) -> Vec<(SayReason, &str)> {
    events
        .iter()
        .filter_map(|event| match event {
            ToolEvent::Say { text, reason, .. } => Some((*reason, text.as_str())),
            _ => None,
        })
        .collect()
}

/// One LLM turn with two calls speaks as one voice: the first call's `start` line only, one
/// `delayed` line, each failure's `failed` line, and both calls' `Finished`.
#[tokio::test]
async fn a_turn_of_several_calls_says_one_start_and_one_delayed_line() {
    let client = server(1200, StatusCode::OK).await;
    let calls = [
        order(false),
        ToolCall::openai("t5", "book_table", json!({"seats": 2}).to_string()),
    ];
    let mut events = Vec::new();
    let results = session()
        .dispatch_all_with_events(&client, &calls, &mut |event| events.push(event))
        .await;
    assert!(results.iter().all(apicall_runtime::ToolResult::is_ok));
    let said = lines_of(&events);
    assert_eq!(
        said,
        [(SayReason::Start, START), (SayReason::Delayed, DELAYED)]
    );
    let finished = events
        .iter()
        .filter(|event| matches!(event, ToolEvent::Finished { ok: true, .. }))
        .count();
    assert_eq!(finished, 2);

    let client = server(0, StatusCode::INTERNAL_SERVER_ERROR).await;
    let mut events = Vec::new();
    session()
        .dispatch_all_with_events(&client, &calls, &mut |event| events.push(event))
        .await;
    let said = lines_of(&events);
    assert_eq!(
        said,
        [(SayReason::Start, START), (SayReason::Failed, FAILED)]
    );
}
