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
    /// For a webhook with `secret:`, the variable's value, which signs it.
    pub signing_key: Option<String>,
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
    /// The URL needs an `api.*` value that was not given.
    #[error(
        "the URL needs `{{{{api.{0}}}}}`, a value an earlier call extracts: pass --api {0}=..."
    )]
    MissingApiValue(String),
    /// `--api` named a value no call extracts.
    #[error("no call extracts `{{{{api.{0}}}}}`")]
    UnknownApiValue(String),
    /// No webhook has that name.
    #[error("no webhook named `{name}`; the webhooks are: {known}")]
    UnknownWebhook {
        /// The name asked for.
        name: String,
        /// The webhooks there are.
        known: String,
    },
    /// The webhook is signed with a secret variable that was not given.
    #[error("the webhook is signed with `{0}`: pass --var {0}=...")]
    MissingSigningKey(String),
}

/// The values a plan is worked out from, given as text: context variables, LLM parameters
/// (calls only) and `api.*` values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Values<'a> {
    /// `--var NAME=VALUE`
    pub vars: &'a [(String, String)],
    /// `--arg NAME=VALUE`
    pub args: &'a [(String, String)],
    /// `--api NAME=VALUE`
    pub api: &'a [(String, String)],
}

/// The ended conversation's facts a webhook plan renders: `{{call.*}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFacts {
    /// `{{call.id}}`
    pub id: String,
    /// `{{call.started_at}}`
    pub started_at: String,
    /// `{{call.ended_at}}`
    pub ended_at: String,
    /// `{{call.duration_ms}}`
    pub duration_ms: u64,
    /// `{{call.outcome}}`
    pub outcome: String,
}

/// Works out the request of `call` in the calls.yaml `bytes` (named `file` in diagnostics),
/// with the given context variables, LLM parameters and `api.*` values.
///
/// # Errors
///
/// A [`PlanError`] saying what is missing or wrong.
pub fn plan_call(
    file: &str,
    bytes: &[u8],
    call: &str,
    values: Values<'_>,
) -> Result<CallPlan, PlanError> {
    let model = checked(file, bytes)?;
    let Some(found) = model.calls.iter().find(|c| c.name == call) else {
        let known: Vec<&str> = model.calls.iter().map(|c| c.name.as_str()).collect();
        return Err(PlanError::UnknownCall {
            name: call.to_owned(),
            known: known.join(", "),
        });
    };
    let planner = Planner::new(&model, &found.params, values, None)?;
    let request = Request {
        name: &found.name,
        method: found.method.as_str(),
        timeout_ms: found.timeout_ms,
        retries: found.retries,
        url: &found.url,
        query: &found.query,
        headers: &found.headers,
        body: found.body.as_ref(),
        signing_key: None,
    };
    let mut plan = planner.plan(&request)?;
    plan.extract = found
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
        .collect();
    Ok(plan)
}

/// Works out the request of the webhook `webhook`, for a conversation that ended with `facts`.
///
/// # Errors
///
/// A [`PlanError`] saying what is missing or wrong.
pub fn plan_webhook(
    file: &str,
    bytes: &[u8],
    webhook: &str,
    values: Values<'_>,
    facts: &CallFacts,
) -> Result<CallPlan, PlanError> {
    let model = checked(file, bytes)?;
    let Some(found) = model.webhooks.iter().find(|w| w.name == webhook) else {
        let known: Vec<&str> = model.webhooks.iter().map(|w| w.name.as_str()).collect();
        return Err(PlanError::UnknownWebhook {
            name: webhook.to_owned(),
            known: if known.is_empty() {
                "(none)".to_owned()
            } else {
                known.join(", ")
            },
        });
    };
    let planner = Planner::new(&model, &[], values, Some(facts))?;
    let request = Request {
        name: &found.name,
        method: "POST",
        timeout_ms: found.timeout_ms,
        retries: found.retries,
        url: &found.url,
        query: &[],
        headers: &found.headers,
        body: Some(&found.body),
        signing_key: found.signing_key,
    };
    planner.plan(&request)
}

fn checked(file: &str, bytes: &[u8]) -> Result<ir::File, PlanError> {
    let (model, diagnostics) = crate::check(file, bytes);
    match model {
        Some(model) if diagnostics.is_empty() => Ok(model),
        _ => Err(PlanError::Invalid(diagnostics)),
    }
}

/// What a call and a webhook have in common: a request to render.
struct Request<'a> {
    name: &'a str,
    method: &'static str,
    timeout_ms: u64,
    retries: u32,
    url: &'a [UrlPart],
    query: &'a [ir::QueryParam],
    headers: &'a [ir::Header],
    body: Option<&'a Json>,
    /// Index of the secret variable that signs it.
    signing_key: Option<usize>,
}

struct Planner<'a> {
    file: &'a ir::File,
    params: &'a [ir::Param],
    /// Each given context variable as typed JSON.
    vars: HashMap<&'a str, Value>,
    /// Each given parameter as typed JSON.
    args: HashMap<&'a str, Value>,
    /// Each given `api.*` value as typed JSON.
    api: HashMap<&'a str, Value>,
    facts: Option<&'a CallFacts>,
}

impl<'a> Planner<'a> {
    fn new(
        file: &'a ir::File,
        params: &'a [ir::Param],
        values: Values<'a>,
        facts: Option<&'a CallFacts>,
    ) -> Result<Self, PlanError> {
        let vars = typed_values(values.vars, PlanError::Unknown, |name| {
            file.variables.iter().find(|v| v.name == name).map(|v| v.ty)
        })?;
        let mut typed_args = HashMap::new();
        for (name, value) in values.args {
            let param = params
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| PlanError::Unknown(name.clone()))?;
            typed_args.insert(name.as_str(), typed(name, value, &param.ty)?);
        }
        if let Some(missing) = params
            .iter()
            .find(|p| p.required && !typed_args.contains_key(p.name.as_str()))
        {
            return Err(PlanError::MissingArgument(missing.name.clone()));
        }
        let api = typed_values(values.api, PlanError::UnknownApiValue, |name| {
            file.api_values
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.ty)
        })?;
        Ok(Self {
            file,
            params,
            vars,
            args: typed_args,
            api,
            facts,
        })
    }

    fn plan(&self, request: &Request<'_>) -> Result<CallPlan, PlanError> {
        let mut steps = Vec::new();
        for part in request.url {
            steps.push(match part {
                UrlPart::Literal(text) => Step::UrlText(text.clone()),
                UrlPart::Raw(var) => Step::UrlText(self.required(*var)?),
                UrlPart::PathValue(var) => Step::PathValue(self.required(*var)?),
                UrlPart::QueryValue(var) => Step::QueryValue(self.required(*var)?),
            });
        }
        for query in request.query {
            if let Some(value) = self.render(&query.value)? {
                steps.push(Step::Query {
                    name: query.name.clone(),
                    value,
                });
            }
        }
        for header in request.headers {
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
        if let Some(body) = request.body {
            steps.push(Step::Body(self.json(body)?));
        }
        let signing_key = match request.signing_key {
            Some(index) => {
                let name = &self.file.variables[index].name;
                let value = self
                    .vars
                    .get(name.as_str())
                    .ok_or_else(|| PlanError::MissingSigningKey(name.clone()))?;
                Some(as_text(value))
            }
            None => None,
        };
        let secrets = self
            .file
            .variables
            .iter()
            .filter(|v| v.secret)
            .filter_map(|v| self.vars.get(v.name.as_str()).map(as_text))
            .collect();
        Ok(CallPlan {
            name: request.name.to_owned(),
            method: request.method,
            timeout_ms: request.timeout_ms,
            retries: request.retries,
            steps,
            extract: Vec::new(),
            signing_key,
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
                    .map(|value| Some(as_text(value)))
                    .ok_or_else(|| PlanError::MissingVariable(name.clone()))
            }
            Var::Collected(index) => {
                Ok(self.args.get(self.params[index].name.as_str()).map(as_text))
            }
            Var::Api(index) => Ok(self
                .api
                .get(self.file.api_values[index].name.as_str())
                .map(as_text)),
            Var::Call(field) => Ok(self.fact(field).as_ref().map(as_text)),
        }
    }

    /// A fact of the ended conversation, as JSON; `None` outside a webhook.
    fn fact(&self, field: ir::CallField) -> Option<Value> {
        let facts = self.facts?;
        Some(match field {
            ir::CallField::Id => json!(facts.id),
            ir::CallField::StartedAt => json!(facts.started_at),
            ir::CallField::EndedAt => json!(facts.ended_at),
            ir::CallField::DurationMs => json!(facts.duration_ms),
            ir::CallField::Outcome => json!(facts.outcome),
        })
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
            Json::Number(text) => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
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
            // Typed values keep their JSON type, as in generated code.
            Json::Var(Var::Collected(index)) => self
                .args
                .get(self.params[*index].name.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            Json::Var(Var::Api(index)) => self
                .api
                .get(self.file.api_values[*index].name.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            Json::Var(Var::Call(field)) => self.fact(*field).unwrap_or(Value::Null),
            Json::Var(Var::Context(index)) => {
                let name = &self.file.variables[*index].name;
                self.vars
                    .get(name.as_str())
                    .cloned()
                    .ok_or_else(|| PlanError::MissingVariable(name.clone()))?
            }
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
                self.params
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

/// Values given as text, each parsed by the type `declared` gives its name; a name it does not
/// know is `unknown`.
fn typed_values(
    given: &[(String, String)],
    unknown: fn(String) -> PlanError,
    declared: impl Fn(&str) -> Option<ir::ValueType>,
) -> Result<HashMap<&str, Value>, PlanError> {
    given
        .iter()
        .map(|(name, value)| {
            let ty = declared(name).ok_or_else(|| unknown(name.clone()))?;
            Ok((
                name.as_str(),
                typed(name, value, &ir::ParamType::Value(ty))?,
            ))
        })
        .collect()
}

/// A JSON value as template text: strings as they are, anything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
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
