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

    fn call(&mut self, decl: &CallDecl, names: &mut HashMap<String, Pos>) -> Option<ir::Call> {
        let call = ("API call", decl.pos, decl.present.as_slice());
        let name = self.required(
            decl.name.as_ref(),
            call,
            "name",
            "add `name: lookup_customer` (a snake_case identifier)",
        );
        let description = self.required(
            decl.description.as_ref(),
            call,
            "description",
            "add `description:` telling the LLM when to use this call",
        );
        let url = self.required(
            decl.url.as_ref(),
            call,
            "url",
            "add `url: https://...`, the endpoint to call",
        );
        let method = self.required(
            decl.method.as_ref(),
            call,
            "method",
            "add `method: GET` (or POST, PUT, PATCH, DELETE)",
        );

        let mut name = name.filter(|name| self.name(name, "call"));
        if let Some(long) = name.filter(|name| name.value.len() > MAX_TOOL_NAME) {
            // OpenAI and Anthropic refuse tool names over 64 characters.
            self.report
                .error_spanning(
                    long.pos,
                    long.value.chars().count(),
                    format!(
                        "call name `{}` is longer than {MAX_TOOL_NAME} characters",
                        long.value
                    ),
                )
                .help("LLM APIs refuse longer tool names; shorten it");
            name = None;
        }
        if let Some(valid) = name {
            if let Some(first) = names.get(&valid.value) {
                let first = *first;
                self.duplicate(valid, "call", first);
                name = None;
            } else {
                names.insert(valid.value.clone(), valid.pos);
            }
        }
        let method = method.and_then(|method| self.method(method));
        let timeout_ms = self.timeout(decl.timeout_ms, Place::Request);
        let params = self.params(&decl.parameters);
        let url = url.and_then(|url| self.url(url, &params, Place::Request));
        let headers = self.headers(&decl.headers, &params, Place::Request);
        let query = decl
            .query
            .iter()
            .filter_map(|(name, value)| {
                self.control_characters(value, "a query value");
                Some(ir::QueryParam {
                    name: name.value.clone(),
                    value: self.template(value, &params, Place::Request)?,
                })
            })
            .collect::<Vec<_>>();
        let responses = self.responses(decl);
        let body = self.body(decl, method, &params);
        let retries = self.retries(decl, method);
        let failure_message = decl.failure_message.as_ref().map(|m| m.value.clone());
        let (url_text, url) = url_or_stand_in(decl.url.as_ref(), url);
        // Only the name is indispensable; anything else that was wrong has been reported and
        // gets a stand-in, so the generated API stays whole while the errors are fixed.
        Some(ir::Call {
            name: name?.value.clone(),
            description: description.map(|d| d.value.clone()).unwrap_or_default(),
            method: method.unwrap_or(ir::Method::Get),
            timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            url_text,
            url,
            headers,
            query,
            params: params.into_iter().map(|(param, _)| param).collect(),
            responses,
            body: body.unwrap_or(None),
            failure_message,
            retries: retries.unwrap_or(0),
        })
    }

    /// The body: explicit, the LLM parameters by default for POST/PUT/PATCH, or none.
    fn body(
        &mut self,
        decl: &CallDecl,
        method: Option<ir::Method>,
        params: &[(ir::Param, Pos)],
    ) -> Option<Option<ir::Json>> {
        match (&decl.body, method) {
            (Some((_, key)), Some(ir::Method::Get)) => {
                self.report
                    .error_spanning(*key, 4, "a GET request has no body")
                    .help("use POST, PUT or PATCH, or send the values in `query:`");
                None
            }
            (Some((node, _)), _) => self.json(node, params, Place::Request).map(Some),
            (None, Some(ir::Method::Post | ir::Method::Put | ir::Method::Patch)) => {
                Some(Some(ir::Json::Params))
            }
            (None, _) => Some(None),
        }
    }

    fn json(&mut self, node: &Node, params: &[(ir::Param, Pos)], place: Place) -> Option<ir::Json> {
        Some(match &node.value {
            Value::Null => ir::Json::Null,
            Value::Bool(b) => ir::Json::Bool(*b),
            Value::Int(_) | Value::Float(_) => ir::Json::Number(self.json_number(node)?),
            Value::Str(text) => {
                let text = Text {
                    value: text.clone(),
                    pos: node.pos,
                    bytes: node.bytes,
                };
                let template = self.template(&text, params, place)?;
                match template.as_slice() {
                    [ir::Piece::Var(var)] => ir::Json::Var(*var),
                    _ => ir::Json::Text(template),
                }
            }
            Value::Seq(items) => {
                let items: Vec<Option<ir::Json>> = items
                    .iter()
                    .map(|item| self.json(item, params, place))
                    .collect();
                ir::Json::Array(items.into_iter().collect::<Option<_>>()?)
            }
            Value::Map(entries) => {
                // `reason: {{x}}` is a flow mapping to YAML, not the template it looks like.
                if let Some(template) = unquoted_template(node) {
                    self.report
                        .error(node.pos, "YAML reads this as a mapping; quote it")
                        .help(format!("write `{}`", quoted(&template)));
                    return None;
                }
                let mut members = Vec::new();
                let mut ok = true;
                for (key, value) in entries {
                    let Some(key) = key.as_str() else {
                        self.report.error(
                            key.pos,
                            format!(
                                "a JSON object key must be a string, found {}",
                                describe(key)
                            ),
                        );
                        ok = false;
                        continue;
                    };
                    match self.json(value, params, place) {
                        Some(value) => members.push((key.to_owned(), value)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ir::Json::Object(members)
            }
        })
    }

    /// A YAML number as JSON text: as written when that is a JSON number (so
    /// `98765432109876543210` and `1.10` go out digit for digit), else the value in JSON's
    /// spelling (`0x1F` is `31`, `+1.5` is `1.5`).
    fn json_number(&mut self, node: &Node) -> Option<String> {
        let written = node
            .bytes
            .and_then(|(start, len)| self.lines.source().get(start..start + len))
            .map(str::trim);
        if let Some(written) = written.filter(|text| is_json_number(text)) {
            return Some(written.to_owned());
        }
        match node.value {
            Value::Int(n) => Some(n.to_string()),
            Value::Float(n) => match serde_json::Number::from_f64(n) {
                Some(number) => Some(number.to_string()),
                None => {
                    self.report
                        .error(node.pos, "JSON has no infinity or NaN")
                        .help("write the number out, or send it as a string");
                    None
                }
            },
            _ => None,
        }
    }

    fn retries(&mut self, decl: &CallDecl, method: Option<ir::Method>) -> Option<u32> {
        let Some((retries, pos)) = decl.retries else {
            return Some(0);
        };
        let Some(retries) = u32::try_from(retries).ok().filter(|r| *r <= MAX_RETRIES) else {
            self.report
                .error(
                    pos,
                    format!("`retries` must be between 0 and {MAX_RETRIES}, found {retries}"),
                )
                .help("all attempts share the call's one timeout; 1 or 2 is usually enough");
            return None;
        };
        if retries > 0 && matches!(method, Some(ir::Method::Post | ir::Method::Patch)) {
            self.report
                .error(pos, "`retries` is only for GET, PUT and DELETE")
                .help("a repeated POST or PATCH could act twice (two orders, two tickets)");
            return None;
        }
        Some(retries)
    }

    /// Two YAML names can map to one Rust name (`a_b` and `a__b` are both `AB`; a prompt
    /// `x` renders with `render_x`, which a call could also be called): report it here rather
    /// than let rustc complain about code the user never wrote. Returns the items to leave out.
    fn generated_names(
        &mut self,
        file: &ir::File,
        call_names: &HashMap<String, Pos>,
        document: &Document,
    ) -> HashSet<Owner> {
        let prompts: HashMap<&str, Pos> = document
            .prompts
            .iter()
            .map(|p| (p.name.value.as_str(), p.name.pos))
            .collect();
        let webhooks: HashMap<&str, Pos> = document
            .webhooks
            .iter()
            .filter_map(|w| w.name.as_ref())
            .map(|n| (n.value.as_str(), n.pos))
            .collect();
        let pos_of = |owner: &Owner| -> Pos {
            match owner {
                Owner::Fixed => None,
                Owner::Call(name) => call_names.get(name).copied(),
                Owner::Prompt(name) => prompts.get(name.as_str()).copied(),
                Owner::Webhook(name) => webhooks.get(name.as_str()).copied(),
            }
            .unwrap_or_default()
        };
        let claims = names::claims(file);
        let mut taken: HashMap<(names::Space, &str), &names::Claim> = HashMap::new();
        let mut clashing = HashSet::new();
        for claim in &claims {
            let Some(first) = taken.get(&(claim.space, claim.name.as_str())) else {
                taken.insert((claim.space, claim.name.as_str()), claim);
                continue;
            };
            // One error per item: a webhook `x` beside a call `webhook_x` clashes twice (the
            // function and its spec), which is one mistake.
            if clashing.contains(&claim.owner) {
                continue;
            }
            let message = format!(
                "{} would be named `{}`, which is already {}",
                claim.what, claim.name, first.what
            );
            let help = match &first.owner {
                Owner::Fixed => {
                    "rename it in the YAML: apicall generates that name for every file".to_owned()
                }
                owner => match pos_of(owner) {
                    Pos { line: 0, .. } => "rename one of them in the YAML".to_owned(),
                    Pos { line, .. } => {
                        format!("rename one of them in the YAML (the other is at line {line})")
                    }
                },
            };
            self.report.error(pos_of(&claim.owner), message).help(help);
            clashing.insert(claim.owner.clone());
        }
        clashing
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

    fn webhooks(&mut self, document: &Document) -> Vec<ir::Webhook> {
        let mut webhooks = Vec::new();
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for decl in &document.webhooks {
            let webhook = ("webhook", decl.pos, decl.present.as_slice());
            let name = self.required(
                decl.name.as_ref(),
                webhook,
                "name",
                "add `name: crm_summary` (a snake_case identifier)",
            );
            let url = self.required(
                decl.url.as_ref(),
                webhook,
                "url",
                "add `url: https://...`, where the webhook is POSTed",
            );
            let mut valid = name.is_some_and(|name| self.name(name, "webhook"));
            if let Some(name) = decl.name.as_ref().filter(|_| valid)
                && let Some(first) = seen.insert(&name.value, name.pos)
            {
                self.duplicate(name, "webhook", first);
                valid = false;
            }
            let timeout_ms = self.timeout(decl.timeout_ms, Place::Webhook);
            let retries = self.webhook_retries(decl.retries);
            let url = url.and_then(|url| self.url(url, &[], Place::Webhook));
            self.reserved_webhook_headers(&decl.headers);
            let headers = self.headers(&decl.headers, &[], Place::Webhook);
            let body = match &decl.body {
                Some((node, _)) => self.json(node, &[], Place::Webhook),
                None => Some(self.default_webhook_body()),
            };
            let signing_key = decl.secret.as_ref().map(|secret| self.signing_key(secret));
            let (Some(name), true) = (&decl.name, valid) else {
                continue;
            };
            let (url_text, url) = url_or_stand_in(decl.url.as_ref(), url);
            webhooks.push(ir::Webhook {
                name: name.value.clone(),
                description: decl.description.as_ref().map(|d| d.value.clone()),
                timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
                retries: retries.unwrap_or(DEFAULT_WEBHOOK_RETRIES),
                url_text,
                url,
                headers,
                body: body.unwrap_or(ir::Json::Null),
                signing_key: signing_key.flatten(),
            });
        }
        webhooks
    }

    /// Headers apicall sets on every webhook: a second value would confuse the receiver.
    fn reserved_webhook_headers(&mut self, headers: &[(Text, Text)]) {
        for (name, _) in headers {
            let help = match name.value.to_ascii_lowercase().as_str() {
                "content-type" => "webhook bodies are always JSON, sent as `application/json`",
                "idempotency-key" => "it is `<call.id>:<webhook name>`, the same for every attempt",
                "x-apicall-timestamp" | "x-apicall-signature" => {
                    "they sign the webhook when it has a `secret:`"
                }
                _ => continue,
            };
            self.report
                .error_spanning(
                    name.pos,
                    name.value.chars().count(),
                    format!("`{}` is set by apicall on every webhook", name.value),
                )
                .help(format!("remove it: {help}"));
        }
    }

    /// Without `body:`, a webhook sends every fact of the conversation and every `api.*` value.
    fn default_webhook_body(&self) -> ir::Json {
        let call = ir::CallField::ALL
            .into_iter()
            .map(|field| (field.name().to_owned(), ir::Json::Var(ir::Var::Call(field))))
            .collect();
        let api = (0..self.api_values.len())
            .map(|index| {
                (
                    self.api_values[index].0.clone(),
                    ir::Json::Var(ir::Var::Api(index)),
                )
            })
            .collect();
        ir::Json::Object(vec![
            ("call".to_owned(), ir::Json::Object(call)),
            ("api".to_owned(), ir::Json::Object(api)),
        ])
    }

    fn webhook_retries(&mut self, retries: Option<(i128, Pos)>) -> Option<u32> {
        let Some((retries, pos)) = retries else {
            return Some(DEFAULT_WEBHOOK_RETRIES);
        };
        let valid = u32::try_from(retries)
            .ok()
            .filter(|r| *r <= MAX_WEBHOOK_RETRIES);
        if valid.is_none() {
            self.report
                .error(
                    pos,
                    format!(
                        "a webhook's `retries` must be between 0 and {MAX_WEBHOOK_RETRIES}, found {retries}"
                    ),
                )
                .help(format!(
                    "the default is {DEFAULT_WEBHOOK_RETRIES}; waits double each time, up to 30 s"
                ));
        }
        valid
    }

    /// `secret: webhook_secret` (or `secret: "{{webhook_secret}}"`): a declared secret variable.
    fn signing_key(&mut self, secret: &Text) -> Option<usize> {
        let width = secret.value.chars().count().max(1);
        // A bare name, or the name as a template (`{{ webhook_secret }}`), read by the lexer.
        let name = match template::lex(&secret.value).as_deref() {
            Ok([template::Piece::Text(text)]) => text.trim().to_owned(),
            Ok([template::Piece::Var(var_ref, None)])
                if var_ref.namespace == Namespace::Context =>
            {
                var_ref.name.clone()
            }
            _ => {
                self.report
                    .error_spanning(secret.pos, width, "`secret:` names one secret variable")
                    .help("for example `secret: webhook_secret`");
                return None;
            }
        };
        let name = name.as_str();
        let Some(index) = self.variables.iter().position(|v| v.name == name) else {
            let secrets = self
                .variables
                .iter()
                .filter(|v| v.secret)
                .map(|v| v.name.as_str());
            let help = did_you_mean(name, secrets).unwrap_or_else(|| {
                format!("declare it under `variables:` with `secret: true`, e.g. `{name}: {{ secret: true }}`")
            });
            self.report
                .error_spanning(secret.pos, width, format!("unknown variable `{name}`"))
                .help(help);
            return None;
        };
        if !self.variables[index].secret {
            self.report
                .error_spanning(
                    secret.pos,
                    width,
                    format!("`{name}` signs webhooks, so it must be a secret variable"),
                )
                .help(format!(
                    "add `secret: true` to `{name}` under `variables:`, so it never shows in logs"
                ));
            return None;
        }
        Some(index)
    }

    fn method(&mut self, method: &Text) -> Option<ir::Method> {
        match method.value.to_ascii_uppercase().as_str() {
            "GET" => Some(ir::Method::Get),
            "POST" => Some(ir::Method::Post),
            "PUT" => Some(ir::Method::Put),
            "PATCH" => Some(ir::Method::Patch),
            "DELETE" => Some(ir::Method::Delete),
            upper => {
                let help = did_you_mean(upper, METHODS.iter().copied())
                    .unwrap_or_else(|| "use GET, POST, PUT, PATCH or DELETE".to_owned());
                self.report
                    .error_spanning(
                        method.pos,
                        method.value.chars().count(),
                        format!("unknown HTTP method `{}`", method.value),
                    )
                    .help(help);
                None
            }
        }
    }

    fn timeout(&mut self, timeout: Option<(i128, Pos)>, place: Place) -> Option<u64> {
        let Some((ms, pos)) = timeout else {
            return Some(DEFAULT_TIMEOUT_MS);
        };
        match u64::try_from(ms) {
            Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Some(ms),
            _ => {
                self.report
                    .error(
                        pos,
                        format!("`timeout_ms` must be between 1 and {MAX_TIMEOUT_MS}, found {ms}"),
                    )
                    .help(if place == Place::Webhook {
                        "it bounds each attempt; the default is 5000 ms"
                    } else {
                        "someone is waiting on the line: the default is 5000 ms"
                    });
                None
            }
        }
    }

    fn params(&mut self, decls: &[ParamDecl]) -> Vec<(ir::Param, Pos)> {
        let mut params: Vec<(ir::Param, Pos)> = Vec::new();
        for decl in decls {
            let Some(name) = self.required_param_name(decl) else {
                continue;
            };
            if let Some((_, first)) = params.iter().find(|(p, _)| p.name == name.value) {
                let first = *first;
                self.duplicate(name, "parameter", first);
                continue;
            }
            // A bad type is reported; a string stand-in keeps `{{collected.x}}` resolving.
            let ty = self
                .param_type(decl)
                .unwrap_or(ir::ParamType::Value(ir::ValueType::String));
            params.push((
                ir::Param {
                    name: name.value.clone(),
                    description: decl.description.as_ref().map(|d| d.value.clone()),
                    ty,
                    required: decl.required,
                },
                name.pos,
            ));
        }
        params
    }

    fn param_type(&mut self, decl: &ParamDecl) -> Option<ir::ParamType> {
        let ty = match &decl.ty {
            None => ir::ValueType::String,
            Some(ty) => self.value_type(ty)?,
        };
        let Some((choices, pos)) = &decl.choices else {
            return Some(ir::ParamType::Value(ty));
        };
        if ty != ir::ValueType::String {
            let ty_pos = decl.ty.as_ref().map_or(*pos, |t| t.pos);
            self.report
                .error(
                    ty_pos,
                    "an `enum` parameter is a string: its `type` must be `string`",
                )
                .help("remove `type:` or write `type: string`");
            return None;
        }
        if choices.is_empty() {
            self.report
                .error(*pos, "`enum` needs at least one value")
                .help("for example `enum: [standard, express]`");
            return None;
        }
        let mut out: Vec<ir::EnumChoice> = Vec::new();
        let mut ok = true;
        for choice in choices {
            let variant = enum_variant(&choice.value);
            if let Some(clash) = out.iter().find(|c| c.variant == variant) {
                let message = if clash.value == choice.value {
                    format!("`{}` is listed twice in `enum`", choice.value)
                } else {
                    format!(
                        "`{}` and `{}` would both be named `{variant}` in Rust",
                        clash.value, choice.value
                    )
                };
                self.report.error_spanning(
                    choice.pos,
                    choice.value.chars().count().max(1),
                    message,
                );
                ok = false;
                continue;
            }
            out.push(ir::EnumChoice {
                value: choice.value.clone(),
                variant,
            });
        }
        ok.then_some(ir::ParamType::Enum(out))
    }

    fn required_param_name<'d>(&mut self, decl: &'d ParamDecl) -> Option<&'d Text> {
        let Some(name) = &decl.name else {
            self.report
                .error(
                    decl.pos,
                    "this parameter is missing the required field `name`",
                )
                .help("add `name: order_id` (a snake_case identifier)");
            return None;
        };
        self.name(name, "parameter").then_some(name)
    }

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
                    .error_spanning(
                        ty.pos,
                        other.chars().count(),
                        format!("unknown type `{other}`"),
                    )
                    .help(help);
                None
            }
        }
    }

    fn url(
        &mut self,
        url: &Text,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<Vec<ir::UrlPart>> {
        self.control_characters(url, "a URL");
        let pieces = self.template(url, params, place)?;
        let lower = url.value.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            self.report
                .error(
                    url.pos,
                    "the URL must be absolute and start with `http://` or `https://`",
                )
                .help(if place == Place::Webhook {
                    "for example `url: https://crm.example.com/hooks/call-ended`"
                } else {
                    "for example `url: https://api.example.com/orders/{{collected.order_id}}`"
                });
            return None;
        }
        // Where each variable lands decides how it is encoded, so walk the URL's parts.
        #[derive(Clone, Copy, PartialEq)]
        enum Part {
            Authority,
            Path,
            Query,
            Fragment,
        }
        let scheme_len = lower.find("://").map_or(0, |at| at + 3);
        let mut part = Part::Authority;
        let mut parts = Vec::new();
        let mut refs = self.var_refs(url);
        let mut consumed = 0;
        for piece in pieces {
            match piece {
                ir::Piece::Text(text) => {
                    for (i, c) in text.char_indices() {
                        if consumed + i < scheme_len {
                            continue;
                        }
                        part = match (part, c) {
                            (Part::Authority, '/') => Part::Path,
                            (Part::Authority | Part::Path, '?') => Part::Query,
                            (_, '#') => Part::Fragment,
                            (part, _) => part,
                        };
                    }
                    consumed += text.len();
                    parts.push(ir::UrlPart::Literal(text));
                }
                // Reported already: the URL is not a prompt.
                ir::Piece::VarOr(..) | ir::Piece::If { .. } => {}
                ir::Piece::Var(var) => {
                    let var_ref = refs.next();
                    consumed += var_ref.as_ref().map_or(0, |r| r.len);
                    let pos = var_ref.as_ref().map_or(url.pos, |r| self.pos_in(url, r));
                    let width = var_ref.as_ref().map_or(1, |r| {
                        url.value
                            .get(r.offset..r.offset + r.len)
                            .map_or(1, |s| s.chars().count())
                    });
                    match (part, var) {
                        (Part::Authority, ir::Var::Context(_)) => {
                            parts.push(ir::UrlPart::Raw(var));
                        }
                        (Part::Authority, _) => {
                            self.report
                                .error_spanning(
                                    pos,
                                    width,
                                    "a value from the conversation or a response cannot be used \
                                     in the URL's scheme, host or port",
                                )
                                .help(
                                    "it could redirect the request anywhere; put it in the path, \
                                     the query, a header or the body",
                                );
                        }
                        (Part::Path | Part::Query, ir::Var::Collected(index))
                            if !params[index].0.required =>
                        {
                            let name = &params[index].0.name;
                            self.report
                                .error_spanning(
                                    pos,
                                    width,
                                    format!("parameter `{name}` is optional, but the URL cannot do without it"),
                                )
                                .help(format!(
                                    "add `required: true` to `{name}`, or move it to `query:`, where an absent value leaves the entry out"
                                ));
                        }
                        (Part::Path, var) => parts.push(ir::UrlPart::PathValue(var)),
                        (Part::Query, var) => parts.push(ir::UrlPart::QueryValue(var)),
                        (Part::Fragment, _) => {
                            self.report.error_spanning(
                                pos,
                                width,
                                "a variable in the URL's `#fragment` is never sent to the server",
                            );
                        }
                    }
                }
            }
        }
        if lower.len() <= scheme_len || lower[scheme_len..].starts_with(['/', '?', '#']) {
            self.report
                .error(url.pos, "the URL has no host")
                .help("for example `https://api.example.com/...`");
            return None;
        }
        Some(parts)
    }

    /// A line break or NUL written into a URL, header or query value would be refused by
    /// the runtime on every call (or, in a header, would start another header): refuse it now.
    /// Values substituted at run time are checked there, since only then are they known.
    fn control_characters(&mut self, text: &Text, what: &str) {
        let Some((offset, found)) = text
            .value
            .char_indices()
            .find(|(_, c)| matches!(c, '\r' | '\n' | '\0'))
        else {
            return;
        };
        let name = match found {
            '\r' => "a carriage return (CR)",
            '\n' => "a line break (LF)",
            _ => "a NUL character",
        };
        let pos = self.pos_in_text(text, offset);
        let help = if text.value.ends_with('\n') && offset + 1 == text.value.len() {
            "a `|` or `>` block keeps its final line break: write `|-` or `>-`, or a plain value"
        } else if what == "a header value" {
            "remove it: in a header it would end the value and could start another header"
        } else {
            "remove it: HTTP requests cannot carry it there"
        };
        self.report
            .error(pos, format!("{what} contains {name}"))
            .help(help);
    }

    fn headers(
        &mut self,
        entries: &[(Text, Text)],
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Vec<ir::Header> {
        let mut headers = Vec::new();
        for (name, value) in entries {
            let valid_name = !name.value.is_empty()
                && name
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                self.report
                    .error_spanning(
                        name.pos,
                        name.value.chars().count(),
                        format!("`{}` is not a valid HTTP header name", name.value),
                    )
                    .help("header names are letters, digits and `-`, like `X-Api-Key`");
            }
            self.control_characters(value, "a header value");
            let value = self.template(value, params, place);
            if let (true, Some(value)) = (valid_name, value) {
                headers.push(ir::Header {
                    name: name.value.clone(),
                    value,
                });
            }
        }
        headers
    }

    fn responses(&mut self, decl: &CallDecl) -> Vec<ir::ResponseVar> {
        let mut responses = Vec::new();
        for variable in &decl.response_variables {
            let Some(path_text) = &variable.path else {
                self.report
                    .error(
                        variable.pos,
                        "this response variable is missing the required field `path`",
                    )
                    .help("add `path: customer.name`, where the value sits in the JSON response");
                continue;
            };
            let Some(name) = &variable.variable else {
                self.report
                    .error(
                        variable.pos,
                        "this response variable is missing the required field `variable`",
                    )
                    .help("add `variable: customer_name`, the name prompts use as `{{api.customer_name}}`");
                continue;
            };
            let segments = match path::parse(&path_text.value) {
                Ok(segments) => segments,
                Err(error) => {
                    let pos = self.pos_in_text(path_text, error.offset);
                    self.report
                        .error(pos, format!("invalid path: {}", error.message));
                    continue;
                }
            };
            let found = self.api_index.get(&name.value).copied();
            let Some((_, ty, _)) = found.map(|index| &self.api_values[index]) else {
                // Already reported while collecting (bad name or type).
                continue;
            };
            if responses
                .iter()
                .any(|r: &ir::ResponseVar| r.name == name.value)
            {
                self.report
                    .error_spanning(
                        name.pos,
                        name.value.chars().count(),
                        format!("this call extracts `{}` twice", name.value),
                    )
                    .help("each response variable of a call needs its own name");
                continue;
            }
            responses.push(ir::ResponseVar {
                name: name.value.clone(),
                path: segments,
                ty: *ty,
                required: variable.required,
            });
        }
        responses
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

    /// Lexes a template and resolves each variable, reporting every unknown or misplaced one.
    fn template(
        &mut self,
        text: &Text,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<ir::Template> {
        // Always Some: a bad variable is reported and left out, so the rest of the file still
        // generates and one typo does not cascade into errors in the user's Rust code.
        let pieces = match template::lex(&text.value) {
            Ok(pieces) => pieces,
            Err(error) => {
                let pos = self.pos_in_text(text, error.offset);
                let width = text
                    .value
                    .get(error.offset..error.offset + error.len)
                    .map_or(2, |s| s.chars().count());
                let diagnostic = self.report.error_spanning(pos, width, error.message);
                diagnostic.maybe_help(error.help);
                return Some(vec![ir::Piece::Text(text.value.clone())]);
            }
        };
        Some(self.pieces(text, pieces, params, place))
    }

    fn pieces(
        &mut self,
        text: &Text,
        pieces: Vec<template::Piece>,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> ir::Template {
        // Defaults and conditionals say how a prompt reads when a value is missing; a request
        // has its own rules for that (entries left out, `null` in bodies).
        let in_prompt = place == Place::Prompt;
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                template::Piece::Text(t) => out.push(ir::Piece::Text(t)),
                template::Piece::Var(var_ref, default) => {
                    let Some(var) = self.resolve(text, &var_ref, params, place) else {
                        continue;
                    };
                    match default {
                        None => out.push(ir::Piece::Var(var)),
                        Some(default) if in_prompt => out.push(ir::Piece::VarOr(var, default)),
                        Some(_) => {
                            self.prompt_only(text, &var_ref, "`| default:`");
                            out.push(ir::Piece::Var(var));
                        }
                    }
                }
                template::Piece::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    if !in_prompt {
                        self.prompt_only(text, &condition, "`{{#if}}`");
                        continue;
                    }
                    let then = self.pieces(text, then, params, place);
                    let otherwise = self.pieces(text, otherwise, params, place);
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

    fn prompt_only(&mut self, text: &Text, var_ref: &VarRef, what: &str) {
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

    fn resolve(
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

    fn var_refs(&self, text: &Text) -> std::vec::IntoIter<VarRef> {
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

    fn pos_in(&self, text: &Text, var_ref: &VarRef) -> Pos {
        self.pos_in_text(text, var_ref.offset)
    }

    /// The source position of byte `offset` of a scalar's value.
    ///
    /// Quotes, escapes and block indentation make value offsets differ from source offsets.
    /// A variable starts at a `{{`, and the k-th `{{` of the value is the k-th of the source,
    /// so anchor there; anything else is placed by counting characters on the first line.
    fn pos_in_text(&self, text: &Text, offset: usize) -> Pos {
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
struct Anchors {
    /// The scalar described.
    scalar: Option<ScalarId>,
    /// Each `{{` of the value, found left to right as the template lexer finds them.
    in_value: Vec<ValueAnchor>,
    /// The source position of each `{{` of the scalar's source text, in order.
    in_source: Vec<Pos>,
}

struct ValueAnchor {
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

/// The URL as written and its checked parts, or a stand-in for a URL that had errors (never
/// sent: the errors stop the build).
fn url_or_stand_in(
    text: Option<&Text>,
    parts: Option<Vec<ir::UrlPart>>,
) -> (String, Vec<ir::UrlPart>) {
    (
        text.map(|u| u.value.clone()).unwrap_or_default(),
        parts.unwrap_or_else(|| vec![ir::UrlPart::Literal(INVALID_URL.to_owned())]),
    )
}

/// Whether `text` is a number in JSON's grammar (RFC 8259 §6): `-?(0|[1-9][0-9]*)`, then an
/// optional `.digits` and an optional exponent.
fn is_json_number(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = text.strip_prefix('-').unwrap_or(text);
    let int = digits(rest);
    if int == 0 || (int > 1 && rest.starts_with('0')) {
        return false;
    }
    let mut rest = &rest[int..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = &exponent[n..];
    }
    rest.is_empty()
}

/// `express-2day` → `Express2day`; a value with no letters or digits, or starting with a
/// digit, gets a `V` in front so it is still an identifier.
fn enum_variant(value: &str) -> String {
    let mut variant = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            variant.push(first.to_ascii_uppercase());
            variant.push_str(chars.as_str());
        }
    }
    if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
        variant.insert(0, 'V');
    }
    if variant == "Self" {
        variant.push('_');
    }
    variant
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
