//! `apicall run` against the generated function, on a recording server: for every call of every
//! fixture and every kind of answer, the requests the server receives are byte for byte the
//! same, and the results agree — the same values, or the same error.
//!
//! The generated side is each fixture compiled by `include_api_calls!` and driven through its
//! `dispatch` (the LLM's arguments as JSON), so one loop covers every call; the command line is
//! given the same values as `--var`, `--arg` and `--api`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apicall_build::request::{Param, PathStep, RequestModel, Requests, Shape, ValueType};
use apicall_runtime::{Client, DispatchError, ToolCall, ToolResult};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

mod seed {
    apicall_macros::include_api_calls!("../../examples/calls.yaml");
}
mod language {
    apicall_macros::include_api_calls!("../../tests/fixtures/language.yaml");
}
mod numbers {
    apicall_macros::include_api_calls!("../../tests/fixtures/numbers.yaml");
}
mod webhooks {
    apicall_macros::include_api_calls!("../../tests/fixtures/webhooks.yaml");
}
mod prompts {
    apicall_macros::include_api_calls!("../../tests/fixtures/prompts.yaml");
}
mod differential {
    apicall_macros::include_api_calls!("../../tests/fixtures/differential.yaml");
}
mod parameters {
    apicall_macros::include_api_calls!("../../tests/fixtures/parameters.yaml");
}
/// Async calls: without a session the generated dispatcher waits for them, as `run` does.
mod background {
    apicall_macros::include_api_calls!("../../tests/fixtures/background.yaml");
}

/// How many comparisons run at once.
const AT_ONCE: usize = 6;

/// How the server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// 200 with every response variable present, of its type.
    Values,
    /// 200 with `{}`: optional values absent, required ones missing.
    Empty,
    /// 200 with an object where each value should be.
    WrongType,
    /// 200 with HTML.
    Html,
    /// 200 with a body over the client's cap.
    Oversized,
    /// 404 with a body.
    NotFound,
    /// 503 (retried by calls that allow it).
    Unavailable,
    /// 302 to another origin.
    Redirect,
    /// Answers after the call's timeout.
    Late,
}

const ANSWERS: [Answer; 9] = [
    Answer::Values,
    Answer::Empty,
    Answer::WrongType,
    Answer::Html,
    Answer::Oversized,
    Answer::NotFound,
    Answer::Unavailable,
    Answer::Redirect,
    Answer::Late,
];

/// One request as the server received it.
#[derive(Debug, PartialEq, Eq)]
struct Received {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    /// The bytes as text (they are JSON), for a readable difference.
    body: String,
}

#[derive(Default)]
struct Server {
    answer: Option<(Answer, String)>,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<Server>>;

async fn record(
    axum::extract::State(server): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut sorted: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    sorted.sort();
    let answer = {
        let mut server = server.lock().unwrap();
        server.received.push(Received {
            method: method.to_string(),
            uri: uri.to_string(),
            headers: sorted,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        server.answer.clone()
    };
    let Some((answer, values)) = answer else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let json = |text: String| ([("content-type", "application/json")], text).into_response();
    match answer {
        Answer::Values | Answer::Empty | Answer::WrongType => json(values),
        Answer::Html => ([("content-type", "text/html")], "<html>hi</html>").into_response(),
        Answer::Oversized => json(format!("[\"{}\"]", "x".repeat(1024 * 1024 + 1))),
        Answer::NotFound => (StatusCode::NOT_FOUND, "no such booking").into_response(),
        Answer::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Answer::Redirect => (
            StatusCode::FOUND,
            [("location", "http://127.0.0.1:9/elsewhere")],
        )
            .into_response(),
        Answer::Late => {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            json(values)
        }
    }
}

async fn start() -> (Shared, SocketAddr) {
    let shared = Shared::default();
    let app = axum::Router::new()
        .fallback(record)
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (shared, address)
}

/// A fixture's lowered requests, a sample value for each of its variables, and one for each
/// `api.*` value.
fn fixture(file: &str) -> (Requests, Map<String, Value>, Map<String, Value>) {
    let bytes = std::fs::read(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let requests = apicall_build::requests(file, &bytes).unwrap();
    let vars = (requests.variables.iter())
        .map(|v| (v.name.clone(), sample(v.ty, v.secret)))
        .collect();
    let every_api = (requests.api_values.iter())
        .map(|v| (v.name.clone(), sample(v.ty, false)))
        .collect();
    (requests, vars, every_api)
}

/// Runs the `apicall` command with `args`, off the async runtime's threads.
async fn apicall(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_apicall"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// A value of each type, chosen to need encoding and to keep its digits.
fn sample(ty: ValueType, secret: bool) -> Value {
    match ty {
        _ if secret => json!("Zm9v/YmFy+== s3cr3t"),
        ValueType::Integer => json!(98_765),
        ValueType::Number => json!(2.5),
        ValueType::Boolean => json!(true),
        _ => json!("a b/c?d&e=f+g%h ü"),
    }
}

/// A value's text as given on the command line.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A response body for `answer`: each extraction path holding a value of its type (`Values`),
/// an object (`WrongType`), or nothing (`Empty`).
fn response_body(model: &RequestModel, answer: Answer) -> String {
    let mut root = Value::Object(Map::new());
    if answer == Answer::Empty {
        return root.to_string();
    }
    for extraction in &model.extract {
        let leaf = match (answer, extraction.ty) {
            (Answer::WrongType, _) => json!({"not": "a scalar"}),
            (_, ValueType::String) => json!("Ada \"the\" agent"),
            (_, ValueType::Integer) => json!(98_765_432_109_i64),
            (_, ValueType::Number) => json!(0.1),
            (_, _) => json!(true),
        };
        let mut node = &mut root;
        for step in &extraction.path {
            node = match step {
                PathStep::Key(key) => {
                    if !node.is_object() {
                        *node = Value::Object(Map::new());
                    }
                    node.as_object_mut()
                        .unwrap()
                        .entry(key.clone())
                        .or_insert(Value::Null)
                }
                PathStep::Index(index) => {
                    if !node.is_array() {
                        *node = Value::Array(Vec::new());
                    }
                    let items = node.as_array_mut().unwrap();
                    while items.len() <= *index {
                        items.push(Value::Null);
                    }
                    &mut items[*index]
                }
                PathStep::FromEnd(back) => {
                    if !node.is_array() {
                        *node = Value::Array(Vec::new());
                    }
                    let items = node.as_array_mut().unwrap();
                    while items.len() < *back {
                        items.insert(0, Value::Null);
                    }
                    let at = items.len() - back;
                    &mut items[at]
                }
                _ => unreachable!("the model's path steps are keys and indexes"),
            };
        }
        *node = leaf;
    }
    root.to_string()
}

/// What a side ended with: the extracted values as JSON (absent as null), or the error's text.
#[derive(Debug, PartialEq)]
enum Ending {
    Values(Vec<(String, Value)>),
    Failed(String),
}

fn generated_ending(model: &RequestModel, result: &ToolResult) -> Ending {
    match &result.error {
        Some(DispatchError::Call(error)) => Ending::Failed(error.to_string()),
        Some(other) => panic!("{}: the arguments were refused: {other}", model.name),
        None => Ending::Values(
            model
                .extract
                .iter()
                .map(|e| {
                    let value = result.content.get(&e.name).cloned().unwrap_or(Value::Null);
                    (e.name.clone(), value)
                })
                .collect(),
        ),
    }
}

/// The CLI's ending from its output; `context` says what was run, for a failure's message.
fn cli_ending(model: &RequestModel, stdout: &str, status: Option<i32>, context: &str) -> Ending {
    if let Some(line) = stdout.lines().find(|line| line.starts_with("-> failed")) {
        assert_eq!(status, Some(1), "{context}");
        let error = line
            .split_once(": ")
            .map(|(_, error)| error.to_owned())
            .unwrap_or_default();
        return Ending::Failed(error);
    }
    assert_eq!(status, Some(0), "{context}");
    Ending::Values(
        model
            .extract
            .iter()
            .map(|e| {
                let prefix = format!("  {} = ", e.name);
                let shown = stdout
                    .lines()
                    .find_map(|line| line.strip_prefix(&prefix))
                    .unwrap_or_else(|| panic!("{} not shown: {stdout}", e.name));
                let value = if shown.starts_with("(absent at ") {
                    Value::Null
                } else {
                    serde_json::from_str(shown).unwrap()
                };
                (e.name.clone(), value)
            })
            .collect(),
    )
}

type Dispatch = for<'a> fn(
    &'a Client,
    &'a Value,
    &'a Value,
    &'a ToolCall,
) -> Pin<Box<dyn Future<Output = ToolResult> + 'a>>;

macro_rules! dispatcher {
    ($module:ident) => {{
        fn run<'a>(
            client: &'a Client,
            context: &'a Value,
            api: &'a Value,
            call: &'a ToolCall,
        ) -> Pin<Box<dyn Future<Output = ToolResult> + 'a>> {
            Box::pin(async move {
                let context: $module::Context = serde_json::from_value(context.clone()).unwrap();
                let mut api: $module::ApiValues = serde_json::from_value(api.clone()).unwrap();
                $module::dispatch(client, &context, &mut api, call).await
            })
        }
        run as Dispatch
    }};
}

/// One call with one set of arguments and `api.*` values, against every answer.
async fn compare(
    file: &str,
    requests: &Requests,
    model: &RequestModel,
    dispatch: Dispatch,
    (server, address): (&Shared, SocketAddr),
    values: Given<'_>,
    answers: &[Answer],
) {
    let Given {
        vars,
        arguments,
        api,
    } = values;
    let base = format!("http://{address}");
    let client = Client::new().with_base_url(&base).unwrap();
    let mut cli = vec![
        "run".to_owned(),
        file.to_owned(),
        model.name.clone(),
        "--base-url".to_owned(),
        base.clone(),
    ];
    for (flag, values) in [("--var", vars), ("--arg", arguments), ("--api", api)] {
        // An LLM's `null` for an optional argument means it left it out: on the command line,
        // the flag is left out.
        for (name, value) in values.iter().filter(|(_, value)| !value.is_null()) {
            cli.push(flag.to_owned());
            cli.push(format!("{name}={}", text(value)));
        }
    }
    let context = Value::Object(vars.clone());
    let api_values = Value::Object(api.clone());
    for &answer in answers {
        if answer == Answer::Late && model.timeout_ms >= 1000 {
            continue;
        }
        let body = response_body(model, answer);
        server.lock().unwrap().answer = Some((answer, body));

        let call = ToolCall::openai(
            "t1",
            &model.name,
            Value::Object(arguments.clone()).to_string(),
        );
        let result = dispatch(&client, &context, &api_values, &call).await;
        let generated = generated_ending(model, &result);
        let generated_received = std::mem::take(&mut server.lock().unwrap().received);

        let output = apicall(cli.clone()).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let cli_received = std::mem::take(&mut server.lock().unwrap().received);
        let context = format!(
            "{file} {} {answer:?} args {arguments:?} api {api:?}\n{stdout}{}",
            model.name,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(generated_received, cli_received, "{context}");
        assert_eq!(
            generated,
            cli_ending(model, &stdout, output.status.code(), &context),
            "{context}"
        );
        for secret in requests.variables.iter().filter(|v| v.secret) {
            let value = text(&vars[&secret.name]);
            // Neither the secret nor its percent- or form-encoded forms are shown.
            let encoded: String =
                percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)
                    .collect();
            let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            for shown in [value, encoded, form] {
                assert!(shown.len() < 4 || !stdout.contains(&shown), "{context}");
            }
        }
    }
}

/// The values one comparison gives both sides.
#[derive(Clone, Copy)]
struct Given<'a> {
    vars: &'a Map<String, Value>,
    arguments: &'a Map<String, Value>,
    api: &'a Map<String, Value>,
}

/// Arguments for every parameter (`all`), or only the required ones.
fn arguments(model: &RequestModel, all: bool) -> Map<String, Value> {
    members(&model.params, all)
}

fn members(params: &[apicall_build::request::Param], all: bool) -> Map<String, Value> {
    params
        .iter()
        .filter(|p| all || p.required)
        .map(|p| (p.name.clone(), sample_of(&p.shape, all)))
        .collect()
}

/// A value of a parameter's shape: an enum's last choice, two items of an array, an object's
/// members (all of them, or the required ones).
fn sample_of(shape: &Shape, all: bool) -> Value {
    match shape {
        Shape::Value(ty) => sample(*ty, false),
        Shape::Enum(choices) => json!(choices.last().unwrap()),
        Shape::IntegerEnum(choices) => json!(choices.last().unwrap()),
        Shape::Array(items) => json!([sample_of(items, all), sample_of(items, !all)]),
        Shape::Object(params) => Value::Object(members(params, all)),
        _ => unreachable!("a shape this test does not know"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apicall_run_sends_and_ends_as_the_generated_function_does() {
    let fixtures: [(&str, Dispatch); 8] = [
        ("../examples/calls.yaml", dispatcher!(seed)),
        ("../tests/fixtures/language.yaml", dispatcher!(language)),
        ("../tests/fixtures/numbers.yaml", dispatcher!(numbers)),
        ("../tests/fixtures/webhooks.yaml", dispatcher!(webhooks)),
        ("../tests/fixtures/prompts.yaml", dispatcher!(prompts)),
        (
            "../tests/fixtures/differential.yaml",
            dispatcher!(differential),
        ),
        ("../tests/fixtures/parameters.yaml", dispatcher!(parameters)),
        ("../tests/fixtures/background.yaml", dispatcher!(background)),
    ];
    let loaded: Vec<_> = (fixtures.into_iter())
        .map(|(file, dispatch)| (file, dispatch, fixture(file)))
        .collect();
    let no_api = Map::new();
    let mut cases = Vec::new();
    for (file, dispatch, (requests, vars, every_api)) in &loaded {
        for model in &requests.calls {
            for all in [true, false] {
                for api in [every_api, &no_api] {
                    cases.push((
                        *file,
                        *dispatch,
                        requests,
                        vars,
                        model,
                        arguments(model, all),
                        api,
                    ));
                }
            }
        }
    }
    let compared = cases.len();
    // Most of a comparison is waiting (timeouts, retries' backoff, a process starting), so a
    // few run at once, each on its own server; more would crowd the 400 ms calls on two cores.
    futures_util::stream::iter(&cases)
        .map(
            |(file, dispatch, requests, vars, model, arguments, api)| async move {
                let (server, address) = start().await;
                let given = Given {
                    vars,
                    arguments,
                    api,
                };
                compare(
                    file,
                    requests,
                    model,
                    *dispatch,
                    (&server, address),
                    given,
                    &ANSWERS,
                )
                .await;
            },
        )
        .buffer_unordered(AT_ONCE)
        .collect::<()>()
        .await;
    assert!(compared >= 40, "{compared}");
}

/// A value of `ty` from the property generator: any text a command line can carry (no NUL),
/// any integer, any finite number.
fn generated(ty: ValueType) -> BoxedStrategy<Value> {
    match ty {
        ValueType::Integer => any::<i64>().prop_map(|n| json!(n)).boxed(),
        ValueType::Number => any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(|n| json!(n))
            .boxed(),
        ValueType::Boolean => any::<bool>().prop_map(|b| json!(b)).boxed(),
        _ => "[^\\x00]{0,12}".prop_map(|s| json!(s)).boxed(),
    }
}

/// Values for `declared` (name, type, required, secret). A secret is as long as real keys are:
/// the command line masks every occurrence of it in what it shows.
fn generated_map<'a>(
    declared: impl Iterator<Item = (&'a String, ValueType, bool, bool)>,
) -> BoxedStrategy<Map<String, Value>> {
    let entries: Vec<BoxedStrategy<Option<(String, Value)>>> = declared
        .map(|(name, ty, required, secret)| {
            let name = name.clone();
            let value = if secret {
                "[^\\x00]{16,32}".prop_map(|s| json!(s)).boxed()
            } else {
                generated(ty)
            };
            let value = value.prop_map(move |v| (name.clone(), v));
            if required {
                value.prop_map(Some).boxed()
            } else {
                proptest::option::of(value).boxed()
            }
        })
        .collect();
    entries
        .prop_map(|entries| entries.into_iter().flatten().collect())
        .boxed()
}

/// An argument of `shape` as an LLM could send it: any scalar of its type, one of an enum's
/// choices, arrays of up to three items, objects with their required members and any of the
/// optional ones (absent or `null`), nested as deep as the shape goes.
fn shaped(shape: &Shape) -> BoxedStrategy<Value> {
    match shape {
        Shape::Value(ty) => generated(*ty),
        Shape::Enum(choices) => proptest::sample::select(choices.clone())
            .prop_map(|choice| json!(choice))
            .boxed(),
        Shape::IntegerEnum(choices) => proptest::sample::select(choices.clone())
            .prop_map(|choice| json!(choice))
            .boxed(),
        Shape::Array(items) => proptest::collection::vec(shaped(items), 0..=3)
            .prop_map(Value::Array)
            .boxed(),
        Shape::Object(params) => members_of(params).prop_map(Value::Object).boxed(),
        _ => unreachable!("a shape this test does not know"),
    }
}

/// Arguments for `params`: each required one, and each optional one left out, sent as `null`
/// or given.
fn members_of(params: &[Param]) -> BoxedStrategy<Map<String, Value>> {
    let members: Vec<BoxedStrategy<Option<(String, Value)>>> = params
        .iter()
        .map(|param| {
            let name = param.name.clone();
            let value = shaped(&param.shape);
            if param.required {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                prop_oneof![
                    Just(None),
                    Just(Some((name.clone(), Value::Null))),
                    value.prop_map(move |v| Some((name.clone(), v))),
                ]
                .boxed()
            }
        })
        .collect();
    members
        .prop_map(|members| members.into_iter().flatten().collect())
        .boxed()
}

/// Property-generated values (vars, arguments of every shape, `api.*` values) for every call
/// of the differential and parameters fixtures: the same bytes on the wire and the same
/// ending from both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_values_are_sent_alike() {
    let (server, address) = start().await;
    let file = "../tests/fixtures/differential.yaml";
    let (requests, ..) = fixture(file);
    // Found by this test: two refusals at once end with the one generated code checks first
    // (the header), not the URL's.
    let refused_twice = Given {
        vars:
            &json!({"api_key": "line\nbreak in a sixteen-char key", "region": "..", "agent_id": 1})
                .as_object()
                .unwrap()
                .clone(),
        arguments: &json!({"reference": "R-1"}).as_object().unwrap().clone(),
        api: &Map::new(),
    };
    compare(
        file,
        &requests,
        &requests.calls[0],
        dispatcher!(differential),
        (&server, address),
        refused_twice,
        &[Answer::Values],
    )
    .await;
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let fixtures: [(&str, Dispatch); 2] = [
        (file, dispatcher!(differential)),
        ("../tests/fixtures/parameters.yaml", dispatcher!(parameters)),
    ];
    for (file, dispatch) in fixtures {
        let (requests, ..) = fixture(file);
        for model in &requests.calls {
            let strategy = (
                generated_map(
                    requests
                        .variables
                        .iter()
                        .map(|v| (&v.name, v.ty, true, v.secret)),
                ),
                members_of(&model.params),
                generated_map(
                    requests
                        .api_values
                        .iter()
                        .map(|v| (&v.name, v.ty, false, false)),
                ),
            );
            for _ in 0..24 {
                let (vars, arguments, api) = strategy.new_tree(&mut runner).unwrap().current();
                let given = Given {
                    vars: &vars,
                    arguments: &arguments,
                    api: &api,
                };
                compare(
                    file,
                    &requests,
                    model,
                    dispatch,
                    (&server, address),
                    given,
                    &[Answer::Values, Answer::Empty],
                )
                .await;
            }
        }
    }
}

/// Where the facts of the ended conversation sit in a webhook body: the key and its value.
fn facts_in(body: &Value, found: &mut Vec<(String, Value)>) {
    match body {
        Value::Object(members) => {
            for (key, value) in members {
                if ["started_at", "ended_at", "duration_ms"].contains(&key.as_str()) {
                    found.push((key.clone(), value.clone()));
                }
                facts_in(value, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| facts_in(item, found)),
        _ => {}
    }
}

/// `apicall webhook` against the generated `finish`: each webhook of the fixture, with and
/// without `api.*` values, reaches the receiver as the same bytes (but for the time it was
/// signed at), or is held back by both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apicall_webhook_sends_what_finish_sends() {
    let (server, address) = start().await;
    let base = format!("http://{address}");
    let file = "../tests/fixtures/webhooks.yaml";
    let (requests, vars, every_api) = fixture(file);
    let client = Client::new().with_base_url(&base).unwrap();
    let context: webhooks::Context = serde_json::from_value(Value::Object(vars.clone())).unwrap();
    let mut compared = 0;
    for api in [&every_api, &Map::new()] {
        let api_values: webhooks::ApiValues =
            serde_json::from_value(Value::Object(api.clone())).unwrap();
        for model in &requests.webhooks {
            server.lock().unwrap().answer = Some((Answer::Values, "{}".to_owned()));
            let mut args = vec![
                "webhook".to_owned(),
                file.to_owned(),
                model.name.clone(),
                "--id".to_owned(),
                "conv-7".to_owned(),
                "--outcome".to_owned(),
                "transferred".to_owned(),
                "--base-url".to_owned(),
                base.clone(),
            ];
            for (flag, values) in [("--var", &vars), ("--api", api)] {
                for (name, value) in values {
                    args.push(flag.to_owned());
                    args.push(format!("{name}={}", text(value)));
                }
            }
            let output = apicall(args).await;
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let from_cli = std::mem::take(&mut server.lock().unwrap().received);

            // The same conversation, ended at the times the command line rendered.
            let mut end = apicall_runtime::Conversation::with_id("conv-7")
                .end(apicall_runtime::Outcome::Transferred);
            if let Some(sent) = from_cli.first() {
                let mut facts = Vec::new();
                facts_in(&serde_json::from_str(&sent.body).unwrap(), &mut facts);
                for (key, value) in facts {
                    match key.as_str() {
                        "started_at" => end.started_at = text(&value),
                        "ended_at" => end.ended_at = text(&value),
                        _ => end.duration_ms = value.as_u64().unwrap(),
                    }
                }
            }
            let results = webhooks::finish(&client, &context, &api_values, &end)
                .wait()
                .await;
            let key = format!("conv-7:{}", model.name);
            let from_finish: Vec<Received> = std::mem::take(&mut server.lock().unwrap().received)
                .into_iter()
                .filter(|r| {
                    r.headers
                        .iter()
                        .any(|(n, v)| n == "idempotency-key" && *v == key)
                })
                .collect();
            let unsigned = |received: &[Received]| -> Vec<Received> {
                received
                    .iter()
                    .map(|r| Received {
                        method: r.method.clone(),
                        uri: r.uri.clone(),
                        headers: r
                            .headers
                            .iter()
                            .filter(|(name, _)| !name.starts_with("x-apicall-"))
                            .cloned()
                            .collect(),
                        body: r.body.clone(),
                    })
                    .collect()
            };
            let context = format!("{} api {api:?}\n{stdout}\n{results:?}", model.name);
            assert_eq!(unsigned(&from_finish), unsigned(&from_cli), "{context}");
            // What was left out above is a valid signature on both sides, or on neither.
            for received in from_cli.iter().chain(&from_finish) {
                let header = |name: &str| {
                    received
                        .headers
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                let signature = header("x-apicall-signature");
                assert_eq!(
                    signature.is_some(),
                    model.signing_key.is_some(),
                    "{context}"
                );
                if let (Some(signature), Some(key)) = (signature, &model.signing_key) {
                    let secret = apicall_runtime::Secret::new(text(&vars[&key.name]));
                    let verified = apicall_runtime::Verifier::new(secret).verify_parts(
                        &header("x-apicall-timestamp").unwrap_or_default(),
                        &signature,
                        received.body.as_bytes(),
                    );
                    assert_eq!(verified, Ok(()), "{context}");
                }
            }
            let sent = !from_cli.is_empty();
            assert_eq!(
                output.status.code(),
                Some(if sent { 0 } else { 1 }),
                "{context}"
            );
            assert!(!stdout.contains("s3cr3t"), "{context}");
            compared += usize::from(sent);
        }
    }
    // Every webhook is sent with every api value, and held back without them only when its
    // URL needs one.
    assert!(compared > requests.webhooks.len(), "{compared}");
}
