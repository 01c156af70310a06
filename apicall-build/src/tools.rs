//! What the LLM is told about each call: its name, when to use it (the description), and the
//! JSON Schema of its parameters. Emitted as constants and printed by `apicall tools`.

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
}

pub(crate) fn tools(file: &ir::File) -> Vec<Tool> {
    file.calls
        .iter()
        .map(|call| Tool {
            name: call.name.clone(),
            description: call.description.clone(),
            parameters: parameters_schema(call),
        })
        .collect()
}

fn parameters_schema(call: &ir::Call) -> Value {
    let mut properties = Map::new();
    for param in &call.params {
        let mut schema = match &param.ty {
            ir::ParamType::Value(ty) => json!({ "type": ty.as_str() }),
            ir::ParamType::Enum(choices) => json!({
                "type": "string",
                "enum": choices.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
            }),
        };
        if let (Some(description), Some(object)) = (&param.description, schema.as_object_mut()) {
            object.insert("description".to_owned(), json!(description));
        }
        properties.insert(param.name.clone(), schema);
    }
    let required: Vec<&str> = call
        .params
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
