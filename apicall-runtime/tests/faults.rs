//! Fault injection against servers on 127.0.0.1 that misbehave at the byte level. Each fault
//! must end in its own typed error, within the call's timeout plus a small margin.

use std::future::Future;
use std::time::{Duration, Instant};

use apicall_runtime::__private::{CallSpec, Method, PathNode, Request, extract};
use apicall_runtime::{Client, Error, TimeoutPhase};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT_MS: u64 = 400;
/// Scheduling slack on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_millis(400);

static SPEC: CallSpec = CallSpec {
    name: "fault",
    method: Method::Get,
    timeout_ms: TIMEOUT_MS,
    retries: 0,
};

static RETRYING: CallSpec = CallSpec {
    name: "fault",
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
            },
        ),
        (
            "count",
            PathNode {
                slots: &[1],
                keys: &[],
                indexes: &[],
            },
        ),
    ],
    indexes: &[],
};

/// Serves every connection with `script`, and returns the base URL.
async fn serve<F, Fut>(script: F) -> String
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let script = std::sync::Arc::new(script);
        let mut connection = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let script = script.clone();
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

/// Sends a GET to `base` + `/x` and extracts `name` and `count`; returns the outcome and how
/// long it took.
async fn call(
    spec: &'static CallSpec,
    base: &str,
) -> (Result<(Option<String>, Option<i64>), Error>, Duration) {
    let client = Client::new().with_max_body_bytes(64 * 1024);
    let mut request = Request::new(&client, spec);
    request.push_url_raw(&format!("{base}/x"));
    let started = Instant::now();
    let outcome = async {
        let body = request.send().await?;
        let mut found = extract(spec, &body, &PATHS, 2)?;
        Ok((found.string(0, "name")?, found.integer(1, "count")?))
    }
    .await;
    (outcome, started.elapsed())
}

fn within_timeout(elapsed: Duration) {
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS) + MARGIN,
        "took {elapsed:?}, timeout {TIMEOUT_MS} ms"
    );
}

#[tokio::test]
async fn refused_port_is_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let (outcome, elapsed) = call(&SPEC, &format!("http://127.0.0.1:{port}")).await;
    assert!(matches!(outcome, Err(Error::Connect { .. })), "{outcome:?}");
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
async fn a_redirect_loop_is_a_redirect_error() {
    let base = serve(|stream, _| async move {
        respond(
            stream,
            b"HTTP/1.1 302 Found\r\nlocation: /x\r\ncontent-length: 0\r\n\r\n",
        )
        .await;
    })
    .await;
    let (outcome, elapsed) = call(&SPEC, &base).await;
    assert!(
        matches!(outcome, Err(Error::Redirect { .. })),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

async fn status_of(code: u16) -> (Result<(Option<String>, Option<i64>), Error>, Duration) {
    let base = serve(move |stream, _| async move {
        let response = format!("HTTP/1.1 {code} Whatever\r\ncontent-length: 2\r\n\r\n{{}}");
        respond(stream, response.as_bytes()).await;
    })
    .await;
    call(&SPEC, &base).await
}

#[tokio::test]
async fn client_and_server_errors_are_status_errors_with_their_code() {
    // A 301 without `Location` is a refused redirect (tests/redirects.rs), not a status error.
    for code in [400_u16, 401, 404, 429, 500, 502, 503] {
        let (outcome, elapsed) = status_of(code).await;
        assert!(
            matches!(outcome, Err(Error::Status { status, .. }) if status == code),
            "{code}: {outcome:?}"
        );
        within_timeout(elapsed);
    }
}

#[tokio::test]
async fn a_503_then_success_succeeds_with_retries() {
    let base = serve(|stream, connection| async move {
        if connection == 0 {
            respond(
                stream,
                b"HTTP/1.1 503 Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            )
            .await;
        } else {
            respond(stream, &ok_json(r#"{"name":"Ada"}"#)).await;
        }
    })
    .await;
    let (outcome, _) = call(&RETRYING, &base).await;
    assert_eq!(outcome.unwrap(), (Some("Ada".to_owned()), None));
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
        matches!(outcome, Err(Error::BodyTooLarge { limit: 65536, .. })),
        "{outcome:?}"
    );
    within_timeout(elapsed);
}

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
        matches!(outcome, Err(Error::BodyTooLarge { .. })),
        "{outcome:?}"
    );
    assert!(
        elapsed < Duration::from_millis(TIMEOUT_MS),
        "did not wait for the body: {elapsed:?}"
    );
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
async fn an_empty_204_extracts_nothing() {
    let base =
        serve(|stream, _| async move { respond(stream, b"HTTP/1.1 204 No Content\r\n\r\n").await })
            .await;
    let (outcome, _) = call(&SPEC, &base).await;
    assert_eq!(outcome.unwrap(), (None, None));
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
