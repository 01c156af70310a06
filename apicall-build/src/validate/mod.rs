//! The rules of calls.yaml: every name resolves, every value is in range, every URL is safe.
//! Reports all violations and, when there are none, yields the checked model (`ir`).

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Pos, Reporter, did_you_mean};
use crate::ir;
use crate::names::{self, Owner};
use crate::parse::document::{CallDecl, Document, ParamDecl, Text, describe, unquoted_template};
use crate::parse::lines::LineIndex;
use crate::parse::path;
use crate::parse::template::{self, Namespace, VarRef};
use crate::parse::yaml::{Node, Value, quoted};

mod call;
mod clash;
mod templates;
mod url;
mod webhook;

use templates::Anchors;
use url::url_or_stand_in;

const DEFAULT_TIMEOUT_MS: u64 = 5000;
const MAX_TIMEOUT_MS: u64 = 60_000;
const MAX_RETRIES: u32 = 5;
/// The longest tool name OpenAI and Anthropic accept.
const MAX_TOOL_NAME: usize = 64;
const DEFAULT_WEBHOOK_RETRIES: u32 = 3;
const MAX_WEBHOOK_RETRIES: u32 = 10;
/// Stands in for a URL that had errors; never sent, since the errors stop the build.
const INVALID_URL: &str = "http://invalid.invalid/";
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const TYPES: &[&str] = &["string", "integer", "number", "boolean"];

/// Checks the document and builds the model. When anything was reported the model is a
/// best-effort stand-in (bad parts left out or defaulted), for error recovery only.
pub(crate) fn validate(
    document: &Document,
    lines: &LineIndex<'_>,
    report: &mut Reporter<'_>,
) -> ir::File {
    let mut checker = Checker {
        lines,
        report,
        variables: Vec::new(),
        api_values: Vec::new(),
        api_index: HashMap::new(),
        anchors: std::cell::Cell::default(),
    };
    checker.variables(document);
    checker.collect_api_values(document);
    let mut calls = Vec::new();
    let mut call_names: HashMap<String, Pos> = HashMap::new();
    for decl in &document.calls {
        if let Some(call) = checker.call(decl, &mut call_names) {
            calls.push(call);
        }
    }
    let prompts = checker.prompts(document);
    let webhooks = checker.webhooks(document);
    let Checker {
        variables,
        api_values,
        ..
    } = &mut checker;
    let mut file = ir::File {
        variables: std::mem::take(variables),
        calls,
        api_values: std::mem::take(api_values)
            .into_iter()
            .map(|(name, ty, _)| ir::ApiValue { name, ty })
            .collect(),
        prompts,
        webhooks,
    };
    // Items whose Rust names clash are reported and left out of the recovery code.
    let clashing = checker.generated_names(&file, &call_names, document);
    if !clashing.is_empty() {
        file.calls
            .retain(|call| !clashing.contains(&Owner::Call(call.name.clone())));
        file.prompts
            .retain(|prompt| !clashing.contains(&Owner::Prompt(prompt.name.clone())));
        file.webhooks
            .retain(|webhook| !clashing.contains(&Owner::Webhook(webhook.name.clone())));
    }
    file
}

/// Where a template is, which decides the variables it may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// An API call's URL, headers, query or body: everything but `{{call.*}}`.
    Request,
    /// A prompt: context and `api.*` values, with defaults and conditionals.
    Prompt,
    /// A webhook: context, `api.*` values and `{{call.*}}` facts.
    Webhook,
}

impl Place {
    fn allows(self, namespace: Namespace) -> bool {
        match namespace {
            Namespace::Context | Namespace::Api => true,
            Namespace::Collected => self == Place::Request,
            Namespace::Call => self == Place::Webhook,
        }
    }
}

struct Checker<'a, 'r, 's> {
    lines: &'a LineIndex<'s>,
    report: &'a mut Reporter<'r>,
    variables: Vec<ir::Variable>,
    /// name, type, where first declared
    api_values: Vec<(String, ir::ValueType, Pos)>,
    /// Where each name is in `api_values`: files with thousands of calls look names up often.
    api_index: HashMap<String, usize>,
    /// The `{{` positions of the scalar whose variables are being placed.
    anchors: std::cell::Cell<Anchors>,
}

impl Checker<'_, '_, '_> {
    fn variables(&mut self, document: &Document) {
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for decl in &document.variables {
            if !self.name(&decl.name, "variable") {
                continue;
            }
            if let Some(first) = seen.insert(&decl.name.value, decl.name.pos) {
                self.duplicate(&decl.name, "variable", first);
                continue;
            }
            let ty = match &decl.ty {
                None => ir::ValueType::String,
                Some(ty) => match self.value_type(ty) {
                    Some(ir::ValueType::String) => ir::ValueType::String,
                    Some(_) if decl.secret => {
                        self.report
                            .error_spanning(
                                ty.pos,
                                ty.value.chars().count(),
                                "a secret must be a string",
                            )
                            .help("remove `type:`, or `secret: true`");
                        continue;
                    }
                    Some(other) => other,
                    None => continue,
                },
            };
            self.variables.push(ir::Variable {
                name: decl.name.value.clone(),
                description: decl.description.as_ref().map(|d| d.value.clone()),
                secret: decl.secret,
                ty,
                example: decl.example.as_ref().map(|e| e.value.clone()),
            });
        }
    }

    /// Response variables of every call, so prompts and later calls can refer to any of them.
    fn collect_api_values(&mut self, document: &Document) {
        for call in &document.calls {
            for decl in &call.response_variables {
                let Some(variable) = &decl.variable else {
                    continue;
                };
                if !self.name(variable, "response variable") {
                    continue;
                }
                let ty = decl
                    .ty
                    .as_ref()
                    .map_or(Some(ir::ValueType::String), |ty| self.value_type(ty));
                let Some(ty) = ty else { continue };
                let first = self.api_index.get(&variable.value).copied();
                match first.map(|index| &self.api_values[index]) {
                    Some((_, first_ty, first_pos)) if *first_ty != ty => {
                        let (first_ty, first_pos) = (*first_ty, *first_pos);
                        self.report
                            .error(
                                variable.pos,
                                format!(
                                    "response variable `{}` is extracted as {} here but as {} \
                                     at line {}",
                                    variable.value,
                                    ty.as_str(),
                                    first_ty.as_str(),
                                    first_pos.line
                                ),
                            )
                            .help("give both the same `type`, or give one a different `variable` name");
                    }
                    Some(_) => {}
                    None => {
                        self.api_index
                            .insert(variable.value.clone(), self.api_values.len());
                        self.api_values
                            .push((variable.value.clone(), ty, variable.pos));
                    }
                }
            }
        }
    }

    /// Reports `key` missing from the `what` (an API call, a webhook) that starts at `item`,
    /// unless the key is there with a bad value (reported already).
    fn required<'t>(
        &mut self,
        field: Option<&'t Text>,
        (what, item, present): (&str, Pos, &[&str]),
        key: &str,
        help: &str,
    ) -> Option<&'t Text> {
        if field.is_none() && !present.contains(&key) {
            self.report
                .error(
                    item,
                    format!("this {what} is missing the required field `{key}`"),
                )
                .help(help);
        }
        field
    }

    fn prompts(&mut self, document: &Document) -> Vec<ir::Prompt> {
        let mut prompts = Vec::new();
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for decl in &document.prompts {
            let mut valid = self.name(&decl.name, "prompt");
            if let Some(first) = seen.insert(&decl.name.value, decl.name.pos) {
                self.duplicate(&decl.name, "prompt", first);
                valid = false;
            }
            let template = self.template(&decl.template, &[], Place::Prompt);
            if let (true, Some(template)) = (valid, template) {
                prompts.push(ir::Prompt {
                    name: decl.name.value.clone(),
                    template,
                });
            }
        }
        prompts
    }

    /// Checks a name is a usable snake_case Rust identifier; reports and returns false if not.
    fn name(&mut self, name: &Text, what: &str) -> bool {
        let value = &name.value;
        let width = value.chars().count();
        let snake = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && value != "_";
        if !snake {
            let suggestion = to_snake_case(value);
            let diagnostic = self.report.error_spanning(
                name.pos,
                width,
                format!(
                    "{what} name `{value}` must be snake_case: lowercase letters, digits and `_`"
                ),
            );
            if !suggestion.is_empty() && suggestion != *value {
                diagnostic.help(format!("write `{suggestion}`"));
            }
            return false;
        }
        if RUST_KEYWORDS.contains(&value.as_str()) {
            self.report
                .error_spanning(
                    name.pos,
                    width,
                    format!(
                        "{what} name `{value}` is a Rust keyword and cannot name generated code"
                    ),
                )
                .help(format!("pick another name, such as `{value}_value`"));
            return false;
        }
        true
    }

    fn duplicate(&mut self, name: &Text, what: &str, first: Pos) {
        self.report
            .error_spanning(
                name.pos,
                name.value.chars().count(),
                format!("{what} `{}` is defined twice", name.value),
            )
            .help(format!("the first definition is at line {}", first.line));
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try",
];

fn to_snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = true;
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
            previous_lower = false;
        }
    }
    out.trim_end_matches('_').to_owned()
}
