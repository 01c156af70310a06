//! From zero to a working agent on OpenAI's Responses API, with async-openai as the LLM
//! client: the generated tools go to the LLM, its function calls run through the generated
//! session, their outputs go back (chained to the previous response), and the LLM answers.
//!
//! Nothing leaves the machine: a local server stands in for api.openai.com (it asks for both
//! tools, then answers from what they returned) and another plays the CRM and orders API.
//! For a real model, use `OpenAIConfig::new()` as it is: it reads `OPENAI_API_KEY`.
//!
//! Run it with `cargo run --example responses_loop`.

use apicall_runtime::{Client, Secret, ToolCall};
use async_openai::config::OpenAIConfig;
use async_openai::types::responses::{CreateResponseArgs, InputItem, InputParam, OutputItem, Tool};
use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

mod stand_in;

use stand_in::{array, crm, serve};

mod calls {
    apicall_macros::include_api_calls!("calls.yaml");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The calls go to a local CRM, the LLM requests to a local stand-in for api.openai.com.
    let client = Client::new().with_base_url(&serve(crm()).await?)?;
    let config = OpenAIConfig::new().with_api_base(format!("{}/v1", serve(llm()).await?));
    let llm = async_openai::Client::with_config(config.with_api_key("sk-local"));
    let mut session = calls::Session::new(calls::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("demo-key-123"),
    });

    // The generated tools, as the Responses API takes them.
    let tools = calls::TOOLS
        .iter()
        .map(|tool| serde_json::from_value(tool.to_openai_responses()))
        .collect::<Result<Vec<Tool>, _>>()?;
    let question = "Hi, it's about my order A-1042.";
    println!("user:      {question}");
    let mut request = CreateResponseArgs::default()
        .model("gpt-4.1-mini")
        .input(question)
        .tools(tools)
        .build()?;
    let answer = loop {
        let response = llm.responses().create(request.clone()).await?;
        let mut calls = Vec::new();
        for item in &response.output {
            if let OutputItem::FunctionCall(call) = item {
                calls.push(ToolCall::openai(&call.call_id, &call.name, &call.arguments));
            }
        }
        if calls.is_empty() {
            break response.output_text().unwrap_or_default(); // no calls: the final answer
        }
        // One turn's calls run concurrently; each result goes back as a
        // `function_call_output` item, in a request that continues this response.
        let mut outputs: Vec<InputItem> = Vec::new();
        for result in session.dispatch_all(&client, &calls).await {
            println!("tool:      {} -> {}", result.name, result.content);
            outputs.push(serde_json::from_value(result.to_openai_responses())?);
        }
        request.previous_response_id = Some(response.id);
        request.input = InputParam::Items(outputs);
    };
    println!("assistant: {answer}");

    assert_eq!(answer, "Ada Lovelace, order A-1042 is out for delivery.");
    assert_eq!(session.api.tier.as_deref(), Some("gold")); // kept for prompts
    Ok(())
}

/// Stands in for api.openai.com's `POST /v1/responses`, scripted: the first response calls both
/// tools (they must have been offered); the next, continuing it, answers from their outputs.
fn llm() -> axum::Router {
    axum::Router::new().route("/v1/responses", post(responses))
}

async fn responses(Json(request): Json<Value>) -> Result<Json<Value>, StatusCode> {
    let offered = |name: &str| {
        let tools = array(&request["tools"]);
        tools
            .iter()
            .any(|tool| tool["type"] == "function" && tool["name"] == name)
    };
    if !offered("lookup_customer") || !offered("order_status") {
        return Err(StatusCode::BAD_REQUEST);
    }
    let (id, output) = if request["previous_response_id"].is_null() {
        let call = |id, name, arguments| {
            json!({"type": "function_call", "id": format!("fc_{id}"), "call_id": id,
                   "name": name, "arguments": arguments, "status": "completed"})
        };
        let calls = [
            call("call_1", "lookup_customer", "{}"),
            call("call_2", "order_status", r#"{"order_id": "A-1042"}"#),
        ];
        ("resp_1", json!(calls))
    } else if request["previous_response_id"] == "resp_1" {
        // The outputs must answer the calls of resp_1, by their call ids.
        let items = array(&request["input"]);
        let outputs: Vec<Value> = items
            .iter()
            .filter(|item| item["type"] == "function_call_output")
            .filter(|item| ["call_1", "call_2"].contains(&item["call_id"].as_str().unwrap_or("")))
            .filter_map(|item| serde_json::from_str(item["output"].as_str()?).ok())
            .collect();
        let value = |name| outputs.iter().find_map(|o| o[name].as_str()).unwrap_or("?");
        let (name, status) = (value("customer_name"), value("order_status"));
        let text = format!("{name}, order A-1042 is {status}.");
        let content = json!([{"type": "output_text", "text": text, "annotations": []}]);
        let message = json!({"type": "message", "id": "msg_1", "role": "assistant",
                             "status": "completed", "content": content});
        ("resp_2", json!([message]))
    } else {
        return Err(StatusCode::BAD_REQUEST);
    };
    Ok(Json(json!({
        "id": id, "object": "response", "created_at": 0, "status": "completed",
        "model": request["model"], "output": output,
    })))
}
