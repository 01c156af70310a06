//! Each call and webhook lowered, once, into the request it sends: the URL piece by piece with
//! the encoding each piece gets, query entries, headers with their sensitivity, the JSON body
//! as fixed text and values, and the extraction plan.
//!
//! `emit` writes this description as Rust; `apicall run` and `apicall webhook` execute it with
//! apicall-runtime's public `call` API. Both read the same description, so the command line
//! sends what generated code sends.

use crate::ir::{self, Var};
use crate::parse::path::{self, Segment};

pub use crate::ir::{Method, ValueType};

/// A calls.yaml's requests, with the variables they read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Requests {
    /// The context variables, in YAML order.
    pub variables: Vec<Variable>,
    /// Every `api.*` value some call extracts, in order of first extraction.
    pub api_values: Vec<ApiValue>,
    /// Each API call, in YAML order.
    pub calls: Vec<RequestModel>,
    /// Each post-call webhook, in YAML order.
    pub webhooks: Vec<RequestModel>,
}

/// A context variable.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Variable {
    /// `{{name}}`
    pub name: String,
    /// Its type (always a string for secrets).
    pub ty: ValueType,
    /// Whether it is `secret: true`: never printed, and marks headers sensitive.
    pub secret: bool,
}

/// An `api.*` value.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApiValue {
    /// `{{api.name}}`
    pub name: String,
    /// The type every call extracting it agrees on.
    pub ty: ValueType,
}

/// An LLM parameter of a call.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type; `String` for an enum.
    pub ty: ValueType,
    /// For an enum, the values the LLM may give.
    pub choices: Option<Vec<String>>,
    /// Whether the LLM must give it.
    pub required: bool,
}

/// Whether a request is an API call or a post-call webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// An API call: its values are extracted from the response.
    Call,
    /// A post-call webhook: signed, retried, its response not read.
    Webhook,
}

/// One request, as everything that sends it sees it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RequestModel {
    /// A call or a webhook.
    pub kind: RequestKind,
    /// The call's or webhook's name.
    pub name: String,
    /// The HTTP method (webhooks: `POST`).
    pub method: Method,
    /// The timeout: over the whole exchange for a call, per attempt for a webhook.
    pub timeout_ms: u64,
    /// Extra attempts after a retryable failure.
    pub retries: u32,
    /// The URL as written, for documentation and display.
    pub url_text: String,
    /// The URL, piece by piece.
    pub url: Vec<UrlPiece>,
    /// The `query:` entries, appended after the URL's own query.
    pub query: Vec<Entry>,
    /// The headers, in YAML order.
    pub headers: Vec<Header>,
    /// The JSON body; `None` sends none.
    pub body: Option<Vec<BodyPiece>>,
    /// The values read from the response (calls only), in slot order.
    pub extract: Vec<Extraction>,
    /// The LLM parameters (calls only).
    pub params: Vec<Param>,
    /// The secret context variable that signs a webhook.
    pub signing_key: Option<ValueRef>,
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A context variable: `{{name}}`.
    Context,
    /// An LLM parameter: `{{collected.name}}`.
    Param,
    /// A value an earlier call extracted: `{{api.name}}`.
    Api,
    /// A fact of the ended conversation: `{{call.name}}` (webhooks only).
    Conversation,
}

/// A value a request reads.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueRef {
    /// Where it comes from.
    pub source: Source,
    /// Its name within the source.
    pub name: String,
    /// Its type.
    pub ty: ValueType,
    /// An enum parameter (a string among fixed choices).
    pub is_enum: bool,
    /// Whether it may have no value: an optional parameter, or an `api.*` value.
    pub optional: bool,
    /// Whether it is a secret.
    pub secret: bool,
}

/// A piece of the URL; each kind of variable piece is encoded differently.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlPiece {
    /// Text from the YAML, verbatim.
    Text(String),
    /// A context variable the YAML author placed in the origin: verbatim.
    Raw(ValueRef),
    /// A value inside a path segment: percent-encoded to stay in it.
    PathValue(ValueRef),
    /// A value inside the URL's own query string: form-encoded.
    QueryValue(ValueRef),
}

/// Text with values, rendered to one string. When an optional value in it is absent, a
/// header or query entry is left out; in a body string, the value is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template(pub Vec<Piece>);

/// A piece of a request [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Piece {
    /// Text from the YAML.
    Text(String),
    /// A value's text: a string as it is, anything else in Rust's `Display` form.
    Value(ValueRef),
}

impl Template {
    /// The optional values it reads, each once, in order of first use.
    #[must_use]
    pub fn optional_values(&self) -> Vec<&ValueRef> {
        let mut seen: Vec<&ValueRef> = Vec::new();
        for piece in &self.0 {
            if let Piece::Value(value) = piece
                && value.optional
                && !seen.contains(&value)
            {
                seen.push(value);
            }
        }
        seen
    }
}

/// A `query:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Template,
}

/// A header.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// Its name, a valid HTTP token.
    pub name: String,
    /// Its value.
    pub value: Template,
    /// Whether the value holds a secret (HTTP/2 never indexes it; it is never shown).
    pub sensitive: bool,
}

/// A piece of the JSON body, which is these pieces' text joined.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyPiece {
    /// JSON text fixed at compile time: punctuation, keys, literals (numbers digit for digit).
    Json(String),
    /// A value with its own JSON type; an absent optional one is `null`.
    Value(ValueRef),
    /// A JSON string rendered from text with values.
    Text(Template),
}

/// One response variable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extraction {
    /// The `api.*` name.
    pub name: String,
    /// Its path as written in the YAML, for display.
    pub path_text: String,
    /// Its path.
    pub path: Vec<PathStep>,
    /// Its type.
    pub ty: ValueType,
    /// Whether a response without it is an error.
    pub required: bool,
}

/// One step of a response path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathStep {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Lowers a checked file.
pub(crate) fn lower(file: &ir::File) -> Requests {
    Requests {
        variables: file
            .variables
            .iter()
            .map(|v| Variable {
                name: v.name.clone(),
                ty: v.ty,
                secret: v.secret,
            })
            .collect(),
        api_values: file
            .api_values
            .iter()
            .map(|v| ApiValue {
                name: v.name.clone(),
                ty: v.ty,
            })
            .collect(),
        calls: file
            .calls
            .iter()
            .map(|call| lower_call(file, call))
            .collect(),
        webhooks: file
            .webhooks
            .iter()
            .map(|webhook| lower_webhook(file, webhook))
            .collect(),
    }
}

pub(crate) fn lower_call(file: &ir::File, call: &ir::Call) -> RequestModel {
    let lowering = Lowering {
        file,
        params: &call.params,
    };
    RequestModel {
        kind: RequestKind::Call,
        name: call.name.clone(),
        method: call.method,
        timeout_ms: call.timeout_ms,
        retries: call.retries,
        url_text: call.url_text.clone(),
        url: lowering.url(&call.url),
        query: call
            .query
            .iter()
            .map(|query| Entry {
                name: query.name.clone(),
                value: lowering.template(&query.value),
            })
            .collect(),
        headers: lowering.headers(&call.headers),
        body: call.body.as_ref().map(|body| lowering.body(body)),
        extract: call
            .responses
            .iter()
            .map(|response| Extraction {
                name: response.name.clone(),
                path_text: path::display(&response.path),
                path: response
                    .path
                    .iter()
                    .map(|segment| match segment {
                        Segment::Key(key) => PathStep::Key(key.clone()),
                        Segment::Index(index) => PathStep::Index(*index),
                    })
                    .collect(),
                ty: response.ty,
                required: response.required,
            })
            .collect(),
        params: call
            .params
            .iter()
            .map(|param| Param {
                name: param.name.clone(),
                ty: param_type(&param.ty),
                choices: match &param.ty {
                    ir::ParamType::Enum(choices) => {
                        Some(choices.iter().map(|c| c.value.clone()).collect())
                    }
                    ir::ParamType::Value(_) => None,
                },
                required: param.required,
            })
            .collect(),
        signing_key: None,
    }
}

pub(crate) fn lower_webhook(file: &ir::File, webhook: &ir::Webhook) -> RequestModel {
    let lowering = Lowering { file, params: &[] };
    RequestModel {
        kind: RequestKind::Webhook,
        name: webhook.name.clone(),
        method: Method::Post,
        timeout_ms: webhook.timeout_ms,
        retries: webhook.retries,
        url_text: webhook.url_text.clone(),
        url: lowering.url(&webhook.url),
        query: Vec::new(),
        headers: lowering.headers(&webhook.headers),
        body: Some(lowering.body(&webhook.body)),
        extract: Vec::new(),
        params: Vec::new(),
        signing_key: webhook
            .signing_key
            .map(|index| lowering.value(Var::Context(index))),
    }
}

fn param_type(ty: &ir::ParamType) -> ValueType {
    match ty {
        ir::ParamType::Value(ty) => *ty,
        ir::ParamType::Enum(_) => ValueType::String,
    }
}

struct Lowering<'a> {
    file: &'a ir::File,
    params: &'a [ir::Param],
}

impl Lowering<'_> {
    fn value(&self, var: Var) -> ValueRef {
        let (source, name, ty, is_enum, optional, secret) = match var {
            Var::Context(index) => {
                let variable = &self.file.variables[index];
                let name = variable.name.clone();
                (
                    Source::Context,
                    name,
                    variable.ty,
                    false,
                    false,
                    variable.secret,
                )
            }
            Var::Collected(index) => {
                let param = &self.params[index];
                let is_enum = matches!(param.ty, ir::ParamType::Enum(_));
                let ty = param_type(&param.ty);
                (
                    Source::Param,
                    param.name.clone(),
                    ty,
                    is_enum,
                    !param.required,
                    false,
                )
            }
            Var::Api(index) => {
                let value = &self.file.api_values[index];
                (
                    Source::Api,
                    value.name.clone(),
                    value.ty,
                    false,
                    true,
                    false,
                )
            }
            Var::Call(field) => {
                let ty = if field == ir::CallField::DurationMs {
                    ValueType::Integer
                } else {
                    ValueType::String
                };
                let name = field.name().to_owned();
                (Source::Conversation, name, ty, false, false, false)
            }
        };
        ValueRef {
            source,
            name,
            ty,
            is_enum,
            optional,
            secret,
        }
    }

    fn url(&self, url: &[ir::UrlPart]) -> Vec<UrlPiece> {
        url.iter()
            .map(|part| match part {
                ir::UrlPart::Literal(text) => UrlPiece::Text(text.clone()),
                ir::UrlPart::Raw(var) => UrlPiece::Raw(self.value(*var)),
                ir::UrlPart::PathValue(var) => UrlPiece::PathValue(self.value(*var)),
                ir::UrlPart::QueryValue(var) => UrlPiece::QueryValue(self.value(*var)),
            })
            .collect()
    }

    fn template(&self, template: &ir::RequestTemplate) -> Template {
        Template(
            template
                .iter()
                .map(|piece| match piece {
                    ir::RequestPiece::Text(text) => Piece::Text(text.clone()),
                    ir::RequestPiece::Var(var) => Piece::Value(self.value(*var)),
                })
                .collect(),
        )
    }

    fn headers(&self, headers: &[ir::Header]) -> Vec<Header> {
        headers
            .iter()
            .map(|header| {
                let value = self.template(&header.value);
                let sensitive = value.0.iter().any(
                    |piece| matches!(piece, Piece::Value(v) if v.source == Source::Context && v.secret),
                );
                Header {
                    name: header.name.clone(),
                    value,
                    sensitive,
                }
            })
            .collect()
    }

    fn body(&self, json: &ir::Json) -> Vec<BodyPiece> {
        let mut writer = BodyWriter {
            lowering: self,
            fixed: String::new(),
            pieces: Vec::new(),
        };
        writer.json(json);
        writer.flush();
        writer.pieces
    }
}

/// Flattens a body's JSON into fixed text and values.
struct BodyWriter<'l, 'a> {
    lowering: &'l Lowering<'a>,
    /// Fixed text not yet written out.
    fixed: String,
    pieces: Vec<BodyPiece>,
}

impl BodyWriter<'_, '_> {
    fn raw(&mut self, text: &str) {
        self.fixed.push_str(text);
    }

    fn flush(&mut self) {
        if !self.fixed.is_empty() {
            self.pieces
                .push(BodyPiece::Json(std::mem::take(&mut self.fixed)));
        }
    }

    fn piece(&mut self, piece: BodyPiece) {
        self.flush();
        self.pieces.push(piece);
    }

    /// A JSON string literal for `text`.
    fn string(&mut self, text: &str) {
        self.raw(&serde_json::Value::from(text).to_string());
    }

    fn json(&mut self, json: &ir::Json) {
        match json {
            ir::Json::Null => self.raw("null"),
            ir::Json::Bool(b) => self.raw(if *b { "true" } else { "false" }),
            ir::Json::Number(text) => self.raw(text),
            ir::Json::Text(template) => {
                let template = self.lowering.template(template);
                match template.0.as_slice() {
                    [] => self.string(""),
                    pieces if pieces.iter().all(|p| matches!(p, Piece::Text(_))) => {
                        let text: String = pieces
                            .iter()
                            .filter_map(|p| match p {
                                Piece::Text(text) => Some(text.as_str()),
                                Piece::Value(_) => None,
                            })
                            .collect();
                        self.string(&text);
                    }
                    _ => self.piece(BodyPiece::Text(template)),
                }
            }
            ir::Json::Var(var) => self.piece(BodyPiece::Value(self.lowering.value(*var))),
            ir::Json::Array(items) => {
                self.raw("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.json(item);
                }
                self.raw("]");
            }
            ir::Json::Object(members) => {
                self.raw("{");
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.string(key);
                    self.raw(":");
                    self.json(value);
                }
                self.raw("}");
            }
            ir::Json::Params => {
                self.raw("{");
                for i in 0..self.lowering.params.len() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.string(&self.lowering.params[i].name);
                    self.raw(":");
                    self.piece(BodyPiece::Value(self.lowering.value(Var::Collected(i))));
                }
                self.raw("}");
            }
        }
    }
}
