//! The whole tool path an agent loop runs for one LLM tool call, against the same path written
//! by hand, both against one loopback server in the same run:
//!
//! OpenAI's `tool_call` JSON text (the arguments a JSON string inside it) → the arguments read
//! → `GET /orders/{id}` → the response → `order.status` extracted → the `tool` message for the
//! LLM as JSON text.
//!
//! - `generated`: `ToolCall::openai`, the seed's `Session::dispatch` (argument check, request,
//!   extraction, the values stored for prompts), `ToolResult::to_openai_text` (the message's JSON
//!   text);
//! - `hand_written_reqwest_serde`: the arguments parsed with serde into a struct, the same
//!   request with reqwest, serde structs for the response, `serde_json::to_string` of the result.
//!
//! Both parse the tool call's envelope with the same serde struct, as an LLM client library
//! would. Goal: the generated path at most 1.05x the hand-written one.
//!
//! Run: `cargo bench -p apicall-benches --bench tool_path`
//!
//! To count instructions without criterion: `APICALL_TOOL_PATH_ONCE=generated:1000` (or
//! `hand_written:1000`) in the environment of the bench binary runs that side that many times
//! after one warm-up call and exits (see [`run_once`]), e.g. under `valgrind --tool=callgrind`.
//! Two counts (say 200 and 1,200 calls) differ by the cost of the calls alone. `both:1000`
//! alternates the two in one process: the inclusive counts of `generated` and `hand_written`
//! then compare their client sides under the same allocator and scheduler state.

use std::hint::black_box;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use apicall_runtime::{Client, Secret, ToolCall};
use apicall_tests::seed;
use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// A loopback server answering `/orders/{id}` like the seed's orders API.
fn server() -> String {
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = axum::Router::new().route(
            "/orders/{id}",
            get(|Path(id): Path<String>| async move {
                Json(json!({"order": {"id": id, "status": "shipped", "carrier": "DHL"}}))
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    })
}

/// The request each path sends to a loopback server that records it: its method, URI and
/// headers, one per line, sorted.
fn request_heads(client: &reqwest::Client, session: &seed::Session) -> (String, String) {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&heads);
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = axum::Router::new().route(
            "/orders/{id}",
            get(move |method: Method, uri: Uri, headers: HeaderMap| {
                let mut lines: Vec<String> = headers
                    .iter()
                    .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
                    .collect();
                lines.sort();
                lines.insert(0, format!("{method} {uri}"));
                recorded.lock().expect("lock").push(lines.join("\n"));
                async { Json(json!({"order": {"status": "shipped"}})) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let base = format!("http://{address}");
        let ours = Client::with_http_client(client.clone())
            .with_base_url(&base)
            .expect("valid base");
        generated(&mut session.clone(), &ours, TOOL_CALL).await;
        hand_written(client, &base, TOOL_CALL).await;
    });
    let heads = heads.lock().expect("lock");
    (heads[0].clone(), heads[1].clone())
}

/// What apicall sends as `User-Agent` (the packages share the workspace's version).
const USER_AGENT: &str = concat!("apicall/", env!("CARGO_PKG_VERSION"));

/// One tool call as OpenAI's Chat Completions returns it.
const TOOL_CALL: &str = r#"{"id":"call_8Yq2","type":"function","function":{"name":"order_status","arguments":"{\"order_id\":\"A-1042\"}"}}"#;

/// OpenAI's `tool_call`, as an LLM client library reads it (both paths use it).
#[derive(Deserialize)]
struct OpenAiToolCall {
    id: String,
    function: OpenAiFunction,
}

#[derive(Deserialize)]
struct OpenAiFunction {
    name: String,
    arguments: String,
}

/// The generated path: the tool message's JSON text.
async fn generated(session: &mut seed::Session, client: &Client, wire: &str) -> String {
    let call: OpenAiToolCall = serde_json::from_str(wire).expect("a tool call");
    let call = ToolCall::openai(call.id, call.function.name, call.function.arguments);
    let result = session.dispatch(client, &call).await;
    assert!(result.is_ok(), "{:?}", result.error);
    result.to_openai_text()
}

#[derive(Deserialize)]
struct OrderStatusArguments {
    order_id: String,
}

#[derive(Deserialize)]
struct Body {
    order: Option<Order>,
}

#[derive(Deserialize)]
struct Order {
    status: Option<String>,
}

#[derive(Serialize)]
struct OrderStatusContent {
    order_status: Option<String>,
}

#[derive(Serialize)]
struct ToolMessage<'a> {
    role: &'static str,
    tool_call_id: &'a str,
    content: String,
}

/// The same path by hand: the tool message's JSON text.
async fn hand_written(http: &reqwest::Client, base: &str, wire: &str) -> String {
    let call: OpenAiToolCall = serde_json::from_str(wire).expect("a tool call");
    assert_eq!(call.function.name, "order_status");
    let arguments: OrderStatusArguments =
        serde_json::from_str(&call.function.arguments).expect("arguments");
    let response = http
        .get(format!("{base}/orders/{}", arguments.order_id))
        // The request apicall sends: its `User-Agent`, the call's timeout.
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("ok");
    let body: Body = response.json().await.expect("json");
    let content = OrderStatusContent {
        order_status: body.order.and_then(|order| order.status),
    };
    let message = ToolMessage {
        role: "tool",
        tool_call_id: &call.id,
        content: serde_json::to_string(&content).expect("serializes"),
    };
    serde_json::to_string(&message).expect("serializes")
}

/// What both sides send with: a loopback server's base URL, one reqwest client under both, the
/// generated client over it, and a fresh session.
fn sides() -> (String, reqwest::Client, Client, seed::Session) {
    let base = server();
    let http = reqwest::Client::new();
    let client = Client::with_http_client(http.clone())
        .with_base_url(&base)
        .expect("valid base");
    let session = seed::Session::new(seed::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("k"),
    });
    (base, http, client, session)
}

/// Runs one side (or both, alternating) `times` times after a warm-up call and exits, for a
/// profiler: `APICALL_TOOL_PATH_ONCE=<generated|hand_written|both>:<times>`.
fn run_once(spec: &str) {
    let (side, times) = spec
        .split_once(':')
        .and_then(|(side, times)| Some((side, times.parse::<usize>().ok()?)))
        .expect("APICALL_TOOL_PATH_ONCE is `<generated|hand_written|both>:<times>`");
    let (base, http, client, mut session) = sides();
    runtime().block_on(async {
        for _ in 0..=times {
            match side {
                "generated" => black_box(generated(&mut session, &client, TOOL_CALL).await),
                "hand_written" => black_box(hand_written(&http, &base, TOOL_CALL).await),
                "both" => {
                    black_box(generated(&mut session, &client, TOOL_CALL).await);
                    black_box(hand_written(&http, &base, TOOL_CALL).await)
                }
                _ => panic!("no side `{side}`: generated, hand_written or both"),
            };
        }
    });
}

fn bench(c: &mut Criterion) {
    let (base, http, client, session) = sides();

    // Both hand the LLM the same message (compared as JSON: the keys' order differs).
    let (ours, theirs) = runtime().block_on(async {
        let mut session = session.clone();
        let ours = generated(&mut session, &client, TOOL_CALL).await;
        assert_eq!(session.api.order_status.as_deref(), Some("shipped"));
        (ours, hand_written(&http, &base, TOOL_CALL).await)
    });
    // ... after sending the same request.
    let (ours_sent, theirs_sent) = request_heads(&http, &session);
    assert_eq!(ours_sent, theirs_sent);
    let parse = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
    assert_eq!(parse(&ours), parse(&theirs));
    assert_eq!(
        parse(&ours),
        json!({"role": "tool", "tool_call_id": "call_8Yq2",
               "content": r#"{"order_status":"shipped"}"#})
    );

    let mut group = c.benchmark_group("tool_path");
    group.bench_function("hand_written_reqwest_serde", |b| {
        b.to_async(runtime()).iter_custom(|iters| {
            let (http, base) = (&http, base.as_str());
            async move {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(hand_written(http, base, black_box(TOOL_CALL)).await);
                }
                started.elapsed()
            }
        });
    });
    group.bench_function("generated", |b| {
        b.to_async(runtime()).iter_custom(|iters| {
            // One conversation per sample, as an agent keeps one per call.
            let (mut session, client) = (session.clone(), &client);
            async move {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(generated(&mut session, client, black_box(TOOL_CALL)).await);
                }
                started.elapsed()
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Some(spec) = std::env::var_os("APICALL_TOOL_PATH_ONCE") {
        run_once(&spec.to_string_lossy());
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
