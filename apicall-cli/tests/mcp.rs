//! `apicall mcp` and the generated `mcp_server`, driven by rmcp's own client: over stdio and
//! streamable HTTP, with a client that starts with `initialize` and one of 2026-07-28 that
//! starts without it, against a local CRM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, ProgressNotificationParam,
    ProtocolVersion, Tool,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{
    ClientHandler, ClientLifecycleMode, ClientServiceExt as _, RoleClient, ServiceExt as _,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, Command};

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_calls.yaml");
const SECRET: &str = "sk-test-secret-4242";
/// Phone numbers the CRM answers at once, slowly, or with a 500 that quotes the key.
const KNOWN: &str = "+15550000001";
const SLOW: &str = "+15550000002";
const BROKEN: &str = "+15550000003";

mod calls {
    apicall_macros::include_api_calls!("mcp_calls.yaml");
}

/// The CRM and order system, on a free port: its base URL.
async fn crm() -> String {
    async fn customers(
        headers: HeaderMap,
        Query(query): Query<std::collections::HashMap<String, String>>,
    ) -> (StatusCode, String) {
        let authorized = headers
            .get("authorization")
            .is_some_and(|value| value == format!("Bearer {SECRET}").as_str());
        if !authorized {
            return (StatusCode::UNAUTHORIZED, "{}".to_owned());
        }
        match query.get("phone").map(String::as_str) {
            Some(BROKEN) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the key {SECRET} was refused"),
            ),
            phone => {
                if phone == Some(SLOW) {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                }
                let body = json!({ "customer": { "name": "Ada", "tier": "gold" } });
                (StatusCode::OK, body.to_string())
            }
        }
    }
    async fn order(Path(id): Path<String>) -> String {
        json!({ "order": { "status": format!("shipped {id}") } }).to_string()
    }
    let app = axum::Router::new()
        .route("/api/customers", get(customers))
        .route("/orders/{id}", get(order));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// `apicall mcp` for the test file, its key read from the environment.
fn apicall(base_url: &str, phone: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apicall"));
    command
        .args(["mcp", FILE, "--var", &format!("caller_phone={phone}")])
        .args(["--var-env", "api_key=APICALL_TEST_CRM_KEY"])
        .args(["--base-url", base_url])
        .args(extra)
        .env("APICALL_TEST_CRM_KEY", SECRET)
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A client that keeps the progress messages it is sent.
#[derive(Clone, Default)]
struct Listener {
    said: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Listener {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.said.lock().unwrap().extend(params.message);
    }
}

fn modern() -> ClientLifecycleMode {
    ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    }
}

/// Connects over a spawned server's stdin and stdout, keeping a copy of every byte it writes
/// to stdout; its stderr is collected too.
struct Stdio {
    client: RunningService<RoleClient, Listener>,
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: tokio::task::JoinHandle<String>,
}

async fn stdio(command: &mut Command, lifecycle: ClientLifecycleMode) -> Stdio {
    let mut child = command.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let copy = Arc::new(Mutex::new(Vec::new()));
    let (mut forward, read) = tokio::io::duplex(1 << 16);
    let copied = Arc::clone(&copy);
    tokio::spawn(async move {
        let mut buffer = [0; 8192];
        loop {
            match stdout.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    copied.lock().unwrap().extend_from_slice(&buffer[..n]);
                    if forward.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let client = Listener::default()
        .serve_with_lifecycle((read, stdin), lifecycle)
        .await
        .unwrap();
    Stdio {
        client,
        child,
        stdout: copy,
        stderr,
    }
}

impl Stdio {
    /// Disconnects, waits for the server to exit, and returns what it wrote to stdout and
    /// stderr.
    async fn finish(mut self) -> (String, String) {
        self.client.cancel().await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the server exits when its client goes")
            .unwrap();
        assert!(status.success(), "{status}");
        let stderr = self.stderr.await.unwrap();
        let stdout = String::from_utf8(self.stdout.lock().unwrap().clone()).unwrap();
        (stdout, stderr)
    }
}

async fn call(
    client: &RunningService<RoleClient, Listener>,
    name: &'static str,
    arguments: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name);
    if let Value::Object(arguments) = arguments {
        params = params.with_arguments(arguments);
    }
    client.call_tool(params).await.unwrap()
}

fn text(result: &CallToolResult) -> Value {
    let text = &result.content[0].as_text().expect("a text block").text;
    serde_json::from_str(text).unwrap()
}

/// Every line is one JSON-RPC message: nothing else reaches stdout.
fn assert_only_json_rpc(stdout: &str) {
    assert!(!stdout.is_empty());
    for line in stdout.lines() {
        let message: Value = serde_json::from_str(line)
            .unwrap_or_else(|_| panic!("stdout has a line that is not JSON: {line:?}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
    }
}

/// The tools as `apicall tools --format mcp` lowers them.
fn expected_tools() -> Vec<Tool> {
    let generated =
        apicall_build::compile_bytes("mcp_calls.yaml", &std::fs::read(FILE).unwrap()).unwrap();
    generated
        .tools()
        .iter()
        .map(|tool| {
            serde_json::from_value(apicall_runtime::tool_for(
                apicall_runtime::ToolTarget::Mcp,
                &tool.name,
                &tool.description,
                tool.parameters.clone(),
                tool.output.clone(),
            ))
            .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn stdio_lists_every_call_with_its_input_and_output_schemas() {
    let crm = crm().await;
    for lifecycle in [ClientLifecycleMode::Initialize, modern()] {
        let server = stdio(&mut apicall(&crm, KNOWN, &[]), lifecycle).await;
        let tools = server.client.list_all_tools().await.unwrap();
        assert_eq!(tools, expected_tools());
        assert!(tools[1].output_schema.is_some());
        let (stdout, _) = server.finish().await;
        assert_only_json_rpc(&stdout);
    }
}

#[tokio::test]
async fn stdio_calls_run_against_the_server_for_both_protocol_generations() {
    let crm = crm().await;
    for lifecycle in [ClientLifecycleMode::Initialize, modern()] {
        let server = stdio(&mut apicall(&crm, KNOWN, &[]), lifecycle).await;
        let looked_up = call(&server.client, "lookup_customer", json!({})).await;
        assert_eq!(looked_up.is_error, Some(false));
        let values = json!({ "customer_name": "Ada", "tier": "gold" });
        assert_eq!(looked_up.structured_content, Some(values.clone()));
        assert_eq!(text(&looked_up), values);
        let order = call(&server.client, "order_status", json!({ "order_id": "A/1" })).await;
        assert_eq!(
            order.structured_content,
            Some(json!({ "order_status": "shipped A/1" }))
        );
        let (stdout, stderr) = server.finish().await;
        assert_only_json_rpc(&stdout);
        assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    }
}

#[tokio::test]
async fn arguments_that_do_not_fit_come_back_as_problems() {
    let crm = crm().await;
    let server = stdio(&mut apicall(&crm, KNOWN, &[]), modern()).await;
    let result = call(&server.client, "order_status", json!({ "order_id": 7 })).await;
    assert_eq!(result.is_error, Some(true));
    assert_eq!(result.structured_content, None);
    assert_eq!(
        text(&result),
        json!({ "error": "invalid arguments", "problems": ["`order_id` must be a string"] })
    );
    let missing = call(&server.client, "order_status", json!({})).await;
    assert_eq!(
        text(&missing),
        json!({ "error": "invalid arguments", "problems": ["`order_id` is required"] })
    );
    // A call without parameters takes no arguments, as the generated dispatcher says.
    let unknown = call(&server.client, "lookup_customer", json!({ "phone": "+1" })).await;
    assert_eq!(unknown.is_error, Some(true));
    assert_eq!(
        text(&unknown),
        json!({
            "error": "invalid arguments",
            "problems": ["unknown argument: the tool takes no arguments"]
        })
    );
    server.finish().await;
}

#[tokio::test]
async fn a_failing_call_gives_its_fixed_message_and_no_secret() {
    let crm = crm().await;
    let server = stdio(
        &mut apicall(&crm, BROKEN, &[]),
        ClientLifecycleMode::Initialize,
    )
    .await;
    let result = call(&server.client, "lookup_customer", json!({})).await;
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        text(&result),
        json!({ "error": "The information from lookup_customer is unavailable right now." })
    );
    let (stdout, stderr) = server.finish().await;
    assert_only_json_rpc(&stdout);
    // The server's 500 quoted the key; it reaches neither the client nor the logs.
    assert!(!stdout.contains(SECRET), "{stdout}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert!(stderr.contains("tool call failed"), "{stderr}");
}

#[tokio::test]
async fn a_call_with_its_own_failure_message_says_it() {
    // Nothing listens on port 9 of the loopback: the request cannot connect.
    let server = stdio(
        &mut apicall("http://127.0.0.1:9", KNOWN, &[]),
        ClientLifecycleMode::Initialize,
    )
    .await;
    let result = call(&server.client, "order_status", json!({ "order_id": "A-1" })).await;
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        text(&result),
        json!({ "error": "The order system is not answering." })
    );
    server.finish().await;
}

#[tokio::test]
async fn an_unknown_tool_is_a_protocol_error() {
    let crm = crm().await;
    let server = stdio(&mut apicall(&crm, KNOWN, &[]), modern()).await;
    let error = server
        .client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no_such_tool"), "{error}");
    server.finish().await;
}

#[tokio::test]
async fn variables_come_from_the_command_line_or_the_environment_only() {
    let unset = std::process::Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(["mcp", FILE, "--var", "caller_phone=+1"])
        .args(["--var-env", "api_key=APICALL_TEST_UNSET_VARIABLE"])
        .env_remove("APICALL_TEST_UNSET_VARIABLE")
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(2));
    assert!(unset.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&unset.stderr);
    assert!(
        stderr.contains("`APICALL_TEST_UNSET_VARIABLE` is not set"),
        "{stderr}"
    );

    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(["mcp", FILE, "--var", "caller_phone=+1"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(missing.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("--var api_key=..."), "{stderr}");
    assert!(stderr.contains("--var-env"), "{stderr}");
}

/// `apicall mcp` says a call's `messages:` as progress notifications while it runs, as the
/// generated server does: `start` at once, `delayed` only while the call still runs, `failed`
/// when it fails; a parameter is said as given, and arguments that do not fit say nothing.
#[tokio::test]
async fn apicall_mcp_says_the_calls_messages_as_progress() {
    let crm = crm().await;
    for (phone, said, ok) in [
        (KNOWN, vec!["One moment."], true),
        (SLOW, vec!["One moment.", "Still looking."], true),
        (
            BROKEN,
            vec!["One moment.", "The CRM is not answering."],
            false,
        ),
    ] {
        let server = stdio(&mut apicall(&crm, phone, &[]), modern()).await;
        let result = call(&server.client, "lookup_customer", json!({})).await;
        assert_eq!(result.is_error, Some(!ok), "{phone}");
        assert_eq!(
            *server.client.service().said.lock().unwrap(),
            said,
            "{phone}"
        );
        let (stdout, stderr) = server.finish().await;
        assert_only_json_rpc(&stdout);
        assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    }

    let server = stdio(
        &mut apicall(&crm, KNOWN, &[]),
        ClientLifecycleMode::Initialize,
    )
    .await;
    let said = Arc::clone(&server.client.service().said);
    call(&server.client, "order_status", json!({ "order_id": "A/1" })).await;
    assert_eq!(*said.lock().unwrap(), ["Looking up order A/1."]);
    said.lock().unwrap().clear();
    let wrong = call(&server.client, "order_status", json!({ "order_id": 7 })).await;
    assert_eq!(wrong.is_error, Some(true));
    assert!(
        said.lock().unwrap().is_empty(),
        "{:?}",
        said.lock().unwrap()
    );
    server.finish().await;

    // Over streamable HTTP, the notifications come on the call's own response stream.
    let (mut child, url) = http(&crm, SLOW).await;
    let listener = Listener::default();
    let client = listener
        .clone()
        .serve_with_lifecycle(StreamableHttpClientTransport::from_uri(url), modern())
        .await
        .unwrap();
    let result = call(&client, "lookup_customer", json!({})).await;
    assert_eq!(result.is_error, Some(false));
    assert_eq!(
        *listener.said.lock().unwrap(),
        ["One moment.", "Still looking."]
    );
    client.cancel().await.unwrap();
    child.kill().await.unwrap();
}

/// JSON-RPC by hand over `apicall mcp`'s stdio, where rmcp's client would always send a
/// progress token: a `tools/call` without one gets its result and no notification; with one,
/// each line comes as a progress notification for that token, counting from 1, before the
/// result.
#[tokio::test]
async fn only_a_call_with_a_progress_token_gets_progress() {
    let crm = crm().await;
    let mut child = apicall(&crm, SLOW, &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = async |message: Value| {
        let line = format!("{message}\n");
        stdin.write_all(line.as_bytes()).await.unwrap();
    };
    // Every message up to and including the answer to request `id`.
    let mut until_answer = async |id: u64| {
        let mut messages = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
                .await
                .expect("the server answers")
                .unwrap()
                .expect("the server is still there");
            let message: Value = serde_json::from_str(&line).unwrap();
            let answered = message["id"] == id;
            messages.push(message);
            if answered {
                return messages;
            }
        }
    };
    send(json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": ProtocolVersion::LATEST_WITH_INITIALIZE,
            "capabilities": {},
            "clientInfo": { "name": "by-hand", "version": "0" },
        },
    }))
    .await;
    until_answer(1).await;
    send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;

    let lookup = |id: u64, meta: Option<Value>| {
        let mut params = json!({ "name": "lookup_customer", "arguments": {} });
        if let Some(meta) = meta {
            params["_meta"] = meta;
        }
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params })
    };
    send(lookup(2, None)).await;
    let messages = until_answer(2).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["result"]["isError"], false, "{messages:#?}");

    send(lookup(3, Some(json!({ "progressToken": "lookup-3" })))).await;
    let messages = until_answer(3).await;
    let progress: Vec<&Value> = messages[..messages.len() - 1].iter().collect();
    assert_eq!(
        progress,
        [
            &json!({
                "jsonrpc": "2.0", "method": "notifications/progress",
                "params": { "progressToken": "lookup-3", "progress": 1.0, "message": "One moment." },
            }),
            &json!({
                "jsonrpc": "2.0", "method": "notifications/progress",
                "params": { "progressToken": "lookup-3", "progress": 2.0, "message": "Still looking." },
            }),
        ],
        "{messages:#?}"
    );
    assert_eq!(messages.last().unwrap()["result"]["isError"], false);
    child.kill().await.unwrap();
}

/// `apicall mcp --http 127.0.0.1:0`: the server and its `/mcp` URL, read from stderr.
async fn http(crm: &str, phone: &str) -> (Child, String) {
    let mut child = apicall(crm, phone, &["--http", "127.0.0.1:0"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the server says where it is");
        if let Some(url) = line
            .split(" at ")
            .nth(1)
            .filter(|url| url.ends_with("/mcp"))
        {
            break url.to_owned();
        }
    };
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

#[tokio::test]
async fn streamable_http_serves_both_protocol_generations() {
    let crm = crm().await;
    let (mut child, url) = http(&crm, KNOWN).await;
    for lifecycle in [ClientLifecycleMode::Initialize, modern()] {
        let transport = StreamableHttpClientTransport::from_uri(url.clone());
        let client = ClientConfig::default()
            .serve_with_lifecycle(transport, lifecycle)
            .await
            .unwrap();
        assert_eq!(client.list_all_tools().await.unwrap(), expected_tools());
        let mut params = CallToolRequestParams::new("order_status");
        params = params.with_arguments(json!({ "order_id": "B-2" }).as_object().unwrap().clone());
        let result = client.call_tool(params).await.unwrap();
        assert_eq!(
            result.structured_content,
            Some(json!({ "order_status": "shipped B-2" }))
        );
        let failed = client
            .call_tool(CallToolRequestParams::new("order_status"))
            .await
            .unwrap();
        assert_eq!(failed.is_error, Some(true));
        client.cancel().await.unwrap();
    }
    child.kill().await.unwrap();
}

/// The generated `mcp_server`: the same tools, run by the generated dispatcher, and the
/// call's `messages:` sent as progress while it runs.
#[tokio::test]
async fn the_generated_server_says_the_calls_messages_as_progress() {
    let crm = crm().await;
    for (phone, said, ok) in [
        (SLOW, vec!["One moment.", "Still looking."], true),
        (
            BROKEN,
            vec!["One moment.", "The CRM is not answering."],
            false,
        ),
    ] {
        let client = apicall_runtime::Client::new().with_base_url(&crm).unwrap();
        let context = calls::Context {
            caller_phone: phone.to_owned(),
            api_key: SECRET.into(),
        };
        let server = calls::mcp_server(client, context);
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let listener = Listener::default();
        let client = listener
            .clone()
            .serve_with_lifecycle(client_io, modern())
            .await
            .unwrap();
        assert_eq!(client.list_all_tools().await.unwrap(), expected_tools());
        let result = call(&client, "lookup_customer", json!({})).await;
        assert_eq!(result.is_error, Some(!ok));
        assert_eq!(*listener.said.lock().unwrap(), said);
        if !ok {
            assert_eq!(
                text(&result),
                json!({ "error": "The information from lookup_customer is unavailable right now." })
            );
        }
        client.cancel().await.unwrap();
    }
}
