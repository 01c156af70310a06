//! A call's request worked out from the YAML and given values, without generating code: what
//! `apicall run` sends. The steps are replayed on apicall-runtime's request builder, the same
//! one generated code uses, so encoding and checks are identical.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::diagnostic::Diagnostics;
use crate::ir::{self, Json, Piece, UrlPart, Var};
use crate::parse::path::Segment;

/// One step of building the request.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// URL text from the YAML, or a context value in the origin: verbatim.
    UrlText(String),
    /// A value inside a path segment.
    PathValue(String),
    /// A value inside the URL's own query string.
    QueryValue(String),
    /// A `query:` entry.
    Query {
        /// Its name.
        name: String,
        /// Its rendered value.
        value: String,
    },
    /// A header.
    Header {
        /// Its name.
        name: String,
        /// Its rendered value.
        value: String,
        /// Whether the value holds a secret.
        secret: bool,
    },
    /// The JSON body.
    Body(Value),
}

/// One step into the response JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Everything needed to send one call and read its values.
#[derive(Clone, Debug)]
pub struct CallPlan {
    /// The call's name.
    pub name: String,
    /// `GET`, `POST`...
    pub method: &'static str,
    /// The call's timeout.
    pub timeout_ms: u64,
    /// Its retries.
    pub retries: u32,
    /// How to build the request, in order.
    pub steps: Vec<Step>,
    /// Each response variable: its name, its path as written, and the path.
    pub extract: Vec<(String, String, Vec<PathStep>)>,
    secrets: Vec<String>,
}

impl CallPlan {
    /// `text` with every secret value replaced by `***`, for showing a request.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        self.secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(text.to_owned(), |text, secret| {
                text.replace(secret.as_str(), "***")
            })
    }
}

/// Why a call could not be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The file has mistakes.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// No call has that name.
    #[error("no call named `{name}`; the calls are: {known}")]
    UnknownCall {
        /// The name asked for.
        name: String,
        /// The calls there are.
        known: String,
    },
    /// A context variable the call uses was not given.
    #[error("the call uses `{{{{{0}}}}}`: pass --var {0}=...")]
    MissingVariable(String),
    /// A required parameter was not given.
    #[error("`{0}` is a required parameter: pass --arg {0}=...")]
    MissingArgument(String),
    /// A value does not parse as its declared type.
    #[error("`{name}` must be {expected}")]
    BadValue {
        /// The variable or parameter.
        name: String,
        /// What it must be.
        expected: String,
    },
    /// A value was given for something the file does not declare.
    #[error("`{0}` is not a variable or parameter of this call")]
    Unknown(String),
    /// The URL needs an `api.*` value, which `apicall run` cannot know.
    #[error("the URL needs `{{{{api.{0}}}}}`, a value an earlier call extracts")]
    MissingApiValue(String),
}

/// Works out the request of `call` in the calls.yaml `bytes` (named `file` in diagnostics),
/// with context variables `vars` and LLM parameters `args` given as text.
///
/// # Errors
///
/// A [`PlanError`] saying what is missing or wrong.
pub fn plan_call(
    file: &str,
    bytes: &[u8],
    call: &str,
    vars: &[(String, String)],
    args: &[(String, String)],
) -> Result<CallPlan, PlanError> {
    let (model, diagnostics) = crate::check(file, bytes);
    let model = match model {
        Some(model) if diagnostics.is_empty() => model,
        _ => return Err(PlanError::Invalid(diagnostics)),
    };
    let Some(found) = model.calls.iter().find(|c| c.name == call) else {
        let known: Vec<&str> = model.calls.iter().map(|c| c.name.as_str()).collect();
        return Err(PlanError::UnknownCall {
            name: call.to_owned(),
            known: known.join(", "),
        });
    };
    Planner::new(&model, found, vars, args)?.plan()
}

struct Planner<'a> {
    file: &'a ir::File,
    call: &'a ir::Call,
    vars: HashMap<&'a str, &'a str>,
    /// Each given parameter as typed JSON.
    args: HashMap<&'a str, Value>,
}

impl<'a> Planner<'a> {
    fn new(
        file: &'a ir::File,
        call: &'a ir::Call,
        vars: &'a [(String, String)],
        args: &'a [(String, String)],
    ) -> Result<Self, PlanError> {
        let mut typed_vars = HashMap::new();
        for (name, value) in vars {
            let variable = file
                .variables
                .iter()
                .find(|v| v.name == *name)
                .ok_or_else(|| PlanError::Unknown(name.clone()))?;
            typed(name, value, &ir::ParamType::Value(variable.ty))?;
            typed_vars.insert(name.as_str(), value.as_str());
        }
        let mut typed_args = HashMap::new();
        for (name, value) in args {
            let param = call
                .params
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| PlanError::Unknown(name.clone()))?;
            typed_args.insert(name.as_str(), typed(name, value, &param.ty)?);
        }
        if let Some(missing) = call
            .params
            .iter()
            .find(|p| p.required && !typed_args.contains_key(p.name.as_str()))
        {
            return Err(PlanError::MissingArgument(missing.name.clone()));
        }
        Ok(Self {
            file,
            call,
            vars: typed_vars,
            args: typed_args,
        })
    }

    fn plan(&self) -> Result<CallPlan, PlanError> {
        let mut steps = Vec::new();
        for part in &self.call.url {
            steps.push(match part {
                UrlPart::Literal(text) => Step::UrlText(text.clone()),
                UrlPart::Raw(var) => Step::UrlText(self.required(*var)?),
                UrlPart::PathValue(var) => Step::PathValue(self.required(*var)?),
                UrlPart::QueryValue(var) => Step::QueryValue(self.required(*var)?),
            });
        }
        for query in &self.call.query {
            if let Some(value) = self.render(&query.value)? {
                steps.push(Step::Query {
                    name: query.name.clone(),
                    value,
                });
            }
        }
        for header in &self.call.headers {
            if let Some(value) = self.render(&header.value)? {
                let secret = header.value.iter().any(|piece| {
                    matches!(piece, Piece::Var(Var::Context(i)) if self.file.variables[*i].secret)
                });
                steps.push(Step::Header {
                    name: header.name.clone(),
                    value,
                    secret,
                });
            }
        }
        if let Some(body) = &self.call.body {
            steps.push(Step::Body(self.json(body)?));
        }
        let secrets = self
            .file
            .variables
            .iter()
            .filter(|v| v.secret)
            .filter_map(|v| self.vars.get(v.name.as_str()).map(|s| (*s).to_owned()))
            .collect();
        Ok(CallPlan {
            name: self.call.name.clone(),
            method: self.call.method.as_str(),
            timeout_ms: self.call.timeout_ms,
            retries: self.call.retries,
            steps,
            extract: self
                .call
                .responses
                .iter()
                .map(|r| {
                    let path = r
                        .path
                        .iter()
                        .map(|segment| match segment {
                            Segment::Key(key) => PathStep::Key(key.clone()),
                            Segment::Index(index) => PathStep::Index(*index),
                        })
                        .collect();
                    (r.name.clone(), crate::parse::path::display(&r.path), path)
                })
                .collect(),
            secrets,
        })
    }

    /// A variable's text, or `None` when it has no value (an optional parameter not given,
    /// an `api.*` value).
    fn text(&self, var: Var) -> Result<Option<String>, PlanError> {
        match var {
            Var::Context(index) => {
                let name = &self.file.variables[index].name;
                self.vars
                    .get(name.as_str())
                    .map(|value| Some((*value).to_owned()))
                    .ok_or_else(|| PlanError::MissingVariable(name.clone()))
            }
            Var::Collected(index) => {
                Ok(self
                    .args
                    .get(self.call.params[index].name.as_str())
                    .map(|value| match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    }))
            }
            // Only webhooks read the ended conversation's facts; `apicall run` runs calls.
            Var::Api(_) | Var::Call(_) => Ok(None),
        }
    }

    fn required(&self, var: Var) -> Result<String, PlanError> {
        self.text(var)?.ok_or_else(|| match var {
            Var::Api(index) => PlanError::MissingApiValue(self.file.api_values[index].name.clone()),
            _ => PlanError::MissingArgument(String::new()),
        })
    }

    /// The template's text, or `None` when a variable in it has no value (entry left out).
    fn render(&self, template: &[Piece]) -> Result<Option<String>, PlanError> {
        let mut out = String::new();
        for piece in template {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(var) => match self.text(*var)? {
                    Some(value) => out.push_str(&value),
                    None => return Ok(None),
                },
                Piece::VarOr(..) | Piece::If { .. } => {}
            }
        }
        Ok(Some(out))
    }

    fn json(&self, json: &Json) -> Result<Value, PlanError> {
        Ok(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => json!(b),
            Json::Int(n) => i64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n)),
            Json::Float(n) => json!(n),
            Json::Text(template) => {
                let mut out = String::new();
                for piece in template {
                    match piece {
                        Piece::Text(text) => out.push_str(text),
                        Piece::Var(var) => out.push_str(&self.text(*var)?.unwrap_or_default()),
                        Piece::VarOr(..) | Piece::If { .. } => {}
                    }
                }
                Value::String(out)
            }
            Json::Var(Var::Collected(index)) => self
                .args
                .get(self.call.params[*index].name.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            Json::Var(var) => self.text(*var)?.map_or(Value::Null, Value::String),
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.json(item))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, value)| Ok((key.clone(), self.json(value)?)))
                    .collect::<Result<_, PlanError>>()?,
            ),
            Json::Params => Value::Object(
                self.call
                    .params
                    .iter()
                    .map(|p| {
                        let value = self
                            .args
                            .get(p.name.as_str())
                            .cloned()
                            .unwrap_or(Value::Null);
                        (p.name.clone(), value)
                    })
                    .collect(),
            ),
        })
    }
}

/// Parses a value given as text by its declared type.
fn typed(name: &str, value: &str, ty: &ir::ParamType) -> Result<Value, PlanError> {
    let bad = |expected: &str| PlanError::BadValue {
        name: name.to_owned(),
        expected: expected.to_owned(),
    };
    match ty {
        ir::ParamType::Value(ir::ValueType::String) => Ok(json!(value)),
        ir::ParamType::Value(ir::ValueType::Integer) => value
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|_| bad("an integer")),
        ir::ParamType::Value(ir::ValueType::Number) => value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| json!(n))
            .ok_or_else(|| bad("a number")),
        ir::ParamType::Value(ir::ValueType::Boolean) => value
            .parse::<bool>()
            .map(|b| json!(b))
            .map_err(|_| bad("true or false")),
        ir::ParamType::Enum(choices) => choices
            .iter()
            .find(|c| c.value == value)
            .map(|c| json!(c.value))
            .ok_or_else(|| {
                let list: Vec<&str> = choices.iter().map(|c| c.value.as_str()).collect();
                bad(&format!("one of {}", list.join(", ")))
            }),
    }
}
