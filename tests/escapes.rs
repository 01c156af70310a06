//! Values an LLM extracted from a conversation cannot change where a request goes: each stays
//! inside the one path segment the YAML gave it, on the host the YAML named.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apicall_runtime::{Client, Error, Secret};
use percent_encoding::percent_decode_str;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod calls {
    apicall_macros::include_api_calls!("../examples/calls.yaml");
}

mod based {
    apicall_macros::include_api_calls!("fixtures/base_url.yaml");
}

fn context() -> calls::Context {
    calls::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("k"),
    }
}

async fn order_status(
    server: &MockServer,
    order_id: &str,
) -> Result<calls::OrderStatusResponse, Error> {
    let client = Client::new()
        .with_base_url(&server.uri())
        .expect("valid base URL");
    let params = calls::OrderStatusParams {
        order_id: order_id.to_owned(),
    };
    calls::order_status(&client, &context(), &params).await
}

#[tokio::test]
async fn hostile_order_ids_stay_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"order": {"status": "ok"}})))
        .mount(&server)
        .await;
    // Long, but within the 64 KiB a URL can have.
    let long = "x".repeat(60 * 1024);
    let hostile = [
        "../admin",
        "a/b",
        "?x=1",
        "#f",
        "@evil.example",
        "evil.example:80",
        "%2e%2e",
        "%2e%2e%2fadmin",
        "..%2f..%2fadmin",
        "a\r\nHost: evil.example",
        "\u{FF0E}\u{FF0E}\u{FF0F}admin",
        "\u{2215}etc\u{2215}passwd",
        "..\\admin",
        " ",
        long.as_str(),
    ];
    for value in hostile {
        let shown: String = value.chars().take(40).collect();
        order_status(&server, value)
            .await
            .unwrap_or_else(|e| panic!("{shown:?}: {e}"));
    }

    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), hostile.len());
    for (value, request) in hostile.iter().zip(&requests) {
        let shown: String = value.chars().take(40).collect();
        let segment = request
            .url
            .path()
            .strip_prefix("/orders/")
            .unwrap_or_else(|| panic!("{shown:?} left /orders/"));
        assert!(
            !segment.contains(['/', '?', '#']),
            "{shown:?} escaped its segment"
        );
        assert!(
            percent_decode_str(segment).decode_utf8().unwrap() == *value,
            "{shown:?}"
        );
        assert_eq!(request.url.query(), None, "{shown:?}");
        let host = request
            .headers
            .get("host")
            .map(|h| h.to_str().unwrap_or_default());
        assert_eq!(
            host,
            Some(server.address().to_string().as_str()),
            "{shown:?}"
        );
    }
}

#[tokio::test]
async fn a_100_kb_value_is_refused_before_sending() {
    let server = MockServer::start().await;
    let error = order_status(&server, &"a/".repeat(50 * 1024))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidUrl {
                call: "order_status",
                ..
            }
        ),
        "{error}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn dot_segments_and_empty_segments_are_refused_before_sending() {
    // `/orders/{{collected.order_id}}` with an empty id would be `/orders/`: the collection,
    // not an order (the runtime's unit tests show an empty value within other text is kept).
    let server = MockServer::start().await;
    for value in [".", "..", ""] {
        let error = order_status(&server, value).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::UnsafePathValue {
                    call: "order_status"
                }
            ),
            "{value:?}: {error:?}"
        );
    }
    let lines = based_order_lines(&format!("{}/v2", server.uri()), "").await;
    assert!(
        matches!(lines, Err(Error::UnsafePathValue { .. })),
        "{lines:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

async fn based_order_lines(
    crm_base: &str,
    order_id: &str,
) -> Result<based::OrderLinesResponse, Error> {
    let context = based::Context {
        crm_base: crm_base.to_owned(),
    };
    let params = based::OrderLinesParams {
        order_id: order_id.to_owned(),
    };
    based::order_lines(&Client::new(), &context, &params).await
}

#[tokio::test]
async fn a_base_url_from_the_context_is_the_origin_and_values_stay_in_their_segment() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 3})))
        .mount(&server)
        .await;

    let lines = based_order_lines(&format!("{}/v2", server.uri()), "A/1?x")
        .await
        .expect("the call succeeds");

    assert_eq!(lines.line_count, Some(3));
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.path(), "/v2/orders/A%2F1%3Fx/lines");
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn a_base_url_that_is_not_http_is_refused_before_sending() {
    for base in ["file:///etc", "ftp://127.0.0.1", "127.0.0.1:8080", ""] {
        let error = based_order_lines(base, "7").await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidUrl {
                    call: "order_lines",
                    ..
                }
            ),
            "{base:?}: {error:?}"
        );
    }
}

/// A loopback listener that counts the connections made to it and closes each at once; its
/// port and the count.
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("bound").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, connections)
}

/// Waits up to two seconds for `count` to reach `expected`: a connection is counted once the
/// listener's thread accepts it, a moment after the client has connected.
async fn wait_for(count: &AtomicUsize, expected: usize) -> usize {
    let started = Instant::now();
    while count.load(Ordering::SeqCst) < expected && started.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    count.load(Ordering::SeqCst)
}

#[tokio::test]
async fn the_runtime_holds_even_where_the_compiler_forbids_values() {
    // The compiler refuses `{{collected.x}}` in a URL's origin. Were a value pushed right after
    // the host anyway, the `@`, `:` and `/` it would need to become userinfo, a port or a new
    // host are encoded, and the URL is refused before anything is sent. (Letters, digits and
    // dots are not encoded: after a bare host they would lengthen it, which is why the
    // compiler's rule is needed at all.)
    use apicall_runtime::call::{CallSpec, Method, Request};
    static SPEC: CallSpec = CallSpec {
        name: "probe",
        method: Method::Get,
        timeout_ms: 2_000,
        retries: 0,
    };
    let (intended, to_intended) = counting_listener();
    let (other, to_other) = counting_listener();
    // Each value, pushed verbatim, would take the request to the other listener.
    let cases = [
        // As userinfo: the intended host and port become a user name and password.
        (
            format!("http://127.0.0.1:{intended}"),
            format!("@127.0.0.1:{other}"),
        ),
        (
            format!("http://127.0.0.1:{intended}"),
            format!("@127.0.0.1:{other}/admin"),
        ),
        // As a port.
        ("http://127.0.0.1".to_owned(), format!(":{other}")),
        ("http://127.0.0.1".to_owned(), format!(":{other}/admin")),
    ];
    let client = Client::new();
    for (raw_sends, (origin, value)) in (1..).zip(&cases) {
        let mut request = Request::new(&client, &SPEC);
        request.push_url_raw(origin);
        request.push_path_value(value);
        let error = request.send().await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidUrl { call: "probe", .. }),
            "{value:?}: {error:?}"
        );

        // The same text pushed verbatim does reach the other listener: it is watching, and
        // the value above was a real way out.
        let mut request = Request::new(&client, &SPEC);
        request.push_url_raw(origin);
        request.push_url_raw(value);
        let _ = request.send().await;
        assert_eq!(
            wait_for(&to_other, raw_sends).await,
            raw_sends,
            "{value:?} verbatim"
        );
    }
    // Any connection beyond the verbatim ones would have been an encoded request that left.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(to_other.load(Ordering::SeqCst), cases.len());
    // Nor did an encoded one go to the intended listener: it was refused before sending.
    assert_eq!(to_intended.load(Ordering::SeqCst), 0);
}
