//! What the LLM is told about each call: its name, when to use it (the description), the
//! JSON Schema of its parameters, and the JSON Schema of what it answers (its response
//! variables). This is the one canonical schema; the runtime lowers it for each LLM API
//! (`apicall_runtime::ToolTarget`). Emitted as constants and printed by `apicall tools`.

use serde_json::{Map, Value, json};

use crate::ir;

/// One call as an LLM tool.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    /// The call's name.
    pub name: String,
    /// When the LLM should use it.
    pub description: String,
    /// The JSON Schema (an object schema) of its parameters.
    pub parameters: Value,
    /// The JSON Schema of what a successful call answers: an object with every response
    /// variable, `null` when an optional one was absent (MCP's `outputSchema`).
    pub output: Value,
}

pub(crate) fn tools(file: &ir::File) -> Vec<Tool> {
    file.calls
        .iter()
        .map(|call| Tool {
            name: call.name.clone(),
            description: call.description.clone(),
            parameters: parameters_schema(call),
            output: output_schema(call),
        })
        .collect()
}

fn parameters_schema(call: &ir::Call) -> Value {
    object_schema(&call.params)
}

/// The extracted values as the tool result's content holds them: every variable present, a
/// required one always with its value, an optional one `null` when the response lacked it.
fn output_schema(call: &ir::Call) -> Value {
    let mut properties = Map::new();
    for value in &call.responses {
        let ty = value.ty.as_str();
        let ty = if value.required {
            json!(ty)
        } else {
            json!([ty, "null"])
        };
        properties.insert(value.name.clone(), json!({ "type": ty }));
    }
    let required: Vec<&str> = call.responses.iter().map(|r| r.name.as_str()).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// An object of these members and no others; the required ones listed in `required`
/// (`openai_tool` lists them all for strict mode, making the optional ones nullable).
fn object_schema(params: &[ir::Param]) -> Value {
    let mut properties = Map::new();
    for param in params {
        let mut schema = schema_of(&param.ty);
        if let (Some(description), Some(object)) = (&param.description, schema.as_object_mut()) {
            object.insert("description".to_owned(), json!(description));
        }
        properties.insert(param.name.clone(), schema);
    }
    let required: Vec<&str> = params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name.as_str())
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The JSON Schema of one parameter's value.
fn schema_of(ty: &ir::ParamType) -> Value {
    match ty {
        ir::ParamType::Value(ty) => json!({ "type": ty.as_str() }),
        ir::ParamType::Enum { choices, .. } => json!({
            "type": "string",
            "enum": choices.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
        }),
        ir::ParamType::IntegerEnum { choices, .. } => json!({
            "type": "integer",
            "enum": choices.iter().map(|c| c.value).collect::<Vec<_>>(),
        }),
        ir::ParamType::Array(items) => json!({ "type": "array", "items": schema_of(items) }),
        ir::ParamType::Object { fields, .. } => object_schema(fields),
    }
}
