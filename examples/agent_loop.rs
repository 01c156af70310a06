//! A scripted conversation through the generated dispatcher, against a local server playing
//! the CRM and the orders API: no real LLM, just the tool calls one would emit.
//!
//! 1. A known caller: the greeting uses the CRM's data.
//! 2. The CRM is down: the greeting is generic and says nothing about the failure.
//! 3. The caller reads out an order number: the order status is looked up (slowly: the agent
//!    says its `messages:` lines while it waits) and told. The conversation ends, and a signed
//!    post-call webhook reaches the CRM, which verifies it.
//!
//! Run it with `cargo run --example agent_loop`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use apicall_runtime::{Client, Outcome, SayReason, Secret, ToolCall, ToolEvent, Verifier};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "whsec-demo-4f3e2d1c";

/// The local server's state: whether the CRM is up, and the webhooks it accepted.
#[derive(Default)]
struct Crm {
    up: AtomicBool,
    call_logs: Mutex<Vec<Value>>,
}

mod agent {
    apicall_macros::include_api_calls!("agent.yaml");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let state = Arc::new(Crm::default());
    state.up.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/api/customers", get(crm))
        .route("/orders/{order_id}", get(orders))
        .route("/hooks/call-ended", post(call_ended))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::new().with_base_url(&format!("http://{address}"))?;

    // The LLM is handed these tool definitions.
    let tools: Vec<Value> = agent::TOOLS.iter().map(|tool| tool.to_openai()).collect();
    println!("tools for the LLM: {}\n", serde_json::to_string(&tools)?);

    println!("== conversation 1: a known caller");
    let greeting = start_conversation(&client).await;
    assert_eq!(
        greeting,
        "Hello Ada Lovelace! I see you're a gold member. Your last order is A-1042. How can I help?"
    );

    println!("\n== conversation 2: the CRM is down");
    state.up.store(false, Ordering::SeqCst);
    let greeting = start_conversation(&client).await;
    assert_eq!(greeting, "Hello there! How can I help?");

    println!("\n== conversation 3: an order number read out");
    state.up.store(true, Ordering::SeqCst);
    // A session keeps the context and what each call extracted; it is what an agent persists.
    let mut session = agent::Session::new(caller());
    start(&client, &session.context, &mut session.api).await;
    println!("caller:  It's about order A dash one zero four two.");
    // The LLM extracted the order number and called the tool, arguments as JSON text.
    let call = ToolCall::from_json_arguments(
        Some("call_2".into()),
        "order_status",
        r#"{"order_id": "A-1042"}"#,
    )?;
    // A voice pipeline would hand each line to its text-to-speech as it comes.
    let started = std::time::Instant::now();
    let mut fillers = Vec::new();
    let result = session
        .dispatch_with_events(&client, &call, &mut |event| {
            if let ToolEvent::Say { text, reason, .. } = event {
                let at = started.elapsed().as_millis();
                println!("agent:   {text}   (said at {at} ms: {reason:?})");
                fillers.push(reason);
            }
        })
        .await;
    println!("tool:    {} -> {}", result.name, result.content);
    // The orders API takes 600 ms: the start line at once, the filler at 300 ms.
    assert_eq!(fillers, [SayReason::Start, SayReason::Delayed]);
    let answer = session.render_order_update();
    println!("agent:   {answer}");
    assert_eq!(answer, "Your order is out for delivery.");

    println!("caller:  Great, thanks. Bye!");
    // The conversation ends: the webhook goes out in the background, and the agent is free.
    let delivery = session.finish(&client, Outcome::Completed);
    println!("agent:   (conversation over; the post-call webhook is on its way)");
    for result in delivery.wait().await {
        let delivered = result?;
        println!(
            "webhook: {} delivered in {} attempt(s), idempotency key {}",
            delivered.webhook, delivered.attempts, delivered.idempotency_key
        );
    }
    let logs = state.call_logs.lock().map_err(|_| "poisoned")?.clone();
    println!(
        "crm:     verified and stored {}",
        serde_json::to_string(&logs)?
    );
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["customer"], "Ada Lovelace");
    assert_eq!(logs[0]["order"], "out for delivery");
    assert_eq!(logs[0]["outcome"], "completed");
    assert_eq!(logs[0]["conversation"], session.conversation.id.as_str());
    Ok(())
}

fn caller() -> agent::Context {
    agent::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("demo-key-123"),
        webhook_secret: Secret::new(WEBHOOK_SECRET),
    }
}

/// The call starts: the LLM looks the caller up, and the agent greets them.
async fn start_conversation(client: &Client) -> String {
    let context = caller();
    let mut api = agent::ApiValues::default();
    start(client, &context, &mut api).await
}

async fn start(client: &Client, context: &agent::Context, api: &mut agent::ApiValues) -> String {
    let call = ToolCall {
        id: Some("call_1".into()),
        name: "lookup_customer".into(),
        arguments: json!({}),
    };
    let result = agent::dispatch(client, context, api, &call).await;
    // The LLM sees only `content`; the error is for the agent's logs.
    println!("tool:    {} -> {}", result.name, result.content);
    if let Some(error) = &result.error {
        println!("log:     {error}");
    }
    let greeting = agent::render_greeting(context, api);
    println!("agent:   {greeting}");
    greeting
}

async fn crm(State(crm): State<Arc<Crm>>) -> Result<Json<Value>, StatusCode> {
    if !crm.up.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(Json(json!({
        "customer": {"name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042"}
    })))
}

/// The orders API, slow enough that a caller would notice the silence.
async fn orders(Path(order_id): Path<String>) -> Result<Json<Value>, StatusCode> {
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    match order_id.as_str() {
        "A-1042" => Ok(Json(json!({"order": {"status": "out for delivery"}}))),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

/// The CRM's webhook endpoint, as a user's service would write it: verify, then store.
async fn call_ended(State(crm): State<Arc<Crm>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verifier = Verifier::new(Secret::new(WEBHOOK_SECRET));
    if let Err(error) = verifier.verify(&headers, &body) {
        println!("crm:     refused a webhook: {error}");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(log) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match crm.call_logs.lock() {
        Ok(mut logs) => {
            logs.push(log);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
