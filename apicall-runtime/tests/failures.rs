//! A call against real servers on 127.0.0.1: what it sends when nothing fails, then each way
//! an exchange can fail, which must end in its own typed error within the call's timeout
//! (plus a small margin), retries included.
//!
//! Two kinds of server, one for each kind of fault: wiremock's `MockServer` where a well-formed
//! HTTP answer is enough and the test looks at what arrived, and [`serve`], a script writing
//! raw bytes, where the fault is below HTTP (a reset, a stall, a length that lies).
//!
//! Redirects are in `redirects.rs`, empty bodies in `empty_bodies.rs`, compressed bodies in
//! `compression.rs`, secrets in traces in `secrets.rs`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apicall_runtime::call::{CallSpec, Method, PathNode, Request, extract};
use apicall_runtime::{Client, Error, TimeoutPhase};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIMEOUT_MS: u64 = 400;
/// Scheduling slack on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_millis(400);
/// The body cap of the client `call` uses.
const CAP: usize = 64 * 1024;

static SPEC: CallSpec = CallSpec {
    name: "lookup",
    method: Method::Get,
    timeout_ms: TIMEOUT_MS,
    retries: 0,
};

static RETRYING: CallSpec = CallSpec {
    name: "lookup",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 2,
};

/// `name` → slot 0 (string), `count` → slot 1 (integer).
static PATHS: PathNode = PathNode {
    slots: &[],
    keys: &[
        (
            "name",
            PathNode {
                slots: &[0],
                keys: &[],
                indexes: &[],
                from_end: &[],
            },
        ),
        (
            "count",
            PathNode {
                slots: &[1],
                keys: &[],
                indexes: &[],
                from_end: &[],
            },
        ),
    ],
    indexes: &[],
    from_end: &[],
};

/// What `call` extracted: `name` and `count`.
type Extracted = (Option<String>, Option<i64>);

/// Sends a GET to `base` + `/x` and extracts `name` and `count`; returns the outcome and how
/// long it took.
async fn call(spec: &'static CallSpec, base: &str) -> (Result<Extracted, Error>, Duration) {
    let client = Client::new().with_max_body_bytes(CAP);
    let request = request(&client, spec, &format!("{base}/x"));
    let started = Instant::now();
    let outcome = async {
        let body = request.send().await?;
        let mut found = extract(spec, &body, &PATHS, 2)?;
        Ok((found.string(0, "name")?, found.integer(1, "count")?))
    }
    .await;
    (outcome, started.elapsed())
}

/// Starts a request for `spec` to `url`, for tests that add values, a query, headers or a body.
fn request<'a>(client: &'a Client, spec: &'static CallSpec, url: &str) -> Request<'a> {
    let mut request = Request::new(client, spec);
    request.push_url_raw(url);
    request
}

fn within_timeout(elapsed: Duration) {
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS) + MARGIN,
        "took {elapsed:?}, timeout {TIMEOUT_MS} ms"
    );
}

/// Serves every connection with `script` (given the stream and the connection's number), and
/// returns the base URL.
async fn serve<F, Fut>(script: F) -> String
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let script = Arc::new(script);
        let mut connection = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let script = Arc::clone(&script);
            tokio::spawn(async move { script(stream, connection).await });
            connection += 1;
        }
    });
    format!("http://{address}")
}

/// Reads the request head, so the client is not cut off mid-send.
async fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Reads the request head, writes `response` and closes.
async fn respond(mut stream: TcpStream, response: &[u8]) {
    read_head(&mut stream).await;
    let _ = stream.write_all(response).await;
    let _ = stream.shutdown().await;
}

fn ok_json(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// What a call sends when nothing fails.

#[tokio::test]
async fn sends_method_path_query_and_headers_as_rendered() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders/A%2FB"))
        .and(query_param("phone", "+1 555"))
        .and(header("authorization", "Bearer k"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = request(&client, &SPEC, &format!("{}/orders/", server.uri()));
    request.push_path_value("A/B");
    request.query("phone", "+1 555");
    request.header("Authorization", "Bearer k", true);

    let body = request.send().await.expect("the mock matches");

    assert_eq!(&body[..], b"{}");
}

#[tokio::test]
async fn a_base_url_override_receives_the_rendered_path_query_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = Client::new()
        .with_base_url(&format!("{}/mock/", server.uri()))
        .expect("an http base URL");
    let mut request = request(&client, &SPEC, "https://api.example.com/orders/");
    request.push_path_value("A/B c");
    request.push_url_raw("/items?fixed=1&q=");
    request.push_query_value("a&b=c");
    request.query("phone", "+1 555");
    request.header("Authorization", "Bearer k", true);

    request.send().await.expect("the server answers 200");

    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 1);
    let url = &received[0].url;
    assert_eq!(url.path(), "/mock/orders/A%2FB%20c/items");
    assert_eq!(url.query(), Some("fixed=1&q=a%26b%3Dc&phone=%2B1+555"));
    let header = |name: &str| {
        received[0]
            .headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("<not text>").to_owned())
    };
    assert_eq!(header("authorization").as_deref(), Some("Bearer k"));
    assert_eq!(header("host"), Some(server.address().to_string()));
}

#[tokio::test]
async fn a_json_body_is_sent_with_its_content_type() {
    static POST: CallSpec = CallSpec {
        name: "create_ticket",
        method: Method::Post,
        timeout_ms: 1000,
        retries: 0,
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tickets"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = request(&client, &POST, &format!("{}/tickets", server.uri()));
    request.json_body(&serde_json::json!({"subject": "late order", "priority": 2}));

    request.send().await.expect("the mock matches");

    let received = server.received_requests().await.expect("recorded");
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({"subject": "late order", "priority": 2})
    );
}

// The connection fails.

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind and drop a listener to find a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let (outcome, elapsed) = call(&SPEC, &format!("http://127.0.0.1:{port}")).await;
    assert!(
        matches!(outcome, Err(Error::Connect { call: "lookup", .. })),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

#[tokio::test]
async fn accept_then_close_is_a_broken_exchange() {
    let base = serve(|stream, _| async move { drop(stream) }).await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(matches!(outcome, Err(Error::Request { .. })), "{outcome:?}");
    within_timeout(elapsed);
}

#[tokio::test]
async fn reset_mid_headers_is_a_broken_exchange() {
    let base = serve(|mut stream, _| async move {
        read_head(&mut stream).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-ty").await;
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(matches!(outcome, Err(Error::Request { .. })), "{outcome:?}");
    within_timeout(elapsed);
}

#[tokio::test]
async fn huge_response_headers_are_a_broken_exchange() {
    let base = serve(|stream, _| async move {
        let response = format!(
            "HTTP/1.1 200 OK\r\nx-junk: {}\r\ncontent-length: 2\r\n\r\n{{}}",
            "a".repeat(1024 * 1024)
        );
        respond(stream, response.as_bytes()).await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(matches!(outcome, Err(Error::Request { .. })), "{outcome:?}");
    within_timeout(elapsed);
}

#[tokio::test]
async fn tls_to_a_plain_http_server_is_a_tls_error() {
    // Answers in plain HTTP at once, whatever the client says: not a TLS record.
    let base = serve(|mut stream, _| async move {
        let _ = stream.write_all(&ok_json("{}")).await;
        let _ = stream.shutdown().await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base.replace("http://", "https://")).await;
    assert!(matches!(outcome, Err(Error::Tls { .. })), "{outcome:?}");
    within_timeout(elapsed);
}

// The server is too slow.

#[tokio::test]
async fn no_response_times_out_before_the_headers() {
    let base = serve(|mut stream, _| async move {
        read_head(&mut stream).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(
        matches!(
            outcome,
            Err(Error::Timeout {
                phase: TimeoutPhase::Headers,
                timeout_ms: TIMEOUT_MS,
                ..
            })
        ),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

#[tokio::test]
async fn headers_then_stall_times_out_in_the_body() {
    let base = serve(|mut stream, _| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"na")
            .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(
        matches!(
            outcome,
            Err(Error::Timeout {
                phase: TimeoutPhase::Body,
                ..
            })
        ),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

#[tokio::test]
async fn a_body_dripped_byte_by_byte_still_ends_at_the_timeout() {
    let base = serve(|mut stream, _| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
            .await;
        for _ in 0..1000 {
            if stream.write_all(b" ").await.is_err() {
                return;
            }
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(
        matches!(
            outcome,
            Err(Error::Timeout {
                phase: TimeoutPhase::Body,
                ..
            })
        ),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

#[tokio::test]
async fn absurd_timeout_and_retry_counts_do_not_panic() {
    static EXTREME: CallSpec = CallSpec {
        name: "extreme",
        method: Method::Get,
        timeout_ms: u64::MAX,
        retries: u32::MAX,
    };
    let server = MockServer::start().await;

    // A 404 is not retried, so this ends after one attempt.
    let (outcome, _) = call(&EXTREME, &server.uri()).await;

    assert!(
        matches!(outcome, Err(Error::Status { status: 404, .. })),
        "{outcome:?}"
    );
}

// The server answers with an error status.

#[tokio::test]
async fn client_and_server_errors_are_status_errors_with_their_code() {
    // A 301 without `Location` is a refused redirect (redirects.rs), not a status error.
    for code in [400_u16, 401, 404, 429, 500, 502, 503] {
        let base = serve(move |stream, _| async move {
            let response = format!("HTTP/1.1 {code} Whatever\r\ncontent-length: 2\r\n\r\n{{}}");
            respond(stream, response.as_bytes()).await;
        })
        .await;
        let (outcome, elapsed) = call(&SPEC, &base).await;
        assert!(
            matches!(outcome, Err(Error::Status { call: "lookup", status }) if status == code),
            "{code}: {outcome:?}"
        );
        within_timeout(elapsed);
    }
}

#[tokio::test]
async fn errors_never_show_the_url_query_or_secret_header() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = request(&client, &SPEC, &format!("{}/x?key=", server.uri()));
    request.push_query_value("sk-secret-1");
    request.header("X-Api-Key", "sk-secret-2", true);

    let error = request.send().await.unwrap_err();

    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("sk-secret"), "{shown}");
    assert!(!shown.contains("127.0.0.1"), "{shown}");
}

// The body is too large, broken, or not what was expected.

#[tokio::test]
async fn a_declared_oversized_body_is_refused_without_reading() {
    let base = serve(|mut stream, _| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000000\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(
        matches!(outcome, Err(Error::BodyTooLarge { limit: CAP, .. })),
        "{outcome:?}"
    );
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS),
        "did not wait for the body: {elapsed:?}"
    );
}

#[tokio::test]
async fn an_oversized_chunked_body_stops_at_the_cap() {
    let base = serve(|mut stream, _| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 8192, " ".repeat(8192));
        // 100 chunks: 800 KiB, far past the 64 KiB cap; the client stops reading early.
        for _ in 0..100 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(
        matches!(outcome, Err(Error::BodyTooLarge { limit: CAP, .. })),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

#[tokio::test]
async fn a_content_length_that_lies_is_a_body_error() {
    let base = serve(|stream, _| async move {
        respond(
            stream,
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"name\": \"Ada\"}",
        )
        .await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(matches!(outcome, Err(Error::Body { .. })), "{outcome:?}");
    within_timeout(elapsed);
}

#[tokio::test]
async fn html_is_not_json() {
    let base = serve(|stream, _| async move {
        respond(
            stream,
            b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n<html></html>",
        )
        .await;
    })
    .await;
    let (outcome, _) = call(&SPEC, &base).await;
    assert!(matches!(outcome, Err(Error::NotJson { .. })), "{outcome:?}");
}

#[tokio::test]
async fn truncated_json_is_not_json() {
    let base =
        serve(|stream, _| async move { respond(stream, &ok_json(r#"{"name": "Ad"#)).await }).await;
    let (outcome, _) = call(&SPEC, &base).await;
    assert!(matches!(outcome, Err(Error::NotJson { .. })), "{outcome:?}");
}

#[tokio::test]
async fn json_of_another_shape_extracts_nothing() {
    let base =
        serve(|stream, _| async move { respond(stream, &ok_json(r#"[{"name": "Ada"}]"#)).await })
            .await;
    let (outcome, _) = call(&SPEC, &base).await;
    assert_eq!(outcome.unwrap(), (None, None));
}

#[tokio::test]
async fn a_wrong_type_at_a_path_is_wrong_type() {
    let base =
        serve(|stream, _| async move { respond(stream, &ok_json(r#"{"count": "many"}"#)).await })
            .await;
    let (outcome, _) = call(&SPEC, &base).await;
    assert!(
        matches!(
            outcome,
            Err(Error::WrongType {
                variable: "count",
                expected: "an integer",
                found: "a string",
                ..
            })
        ),
        "{outcome:?}"
    );
}

// Retries: only what another attempt may fix, as many as declared, inside the one timeout.

#[tokio::test]
async fn a_503_then_success_succeeds_with_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"name":"Ada"}"#))
        .mount(&server)
        .await;

    let (outcome, _) = call(&RETRYING, &server.uri()).await;

    assert_eq!(outcome.unwrap(), (Some("Ada".to_owned()), None));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// Each attempt is built from the checked request again (the last one moves it): the same
/// method, URL, headers and body each time.
#[tokio::test]
async fn every_attempt_of_a_post_sends_the_same_request() {
    static POST: CallSpec = CallSpec {
        name: "book",
        method: Method::Post,
        timeout_ms: 2000,
        retries: 2,
    };
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = request(&client, &POST, &format!("{}/x?slot=9", server.uri()));
    request.header("X-Api-Key", "key", true);
    request.json_body(&serde_json::json!({ "slot": "9:00" }));

    request.send().await.expect("the third attempt succeeds");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    for sent in &requests {
        assert_eq!(sent.method.as_str(), "POST");
        assert_eq!(sent.url.query(), Some("slot=9"));
        assert_eq!(sent.body, br#"{"slot":"9:00"}"#);
        let header = |name: &str| {
            sent.headers
                .get(name)
                .map(|value| value.as_bytes().to_vec())
        };
        assert_eq!(
            header("content-type").as_deref(),
            Some(&b"application/json"[..])
        );
        assert_eq!(header("x-api-key").as_deref(), Some(&b"key"[..]));
        assert_eq!(sent.headers.get_all("content-type").iter().count(), 1);
    }
}

#[tokio::test]
async fn retries_stop_at_their_count_and_report_the_last_failure() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;

    let (outcome, _) = call(&RETRYING, &server.uri()).await;

    assert!(
        matches!(outcome, Err(Error::Status { status: 502, .. })),
        "{outcome:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_404_is_not_retried() {
    let server = MockServer::start().await;

    let (outcome, _) = call(&RETRYING, &server.uri()).await;

    assert!(
        matches!(outcome, Err(Error::Status { status: 404, .. })),
        "{outcome:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_first_attempt_is_retried_within_the_one_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"count":2}"#))
        .mount(&server)
        .await;

    let (outcome, elapsed) = call(&RETRYING, &server.uri()).await;

    assert_eq!(outcome.unwrap(), (None, Some(2)));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}
