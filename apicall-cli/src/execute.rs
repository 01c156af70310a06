//! A lowered request ([`apicall_build::request`]) executed through apicall-runtime's public
//! `call` API: the building, encoding, checks, sending and extraction generated code uses.
//!
//! The same request is rendered twice: once with the real values, to send, and once with every
//! secret replaced by `***` before anything is encoded, to show.

use std::collections::HashMap;

use apicall_build::request::{
    BodyPiece, Piece, RequestModel, Requests, Scalar, Source, Template, UrlPiece, ValueRef,
};
use apicall_runtime::Error;
use apicall_runtime::Secret;
use apicall_runtime::call::{Argument, CallSpec, JsonText, Request, TypedValue};

pub(crate) use crate::mask::MASK;
use crate::mask::Masks;

/// The values a request reads, keyed as templates spell them: `name` for a context variable,
/// `collected.name`, `api.name`, `call.name`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Values {
    values: HashMap<String, TypedValue>,
    /// Array and object parameters, read as generated code holds them.
    composite: HashMap<String, Argument>,
    /// Secret values, to mask in what the server sends back.
    secrets: Masks,
}

impl Values {
    pub(crate) fn insert(&mut self, source: Source, name: &str, value: TypedValue) {
        self.values.insert(key(source, name), value);
    }

    pub(crate) fn insert_secret(&mut self, name: &str, value: String) {
        self.secrets.add(&value);
        self.values
            .insert(key(Source::Context, name), TypedValue::String(value));
    }

    /// An LLM parameter, as the dispatcher read it.
    pub(crate) fn insert_argument(&mut self, name: &str, argument: Argument) {
        match argument {
            Argument::Value(value) => self.insert(Source::Param, name, value),
            composite => {
                self.composite.insert(key(Source::Param, name), composite);
            }
        }
    }

    /// An array or object parameter.
    pub(crate) fn composite(&self, value: &ValueRef) -> Option<&Argument> {
        self.composite.get(&key(value.source, &value.name))
    }

    pub(crate) fn get(&self, value: &ValueRef) -> Option<&TypedValue> {
        self.values.get(&key(value.source, &value.name))
    }

    /// A value as a message reads it ([`apicall_build::request::Message::render`]).
    pub(crate) fn scalar(&self, value: &ValueRef) -> Option<Scalar<'_>> {
        self.get(value).and_then(|value| match value {
            TypedValue::String(text) => Some(Scalar::String(text)),
            TypedValue::Integer(n) => Some(Scalar::Integer(*n)),
            TypedValue::Number(n) => Some(Scalar::Number(*n)),
            TypedValue::Boolean(b) => Some(Scalar::Boolean(*b)),
            _ => None,
        })
    }

    /// `text` with every secret value, in any encoding, replaced by [`MASK`], for showing
    /// what a server sent.
    pub(crate) fn mask(&self, text: &str) -> String {
        self.secrets.apply(text)
    }

    /// How far past what is shown a server's text must be read for every secret that starts
    /// within it to be masked whole.
    pub(crate) fn mask_overlap(&self) -> usize {
        self.secrets.longest()
    }

    /// [`Values::mask`] for the first `limit` bytes of `text` only (see
    /// [`Masks::apply_within`]), and whether any of `text` was left out.
    pub(crate) fn mask_within(&self, text: &str, limit: usize) -> (String, bool) {
        self.secrets.apply_within(text, limit)
    }
}

fn key(source: Source, name: &str) -> String {
    match source {
        Source::Param => format!("collected.{name}"),
        Source::Api => format!("api.{name}"),
        Source::Conversation => format!("call.{name}"),
        _ => name.to_owned(),
    }
}

/// A request's rendering, as a person is shown it.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    pub headers: Vec<String>,
    pub body: Option<String>,
}

/// Renders requests from one set of values, with secrets real or masked.
pub(crate) struct Renderer<'v> {
    pub values: &'v Values,
    pub masked: bool,
    /// The loaded file, whose `auth:` schemes are described once for the runtime.
    pub requests: &'static Requests,
}

impl Renderer<'_> {
    /// Builds `model`'s request for `spec` as generated code would: URL piece by piece, query,
    /// headers, body. What is shown is returned beside it.
    ///
    /// # Errors
    ///
    /// [`Error::MissingValue`] when the URL needs an `api.*` value that has none, as generated
    /// code reports it before anything is sent.
    pub(crate) fn build(
        &self,
        request: &mut Request<'_>,
        spec: &'static CallSpec,
        model: &'static RequestModel,
    ) -> Result<Shown, Error> {
        for piece in &model.url {
            match piece {
                UrlPiece::Text(text) => request.push_url_raw(text),
                UrlPiece::Raw(value) => request.push_url_raw(&self.text(value).unwrap_or_default()),
                UrlPiece::PathValue(value) => request.push_path_value(&self.required(spec, value)?),
                UrlPiece::QueryValue(value) => {
                    request.push_query_value(&self.required(spec, value)?);
                }
                _ => {}
            }
        }
        for entry in &model.query {
            // An array as the whole value: one entry per item.
            if let [Piece::Value(value)] = entry.value.0.as_slice()
                && let Some(Argument::Array(items)) = self.values.composite(value)
            {
                for item in items {
                    if let Argument::Value(item) = item {
                        request.query(&entry.name, &item.to_string());
                    }
                }
                continue;
            }
            if let Some(value) = self.template(&entry.value) {
                request.query(&entry.name, &value);
            }
        }
        let mut shown = Shown::default();
        for header in &model.headers {
            if let Some(value) = self.template(&header.value) {
                request.header(&header.name, &value, header.sensitive);
                // A value with a line break is refused when sent; shown, it must not look
                // like a header of its own (or drive the terminal).
                let printable = apicall_build::escape_text(&value);
                shown.headers.push(format!("{}: {printable}", header.name));
            }
        }
        if let Some(auth) = &model.auth {
            // Masked, the scheme is applied with `***` for every secret to a request that is
            // only shown, never sent.
            let lines = crate::auth::apply(
                self.requests,
                auth,
                request,
                |template| self.template(template).unwrap_or_default(),
                |value| Secret::new(self.text(value).unwrap_or_default()),
            );
            shown.headers.extend(lines);
        }
        if let Some(pieces) = &model.body {
            let body = self.body(pieces);
            if self.masked {
                let bytes = body.into_bytes();
                shown.body = Some(String::from_utf8_lossy(&bytes).into_owned());
            } else {
                request.json_body_text(body);
            }
        }
        Ok(shown)
    }

    /// The value, or the mask for a secret when masking.
    fn value(&self, value: &ValueRef) -> Option<TypedValue> {
        if self.masked && value.secret {
            return Some(TypedValue::String(MASK.to_owned()));
        }
        self.values.get(value).cloned()
    }

    /// A value's text as generated code formats it; `None` when it has no value.
    fn text(&self, value: &ValueRef) -> Option<String> {
        self.value(value).map(|value| value.to_string())
    }

    /// A URL value, which cannot be left out: an `api.*` value without one stops the call.
    fn required(&self, spec: &'static CallSpec, value: &'static ValueRef) -> Result<String, Error> {
        self.text(value).ok_or(Error::MissingValue {
            call: spec.name,
            variable: &value.name,
        })
    }

    /// The template's text, or `None` when a value in it has none (the entry is left out).
    fn template(&self, template: &Template) -> Option<String> {
        let mut out = String::new();
        for piece in &template.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Value(value) => out.push_str(&self.text(value)?),
                _ => {}
            }
        }
        Some(out)
    }

    fn body(&self, pieces: &[BodyPiece]) -> JsonText {
        let mut body = JsonText::default();
        for piece in pieces {
            match piece {
                BodyPiece::Json(text) => body.raw(text),
                // An absent optional value is `null`.
                BodyPiece::Value(value) => match self.values.composite(value) {
                    Some(argument) => body.value(argument),
                    None => body.value(&self.value(value)),
                },
                // In text, an absent value is empty.
                BodyPiece::Text(template) => {
                    let text: String = template
                        .0
                        .iter()
                        .map(|piece| match piece {
                            Piece::Text(text) => text.clone(),
                            Piece::Value(value) => self.text(value).unwrap_or_default(),
                            _ => String::new(),
                        })
                        .collect();
                    body.value(&text);
                }
                _ => {}
            }
        }
        body
    }
}
