use serde_json::json;

use super::*;

const TOOL: ToolDefinition = ToolDefinition {
    name: "order_status",
    description: "Fetch order status",
    parameters: r#"{"type":"object","properties":{"order_id":{"type":"string"},"size":{"type":"integer","enum":[10,12]}},"required":["order_id"],"additionalProperties":false}"#,
    output: r#"{"type":"object","properties":{"state":{"type":["string","null"]}},"required":["state"],"additionalProperties":false}"#,
};

#[test]
fn openai_shape() {
    let tool = TOOL.to_openai();
    assert_eq!(tool["type"], "function");
    assert_eq!(tool["function"]["name"], "order_status");
    assert_eq!(tool["function"]["strict"], true);
    assert_eq!(tool["function"]["parameters"]["required"][0], "order_id");
}

#[test]
fn openai_strict_mode_makes_optional_parameters_required_and_nullable() {
    let parameters = json!({
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "speed": {"type": "string", "enum": ["standard", "express"]},
            "gift": {"type": "boolean"}
        },
        "required": ["order_id"],
        "additionalProperties": false
    });
    let tool = openai_tool("order", "d", parameters);
    let schema = &tool["function"]["parameters"];
    assert_eq!(schema["required"], json!(["gift", "order_id", "speed"]));
    assert_eq!(schema["properties"]["order_id"]["type"], "string");
    assert_eq!(
        schema["properties"]["gift"]["type"],
        json!(["boolean", "null"])
    );
    assert_eq!(
        schema["properties"]["speed"]["enum"],
        json!(["standard", "express", null])
    );
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn responses_is_flat_and_strict() {
    let tool = TOOL.to_openai_responses();
    assert_eq!(tool["type"], "function");
    assert_eq!(tool["name"], "order_status");
    assert_eq!(tool["strict"], true);
    assert_eq!(
        tool["parameters"],
        TOOL.to_openai()["function"]["parameters"]
    );
}

#[test]
fn anthropic_shape() {
    let tool = TOOL.to_anthropic();
    assert_eq!(tool["name"], "order_status");
    assert_eq!(tool["description"], "Fetch order status");
    assert_eq!(tool["strict"], true);
    assert_eq!(tool["input_schema"], TOOL.parameters());
}

#[test]
fn gemini_takes_json_schema_and_mcp_both_schemas() {
    let gemini = TOOL.to_gemini();
    assert_eq!(gemini["parametersJsonSchema"], TOOL.parameters());
    assert_eq!(gemini["responseJsonSchema"], TOOL.output());
    let mcp = TOOL.to_mcp();
    assert_eq!(mcp["inputSchema"], TOOL.parameters());
    assert_eq!(mcp["outputSchema"], TOOL.output());
}

#[test]
fn gemini_openapi_leaves_out_what_the_subset_rejects() {
    let tool = TOOL.to_gemini_openapi();
    let parameters = &tool["parameters"];
    assert_eq!(
        *parameters,
        json!({
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "size": {"type": "integer", "description": "One of: 10, 12."}
            },
            "required": ["order_id"]
        })
    );
    assert_eq!(
        tool["response"]["properties"]["state"],
        json!({"type": "string", "nullable": true})
    );
    let enums =
        gemini_openapi_schema(json!({"type": ["string", "null"], "enum": ["a", "b", null]}));
    assert_eq!(
        enums,
        json!({"type": "string", "nullable": true, "enum": ["a", "b"], "format": "enum"})
    );
}

#[test]
fn targets_read_back_their_names() {
    for target in ToolTarget::ALL {
        assert_eq!(target.name().parse::<ToolTarget>(), Ok(target));
    }
    assert!("gpt".parse::<ToolTarget>().is_err());
}

#[test]
fn gemini_openapi_leaves_out_empty_objects() {
    let tool = tool_for(
        ToolTarget::GeminiOpenApi,
        "ping",
        "d",
        json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false}),
        json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false}),
    );
    assert_eq!(tool, json!({"name": "ping", "description": "d"}));
}

#[test]
fn integer_choices_follow_the_description_as_a_sentence() {
    let schema = |description: &str| {
        gemini_openapi_schema(
            json!({"type": "integer", "enum": [10, 12], "description": description}),
        )["description"]
            .clone()
    };
    assert_eq!(
        schema("Diameter in inches"),
        "Diameter in inches. One of: 10, 12."
    );
    assert_eq!(
        schema("Diameter in inches."),
        "Diameter in inches. One of: 10, 12."
    );
}
