//! Templates: every `{{...}}` resolves to a variable its place allows, located at its
//! braces in the source.

use super::*;

impl Checker<'_, '_, '_> {
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
        match self.lexed(text) {
            Some(pieces) => self.prompt_pieces(text, pieces),
            None => vec![ir::Piece::Text(text.value.clone())],
        }
    }

    /// The template's pieces, or `None` after reporting why it does not lex.
    fn lexed(&mut self, text: &Text) -> Option<Vec<template::Piece>> {
        match template::lex(&text.value) {
            Ok(pieces) => Some(pieces),
            Err(error) => {
                let pos = self.pos_in_text(text, error.offset);
                let width = text.width_of(error.offset, error.len).unwrap_or(2);
                let diagnostic = self.report.error_spanning(pos, width, error.message);
                diagnostic.maybe_help(error.help);
                None
            }
        }
    }

    fn prompt_pieces(&mut self, text: &Text, pieces: Vec<template::Piece>) -> ir::Template {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                template::Piece::Text(t) => out.push(ir::Piece::Text(t)),
                template::Piece::Var(var_ref, default) => {
                    let Some(var) = self.resolve(text, &var_ref, &[], Place::Prompt) else {
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
                    let then = self.prompt_pieces(text, then);
                    let otherwise = self.prompt_pieces(text, otherwise);
                    if let Some(var) = self.resolve(text, &condition, &[], Place::Prompt) {
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

    pub(super) fn prompt_only(&mut self, text: &Text, var_ref: &VarRef, what: &str) {
        let pos = self.pos_in(text, var_ref);
        let width = text
            .value
            .get(var_ref.offset..var_ref.offset + var_ref.len)
            .map_or(2, |s| s.chars().count());
        self.report
            .error_spanning(pos, width, format!("{what} is for prompts"))
            .help(
                "in a request, an entry whose value is missing is left out (or `null` in a body)",
            );
    }

    pub(super) fn resolve(
        &mut self,
        text: &Text,
        var_ref: &VarRef,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<ir::Var> {
        let pos = self.pos_in(text, var_ref);
        let width = text
            .value
            .get(var_ref.offset..var_ref.offset + var_ref.len)
            .map_or(2, |s| s.chars().count());
        let spelled = var_ref.namespace.spell(&var_ref.name);
        let in_prompt = place == Place::Prompt;
        if !place.allows(var_ref.namespace) {
            let (message, help) = match var_ref.namespace {
                Namespace::Collected => (
                    format!(
                        "`{spelled}` cannot be used in a {}: LLM parameters belong to one call",
                        if in_prompt { "prompt" } else { "webhook" }
                    ),
                    "extract the value you need with `response_variables` and use `{{api.name}}`"
                        .to_owned(),
                ),
                Namespace::Call => (
                    format!("`{spelled}` can only be used in `webhooks:`"),
                    "`{{call.*}}` values describe the conversation once it has ended, which is \
                     when webhooks are sent"
                        .to_owned(),
                ),
                _ => (
                    format!("`{spelled}` cannot be used here"),
                    "use a context variable or an `{{api.name}}` value".to_owned(),
                ),
            };
            self.report.error_spanning(pos, width, message).help(help);
            return None;
        }
        match var_ref.namespace {
            Namespace::Context => {
                let found = self.variables.iter().position(|v| v.name == var_ref.name);
                match found {
                    Some(index) if in_prompt && self.variables[index].secret => {
                        self.report
                            .error_spanning(
                                pos,
                                width,
                                format!(
                                    "secret variable `{}` cannot be used in a prompt",
                                    var_ref.name
                                ),
                            )
                            .help("prompts are sent to the LLM; secrets must never be");
                        None
                    }
                    Some(index) => Some(ir::Var::Context(index)),
                    None => {
                        let help = did_you_mean(&var_ref.name, self.variables.iter().map(|v| v.name.as_str()))
                            .unwrap_or_else(|| {
                                format!("declare it under `variables:`, e.g. `variables: {{ {}: {{ description: ... }} }}`", var_ref.name)
                            });
                        self.report
                            .error_spanning(
                                pos,
                                width,
                                format!("unknown variable `{}`", var_ref.name),
                            )
                            .help(help);
                        None
                    }
                }
            }
            Namespace::Collected => match params.iter().position(|(p, _)| p.name == var_ref.name) {
                Some(index) => Some(ir::Var::Collected(index)),
                None => {
                    let help =
                        did_you_mean(&var_ref.name, params.iter().map(|(p, _)| p.name.as_str()))
                            .unwrap_or_else(|| {
                                format!("add `{}` to this call's `parameters:`", var_ref.name)
                            });
                    self.report
                        .error_spanning(
                            pos,
                            width,
                            format!("`{spelled}` is not a parameter of this call"),
                        )
                        .help(help);
                    None
                }
            },
            Namespace::Call => {
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
            Namespace::Api => match self.api_index.get(&var_ref.name).copied() {
                Some(index) => Some(ir::Var::Api(index)),
                None => {
                    let help = did_you_mean(
                        &var_ref.name,
                        self.api_values.iter().map(|(n, ..)| n.as_str()),
                    )
                    .unwrap_or_else(|| {
                        format!(
                            "add `variable: {}` to some call's `response_variables:`",
                            var_ref.name
                        )
                    });
                    self.report
                        .error_spanning(pos, width, format!("no API call extracts `{spelled}`"))
                        .help(help);
                    None
                }
            },
        }
    }

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

    pub(super) fn pos_in(&self, text: &Text, var_ref: &VarRef) -> Pos {
        self.pos_in_text(text, var_ref.offset)
    }

    /// The source position of byte `offset` of a scalar's value.
    ///
    /// Quotes, escapes and block indentation make value offsets differ from source offsets.
    /// A variable starts at a `{{`, and the k-th `{{` of the value is the k-th of the source,
    /// so anchor there; anything else is placed by counting characters on the first line.
    pub(super) fn pos_in_text(&self, text: &Text, offset: usize) -> Pos {
        let raw = text.bytes.and_then(|(start, len)| {
            let end = start.checked_add(len)?;
            Some((start, self.lines.source().get(start..end)?))
        });
        let scalar = (text.pos, text.bytes, text.value.len());
        // Templates are checked one at a time, so remembering the last scalar's anchors makes
        // placing all of its variables one pass over it.
        let mut anchors = self.anchors.take();
        if anchors.scalar != Some(scalar) {
            anchors = Anchors::new(scalar, &text.value, raw, self.lines);
        }
        let value = &text.value;
        let k = anchors
            .in_value
            .partition_point(|anchor| anchor.offset + 2 <= offset);
        let at_anchor = anchors.in_value.get(k).filter(|a| a.offset == offset);
        let starts_variable = value
            .get(offset..)
            .is_some_and(|rest| rest.starts_with("{{"));
        let in_source = anchors.in_source.get(k).copied();
        let (chars, multiline) = match at_anchor {
            Some(anchor) => (anchor.chars, anchor.multiline),
            None => {
                let before = value.get(..offset).unwrap_or("");
                (before.chars().count(), before.contains('\n'))
            }
        };
        self.anchors.set(anchors);
        if starts_variable && let Some(pos) = in_source {
            return pos;
        }
        if multiline {
            return text.pos;
        }
        let quote = u32::from(raw.is_some_and(|(_, raw)| raw.starts_with(['"', '\''])));
        let chars = u32::try_from(chars).unwrap_or(0);
        Pos::new(
            text.pos.line,
            text.pos.col.saturating_add(quote).saturating_add(chars),
        )
    }
}

/// One scalar, told apart from others: its position, source bytes and value length.
type ScalarId = (Pos, Option<(usize, usize)>, usize);

/// Where each `{{` of one scalar is, in its value and in the source. Looking a variable up
/// here instead of rescanning the text keeps checking linear: 20,000 variables in one prompt
/// took 21 s when every lookup counted the `{{` before it.
#[derive(Default)]
pub(super) struct Anchors {
    /// The scalar described.
    scalar: Option<ScalarId>,
    /// Each `{{` of the value, found left to right as the template lexer finds them.
    in_value: Vec<ValueAnchor>,
    /// The source position of each `{{` of the scalar's source text, in order.
    in_source: Vec<Pos>,
}

pub(super) struct ValueAnchor {
    /// Byte offset in the value.
    offset: usize,
    /// Characters of the value before it.
    chars: usize,
    /// Whether a line break of the value comes before it.
    multiline: bool,
}

impl Anchors {
    fn new(
        scalar: ScalarId,
        value: &str,
        raw: Option<(usize, &str)>,
        lines: &LineIndex<'_>,
    ) -> Self {
        let mut in_value = Vec::new();
        let (mut chars, mut multiline, mut counted) = (0, false, 0);
        for (offset, _) in value.match_indices("{{") {
            let between = value.get(counted..offset).unwrap_or("");
            chars += between.chars().count();
            multiline |= between.contains('\n');
            counted = offset;
            in_value.push(ValueAnchor {
                offset,
                chars,
                multiline,
            });
        }
        let mut in_source = Vec::new();
        if let Some((start, raw)) = raw {
            let mut previous: Option<(usize, Pos)> = None;
            for (offset, _) in raw.match_indices("{{") {
                // On the same line as the previous `{{`, count on from it; `pos_at` counts from
                // the line's start, which for one long line would be quadratic again.
                let same_line = previous.and_then(|(at, pos)| {
                    let between = raw.get(at..offset)?;
                    let chars = u32::try_from(between.chars().count()).ok()?;
                    (!between.contains(['\n', '\r']))
                        .then(|| Pos::new(pos.line, pos.col.saturating_add(chars)))
                });
                let pos = same_line.unwrap_or_else(|| lines.pos_at(start + offset));
                in_source.push(pos);
                previous = Some((offset, pos));
            }
        }
        Self {
            scalar: Some(scalar),
            in_value,
            in_source,
        }
    }
}
