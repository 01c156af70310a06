//! Tool definitions for the LLM, in the shape each LLM API takes ([`ToolTarget`]). The compiler
//! writes one canonical JSON Schema per call (its parameters, and the values it answers with);
//! this module lowers it for each API, so the generated `TOOLS`, `apicall tools --format` and
//! `apicall mcp` all show the same definitions.

mod lower;

use serde_json::{Value, json};

pub use lower::{gemini_openapi_schema, strict_schema};

/// An LLM API whose tool definitions (and tool results) apicall writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolTarget {
    /// OpenAI Chat Completions: `{"type": "function", "function": {..., "strict": true}}`.
    OpenAi,
    /// OpenAI Responses: the flat `{"type": "function", "name", ..., "strict": true}`.
    OpenAiResponses,
    /// Anthropic Messages: `{"name", "description", "input_schema", "strict": true}`.
    Anthropic,
    /// Gemini function declarations with `parametersJsonSchema` (JSON Schema).
    Gemini,
    /// Gemini function declarations with the legacy OpenAPI-subset `parameters`.
    GeminiOpenApi,
    /// Model Context Protocol tools: `inputSchema` and `outputSchema`.
    Mcp,
}

impl ToolTarget {
    /// Every target, in the order the docs list them.
    pub const ALL: [ToolTarget; 6] = [
        ToolTarget::OpenAi,
        ToolTarget::OpenAiResponses,
        ToolTarget::Anthropic,
        ToolTarget::Gemini,
        ToolTarget::GeminiOpenApi,
        ToolTarget::Mcp,
    ];

    /// Its name on the command line and in calls.yaml options: `openai`, `openai-responses`,
    /// `anthropic`, `gemini`, `gemini-openapi`, `mcp`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ToolTarget::OpenAi => "openai",
            ToolTarget::OpenAiResponses => "openai-responses",
            ToolTarget::Anthropic => "anthropic",
            ToolTarget::Gemini => "gemini",
            ToolTarget::GeminiOpenApi => "gemini-openapi",
            ToolTarget::Mcp => "mcp",
        }
    }
}

impl std::fmt::Display for ToolTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`ToolTarget`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown tool target `{0}`: use openai, openai-responses, anthropic, gemini, gemini-openapi or mcp"
)]
pub struct UnknownTarget(pub String);

impl std::str::FromStr for ToolTarget {
    type Err = UnknownTarget;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ToolTarget::ALL
            .into_iter()
            .find(|target| target.name() == name)
            .ok_or_else(|| UnknownTarget(name.to_owned()))
    }
}

/// One API call as a tool the LLM may call. Generated code lists them all in `TOOLS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolDefinition {
    /// The tool's (and call's) name.
    pub name: &'static str,
    /// When the LLM should use it.
    pub description: &'static str,
    /// The JSON Schema of its arguments, as JSON text.
    pub parameters: &'static str,
    /// The JSON Schema of what it answers when it succeeds (its response variables, `null`
    /// when an optional one was absent), as JSON text.
    pub output: &'static str,
}

impl ToolDefinition {
    /// The JSON Schema of the arguments.
    #[must_use]
    pub fn parameters(&self) -> Value {
        schema(self.parameters)
    }

    /// The JSON Schema of what a successful call answers.
    #[must_use]
    pub fn output(&self) -> Value {
        schema(self.output)
    }

    /// The tool as `target` takes it; see [`tool_for`].
    #[must_use]
    pub fn to_target(&self, target: ToolTarget) -> Value {
        tool_for(
            target,
            self.name,
            self.description,
            self.parameters(),
            self.output(),
        )
    }

    /// The tool as OpenAI's Chat Completions `tools` take it; see [`openai_tool`].
    #[must_use]
    pub fn to_openai(&self) -> Value {
        self.to_target(ToolTarget::OpenAi)
    }

    /// The tool as OpenAI's Responses API `tools` take it (flat, strict).
    #[must_use]
    pub fn to_openai_responses(&self) -> Value {
        self.to_target(ToolTarget::OpenAiResponses)
    }

    /// The tool as Anthropic's Messages `tools` take it; see [`anthropic_tool`].
    #[must_use]
    pub fn to_anthropic(&self) -> Value {
        self.to_target(ToolTarget::Anthropic)
    }

    /// The tool as one of Gemini's `functionDeclarations`, with `parametersJsonSchema`.
    #[must_use]
    pub fn to_gemini(&self) -> Value {
        self.to_target(ToolTarget::Gemini)
    }

    /// The tool as one of Gemini's `functionDeclarations`, with the legacy OpenAPI-subset
    /// `parameters`; see [`gemini_openapi_schema`].
    #[must_use]
    pub fn to_gemini_openapi(&self) -> Value {
        self.to_target(ToolTarget::GeminiOpenApi)
    }

    /// The tool as an MCP server lists it: `inputSchema` and `outputSchema`.
    #[must_use]
    pub fn to_mcp(&self) -> Value {
        self.to_target(ToolTarget::Mcp)
    }
}

/// The generator writes this text from a `serde_json::Value`; were it ever not JSON, an empty
/// object schema is the safe reading.
fn schema(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!({ "type": "object" }))
}

/// A tool as `target` takes it, from the canonical schemas of its arguments (`parameters`) and
/// of what it answers (`output`):
///
/// | target | shape |
/// | --- | --- |
/// | `openai` | `{"type": "function", "function": {"name", "description", "parameters", "strict": true}}` |
/// | `openai-responses` | `{"type": "function", "name", "description", "parameters", "strict": true}` |
/// | `anthropic` | `{"name", "description", "input_schema", "strict": true}` |
/// | `gemini` | `{"name", "description", "parametersJsonSchema", "responseJsonSchema"}` |
/// | `gemini-openapi` | `{"name", "description", "parameters", "response"}` (OpenAPI subset; each left out when it has no properties) |
/// | `mcp` | `{"name", "description", "inputSchema", "outputSchema"}` |
///
/// OpenAI's strict mode gets [`strict_schema`]; Gemini's legacy fields get
/// [`gemini_openapi_schema`]; the others take the canonical schema as it is.
#[must_use]
pub fn tool_for(
    target: ToolTarget,
    name: &str,
    description: &str,
    parameters: Value,
    output: Value,
) -> Value {
    match target {
        ToolTarget::OpenAi => openai_tool(name, description, parameters),
        ToolTarget::OpenAiResponses => json!({
            "type": "function",
            "name": name,
            "description": description,
            "parameters": strict_schema(parameters),
            "strict": true,
        }),
        ToolTarget::Anthropic => anthropic_tool(name, description, parameters),
        ToolTarget::Gemini => json!({
            "name": name,
            "description": description,
            "parametersJsonSchema": parameters,
            "responseJsonSchema": output,
        }),
        ToolTarget::GeminiOpenApi => {
            let mut tool = json!({ "name": name, "description": description });
            // The subset refuses an OBJECT without properties: a call that takes (or answers)
            // nothing leaves the field out, as Gemini documents.
            for (field, schema) in [("parameters", parameters), ("response", output)] {
                if has_properties(&schema) {
                    tool[field] = gemini_openapi_schema(schema);
                }
            }
            tool
        }
        ToolTarget::Mcp => json!({
            "name": name,
            "description": description,
            "inputSchema": parameters,
            "outputSchema": output,
        }),
    }
}

fn has_properties(schema: &Value) -> bool {
    schema["properties"]
        .as_object()
        .is_some_and(|properties| !properties.is_empty())
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
            "parameters": strict_schema(parameters),
            "strict": true,
        }
    })
}

/// `{"name", "description", "input_schema", "strict": true}`: Anthropic's strict tool use
/// holds the LLM to the schema, which already closes every object
/// (`additionalProperties: false`) as strict mode asks.
#[must_use]
pub fn anthropic_tool(name: &str, description: &str, parameters: Value) -> Value {
    json!({
        "name": name,
        "description": description,
        "input_schema": parameters,
        "strict": true,
    })
}

#[cfg(test)]
mod tests;
