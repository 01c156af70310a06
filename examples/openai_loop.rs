//! From zero to a working agent on OpenAI's Chat Completions API, with async-openai as the LLM
//! client: the generated tools go to the LLM, its tool calls run through the generated
//! session, their results go back, and the LLM answers.
//!
//! Nothing leaves the machine: a local server stands in for api.openai.com (it asks for both
//! tools, then answers from what they returned) and another plays the CRM and orders API.
//! For a real model, use `OpenAIConfig::new()` as it is: it reads `OPENAI_API_KEY`.
//!
//! Run it with `cargo run --example openai_loop`.

use apicall_runtime::{Client, Secret, ToolCall};
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessageArgs,
    ChatCompletionRequestUserMessage, ChatCompletionTools, CreateChatCompletionRequestArgs,
};
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

    // The generated tools, as Chat Completions takes them.
    let tools = calls::TOOLS
        .iter()
        .map(|tool| serde_json::from_value(tool.to_openai()))
        .collect::<Result<Vec<ChatCompletionTools>, _>>()?;
    let question = "Hi, it's about my order A-1042.";
    println!("user:      {question}");
    let mut messages = vec![ChatCompletionRequestUserMessage::from(question).into()];
    let answer = loop {
        let request = CreateChatCompletionRequestArgs::default()
            .model("gpt-4.1-mini")
            .messages(messages.clone())
            .tools(tools.clone())
            .build()?;
        let reply = llm.chat().create(request).await?.choices.remove(0).message;
        let Some(tool_calls) = reply.tool_calls else {
            break reply.content.unwrap_or_default(); // no tool calls: the final answer
        };
        let mut calls = Vec::new();
        for call in &tool_calls {
            if let ChatCompletionMessageToolCalls::Function(call) = call {
                let f = &call.function;
                calls.push(ToolCall::openai(&call.id, &f.name, &f.arguments));
            }
        }
        let assistant = ChatCompletionRequestAssistantMessageArgs::default()
            .tool_calls(tool_calls)
            .build()?;
        messages.push(assistant.into());
        // One turn's calls run concurrently; each result goes back as a `tool` message.
        for result in session.dispatch_all(&client, &calls).await {
            println!("tool:      {} -> {}", result.name, result.content);
            messages.push(serde_json::from_value(result.to_openai())?);
        }
    };
    println!("assistant: {answer}");

    assert_eq!(answer, "Ada Lovelace, order A-1042 is out for delivery.");
    assert_eq!(session.api.tier.as_deref(), Some("gold")); // kept for prompts
    Ok(())
}

/// Stands in for api.openai.com's `POST /v1/chat/completions`, scripted: the first turn calls
/// both tools (they must have been offered), the next answers from the `tool` messages.
fn llm() -> axum::Router {
    axum::Router::new().route("/v1/chat/completions", post(chat_completions))
}

async fn chat_completions(Json(request): Json<Value>) -> Result<Json<Value>, StatusCode> {
    let offered = |name: &str| {
        let tools = array(&request["tools"]);
        tools.iter().any(|tool| tool["function"]["name"] == name)
    };
    if !offered("lookup_customer") || !offered("order_status") {
        return Err(StatusCode::BAD_REQUEST);
    }
    // The `tool` messages must answer the calls asked for, by their ids.
    let messages = array(&request["messages"]);
    let results: Vec<Value> = messages
        .iter()
        .filter(|message| message["role"] == "tool")
        .filter(|message| {
            ["call_1", "call_2"].contains(&message["tool_call_id"].as_str().unwrap_or(""))
        })
        .filter_map(|message| serde_json::from_str(message["content"].as_str()?).ok())
        .collect();
    let (message, finish_reason) = if results.is_empty() {
        let call = |id, name, arguments| {
            let function = json!({"name": name, "arguments": arguments});
            json!({"id": id, "type": "function", "function": function})
        };
        let tool_calls = [
            call("call_1", "lookup_customer", "{}"),
            call("call_2", "order_status", r#"{"order_id": "A-1042"}"#),
        ];
        let message = json!({"role": "assistant", "content": null, "tool_calls": tool_calls});
        (message, "tool_calls")
    } else {
        let value = |name| results.iter().find_map(|r| r[name].as_str()).unwrap_or("?");
        let (name, status) = (value("customer_name"), value("order_status"));
        let text = format!("{name}, order A-1042 is {status}.");
        (json!({"role": "assistant", "content": text}), "stop")
    };
    Ok(Json(json!({
        "id": "chatcmpl-local", "object": "chat.completion", "created": 0,
        "model": request["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    })))
}
