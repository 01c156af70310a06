//! Tool calls from the LLM in, results for the LLM out. Generated `dispatch` functions use
//! these types; a failure gives the LLM a short fixed message and the agent a typed error.

use serde_json::{Value, json};

use crate::Error;

/// A tool call as the LLM returned it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ToolCall {
    /// The LLM's id for the call, echoed back in the result (OpenAI and Anthropic both use one).
    #[serde(default)]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments, as JSON.
    #[serde(default)]
    pub arguments: Value,
}

impl ToolCall {
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
    /// For the LLM: the extracted values as a JSON object, or `{"error": "<fixed message>"}`.
    /// Never contains an error's details.
    pub content: Value,
    /// Why the call failed, for logs and metrics; `None` on success.
    pub error: Option<DispatchError>,
}

impl ToolResult {
    /// Whether the call succeeded.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
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
    /// The arguments do not fit the call's parameters (missing, mistyped, not in an enum...).
    #[error("the arguments for `{tool}` do not fit its parameters: {source}")]
    InvalidArguments {
        /// The tool.
        tool: &'static str,
        /// What serde objected to.
        #[source]
        source: serde_json::Error,
    },
    /// The HTTP call failed.
    #[error(transparent)]
    Call(#[from] Error),
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
