//! Each call and webhook lowered, once, into the request it sends: the URL piece by piece with
//! the encoding each piece gets, query entries, headers with their sensitivity, the JSON body
//! as fixed text and values, and the extraction plan.
//!
//! `emit` writes this description as Rust; `apicall run` and `apicall webhook` execute it with
//! apicall-runtime's public `call` API. Both read the same description, so the command line
//! sends what generated code sends. A call's `messages:` are here too ([`Messages`]), for
//! `apicall mcp` to say them as generated code does ([`Message::render`]).

mod lower;
mod message;

pub(crate) use lower::{lower, lower_call, lower_webhook};
pub use message::{Delayed, Message, MessagePiece, Messages, Scalar};

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

/// An LLM parameter of a call, or a member of an object parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Param {
    /// Its name.
    pub name: String,
    /// The JSON it takes.
    pub shape: Shape,
    /// Whether the LLM must give it.
    pub required: bool,
}

/// The JSON an LLM parameter takes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// A string, number, integer or boolean.
    Value(ValueType),
    /// One of these strings.
    Enum(Vec<String>),
    /// One of these integers.
    IntegerEnum(Vec<i64>),
    /// An array of these: in a body, sent whole; as a whole `query:` value, one entry per
    /// item.
    Array(Box<Shape>),
    /// An object with these members, no others: sent whole in a body, every member in this
    /// order, an absent optional one as `null`.
    Object(Vec<Param>),
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
    /// What the LLM is told when the call fails (its `failure_message:` or the default), as
    /// the generated dispatcher tells it; empty for a webhook.
    pub failure_message: String,
    /// What a voice agent says while the call runs (its `messages:`); none for a webhook.
    pub messages: Messages,
    /// How it authenticates: its `auth:` scheme, with the values it reads.
    pub auth: Option<Auth>,
}

/// A request's `auth:` scheme, lowered: what it adds to each request and the values it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// OAuth2 client credentials: a bearer token from `token_url`, cached per client and scheme.
    OAuth2 {
        /// The scheme's name (the token cache's key, with the client id).
        scheme: String,
        /// The token endpoint.
        token_url: String,
        /// The client id.
        client_id: Template,
        /// The client secret (a secret context variable).
        client_secret: ValueRef,
        /// Scopes, sent space-separated.
        scopes: Vec<String>,
        /// The id and secret in the token request's form, not Basic auth.
        client_auth_in_body: bool,
    },
    /// HTTP Basic.
    Basic {
        /// The scheme's name.
        scheme: String,
        /// The user name.
        username: Template,
        /// The password (a secret context variable).
        password: ValueRef,
    },
    /// A client certificate (mutual TLS).
    Mtls {
        /// The scheme's name (the TLS client's cache key).
        scheme: String,
        /// The certificate, PEM (a secret context variable).
        certificate: ValueRef,
        /// Its private key, PEM (a secret context variable).
        key: ValueRef,
    },
    /// An HMAC-SHA256 signature of each request, made as it is sent.
    Hmac {
        /// The scheme's name.
        scheme: String,
        /// Where the signature goes.
        header: String,
        /// Where the Unix-seconds timestamp goes, if anywhere.
        timestamp_header: Option<String>,
        /// The key (a secret context variable; its UTF-8 bytes).
        secret: ValueRef,
        /// What is signed.
        payload: Vec<PayloadPart>,
        /// Base64 rather than lowercase hex.
        base64: bool,
        /// The signature header's value.
        value: Vec<ValuePart>,
    },
}

/// A piece of what an HMAC signature signs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadPart {
    /// Fixed text.
    Text(String),
    /// The request's timestamp, Unix seconds.
    Timestamp,
    /// The exact body bytes sent.
    Body,
}

/// A piece of an HMAC signature header's value (`sha256={signature}`, say).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValuePart {
    /// Fixed text.
    Text(String),
    /// The signed timestamp, Unix seconds.
    Timestamp,
    /// The encoded signature.
    Signature,
}

impl Auth {
    /// The scheme's name in the calls.yaml.
    #[must_use]
    pub fn scheme(&self) -> &str {
        match self {
            Auth::OAuth2 { scheme, .. }
            | Auth::Basic { scheme, .. }
            | Auth::Mtls { scheme, .. }
            | Auth::Hmac { scheme, .. } => scheme,
        }
    }

    /// The values it reads.
    pub fn values(&self) -> Vec<&ValueRef> {
        match self {
            Auth::OAuth2 {
                client_id,
                client_secret,
                ..
            } => client_id.values().chain([client_secret]).collect(),
            Auth::Basic {
                username, password, ..
            } => username.values().chain([password]).collect(),
            Auth::Mtls {
                certificate, key, ..
            } => vec![certificate, key],
            Auth::Hmac { secret, .. } => vec![secret],
        }
    }
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
    /// Its type; an enum's is `String` or `Integer`, an array's or object's `String` (see
    /// `shape`).
    pub ty: ValueType,
    /// What a parameter holds (`Shape::Value(ty)` for every other value).
    pub shape: Shape,
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
    /// The values it reads, in order.
    pub fn values(&self) -> impl Iterator<Item = &ValueRef> {
        self.0.iter().filter_map(|piece| match piece {
            Piece::Value(value) => Some(value),
            Piece::Text(_) => None,
        })
    }

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
    /// An array element, from 0.
    Index(usize),
    /// An array element counted from the end: 1 is the last (`[-1]`).
    FromEnd(usize),
}

impl RequestModel {
    /// Every value the request reads, in the order it reads them (URL, query, headers, body,
    /// then the signing key), a value read twice listed twice.
    pub fn values(&self) -> impl Iterator<Item = &ValueRef> {
        let url = self.url.iter().filter_map(|piece| match piece {
            UrlPiece::Raw(value) | UrlPiece::PathValue(value) | UrlPiece::QueryValue(value) => {
                Some(value)
            }
            UrlPiece::Text(_) => None,
        });
        let query = self.query.iter().flat_map(|entry| entry.value.values());
        let headers = self.headers.iter().flat_map(|header| header.value.values());
        let body = self.body.iter().flatten().flat_map(|piece| match piece {
            BodyPiece::Value(value) => vec![value],
            BodyPiece::Text(template) => template.values().collect(),
            BodyPiece::Json(_) => Vec::new(),
        });
        url.chain(query)
            .chain(headers)
            .chain(body)
            .chain(self.signing_key.iter())
            .chain(self.auth.iter().flat_map(Auth::values))
    }
}
