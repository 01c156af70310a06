//! The checked model of a calls.yaml file: every name resolves and every URL is well formed.
//! `emit` reads only this, so it never has to handle a mistake.

use crate::parse::path::Segment;

#[derive(Debug)]
pub(crate) struct File {
    pub variables: Vec<Variable>,
    pub calls: Vec<Call>,
    /// Every `api.*` value, in order of first extraction.
    pub api_values: Vec<ApiValue>,
    pub prompts: Vec<Prompt>,
}

#[derive(Debug)]
pub(crate) struct Variable {
    pub name: String,
    pub description: Option<String>,
    pub secret: bool,
    /// Always `String` for secrets.
    pub ty: ValueType,
    pub example: Option<String>,
}

/// An `api.*` value in the conversation's state, and the type all calls agree on.
#[derive(Debug)]
pub(crate) struct ApiValue {
    pub name: String,
    pub ty: ValueType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The JSON type of an LLM parameter or an extracted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueType {
    String,
    Integer,
    Number,
    Boolean,
}

impl ValueType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Call {
    pub name: String,
    pub description: String,
    pub method: Method,
    pub timeout_ms: u64,
    /// The URL as written, for documentation.
    pub url_text: String,
    pub url: Vec<UrlPart>,
    pub headers: Vec<Header>,
    pub query: Vec<QueryParam>,
    pub params: Vec<Param>,
    pub responses: Vec<ResponseVar>,
    /// The JSON body; `None` sends no body.
    pub body: Option<Json>,
    /// What the LLM is told when this call fails.
    pub failure_message: Option<String>,
    /// Extra attempts after a retryable failure (idempotent methods only).
    pub retries: u32,
}

impl Call {
    pub(crate) fn uses_api(&self) -> bool {
        self.uses(|var| matches!(var, Var::Api(_)))
    }

    pub(crate) fn uses_context(&self) -> bool {
        self.uses(|var| matches!(var, Var::Context(_)))
    }

    fn uses(&self, wanted: impl Fn(&Var) -> bool + Copy) -> bool {
        let in_template = |template: &Template| {
            template
                .iter()
                .any(|piece| matches!(piece, Piece::Var(var) if wanted(var)))
        };
        self.url.iter().any(|part| match part {
            UrlPart::Literal(_) => false,
            UrlPart::Raw(var) | UrlPart::PathValue(var) | UrlPart::QueryValue(var) => wanted(var),
        }) || self.headers.iter().any(|h| in_template(&h.value))
            || self.query.iter().any(|q| in_template(&q.value))
            || self.body.as_ref().is_some_and(|body| body.uses(wanted))
    }
}

/// A variable a call or prompt reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Var {
    /// Index into `File::variables`.
    Context(usize),
    /// Index into the call's `params`.
    Collected(usize),
    /// Index into `File::api_values`.
    Api(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Var(Var),
    /// A variable, or this text when it has no value (prompts only).
    VarOr(Var, String),
    /// `then` when the variable has a value, else `otherwise` (prompts only).
    If {
        condition: Var,
        then: Template,
        otherwise: Template,
    },
}

pub(crate) type Template = Vec<Piece>;

/// The URL, split by where each variable lands, which decides how it is encoded.
#[derive(Debug)]
pub(crate) enum UrlPart {
    Literal(String),
    /// A context variable in the origin, placed there by the YAML author: inserted as is.
    Raw(Var),
    /// Inside a path segment: percent-encoded so it stays in that one segment.
    PathValue(Var),
    /// Inside the URL's own query string: form-encoded.
    QueryValue(Var),
}

#[derive(Debug)]
pub(crate) struct Header {
    pub name: String,
    pub value: Template,
}

#[derive(Debug)]
pub(crate) struct QueryParam {
    pub name: String,
    pub value: Template,
}

#[derive(Debug)]
pub(crate) struct Param {
    pub name: String,
    pub description: Option<String>,
    pub ty: ParamType,
    pub required: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParamType {
    Value(ValueType),
    /// One of these strings; generated as a Rust enum.
    Enum(Vec<EnumChoice>),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EnumChoice {
    /// As the LLM writes it.
    pub value: String,
    /// The Rust variant's name.
    pub variant: String,
}

/// A JSON body template: YAML structure with templates in its strings.
#[derive(Debug)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// Text with variables, sent as a JSON string.
    Text(Template),
    /// A string that is exactly one variable: sent with the variable's own JSON type.
    Var(Var),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    /// No explicit body: the call's LLM parameters as a JSON object.
    Params,
}

impl Json {
    fn uses(&self, wanted: impl Fn(&Var) -> bool + Copy) -> bool {
        match self {
            Json::Text(template) => template
                .iter()
                .any(|piece| matches!(piece, Piece::Var(var) if wanted(var))),
            Json::Var(var) => wanted(var),
            Json::Array(items) => items.iter().any(|item| item.uses(wanted)),
            Json::Object(members) => members.iter().any(|(_, value)| value.uses(wanted)),
            Json::Null | Json::Bool(_) | Json::Int(_) | Json::Float(_) | Json::Params => false,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ResponseVar {
    /// The `api.*` name.
    pub name: String,
    pub path: Vec<Segment>,
    pub ty: ValueType,
    /// A response without it is an error, and the field is not an `Option`.
    pub required: bool,
}

#[derive(Debug)]
pub(crate) struct Prompt {
    pub name: String,
    pub template: Template,
}
