//! The runtime against a real server on 127.0.0.1: each failure is its own typed error, and
//! a slow server never holds a call past its timeout.

use std::time::{Duration, Instant};

use apicall_runtime::__private::{CallSpec, Method, Request};
use apicall_runtime::{Client, Error, TimeoutPhase};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

static SPEC: CallSpec = CallSpec {
    name: "order_status",
    method: Method::Get,
    timeout_ms: 300,
    retries: 0,
};

fn request<'a>(client: &'a Client, server: &MockServer, path: &str) -> Request<'a> {
    let mut request = Request::new(client, &SPEC);
    request.push_url_raw(&format!("{}{path}", server.uri()));
    request
}

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
    let mut request = request(&client, &server, "/orders/");
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
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://api.example.com/orders/");
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
    let mut request = Request::new(&client, &POST);
    request.push_url_raw(&format!("{}/tickets", server.uri()));
    request.json_body(&serde_json::json!({"subject": "late order", "priority": 2}));

    request.send().await.expect("the mock matches");

    let received = server.received_requests().await.expect("recorded");
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({"subject": "late order", "priority": 2})
    );
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
    let client = Client::new();
    let mut request = Request::new(&client, &EXTREME);
    request.push_url_raw(&format!("{}/missing", server.uri()));

    // A 404 is not retried, so this ends after one attempt.
    let error = request.send().await.unwrap_err();

    assert!(
        matches!(error, Error::Status { status: 404, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_404_is_a_status_error() {
    let server = MockServer::start().await;
    let client = Client::new();
    let error = request(&client, &server, "/nothing")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Status {
                call: "order_status",
                status: 404
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_server_times_out_within_the_call_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = Client::new();
    let started = Instant::now();

    let error = request(&client, &server, "/slow").send().await.unwrap_err();

    assert!(
        matches!(
            error,
            Error::Timeout {
                timeout_ms: 300,
                phase: TimeoutPhase::Headers,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2048)))
        .mount(&server)
        .await;
    let client = Client::new().with_max_body_bytes(1024);

    let error = request(&client, &server, "/big").send().await.unwrap_err();

    assert!(
        matches!(error, Error::BodyTooLarge { limit: 1024, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind and drop a listener to find a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let client = Client::new();
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw(&format!("http://127.0.0.1:{port}/x"));

    let error = request.send().await.unwrap_err();

    assert!(
        matches!(
            error,
            Error::Connect {
                call: "order_status",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn errors_never_show_the_url_query_or_secret_header() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = request(&client, &server, "/x?key=");
    request.push_query_value("sk-secret-1");
    request.header("X-Api-Key", "sk-secret-2", true);

    let error = request.send().await.unwrap_err();

    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("sk-secret"), "{shown}");
    assert!(!shown.contains("127.0.0.1"), "{shown}");
}

static RETRYING: CallSpec = CallSpec {
    name: "order_status",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 2,
};

#[tokio::test]
async fn a_503_then_success_succeeds_with_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = Request::new(&client, &RETRYING);
    request.push_url_raw(&format!("{}/flaky", server.uri()));

    let body = request.send().await.expect("the second attempt succeeds");

    assert_eq!(&body[..], b"{\"ok\":true}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn retries_stop_at_their_count_and_report_the_last_failure() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = Request::new(&client, &RETRYING);
    request.push_url_raw(&format!("{}/down", server.uri()));

    let error = request.send().await.unwrap_err();

    assert!(
        matches!(error, Error::Status { status: 502, .. }),
        "{error:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_404_is_not_retried() {
    let server = MockServer::start().await;
    let client = Client::new();
    let mut request = Request::new(&client, &RETRYING);
    request.push_url_raw(&format!("{}/missing", server.uri()));

    let error = request.send().await.unwrap_err();

    assert!(
        matches!(error, Error::Status { status: 404, .. }),
        "{error:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_first_attempt_is_retried_within_the_one_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/slow-once"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/slow-once"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = Client::new();
    let mut request = Request::new(&client, &RETRYING);
    request.push_url_raw(&format!("{}/slow-once", server.uri()));
    let started = Instant::now();

    let body = request.send().await.expect("the retry answers in time");

    assert_eq!(&body[..], b"{}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
