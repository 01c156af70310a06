//! The canonical JSON Schema rewritten for APIs that read schemas their own way.

use serde_json::{Map, Value, json};

/// The schema for OpenAI's strict mode: every property of every object (nested ones and array
/// items too) listed in `required`, the optional ones made nullable (`["integer", "null"]`,
/// `null` added to an `enum`), so the LLM sends `null` for what it leaves out.
#[must_use]
pub fn strict_schema(mut schema: Value) -> Value {
    make_strict(&mut schema);
    schema
}

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

/// The schema in the OpenAPI 3.0 subset Gemini's legacy `parameters` and `response` fields
/// read, which answer 400 to `additionalProperties`, `$schema`, `const` and type arrays:
///
/// - `additionalProperties`, `$schema` and `const` are left out (the dispatcher still refuses
///   members the schema does not list);
/// - a type array with `"null"` becomes the other type with `nullable: true`;
/// - a string `enum` gets `format: enum`, as Gemini documents it;
/// - an integer `enum`, which the subset cannot hold (its enums are strings), becomes a plain
///   integer whose description lists the choices; the dispatcher still accepts only those.
#[must_use]
pub fn gemini_openapi_schema(schema: Value) -> Value {
    match schema {
        Value::Object(members) => Value::Object(openapi_object(members)),
        other => other,
    }
}

fn openapi_object(members: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut nullable = false;
    for (key, value) in members {
        match key.as_str() {
            "additionalProperties" | "$schema" | "const" => {}
            "type" => {
                let (ty, null) = single_type(value);
                nullable |= null;
                out.insert(key, ty);
            }
            "properties" => {
                let properties = match value {
                    Value::Object(properties) => properties
                        .into_iter()
                        .map(|(name, schema)| (name, gemini_openapi_schema(schema)))
                        .collect(),
                    other => return Map::from_iter([(key, other)]),
                };
                out.insert(key, Value::Object(properties));
            }
            "items" => {
                out.insert(key, gemini_openapi_schema(value));
            }
            _ => {
                out.insert(key, value);
            }
        }
    }
    if nullable {
        out.insert("nullable".to_owned(), Value::Bool(true));
    }
    if let Some(Value::Array(choices)) = out.get_mut("enum") {
        choices.retain(|choice| !choice.is_null());
        if choices.iter().all(Value::is_string) {
            out.insert("format".to_owned(), json!("enum"));
        } else if let Some(Value::Array(choices)) = out.remove("enum") {
            let listed: Vec<String> = choices.iter().map(Value::to_string).collect();
            let choices = format!("One of: {}.", listed.join(", "));
            let description = match out.get("description").and_then(Value::as_str) {
                // The choices are a sentence of their own after the author's.
                Some(description) if description.ends_with(['.', '!', '?']) => {
                    format!("{description} {choices}")
                }
                Some(description) => format!("{description}. {choices}"),
                None => choices,
            };
            out.insert("description".to_owned(), json!(description));
        }
    }
    out
}

/// `["integer", "null"]` as `"integer"` and whether `null` was allowed.
fn single_type(ty: Value) -> (Value, bool) {
    let Value::Array(types) = ty else {
        return (ty, false);
    };
    let null = types.iter().any(|t| t == "null");
    let mut others = types.into_iter().filter(|t| t != "null");
    let first = others.next().unwrap_or_else(|| json!("string"));
    (first, null)
}
