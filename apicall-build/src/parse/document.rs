//! The located YAML tree to the calls.yaml syntax tree: which keys exist and what type each
//! value has. Meaning (names resolve, URLs are well formed...) is `validate`'s job.

use crate::diagnostic::{Pos, Reporter, did_you_mean};

use super::yaml::{Node, Value, quoted};

/// A string scalar and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Text {
    pub value: String,
    pub pos: Pos,
    /// Byte range of the scalar's source text (with quotes or block indicators).
    pub bytes: Option<(usize, usize)>,
}

#[derive(Debug, Default)]
pub(crate) struct Document {
    pub variables: Vec<VariableDecl>,
    pub calls: Vec<CallDecl>,
    pub prompts: Vec<PromptDecl>,
    pub webhooks: Vec<WebhookDecl>,
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
    /// The JSON body template, as YAML, and where its `body:` key is.
    pub body: Option<(Node, Pos)>,
    /// The keys the call has, valid or not: a key with a bad value is not also "missing".
    pub present: Vec<&'static str>,
    pub failure_message: Option<Text>,
    pub retries: Option<(i128, Pos)>,
}

#[derive(Debug)]
pub(crate) struct ParamDecl {
    pub pos: Pos,
    pub name: Option<Text>,
    pub ty: Option<Text>,
    /// `enum: [...]`: the values the LLM may choose from.
    pub choices: Option<(Vec<Text>, Pos)>,
    pub description: Option<Text>,
    pub required: bool,
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
    pub body: Option<(Node, Pos)>,
    pub present: Vec<&'static str>,
}

#[derive(Debug)]
pub(crate) struct PromptDecl {
    pub name: Text,
    pub template: Text,
}

pub(crate) const TOP_KEYS: &[&str] = &["variables", "api_calls", "prompts", "webhooks"];
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
];
pub(crate) const PARAM_KEYS: &[&str] = &["name", "type", "enum", "description", "required"];
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
                for (item, fields) in entries_of(value, "parameters", "a parameter", report) {
                    call.parameters.push(read_param(item, fields, report));
                }
            }
            Some("response_variables") => {
                let what = "a response variable";
                for (item, fields) in entries_of(value, "response_variables", what, report) {
                    call.response_variables
                        .push(read_response_var(item, fields, report));
                }
            }
            Some("body") => call.body = Some((value.clone(), key.pos)),
            Some("failure_message") => {
                call.failure_message = text(value, "`failure_message`", report);
            }
            Some("retries") => call.retries = retries(value, report),
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
            Some("body") => webhook.body = Some((value.clone(), key.pos)),
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    webhook
}

fn read_param(node: &Node, fields: &[(Node, Node)], report: &mut Reporter<'_>) -> ParamDecl {
    let mut param = ParamDecl {
        pos: node.pos,
        name: None,
        ty: None,
        choices: None,
        description: None,
        required: false,
    };
    for (key, value) in fields {
        match key_text(key, PARAM_KEYS, report) {
            Some("name") => param.name = text(value, "`name`", report),
            Some("type") => param.ty = text(value, "`type`", report),
            Some("enum") => {
                let choices = list(value, "enum", report)
                    .iter()
                    .filter_map(|choice| scalar(choice, "an `enum` value", report))
                    .collect();
                param.choices = Some((choices, value.pos));
            }
            Some("description") => param.description = text(value, "`description`", report),
            Some("required") => {
                param.required = boolean(value, "`required`", report).unwrap_or(false);
            }
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    param
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

fn mapping<'n>(
    node: &'n Node,
    what: &str,
    report: &mut Reporter<'_>,
) -> Option<&'n [(Node, Node)]> {
    match &node.value {
        Value::Map(entries) => Some(entries),
        Value::Null => Some(&[]),
        _ => {
            report.error(
                node.pos,
                format!(
                    "{what} must be a mapping of `key: value`, found {}",
                    describe(node)
                ),
            );
            None
        }
    }
}

/// Entries of a list that are not mappings reported one by one, up to this many; the rest
/// are counted in one more error. A list of 10,000 numbers is one mistake (usually by
/// whatever generated the file), and 10,000 errors would bury it.
const MAX_ENTRY_ERRORS: usize = 20;

/// The entries of the list `key` that are mappings, with their fields. Each other entry is one
/// error and no entry, so it is not also missing every required field.
fn entries_of<'n>(
    node: &'n Node,
    key: &str,
    what: &str,
    report: &mut Reporter<'_>,
) -> Vec<(&'n Node, &'n [(Node, Node)])> {
    let mut entries = Vec::new();
    let mut wrong = Vec::new();
    for item in list(node, key, report) {
        match &item.value {
            Value::Map(fields) => entries.push((item, fields.as_slice())),
            _ => wrong.push(item),
        }
    }
    for item in wrong.iter().take(MAX_ENTRY_ERRORS) {
        report.error(
            item.pos,
            format!(
                "{what} must be a mapping of `key: value`, found {}",
                describe(item)
            ),
        );
    }
    if let Some(first_unreported) = wrong.get(MAX_ENTRY_ERRORS) {
        let more = wrong.len() - MAX_ENTRY_ERRORS;
        report
            .error(
                first_unreported.pos,
                format!("{more} more entries of `{key}` from here on are not mappings either"),
            )
            .help(format!(
                "each entry of `{key}` is `key: value` lines under a `- `"
            ));
    }
    entries
}

fn list<'n>(node: &'n Node, what: &str, report: &mut Reporter<'_>) -> &'n [Node] {
    match &node.value {
        Value::Seq(items) => items,
        Value::Null => &[],
        _ => {
            report
                .error(
                    node.pos,
                    format!("`{what}` must be a list, found {}", describe(node)),
                )
                .help("start each entry on its own line with `- `");
            &[]
        }
    }
}

/// A mapping of names to template strings (headers, query). Plain numbers and booleans are
/// accepted as their text, since `page: 1` reads naturally.
fn string_map(node: &Node, what: &str, report: &mut Reporter<'_>) -> Vec<(Text, Text)> {
    let mut out = Vec::new();
    for (key, value) in mapping(node, what, report).unwrap_or_default() {
        let key = text(key, "a name", report);
        let value = scalar(value, "a value", report);
        if let (Some(key), Some(value)) = (key, value) {
            out.push((key, value));
        }
    }
    out
}

/// A scalar as text: strings as they are, numbers and booleans as written.
fn scalar(node: &Node, what: &str, report: &mut Reporter<'_>) -> Option<Text> {
    let shown = |value: String| node.written.clone().unwrap_or(value);
    match &node.value {
        Value::Int(n) => Some(scalar_text(node, shown(n.to_string()))),
        Value::Float(n) => Some(scalar_text(node, shown(n.to_string()))),
        Value::Bool(b) => Some(scalar_text(node, shown(b.to_string()))),
        _ => text(node, what, report),
    }
}

fn scalar_text(node: &Node, value: String) -> Text {
    Text {
        value,
        pos: node.pos,
        bytes: node.bytes,
    }
}

fn text(node: &Node, what: &str, report: &mut Reporter<'_>) -> Option<Text> {
    if let Value::Str(value) = &node.value {
        return Some(scalar_text(node, value.clone()));
    }
    if let Some(template) = unquoted_template(node) {
        report
            .error(node.pos, "YAML reads this as a mapping; quote it")
            .help(format!("write `{}`", quoted(&template)));
    } else {
        report.error(
            node.pos,
            format!("{what} must be a string, found {}", describe(node)),
        );
    }
    None
}

fn boolean(node: &Node, what: &str, report: &mut Reporter<'_>) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => {
            report
                .error(
                    node.pos,
                    format!("{what} must be `true` or `false`, found {}", describe(node)),
                )
                .help("write `true` or `false` without quotes");
            None
        }
    }
}

/// A mapping key that must be one of `known`; reports unknown keys with the nearest known one.
fn key_text<'k>(key: &Node, known: &[&'k str], report: &mut Reporter<'_>) -> Option<&'k str> {
    let Some(given) = key.as_str() else {
        report.error(
            key.pos,
            format!("a key must be a name, found {}", describe(key)),
        );
        return None;
    };
    if let Some(found) = known.iter().find(|k| **k == given) {
        return Some(found);
    }
    let help = did_you_mean(given, known.iter().copied()).unwrap_or_else(|| {
        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        format!("the keys allowed here are {}", list.join(", "))
    });
    report
        .error_spanning(
            key.pos,
            given.chars().count(),
            format!("unknown key `{given}`"),
        )
        .help(help);
    None
}

/// `key_text` returned a key it knows but the caller forgot to handle: a bug in this crate,
/// reported as an error rather than a panic so the user still gets an answer.
fn unreachable_key(key: &Node, report: &mut Reporter<'_>) {
    report.error(
        key.pos,
        "internal error in apicall: this key was accepted but not read; please report it",
    );
}

/// `{{name}}` unquoted, which YAML reads as a mapping whose one key is the mapping `{name}`.
pub(crate) fn unquoted_template(node: &Node) -> Option<String> {
    let Value::Map(outer) = &node.value else {
        return None;
    };
    let [(key, value)] = outer.as_slice() else {
        return None;
    };
    let Value::Map(inner) = &key.value else {
        return None;
    };
    let [(name, inner_value)] = inner.as_slice() else {
        return None;
    };
    let empty = |node: &Node| matches!(node.value, Value::Null);
    (empty(value) && empty(inner_value))
        .then(|| format!("{{{{{}}}}}", name.as_str().unwrap_or("...")))
}

/// A short description of a node for "found ..." messages, quoting numbers as written.
pub(crate) fn describe(node: &Node) -> String {
    let written = |value: String| node.written.clone().unwrap_or(value);
    match &node.value {
        Value::Str(s) if s.chars().count() <= 40 => format!("the string `{s}`"),
        Value::Int(n) => format!("the number `{}`", written(n.to_string())),
        Value::Float(_) if node.is_huge_int() => {
            format!("the number `{}`", written(String::new()))
        }
        Value::Float(n) => format!("`{}`, a decimal", written(n.to_string())),
        Value::Bool(b) => format!("`{}`", written(b.to_string())),
        other => other.kind().to_owned(),
    }
}
