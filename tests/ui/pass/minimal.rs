//! A file with no variables, parameters, response values or prompts still generates a whole,
//! warning-free API.
#![deny(warnings)]

mod calls {
    apicall_macros::include_api_calls!("minimal.yaml");
}

fn main() {
    let context = calls::Context {};
    let mut api = calls::ApiValues::default();
    let client = apicall_runtime::Client::new();
    let _ = calls::dispatch(&client, &context, &mut api, &apicall_runtime::ToolCall {
        id: None,
        name: "ping".to_owned(),
        arguments: serde_json::json!({}),
    });
    assert_eq!(calls::TOOLS[0].name, "ping");
}
