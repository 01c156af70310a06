//! Templates: every `{{...}}` resolves to a variable its place allows, reported at its
//! braces in the source (`Text::pos_at`).

use super::*;

impl Checker<'_, '_> {
    /// Lexes a request template (URL, header, query value, body string) and resolves each
    /// variable, reporting every unknown or misplaced one. Defaults and conditionals say how a
    /// prompt reads when a value is missing; a request has its own rules for that (entries
    /// left out, `null` in bodies), so they are reported here and kept out of the result.
    pub(super) fn template(
        &mut self,
        text: &Text,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<ir::RequestTemplate> {
        // Always Some: a bad variable is reported and left out, so the rest of the file still
        // generates and one typo does not cascade into errors in the user's Rust code.
        let Some(pieces) = self.lexed(text) else {
            return Some(vec![ir::RequestPiece::Text(text.value.clone())]);
        };
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                template::Piece::Text(t) => out.push(ir::RequestPiece::Text(t)),
                template::Piece::Var(var_ref, default) => {
                    let Some(var) = self.resolve(text, &var_ref, params, place) else {
                        continue;
                    };
                    if default.is_some() {
                        self.prompt_only(text, &var_ref, "`| default:`");
                    }
                    out.push(ir::RequestPiece::Var(var));
                }
                template::Piece::If { condition, .. } => {
                    self.prompt_only(text, &condition, "`{{#if}}`");
                }
            }
        }
        Some(out)
    }

    /// Lexes a prompt and resolves each variable, defaults and conditionals included.
    pub(super) fn prompt_template(&mut self, text: &Text) -> ir::Template {
        self.rich_template(text, &[], Place::Prompt)
    }

    /// Lexes a call's spoken message: like a prompt, and it may use the call's parameters.
    pub(super) fn message_template(
        &mut self,
        text: &Text,
        params: &[(ir::Param, Pos)],
    ) -> ir::Template {
        self.rich_template(text, params, Place::Message)
    }

    fn rich_template(
        &mut self,
        text: &Text,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> ir::Template {
        match self.lexed(text) {
            Some(pieces) => self.rich_pieces(text, pieces, params, place),
            None => vec![ir::Piece::Text(text.value.clone())],
        }
    }

    /// The template's pieces, or `None` after reporting why it does not lex.
    fn lexed(&mut self, text: &Text) -> Option<Vec<template::Piece>> {
        match template::lex(&text.value) {
            Ok(pieces) => Some(pieces),
            Err(error) => {
                let pos = text.pos_at(error.offset);
                let width = text.width_of(error.offset, error.len).unwrap_or(2);
                let diagnostic = self.report.error_spanning(pos, width, error.message);
                diagnostic.maybe_help(error.help);
                None
            }
        }
    }

    /// A prompt's or a message's pieces: variables with defaults, and conditionals.
    fn rich_pieces(
        &mut self,
        text: &Text,
        pieces: Vec<template::Piece>,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> ir::Template {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                template::Piece::Text(t) => out.push(ir::Piece::Text(t)),
                template::Piece::Var(var_ref, default) => {
                    let Some(var) = self.resolve(text, &var_ref, params, place) else {
                        continue;
                    };
                    out.push(match default {
                        None => ir::Piece::Var(var),
                        Some(default) => ir::Piece::VarOr(var, default),
                    });
                }
                template::Piece::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    let then = self.rich_pieces(text, then, params, place);
                    let otherwise = self.rich_pieces(text, otherwise, params, place);
                    if let Some(var) = self.resolve(text, &condition, params, place) {
                        out.push(ir::Piece::If {
                            condition: var,
                            then,
                            otherwise,
                        });
                    }
                }
            }
        }
        out
    }

    /// Defaults and conditionals are for prompts: a request leaves out (or sends `null` for)
    /// an entry whose value is missing.
    pub(super) fn prompt_only(&mut self, text: &Text, var_ref: &VarRef, what: &str) {
        let (pos, width) = span(text, var_ref);
        self.report
            .error_spanning(pos, width, format!("{what} is for prompts"))
            .help(
                "in a request, an entry whose value is missing is left out (or `null` in a body)",
            );
    }

    /// A `{{...}}` names a variable that exists and that its place may use.
    pub(super) fn resolve(
        &mut self,
        text: &Text,
        var_ref: &VarRef,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<ir::Var> {
        let at = span(text, var_ref);
        if !self.namespace_allowed(var_ref, place, at) {
            return None;
        }
        // Asked for only when the name is not found, to suggest where it is.
        let elsewhere = |checker: &Self| checker.found_elsewhere(var_ref, params, place);
        match var_ref.namespace {
            Namespace::Context => self.context_variable(var_ref, place, at, elsewhere),
            Namespace::Collected => self.collected_param(var_ref, params, at, elsewhere),
            Namespace::Call => self.call_fact(var_ref, at),
            Namespace::Api => self.api_value(var_ref, at, elsewhere),
        }
    }

    /// Where else `var_ref`'s name (or a near one) is a value this place may use, spelled
    /// out: `{{order_id}}` written for the parameter `{{collected.order_id}}`, or
    /// `{{customer_name}}` for the extracted `{{api.customer_name}}`.
    fn found_elsewhere(
        &self,
        var_ref: &VarRef,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<String> {
        let shown = matches!(place, Place::Prompt | Place::Message);
        let mut names: Vec<(Namespace, &str)> = Vec::new();
        let variables = (self.variables.iter())
            .filter(|v| !(shown && v.secret))
            .map(|v| (Namespace::Context, v.name.as_str()));
        names.extend(variables);
        names.extend(
            params
                .iter()
                .map(|(p, _)| (Namespace::Collected, p.name.as_str())),
        );
        names.extend(
            self.api_values
                .iter()
                .map(|(n, ..)| (Namespace::Api, n.as_str())),
        );
        names.extend(ir::CallField::ALL.map(|f| (Namespace::Call, f.name())));
        names.retain(|(namespace, _)| *namespace != var_ref.namespace && place.allows(*namespace));
        let best = (names.iter().find(|(_, name)| *name == var_ref.name)).or_else(|| {
            let near = nearest(&var_ref.name, names.iter().map(|(_, name)| *name))?;
            names.iter().find(|(_, name)| *name == near)
        })?;
        Some(format!("did you mean `{}`?", best.0.spell(best.1)))
    }

    /// A template uses only what its place allows: `{{collected.*}}` in requests,
    /// `{{call.*}}` in webhooks, context variables and `{{api.*}}` values anywhere.
    fn namespace_allowed(&mut self, var_ref: &VarRef, place: Place, (pos, width): Span) -> bool {
        if place.allows(var_ref.namespace) {
            return true;
        }
        let spelled = var_ref.namespace.spell(&var_ref.name);
        let (message, help) = match var_ref.namespace {
            _ if place == Place::Auth => (
                format!("`{spelled}` cannot be used in an `auth:` scheme"),
                "a scheme is shared by every call that uses it: use context variables only",
            ),
            Namespace::Collected => (
                format!(
                    "`{spelled}` cannot be used in a {}: LLM parameters belong to one call",
                    if place == Place::Webhook {
                        "webhook"
                    } else {
                        "prompt"
                    }
                ),
                "extract the value you need with `response_variables` and use `{{api.name}}`",
            ),
            Namespace::Call => (
                format!("`{spelled}` can only be used in `webhooks:`"),
                "`{{call.*}}` values describe the conversation once it has ended, which is \
                 when webhooks are sent",
            ),
            _ => (
                format!("`{spelled}` cannot be used here"),
                "use a context variable or an `{{api.name}}` value",
            ),
        };
        self.report.error_spanning(pos, width, message).help(help);
        false
    }

    /// `{{name}}` is a context variable declared under `variables:`, and a secret one is
    /// never used in a prompt.
    fn context_variable(
        &mut self,
        var_ref: &VarRef,
        place: Place,
        at: Span,
        elsewhere: impl FnOnce(&Self) -> Option<String>,
    ) -> Option<ir::Var> {
        let Some(index) = self.variables.iter().position(|v| v.name == var_ref.name) else {
            self.unknown_variable(var_ref, at, elsewhere);
            return None;
        };
        if self.variables[index].secret {
            match place {
                Place::Prompt => {
                    self.secret_where_it_is_seen(
                        var_ref,
                        at,
                        "prompt",
                        "prompts are sent to the LLM",
                    );
                }
                Place::Message => self.secret_where_it_is_seen(
                    var_ref,
                    at,
                    "message",
                    "messages are spoken to the caller",
                ),
                Place::Request | Place::Webhook | Place::Auth => {
                    return Some(ir::Var::Context(index));
                }
            }
            return None;
        }
        Some(ir::Var::Context(index))
    }

    /// Prompts are sent to the LLM and messages spoken to the caller, so a secret variable
    /// is never in either (`place`: "prompt" or "message"; `why`: where it would go).
    fn secret_where_it_is_seen(&mut self, var_ref: &VarRef, at: Span, place: &str, why: &str) {
        let message = format!(
            "secret variable `{}` cannot be used in a {place}",
            var_ref.name
        );
        self.report
            .error_spanning(at.0, at.1, message)
            .help(format!("{why}; secrets must never be"));
    }

    /// An undeclared `{{name}}`: the nearest declared name, or how to declare it.
    fn unknown_variable(
        &mut self,
        var_ref: &VarRef,
        (pos, width): Span,
        elsewhere: impl FnOnce(&Self) -> Option<String>,
    ) {
        let declared = self.variables.iter().map(|v| v.name.as_str());
        let help = (did_you_mean(&var_ref.name, declared))
            .or_else(|| elsewhere(self))
            .unwrap_or_else(|| {
                format!(
                    "declare it under `variables:`, e.g. `variables: {{ {}: {{ description: ... }} }}`",
                    var_ref.name
                )
            });
        self.report
            .error_spanning(pos, width, format!("unknown variable `{}`", var_ref.name))
            .help(help);
    }

    /// `{{collected.name}}` is one of this call's `parameters:`.
    fn collected_param(
        &mut self,
        var_ref: &VarRef,
        params: &[(ir::Param, Pos)],
        (pos, width): Span,
        elsewhere: impl FnOnce(&Self) -> Option<String>,
    ) -> Option<ir::Var> {
        let found = params.iter().position(|(p, _)| p.name == var_ref.name);
        if found.is_none() {
            let names = params.iter().map(|(p, _)| p.name.as_str());
            let help = (did_you_mean(&var_ref.name, names))
                .or_else(|| elsewhere(self))
                .unwrap_or_else(|| format!("add `{}` to this call's `parameters:`", var_ref.name));
            let spelled = var_ref.namespace.spell(&var_ref.name);
            self.report
                .error_spanning(
                    pos,
                    width,
                    format!("`{spelled}` is not a parameter of this call"),
                )
                .help(help);
        }
        found.map(ir::Var::Collected)
    }

    /// `{{call.name}}` is one of the ended conversation's facts (`ir::CallField`).
    fn call_fact(&mut self, var_ref: &VarRef, (pos, width): Span) -> Option<ir::Var> {
        let field = ir::CallField::ALL
            .into_iter()
            .find(|field| field.name() == var_ref.name);
        if field.is_none() {
            let names = ir::CallField::ALL.map(ir::CallField::name);
            let help = did_you_mean(&var_ref.name, names).unwrap_or_else(|| {
                let list: Vec<String> = names
                    .iter()
                    .map(|n| format!("`{{{{call.{n}}}}}`"))
                    .collect();
                format!("the conversation's facts are {}", list.join(", "))
            });
            let spelled = var_ref.namespace.spell(&var_ref.name);
            self.report
                .error_spanning(
                    pos,
                    width,
                    format!("`{spelled}` is not a fact of the conversation"),
                )
                .help(help);
        }
        field.map(ir::Var::Call)
    }

    /// `{{api.name}}` is extracted by some call's `response_variables:`.
    fn api_value(
        &mut self,
        var_ref: &VarRef,
        (pos, width): Span,
        elsewhere: impl FnOnce(&Self) -> Option<String>,
    ) -> Option<ir::Var> {
        let found = self.api_index.get(&var_ref.name).copied();
        if found.is_none() {
            let names = self.api_values.iter().map(|(n, ..)| n.as_str());
            let help = (did_you_mean(&var_ref.name, names))
                .or_else(|| elsewhere(self))
                .unwrap_or_else(|| {
                    format!(
                        "add `variable: {}` to some call's `response_variables:`",
                        var_ref.name
                    )
                });
            let spelled = var_ref.namespace.spell(&var_ref.name);
            self.report
                .error_spanning(pos, width, format!("no API call extracts `{spelled}`"))
                .help(help);
        }
        found.map(ir::Var::Api)
    }

    /// The variable references of `text`, in order; none when it does not lex.
    pub(super) fn var_refs(&self, text: &Text) -> std::vec::IntoIter<VarRef> {
        template::lex(&text.value)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|piece| match piece {
                template::Piece::Var(var_ref, _) => Some(var_ref),
                template::Piece::Text(_) | template::Piece::If { .. } => None,
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// Where a `{{...}}` is in the source, and how many characters a diagnostic underlines.
pub(super) type Span = (Pos, usize);

/// The span of `var_ref` in `text`; two characters (its `{{`) when it is not a range of it.
pub(super) fn span(text: &Text, var_ref: &VarRef) -> Span {
    let width = text.width_of(var_ref.offset, var_ref.len).unwrap_or(2);
    (text.pos_at(var_ref.offset), width)
}
