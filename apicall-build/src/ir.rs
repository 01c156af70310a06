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
    /// Sent when the conversation ends.
    pub webhooks: Vec<Webhook>,
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

/// An HTTP method a call may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// Its name on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The JSON type of a variable, an LLM parameter or an extracted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueType {
    /// `string`
    String,
    /// `integer` (a Rust `i64`)
    Integer,
    /// `number` (a Rust `f64`)
    Number,
    /// `boolean`
    Boolean,
}

impl ValueType {
    /// Its YAML spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
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
    /// What a voice agent says while the call runs.
    pub messages: Messages,
    /// Whether the LLM waits for the answer.
    pub execution: Execution,
    /// How it authenticates: its `auth:` scheme.
    pub auth: Option<AuthScheme>,
}

/// A named `auth:` scheme, as each call or webhook that uses it holds it.
#[derive(Clone, Debug)]
pub(crate) struct AuthScheme {
    pub name: String,
    pub kind: AuthKind,
}

/// What a scheme does to each request. Secrets are indexes into `File::variables`.
#[derive(Clone, Debug)]
pub(crate) enum AuthKind {
    /// OAuth2 client credentials (RFC 6749 §4.4): a cached bearer token.
    OAuth2 {
        token_url: String,
        client_id: RequestTemplate,
        client_secret: usize,
        scopes: Vec<String>,
        /// The id and secret in the token request's form rather than Basic auth.
        client_auth_in_body: bool,
    },
    /// HTTP Basic (RFC 7617).
    Basic {
        username: RequestTemplate,
        password: usize,
    },
    /// A client certificate and its key, PEM.
    Mtls { certificate: usize, key: usize },
    /// An HMAC-SHA256 signature of each request.
    Hmac {
        header: String,
        timestamp_header: Option<String>,
        secret: usize,
        payload: Vec<PayloadPart>,
        base64: bool,
        /// The signature header's value.
        value: Vec<ValuePart>,
    },
}

/// A piece of what an HMAC signature signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PayloadPart {
    Text(String),
    Timestamp,
    Body,
}

/// A piece of an HMAC signature header's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ValuePart {
    Text(String),
    Timestamp,
    Signature,
}

impl AuthScheme {
    pub(crate) fn uses(&self, wanted: impl Fn(&Var) -> bool + Copy) -> bool {
        let secret = |index: usize| wanted(&Var::Context(index));
        match &self.kind {
            AuthKind::OAuth2 {
                client_id,
                client_secret,
                ..
            } => template_uses(client_id, wanted) || secret(*client_secret),
            AuthKind::Basic { username, password } => {
                template_uses(username, wanted) || secret(*password)
            }
            AuthKind::Mtls { certificate, key } => secret(*certificate) || secret(*key),
            AuthKind::Hmac { secret: key, .. } => secret(*key),
        }
    }
}

/// When the LLM gets the call's answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Execution {
    /// The tool result carries the extracted values (`execution: wait`, the default).
    #[default]
    Wait,
    /// The tool result is an acknowledgement at once; the call runs in the background and
    /// its values reach the session when it completes (`execution: async`).
    Async,
}

/// Lines to speak while a call runs, each a template like a prompt's (it may also use the
/// call's own `{{collected.*}}`).
#[derive(Debug, Default)]
pub(crate) struct Messages {
    /// When the call starts.
    pub start: Option<Template>,
    /// When the call has not answered after `after_ms`.
    pub delayed: Option<Delayed>,
    /// When the call fails.
    pub failed: Option<Template>,
}

impl Messages {
    /// The call's message templates: `start`, `delayed`, `failed`, those it has.
    pub(crate) fn templates(&self) -> impl Iterator<Item = &Template> {
        self.start
            .iter()
            .chain(self.delayed.iter().map(|delayed| &delayed.say))
            .chain(self.failed.iter())
    }
}

#[derive(Debug)]
pub(crate) struct Delayed {
    pub after_ms: u64,
    pub say: Template,
}

impl Call {
    /// What the LLM is told when the call fails: its `failure_message`, or the default.
    pub(crate) fn failure_message(&self) -> String {
        self.failure_message.clone().unwrap_or_else(|| {
            format!(
                "The information from {} is unavailable right now.",
                self.name
            )
        })
    }

    pub(crate) fn uses_api(&self) -> bool {
        self.uses(|var| matches!(var, Var::Api(_)))
    }

    /// Whether its `messages:` read an `api.*` value: the dispatcher renders them, from its
    /// own `api`, whether or not the request reads one.
    pub(crate) fn messages_use_api(&self) -> bool {
        self.messages
            .templates()
            .any(|template| prompt_uses(template, &|var| matches!(var, Var::Api(_))))
    }

    pub(crate) fn uses_context(&self) -> bool {
        self.uses(|var| matches!(var, Var::Context(_)))
    }

    fn uses(&self, wanted: impl Fn(&Var) -> bool + Copy) -> bool {
        url_uses(&self.url, wanted)
            || self.headers.iter().any(|h| template_uses(&h.value, wanted))
            || self.query.iter().any(|q| template_uses(&q.value, wanted))
            || self.body.as_ref().is_some_and(|body| body.uses(wanted))
            || self.auth.as_ref().is_some_and(|auth| auth.uses(wanted))
    }
}

/// Whether a prompt or message template reads a variable `wanted` picks, conditions included.
fn prompt_uses(template: &Template, wanted: &dyn Fn(&Var) -> bool) -> bool {
    template.iter().any(|piece| match piece {
        Piece::Text(_) => false,
        Piece::Var(var) | Piece::VarOr(var, _) => wanted(var),
        Piece::If {
            condition,
            then,
            otherwise,
        } => wanted(condition) || prompt_uses(then, wanted) || prompt_uses(otherwise, wanted),
    })
}

fn template_uses(template: &RequestTemplate, wanted: impl Fn(&Var) -> bool) -> bool {
    template
        .iter()
        .any(|piece| matches!(piece, RequestPiece::Var(var) if wanted(var)))
}

fn url_uses(url: &[UrlPart], wanted: impl Fn(&Var) -> bool) -> bool {
    url.iter().any(|part| match part {
        UrlPart::Literal(_) => false,
        UrlPart::Raw(var) | UrlPart::PathValue(var) | UrlPart::QueryValue(var) => wanted(var),
    })
}

/// A webhook sent, signed, when the conversation ends.
#[derive(Debug)]
pub(crate) struct Webhook {
    pub name: String,
    pub description: Option<String>,
    /// Per attempt.
    pub timeout_ms: u64,
    /// Extra attempts after a retryable failure.
    pub retries: u32,
    pub url_text: String,
    pub url: Vec<UrlPart>,
    pub headers: Vec<Header>,
    pub body: Json,
    /// The secret context variable that signs it (index into `File::variables`).
    pub signing_key: Option<usize>,
    /// How it authenticates to its receiver: its `auth:` scheme.
    pub auth: Option<AuthScheme>,
}

impl Webhook {
    pub(crate) fn uses(&self, wanted: impl Fn(&Var) -> bool + Copy) -> bool {
        url_uses(&self.url, wanted)
            || self.headers.iter().any(|h| template_uses(&h.value, wanted))
            || self.body.uses(wanted)
            || self.auth.as_ref().is_some_and(|auth| auth.uses(wanted))
    }
}

/// A fact of the ended conversation: `{{call.<name>}}` in webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallField {
    Id,
    StartedAt,
    EndedAt,
    DurationMs,
    Outcome,
}

impl CallField {
    pub(crate) const ALL: [CallField; 5] = [
        CallField::Id,
        CallField::StartedAt,
        CallField::EndedAt,
        CallField::DurationMs,
        CallField::Outcome,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            CallField::Id => "id",
            CallField::StartedAt => "started_at",
            CallField::EndedAt => "ended_at",
            CallField::DurationMs => "duration_ms",
            CallField::Outcome => "outcome",
        }
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
    /// A fact of the ended conversation (webhooks only).
    Call(CallField),
}

/// A piece of a request's text (URL, header, query value, body string): requests have no
/// defaults or conditionals, since a missing value leaves the entry out (or is `null`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RequestPiece {
    Text(String),
    Var(Var),
}

pub(crate) type RequestTemplate = Vec<RequestPiece>;

/// A piece of a prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Var(Var),
    /// A variable, or this text when it has no value.
    VarOr(Var, String),
    /// `then` when the variable has a value (see `emit::prompt::truthy`), else `otherwise`.
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
    pub value: RequestTemplate,
}

#[derive(Debug)]
pub(crate) struct QueryParam {
    pub name: String,
    pub value: RequestTemplate,
}

/// An LLM parameter, or a member of an object parameter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: String,
    pub description: Option<String>,
    pub ty: ParamType,
    pub required: bool,
}

/// What an LLM parameter holds. Enums and objects carry the name of the Rust type generated
/// for them (`names::param_type`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParamType {
    Value(ValueType),
    /// One of these strings; generated as a Rust enum.
    Enum {
        type_name: String,
        choices: Vec<EnumChoice>,
    },
    /// One of these integers; generated as a Rust enum that reads and writes them as numbers.
    IntegerEnum {
        type_name: String,
        choices: Vec<IntegerChoice>,
    },
    /// A JSON array of these; a Rust `Vec`.
    Array(Box<ParamType>),
    /// A JSON object with these members, no others; a generated Rust struct.
    Object {
        type_name: String,
        fields: Vec<Param>,
    },
}

impl ParamType {
    /// What an array (of arrays...) holds; any other type itself. Enums and objects inside
    /// arrays generate the same types as outside.
    pub(crate) fn element(&self) -> &ParamType {
        let mut ty = self;
        while let ParamType::Array(items) = ty {
            ty = items;
        }
        ty
    }

    /// Whether it is an array or an object, which has no text form (for a URL, a header or
    /// text in a body).
    pub(crate) fn is_composite(&self) -> bool {
        matches!(self, ParamType::Array(_) | ParamType::Object { .. })
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EnumChoice {
    /// As the LLM writes it.
    pub value: String,
    /// The Rust variant's name.
    pub variant: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct IntegerChoice {
    pub value: i64,
    /// The Rust variant's name: `V10`, `Minus1`.
    pub variant: String,
}

/// A JSON body template: YAML structure with templates in its strings.
#[derive(Debug)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number as JSON text: the YAML's own digits when they are a JSON number, so none is
    /// lost to a 64-bit integer or an `f64` on the way.
    Number(String),
    /// Text with variables, sent as a JSON string.
    Text(RequestTemplate),
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
            Json::Text(template) => template_uses(template, wanted),
            Json::Var(var) => wanted(var),
            Json::Array(items) => items.iter().any(|item| item.uses(wanted)),
            Json::Object(members) => members.iter().any(|(_, value)| value.uses(wanted)),
            Json::Null | Json::Bool(_) | Json::Number(_) | Json::Params => false,
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
