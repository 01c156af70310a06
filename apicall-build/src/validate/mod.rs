//! The rules of calls.yaml: every name resolves, every value is in range, every URL is safe.
//! Reports all violations and, when there are none, yields the checked model (`ir`).
//!
//! Laid out like serde_derive's `internals/check.rs`: each rule is one short function named
//! after it, whose doc comment states the rule, and the functions that build the model call
//! them in order. The rules are grouped by what they check:
//!
//! - `mod.rs`: the order of the checks, context variables and prompts;
//! - `names.rs`: names (snake_case, not a keyword, defined once) and the Rust names they
//!   generate;
//! - `call.rs`: an API call's fields, method, timeout and retries;
//! - `params.rs`: LLM parameters: types, enums, arrays and objects;
//! - `response.rs`: response variables and the `api.*` values they fill;
//! - `url.rs`: URLs, headers and query values;
//! - `body.rs`: JSON bodies;
//! - `templates.rs`: `{{...}}` variables, and where they are in the source;
//! - `webhook.rs`: webhooks and their signing secret;
//! - `auth.rs`: `auth:` schemes and the calls and webhooks that use them;
//! - `targets.rs`: what the selected LLM APIs take (name lengths, enum sizes).
//!
//! No rule counts characters or columns itself: widths and positions come from `parse`
//! (`Text::width`, `Text::width_of`, and `Text::pos_at` for an offset in a scalar's value).

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Pos, Reporter, did_you_mean, nearest};
use crate::ir;
use crate::names::Owner;
use crate::parse::document::{
    CallDecl, Document, ParamDecl, ResponseVarDecl, Text, VariableDecl, WebhookDecl, describe,
    scalar_text, unquoted_template,
};
use crate::parse::path;
use crate::parse::template::{self, Namespace, VarRef};
use crate::parse::yaml::{Node, Value, quoted};
use crate::targets::Target;

mod auth;
mod authority;
mod body;
mod call;
mod messages;
mod names;
mod params;
mod response;
mod targets;
mod templates;
mod url;
mod webhook;

use url::url_or_stand_in;

const DEFAULT_TIMEOUT_MS: u64 = 5000;
const MAX_TIMEOUT_MS: u64 = 60_000;
const MAX_RETRIES: u32 = 5;
const DEFAULT_WEBHOOK_RETRIES: u32 = 3;
const MAX_WEBHOOK_RETRIES: u32 = 10;
/// Stands in for a URL that had errors; never sent, since the errors stop the build.
const INVALID_URL: &str = "http://invalid.invalid/";
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const EXECUTIONS: &[&str] = &["wait", "async"];
const TYPES: &[&str] = &["string", "integer", "number", "boolean"];

/// Checks the document and builds the model. When anything was reported the model is a
/// best-effort stand-in (bad parts left out or defaulted), for error recovery only.
pub(crate) fn validate(
    document: &Document,
    report: &mut Reporter<'_>,
    targets: &[Target],
) -> ir::File {
    let mut checker = Checker::new(report, targets);
    checker.variables(document);
    checker.auth_schemes(document);
    checker.api_values(document);
    let mut call_names = HashMap::new();
    let calls = (document.calls.iter())
        .filter_map(|decl| checker.call(decl, &mut call_names))
        .collect();
    let prompts = checker.prompts(document);
    let webhooks = checker.webhooks(document);
    let mut file = ir::File {
        variables: std::mem::take(&mut checker.variables),
        calls,
        api_values: std::mem::take(&mut checker.api_values)
            .into_iter()
            .map(|(name, ty, _)| ir::ApiValue { name, ty })
            .collect(),
        prompts,
        webhooks,
    };
    // Items whose Rust names clash are reported and left out of the recovery code.
    let clashing = checker.generated_names_distinct(&file, &call_names, document);
    leave_out(&mut file, &clashing);
    file
}

/// Removes the calls, prompts and webhooks in `clashing` from the model.
fn leave_out(file: &mut ir::File, clashing: &HashSet<Owner>) {
    if clashing.is_empty() {
        return;
    }
    file.calls
        .retain(|call| !clashing.contains(&Owner::Call(call.name.clone())));
    file.prompts
        .retain(|prompt| !clashing.contains(&Owner::Prompt(prompt.name.clone())));
    file.webhooks
        .retain(|webhook| !clashing.contains(&Owner::Webhook(webhook.name.clone())));
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
    /// A call's spoken message: context, the call's `{{collected.*}}` and `api.*` values, with
    /// defaults and conditionals; never a secret.
    Message,
    /// An `auth:` scheme's text (a client id, a user name): shared by every call that uses
    /// it, so context variables only.
    Auth,
}

impl Place {
    fn allows(self, namespace: Namespace) -> bool {
        match namespace {
            Namespace::Context => true,
            Namespace::Api => self != Place::Auth,
            Namespace::Collected => matches!(self, Place::Request | Place::Message),
            Namespace::Call => self == Place::Webhook,
        }
    }
}

/// An item of the document with required fields: what to call it in messages ("API call"),
/// where it starts, and the keys it has (valid or not).
type Item<'d> = (&'d str, Pos, &'d [&'static str]);

/// The context in which every rule runs: where to report, and what was declared so far.
struct Checker<'a, 'r> {
    report: &'a mut Reporter<'r>,
    /// The LLM APIs the tools must fit.
    targets: &'a [Target],
    /// The `auth:` schemes that checked out, by name.
    auth: Vec<ir::AuthScheme>,
    /// Every scheme name declared, checked out or not: an `auth:` naming one with errors is
    /// not also "unknown".
    auth_declared: Vec<String>,
    variables: Vec<ir::Variable>,
    /// name, type, where first declared
    api_values: Vec<(String, ir::ValueType, Pos)>,
    /// Where each name is in `api_values`: files with thousands of calls look names up often.
    api_index: HashMap<String, usize>,
}

impl<'a, 'r> Checker<'a, 'r> {
    fn new(report: &'a mut Reporter<'r>, targets: &'a [Target]) -> Self {
        Self {
            report,
            targets,
            auth: Vec::new(),
            auth_declared: Vec::new(),
            variables: Vec::new(),
            api_values: Vec::new(),
            api_index: HashMap::new(),
        }
    }
}

impl Checker<'_, '_> {
    /// The context variables: each named well and once, with a known type.
    fn variables(&mut self, document: &Document) {
        let mut seen = HashMap::new();
        for decl in &document.variables {
            if !self.name(&decl.name, "variable")
                || !self.defined_once(&decl.name, "variable", &mut seen)
            {
                continue;
            }
            let Some(ty) = self.variable_type(decl) else {
                continue;
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

    /// A variable's `type`, a string when left out.
    fn variable_type(&mut self, decl: &VariableDecl) -> Option<ir::ValueType> {
        let Some(ty) = &decl.ty else {
            return Some(ir::ValueType::String);
        };
        let value_type = self.value_type(ty)?;
        self.secret_is_string(decl, ty, value_type)
            .then_some(value_type)
    }

    /// A secret variable is a string: it goes into headers and signatures as text.
    fn secret_is_string(&mut self, decl: &VariableDecl, ty: &Text, value: ir::ValueType) -> bool {
        if !decl.secret || value == ir::ValueType::String {
            return true;
        }
        self.report
            .error_spanning(ty.pos, ty.width(), "a secret must be a string")
            .help("remove `type:`, or `secret: true`");
        false
    }

    /// A type is one of `string`, `integer`, `number` and `boolean`.
    fn value_type(&mut self, ty: &Text) -> Option<ir::ValueType> {
        match ty.value.as_str() {
            "string" => Some(ir::ValueType::String),
            "integer" => Some(ir::ValueType::Integer),
            "number" => Some(ir::ValueType::Number),
            "boolean" => Some(ir::ValueType::Boolean),
            other => {
                let help = did_you_mean(other, TYPES.iter().copied())
                    .unwrap_or_else(|| "use string, integer, number or boolean".to_owned());
                self.report
                    .error_spanning(ty.pos, ty.width(), format!("unknown type `{other}`"))
                    .help(help);
                None
            }
        }
    }

    /// A required field is there: reports `key` missing from `item` (an API call, a webhook)
    /// unless the key is there with a bad value (reported already).
    fn required(
        &mut self,
        field: Option<&Text>,
        (what, pos, present): Item<'_>,
        key: &str,
        help: &str,
    ) {
        if field.is_none() && !present.contains(&key) {
            self.report
                .error(
                    pos,
                    format!("this {what} is missing the required field `{key}`"),
                )
                .help(help);
        }
    }

    /// The prompts: each named well and once, its template using what a prompt may.
    fn prompts(&mut self, document: &Document) -> Vec<ir::Prompt> {
        let mut prompts = Vec::new();
        let mut seen = HashMap::new();
        for decl in &document.prompts {
            let named = self.name(&decl.name, "prompt");
            let once = self.defined_once(&decl.name, "prompt", &mut seen);
            let template = self.prompt_template(&decl.template);
            if named && once {
                prompts.push(ir::Prompt {
                    name: decl.name.value.clone(),
                    template,
                });
            }
        }
        prompts
    }
}
