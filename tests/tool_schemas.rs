//! The tool definitions handed to LLMs: valid JSON Schema, what strict mode expects, and
//! arguments an LLM would send under them fit the generated params structs. Snapshotted.

use apicall_runtime::ToolDefinition;
use serde_json::{Value, json};

mod desk {
    apicall_macros::include_api_calls!("fixtures/language.yaml");
}

fn all_tools() -> Vec<&'static ToolDefinition> {
    apicall_tests::seed::TOOLS
        .iter()
        .chain(apicall_tests::language::TOOLS)
        .chain(apicall_tests::parameters::TOOLS)
        .chain(apicall_tests::messages::TOOLS)
        .collect()
}

#[test]
fn every_parameters_schema_is_a_valid_json_schema() {
    for tool in all_tools() {
        let openai = tool.to_openai();
        for schema in [tool.parameters(), openai["function"]["parameters"].clone()] {
            assert!(
                jsonschema::meta::is_valid(&schema),
                "{}: {schema}",
                tool.name
            );
            assert_eq!(schema["type"], "object");
            assert_eq!(schema["additionalProperties"], false);
        }
        let name = tool.name;
        assert!(
            (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{name}"
        );
    }
}

/// OpenAI's strict mode, at every level (objects inside arrays and objects included): no
/// other properties, and every property listed as required (optional ones are nullable).
fn assert_strict(schema: &Value, at: &str) {
    if let Some(properties) = schema["properties"].as_object() {
        assert_eq!(schema["additionalProperties"], false, "{at}");
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: no `required`"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        assert_eq!(required, names, "{at}");
        for (name, property) in properties {
            assert_strict(property, &format!("{at}.{name}"));
        }
    }
    if !schema["items"].is_null() {
        assert_strict(&schema["items"], &format!("{at}[]"));
    }
    if let Some(choices) = schema["anyOf"].as_array() {
        for choice in choices {
            assert_strict(choice, at);
        }
    }
}

#[test]
fn strict_mode_lists_every_property_as_required() {
    for tool in all_tools() {
        let openai = tool.to_openai();
        assert_strict(&openai["function"]["parameters"], tool.name);
        assert_eq!(openai["function"]["strict"], true);
    }
}

#[test]
fn arguments_valid_under_the_strict_schema_fit_the_params_struct() {
    let tool = desk::TOOLS
        .iter()
        .find(|t| t.name == "create_ticket")
        .unwrap();
    let openai = tool.to_openai();
    let validator = jsonschema::validator_for(&openai["function"]["parameters"]).unwrap();
    let arguments = json!({"summary": "no dial tone", "priority": "urgent", "callback": null});
    assert!(validator.is_valid(&arguments));
    let params: desk::CreateTicketParams = serde_json::from_value(arguments).unwrap();
    assert_eq!(params.callback, None);
    for invalid in [
        json!({"summary": "x", "priority": "critical", "callback": null}),
        json!({"summary": "x", "priority": "low"}),
        json!({"summary": "x", "priority": "low", "callback": null, "extra": 1}),
    ] {
        assert!(!validator.is_valid(&invalid), "{invalid}");
    }
}

#[test]
fn tool_definitions_snapshot() {
    let tools: Vec<Value> = desk::TOOLS
        .iter()
        .map(|tool| json!({"openai": tool.to_openai(), "anthropic": tool.to_anthropic()}))
        .collect();
    insta::assert_json_snapshot!("language_tools", tools);
}

#[test]
fn openai_definitions_and_tool_messages_fit_async_openai_request_types() {
    use async_openai::types::chat::{ChatCompletionRequestMessage, ChatCompletionTools};
    for tool in all_tools() {
        let parsed: ChatCompletionTools = serde_json::from_value(tool.to_openai())
            .unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        let ChatCompletionTools::Function(function) = parsed else {
            panic!("{} is not a function tool", tool.name);
        };
        assert_eq!(function.function.name, tool.name);
        assert_eq!(function.function.strict, Some(true));
        assert_eq!(
            function.function.parameters,
            Some(tool.to_openai()["function"]["parameters"].clone())
        );
    }
    let result = apicall_runtime::ToolResult {
        id: Some("call_1".to_owned()),
        name: "order_status".to_owned(),
        content: json!({"order_status": "shipped"}),
        error: None,
    };
    let message: ChatCompletionRequestMessage = serde_json::from_value(result.to_openai()).unwrap();
    assert!(
        matches!(message, ChatCompletionRequestMessage::Tool(_)),
        "{message:?}"
    );
}
