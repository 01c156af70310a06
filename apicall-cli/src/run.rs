//! `apicall run` and `apicall webhook`: one call or one webhook, live, executed from the
//! compiler's request model through apicall-runtime's `call` API, so it succeeds and fails
//! exactly where the generated function does.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use apicall_build::request::{
    Method, Param, PathStep as ModelStep, RequestModel, Requests, Shape, Source, ValueType,
};
use apicall_runtime::call::{
    self, CallSpec, PathStep, Request, ResponsePaths, TypedValue, ValueKind,
};
use apicall_runtime::{
    CallEnd, Client, Conversation, Error, IDEMPOTENCY_KEY_HEADER, Outcome, SIGNATURE_HEADER,
    Secret, TIMESTAMP_HEADER, WebhookError,
};

use crate::execute::{Renderer, Values};
use crate::{CallArgs, ValueArgs, WebhookArgs};

/// `println!` for what a command shows: a reader that has gone (`apicall run ... | head`) ends
/// the command quietly, as SIGPIPE ends a C tool, instead of panicking with a backtrace.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = writeln!(std::io::stdout(), $($arg)*) {
            output_failed(&error);
        }
    }};
}

/// Ends the process when stdout cannot be written: quietly when the reader has gone, with the
/// status a shell shows for a tool SIGPIPE ended (141), since what was to be sent may not
/// have been (`set -o pipefail` sees it); with the error and status 1 otherwise.
fn output_failed(error: &std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(SIGPIPE_STATUS);
    }
    eprintln!("error: cannot write the output: {error}");
    std::process::exit(1);
}

/// 128 + SIGPIPE: how a shell reports a command that wrote to a pipe whose reader had gone.
const SIGPIPE_STATUS: i32 = 141;

/// How much of an error response's body is shown.
const ERROR_BODY_SHOWN: usize = 2048;

/// The file's requests and the one being sent. Errors from the runtime name the call and its
/// variables with `&'static str`s, as generated code's statics do; a command sends one request,
/// so the model lives in a static for the rest of the process.
static REQUESTS: OnceLock<Requests> = OnceLock::new();
static SPEC: OnceLock<CallSpec> = OnceLock::new();

/// A failure before sending: what to say and the exit status.
pub(crate) struct Stop(pub(crate) String, pub(crate) u8);

impl From<Stop> for ExitCode {
    fn from(Stop(message, code): Stop) -> Self {
        if !message.is_empty() {
            eprintln!("{message}");
        }
        ExitCode::from(code)
    }
}

pub(crate) fn usage(message: String) -> Stop {
    Stop(format!("error: {message}"), 2)
}

/// The file's lowered requests, kept for the rest of the process.
pub(crate) fn load(file: &str) -> Result<&'static Requests, Stop> {
    let bytes = crate::read(file).map_err(|_| Stop(String::new(), 2))?;
    let requests = apicall_build::requests(file, &bytes)
        .map_err(|diagnostics| Stop(diagnostics.to_string(), 1))?;
    Ok(REQUESTS.get_or_init(|| requests))
}

fn find<'r>(models: &'r [RequestModel], name: &str, what: &str) -> Result<&'r RequestModel, Stop> {
    let model = models.iter().find(|m| m.name == name).ok_or_else(|| {
        let known: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
        let known = if known.is_empty() {
            "(none)".to_owned()
        } else {
            known.join(", ")
        };
        usage(format!(
            "no {what} named `{name}`; the {what}s are: {known}"
        ))
    })?;
    Ok(model)
}

fn kind(ty: ValueType) -> ValueKind {
    match ty {
        ValueType::Integer => ValueKind::Integer,
        ValueType::Number => ValueKind::Number,
        ValueType::Boolean => ValueKind::Boolean,
        _ => ValueKind::String,
    }
}

fn typed(name: &str, ty: ValueType, text: &str) -> Result<TypedValue, Stop> {
    TypedValue::parse(kind(ty), text).ok_or_else(|| {
        let expected = match ty {
            ValueType::Integer => "an integer",
            ValueType::Number => "a number",
            ValueType::Boolean => "true or false",
            _ => "a string",
        };
        usage(format!("`{name}` must be {expected}"))
    })
}

/// The `--var` and `--api` values, typed by their declarations.
pub(crate) fn given_values(requests: &Requests, given: &ValueArgs) -> Result<Values, Stop> {
    let mut values = Values::default();
    for (name, text) in &given.vars {
        let variable = requests
            .variables
            .iter()
            .find(|v| v.name == *name)
            .ok_or_else(|| usage(format!("`{name}` is not a variable of this file")))?;
        if variable.secret {
            values.insert_secret(name, text.clone());
        } else {
            values.insert(Source::Context, name, typed(name, variable.ty, text)?);
        }
    }
    for (name, text) in &given.api {
        let value = requests
            .api_values
            .iter()
            .find(|v| v.name == *name)
            .ok_or_else(|| usage(format!("no call extracts `{{{{api.{name}}}}}`")))?;
        values.insert(Source::Api, name, typed(name, value.ty, text)?);
    }
    Ok(values)
}

/// The `--arg` values, which the generated function's types would demand: every required
/// parameter, each of its type, an enum's value among its choices, an array or object as JSON
/// text. They are read as the dispatcher reads an LLM's arguments, with the same problems.
fn given_args(
    model: &'static RequestModel,
    args: &[(String, String)],
    values: &mut Values,
) -> Result<(), Stop> {
    let mut arguments = serde_json::Map::new();
    for (name, text) in args {
        let param = model
            .params
            .iter()
            .find(|p| p.name == *name)
            .ok_or_else(|| usage(format!("`{name}` is not a parameter of `{}`", model.name)))?;
        let json = match &param.shape {
            Shape::Value(ty) => {
                let value = typed(name, *ty, text)?;
                serde_json::to_value(&value).unwrap_or_default()
            }
            Shape::Enum(_) => serde_json::Value::String(text.clone()),
            // Not an integer is reported below, with the choices.
            Shape::IntegerEnum(_) => text
                .parse::<i64>()
                .map_or_else(|_| serde_json::Value::String(text.clone()), Into::into),
            _ => serde_json::from_str(text).map_err(|_| {
                usage(format!(
                    "`{name}` is an array or an object: pass it as JSON text, like \
                     --arg {name}='[\"a\", \"b\"]' or --arg {name}='{{\"key\": 1}}'"
                ))
            })?,
        };
        arguments.insert(name.clone(), json);
    }
    if let Some(missing) = model
        .params
        .iter()
        .find(|p| p.required && !args.iter().any(|(name, _)| *name == p.name))
    {
        let name = &missing.name;
        return Err(usage(format!(
            "`{name}` is a required parameter: pass --arg {name}=..."
        )));
    }
    let described = described(&model.params);
    let read = call::read_arguments(described, &serde_json::Value::Object(arguments))
        .map_err(|problems| usage(problems.join("\nerror: ")))?;
    for (name, argument) in read {
        values.insert_argument(name, argument);
    }
    Ok(())
}

/// The parameters as generated code describes them to the dispatcher; built once per
/// process, for the one call it runs.
pub(crate) fn described(params: &'static [Param]) -> &'static [call::Param] {
    let described: Vec<call::Param> = params
        .iter()
        .map(|param| call::Param {
            name: &param.name,
            shape: described_shape(&param.shape),
            required: param.required,
        })
        .collect();
    described.leak()
}

fn described_shape(shape: &'static Shape) -> call::Shape {
    match shape {
        Shape::Value(ValueType::Integer) => call::Shape::Integer,
        Shape::Value(ValueType::Number) => call::Shape::Number,
        Shape::Value(ValueType::Boolean) => call::Shape::Boolean,
        Shape::Enum(choices) => {
            let choices: Vec<&'static str> = choices.iter().map(String::as_str).collect();
            call::Shape::Enum(choices.leak())
        }
        Shape::IntegerEnum(choices) => call::Shape::IntegerEnum(choices),
        Shape::Array(items) => call::Shape::Array(Box::leak(Box::new(described_shape(items)))),
        Shape::Object(members) => call::Shape::Object(described(members)),
        _ => call::Shape::String,
    }
}

/// Every context variable the request reads must be given: generated code takes them all.
pub(crate) fn check_context(model: &RequestModel, values: &Values) -> Result<(), Stop> {
    let missing = model
        .values()
        .find(|v| v.source == Source::Context && values.get(v).is_none());
    match missing {
        Some(missing) => {
            let name = &missing.name;
            let what = if model.signing_key.as_ref() == Some(missing) {
                "the webhook is signed with"
            } else {
                "the request uses"
            };
            Err(usage(format!(
                "{what} `{{{{{name}}}}}`: pass --var {name}=..."
            )))
        }
        None => Ok(()),
    }
}

pub(crate) fn client(base_url: Option<&str>) -> Result<Client, Stop> {
    match base_url {
        None => Ok(Client::new()),
        Some(base) => Client::new()
            .with_base_url(base)
            .map_err(|error| usage(error.to_string())),
    }
}

fn spec(model: &'static RequestModel) -> &'static CallSpec {
    SPEC.get_or_init(|| call_spec(model))
}

/// The call's spec, as generated code writes it in a `static`.
pub(crate) fn call_spec(model: &'static RequestModel) -> CallSpec {
    CallSpec {
        name: &model.name,
        method: match model.method {
            Method::Post => call::Method::Post,
            Method::Put => call::Method::Put,
            Method::Patch => call::Method::Patch,
            Method::Delete => call::Method::Delete,
            _ => call::Method::Get,
        },
        timeout_ms: model.timeout_ms,
        retries: model.retries,
    }
}

fn block_on(future: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            ExitCode::from(2)
        }
    }
}

/// Builds the request with the real values, and prints it as rendered with secrets masked.
fn build<'c>(
    client: &'c Client,
    requests: &'static Requests,
    model: &'static RequestModel,
    values: &Values,
) -> Result<Request<'c>, Error> {
    let spec = spec(model);
    let mut shown_request = Request::new(client, spec);
    let shown = Renderer {
        values,
        masked: true,
        requests,
    }
    .build(&mut shown_request, spec, model)?;
    let mut request = Request::new(client, spec);
    Renderer {
        values,
        masked: false,
        requests,
    }
    .build(&mut request, spec, model)?;
    // A URL the runtime refuses is not checked here: sending reports it, after the checks the
    // generated function makes first (headers), so both fail with the same error.
    let url = shown_request
        .url()
        .map_or_else(|_| model.url_text.clone(), |url| url.to_string());
    // `*` is percent-encoded in a path; show the mask as it was written.
    say!(
        "{} {}",
        model.method.as_str(),
        url.replace("%2A%2A%2A", "***")
    );
    for header in &shown.headers {
        say!("  {header}");
    }
    if let Some(body) = &shown.body {
        say!("  body: {body}");
    }
    Ok(request)
}

pub(crate) fn run(args: &CallArgs) -> ExitCode {
    let prepared: Result<_, Stop> = (|| {
        let requests = load(&args.file)?;
        let model = find(&requests.calls, &args.call, "call")?;
        let mut values = given_values(requests, &args.values)?;
        given_args(model, &args.args, &mut values)?;
        check_context(model, &values)?;
        Ok((
            requests,
            model,
            values,
            client(args.values.base_url.as_deref())?,
        ))
    })();
    match prepared {
        Ok((requests, model, values, client)) => block_on(send(requests, model, &values, &client)),
        Err(stop) => stop.into(),
    }
}

async fn send(
    requests: &'static Requests,
    model: &'static RequestModel,
    values: &Values,
    client: &Client,
) -> ExitCode {
    let request = match build(client, requests, model, values) {
        Ok(request) => request,
        Err(error) => return failed(&error, None, None, values),
    };
    say!(
        "  (timeout {} ms, retries {})",
        model.timeout_ms,
        model.retries
    );
    let started = Instant::now();
    // Read past what is shown by the longest secret, so one that starts in the shown part is
    // masked whole and none is cut into a visible prefix.
    let inspected = request
        .send_and_inspect(ERROR_BODY_SHOWN + values.mask_overlap())
        .await;
    let latency = started.elapsed().as_millis();
    let body = match inspected.result {
        Ok(body) => body,
        Err(error) => {
            return failed(
                &error,
                Some(latency),
                inspected.error_body.as_deref(),
                values,
            );
        }
    };
    let status = inspected.status.unwrap_or_default();
    say!("-> HTTP {status} in {latency} ms, {} bytes", body.len());
    match extract(model, spec(model), &body) {
        Ok(found) => {
            for (extraction, value) in model.extract.iter().zip(found) {
                match value {
                    Some(value) => {
                        let json = serde_json::to_string(&value).unwrap_or_default();
                        let masked = values.mask(&json);
                        let printable = apicall_build::escape_text(&masked);
                        say!("  {} = {printable}", extraction.name);
                    }
                    None => say!(
                        "  {} = (absent at {})",
                        extraction.name,
                        extraction.path_text
                    ),
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => failed(&error, None, None, values),
    }
}

/// Each response variable, read as the generated function reads its response struct.
pub(crate) fn extract(
    model: &'static RequestModel,
    spec: &'static CallSpec,
    body: &[u8],
) -> Result<Vec<Option<TypedValue>>, Error> {
    let paths: Vec<Vec<PathStep>> = model
        .extract
        .iter()
        .map(|extraction| {
            extraction
                .path
                .iter()
                .map(|step| match step {
                    ModelStep::Index(index) => PathStep::Index(*index),
                    ModelStep::FromEnd(back) => PathStep::FromEnd(*back),
                    ModelStep::Key(key) => PathStep::Key(key.clone()),
                    // A step the runtime cannot walk matches nothing, as a missing key does.
                    _ => PathStep::Index(usize::MAX),
                })
                .collect()
        })
        .collect();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let paths = ResponsePaths::new(paths.iter().map(Vec::as_slice));
    let mut extracted = call::extract_paths(spec, body, &paths)?;
    model
        .extract
        .iter()
        .enumerate()
        .map(|(slot, extraction)| {
            extracted.read(
                slot,
                &extraction.name,
                kind(extraction.ty),
                extraction.required,
            )
        })
        .collect()
}

/// Reports a failed call (exit status 1): the runtime's error, and the start of an error
/// response's body with secrets masked.
fn failed(error: &Error, latency: Option<u128>, body: Option<&[u8]>, values: &Values) -> ExitCode {
    match latency {
        Some(latency) => say!("-> failed after {latency} ms: {error}"),
        None => say!("-> failed: {error}"),
    }
    if let Some(body) = body.filter(|body| !body.is_empty()) {
        // The server's bytes: masked, then made printable (a body may hold terminal escapes
        // or line breaks that would pass for this tool's own output).
        // Read past the 2 KiB shown by the longest secret's longest form (see `send`), so a
        // secret that starts within them is masked whole.
        let (masked, cut) = values.mask_within(&String::from_utf8_lossy(body), ERROR_BODY_SHOWN);
        let more = if cut || body.len() >= ERROR_BODY_SHOWN + values.mask_overlap() {
            " ..."
        } else {
            ""
        };
        let text = apicall_build::escape_text(&masked);
        say!("  body: {text}{more}");
    }
    ExitCode::from(1)
}

/// `apicall webhook`: one post-call webhook, rendered for a conversation ending now, signed and
/// delivered (with its retries) as `finish` would.
pub(crate) fn webhook(args: &WebhookArgs) -> ExitCode {
    let Ok(outcome) = args
        .outcome
        .as_deref()
        .unwrap_or("completed")
        .parse::<Outcome>();
    let conversation = args
        .id
        .clone()
        .map_or_else(Conversation::new, Conversation::with_id);
    let end = conversation.end(outcome);
    let prepared: Result<_, Stop> = (|| {
        let requests = load(&args.file)?;
        let model = find(&requests.webhooks, &args.webhook, "webhook")?;
        let mut values = given_values(requests, &args.values)?;
        values.insert(
            Source::Conversation,
            "id",
            TypedValue::String(end.id.clone()),
        );
        values.insert(
            Source::Conversation,
            "started_at",
            TypedValue::String(end.started_at.clone()),
        );
        values.insert(
            Source::Conversation,
            "ended_at",
            TypedValue::String(end.ended_at.clone()),
        );
        values.insert(
            Source::Conversation,
            "duration_ms",
            TypedValue::Integer(i64::try_from(end.duration_ms).unwrap_or(i64::MAX)),
        );
        values.insert(
            Source::Conversation,
            "outcome",
            TypedValue::String(end.outcome.as_str().to_owned()),
        );
        check_context(model, &values)?;
        Ok((
            requests,
            model,
            values,
            client(args.values.base_url.as_deref())?,
        ))
    })();
    match prepared {
        Ok((requests, model, values, client)) => {
            block_on(deliver(requests, model, &values, &end, &client))
        }
        Err(stop) => stop.into(),
    }
}

async fn deliver(
    requests: &'static Requests,
    model: &'static RequestModel,
    values: &Values,
    end: &CallEnd,
    client: &Client,
) -> ExitCode {
    let request = match build(client, requests, model, values) {
        Ok(request) => request,
        Err(source) => {
            let error = WebhookError::NotSent {
                webhook: spec(model).name,
                source,
            };
            say!("-> not sent: {error}");
            return ExitCode::from(1);
        }
    };
    say!("  {IDEMPOTENCY_KEY_HEADER}: {}:{}", end.id, model.name);
    let key = model.signing_key.as_ref().and_then(|key| values.get(key));
    if key.is_some() {
        say!("  {TIMESTAMP_HEADER}, {SIGNATURE_HEADER}: signed when sent");
    }
    say!(
        "  (timeout {} ms per attempt, retries {})",
        model.timeout_ms,
        model.retries
    );
    let key = key.map(|key| Secret::new(key.to_string()));
    let started = Instant::now();
    let prepared = call::prepare_webhook(request, key.as_ref(), end);
    let results = call::deliver(client, vec![prepared]).wait().await;
    let latency = started.elapsed().as_millis();
    let mut code = ExitCode::SUCCESS;
    for result in results {
        match result {
            Ok(delivered) => say!(
                "-> HTTP {} in {latency} ms after {} attempt(s)",
                delivered.status,
                delivered.attempts
            ),
            Err(error) => {
                say!("-> not delivered after {latency} ms: {error}");
                code = ExitCode::from(1);
            }
        }
    }
    code
}
