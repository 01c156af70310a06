//! Tool definitions for the LLM, in the shapes the OpenAI and Anthropic APIs take.

use serde_json::{Value, json};

/// One API call as a tool the LLM may call. Generated code lists them all in `TOOLS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolDefinition {
    /// The tool's (and call's) name.
    pub name: &'static str,
    /// When the LLM should use it.
    pub description: &'static str,
    /// The JSON Schema of its arguments, as JSON text.
    pub parameters: &'static str,
}

impl ToolDefinition {
    /// The JSON Schema of the arguments.
    #[must_use]
    pub fn parameters(&self) -> Value {
        // The generator writes this text from a `serde_json::Value`; were it ever not JSON, an
        // empty object schema is the safe reading.
        serde_json::from_str(self.parameters).unwrap_or_else(|_| json!({ "type": "object" }))
    }

    /// The tool as OpenAI's chat completions `tools` take it; see [`openai_tool`].
    #[must_use]
    pub fn to_openai(&self) -> Value {
        openai_tool(self.name, self.description, self.parameters())
    }

    /// The tool as Anthropic's messages `tools` take it; see [`anthropic_tool`].
    #[must_use]
    pub fn to_anthropic(&self) -> Value {
        anthropic_tool(self.name, self.description, self.parameters())
    }
}

/// `{"type": "function", "function": {"name", "description", "parameters", "strict": true}}`.
///
/// OpenAI's strict mode wants every property listed in `required`, so an optional parameter
/// becomes required-but-nullable: the LLM sends `null` for it, which the params struct reads as
/// `None`.
#[must_use]
pub fn openai_tool(name: &str, description: &str, parameters: Value) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": strict(parameters),
            "strict": true,
        }
    })
}

fn strict(mut schema: Value) -> Value {
    make_strict(&mut schema);
    schema
}

/// Lists every property of every object in `schema` (nested ones and array items too) in
/// `required`, making the optional ones nullable.
fn make_strict(schema: &mut Value) {
    if let Some(items) = schema.get_mut("items") {
        make_strict(items);
    }
    let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    let mut all = Vec::new();
    for (name, property) in properties.iter_mut() {
        make_strict(property);
        all.push(Value::String(name.clone()));
        if required.iter().any(|r| r.as_str() == Some(name)) {
            continue;
        }
        if let Some(ty) = property.get("type").cloned() {
            property["type"] = json!([ty, "null"]);
        }
        if let Some(choices) = property.get_mut("enum").and_then(Value::as_array_mut) {
            choices.push(Value::Null);
        }
    }
    schema["required"] = Value::Array(all);
}

/// `{"name", "description", "input_schema"}`.
#[must_use]
pub fn anthropic_tool(name: &str, description: &str, parameters: Value) -> Value {
    json!({ "name": name, "description": description, "input_schema": parameters })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL: ToolDefinition = ToolDefinition {
        name: "order_status",
        description: "Fetch order status",
        parameters: r#"{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"],"additionalProperties":false}"#,
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
    fn anthropic_shape() {
        let tool = TOOL.to_anthropic();
        assert_eq!(tool["name"], "order_status");
        assert_eq!(tool["description"], "Fetch order status");
        assert_eq!(
            tool["input_schema"]["properties"]["order_id"]["type"],
            "string"
        );
    }
}
