//! Webhook delivery against real local servers, through the same `call` entry points
//! generated code uses: what is retried, what is not, and how long it takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use apicall_runtime::call::{CallSpec, Method, Request, deliver, prepare_webhook};
use apicall_runtime::{Client, Conversation, Delivered, Error, Outcome, Secret, WebhookError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

static QUICK: CallSpec = CallSpec {
    name: "quick_hook",
    method: Method::Post,
    timeout_ms: 200,
    retries: 2,
};

fn client(base: &str) -> Client {
    Client::new()
        .with_base_url(base)
        .unwrap()
        .with_webhook_backoff(Duration::from_millis(10))
}

/// Renders and delivers one signed webhook to `base` + `/hook`.
async fn send(client: &Client) -> Result<Delivered, WebhookError> {
    let end = Conversation::with_id("CA-9").end(Outcome::Completed);
    let mut request = Request::new(client, &QUICK);
    request.push_url_raw("https://hooks.example.com/hook");
    request.json_body(&serde_json::json!({ "outcome": end.outcome.as_str() }));
    let prepared = prepare_webhook(request, Some(&Secret::new("whsec")), &end);
    let mut results = deliver(client, vec![prepared]).wait().await;
    assert_eq!(results.len(), 1);
    results.remove(0)
}

#[tokio::test]
async fn an_attempt_that_times_out_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let started = Instant::now();

    let delivered = send(&client(&server.uri())).await.expect("delivered");

    assert_eq!((delivered.status, delivered.attempts), (204, 2));
    // One 200 ms timeout, a short backoff, and the second attempt: not the 2 s stall.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn every_attempt_timing_out_gives_up_with_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;

    let error = send(&client(&server.uri()))
        .await
        .expect_err("never answers in time");

    assert!(
        matches!(
            error,
            WebhookError::GaveUp {
                webhook: "quick_hook",
                attempts: 3,
                last: Error::Timeout {
                    timeout_ms: 200,
                    ..
                },
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_is_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicU32::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                // Accept, read the request, and hang up without a word.
                let mut buffer = [0_u8; 4096];
                let _ = socket.read(&mut buffer).await;
                drop(socket);
                continue;
            }
            tokio::spawn(async move {
                let mut buffer = [0_u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });

    let delivered = send(&client(&format!("http://{address}")))
        .await
        .expect("the second attempt lands");

    assert_eq!(delivered.attempts, 2);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_redirect_is_not_followed_into_a_bodiless_get() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/moved"))
        .mount(&server)
        .await;
    Mock::given(path("/moved"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;

    let error = send(&client(&server.uri())).await.expect_err("redirected");

    assert!(
        matches!(
            error,
            WebhookError::Redirected {
                webhook: "quick_hook",
                attempts: 1
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_ends_the_delivery_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let started = Instant::now();

    let error = send(&client(&server.uri()))
        .await
        .expect_err("asked to wait an hour");

    assert!(
        matches!(
            error,
            WebhookError::GaveUp {
                attempts: 1,
                last: Error::Status { status: 503, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_408_and_a_429_are_retried_and_a_404_is_not() {
    let server = MockServer::start().await;
    for status in [408, 429] {
        Mock::given(path("/hook"))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;

    let error = send(&client(&server.uri()))
        .await
        .expect_err("404 in the end");

    assert!(
        matches!(
            error,
            WebhookError::Rejected {
                status: 404,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_prepared_webhook_shows_no_body_or_headers_in_debug() {
    let end = Conversation::with_id("CA-9").end(Outcome::Completed);
    let client = Client::new();
    let mut request = Request::new(&client, &QUICK);
    request.push_url_raw("https://hooks.example.com/hook?token=tok-123");
    request.header("Authorization", "Bearer tok-123", true);
    request.json_body(&serde_json::json!({ "card": "tok-123" }));
    let prepared = prepare_webhook(request, Some(&Secret::new("whsec-456")), &end).unwrap();
    let shown = format!("{prepared:?}");
    assert!(shown.contains("quick_hook"), "{shown}");
    for secret in ["tok-123", "whsec-456"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn a_webhook_never_sends_a_second_request_to_a_redirect_target() {
    for status in [301, 302, 303, 307, 308] {
        let server = MockServer::start().await;
        let elsewhere = MockServer::start().await;
        Mock::given(path("/hook"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("location", format!("{}/hook", elsewhere.uri())),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/same"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;

        let error = send(&client(&server.uri())).await.expect_err("redirected");

        assert!(
            matches!(
                error,
                WebhookError::Redirected {
                    webhook: "quick_hook",
                    attempts: 1
                }
            ),
            "{status}: {error:?}"
        );
        let sent_elsewhere = elsewhere.received_requests().await.unwrap_or_default();
        assert!(sent_elsewhere.is_empty(), "{status}: {sent_elsewhere:?}");
    }
}

#[tokio::test]
async fn a_same_origin_redirect_is_not_followed_either() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(308).insert_header("location", "/same"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/same"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;

    let error = send(&client(&server.uri())).await.expect_err("redirected");

    assert!(
        matches!(error, WebhookError::Redirected { attempts: 1, .. }),
        "{error:?}"
    );
}
