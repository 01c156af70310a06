//! The LLM APIs a crate hands its tools to, and what each can take: names up to a length,
//! a bounded number of enum values. A crate selects its targets ([`Options::targets`], the
//! macro's `targets = [...]`, [`Builder::targets`](crate::Builder::targets)); a call that a
//! selected target cannot take is a located compile error naming the target.
//!
//! The runtime's `apicall_runtime::ToolTarget` lowers the tools for the same targets, under
//! the same names.

use crate::{Diagnostics, Generated};

/// An LLM API apicall writes tool definitions for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// OpenAI Chat Completions, strict mode.
    OpenAi,
    /// OpenAI Responses, strict mode.
    OpenAiResponses,
    /// Anthropic Messages.
    Anthropic,
    /// Gemini function declarations with `parametersJsonSchema`.
    Gemini,
    /// Gemini function declarations with the legacy OpenAPI-subset `parameters`.
    GeminiOpenApi,
    /// Model Context Protocol tools.
    Mcp,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 6] = [
        Target::OpenAi,
        Target::OpenAiResponses,
        Target::Anthropic,
        Target::Gemini,
        Target::GeminiOpenApi,
        Target::Mcp,
    ];

    /// Its name: `openai`, `openai-responses`, `anthropic`, `gemini`, `gemini-openapi`, `mcp`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Target::OpenAi => "openai",
            Target::OpenAiResponses => "openai-responses",
            Target::Anthropic => "anthropic",
            Target::Gemini => "gemini",
            Target::GeminiOpenApi => "gemini-openapi",
            Target::Mcp => "mcp",
        }
    }

    /// The target named `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|target| target.name() == name)
    }

    /// The longest tool name it takes: 64 characters for OpenAI, Anthropic and Gemini
    /// (`^[a-zA-Z0-9_-]{1,64}$`; Gemini's also starts with a letter or `_`, as snake_case
    /// names do), 128 for MCP.
    pub(crate) fn max_tool_name(self) -> usize {
        match self {
            Target::Mcp => 128,
            _ => 64,
        }
    }

    /// The longest parameter (property) name it takes, if it has a limit: Anthropic's
    /// `^[a-zA-Z0-9_.-]{1,64}$`, Gemini's 64.
    pub(crate) fn max_param_name(self) -> Option<usize> {
        match self {
            Target::Anthropic | Target::Gemini | Target::GeminiOpenApi => Some(64),
            _ => None,
        }
    }

    /// OpenAI's strict mode: at most 1,000 enum values in one tool's schema, and at most
    /// 15,000 characters of them when there are more than 250.
    pub(crate) fn strict_enum_limits(self) -> Option<EnumLimits> {
        match self {
            Target::OpenAi | Target::OpenAiResponses => Some(EnumLimits {
                values: 1000,
                long_list: 250,
                characters: 15_000,
            }),
            _ => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How many enum values a tool's schema may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EnumLimits {
    pub values: usize,
    /// Beyond this many values, their total length is limited too.
    pub long_list: usize,
    pub characters: usize,
}

/// How to compile: which targets the tools must fit (all of them unless told otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    targets: Vec<Target>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            targets: Target::ALL.to_vec(),
        }
    }
}

impl Options {
    /// Every target selected.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these targets: the tools must fit each of them, and nothing else.
    #[must_use]
    pub fn targets(mut self, targets: impl IntoIterator<Item = Target>) -> Self {
        self.targets = targets.into_iter().collect();
        self.targets.dedup();
        self
    }

    /// The targets selected.
    #[must_use]
    pub fn selected(&self) -> &[Target] {
        &self.targets
    }

    /// [`compile`](crate::compile) for these targets.
    ///
    /// # Errors
    ///
    /// Every mistake found in the file, each with its line and column.
    pub fn compile(&self, file: &str, source: &str) -> Result<Generated, Diagnostics> {
        self.compile_bytes(file, source.as_bytes())
    }

    /// [`compile_bytes`](crate::compile_bytes) for these targets.
    ///
    /// # Errors
    ///
    /// As [`Options::compile`], plus a diagnostic when the bytes are not UTF-8.
    pub fn compile_bytes(&self, file: &str, bytes: &[u8]) -> Result<Generated, Diagnostics> {
        crate::finish(crate::compile_recovering(file, bytes, self))
    }

    /// [`check_bytes`](crate::check_bytes) for these targets.
    ///
    /// # Errors
    ///
    /// Every mistake found in the file, each with its line and column.
    pub fn check_bytes(&self, file: &str, bytes: &[u8]) -> Result<(), Diagnostics> {
        let (_, diagnostics) = crate::check(file, bytes, self);
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(diagnostics)
        }
    }
}
