//! Rules from the LLM APIs the tools are for: each names the selected targets that would
//! refuse the tool, so a crate that does not use them can leave them out.

use super::*;

impl Checker<'_, '_> {
    /// A call's name fits every selected target's tool names: 64 characters for OpenAI,
    /// Anthropic and Gemini, 128 for MCP.
    pub(super) fn tool_name_fits(&mut self, name: &Text) -> bool {
        let length = name.value.chars().count();
        let refusing = self.refusing(|target| length > target.max_tool_name());
        let Some(limit) = refusing.iter().map(|t| t.max_tool_name()).min() else {
            return true;
        };
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!(
                    "call name `{}` is {length} characters; {} take{} tool names of at most \
                     {limit}",
                    name.value,
                    listed(&refusing),
                    if refusing.len() == 1 { "s" } else { "" },
                ),
            )
            .help(leave_out_help("shorten the name", &refusing));
        false
    }

    /// A parameter's name (at any depth) fits the selected targets' property names: 64
    /// characters for Anthropic and Gemini.
    pub(super) fn param_name_fits(&mut self, name: &Text) -> bool {
        let length = name.value.chars().count();
        let refusing =
            self.refusing(|target| target.max_param_name().is_some_and(|max| length > max));
        let Some(limit) = refusing.iter().filter_map(|t| t.max_param_name()).min() else {
            return true;
        };
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!(
                    "parameter name `{}` is {length} characters; {} take{} property names of \
                     at most {limit}",
                    name.value,
                    listed(&refusing),
                    if refusing.len() == 1 { "s" } else { "" },
                ),
            )
            .help(leave_out_help("shorten the name", &refusing));
        false
    }

    /// A call's enum values, counted over all its parameters (nested ones too), fit OpenAI's
    /// strict mode: at most 1,000, and at most 15,000 characters of them when there are more
    /// than 250. Reported at the parameter whose enum goes over.
    pub(super) fn enums_fit(&mut self, params: &[(ir::Param, Pos)]) {
        let refusing = self.refusing(|target| target.strict_enum_limits().is_some());
        let Some(limits) = refusing.iter().find_map(|t| t.strict_enum_limits()) else {
            return;
        };
        let (mut values, mut characters) = (0, 0);
        for (param, pos) in params {
            let (more_values, more_characters) = enum_size(&param.ty);
            values += more_values;
            characters += more_characters;
            let too_many = values > limits.values;
            let too_long = values > limits.long_list && characters > limits.characters;
            if !too_many && !too_long {
                continue;
            }
            let message = if too_many {
                format!(
                    "with `{}`, this call's parameters have {values} enum values; {} take at \
                     most {} in one tool",
                    param.name,
                    listed(&refusing),
                    limits.values
                )
            } else {
                format!(
                    "with `{}`, this call's {values} enum values are {characters} characters \
                     long; {} take at most {} characters of enum values when there are more \
                     than {}",
                    param.name,
                    listed(&refusing),
                    limits.characters,
                    limits.long_list
                )
            };
            self.report.error(*pos, message).help(leave_out_help(
                "take free text and check it in the API",
                &refusing,
            ));
            return;
        }
    }

    /// The selected targets that `refuses`.
    fn refusing(&self, refuses: impl Fn(Target) -> bool) -> Vec<Target> {
        self.targets
            .iter()
            .copied()
            .filter(|target| refuses(*target))
            .collect()
    }
}

/// How many enum values a parameter's schema holds, and their length in characters.
fn enum_size(ty: &ir::ParamType) -> (usize, usize) {
    match ty {
        ir::ParamType::Value(_) => (0, 0),
        ir::ParamType::Enum { choices, .. } => (
            choices.len(),
            choices.iter().map(|c| c.value.chars().count()).sum(),
        ),
        ir::ParamType::IntegerEnum { choices, .. } => (
            choices.len(),
            choices.iter().map(|c| c.value.to_string().len()).sum(),
        ),
        ir::ParamType::Array(items) => enum_size(items),
        ir::ParamType::Object { fields, .. } => fields
            .iter()
            .map(|field| enum_size(&field.ty))
            .fold((0, 0), |(v, c), (more_v, more_c)| (v + more_v, c + more_c)),
    }
}

/// `openai, openai-responses and anthropic`.
fn listed(targets: &[Target]) -> String {
    let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `fix` the YAML, or select only the targets the crate uses.
fn leave_out_help(fix: &str, refusing: &[Target]) -> String {
    let kept: Vec<String> = Target::ALL
        .iter()
        .filter(|target| !refusing.contains(target))
        .map(|target| format!("\"{}\"", target.name()))
        .collect();
    if kept.is_empty() {
        format!("{fix}: no LLM API takes it")
    } else {
        format!(
            "{fix}, or if your agent does not use {}, select the targets it does use: \
             `include_api_calls!(\"calls.yaml\", targets = [{}])`",
            listed(refusing),
            kept.join(", ")
        )
    }
}
