//! `execution: async` through the generated session (`fixtures/background.yaml`), against a
//! real server on 127.0.0.1 that holds the loyalty lookup until the test releases it, so what
//! the test sees does not depend on timing: the LLM's answer comes while the server still
//! holds the request, its values arrive after, and ending the conversation closes the held
//! connection without a retry.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apicall_runtime::{BackgroundEvents, Client, Outcome, SayReason, Secret, ToolCall, ToolEvent};
use apicall_tests::background::{ApiValues, Context, Session, dispatch};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

const API_KEY: &str = "sk-background-secret";
const PATIENCE: Duration = Duration::from_secs(5);

/// The CRM: every request it has read (method and path, then body), the lookups it holds, and
/// a signal for each held lookup whose client closed the connection.
struct Crm {
    client: Client,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    release: watch::Sender<bool>,
    held: mpsc::UnboundedReceiver<()>,
    closed: mpsc::UnboundedReceiver<()>,
}

impl Crm {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (release, released) = watch::channel(false);
        let (held_tx, held) = mpsc::unbounded_channel();
        let (closed_tx, closed) = mpsc::unbounded_channel();
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let connection = Connection {
                    seen: Arc::clone(&log),
                    released: released.clone(),
                    held: held_tx.clone(),
                    closed: closed_tx.clone(),
                };
                tokio::spawn(connection.serve(stream));
            }
        });
        Self {
            client: Client::new().with_base_url(&base).unwrap(),
            seen,
            release,
            held,
            closed,
        }
    }

    fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }

    fn lookups(&self) -> usize {
        self.seen()
            .iter()
            .filter(|(line, _)| line.starts_with("GET /tiers/"))
            .count()
    }

    /// Waits until a lookup is being held.
    async fn holding(&mut self) {
        tokio::time::timeout(PATIENCE, self.held.recv())
            .await
            .expect("the lookup reached the server");
    }
}

struct Connection {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    released: watch::Receiver<bool>,
    held: mpsc::UnboundedSender<()>,
    closed: mpsc::UnboundedSender<()>,
}

impl Connection {
    /// Requests on one (keep-alive) connection: lookups wait for the release and report a
    /// client that gives up; everything else is answered at once.
    async fn serve(self, stream: TcpStream) {
        let mut stream = BufReader::new(stream);
        while let Some((line, body)) = read_request(&mut stream).await {
            self.seen.lock().unwrap().push((line.clone(), body));
            let answer = if line.starts_with("GET /tiers/fail") {
                let response = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n";
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            } else if line.starts_with("GET /tiers/") {
                self.held.send(()).unwrap();
                let mut released = self.released.clone();
                let mut byte = [0u8; 1];
                tokio::select! {
                    _ = released.wait_for(|released| *released) => {}
                    read = stream.read(&mut byte) => {
                        assert_eq!(read.unwrap(), 0, "nothing more is sent on a held request");
                        self.closed.send(()).unwrap();
                        return;
                    }
                }
                json!({"tier": "gold", "points": 1200})
            } else if line.starts_with("GET /orders/") {
                json!({"status": "shipped"})
            } else {
                json!({})
            };
            let body = answer.to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// One request's line and body; `None` when the client closed the connection.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    let line = line.trim_end().rsplit_once(' ')?.0.to_owned();
    Some((line, String::from_utf8(body).ok()?))
}

fn context() -> Context {
    Context {
        api_key: Secret::new(API_KEY),
        webhook_secret: Secret::new("whsec-background"),
    }
}

fn enrich() -> ToolCall {
    ToolCall::openai("t1", "enrich_caller", r#"{"phone": "+15550100"}"#)
}

fn order() -> ToolCall {
    ToolCall::openai("t2", "order_status", r#"{"order_id": "A-1"}"#)
}

fn log_visit() -> ToolCall {
    ToolCall::openai("t3", "log_visit", r#"{"reason": "a late order"}"#)
}

async fn until_no_call_runs(session: &Session) {
    tokio::time::timeout(PATIENCE, async {
        while session.in_background() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the async calls completed");
}

#[tokio::test]
async fn an_async_call_answers_at_once_and_its_values_arrive_when_it_completes() {
    let mut crm = Crm::start().await;
    let mut session = Session::new(context());

    let result = session.dispatch(&crm.client, &enrich()).await;
    // The server still holds the lookup: the LLM has its answer without waiting for it.
    assert!(result.is_ok(), "{:?}", result.error);
    assert_eq!(result.content, json!({"status": "started"}));
    assert_eq!(result.content["status"], apicall_runtime::STARTED);
    crm.holding().await;
    assert_eq!(session.in_background(), 1);
    assert_eq!(session.api_values().loyalty_tier, None);
    assert!(!session.render_system().contains("gold"));

    crm.release.send(true).unwrap();
    until_no_call_runs(&session).await;
    // A prompt rendered now sees the values, before any `&mut` call has kept them.
    assert!(session.render_system().contains("A gold member."));
    assert_eq!(session.api.loyalty_tier, None);
    let written = serde_json::to_value(&session).unwrap();
    assert_eq!(written["api"]["loyalty_tier"], "gold");
    assert_eq!(written["api"]["loyalty_points"], 1200);
    let copy = session.clone();
    assert_eq!(copy.api_values().loyalty_points, Some(1200));

    session.keep_completed();
    assert_eq!(session.api.loyalty_tier.as_deref(), Some("gold"));
    assert_eq!(session.api.loyalty_points, Some(1200));
    assert_eq!(crm.lookups(), 1);
    assert_eq!(crm.seen()[0].0, "GET /tiers/%2B15550100");
}

#[tokio::test]
async fn the_next_dispatch_keeps_what_async_calls_extracted() {
    let crm = Crm::start().await;
    crm.release.send(true).unwrap();
    let mut session = Session::new(context());
    session.dispatch(&crm.client, &enrich()).await;
    until_no_call_runs(&session).await;

    let result = session.dispatch(&crm.client, &order()).await;
    assert_eq!(result.content, json!({"order_state": "shipped"}));
    assert_eq!(session.api.loyalty_tier.as_deref(), Some("gold"));
    assert_eq!(session.api.order_state.as_deref(), Some("shipped"));
    assert_eq!(session.render_system(), "A gold member. Order: shipped.");
}

#[tokio::test]
async fn one_turn_answers_async_calls_at_once_and_waits_for_the_others() {
    let mut crm = Crm::start().await;
    let mut session = Session::new(context());
    let results = session
        .dispatch_all(&crm.client, &[enrich(), order(), log_visit()])
        .await;
    let contents: Vec<_> = results.iter().map(|result| &result.content).collect();
    assert_eq!(
        contents,
        [
            &json!({"status": "started"}),
            &json!({"order_state": "shipped"}),
            &json!({"status": "started"}),
        ]
    );
    assert_eq!(session.api.order_state.as_deref(), Some("shipped"));
    crm.holding().await;

    crm.release.send(true).unwrap();
    session.wait_for_background().await;
    assert_eq!(session.in_background(), 0);
    assert_eq!(session.api.loyalty_tier.as_deref(), Some("gold"));
    let visits: Vec<_> = crm
        .seen()
        .into_iter()
        .filter(|(line, _)| line == "POST /visits")
        .collect();
    assert_eq!(visits.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&visits[0].1).unwrap();
    assert_eq!(body, json!({"reason": "a late order"}));
}

#[tokio::test]
async fn an_async_call_says_its_start_line_and_goes_to_the_background() {
    let crm = Crm::start().await;
    let mut session = Session::new(context());
    let mut events = Vec::new();
    let result = session
        .dispatch_with_events(&crm.client, &enrich(), &mut |event| events.push(event))
        .await;
    assert!(result.is_ok());
    assert_eq!(
        events,
        [
            ToolEvent::Say {
                tool: "enrich_caller",
                text: "I'll check your membership while we talk.".to_owned(),
                reason: SayReason::Start,
            },
            ToolEvent::Backgrounded {
                tool: "enrich_caller"
            },
        ]
    );
}

async fn next(later: &mut BackgroundEvents) -> Option<ToolEvent> {
    tokio::time::timeout(PATIENCE, later.recv())
        .await
        .expect("an event in time")
}

/// The held lookup is still running at `after_ms` (200 ms): its delayed line comes through the
/// session's background events, then `Finished` once the server is released.
#[tokio::test]
async fn what_an_async_call_says_later_reaches_the_background_events() {
    let mut crm = Crm::start().await;
    let mut session = Session::new(context());
    let mut later = session.background_events();
    let mut now = Vec::new();
    session
        .dispatch_with_events(&crm.client, &enrich(), &mut |event| now.push(event))
        .await;
    assert_eq!(now.len(), 2, "start and Backgrounded: {now:?}");
    crm.holding().await;
    assert_eq!(
        next(&mut later).await,
        Some(ToolEvent::Say {
            tool: "enrich_caller",
            text: "The membership system is slow today.".to_owned(),
            reason: SayReason::Delayed,
        })
    );
    crm.release.send(true).unwrap();
    assert_eq!(
        next(&mut later).await,
        Some(ToolEvent::Finished {
            tool: "enrich_caller",
            ok: true
        })
    );

    let failing = ToolCall::openai("t9", "enrich_caller", r#"{"phone": "fail"}"#);
    let result = session.dispatch(&crm.client, &failing).await;
    assert!(result.is_ok(), "the LLM was told the call started");
    assert_eq!(
        next(&mut later).await,
        Some(ToolEvent::Say {
            tool: "enrich_caller",
            text: "I couldn't check your membership.".to_owned(),
            reason: SayReason::Failed,
        })
    );
    assert_eq!(
        next(&mut later).await,
        Some(ToolEvent::Finished {
            tool: "enrich_caller",
            ok: false
        })
    );
    session.wait_for_background().await;
    // The failed call extracted nothing; the earlier one's values stay.
    assert_eq!(session.api.loyalty_tier.as_deref(), Some("gold"));
}

#[tokio::test]
async fn arguments_the_llm_must_fix_are_answered_and_nothing_starts() {
    let crm = Crm::start().await;
    let mut session = Session::new(context());
    let result = session
        .dispatch(
            &crm.client,
            &ToolCall::openai("t1", "enrich_caller", r#"{"phone": 5}"#),
        )
        .await;
    assert!(result.is_error());
    assert_eq!(result.content["error"], "invalid arguments");
    assert_eq!(session.in_background(), 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(crm.seen().is_empty());
}

#[tokio::test]
async fn without_a_session_the_dispatcher_waits_for_an_async_call() {
    let crm = Crm::start().await;
    crm.release.send(true).unwrap();
    let mut api = ApiValues::default();
    let result = dispatch(&crm.client, &context(), &mut api, &enrich()).await;
    assert_eq!(
        result.content,
        json!({"loyalty_tier": "gold", "loyalty_points": 1200})
    );
    assert_eq!(api.loyalty_points, Some(1200));
}

/// The held lookup's connection is closed, and no further lookup comes (the call has
/// `retries: 2`): the server has seen `lookups` in all.
async fn assert_dropped_and_never_retried(crm: &mut Crm, lookups: usize) {
    tokio::time::timeout(PATIENCE, crm.closed.recv())
        .await
        .expect("the server saw the connection closed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(crm.lookups(), lookups);
}

#[tokio::test]
async fn dropping_the_session_cancels_its_async_calls() {
    let mut crm = Crm::start().await;
    let mut session = Session::new(context());
    session.dispatch(&crm.client, &enrich()).await;
    crm.holding().await;
    drop(session);
    assert_dropped_and_never_retried(&mut crm, 1).await;
}

#[tokio::test]
async fn ending_the_conversation_cancels_its_async_calls_and_sends_what_completed() {
    let mut crm = Crm::start().await;
    let mut session = Session::new(context());
    crm.release.send(true).unwrap();
    session.dispatch(&crm.client, &enrich()).await;
    until_no_call_runs(&session).await;
    crm.release.send(false).unwrap();
    session.dispatch(&crm.client, &enrich()).await;
    crm.holding().await;
    crm.holding().await;

    let delivery = session.finish(&crm.client, Outcome::Completed);
    assert_dropped_and_never_retried(&mut crm, 2).await;
    let delivered = delivery.wait().await;
    assert!(delivered.iter().all(Result::is_ok), "{delivered:?}");
    assert_eq!(session.in_background(), 0);
    let summaries: Vec<_> = crm
        .seen()
        .into_iter()
        .filter(|(line, _)| line == "POST /summaries")
        .collect();
    assert_eq!(summaries.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&summaries[0].1).unwrap();
    assert_eq!(body["api"]["loyalty_tier"], "gold", "{body}");
    assert!(!summaries[0].1.contains(API_KEY));
}
