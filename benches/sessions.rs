//! Many conversations in one process (issue 17): 10,000 generated `Session`s, each with one tool
//! call in flight against a loopback server that holds every response until all have arrived,
//! measured against 10,000 hand-written reqwest requests in flight against the same server. The
//! difference is what apicall costs per conversation beyond the HTTP connection itself.
//!
//! Run: `cargo bench -p apicall-benches --bench sessions`
//! (`APICALL_SESSIONS=2000 cargo bench -p apicall-benches --bench sessions` for another count.)
//!
//! The process started by `cargo bench` is the server (axum on 127.0.0.1, listen backlog 4096)
//! and runs nothing it measures. Each measurement runs in a fresh child process (this binary
//! again, `APICALL_SESSIONS_ROLE` set), so every phase starts from the same clean heap, the
//! server's memory and sockets are not counted, and one process holds only the client side of
//! the 10,000 connections (under the usual `ulimit -n` of 20,000). The children:
//!
//! - `tasks`: 10,000 bare tokio tasks, each pending on a zero-sized future: tokio's own cost
//!   per task.
//! - `sessions`: 10,000 idle `Session`s in a `Vec`: a conversation's memory with no call.
//! - `baseline`: 10,000 tasks, each a hand-written request (`reqwest` GET with a 5 s timeout,
//!   `serde_json` body, `/order/status` read out), as an agent without apicall would write it.
//! - `apicall`: 10,000 tasks, each a `seed::Session` that dispatches an `order_status`
//!   `ToolCall` (arguments as the LLM's JSON text) through a shared `Client`.
//!
//! Both request phases open one connection per request on a fresh `reqwest::Client` with the
//! same settings (HTTP/1.1, redirects off), so the connections are the same in number and kind.
//! Each child runs its tasks on one thread (a current-thread runtime and a `LocalSet`): the
//! generated dispatch future is not `Send` (it holds an `Option<&EventSink>`, a `RefCell`), so
//! a session cannot be handed to `tokio::spawn` on a multi-threaded runtime; the hand-written
//! requests run the same way, so the scheduler is the same for both.
//!
//! If the server has not seen every request 4 s after the child spawned its tasks (the seed
//! call's timeout is 5 s), it answers anyway and the table says how many were in flight.
//!
//! Memory is the child's resident set from `/proc/self/status`: `VmRSS` before spawning and
//! once the server has every request, and `VmHWM` (its peak, reset by writing `5` to
//! `/proc/self/clear_refs` before spawning) after all have completed. CPU time is the sum over
//! the child's threads of `/proc/self/task/*/schedstat` (nanoseconds), per phase: "start" is
//! from the first spawn until the server has every request, "finish" from the release until
//! every task has returned. Wall times are noise on a shared machine; CPU per session less so.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use apicall_runtime::call::{CallSpec, Method, Request};
use apicall_runtime::{Background, Client, Conversation, Secret, ToolCall};
use apicall_tests::seed;
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::watch;

/// How many conversations unless `APICALL_SESSIONS` says otherwise.
const DEFAULT_SESSIONS: usize = 10_000;
/// Set in a child: what it measures.
const ROLE: &str = "APICALL_SESSIONS_ROLE";
/// Set in a child: the server's base URL.
const SERVER: &str = "APICALL_SESSIONS_SERVER";
/// The seed's `order_status` times out after 5 s; give up waiting for stragglers before that.
const ARRIVAL_LIMIT: Duration = Duration::from_secs(4);
/// The hand-written request's timeout, the seed call's.
const TIMEOUT: Duration = Duration::from_secs(5);

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing to run.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let sessions = std::env::var("APICALL_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_SESSIONS);
    match std::env::var(ROLE) {
        Ok(role) => child(&role, sessions),
        Err(_) => parent(sessions),
    }
}

// ---------------------------------------------------------------------------------------------
// The parent: the server, the children, the table.

/// One phase's requests as the server sees them.
struct Phase {
    arrived: AtomicUsize,
    released: watch::Sender<bool>,
}

impl Phase {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            arrived: AtomicUsize::new(0),
            released: watch::Sender::new(false),
        })
    }
}

/// The server's state: the phase now running.
struct Server {
    phase: Mutex<Arc<Phase>>,
}

impl Server {
    fn phase(&self) -> Arc<Phase> {
        self.phase
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Counts the request in, then holds the response until the phase is released.
async fn held(State(server): State<Arc<Server>>) -> Json<Value> {
    let phase = server.phase();
    phase.arrived.fetch_add(1, Ordering::AcqRel);
    let mut released = phase.released.subscribe();
    let _ = released.wait_for(|released| *released).await;
    Json(json!({"order": {"status": "shipped"}}))
}

fn parent(sessions: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let server = Arc::new(Server {
        phase: Mutex::new(Phase::new()),
    });
    let address = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bind");
        // 10,000 connects arrive at once; the default backlog (1024) drops SYNs, which the
        // client retries a second later.
        let listener = socket.listen(4096).expect("listen");
        let address = listener.local_addr().expect("address");
        let app = axum::Router::new()
            .route("/orders/{id}", get(held))
            .route("/warmup", get(|| async { "ok" }))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        address
    });
    let base = format!("http://{address}");
    let sizes = runtime.block_on(sizes(&base));

    println!(
        "sessions: {sessions} conversations, each with one call in flight, one child process per row"
    );
    let tasks = run_child("tasks", sessions, &base, &server);
    let idle = run_child("sessions", sessions, &base, &server);
    let baseline = run_child("baseline", sessions, &base, &server);
    let apicall = run_child("apicall", sessions, &base, &server);
    print_table(sessions, &sizes, &tasks, &idle, &baseline, &apicall);
}

/// What a child reported: `key=value` pairs.
type Report = BTreeMap<String, f64>;

/// Runs one child to the end: releases the server's responses once every request has arrived
/// (or [`ARRIVAL_LIMIT`] after the child has spawned its tasks) and the child has measured.
fn run_child(role: &str, sessions: usize, base: &str, server: &Server) -> Report {
    let phase = Phase::new();
    *server.phase.lock().unwrap_or_else(PoisonError::into_inner) = phase.clone();
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .arg("--bench")
        .env(ROLE, role)
        .env(SERVER, base)
        .env("APICALL_SESSIONS", sessions.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a child");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut report = None;
    while let Some(line) = lines.next().map(|line| line.expect("the child's output")) {
        if line == "SPAWNED" {
            let spawned = Instant::now();
            while phase.arrived.load(Ordering::Acquire) < sessions
                && spawned.elapsed() < ARRIVAL_LIMIT
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            let arrived = phase.arrived.load(Ordering::Acquire);
            writeln!(stdin, "ARRIVED {arrived}").expect("tell the child");
            stdin.flush().expect("tell the child");
        } else if line == "MEASURED" {
            phase.released.send_replace(true);
        } else if let Some(pairs) = line.strip_prefix("RESULT ") {
            report = Some(parse_report(pairs));
        } else {
            println!("{role}: {line}");
        }
    }
    // Whatever happened, nothing stays held for the next phase.
    phase.released.send_replace(true);
    let status = child.wait().expect("the child's exit");
    assert!(status.success(), "the {role} child failed: {status}");
    report.unwrap_or_else(|| panic!("the {role} child reported nothing"))
}

fn parse_report(pairs: &str) -> Report {
    pairs
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.parse().expect("a number")))
        .collect()
}

/// The sizes that explain the memory, in bytes.
struct Sizes {
    session: usize,
    context: usize,
    api_values: usize,
    conversation: usize,
    background: usize,
    client: usize,
    tool_call: usize,
    dispatch_future: usize,
    order_status_future: usize,
    send_future: usize,
    apicall_task: usize,
    baseline_task: usize,
    tasks_task: usize,
}

/// For `Request::send`'s future.
static SIZE_SPEC: CallSpec = CallSpec {
    name: "order_status",
    method: Method::Get,
    timeout_ms: 5000,
    retries: 0,
};

async fn sizes(base: &str) -> Sizes {
    let client = Client::new().with_base_url(base).expect("a base URL");
    let mut session = session(0);
    let call = tool_call(0);
    let params = seed::OrderStatusParams {
        order_id: "A-0".to_owned(),
    };
    let dispatch_future = std::mem::size_of_val(&session.dispatch(&client, &call));
    let order_status_future =
        std::mem::size_of_val(&seed::order_status(&client, &session.context, &params));
    let send_future = std::mem::size_of_val(&Request::new(&client, &SIZE_SPEC).send());
    Sizes {
        session: size_of::<seed::Session>(),
        context: size_of::<seed::Context>(),
        api_values: size_of::<seed::ApiValues>(),
        conversation: size_of::<Conversation>(),
        background: size_of::<Background<seed::ApiValues>>(),
        client: size_of::<Client>(),
        tool_call: size_of::<ToolCall>(),
        dispatch_future,
        order_status_future,
        send_future,
        apicall_task: std::mem::size_of_val(&apicall_conversation(client.clone(), 0)),
        baseline_task: std::mem::size_of_val(&hand_written(
            reqwest::Client::new(),
            Arc::from(base),
            0,
        )),
        tasks_task: std::mem::size_of_val(&std::future::pending::<()>()),
    }
}

#[allow(clippy::cast_precision_loss)]
fn print_table(
    sessions: usize,
    sizes: &Sizes,
    tasks: &Report,
    idle: &Report,
    baseline: &Report,
    apicall: &Report,
) {
    let n = sessions as f64;
    let get = |report: &Report, key: &str| report.get(key).copied().unwrap_or(f64::NAN);
    let per = |report: &Report, key: &str| get(report, key) / n;
    let mib = |kib: f64| kib / 1024.0;
    let row3 = |label: &str, b: String, a: String, d: String| {
        println!("{label:<40} {b:>14} {a:>14} {d:>14}");
    };
    println!();
    row3(
        "",
        "hand-written".to_owned(),
        "apicall".to_owned(),
        "difference".to_owned(),
    );
    row3(
        "requests in flight at the measurement",
        format!("{:.0}", get(baseline, "in_flight")),
        format!("{:.0}", get(apicall, "in_flight")),
        String::new(),
    );
    for (label, key) in [
        ("RSS growth, all in flight", "rss_in_flight_kib"),
        ("peak RSS growth (VmHWM)", "hwm_growth_kib"),
    ] {
        let (b, a) = (get(baseline, key), get(apicall, key));
        row3(
            &format!("{label}, MiB"),
            format!("{:.1}", mib(b)),
            format!("{:.1}", mib(a)),
            format!("{:+.1}", mib(a - b)),
        );
        let (b, a) = (b / n, a / n);
        row3(
            "  per session, KiB",
            format!("{b:.2}"),
            format!("{a:.2}"),
            format!("{:+.2}", a - b),
        );
    }
    row3(
        "total peak (VmHWM), MiB",
        format!("{:.1}", mib(get(baseline, "hwm_kib"))),
        format!("{:.1}", mib(get(apicall, "hwm_kib"))),
        String::new(),
    );
    row3(
        "time to spawn all, ms",
        format!("{:.1}", get(baseline, "spawn_ms")),
        format!("{:.1}", get(apicall, "spawn_ms")),
        format!(
            "{:+.1}",
            get(apicall, "spawn_ms") - get(baseline, "spawn_ms")
        ),
    );
    row3(
        "time to start all (all arrived), ms",
        format!("{:.0}", get(baseline, "start_ms")),
        format!("{:.0}", get(apicall, "start_ms")),
        format!(
            "{:+.0}",
            get(apicall, "start_ms") - get(baseline, "start_ms")
        ),
    );
    for (label, key) in [
        ("CPU to spawn, per session, us", "spawn_cpu_us"),
        ("CPU to start, per session, us", "start_cpu_us"),
        ("CPU to finish, per session, us", "finish_cpu_us"),
    ] {
        let (b, a) = (per(baseline, key), per(apicall, key));
        row3(
            label,
            format!("{b:.2}"),
            format!("{a:.2}"),
            format!("{:+.2}", a - b),
        );
    }
    row3(
        "time to finish all (after release), ms",
        format!("{:.0}", get(baseline, "finish_ms")),
        format!("{:.0}", get(apicall, "finish_ms")),
        String::new(),
    );
    row3(
        "failed calls",
        format!("{:.0}", get(baseline, "errors")),
        format!("{:.0}", get(apicall, "errors")),
        String::new(),
    );
    println!();
    println!(
        "bare tokio task (zero-sized future): {:.0} B per task (RSS), {:.2} us CPU to spawn",
        get(tasks, "rss_in_flight_kib") * 1024.0 / n,
        per(tasks, "spawn_cpu_us"),
    );
    println!(
        "idle Session (Vec<Session>, no call): {:.0} B per session (RSS), {} B of it inline",
        get(idle, "rss_in_flight_kib") * 1024.0 / n,
        sizes.session,
    );
    println!(
        "size_of: Session {} (Context {}, ApiValues {}, Conversation {}, Background {}), Client {}, ToolCall {}",
        sizes.session,
        sizes.context,
        sizes.api_values,
        sizes.conversation,
        sizes.background,
        sizes.client,
        sizes.tool_call,
    );
    println!(
        "futures, unpolled: Session::dispatch {} (holds the call's future boxed), the boxed seed::order_status {} (Request::send {}); whole task: apicall {}, hand-written {}, bare {}",
        sizes.dispatch_future,
        sizes.order_status_future,
        sizes.send_future,
        sizes.apicall_task,
        sizes.baseline_task,
        sizes.tasks_task,
    );
    let in_flight = get(apicall, "in_flight").min(get(baseline, "in_flight"));
    if in_flight < n {
        println!(
            "warning: only {in_flight:.0} of {sessions} requests were in flight when measured (slow start); per-session numbers are low"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The children: one measurement each.

/// The child's resident memory, CPU time and clock at one moment.
struct Snapshot {
    at: Instant,
    rss_kib: u64,
    cpu_ns: u64,
}

impl Snapshot {
    fn now() -> Self {
        Self {
            at: Instant::now(),
            rss_kib: status_kib("VmRSS:"),
            cpu_ns: cpu_ns(),
        }
    }
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// CPU time of every live thread of this process, in nanoseconds (`schedstat`'s first field).
/// The child's threads (the runtime's, and the one that reads stdin) live for the whole
/// measurement.
fn cpu_ns() -> u64 {
    // A thread's own count is brought up to date when it is descheduled; yielding does that.
    std::thread::yield_now();
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("a thread").path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// Resets `VmHWM` to the current resident set.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM via /proc/self/clear_refs");
}

fn session(i: usize) -> seed::Session {
    seed::Session::new(seed::Context {
        caller_phone: format!("+1555{i:07}"),
        api_key: Secret::new("sk-bench"),
    })
}

/// The LLM's tool call, with its arguments as the JSON text an LLM API returns.
fn tool_call(i: usize) -> ToolCall {
    ToolCall::from_json_arguments(
        Some(format!("call_{i}")),
        "order_status",
        &format!(r#"{{"order_id":"A-{i}"}}"#),
    )
    .expect("JSON arguments")
}

/// One conversation: a session, the LLM's tool call, dispatched.
async fn apicall_conversation(client: Client, i: usize) -> bool {
    let mut session = session(i);
    let call = tool_call(i);
    let result = session.dispatch(&client, &call).await;
    result.is_ok() && result.content == json!({"order_status": "shipped"})
}

/// The same request written by hand against reqwest.
async fn hand_written(http: reqwest::Client, base: Arc<str>, i: usize) -> bool {
    let outcome = async {
        let response = http
            .get(format!("{base}/orders/A-{i}"))
            .timeout(TIMEOUT)
            .send()
            .await?
            .error_for_status()?;
        let body: Value = response.json().await?;
        Ok::<_, reqwest::Error>(
            body.pointer("/order/status")
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    };
    matches!(outcome.await, Ok(Some(status)) if status == "shipped")
}

/// The `reqwest::Client` as apicall's shared one is built.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}

fn report(pairs: &[(&str, f64)]) {
    let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", text.join(" "));
}

#[allow(clippy::cast_precision_loss)]
fn kib_growth(from: &Snapshot, to: &Snapshot) -> f64 {
    to.rss_kib.saturating_sub(from.rss_kib) as f64
}

#[allow(clippy::cast_precision_loss)]
fn cpu_us(from: &Snapshot, to: &Snapshot) -> f64 {
    to.cpu_ns.saturating_sub(from.cpu_ns) as f64 / 1000.0
}

fn ms(from: &Snapshot, to: &Snapshot) -> f64 {
    to.at.duration_since(from.at).as_secs_f64() * 1000.0
}

fn child(role: &str, sessions: usize) {
    // One thread, tasks on a `LocalSet`: the dispatch future is not `Send` (see the top).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    match role {
        "tasks" => tasks_child(&runtime, &local, sessions),
        "sessions" => sessions_child(sessions),
        "baseline" | "apicall" => requests_child(&runtime, &local, role, sessions),
        other => panic!("unknown role {other}"),
    }
}

/// Bare tasks: tokio's cost per task.
fn tasks_child(runtime: &tokio::runtime::Runtime, local: &tokio::task::LocalSet, sessions: usize) {
    let before = Snapshot::now();
    let handles: Vec<_> = (0..sessions)
        .map(|_| local.spawn_local(std::future::pending::<()>()))
        .collect();
    let spawned = Snapshot::now();
    // Poll each once.
    local.block_on(runtime, async {
        tokio::time::sleep(Duration::from_millis(50)).await;
    });
    let polled = Snapshot::now();
    for handle in &handles {
        handle.abort();
    }
    drop(handles);
    report(&[
        ("rss_in_flight_kib", kib_growth(&before, &polled)),
        ("spawn_cpu_us", cpu_us(&before, &spawned)),
    ]);
}

/// Idle sessions: a conversation's memory without a call.
fn sessions_child(sessions: usize) {
    let before = Snapshot::now();
    let all: Vec<seed::Session> = (0..sessions).map(session).collect();
    let after = Snapshot::now();
    assert_eq!(all.len(), sessions);
    report(&[("rss_in_flight_kib", kib_growth(&before, &after))]);
}

/// Spawns `count` tasks, each the future `make` makes (unboxed, as an agent would).
fn spawn_all<F>(
    local: &tokio::task::LocalSet,
    count: usize,
    make: impl Fn(usize) -> F,
) -> Vec<tokio::task::JoinHandle<bool>>
where
    F: Future<Output = bool> + 'static,
{
    (0..count).map(|i| local.spawn_local(make(i))).collect()
}

/// `sessions` requests in flight at once, hand-written or through sessions.
fn requests_child(
    runtime: &tokio::runtime::Runtime,
    local: &tokio::task::LocalSet,
    role: &str,
    sessions: usize,
) {
    let base: Arc<str> = Arc::from(std::env::var(SERVER).expect("the server's URL"));
    // The parent's word comes on stdin while the tasks run on this thread.
    let (word, heard) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .expect("the parent's word");
        let _ = word.send(line);
    });
    let http = http_client();
    let client = Client::with_http_client(http.clone())
        .with_base_url(&base)
        .expect("a base URL");
    // One request first, so lazily built state (the pool, the timer wheel...) is not counted.
    local.block_on(runtime, async {
        http.get(format!("{base}/warmup"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the server answers");
    });
    reset_peak();
    let before = Snapshot::now();
    let handles = if role == "apicall" {
        spawn_all(local, sessions, |i| apicall_conversation(client.clone(), i))
    } else {
        spawn_all(local, sessions, |i| {
            hand_written(http.clone(), base.clone(), i)
        })
    };
    let spawned = Snapshot::now();
    println!("SPAWNED");
    let line = local.block_on(runtime, heard).expect("the parent's word");
    let in_flight: f64 = line
        .trim()
        .strip_prefix("ARRIVED ")
        .and_then(|n| n.parse().ok())
        .expect("ARRIVED <count>");
    let arrived = Snapshot::now();
    println!("MEASURED");
    let ok = local.block_on(runtime, async {
        let mut ok = 0_u32;
        for handle in handles {
            ok += u32::from(handle.await.expect("a task"));
        }
        ok
    });
    let done = Snapshot::now();
    #[allow(clippy::cast_precision_loss)]
    let errors = sessions as f64 - f64::from(ok);
    #[allow(clippy::cast_precision_loss)]
    let hwm_kib = status_kib("VmHWM:") as f64;
    #[allow(clippy::cast_precision_loss)]
    let before_kib = before.rss_kib as f64;
    report(&[
        ("in_flight", in_flight),
        ("rss_in_flight_kib", kib_growth(&before, &arrived)),
        ("hwm_growth_kib", hwm_kib - before_kib),
        ("hwm_kib", hwm_kib),
        ("spawn_ms", ms(&before, &spawned)),
        ("start_ms", ms(&before, &arrived)),
        ("finish_ms", ms(&arrived, &done)),
        ("spawn_cpu_us", cpu_us(&before, &spawned)),
        ("start_cpu_us", cpu_us(&before, &arrived)),
        ("finish_cpu_us", cpu_us(&arrived, &done)),
        ("errors", errors),
    ]);
}
