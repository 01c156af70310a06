//! The located YAML tree to the calls.yaml syntax tree: which keys exist and what type each
//! value has. Meaning (names resolve, URLs are well formed...) is `validate`'s job.

use crate::diagnostic::{Pos, Reporter, did_you_mean};

use super::anchors::Anchors;
use super::yaml::{Node, Value, quoted};

pub(crate) mod auth;
mod messages;
mod params;
mod values;

pub(crate) use auth::{AuthDecl, AuthKindDecl};
pub(crate) use messages::{DelayedDecl, MessagesDecl};
pub(crate) use params::ParamDecl;
#[cfg(test)]
pub(crate) use params::{ITEM_KEYS, PARAM_KEYS};
use values::{boolean, entries_of, key_text, mapping, scalar, string_map, text, unreachable_key};
pub(crate) use values::{describe, scalar_text, unquoted_template};

/// A string scalar and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Text {
    pub value: String,
    pub pos: Pos,
    /// Where the value's `{{` are in the source, which places any offset in the value.
    anchors: Anchors,
}

impl Text {
    /// The source position of byte `offset` of the value: where a diagnostic about that part
    /// of it (a `{{...}}`, a control character) points, through quotes, escapes and block
    /// indentation.
    pub(crate) fn pos_at(&self, offset: usize) -> Pos {
        self.anchors.pos_at(self.pos, &self.value, offset)
    }

    /// How many characters a diagnostic underlines to cover the whole value.
    pub(crate) fn width(&self) -> usize {
        self.value.chars().count()
    }

    /// How many characters bytes `offset..offset + len` of the value are: what a diagnostic
    /// underlines for that part of it (a `{{...}}`, say). `None` when that is not a range of
    /// the value.
    pub(crate) fn width_of(&self, offset: usize, len: usize) -> Option<usize> {
        let end = offset.checked_add(len)?;
        Some(self.value.get(offset..end)?.chars().count())
    }
}

#[derive(Debug, Default)]
pub(crate) struct Document {
    pub variables: Vec<VariableDecl>,
    pub calls: Vec<CallDecl>,
    pub prompts: Vec<PromptDecl>,
    pub webhooks: Vec<WebhookDecl>,
    /// `auth:`: named schemes.
    pub auth: Vec<AuthDecl>,
}

#[derive(Debug)]
pub(crate) struct VariableDecl {
    pub name: Text,
    pub description: Option<Text>,
    pub secret: bool,
    pub ty: Option<Text>,
    /// An example value, shown in the generated docs.
    pub example: Option<Text>,
}

#[derive(Debug)]
pub(crate) struct CallDecl {
    /// Where the call's mapping starts: missing fields are reported here.
    pub pos: Pos,
    pub name: Option<Text>,
    pub description: Option<Text>,
    pub url: Option<Text>,
    pub method: Option<Text>,
    pub timeout_ms: Option<(i128, Pos)>,
    pub headers: Vec<(Text, Text)>,
    pub query: Vec<(Text, Text)>,
    pub parameters: Vec<ParamDecl>,
    pub response_variables: Vec<ResponseVarDecl>,
    /// The JSON body template, as YAML, and its `body:` key.
    pub body: Option<(Node, Text)>,
    /// The keys the call has, valid or not: a key with a bad value is not also "missing".
    pub present: Vec<&'static str>,
    pub failure_message: Option<Text>,
    pub retries: Option<(i128, Pos)>,
    /// What to say while it runs.
    pub messages: Option<MessagesDecl>,
    /// `wait` (the default) or `async`.
    pub execution: Option<Text>,
    /// The name of its `auth:` scheme.
    pub auth: Option<Text>,
}

#[derive(Debug)]
pub(crate) struct ResponseVarDecl {
    pub pos: Pos,
    pub path: Option<Text>,
    pub variable: Option<Text>,
    pub ty: Option<Text>,
    pub required: bool,
}

/// A `webhooks: post_call:` entry: sent when the conversation ends.
#[derive(Debug)]
pub(crate) struct WebhookDecl {
    /// Where the webhook's mapping starts: missing fields are reported here.
    pub pos: Pos,
    pub name: Option<Text>,
    pub description: Option<Text>,
    pub url: Option<Text>,
    pub headers: Vec<(Text, Text)>,
    pub timeout_ms: Option<(i128, Pos)>,
    pub retries: Option<(i128, Pos)>,
    /// The variable whose value signs the webhook.
    pub secret: Option<Text>,
    /// The JSON body template, as YAML, and its `body:` key.
    pub body: Option<(Node, Text)>,
    pub present: Vec<&'static str>,
    /// The name of its `auth:` scheme.
    pub auth: Option<Text>,
}

#[derive(Debug)]
pub(crate) struct PromptDecl {
    pub name: Text,
    pub template: Text,
}

pub(crate) const TOP_KEYS: &[&str] = &["variables", "auth", "api_calls", "prompts", "webhooks"];
/// When webhooks are sent; only at the end of a conversation, for now.
pub(crate) const WEBHOOK_EVENTS: &[&str] = &["post_call"];
pub(crate) const WEBHOOK_KEYS: &[&str] = &[
    "name",
    "description",
    "url",
    "headers",
    "timeout_ms",
    "retries",
    "secret",
    "body",
    "auth",
];
pub(crate) const VARIABLE_KEYS: &[&str] = &["description", "secret", "type", "example"];
pub(crate) const CALL_KEYS: &[&str] = &[
    "name",
    "description",
    "url",
    "method",
    "timeout_ms",
    "headers",
    "query",
    "parameters",
    "response_variables",
    "body",
    "failure_message",
    "retries",
    "messages",
    "execution",
    "auth",
];
pub(crate) const RESPONSE_VAR_KEYS: &[&str] = &["path", "variable", "type", "required"];

/// Reads the document's structure, reporting every unknown key and mistyped value.
pub(crate) fn read(root: &Node, report: &mut Reporter<'_>) -> Document {
    let mut document = Document::default();
    match &root.value {
        Value::Null => {
            report
                .error(Pos::new(1, 1), "the file defines no API calls")
                .help("add an `api_calls:` list; see the README for a minimal calls.yaml");
        }
        Value::Map(entries) => {
            for (key, value) in entries {
                let Some(key_name) = key_text(key, TOP_KEYS, report) else {
                    continue;
                };
                match key_name {
                    "variables" => read_variables(value, report, &mut document.variables),
                    "api_calls" => {
                        for (item, fields) in entries_of(value, "api_calls", "an API call", report)
                        {
                            document.calls.push(read_call(item, fields, report));
                        }
                    }
                    "prompts" => read_prompts(value, report, &mut document.prompts),
                    "webhooks" => read_webhooks(value, report, &mut document.webhooks),
                    "auth" => auth::read_auth(value, report, &mut document.auth),
                    _ => unreachable_key(key, report),
                }
            }
            if !entries
                .iter()
                .any(|(key, _)| key.as_str() == Some("api_calls"))
            {
                report
                    .error(
                        root.pos,
                        "missing `api_calls:`: the file defines no API calls",
                    )
                    .help("add an `api_calls:` list of calls");
            }
        }
        other => {
            report
                .error(
                    root.pos,
                    format!(
                        "a calls.yaml file must be a mapping with `api_calls:`, found {}",
                        other.kind()
                    ),
                )
                .help("start the file with `api_calls:`");
        }
    }
    document
}

fn read_variables(node: &Node, report: &mut Reporter<'_>, out: &mut Vec<VariableDecl>) {
    let Some(entries) = mapping(node, "variables", report) else {
        return;
    };
    for (key, value) in entries {
        let Some(name) = text(key, "a variable name", report) else {
            continue;
        };
        let mut variable = VariableDecl {
            name,
            description: None,
            secret: false,
            ty: None,
            example: None,
        };
        if !matches!(value.value, Value::Null) {
            let Some(fields) = mapping(value, "a variable", report) else {
                continue;
            };
            for (field, field_value) in fields {
                match key_text(field, VARIABLE_KEYS, report) {
                    Some("description") => {
                        variable.description = text(field_value, "`description`", report);
                    }
                    Some("secret") => {
                        variable.secret = boolean(field_value, "`secret`", report).unwrap_or(false);
                    }
                    Some("type") => variable.ty = text(field_value, "`type`", report),
                    Some("example") => variable.example = scalar(field_value, "`example`", report),
                    Some(_) => unreachable_key(field, report),
                    None => {}
                }
            }
        }
        out.push(variable);
    }
}

fn read_call(node: &Node, fields: &[(Node, Node)], report: &mut Reporter<'_>) -> CallDecl {
    let mut call = CallDecl {
        pos: node.pos,
        name: None,
        description: None,
        url: None,
        method: None,
        timeout_ms: None,
        headers: Vec::new(),
        query: Vec::new(),
        parameters: Vec::new(),
        response_variables: Vec::new(),
        body: None,
        present: Vec::new(),
        failure_message: None,
        retries: None,
        messages: None,
        execution: None,
        auth: None,
    };
    for (key, value) in fields {
        let known = key_text(key, CALL_KEYS, report);
        call.present.extend(known);
        match known {
            Some("name") => call.name = text(value, "`name`", report),
            Some("description") => call.description = text(value, "`description`", report),
            Some("url") => call.url = text(value, "`url`", report),
            Some("method") => call.method = text(value, "`method`", report),
            Some("timeout_ms") => call.timeout_ms = timeout_ms(value, report),
            Some("headers") => call.headers = string_map(value, "`headers`", report),
            Some("query") => call.query = string_map(value, "`query`", report),
            Some("parameters") => {
                call.parameters = params::read_params(value, "parameters", report);
            }
            Some("response_variables") => {
                let what = "a response variable";
                for (item, fields) in entries_of(value, "response_variables", what, report) {
                    call.response_variables
                        .push(read_response_var(item, fields, report));
                }
            }
            Some("body") => call.body = Some((value.clone(), scalar_text(key, "body".to_owned()))),
            Some("failure_message") => {
                call.failure_message = text(value, "`failure_message`", report);
            }
            Some("retries") => call.retries = retries(value, report),
            Some("messages") => call.messages = Some(messages::read_messages(value, report)),
            Some("execution") => call.execution = text(value, "`execution`", report),
            Some("auth") => call.auth = text(value, "`auth`", report),
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    call
}

fn timeout_ms(value: &Node, report: &mut Reporter<'_>) -> Option<(i128, Pos)> {
    whole_number(
        value,
        "`timeout_ms`",
        "a whole number of milliseconds",
        "for example `timeout_ms: 5000` (the default)",
        report,
    )
}

fn retries(value: &Node, report: &mut Reporter<'_>) -> Option<(i128, Pos)> {
    whole_number(
        value,
        "`retries`",
        "a whole number",
        "for example `retries: 2`",
        report,
    )
}

fn whole_number(
    value: &Node,
    what: &str,
    expected: &str,
    example: &str,
    report: &mut Reporter<'_>,
) -> Option<(i128, Pos)> {
    if let Value::Int(n) = value.value {
        return Some((n, value.pos));
    }
    let message = if value.is_huge_int() {
        format!("{what} is far out of range, found {}", describe(value))
    } else {
        format!("{what} must be {expected}, found {}", describe(value))
    };
    report.error(value.pos, message).help(example);
    None
}

fn read_webhooks(node: &Node, report: &mut Reporter<'_>, out: &mut Vec<WebhookDecl>) {
    for (key, value) in mapping(node, "webhooks", report).unwrap_or_default() {
        match key_text(key, WEBHOOK_EVENTS, report) {
            Some("post_call") => {
                for (item, fields) in entries_of(value, "post_call", "a webhook", report) {
                    out.push(read_webhook(item, fields, report));
                }
            }
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
}

fn read_webhook(node: &Node, fields: &[(Node, Node)], report: &mut Reporter<'_>) -> WebhookDecl {
    let mut webhook = WebhookDecl {
        pos: node.pos,
        name: None,
        description: None,
        url: None,
        headers: Vec::new(),
        timeout_ms: None,
        retries: None,
        secret: None,
        body: None,
        present: Vec::new(),
        auth: None,
    };
    for (key, value) in fields {
        let known = key_text(key, WEBHOOK_KEYS, report);
        webhook.present.extend(known);
        match known {
            Some("name") => webhook.name = text(value, "`name`", report),
            Some("description") => webhook.description = text(value, "`description`", report),
            Some("url") => webhook.url = text(value, "`url`", report),
            Some("headers") => webhook.headers = string_map(value, "`headers`", report),
            Some("timeout_ms") => webhook.timeout_ms = timeout_ms(value, report),
            Some("retries") => webhook.retries = retries(value, report),
            Some("secret") => webhook.secret = text(value, "`secret`", report),
            Some("auth") => webhook.auth = text(value, "`auth`", report),
            Some("body") => {
                webhook.body = Some((value.clone(), scalar_text(key, "body".to_owned())));
            }
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    webhook
}

fn read_response_var(
    node: &Node,
    fields: &[(Node, Node)],
    report: &mut Reporter<'_>,
) -> ResponseVarDecl {
    let mut variable = ResponseVarDecl {
        pos: node.pos,
        path: None,
        variable: None,
        ty: None,
        required: false,
    };
    for (key, value) in fields {
        match key_text(key, RESPONSE_VAR_KEYS, report) {
            Some("path") => variable.path = text(value, "`path`", report),
            Some("variable") => variable.variable = text(value, "`variable`", report),
            Some("type") => variable.ty = text(value, "`type`", report),
            Some("required") => {
                variable.required = boolean(value, "`required`", report).unwrap_or(false);
            }
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    variable
}

fn read_prompts(node: &Node, report: &mut Reporter<'_>, out: &mut Vec<PromptDecl>) {
    for (key, value) in mapping(node, "prompts", report).unwrap_or_default() {
        let name = text(key, "a prompt name", report);
        let template = text(value, "a prompt", report);
        if let (Some(name), Some(template)) = (name, template) {
            out.push(PromptDecl { name, template });
        }
    }
}
