//! Load, side by side: 10,000 generated `order_status` calls, 256 in flight at a time, through
//! one `apicall_runtime::Client`, against the same calls written by hand with reqwest and serde,
//! in the same process and against the same loopback server. The two sides alternate (a
//! warm-up round each, then `apicall, by hand, by hand, apicall, apicall, by hand`, so a drift
//! of the machine hits both alike), and a table gives per side: p50 / p99 / max latency,
//! throughput, CPU time per call (client and server threads apart, from
//! `/proc/self/task/*/schedstat`), peak memory per phase, connections opened and the size of a
//! call's future, with the ratio apicall / hand-written. The goal: apicall's p99 at
//! most 1.05x hand-written's.
//!
//! Run: `cargo bench -p apicall-benches --bench load`
//!
//! Knobs (environment): `LOAD_CALLS` (10000), `LOAD_CONCURRENCY` (256), `LOAD_ROUNDS` (3 per
//! side), `LOAD_CLIENT_THREADS` and `LOAD_SERVER_THREADS` (each defaults to the number of CPUs),
//! `LOAD_SERVER=shared` to put the server on the client's runtime (the old setup, see below),
//! `LOAD_ONLY=apicall` or `LOAD_ONLY=hand-written` to run one side alone (to profile it).
//!
//! Why a plain `main` rather than criterion: what is compared here is a latency distribution
//! (p99, max) and memory under load, which criterion does not report; its mean-per-iteration
//! of a 10,000-call round would hide exactly the tail the issue is about. The per-call cost
//! without load is criterion's job in the `runtime` bench (`call` group). The baseline still
//! runs in the same process, against the same server, interleaved with apicall.
//!
//! The setup, made fair and realistic:
//! - The server runs on its own Tokio runtime and threads, so the 256 client tasks cannot
//!   starve it (the old bench spawned it on the client's runtime: a response then waited for a
//!   worker busy with client tasks, which measured the bench, not the client). It sets
//!   `TCP_NODELAY` on accepted connections, as a production server would.
//! - Both sides use an equivalent reqwest client: apicall's `Client::new()` shares one per
//!   runtime, built with `redirect::Policy::none()` and reqwest's defaults otherwise (pooling,
//!   gzip/brotli/zstd decoding; the crate features are the same for both in one process); the
//!   hand-written side builds its own the same way. Each keeps its own pool, warmed by its
//!   warm-up round, whose cold numbers (every in-flight call opening a connection) are printed
//!   apart.
//! - The hand-written call sends what the generated one sends: `GET /orders/{id}`,
//!   `User-Agent: apicall/<version>`, a 5 s timeout (the YAML's `timeout_ms`), and reads
//!   `order.status` by deserializing into serde structs; its URL is formatted and parsed by
//!   reqwest, as in the `runtime` bench's baseline. apicall parses the YAML's URL
//!   (`https://api.example.com/...`) and moves it onto the base URL at each call, as it does
//!   under `Client::with_base_url`.
//! - Load: 256 worker tasks each take the next call number until 10,000 are done (a closed
//!   loop: always 256 calls in flight), rather than 10,000 tasks queued on a semaphore.
//!
//! The old bench's tail (p99 141 ms against p50 5.4 ms) was the setup, not the client: its one
//! and only round started with a cold pool, so its first 256 calls (2.6% of them, enough to own
//! the p99) each opened a connection, and hyper's pool, racing a new connection against an idle
//! one for calls that find none, opened 350-530 in all; meanwhile 10,000 freshly spawned tasks
//! and the server shared the same two workers. With warm pools and the server apart, the two
//! sides' p99/p50 are alike. What apicall adds is CPU per call (building and checking the URL,
//! moving it onto the base URL, a bigger future to move), which on a saturated loopback shifts
//! every percentile, and memory per waiting call (the call's future, held by its task).
//!
//! Memory: before each phase the peak resident set is reset (`5` written to
//! `/proc/self/clear_refs`), and `VmHWM` is read after it; the table shows that peak and its
//! growth over the phase's starting RSS. The allocator keeps freed memory between phases, so
//! the growth is smaller after the warm-ups; compare the sides within one run. Where
//! `clear_refs` is not writable, the table says so and the peak is process-wide.

mod load_report;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apicall_runtime::{Client, Secret};
use apicall_tests::seed;
use axum::Json;
use axum::extract::Path;
use axum::routing::get;
use axum::serve::ListenerExt;
use load_report::{Cpu, Memory, Round, Side, Summary};
use serde::Deserialize;
use serde_json::json;

/// Connections the server has accepted so far.
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

/// The generated call's `User-Agent`, sent by hand too.
const USER_AGENT: &str = concat!("apicall/", env!("CARGO_PKG_VERSION"));

/// The seed's `order_status` timeout (`timeout_ms: 5000`).
const TIMEOUT: Duration = Duration::from_millis(5000);

/// What the run does, from the environment.
struct Settings {
    calls: usize,
    concurrency: usize,
    rounds: usize,
    client_threads: usize,
    server_threads: usize,
    shared_server: bool,
    /// Runs only this side (`LOAD_ONLY`), to profile it alone.
    only: Option<Side>,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse().ok())
                .filter(|&value| value > 0)
                .unwrap_or(default)
        };
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            calls: number("LOAD_CALLS", 10_000),
            concurrency: number("LOAD_CONCURRENCY", 256),
            rounds: number("LOAD_ROUNDS", 3),
            client_threads: number("LOAD_CLIENT_THREADS", cpus),
            server_threads: number("LOAD_SERVER_THREADS", cpus),
            shared_server: std::env::var("LOAD_SERVER").is_ok_and(|value| value == "shared"),
            only: match std::env::var("LOAD_ONLY").as_deref() {
                Ok("apicall") => Some(Side::Apicall),
                Ok("hand-written") => Some(Side::ByHand),
                _ => None,
            },
        }
    }

    fn describe(&self) -> String {
        let server = if self.shared_server {
            "the server shares the client's runtime".to_owned()
        } else {
            format!(
                "the server on its own runtime ({} threads)",
                self.server_threads
            )
        };
        format!(
            "{} calls x {} rounds per side, {} in flight, client runtime {} threads, {server}",
            self.calls, self.rounds, self.concurrency, self.client_threads
        )
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing to run.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let settings = Settings::from_env();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.client_threads)
        .thread_name("load-client")
        .enable_all()
        .build()
        .expect("a client runtime");
    let server_runtime = (!settings.shared_server).then(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(settings.server_threads)
            .thread_name("load-server")
            .enable_all()
            .build()
            .expect("a server runtime")
    });
    let server_handle = server_runtime
        .as_ref()
        .map_or_else(|| client_runtime.handle().clone(), |rt| rt.handle().clone());
    let address = server_handle.block_on(serve(&server_handle));
    client_runtime.block_on(compare(&settings, address));
}

/// Starts the loopback server answering `/orders/{id}` like the seed's orders API.
async fn serve(runtime: &tokio::runtime::Handle) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let listener = listener.tap_io(|stream| {
        ACCEPTED.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
    });
    let app = axum::Router::new().route(
        "/orders/{id}",
        get(|Path(id): Path<String>| async move {
            Json(json!({"order": {"id": id, "status": "shipped"}}))
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await });
    address
}

/// The response as the hand-written side reads it.
#[derive(Deserialize)]
struct OrderBody {
    order: Option<Order>,
}

#[derive(Deserialize)]
struct Order {
    status: Option<String>,
}

/// Both sides' ways to make call `i`.
struct Callers {
    apicall: Client,
    context: seed::Context,
    http: reqwest::Client,
    base: String,
}

impl Callers {
    fn new(address: SocketAddr) -> Self {
        let base = format!("http://{address}");
        Self {
            apicall: Client::new().with_base_url(&base).expect("valid base"),
            context: seed::Context {
                caller_phone: "+15551234567".to_owned(),
                api_key: Secret::new("k"),
            },
            // As apicall's shared client is built (apicall-runtime/src/client.rs).
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client"),
            base,
        }
    }

    /// Call `i` on `side`: the order's status, or what went wrong.
    async fn call(&self, side: Side, i: usize) -> Result<Option<String>, String> {
        let order_id = format!("A-{i}");
        match side {
            Side::Apicall => {
                let params = seed::OrderStatusParams { order_id };
                seed::order_status(&self.apicall, &self.context, &params)
                    .await
                    .map(|response| response.order_status)
                    .map_err(|error| error.to_string())
            }
            Side::ByHand => self
                .by_hand(&order_id)
                .await
                .map_err(|error| error.to_string()),
        }
    }

    /// The same request and extraction, written by hand with reqwest and serde.
    async fn by_hand(&self, order_id: &str) -> Result<Option<String>, reqwest::Error> {
        // As in the `runtime` bench's baseline: the URL formatted, and parsed by reqwest. The
        // ids here (`A-<n>`) need no escaping.
        let body: OrderBody = self
            .http
            .get(format!("{}/orders/{order_id}", self.base))
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .timeout(TIMEOUT)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(body.order.and_then(|order| order.status))
    }

    /// The size of each side's call future, as a task holds it.
    fn future_sizes(&self) -> (usize, usize) {
        let params = seed::OrderStatusParams {
            order_id: String::new(),
        };
        let apicall =
            std::mem::size_of_val(&seed::order_status(&self.apicall, &self.context, &params));
        let by_hand = std::mem::size_of_val(&self.by_hand(""));
        (apicall, by_hand)
    }
}

async fn compare(settings: &Settings, address: SocketAddr) {
    let callers = Arc::new(Callers::new(address));
    let memory_resets = Memory::can_reset();

    // Each side's first round opens its pool's connections: reported apart, not measured.
    let mut warm_ups = Vec::new();
    let runs = |side: &Side| settings.only.is_none_or(|only| only == *side);
    for side in [Side::Apicall, Side::ByHand]
        .iter()
        .filter(|side| runs(side))
    {
        let side = *side;
        warm_ups.push(run_round(settings, &callers, side).await);
    }
    let mut rounds = Vec::new();
    for i in 0..settings.rounds {
        let order = if i % 2 == 0 {
            [Side::Apicall, Side::ByHand]
        } else {
            [Side::ByHand, Side::Apicall]
        };
        for side in order.into_iter().filter(|side| runs(side)) {
            rounds.push(run_round(settings, &callers, side).await);
        }
    }

    let summary = Summary {
        setup: settings.describe(),
        memory_resets,
        future_sizes: callers.future_sizes(),
        warm_ups,
        rounds,
    };
    summary.print();
    assert_eq!(summary.errors(), 0, "every call must succeed");
}

/// One phase: `settings.calls` calls on `side`, `settings.concurrency` at a time.
async fn run_round(settings: &Settings, callers: &Arc<Callers>, side: Side) -> Round {
    let memory = Memory::start();
    let accepted = ACCEPTED.load(Ordering::Relaxed);
    let cpu = Cpu::now();
    let next = Arc::new(AtomicUsize::new(0));
    let calls = settings.calls;
    let started = Instant::now();
    let workers: Vec<_> = (0..settings.concurrency)
        .map(|_| {
            let callers = callers.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(calls / 64);
                let mut errors = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        break;
                    }
                    let sent = Instant::now();
                    let outcome = callers.call(side, i).await;
                    let latency = sent.elapsed();
                    match outcome {
                        Ok(Some(status)) if status == "shipped" => latencies.push((i, latency)),
                        other => errors.push(format!("{other:?}")),
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(calls);
    let mut first_wave = Vec::with_capacity(settings.concurrency);
    let mut errors = 0;
    for worker in workers {
        match worker.await {
            Ok((done, failed)) => {
                for (i, latency) in done {
                    latencies.push(latency);
                    if i < settings.concurrency {
                        first_wave.push(latency);
                    }
                }
                for failure in &failed {
                    eprintln!("{side}: call failed: {failure}");
                }
                errors += failed.len();
            }
            Err(join) => {
                eprintln!("{side}: worker failed: {join}");
                errors += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    Round {
        side,
        elapsed,
        latencies,
        first_wave,
        errors,
        connections: ACCEPTED.load(Ordering::Relaxed) - accepted,
        memory: memory.finish(),
        cpu: Cpu::now().since(cpu),
    }
}
