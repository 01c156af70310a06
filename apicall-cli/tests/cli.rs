//! The `apicall` binary as a user runs it: output, and exit status 0 / 1 / 2.

use std::path::PathBuf;
use std::process::{Command, Output};

fn apicall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// `yaml` written to `name` in a fresh directory, which is removed when the returned guard
/// drops (the test's end, pass or fail).
fn fixture(name: &str, yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("apicall-cli-")
        .tempdir()
        .unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, yaml).unwrap();
    (dir, path)
}

const SEED: &str = "../examples/calls.yaml";

/// Runs the binary off the async runtime (the test's server keeps answering meanwhile),
/// asserts it exits 0, and returns its stdout.
async fn succeeds_beside_a_server(args: &[&str]) -> String {
    let output = beside_a_server(args).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs the binary off the async runtime, so the test's server keeps answering meanwhile.
async fn beside_a_server(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        apicall(&args)
    })
    .await
    .unwrap()
}

#[test]
fn check_of_a_valid_file_exits_0() {
    let output = apicall(&["check", SEED]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "ok: 1 file valid\n"
    );
}

#[test]
fn check_prints_every_error_located_with_source_caret_and_help_and_exits_1() {
    let (_dir, path) = fixture(
        "typos.yaml",
        "variables:\n  caller_phone: {}\napi_calls:\n  - name: lookup\n    description: x\n    url: https://crm.example.com/c\n    method: GTE\n    query:\n      phone: \"{{caler_phone}}\"\n",
    );
    let path = path.to_str().unwrap();

    let output = apicall(&["check", path]);

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "error: unknown HTTP method `GTE`
 --> {path}:7:13
  |
7 |     method: GTE
  |             ^^^
  = help: did you mean `GET`?

error: unknown variable `caler_phone`
 --> {path}:9:15
  |
9 |       phone: \"{{{{caler_phone}}}}\"
  |               ^^^^^^^^^^^^^^^
  = help: did you mean `caller_phone`?

2 errors in 1 file
"
    );
    assert_eq!(stderr, expected);
}

#[test]
fn check_of_several_files_sums_up() {
    let (_dir, bad) = fixture("bad.yaml", "api_calls: nope\n");
    let output = apicall(&["check", SEED, bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).ends_with("1 error in 2 files\n"));
}

#[test]
fn an_unreadable_file_exits_2() {
    let output = apicall(&["check", SEED, "does/not/exist.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read `does/not/exist.yaml`"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("0 errors in 1 file; 1 file could not be read\n"),
        "{stderr}"
    );
}

#[test]
fn expand_prints_the_generated_code() {
    let output = apicall(&["expand", SEED]);
    assert_eq!(output.status.code(), Some(0));
    let yaml =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(SEED)).unwrap();
    let expected = apicall_build::compile(SEED, &yaml)
        .unwrap()
        .to_rust_source();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

#[test]
fn schema_prints_the_json_schema() {
    let output = apicall(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        apicall_build::json_schema()
    );
}

#[test]
fn wrong_usage_exits_2_with_usage() {
    let output = apicall(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unrecognized subcommand 'frobnicate'"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: apicall <COMMAND>"), "{stderr}");
}

#[test]
fn version_and_help_per_command() {
    let output = apicall(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("apicall {}\n", env!("CARGO_PKG_VERSION"))
    );
    for (command, says) in [
        ("run", "--arg <NAME=VALUE>"),
        ("webhook", "--outcome <OUTCOME>"),
        ("tools", "--format <FORMAT>"),
        ("check", "<FILES>..."),
    ] {
        let output = apicall(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{command}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(says), "{command}: {stdout}");
    }
}

#[test]
fn tools_prints_openai_and_anthropic_definitions() {
    let output = apicall(&["tools", SEED]);
    assert_eq!(output.status.code(), Some(0));
    let openai: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        openai[1],
        serde_json::json!({
            "type": "function",
            "function": {
                "name": "order_status",
                "description": "Fetch order status when the customer provides an order number",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "order_id": {"type": "string", "description": "The order number the customer reads out"}
                    },
                    "required": ["order_id"],
                    "additionalProperties": false
                },
                "strict": true
            }
        })
    );

    let output = apicall(&["tools", SEED, "--format", "anthropic"]);
    assert_eq!(output.status.code(), Some(0));
    let anthropic: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(anthropic[0]["name"], "lookup_customer");
    assert_eq!(
        anthropic[0]["input_schema"],
        serde_json::json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false})
    );
    assert_eq!(
        anthropic[1]["input_schema"],
        openai[1]["function"]["parameters"]
    );
}

/// Every target prints, each tool in its shape; a format is held to its own target's limits
/// only, so a name only MCP takes prints for `--format mcp` and is a located error for
/// `--format openai`.
#[test]
fn tools_prints_every_target_and_checks_only_its_limits() {
    let shapes = [
        ("openai", "/0/function/name"),
        ("openai-responses", "/0/name"),
        ("anthropic", "/0/input_schema/type"),
        ("gemini", "/0/parametersJsonSchema/type"),
        ("gemini-openapi", "/0/name"),
        ("mcp", "/0/outputSchema/type"),
    ];
    for (format, pointer) in shapes {
        let output = apicall(&["tools", SEED, "--format", format]);
        assert_eq!(output.status.code(), Some(0), "{format}");
        let tools: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert!(tools.pointer(pointer).is_some(), "{format}: {tools}");
    }
    let long = "../tests/fixtures/long_names.yaml";
    let output = apicall(&["tools", long, "--format", "mcp"]);
    assert_eq!(output.status.code(), Some(0));
    let output = apicall(&["tools", long, "--format", "openai"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("openai takes tool names of at most 64")
            && stderr.contains("long_names.yaml:4:11"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

/// A reader that stops reading early (`apicall expand calls.yaml | head`) ends the command
/// quietly, not with a panic.
#[test]
fn output_to_a_closed_pipe_is_not_a_panic() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(["expand", SEED])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apicall starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("apicall ends");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn run_sends_one_call_live_and_shows_request_status_and_values_without_secrets() {
    use wiremock::matchers::{header, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(path("/api/customers"))
        .and(header("authorization", "Bearer sk-run-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "customer": {"name": "Ada", "tier": "gold"}
        })))
        .mount(&server)
        .await;
    let base = server.uri();
    let args = [
        "run",
        SEED,
        "lookup_customer",
        "--var",
        "caller_phone=+15551234567",
        "--var",
        "api_key=sk-run-secret",
        "--base-url",
        base.as_str(),
    ];

    let stdout = succeeds_beside_a_server(&args).await;
    assert!(
        stdout.starts_with(&format!("GET {base}/api/customers?phone=%2B15551234567\n")),
        "{stdout}"
    );
    assert!(stdout.contains("  Authorization: Bearer ***\n"), "{stdout}");
    assert!(stdout.contains("-> HTTP 200 in "), "{stdout}");
    assert!(stdout.contains("  customer_name = \"Ada\"\n"), "{stdout}");
    assert!(
        stdout.contains("  last_order = (absent at customer.last_order)\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("sk-run-secret"), "{stdout}");
}

/// A server that echoes a secret back, in each encoding a request gives it or a JSON writer
/// adds: `run` shows none of them, in values it extracts or in an error body, not even a prefix
/// of one cut at the edge of what it shows.
#[tokio::test]
async fn run_masks_a_secret_the_server_echoes_in_any_encoding() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const SECRET: &str = "pa ss/wörd\"+&é";
    // Python's json.dumps (httpbin's): non-ASCII as `\u` escapes.
    const ASCII_JSON: &str = r#"pa ss/w\u00f6rd\"+&\u00e9"#;
    let basic = STANDARD.encode(format!("user:{SECRET}"));
    let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    let server = MockServer::start().await;
    let (echo_basic, echo_hex) = (basic.clone(), hex.clone());
    Mock::given(path("/fail"))
        .respond_with(move |request: &wiremock::Request| {
            // The secret starts 8 bytes before the 2,048 shown and ends past them.
            let filler = "x".repeat(2040 - "{\"echo\": \"".len());
            ResponseTemplate::new(500).set_body_string(format!(
                "{{\"echo\": \"{filler}{ASCII_JSON}\", \"url\": \"{}\"}}",
                request.url
            ))
        })
        .mount(&server)
        .await;
    // Many copies: each masked one is shorter, and no part of the copy the read cut off may
    // take the room that frees.
    Mock::given(path("/many"))
        .respond_with(ResponseTemplate::new(500).set_body_string(SECRET.repeat(300)))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(move |request: &wiremock::Request| {
            ResponseTemplate::new(200).set_body_raw(
                format!(
                    r#"{{"url": "{}", "ascii": "{ASCII_JSON}", "basic": "{echo_basic}", "hex": "{echo_hex}"}}"#,
                    request.url
                ),
                "application/json",
            )
        })
        .mount(&server)
        .await;
    let (_dir, file) = fixture(
        "calls.yaml",
        r#"
variables:
  token:
    secret: true
api_calls:
  - name: echo
    description: Echo the request
    url: "https://api.example.com/echo/{{token}}?t={{token}}"
    method: GET
    response_variables:
      - { variable: url, path: url }
      - { variable: ascii, path: ascii }
      - { variable: basic, path: basic }
      - { variable: hex, path: hex }
  - name: fail
    description: Fail, echoing the request
    url: "https://api.example.com/fail?t={{token}}"
    method: GET
  - name: many
    description: Fail, echoing the secret many times
    url: "https://api.example.com/many"
    method: GET
"#,
    );
    let base = server.uri();
    let token = format!("token={SECRET}");
    let file = file.to_str().unwrap();
    let run = |call| ["run", file, call, "--var", &token, "--base-url", &base];
    let echoed = beside_a_server(&run("echo")).await;
    let failed = beside_a_server(&run("fail")).await;
    let many = beside_a_server(&run("many")).await;
    let many = String::from_utf8_lossy(&many.stdout);
    let body = many.lines().find_map(|line| line.strip_prefix("  body: "));
    assert_eq!(
        body,
        Some(format!("{} ...", "***".repeat(128)).as_str()),
        "{many}"
    );

    assert_eq!(echoed.status.code(), Some(0));
    assert_eq!(failed.status.code(), Some(1));
    let shown = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&echoed.stdout),
        String::from_utf8_lossy(&echoed.stderr),
        String::from_utf8_lossy(&failed.stdout),
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(shown.contains("  url = \"http://"), "{shown}");
    assert!(shown.contains("  body: {\"echo\": \"xxx"), "{shown}");
    for fragment in [
        "pa ss",
        "pa%20ss",
        "pa+ss",
        "w\\u00f6rd",
        "ss/w",
        "%C3%B6",
        "%c3%b6",
        &hex[..8],
        &basic[8..16],
    ] {
        assert!(!shown.contains(fragment), "`{fragment}` in:\n{shown}");
    }
    assert_eq!(shown.matches("***").count(), 9, "{shown}");
}

/// What `run` shows of a server's answer or of a value with a line break cannot drive the
/// terminal or pass for a line of its own: control and bidi characters are spelled out.
#[tokio::test]
async fn run_shows_control_characters_spelled_out() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(502).set_body_string("bad\n-> HTTP 200\u{1b}[2J\u{202e}gateway"),
        )
        .mount(&server)
        .await;
    let (_dir, file) = fixture(
        "calls.yaml",
        r#"
api_calls:
  - name: lookup
    description: Look up an order
    url: https://api.example.com/orders
    method: GET
    headers:
      X-Note: "{{collected.note}}"
    parameters:
      - name: note
        required: true
"#,
    );
    let base = server.uri();
    let file = file.to_str().unwrap();
    let run = |note| ["run", file, "lookup", "--arg", note, "--base-url", &base];

    let answered = beside_a_server(&run("note=fine")).await;
    let stdout = String::from_utf8_lossy(&answered.stdout);
    assert_eq!(answered.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("  body: bad\\u{a}-> HTTP 200\\u{1b}[2J<U+202E>gateway\n"),
        "{stdout}"
    );
    let refused = beside_a_server(&run("note=a\r\nX-Injected: 1")).await;
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(
        stdout.contains("  X-Note: a\\u{d}\\u{a}X-Injected: 1\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("\nX-Injected"), "{stdout}");
}

/// A reader that has gone (`apicall run ... | head -1`) ends `run` quietly, with no panic, and
/// the status a shell gives a tool SIGPIPE ended: the call may not have been sent.
#[test]
fn run_into_a_closed_pipe_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    // Closed before the binary starts, so its first line already meets a broken pipe.
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args([
            "run",
            SEED,
            "order_status",
            "--var",
            "caller_phone=+1",
            "--var",
            "api_key=k",
            "--arg",
            "order_id=7",
            "--base-url",
            "http://127.0.0.1:9",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(writer)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(141), "{stderr}");
}

/// `run` shows a number the server sent for a string variable as the generated struct holds
/// it: its JSON text, every digit, as a string.
#[tokio::test]
async fn run_shows_large_numbers_digit_for_digit() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(path("/api/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"customer": {"name": 98765432109876543210, "tier": -1.5e-7}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let base = server.uri();
    let args = [
        "run",
        SEED,
        "lookup_customer",
        "--var",
        "caller_phone=+1",
        "--var",
        "api_key=k",
        "--base-url",
        base.as_str(),
    ];

    let stdout = succeeds_beside_a_server(&args).await;
    assert!(
        stdout.contains("  customer_name = \"98765432109876543210\"\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  tier = \"-1.5e-7\"\n"), "{stdout}");
}

#[test]
fn run_says_what_is_missing() {
    let output = apicall(&["run", SEED, "order_status", "--var", "caller_phone=+1"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: `order_id` is a required parameter: pass --arg order_id=...\n"
    );
    let output = apicall(&["run", SEED, "order_stats"]);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("no call named `order_stats`; the calls are: lookup_customer, order_status")
    );
}

#[tokio::test]
async fn webhook_sends_one_signed_webhook_live_and_shows_it_without_secrets() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/customers/C%2F7/calls"))
        .and(header("idempotency-key", "CA-77:crm_summary"))
        .and(header("authorization", "Bearer sk-hook-api"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let base = server.uri();
    let args = [
        "webhook",
        "../tests/fixtures/webhooks.yaml",
        "crm_summary",
        "--var",
        "caller_phone=+15550100",
        "--var",
        "api_key=sk-hook-api",
        "--var",
        "webhook_secret=whsec-hook-signing",
        "--var",
        "agent_id=42",
        "--api",
        "customer_id=C/7",
        "--api",
        "customer_name=Ada",
        "--api",
        "open_orders=2",
        "--outcome",
        "transferred",
        "--id",
        "CA-77",
        "--base-url",
        base.as_str(),
    ];

    let stdout = succeeds_beside_a_server(&args).await;
    assert!(
        stdout.starts_with(&format!(
            "POST {base}/customers/C%2F7/calls?source=agent-42\n"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("  Authorization: Bearer ***\n"), "{stdout}");
    assert!(stdout.contains("-> HTTP 202 in "), "{stdout}");
    for secret in ["sk-hook-api", "whsec-hook-signing"] {
        assert!(!stdout.contains(secret), "{stdout}");
    }
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["customer"], "Ada");
    assert_eq!(body["open_orders"], 2);
    assert_eq!(body["agent"], 42);
    assert_eq!(body["outcome"], "transferred");
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let verifier =
        apicall_runtime::Verifier::new(apicall_runtime::Secret::new("whsec-hook-signing"));
    assert_eq!(
        verifier.verify_parts(
            &header(apicall_runtime::TIMESTAMP_HEADER),
            &header(apicall_runtime::SIGNATURE_HEADER),
            &request.body
        ),
        Ok(())
    );
}

#[test]
fn webhook_and_run_say_what_is_missing() {
    let hooks = "../tests/fixtures/webhooks.yaml";
    let output = apicall(&["webhook", hooks, "crm_sumary"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("no webhook named `crm_sumary`; the webhooks are: crm_summary, audit_log"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = apicall(&["webhook", hooks, "crm_summary", "--var", "agent_id=1"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: the request uses `{{api_key}}`: pass --var api_key=...\n"
    );
    let all_vars = [
        "--var",
        "agent_id=1",
        "--var",
        "api_key=k",
        "--var",
        "caller_phone=+1",
        "--var",
        "webhook_secret=s",
    ];
    let mut args = vec!["webhook", hooks, "crm_summary"];
    args.extend(all_vars);
    let output = apicall(&args);
    // As the generated renderer fails: before anything is sent.
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(
            "-> not sent: webhook crm_summary: not sent: crm_summary: `customer_id` has no value yet"
        ),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let output = apicall(&["run", SEED, "lookup_customer", "--api", "nope=1"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: no call extracts `{{api.nope}}`\n"
    );
}

/// `RUST_LOG` turns on the runtime's tracing on stderr: the call's span and outcome, never a
/// value (the secret stays out of the log too). Without it, stderr stays empty.
#[test]
fn rust_log_shows_the_runtime_trace_without_values() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // A server that answers one 404 per connection; nothing else is needed.
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 16\r\nconnection: close\r\n\r\nno such customer",
            );
        }
    });
    let args = [
        "run",
        SEED,
        "lookup_customer",
        "--var",
        "caller_phone=+15551234567",
        "--var",
        "api_key=sk-log-secret",
        "--base-url",
        base.as_str(),
    ];
    let traced = Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "apicall_runtime=debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&traced.stderr);
    let stdout = String::from_utf8_lossy(&traced.stdout);
    assert_eq!(traced.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("apicall.call"), "{stderr}");
    assert!(stderr.contains("call failed"), "{stderr}");
    assert!(!stderr.contains("sk-log-secret"), "{stderr}");
    // The status and the start of the body, as the command line shows a 4xx.
    assert!(stdout.contains("the server answered HTTP 404"), "{stdout}");
    assert!(stdout.contains("  body: no such customer\n"), "{stdout}");
    assert!(!stdout.contains("sk-log-secret"), "{stdout}");

    let quiet = Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
}

/// `apicall run` applies a call's `auth:` scheme as generated code does: an OAuth2 token from
/// the token endpoint as Bearer, a request signature; it shows them masked, and no secret.
#[tokio::test]
async fn run_applies_the_calls_auth_scheme() {
    use wiremock::matchers::{header, header_exists, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"access_token": "tok-9", "token_type": "Bearer", "expires_in": 60}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/customers/C-7"))
        .and(header("authorization", "Bearer tok-9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"name": "Ada"})))
        .mount(&server)
        .await;
    Mock::given(path("/entries"))
        .and(header_exists("x-ledger-signature"))
        .and(header_exists("x-ledger-timestamp"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "e-1"})))
        .mount(&server)
        .await;
    let base = server.uri();
    let vars = [
        "--var",
        "crm_client_id=agent-7",
        "--var",
        "crm_client_secret=very-secret-1",
        "--var",
        "billing_user=ada",
        "--var",
        "billing_password=very-secret-2",
        "--var",
        "ledger_key=very-secret-3",
        "--base-url",
        base.as_str(),
    ];
    let file = "../tests/fixtures/auth.yaml";
    let mut args = vec!["run", file, "lookup_customer", "--arg", "customer_id=C-7"];
    args.extend(vars);
    let output = apicall(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Authorization: Bearer ***"), "{stdout}");
    assert!(stdout.contains("customer_name = \"Ada\""), "{stdout}");

    let mut args = vec!["run", file, "post_entry", "--arg", "amount=12.5"];
    args.extend(vars);
    let output = apicall(&args);
    let signed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{signed}");
    assert!(signed.contains("X-Ledger-Signature: ***"), "{signed}");

    // A Stripe-style header (`t=<seconds>,v1=<hex>`): checked here as Stripe checks it.
    let mut args = vec!["run", file, "refund_payment", "--arg", "payment_id=pi_42"];
    args.extend(vars);
    let output = apicall(&args);
    let refunded = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the stand-in has no /refunds: {refunded}"
    );
    assert!(refunded.contains("Stripe-Signature: ***"), "{refunded}");
    let received = server.received_requests().await.unwrap();
    let refund = received
        .iter()
        .find(|r| r.url.path() == "/refunds")
        .unwrap();
    let value = refund.headers["stripe-signature"].to_str().unwrap();
    let (timestamp, signature) = value
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("{value}"));
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(b"very-secret-3").unwrap();
    hmac::Mac::update(&mut mac, format!("{timestamp}.").as_bytes());
    hmac::Mac::update(&mut mac, &refund.body);
    let expected: String = (hmac::Mac::finalize(mac).as_bytes().iter())
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(signature, expected);
    for shown in [&stdout, &stderr, &signed, &refunded] {
        assert!(
            !shown.contains("very-secret") && !shown.contains("tok-9"),
            "{shown}"
        );
    }
}
