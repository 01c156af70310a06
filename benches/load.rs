//! A load run: 10,000 generated `order_status` calls, 256 at a time, through one client
//! against a loopback server. Reports errors (must be zero), p50/p99 latency and the process's
//! peak memory.
//!
//! Run: `cargo bench -p apicall-benches --bench load`

use std::sync::Arc;
use std::time::{Duration, Instant};

use apicall_runtime::{Client, Secret};
use apicall_tests::seed;
use axum::Json;
use axum::extract::Path;
use axum::routing::get;
use serde_json::json;
use tokio::sync::Semaphore;

const CALLS: usize = 10_000;
const CONCURRENCY: usize = 256;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing to run.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = axum::Router::new().route(
        "/orders/{id}",
        get(|Path(id): Path<String>| async move {
            Json(json!({"order": {"id": id, "status": "shipped"}}))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = Client::new()
        .with_base_url(&format!("http://{address}"))
        .expect("valid base");
    let context = Arc::new(seed::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("k"),
    });
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let client = client.clone();
        let context = context.clone();
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("open semaphore");
            let params = seed::OrderStatusParams {
                order_id: format!("A-{i}"),
            };
            let sent = Instant::now();
            let outcome = seed::order_status(&client, &context, &params).await;
            (sent.elapsed(), outcome.map(|r| r.order_status))
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(CALLS);
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok((latency, Ok(Some(status)))) if status == "shipped" => latencies.push(latency),
            Ok((_, outcome)) => {
                errors += 1;
                eprintln!("failed: {outcome:?}");
            }
            Err(join) => {
                errors += 1;
                eprintln!("task failed: {join}");
            }
        }
    }
    let total = started.elapsed();
    latencies.sort();
    let percentile = |p: usize| {
        latencies
            .get(latencies.len() * p / 100)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "load: {CALLS} calls, {CONCURRENCY} concurrent, {errors} errors, {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms, peak memory {}",
        CALLS as f64 / total.as_secs_f64(),
        percentile(50).as_secs_f64() * 1000.0,
        percentile(99).as_secs_f64() * 1000.0,
        peak_memory()
    );
    assert_eq!(errors, 0, "every call must succeed");
}

/// The process's peak resident memory, from Linux's /proc.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
