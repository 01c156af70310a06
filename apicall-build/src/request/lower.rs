//! Lowering: the checked model's calls and webhooks into [`RequestModel`]s.

use super::{
    ApiValue, Auth, BodyPiece, Delayed, Entry, Extraction, Header, Message, MessagePiece, Messages,
    Method, Param, PathStep, PayloadPart, Piece, RequestKind, RequestModel, Requests, Shape,
    Source, Template, UrlPiece, ValuePart, ValueRef, ValueType, Variable,
};
use crate::ir::{self, Var};
use crate::parse::path::{self, Segment};

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
                        Segment::FromEnd(back) => PathStep::FromEnd(*back),
                    })
                    .collect(),
                ty: response.ty,
                required: response.required,
            })
            .collect(),
        params: params(&call.params),
        signing_key: None,
        failure_message: call.failure_message(),
        messages: lowering.messages(&call.messages),
        auth: call.auth.as_ref().map(|auth| lowering.auth(auth)),
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
        failure_message: String::new(),
        messages: Messages::default(),
        auth: webhook.auth.as_ref().map(|auth| lowering.auth(auth)),
    }
}

fn params(params: &[ir::Param]) -> Vec<Param> {
    params
        .iter()
        .map(|param| Param {
            name: param.name.clone(),
            shape: shape(&param.ty),
            required: param.required,
        })
        .collect()
}

fn shape(ty: &ir::ParamType) -> Shape {
    match ty {
        ir::ParamType::Value(ty) => Shape::Value(*ty),
        ir::ParamType::Enum { choices, .. } => {
            Shape::Enum(choices.iter().map(|c| c.value.clone()).collect())
        }
        ir::ParamType::IntegerEnum { choices, .. } => {
            Shape::IntegerEnum(choices.iter().map(|c| c.value).collect())
        }
        ir::ParamType::Array(items) => Shape::Array(Box::new(shape(items))),
        ir::ParamType::Object { fields, .. } => Shape::Object(params(fields)),
    }
}

/// A parameter's scalar type: an enum's strings or integers; `String` for an array or object.
fn param_type(ty: &ir::ParamType) -> ValueType {
    match ty {
        ir::ParamType::Value(ty) => *ty,
        ir::ParamType::IntegerEnum { .. } => ValueType::Integer,
        ir::ParamType::Enum { .. } | ir::ParamType::Array(_) | ir::ParamType::Object { .. } => {
            ValueType::String
        }
    }
}

struct Lowering<'a> {
    file: &'a ir::File,
    params: &'a [ir::Param],
}

impl Lowering<'_> {
    fn value(&self, var: Var) -> ValueRef {
        let (source, name, ty, shape, optional, secret) = match var {
            Var::Context(index) => {
                let variable = &self.file.variables[index];
                let name = variable.name.clone();
                (
                    Source::Context,
                    name,
                    variable.ty,
                    Shape::Value(variable.ty),
                    false,
                    variable.secret,
                )
            }
            Var::Collected(index) => {
                let param = &self.params[index];
                (
                    Source::Param,
                    param.name.clone(),
                    param_type(&param.ty),
                    shape(&param.ty),
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
                    Shape::Value(value.ty),
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
                (
                    Source::Conversation,
                    name,
                    ty,
                    Shape::Value(ty),
                    false,
                    false,
                )
            }
        };
        ValueRef {
            source,
            name,
            ty,
            shape,
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

    fn auth(&self, auth: &ir::AuthScheme) -> Auth {
        let secret = |index: usize| self.value(Var::Context(index));
        let scheme = auth.name.clone();
        match &auth.kind {
            ir::AuthKind::OAuth2 {
                token_url,
                client_id,
                client_secret,
                scopes,
                client_auth_in_body,
            } => Auth::OAuth2 {
                scheme,
                token_url: token_url.clone(),
                client_id: self.template(client_id),
                client_secret: secret(*client_secret),
                scopes: scopes.clone(),
                client_auth_in_body: *client_auth_in_body,
            },
            ir::AuthKind::Basic { username, password } => Auth::Basic {
                scheme,
                username: self.template(username),
                password: secret(*password),
            },
            ir::AuthKind::Mtls { certificate, key } => Auth::Mtls {
                scheme,
                certificate: secret(*certificate),
                key: secret(*key),
            },
            ir::AuthKind::Hmac {
                header,
                timestamp_header,
                secret: key,
                payload,
                base64,
                value,
            } => Auth::Hmac {
                scheme,
                header: header.clone(),
                timestamp_header: timestamp_header.clone(),
                secret: secret(*key),
                payload: payload
                    .iter()
                    .map(|part| match part {
                        ir::PayloadPart::Text(text) => PayloadPart::Text(text.clone()),
                        ir::PayloadPart::Timestamp => PayloadPart::Timestamp,
                        ir::PayloadPart::Body => PayloadPart::Body,
                    })
                    .collect(),
                base64: *base64,
                value: value
                    .iter()
                    .map(|part| match part {
                        ir::ValuePart::Text(text) => ValuePart::Text(text.clone()),
                        ir::ValuePart::Timestamp => ValuePart::Timestamp,
                        ir::ValuePart::Signature => ValuePart::Signature,
                    })
                    .collect(),
            },
        }
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

    fn messages(&self, messages: &ir::Messages) -> Messages {
        Messages {
            start: messages.start.as_ref().map(|line| self.message(line)),
            delayed: messages.delayed.as_ref().map(|delayed| Delayed {
                after_ms: delayed.after_ms,
                say: self.message(&delayed.say),
            }),
            failed: messages.failed.as_ref().map(|line| self.message(line)),
        }
    }

    fn message(&self, template: &ir::Template) -> Message {
        Message(
            template
                .iter()
                .map(|piece| match piece {
                    ir::Piece::Text(text) => MessagePiece::Text(text.clone()),
                    ir::Piece::Var(var) => MessagePiece::Value(self.value(*var)),
                    ir::Piece::VarOr(var, default) => {
                        MessagePiece::ValueOr(self.value(*var), default.clone())
                    }
                    ir::Piece::If {
                        condition,
                        then,
                        otherwise,
                    } => MessagePiece::If {
                        condition: self.value(*condition),
                        then: self.message(then),
                        otherwise: self.message(otherwise),
                    },
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
