//! `apicall run`: one call, live, through the same request builder generated code uses.

use std::process::ExitCode;
use std::time::Instant;

use apicall_build::{CallPlan, PathStep, PlanError, Step, plan_call};
use apicall_runtime::__private::{CallSpec, Method, Request};
use apicall_runtime::Client;
use serde_json::Value;

pub(crate) fn run(file: &str, call: &str, options: &[String]) -> ExitCode {
    let mut vars = Vec::new();
    let mut args = Vec::new();
    let mut base_url = None;
    let mut rest = options.iter();
    while let Some(option) = rest.next() {
        let Some(value) = rest.next() else {
            eprintln!("error: `{option}` needs a value");
            return ExitCode::from(2);
        };
        let pair = || {
            value
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        };
        match (option.as_str(), pair()) {
            ("--var", Some(pair)) => vars.push(pair),
            ("--arg", Some(pair)) => args.push(pair),
            ("--base-url", _) => base_url = Some(value.clone()),
            _ => {
                eprintln!(
                    "error: expected --var NAME=VALUE, --arg NAME=VALUE or --base-url URL, found `{option} {value}`"
                );
                return ExitCode::from(2);
            }
        }
    }
    let bytes = match crate::read(file) {
        Ok(bytes) => bytes,
        Err(code) => return code,
    };
    let plan = match plan_call(file, &bytes, call, &vars, &args) {
        Ok(plan) => plan,
        Err(PlanError::Invalid(diagnostics)) => {
            eprintln!("{diagnostics}");
            return ExitCode::from(1);
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(send(&plan, base_url.as_deref()))
}

async fn send(plan: &CallPlan, base_url: Option<&str>) -> ExitCode {
    let mut client = Client::new();
    if let Some(base) = base_url {
        client = match client.with_base_url(base) {
            Ok(client) => client,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
    }
    // A command runs one call: the spec may live as long as the process.
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
    let mut request = Request::new(&client, spec);
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
            return ExitCode::from(1);
        }
    }
    for header in &shown_headers {
        println!("  {}", plan.redact(header));
    }
    if let Some(body) = &shown_body {
        println!("  body: {}", plan.redact(body));
    }
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
            let json: Option<Value> = serde_json::from_slice(&body).ok();
            for (variable, path, steps) in &plan.extract {
                let found = json.as_ref().and_then(|json| walk(json, steps));
                match found {
                    Some(value) => println!("  {variable} = {}", plan.redact(&value.to_string())),
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

fn walk<'v>(json: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
    steps
        .iter()
        .try_fold(json, |value, step| match step {
            PathStep::Key(key) => value.get(key.as_str()),
            PathStep::Index(index) => value.get(*index),
        })
        .filter(|value| !value.is_null())
}
