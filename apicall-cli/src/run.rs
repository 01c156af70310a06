//! `apicall run` and `apicall webhook`: one call or one webhook, live, through the same request
//! builder generated code uses.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

use apicall_build::{
    CallFacts, CallPlan, PathStep, PlanError, Step, Values, plan_call, plan_webhook,
};
use apicall_runtime::__private::{CallSpec, Method, Request, deliver, webhook as prepare};
use apicall_runtime::{
    CallEnd, Client, Conversation, IDEMPOTENCY_KEY_HEADER, Outcome, SIGNATURE_HEADER, Secret,
    TIMESTAMP_HEADER,
};
use serde_json::Value;
use serde_json::value::RawValue;

/// What `run` and `webhook` take after the file and the name.
#[derive(Default)]
struct Options {
    vars: Vec<(String, String)>,
    args: Vec<(String, String)>,
    api: Vec<(String, String)>,
    base_url: Option<String>,
    outcome: Option<String>,
    id: Option<String>,
}

impl Options {
    fn values(&self) -> Values<'_> {
        Values {
            vars: &self.vars,
            args: &self.args,
            api: &self.api,
        }
    }
}

/// Reads `--flag value` pairs; `webhook` allows `--outcome` and `--id`, `run` allows `--arg`.
fn options(options: &[String], webhook: bool) -> Result<Options, ExitCode> {
    let mut parsed = Options::default();
    let mut rest = options.iter();
    while let Some(option) = rest.next() {
        let Some(value) = rest.next() else {
            eprintln!("error: `{option}` needs a value");
            return Err(ExitCode::from(2));
        };
        let pair = || {
            value
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        };
        match (option.as_str(), pair(), webhook) {
            ("--var", Some(pair), _) => parsed.vars.push(pair),
            ("--api", Some(pair), _) => parsed.api.push(pair),
            ("--arg", Some(pair), false) => parsed.args.push(pair),
            ("--outcome", _, true) => parsed.outcome = Some(value.clone()),
            ("--id", _, true) => parsed.id = Some(value.clone()),
            ("--base-url", ..) => parsed.base_url = Some(value.clone()),
            _ => {
                let expected = if webhook {
                    "--var NAME=VALUE, --api NAME=VALUE, --outcome OUTCOME, --id ID or --base-url URL"
                } else {
                    "--var NAME=VALUE, --arg NAME=VALUE, --api NAME=VALUE or --base-url URL"
                };
                eprintln!("error: expected {expected}, found `{option} {value}`");
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(parsed)
}

/// Reports a plan that could not be made: the file's diagnostics, or what is missing.
fn plan_failed(error: PlanError) -> ExitCode {
    match error {
        PlanError::Invalid(diagnostics) => {
            eprintln!("{diagnostics}");
            ExitCode::from(1)
        }
        error => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
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

/// The command line's options, the file's bytes and the client to send with, or the exit
/// status that says why not.
fn inputs(
    file: &str,
    given: &[String],
    webhook: bool,
) -> Result<(Options, Vec<u8>, Client), ExitCode> {
    let options = options(given, webhook)?;
    let bytes = crate::read(file)?;
    let client = match &options.base_url {
        None => Client::new(),
        Some(base) => Client::new().with_base_url(base).map_err(|error| {
            eprintln!("error: {error}");
            ExitCode::from(2)
        })?,
    };
    Ok((options, bytes, client))
}

pub(crate) fn run(file: &str, call: &str, given: &[String]) -> ExitCode {
    let (options, bytes, client) = match inputs(file, given, false) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    match plan_call(file, &bytes, call, options.values()) {
        Ok(plan) => block_on(send(&plan, &client)),
        Err(error) => plan_failed(error),
    }
}

/// `apicall webhook`: one post-call webhook, rendered for a conversation ending now, signed and
/// delivered (with its retries) as `finish` would.
pub(crate) fn webhook(file: &str, name: &str, given: &[String]) -> ExitCode {
    let (options, bytes, client) = match inputs(file, given, true) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let Ok(outcome) = options
        .outcome
        .as_deref()
        .unwrap_or("completed")
        .parse::<Outcome>();
    let conversation = options
        .id
        .clone()
        .map_or_else(Conversation::new, Conversation::with_id);
    let end = conversation.end(outcome);
    let facts = CallFacts {
        id: end.id.clone(),
        started_at: end.started_at.clone(),
        ended_at: end.ended_at.clone(),
        duration_ms: end.duration_ms,
        outcome: end.outcome.to_string(),
    };
    match plan_webhook(file, &bytes, name, options.values(), &facts) {
        Ok(plan) => block_on(deliver_one(&plan, &end, &client)),
        Err(error) => plan_failed(error),
    }
}

/// The request a plan describes, printed as it goes (secrets as `***`).
fn build<'c>(plan: &CallPlan, client: &'c Client) -> Result<Request<'c>, ExitCode> {
    // A command sends one request: the spec may live as long as the process.
    let spec: &'static CallSpec = Box::leak(Box::new(CallSpec {
        name: Box::leak(plan.name.clone().into_boxed_str()),
        method: match plan.method {
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Get,
        },
        timeout_ms: plan.timeout_ms,
        retries: plan.retries,
    }));
    let mut request = Request::new(client, spec);
    let mut shown_headers = Vec::new();
    let mut shown_body = None;
    for step in &plan.steps {
        match step {
            Step::UrlText(text) => request.push_url_raw(text),
            Step::PathValue(value) => request.push_path_value(value),
            Step::QueryValue(value) => request.push_query_value(value),
            Step::Query { name, value } => request.query(name, value),
            Step::Header {
                name,
                value,
                secret,
            } => {
                // Header names from the YAML were checked at compile time; the leak is as above.
                request.header(Box::leak(name.clone().into_boxed_str()), value, *secret);
                shown_headers.push(format!("{name}: {value}"));
            }
            Step::Body(body) => {
                request.json_body(body);
                shown_body = Some(body.to_string());
            }
            _ => {}
        }
    }
    match request.url() {
        Ok(url) => println!("{} {}", plan.method, plan.redact(url.as_str())),
        Err(error) => {
            eprintln!("error: {error}");
            return Err(ExitCode::from(1));
        }
    }
    for header in &shown_headers {
        println!("  {}", plan.redact(header));
    }
    if let Some(body) = &shown_body {
        println!("  body: {}", plan.redact(body));
    }
    Ok(request)
}

async fn deliver_one(plan: &CallPlan, end: &CallEnd, client: &Client) -> ExitCode {
    let request = match build(plan, client) {
        Ok(request) => request,
        Err(code) => return code,
    };
    println!("  {IDEMPOTENCY_KEY_HEADER}: {}:{}", end.id, plan.name);
    if plan.signing_key.is_some() {
        println!("  {TIMESTAMP_HEADER}, {SIGNATURE_HEADER}: signed when sent");
    }
    println!(
        "  (timeout {} ms per attempt, retries {})",
        plan.timeout_ms, plan.retries
    );
    let key = plan.signing_key.clone().map(Secret::new);
    let started = Instant::now();
    let prepared = prepare(request, key.as_ref(), end);
    let results = deliver(client, vec![prepared]).wait().await;
    let latency = started.elapsed().as_millis();
    let mut code = ExitCode::SUCCESS;
    for result in results {
        match result {
            Ok(delivered) => println!(
                "-> HTTP {} in {latency} ms after {} attempt(s)",
                delivered.status, delivered.attempts
            ),
            Err(error) => {
                println!("-> not delivered after {latency} ms: {error}");
                code = ExitCode::from(1);
            }
        }
    }
    code
}

async fn send(plan: &CallPlan, client: &Client) -> ExitCode {
    let request = match build(plan, client) {
        Ok(request) => request,
        Err(code) => return code,
    };
    println!(
        "  (timeout {} ms, retries {})",
        plan.timeout_ms, plan.retries
    );
    let started = Instant::now();
    let outcome = request.send().await;
    let latency = started.elapsed().as_millis();
    match outcome {
        Ok(body) => {
            println!("-> 2xx in {latency} ms, {} bytes", body.len());
            for (variable, path, steps) in &plan.extract {
                match walk(&body, steps) {
                    Some(value) => println!("  {variable} = {}", plan.redact(&value)),
                    None => println!("  {variable} = (absent at {path})"),
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("-> failed after {latency} ms: {error}");
            ExitCode::from(1)
        }
    }
}

/// The value at `steps` as JSON text, numbers digit for digit as the server wrote them (a
/// `serde_json::Value` would turn `98765432109876543210` into a float); `None` when absent or
/// `null`.
fn walk(body: &[u8], steps: &[PathStep]) -> Option<String> {
    let mut value: &RawValue = serde_json::from_slice(body).ok()?;
    for step in steps {
        value = match step {
            PathStep::Key(key) => serde_json::from_str::<HashMap<String, &RawValue>>(value.get())
                .ok()?
                .remove(key.as_str())?,
            PathStep::Index(index) => serde_json::from_str::<Vec<&RawValue>>(value.get())
                .ok()?
                .get(*index)
                .copied()?,
        };
    }
    let text = value.get();
    if text == "null" {
        return None;
    }
    // Objects and arrays are shown compact, as they were before; scalars exactly as sent.
    Some(if text.starts_with(['{', '[']) {
        serde_json::from_str::<Value>(text).map_or_else(|_| text.to_owned(), |v| v.to_string())
    } else {
        text.to_owned()
    })
}
