//! Tool calls from the LLM in, results for the LLM out. Generated `dispatch` functions use
//! these types; a failure gives the LLM a short fixed message and the agent a typed error.

use serde_json::{Value, json};

use crate::Error;
use crate::arguments::{NOT_AN_OBJECT, Param, check_arguments};

/// A tool call as the LLM returned it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ToolCall {
    /// The LLM's id for the call, echoed back in the result (OpenAI and Anthropic both use one).
    #[serde(default)]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments: a JSON object (as Anthropic's `input`), or a JSON string holding the
    /// object's text (as OpenAI's `arguments`), which the dispatcher parses.
    #[serde(default)]
    pub arguments: Value,
}

impl ToolCall {
    /// A tool call with its arguments as the JSON text OpenAI sends; text that is not JSON is
    /// reported by the dispatcher as [`DispatchError::MalformedArguments`].
    #[must_use]
    pub fn openai(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: Some(id.into()),
            name: name.into(),
            arguments: Value::String(arguments.into()),
        }
    }

    /// A tool call from its parts; `arguments` is JSON text, as OpenAI sends it.
    ///
    /// # Errors
    ///
    /// When `arguments` is not JSON.
    pub fn from_json_arguments(
        id: Option<String>,
        name: impl Into<String>,
        arguments: &str,
    ) -> Result<Self, serde_json::Error> {
        let arguments = if arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments)?
        };
        Ok(Self {
            id,
            name: name.into(),
            arguments,
        })
    }
}

/// What to hand back to the LLM for one tool call, and what went wrong, for the agent's logs.
#[derive(Debug)]
pub struct ToolResult {
    /// The tool call's id.
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// For the LLM: the extracted values as a JSON object; `{"error": "invalid arguments",
    /// "problems": [...]}` when its own arguments do not fit, each problem naming an argument
    /// and what it must be (from the parameters, never quoting what it sent); or
    /// `{"error": "<fixed message>"}` when the call failed. Never contains an error's details.
    pub content: Value,
    /// Why the call failed, for logs and metrics; `None` on success.
    pub error: Option<DispatchError>,
}

impl ToolResult {
    /// The content as the JSON text the LLM APIs take.
    fn content_text(&self) -> String {
        // Written to bytes rather than through `Display`, which goes through a formatter;
        // a `Value` always serializes.
        serde_json::to_string(&self.content).unwrap_or_default()
    }

    /// The id as a JSON value: `null` when the call had none.
    fn id_value(&self) -> Value {
        self.id.clone().map_or(Value::Null, Value::String)
    }

    /// Whether the call succeeded.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    /// Whether to flag the result as an error to the LLM (Anthropic's `is_error`).
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }

    /// The message to append for OpenAI: `{"role": "tool", "tool_call_id", "content"}`.
    #[must_use]
    pub fn to_openai(&self) -> Value {
        object([
            ("role", "tool".into()),
            ("tool_call_id", self.id_value()),
            ("content", self.content_text().into()),
        ])
    }

    /// The message of [`ToolResult::to_openai`] as JSON text (`role`, `tool_call_id`, `content`,
    /// in that order), written straight from the result rather than through a `Value`: what
    /// an agent that sends JSON text appends to its messages.
    #[must_use]
    pub fn to_openai_text(&self) -> String {
        #[derive(serde::Serialize)]
        struct Message<'a> {
            role: &'static str,
            tool_call_id: Option<&'a str>,
            content: String,
        }
        let message = Message {
            role: "tool",
            tool_call_id: self.id.as_deref(),
            content: self.content_text(),
        };
        // Strings and `null` always serialize.
        serde_json::to_string(&message).unwrap_or_default()
    }

    /// The content block for Anthropic: `{"type": "tool_result", "tool_use_id", "content",
    /// "is_error"}`.
    #[must_use]
    pub fn to_anthropic(&self) -> Value {
        object([
            ("type", "tool_result".into()),
            ("tool_use_id", self.id_value()),
            ("content", self.content_text().into()),
            ("is_error", self.is_error().into()),
        ])
    }

    /// The input item for OpenAI's Responses API: `{"type": "function_call_output",
    /// "call_id", "output"}`.
    #[must_use]
    pub fn to_openai_responses(&self) -> Value {
        object([
            ("type", "function_call_output".into()),
            ("call_id", self.id_value()),
            ("output", self.content_text().into()),
        ])
    }

    /// The part for Gemini (both declaration styles): `{"functionResponse": {"id", "name",
    /// "response"}}`, the id only when the call had one.
    #[must_use]
    pub fn to_gemini(&self) -> Value {
        let mut response = json!({ "name": self.name, "response": self.content });
        if let Some(id) = &self.id {
            response["id"] = json!(id);
        }
        json!({ "functionResponse": response })
    }

    /// The MCP `CallToolResult`: the content as text, the extracted values also as
    /// `structuredContent` (matching the tool's `outputSchema`) when the call succeeded, and
    /// `isError` when it did not.
    #[must_use]
    pub fn to_mcp(&self) -> Value {
        let mut result = json!({
            "content": [{ "type": "text", "text": self.content_text() }],
            "isError": self.is_error(),
        });
        if self.is_ok() {
            result["structuredContent"] = self.content.clone();
        }
        result
    }

    /// The result in the shape `target`'s API takes it back (Gemini's two declaration styles
    /// share one).
    #[must_use]
    pub fn to_target(&self, target: crate::ToolTarget) -> Value {
        match target {
            crate::ToolTarget::OpenAi => self.to_openai(),
            crate::ToolTarget::OpenAiResponses => self.to_openai_responses(),
            crate::ToolTarget::Anthropic => self.to_anthropic(),
            crate::ToolTarget::Gemini | crate::ToolTarget::GeminiOpenApi => self.to_gemini(),
            crate::ToolTarget::Mcp => self.to_mcp(),
        }
    }
}

/// A JSON object of these members, each value moved in as it is (`json!` would serialize
/// each one again, copying the content's text).
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    let mut object = serde_json::Map::new();
    for (key, value) in members {
        object.insert(key.to_owned(), value);
    }
    Value::Object(object)
}

/// The call's typed parameters from the tool call's arguments, checked first against `params`
/// (the same parameters, as the generator describes them); used by generated code.
///
/// # Errors
///
/// [`DispatchError::MalformedArguments`] for a string that is not JSON,
/// [`DispatchError::InvalidArguments`] for JSON that does not fit the parameters, with the
/// problems the LLM is told.
#[doc(hidden)]
pub fn arguments<P: serde::de::DeserializeOwned>(
    call: &ToolCall,
    tool: &'static str,
    params: &'static [Param],
) -> Result<P, DispatchError> {
    // Only an object without arrays in it: serde's derived structs also read a JSON array, by
    // position, which the parameters do not allow (and a struct without fields reads `[]`).
    // Text with a `[` anywhere (an array parameter, or one in a string) goes the checked way.
    if let Value::String(text) = &call.arguments
        && text.trim_start().starts_with('{')
        && !text.contains('[')
    {
        // The generated struct is exactly as strict as `params` (a required member has no
        // default, optional ones are `Option`s, `deny_unknown_fields` at every level, enums
        // take only their choices), so arguments it reads straight from the text fit them:
        // no `Value` needed. Whatever it refuses goes the checked way below, which finds the
        // problems the LLM is told.
        if let Ok(fitted) = serde_json::from_str::<P>(text) {
            debug_assert!(
                serde_json::from_str(text)
                    .is_ok_and(|value: Value| check_arguments(params, &value).is_ok()),
                "the struct for `{tool}` read arguments that do not fit its parameters"
            );
            return Ok(fitted);
        }
    }
    let parsed = match &call.arguments {
        Value::String(text) if text.trim().is_empty() => Some(json!({})),
        Value::String(text) => Some(
            serde_json::from_str(text)
                .map_err(|source| DispatchError::MalformedArguments { tool, source })?,
        ),
        Value::Null => Some(json!({})),
        _ => None,
    };
    let arguments = parsed.as_ref().unwrap_or(&call.arguments);
    check_arguments(params, arguments)
        .map_err(|problems| DispatchError::InvalidArguments { tool, problems })?;
    // Arguments that fit the description fit the struct it was generated beside. Parsed
    // here, they move into it rather than being copied.
    match parsed {
        Some(parsed) => P::deserialize(parsed).ok(),
        None => P::deserialize(&call.arguments).ok(),
    }
    .ok_or_else(|| DispatchError::InvalidArguments {
        tool,
        problems: vec![NOT_AN_OBJECT.to_owned()],
    })
}

/// Checks that a tool call of a call without parameters passes no arguments: nothing, `{}` or
/// `null`. Anything else is the LLM's mistake and goes back to it, as for a call with them;
/// used by generated code.
///
/// # Errors
///
/// As [`arguments`]: not JSON, not an object, or an object with members.
#[doc(hidden)]
pub fn no_arguments(call: &ToolCall, tool: &'static str) -> Result<(), DispatchError> {
    /// Reads only an object without members.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoArguments {}
    arguments::<NoArguments>(call, tool, &[]).map(drop)
}

/// Why a tool call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// The LLM named a tool that calls.yaml does not define.
    #[error("the LLM called an unknown tool `{name}`")]
    UnknownTool {
        /// The name it used.
        name: String,
    },
    /// The arguments are not JSON.
    #[error("the arguments for `{tool}` are not JSON: {source}")]
    MalformedArguments {
        /// The tool.
        tool: &'static str,
        /// Where the JSON broke.
        #[source]
        source: serde_json::Error,
    },
    /// The arguments do not fit the call's parameters (missing, mistyped, not in an enum,
    /// unknown...).
    #[error("the arguments for `{tool}` do not fit its parameters: {}", problems.join("; "))]
    InvalidArguments {
        /// The tool.
        tool: &'static str,
        /// What is wrong, each naming the argument and what it must be (schema text only):
        /// what the LLM is told.
        problems: Vec<String>,
    },
    /// The HTTP call failed.
    #[error(transparent)]
    Call(#[from] Error),
}

impl DispatchError {
    /// For a mistake the LLM can fix (its arguments), what it is told: each problem names an
    /// argument and what it must be, from the call's parameters only. `None` for a failure of
    /// the call itself.
    #[must_use]
    pub fn problems(&self) -> Option<Vec<String>> {
        match self {
            DispatchError::MalformedArguments { .. } => Some(vec![NOT_AN_OBJECT.to_owned()]),
            DispatchError::InvalidArguments { problems, .. } => Some(problems.clone()),
            DispatchError::UnknownTool { .. } | DispatchError::Call(_) => None,
        }
    }
}

/// Builds the result of one tool call; used by generated code.
#[doc(hidden)]
#[must_use]
pub fn finish(
    call: &ToolCall,
    outcome: Result<Value, DispatchError>,
    failure_message: &str,
) -> ToolResult {
    let (content, error) = match outcome {
        Ok(values) => (values, None),
        Err(error) if error.problems().is_some() => {
            tracing::warn!(tool = %call.name, %error, "the LLM's arguments do not fit");
            let problems = error.problems().unwrap_or_default();
            (
                json!({ "error": "invalid arguments", "problems": problems }),
                Some(error),
            )
        }
        Err(error) => {
            tracing::warn!(tool = %call.name, %error, "tool call failed");
            (json!({ "error": failure_message }), Some(error))
        }
    };
    ToolResult {
        id: call.id.clone(),
        name: call.name.clone(),
        content,
        error,
    }
}

/// The extracted values as the JSON object the LLM sees; used by generated code.
#[doc(hidden)]
#[must_use]
pub fn content<T: serde::Serialize>(values: &T) -> Value {
    // Response structs hold strings, numbers and booleans only, which always serialize.
    serde_json::to_value(values).unwrap_or_else(|_| json!({}))
}

/// A prompt rendered strictly found values it would have left blank.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("prompt `{prompt}` needs values no call has extracted yet: {}", variables.join(", "))]
pub struct MissingValues {
    /// The prompt.
    pub prompt: &'static str,
    /// The `api.*` values it would have left blank, in the order they appear.
    pub variables: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_take_each_api_shape() {
        for id in [Some("call_1".to_owned()), None] {
            let result = ToolResult {
                id: id.clone(),
                name: "order_status".to_owned(),
                content: json!({"order_status": "shipped \"today\""}),
                error: None,
            };
            let text = r#"{"order_status":"shipped \"today\""}"#;
            assert_eq!(
                result.to_openai(),
                json!({"role": "tool", "tool_call_id": id, "content": text})
            );
            let openai_text = result.to_openai_text();
            assert_eq!(
                serde_json::from_str::<Value>(&openai_text).unwrap(),
                result.to_openai()
            );
            assert!(openai_text.starts_with(r#"{"role":"tool","tool_call_id":"#));
            assert_eq!(
                result.to_anthropic(),
                json!({"type": "tool_result", "tool_use_id": id, "content": text,
                       "is_error": false})
            );
            assert_eq!(
                result.to_openai_responses(),
                json!({"type": "function_call_output", "call_id": id, "output": text})
            );
        }
    }

    /// An LLM's number reaches the request as the f64 nearest to what it wrote, as Rust's own
    /// parser reads it (serde_json needs `float_roundtrip` for that; without it this subnormal
    /// read as a neighbour).
    #[test]
    fn numbers_in_arguments_read_exactly() {
        #[derive(serde::Deserialize)]
        struct Params {
            seats: f64,
        }
        static PARAMS: &[Param] = &[Param {
            name: "seats",
            shape: crate::arguments::Shape::Number,
            required: true,
        }];
        for text in [
            "-1.250547868338938e-308",
            "0.1",
            "2.2250738585072014e-308",
            "1e300",
        ] {
            let call = ToolCall::openai("t", "move", format!("{{\"seats\": {text}}}"));
            let params: Params = arguments(&call, "move", PARAMS).unwrap();
            assert_eq!(
                params.seats.to_bits(),
                text.parse::<f64>().unwrap().to_bits(),
                "{text}"
            );
        }
    }
}
