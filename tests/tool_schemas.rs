//! The tool definitions handed to LLMs: valid JSON Schema, what strict mode expects, and
//! arguments an LLM would send under them fit the generated params structs. Snapshotted.
//!
//! Each target's output is held to what its provider accepts: OpenAI's through async-openai's
//! own request types and MCP's through the official SDK's (rmcp), each parsed and written back
//! unchanged, so a misplaced or unknown field fails too; Anthropic's and Gemini's through their
//! documentation's rules written as checks below, each check shown to refuse a wrong shape. MCP's `outputSchema` is checked against the
//! `structuredContent` of real dispatches.

use apicall_runtime::{Client, Secret, ToolCall, ToolDefinition, ToolResult, ToolTarget};
use apicall_tests::{parameters, seed};
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestToolMessageContent, ChatCompletionTools,
};
use async_openai::types::responses::{FunctionCallOutput, InputItem, Item, Tool};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

/// Only MCP takes names this long: compiled for that target alone.
mod mcp_only {
    apicall_macros::include_api_calls!("fixtures/long_names.yaml", targets = ["mcp"]);
}

/// The fixtures every target's output is checked for: the seed, and every parameter type.
const FIXTURES: [(&str, &[ToolDefinition]); 2] = [
    ("seed", apicall_tests::seed::TOOLS),
    ("parameters", apicall_tests::parameters::TOOLS),
];

fn fixture_tools() -> impl Iterator<Item = &'static ToolDefinition> {
    FIXTURES.into_iter().flat_map(|(_, tools)| tools.iter())
}

/// One snapshot per fixture and target (12), each reviewed against the provider's docs.
#[test]
fn every_target_snapshot() {
    for (fixture, tools) in FIXTURES {
        for target in ToolTarget::ALL {
            let lowered: Vec<Value> = tools.iter().map(|tool| tool.to_target(target)).collect();
            insta::assert_json_snapshot!(format!("{fixture}_{target}"), lowered);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAI: async-openai's request types.

/// `value` as async-openai's `T`, which must write it back unchanged: serde skips fields a type
/// does not know, so a field in the wrong place, or one OpenAI does not define, fails here.
fn parse_exact<T: DeserializeOwned + Serialize>(value: &Value) -> Result<T, String> {
    let parsed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let written = serde_json::to_value(&parsed).map_err(|e| e.to_string())?;
    if written == *value {
        Ok(parsed)
    } else {
        Err(format!("read as {written}"))
    }
}

#[test]
fn openai_tools_are_async_openai_chat_and_responses_tools() {
    for tool in fixture_tools() {
        let chat = parse_exact::<ChatCompletionTools>(&tool.to_openai())
            .unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        let ChatCompletionTools::Function(chat) = chat else {
            panic!("{}: not a function tool", tool.name);
        };
        assert_eq!(chat.function.name, tool.name);
        assert_eq!(chat.function.strict, Some(true));

        let responses = parse_exact::<Tool>(&tool.to_openai_responses())
            .unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        let Tool::Function(responses) = responses else {
            panic!("{}: not a function tool", tool.name);
        };
        assert_eq!(responses.name, tool.name);
        assert_eq!(responses.strict, Some(true));
        // Both APIs get the same strict schema.
        assert_eq!(responses.parameters, chat.function.parameters);
    }
}

#[test]
fn async_openai_types_refuse_the_wrong_shapes() {
    let tool = &apicall_tests::seed::TOOLS[1];
    // Each API's tool is not the other's.
    assert!(parse_exact::<ChatCompletionTools>(&tool.to_openai_responses()).is_err());
    assert!(parse_exact::<Tool>(&tool.to_openai()).is_err());
    // `strict` outside `function` is read without it, and so refused.
    let mut misplaced = tool.to_openai();
    let strict = misplaced["function"]
        .as_object_mut()
        .and_then(|f| f.remove("strict"));
    misplaced["strict"] = strict.unwrap_or_default();
    assert!(parse_exact::<ChatCompletionTools>(&misplaced).is_err());
    let mut unknown = tool.to_openai_responses();
    unknown["input_schema"] = tool.parameters();
    assert!(parse_exact::<Tool>(&unknown).is_err());

    let result = ToolResult {
        id: Some("call_1".to_owned()),
        name: "order_status".to_owned(),
        content: json!({"order_status": "shipped"}),
        error: None,
    };
    assert!(parse_exact::<InputItem>(&result.to_openai()).is_err());
    assert!(parse_exact::<ChatCompletionRequestMessage>(&result.to_openai_responses()).is_err());
    // A result without the call's id answers no call: both APIs refuse it.
    let no_id = ToolResult { id: None, ..result };
    assert!(parse_exact::<ChatCompletionRequestMessage>(&no_id.to_openai()).is_err());
    let mut output_as_object = no_id.to_openai_responses();
    output_as_object["call_id"] = json!("call_1");
    output_as_object["output"] = json!({"order_status": "shipped"});
    assert!(parse_exact::<InputItem>(&output_as_object).is_err());
}

/// A result as Chat Completions' `tool` message and the Responses API's `function_call_output`
/// item, each answering its call by id, with the content as JSON text.
fn assert_openai_results(result: &ToolResult) {
    let id = result.id.as_deref().expect("OpenAI calls have ids");
    let text = result.content.to_string();
    let message = parse_exact::<ChatCompletionRequestMessage>(&result.to_openai())
        .unwrap_or_else(|e| panic!("{}: {e}", result.name));
    let ChatCompletionRequestMessage::Tool(message) = message else {
        panic!("{}: not a tool message", result.name);
    };
    assert_eq!(message.tool_call_id, id);
    assert_eq!(
        message.content,
        ChatCompletionRequestToolMessageContent::Text(text.clone())
    );

    let item = parse_exact::<InputItem>(&result.to_openai_responses())
        .unwrap_or_else(|e| panic!("{}: {e}", result.name));
    let InputItem::Item(Item::FunctionCallOutput(output)) = item else {
        panic!("{}: not a function_call_output item: {item:?}", result.name);
    };
    assert_eq!(output.call_id.as_deref(), Some(id));
    assert_eq!(output.output, FunctionCallOutput::Text(text));
}

// ---------------------------------------------------------------------------------------------
// MCP: the official Rust SDK's types.

#[test]
fn mcp_tools_are_rmcp_tools() {
    for tool in fixture_tools() {
        let parsed = parse_exact::<rmcp::model::Tool>(&tool.to_mcp())
            .unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        assert_eq!(parsed.name, tool.name);
        assert!(parsed.output_schema.is_some(), "{}", tool.name);
    }
    let tool = &apicall_tests::seed::TOOLS[1];
    assert!(parse_exact::<rmcp::model::Tool>(&tool.to_anthropic()).is_err());
    let mut snake_case = tool.to_mcp();
    snake_case["output_schema"] = tool.output();
    assert!(parse_exact::<rmcp::model::Tool>(&snake_case).is_err());
}

/// A result as MCP's `CallToolResult`: the text block, `isError`, and `structuredContent` on
/// success.
fn assert_mcp_result(result: &ToolResult) {
    let parsed = parse_exact::<rmcp::model::CallToolResult>(&result.to_mcp())
        .unwrap_or_else(|e| panic!("{}: {e}", result.name));
    assert_eq!(parsed.is_error, Some(result.is_error()));
    assert_eq!(
        parsed.structured_content,
        result.is_ok().then(|| result.content.clone())
    );
    let mut snake_case = result.to_mcp();
    let is_error = snake_case.as_object_mut().and_then(|o| o.remove("isError"));
    snake_case["is_error"] = is_error.unwrap_or_default();
    assert!(parse_exact::<rmcp::model::CallToolResult>(&snake_case).is_err());
}

// ---------------------------------------------------------------------------------------------
// The other targets: their documentation's rules, as checks that list what breaks them.

/// Every subschema (properties, array items, `anyOf` choices) with where it is.
fn subschemas<'a>(schema: &'a Value, at: &str, found: &mut Vec<(String, &'a Value)>) {
    found.push((at.to_owned(), schema));
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            subschemas(property, &format!("{at}.{name}"), found);
        }
    }
    if !schema["items"].is_null() {
        subschemas(&schema["items"], &format!("{at}[]"), found);
    }
    for choice in schema["anyOf"].as_array().into_iter().flatten() {
        subschemas(choice, at, found);
    }
}

fn all_subschemas(schema: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    subschemas(schema, "", &mut found);
    found
}

fn is_object_type(schema: &Value) -> bool {
    schema["type"] == "object"
        || schema["type"]
            .as_array()
            .is_some_and(|types| types.contains(&json!("object")))
}

fn sorted_keys(schema: &Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> = match &schema[key] {
        Value::Object(members) => members.keys().cloned().collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or("?").into())
            .collect(),
        _ => Vec::new(),
    };
    names.sort_unstable();
    names
}

/// OpenAI strict mode (platform.openai.com/docs/guides/structured-outputs#supported-schemas):
/// the root is an object, and every object has `additionalProperties: false` and lists all its
/// properties in `required` (an optional one is nullable instead).
fn openai_strict_problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if schema["type"] != "object" {
        problems.push("the root is not an object".to_owned());
    }
    for (at, node) in all_subschemas(schema) {
        if !is_object_type(node) {
            continue;
        }
        if node["additionalProperties"] != false {
            problems.push(format!("{at}: additionalProperties is not false"));
        }
        if !node["properties"].is_object() {
            problems.push(format!("{at}: no properties"));
        }
        if sorted_keys(node, "required") != sorted_keys(node, "properties") {
            problems.push(format!("{at}: not every property is required"));
        }
    }
    problems
}

/// What Gemini's `Schema` (the OpenAPI 3.0 subset of `parameters` and `response`,
/// ai.google.dev/api/caching#Schema) has fields for.
const GEMINI_OPENAPI_FIELDS: [&str; 22] = [
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Gemini's legacy `parameters`/`response`: only the Schema's fields (so no
/// `additionalProperties`, `$schema` or `const`), one type per schema (no type arrays: `nullable`
/// instead), no OBJECT without properties, enums of strings only, on strings.
fn gemini_openapi_problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (at, node) in all_subschemas(schema) {
        for key in node.as_object().into_iter().flat_map(|o| o.keys()) {
            if !GEMINI_OPENAPI_FIELDS.contains(&key.as_str()) {
                problems.push(format!("{at}: `{key}` is not a Schema field"));
            }
        }
        let ty = node["type"].as_str().map(str::to_ascii_uppercase);
        let types = [
            "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
        ];
        if !ty.as_deref().is_some_and(|ty| types.contains(&ty)) {
            problems.push(format!("{at}: type {} is not one Type", node["type"]));
        }
        if ty.as_deref() == Some("OBJECT") && sorted_keys(node, "properties").is_empty() {
            problems.push(format!("{at}: an OBJECT without properties"));
        }
        if let Some(choices) = node["enum"].as_array()
            && (ty.as_deref() != Some("STRING") || !choices.iter().all(Value::is_string))
        {
            problems.push(format!("{at}: an enum that is not of strings"));
        }
        let properties = sorted_keys(node, "properties");
        if let Some(missing) =
            (sorted_keys(node, "required").into_iter()).find(|name| !properties.contains(name))
        {
            problems.push(format!("{at}: `{missing}` is required but not a property"));
        }
    }
    problems
}

/// What Gemini reads in a JSON Schema (`parametersJsonSchema`, `responseJsonSchema`;
/// ai.google.dev/api/generate-content#FIELDS.response_json_schema): "only the following
/// properties are supported", enums of strings and numbers.
const GEMINI_JSON_SCHEMA_KEYWORDS: [&str; 21] = [
    "$id",
    "$defs",
    "$ref",
    "$anchor",
    "type",
    "format",
    "title",
    "description",
    "enum",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "anyOf",
    "oneOf",
    "properties",
    "additionalProperties",
    "required",
    "propertyOrdering",
];

/// A JSON Schema (draft 2020-12, MCP's default dialect) of an object: compiles, and its root
/// takes an object, as Gemini's `parametersJsonSchema` and MCP's `inputSchema`/`outputSchema`
/// must.
fn object_json_schema_problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(error) = jsonschema::draft202012::new(schema) {
        problems.push(format!("not a JSON Schema: {error}"));
    }
    if schema["type"] != "object" {
        problems.push("the root is not an object".to_owned());
    }
    problems
}

fn gemini_json_schema_problems(schema: &Value) -> Vec<String> {
    let mut problems = object_json_schema_problems(schema);
    for (at, node) in all_subschemas(schema) {
        for key in node.as_object().into_iter().flat_map(|o| o.keys()) {
            if !GEMINI_JSON_SCHEMA_KEYWORDS.contains(&key.as_str()) {
                problems.push(format!("{at}: Gemini does not read `{key}`"));
            }
        }
        let choices = node["enum"].as_array().into_iter().flatten();
        if let Some(choice) = choices.clone().find(|c| !(c.is_string() || c.is_number())) {
            problems.push(format!(
                "{at}: enum value {choice} is not a string or number"
            ));
        }
    }
    problems
}

/// Anthropic (docs.claude.com/en/docs/agents-and-tools/tool-use/implement-tool-use and the
/// strict tool use of structured outputs): `input_schema` is a JSON Schema of an object, and
/// with `strict: true` every object has `additionalProperties: false`.
fn anthropic_problems(tool: &Value) -> Vec<String> {
    let schema = &tool["input_schema"];
    let mut problems = object_json_schema_problems(schema);
    if tool["strict"] == true {
        for (at, node) in all_subschemas(schema) {
            if is_object_type(node) && node["additionalProperties"] != false {
                problems.push(format!("{at}: additionalProperties is not false"));
            }
        }
    }
    problems
}

#[test]
fn openai_parameters_follow_strict_mode_for_both_apis() {
    for tool in fixture_tools() {
        for parameters in [
            &tool.to_openai()["function"]["parameters"],
            &tool.to_openai_responses()["parameters"],
        ] {
            assert_eq!(openai_strict_problems(parameters), [""; 0], "{}", tool.name);
        }
    }
}

#[test]
fn gemini_openapi_uses_only_the_openapi_subset() {
    for tool in fixture_tools() {
        let lowered = tool.to_gemini_openapi();
        for field in ["parameters", "response"] {
            if lowered[field].is_null() {
                // Left out only when there is nothing to describe, as Gemini documents.
                let canonical = if field == "parameters" {
                    tool.parameters()
                } else {
                    tool.output()
                };
                assert_eq!(canonical["properties"], json!({}), "{}.{field}", tool.name);
                continue;
            }
            assert_eq!(
                gemini_openapi_problems(&lowered[field]),
                [""; 0],
                "{}",
                tool.name
            );
        }
    }
}

#[test]
fn gemini_json_schemas_are_json_schemas_gemini_reads() {
    for tool in fixture_tools() {
        let lowered = tool.to_gemini();
        for field in ["parametersJsonSchema", "responseJsonSchema"] {
            let problems = gemini_json_schema_problems(&lowered[field]);
            assert_eq!(problems, [""; 0], "{}.{field}", tool.name);
        }
    }
}

#[test]
fn anthropic_input_schemas_are_strict_object_schemas() {
    for tool in fixture_tools() {
        let lowered = tool.to_anthropic();
        assert_eq!(lowered["strict"], true);
        assert_eq!(anthropic_problems(&lowered), [""; 0], "{}", tool.name);
    }
}

#[test]
fn mcp_schemas_are_json_schemas_of_objects() {
    for tool in fixture_tools() {
        let lowered = tool.to_mcp();
        for field in ["inputSchema", "outputSchema"] {
            let problems = object_json_schema_problems(&lowered[field]);
            assert_eq!(problems, [""; 0], "{}.{field}", tool.name);
        }
    }
}

/// Each rule refuses the shape it is there for: a test that could not fail would prove nothing.
#[test]
fn the_rules_refuse_what_the_providers_refuse() {
    let strict = apicall_tests::parameters::TOOLS[0].to_openai()["function"]["parameters"].clone();
    let mut open = strict.clone();
    open["properties"]["delivery"]["additionalProperties"] = json!(true);
    assert_eq!(
        openai_strict_problems(&open),
        [".delivery: additionalProperties is not false"]
    );
    let mut optional = strict.clone();
    optional["properties"]["slices"]["items"]["required"] = json!(["share"]);
    assert_eq!(
        openai_strict_problems(&optional),
        [".slices[]: not every property is required"]
    );
    // The canonical schema (optional properties left out of `required`) is not strict.
    assert!(!openai_strict_problems(&apicall_tests::parameters::TOOLS[0].parameters()).is_empty());

    // Gemini's legacy subset refuses what the canonical schema has.
    let canonical = apicall_tests::parameters::TOOLS[0].parameters();
    let problems = gemini_openapi_problems(&canonical);
    for expected in [
        ": `additionalProperties` is not a Schema field",
        ".size: an enum that is not of strings",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "{expected}: {problems:?}"
        );
    }
    assert!(
        gemini_openapi_problems(&strict)
            .iter()
            .any(|p| p.starts_with(".delivery: type [\"object\",\"null\"]"))
    );
    let schema_keyword = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                "type": "object", "properties": {"a": {"const": "x", "type": "string"}}});
    assert_eq!(
        gemini_openapi_problems(&schema_keyword),
        [
            ": `$schema` is not a Schema field",
            ".a: `const` is not a Schema field"
        ]
    );
    let empty = apicall_tests::seed::TOOLS[0].parameters();
    assert!(gemini_openapi_problems(&empty).contains(&": an OBJECT without properties".to_owned()));

    // JSON Schema: one that does not compile, one whose root is not an object, and a keyword
    // Gemini does not read.
    assert_eq!(
        object_json_schema_problems(&json!({"type": "object", "minProperties": -1})).len(),
        1
    );
    assert_eq!(
        object_json_schema_problems(&json!({"type": "array", "items": {}})),
        ["the root is not an object"]
    );
    assert_eq!(
        gemini_json_schema_problems(&json!({"type": "object", "properties": {"a": {"const": 1}}})),
        [".a: Gemini does not read `const`"]
    );
    let mut anthropic = apicall_tests::parameters::TOOLS[0].to_anthropic();
    anthropic["input_schema"]["properties"]["delivery"]
        .as_object_mut()
        .map(|delivery| delivery.remove("additionalProperties"));
    assert_eq!(
        anthropic_problems(&anthropic),
        [".delivery: additionalProperties is not false"]
    );
}

// ---------------------------------------------------------------------------------------------
// Tool names.

/// The tool's name where `target` puts it.
fn lowered_name(target: ToolTarget, tool: &Value) -> String {
    let name = match target {
        ToolTarget::OpenAi => &tool["function"]["name"],
        _ => &tool["name"],
    };
    name.as_str().unwrap_or_default().to_owned()
}

/// Whether `name` is one `target` takes:
/// - OpenAI (both APIs) and Anthropic: `^[a-zA-Z0-9_-]{1,64}$`;
/// - Gemini (both): starts with a letter or an underscore, then letters, digits, `_`, `.`,
///   `:` and `-`, at most 64 (ai.google.dev/api/caching#FunctionDeclaration);
/// - MCP: 1 to 128 of letters, digits, `_`, `-` and `.`
///   (modelcontextprotocol.io/specification/2025-11-25/server/tools#tool-names).
fn name_fits(target: ToolTarget, name: &str) -> bool {
    let (max, extra): (usize, &[u8]) = match target {
        ToolTarget::Gemini | ToolTarget::GeminiOpenApi => (64, b"_.:-"),
        ToolTarget::Mcp => (128, b"_.-"),
        _ => (64, b"_-"),
    };
    let chars_fit = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b));
    let starts_fit = match target {
        ToolTarget::Gemini | ToolTarget::GeminiOpenApi => {
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        }
        _ => true,
    };
    (1..=max).contains(&name.len()) && chars_fit && starts_fit
}

#[test]
fn every_tool_name_fits_every_target() {
    let every_fixture = [
        apicall_tests::seed::TOOLS,
        apicall_tests::language::TOOLS,
        apicall_tests::webhooks::TOOLS,
        apicall_tests::messages::TOOLS,
        apicall_tests::background::TOOLS,
        apicall_tests::prompts::TOOLS,
        apicall_tests::parameters::TOOLS,
    ];
    for tool in every_fixture.into_iter().flatten() {
        for target in ToolTarget::ALL {
            let name = lowered_name(target, &tool.to_target(target));
            assert_eq!(name, tool.name, "{target}");
            assert!(name_fits(target, &name), "{target}: {name}");
        }
    }
    // The file only MCP takes: its 72-character name fits MCP, and would fit no other target.
    let long = mcp_only::TOOLS[0];
    assert!(name_fits(
        ToolTarget::Mcp,
        &lowered_name(ToolTarget::Mcp, &long.to_mcp())
    ));
    for target in ToolTarget::ALL
        .into_iter()
        .filter(|t| *t != ToolTarget::Mcp)
    {
        assert!(!name_fits(target, long.name), "{target}");
    }
    let (long_64, long_128) = ("a".repeat(65), "a".repeat(129));
    for (target, refused) in [
        (ToolTarget::OpenAi, "look.up"),
        (ToolTarget::Anthropic, "look up"),
        (ToolTarget::Gemini, "1st_lookup"),
        (ToolTarget::GeminiOpenApi, long_64.as_str()),
        (ToolTarget::Mcp, ""),
        (ToolTarget::Mcp, long_128.as_str()),
    ] {
        assert!(!name_fits(target, refused), "{target}: {refused}");
    }
}

// ---------------------------------------------------------------------------------------------
// Results of real dispatches: OpenAI's types, and MCP's `structuredContent` against the tool's
// `outputSchema`.

fn call(name: &str, arguments: Value) -> ToolCall {
    ToolCall {
        id: Some(format!("call_{name}")),
        name: name.to_owned(),
        arguments,
    }
}

/// One success, one failure and one refused set of arguments per tool of both fixtures, with
/// every response value there (`full`) or only the required ones.
async fn dispatched(full: bool) -> Vec<ToolResult> {
    let server = MockServer::start().await;
    let answers = if full {
        [
            (
                "/api/customers",
                json!({"customer": {"name": "Ada", "tier": "gold", "last_order": "A-1"}}),
            ),
            ("/orders/A-1", json!({"order": {"status": "shipped"}})),
            (
                "/v1/orders",
                json!({"order": {"id": "P-7", "eta_minutes": 25}}),
            ),
            ("/v1/ratings", json!({"ok": true})),
        ]
    } else {
        [
            ("/api/customers", json!({"customer": {}})),
            ("/orders/A-1", json!({})),
            ("/v1/orders", json!({"order": {"id": "P-7"}})),
            ("/v1/ratings", json!({})),
        ]
    };
    for (at, body) in answers {
        Mock::given(path(at))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    Mock::given(path("/orders/DOWN"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = Client::new()
        .with_base_url(&server.uri())
        .expect("base URL");

    let seed_context = seed::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("sk-test"),
    };
    let seed_calls = [
        call("lookup_customer", json!({})),
        call("order_status", json!({"order_id": "A-1"})),
        call("order_status", json!({"order_id": "DOWN"})),
        call("order_status", json!({"order": 1})),
    ];
    let mut results = seed::dispatch_all(
        &client,
        &seed_context,
        &mut seed::ApiValues::default(),
        &seed_calls,
    )
    .await;
    let parameters_context = parameters::Context {
        api_key: Secret::new("sk-test"),
    };
    let pizza = json!({
        "size": 12, "toppings": ["ham", "extra cheese"], "notes": null, "counts": [1, 2],
        "delivery": {"street": "1 Main St", "floor": 3, "kind": "flat", "leave_at_door": false,
                     "position": {"lat": 51.5, "lon": -0.12}},
        "slices": [{"share": 0.5, "labels": ["mine"]}],
    });
    let parameters_calls = [
        call("order_pizza", pizza),
        call(
            "rate_order",
            json!({"stars": 5, "tags": [1.5], "dish": {"name": "margherita"}}),
        ),
        call("rate_order", json!({"stars": 3})),
    ];
    results.extend(
        parameters::dispatch_all(
            &client,
            &parameters_context,
            &mut parameters::ApiValues::default(),
            &parameters_calls,
        )
        .await,
    );
    results
}

fn tool_named(name: &str) -> &'static ToolDefinition {
    fixture_tools()
        .find(|tool| tool.name == name)
        .expect("a fixture's tool")
}

#[tokio::test]
async fn results_of_real_calls_are_openai_and_mcp_results() {
    let results = dispatched(true).await;
    let failed = results.iter().filter(|r| r.is_error()).count();
    assert_eq!((results.len(), failed), (7, 3), "{results:?}");
    for result in &results {
        assert_openai_results(result);
        assert_mcp_result(result);
    }
}

#[tokio::test]
async fn mcp_structured_content_fits_the_output_schema() {
    for full in [true, false] {
        let results = dispatched(full).await;
        // Without the optional values, the successes answer `null` for them.
        let nulls = (results.iter().filter_map(|r| r.content.as_object()))
            .flat_map(|content| content.values())
            .filter(|value| value.is_null())
            .count();
        assert_eq!(nulls > 0, !full, "{results:?}");
        for result in results {
            let tool = tool_named(&result.name);
            let output_schema = tool.to_mcp()["outputSchema"].clone();
            let validator = jsonschema::draft202012::new(&output_schema).expect("a JSON Schema");
            let mcp = result.to_mcp();
            // The text block holds the same JSON, for clients that read only `content`.
            let text = mcp["content"][0]["text"].as_str().expect("a text block");
            assert_eq!(
                serde_json::from_str::<Value>(text).ok(),
                Some(result.content.clone())
            );
            assert_eq!(mcp["isError"], result.is_error());
            if result.is_error() {
                assert!(mcp.get("structuredContent").is_none(), "{mcp}");
                continue;
            }
            let structured = &mcp["structuredContent"];
            let problems: Vec<String> = validator
                .iter_errors(structured)
                .map(|e| e.to_string())
                .collect();
            assert_eq!(problems, [""; 0], "{}: {structured}", result.name);
            // …and the schema holds: drop a value, or give one the wrong type, and it refuses.
            let first = structured
                .as_object()
                .and_then(|o| o.keys().next().cloned());
            let Some(first) = first else { continue };
            let mut missing = structured.clone();
            missing.as_object_mut().map(|o| o.remove(&first));
            assert!(!validator.is_valid(&missing), "{}: {missing}", result.name);
            let mut mistyped = structured.clone();
            mistyped[&first] = json!([]);
            assert!(
                !validator.is_valid(&mistyped),
                "{}: {mistyped}",
                result.name
            );
        }
    }
}
