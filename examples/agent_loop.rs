//! A scripted conversation through the generated dispatcher, against a local server playing
//! the CRM and the orders API: no real LLM, just the tool calls one would emit.
//!
//! 1. A known caller: the greeting uses the CRM's data.
//! 2. The CRM is down: the greeting is generic and says nothing about the failure.
//! 3. The caller reads out an order number: the order status is looked up and told.
//!
//! Run it with `cargo run --example agent_loop`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use apicall_runtime::{Client, Secret, ToolCall};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

mod agent {
    apicall_macros::include_api_calls!("agent.yaml");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crm_up = Arc::new(AtomicBool::new(true));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/api/customers", get(crm))
        .route("/orders/{order_id}", get(orders))
        .with_state(crm_up.clone());
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
    crm_up.store(false, Ordering::SeqCst);
    let greeting = start_conversation(&client).await;
    assert_eq!(greeting, "Hello there! How can I help?");

    println!("\n== conversation 3: an order number read out");
    crm_up.store(true, Ordering::SeqCst);
    let context = caller();
    let mut api = agent::ApiValues::default();
    start(&client, &context, &mut api).await;
    println!("caller:  It's about order A dash one zero four two.");
    // The LLM extracted the order number and called the tool, arguments as JSON text.
    let call = ToolCall::from_json_arguments(
        Some("call_2".into()),
        "order_status",
        r#"{"order_id": "A-1042"}"#,
    )?;
    let result = agent::dispatch(&client, &context, &mut api, &call).await;
    println!("tool:    {} -> {}", result.name, result.content);
    let answer = agent::render_order_update(&context, &api);
    println!("agent:   {answer}");
    assert_eq!(answer, "Your order is out for delivery.");
    Ok(())
}

fn caller() -> agent::Context {
    agent::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("demo-key-123"),
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

async fn crm(State(up): State<Arc<AtomicBool>>) -> Result<Json<Value>, StatusCode> {
    if !up.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(Json(json!({
        "customer": {"name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042"}
    })))
}

async fn orders(Path(order_id): Path<String>) -> Result<Json<Value>, StatusCode> {
    match order_id.as_str() {
        "A-1042" => Ok(Json(json!({"order": {"status": "out for delivery"}}))),
        _ => Err(StatusCode::NOT_FOUND),
    }
}
