//! The runtime against hand-written code, each pair measured in the same run:
//!
//! - `call`: the generated `order_status` vs the same request written by hand with reqwest
//!   and serde, both against one loopback server (goal: at most 1.02x);
//! - `extract`: pulling 4 values out of a ~5 KB response with the generated path trie vs
//!   parsing a `serde_json::Value` and walking it vs `serde_json_path` queries (goal: at least
//!   5x faster than both).
//!
//! Run: `cargo bench -p apicall-benches --bench runtime`
//!
//! To count a call's instructions without criterion: `APICALL_CALL_ONCE=generated:1000` (or
//! `hand_written:1000`) in the environment of the bench binary (see [`run_once`]).

use std::hint::black_box;
use std::sync::OnceLock;

use apicall_runtime::call::{CallSpec, Method, PathNode, extract};
use apicall_runtime::{Client, Secret};
use apicall_tests::seed;
use axum::Json;
use axum::extract::Path;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use serde::Deserialize;
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

#[derive(Deserialize)]
struct Body {
    order: Option<Order>,
}

#[derive(Deserialize)]
struct Order {
    status: Option<String>,
}

/// The call written by hand with reqwest and serde structs.
async fn by_hand(
    http: &reqwest::Client,
    base: &str,
    params: &seed::OrderStatusParams,
) -> Result<Option<String>, reqwest::Error> {
    let url = format!("{base}/orders/{}", params.order_id);
    let response = http
        .get(url)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await?
        .error_for_status()?;
    let body: Body = response.json().await?;
    Ok(body.order.and_then(|order| order.status))
}

/// What both sides of `call` send with: a loopback server, one reqwest client under both, and
/// the seed's `order_status` arguments.
struct Sides {
    base: String,
    http: reqwest::Client,
    client: Client,
    context: seed::Context,
    params: seed::OrderStatusParams,
}

impl Sides {
    fn new() -> Self {
        let base = server();
        let http = reqwest::Client::new();
        let client = Client::with_http_client(http.clone())
            .with_base_url(&base)
            .expect("valid base");
        Self {
            base,
            http,
            client,
            context: seed::Context {
                caller_phone: "+15551234567".to_owned(),
                api_key: Secret::new("k"),
            },
            params: seed::OrderStatusParams {
                order_id: "A-1042".to_owned(),
            },
        }
    }
}

/// Runs one side of `call` `times` times after a warm-up call and exits, for a profiler:
/// `APICALL_CALL_ONCE=<generated|hand_written>:<times>` in the bench binary's environment.
fn run_once(spec: &str) {
    let (side, times) = spec
        .split_once(':')
        .and_then(|(side, times)| Some((side, times.parse::<usize>().ok()?)))
        .expect("APICALL_CALL_ONCE is `<generated|hand_written>:<times>`");
    let Sides {
        base,
        http,
        client,
        context,
        params,
    } = Sides::new();
    runtime().block_on(async {
        for _ in 0..=times {
            let status = match side {
                "generated" => {
                    seed::order_status(&client, &context, &params)
                        .await
                        .expect("ok")
                        .order_status
                }
                "hand_written" => by_hand(&http, &base, &params).await.expect("ok"),
                _ => panic!("no side `{side}`: generated or hand_written"),
            };
            black_box(status);
        }
    });
}

fn bench_call(c: &mut Criterion) {
    let Sides {
        base,
        http,
        client,
        context,
        params,
    } = Sides::new();

    let mut group = c.benchmark_group("call");
    group.bench_function("hand_written_reqwest_serde", |b| {
        b.to_async(runtime())
            .iter(|| async { black_box(by_hand(&http, &base, &params).await.expect("ok")) });
    });
    group.bench_function("generated", |b| {
        b.to_async(runtime()).iter(|| async {
            black_box(
                seed::order_status(&client, &context, &params)
                    .await
                    .expect("ok")
                    .order_status,
            )
        });
    });
    group.finish();
}

/// ~5 KB: a customer with order history, the shape a CRM returns.
fn five_kb_response() -> String {
    let orders: Vec<Value> = (0..30)
        .map(|i| {
            json!({
                "id": format!("A-{i:04}"), "status": "delivered", "total": 19.99 + f64::from(i),
                "items": [{"sku": "X-1", "qty": 1}, {"sku": "Y-2", "qty": 2}],
                "note": "Leave at the door, ring twice"
            })
        })
        .collect();
    let body = json!({
        "customer": {
            "id": 7, "name": "Ada Lovelace", "tier": "gold", "email": "ada@example.com",
            "address": {"street": "12 Analytical Way", "city": "London", "zip": "N1 9GU"},
            "last_order": "A-0029", "orders": orders
        },
        "meta": {"took_ms": 3, "request_id": "b3e1c2"}
    });
    body.to_string()
}

static SPEC: CallSpec = CallSpec {
    name: "lookup_customer",
    method: Method::Get,
    timeout_ms: 5000,
    retries: 0,
};

const fn leaf(slots: &'static [usize]) -> PathNode {
    PathNode {
        slots,
        keys: &[],
        indexes: &[],
        from_end: &[],
    }
}

/// customer.name, customer.tier, customer.address.city, customer.orders[0].status
static PATHS: PathNode = PathNode {
    slots: &[],
    keys: &[(
        "customer",
        PathNode {
            slots: &[],
            keys: &[
                ("name", leaf(&[0])),
                ("tier", leaf(&[1])),
                (
                    "address",
                    PathNode {
                        slots: &[],
                        keys: &[("city", leaf(&[2]))],
                        indexes: &[],
                        from_end: &[],
                    },
                ),
                (
                    "orders",
                    PathNode {
                        slots: &[],
                        keys: &[],
                        indexes: &[(
                            0,
                            PathNode {
                                slots: &[],
                                keys: &[("status", leaf(&[3]))],
                                indexes: &[],
                                from_end: &[],
                            },
                        )],
                        from_end: &[],
                    },
                ),
            ],
            indexes: &[],
            from_end: &[],
        },
    )],
    indexes: &[],
    from_end: &[],
};

fn bench_extract(c: &mut Criterion) {
    let body = five_kb_response();
    let bytes = body.as_bytes();
    assert!(
        (4_000..6_500).contains(&bytes.len()),
        "{} bytes",
        bytes.len()
    );
    let queries: Vec<serde_json_path::JsonPath> = [
        "$.customer.name",
        "$.customer.tier",
        "$.customer.address.city",
        "$.customer.orders[0].status",
    ]
    .iter()
    .map(|q| serde_json_path::JsonPath::parse(q).expect("valid query"))
    .collect();

    let mut group = c.benchmark_group("extract_4_of_5kb");
    group.bench_function("generated_path_trie", |b| {
        b.iter(|| {
            let mut found = extract(&SPEC, black_box(bytes), &PATHS, 4).expect("json");
            black_box((
                found.string(0, "name").expect("string"),
                found.string(1, "tier").expect("string"),
                found.string(2, "city").expect("string"),
                found.string(3, "status").expect("string"),
            ))
        });
    });
    group.bench_function("serde_json_value_walk", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_slice(black_box(bytes)).expect("json");
            let text = |pointer: &str| {
                value
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            black_box((
                text("/customer/name"),
                text("/customer/tier"),
                text("/customer/address/city"),
                text("/customer/orders/0/status"),
            ))
        });
    });
    group.bench_function("serde_json_path", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_slice(black_box(bytes)).expect("json");
            let found: Vec<Option<String>> = queries
                .iter()
                .map(|q| {
                    q.query(&value)
                        .exactly_one()
                        .ok()
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
            black_box(found)
        });
    });
    group.finish();
}

criterion_group!(benches, bench_call, bench_extract);

fn main() {
    if let Some(spec) = std::env::var_os("APICALL_CALL_ONCE") {
        run_once(&spec.to_string_lossy());
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
