//! Values an LLM extracted from a conversation cannot change where a request goes: each stays
//! inside the one path segment the YAML gave it, on the host the YAML named.

use apicall_runtime::{Client, Error, Secret};
use percent_encoding::percent_decode_str;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod calls {
    apicall_macros::include_api_calls!("../examples/calls.yaml");
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
async fn dot_segments_are_refused_before_sending() {
    let server = MockServer::start().await;
    for value in [".", ".."] {
        let error = order_status(&server, value).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::UnsafePathValue {
                    call: "order_status"
                }
            ),
            "{error:?}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn the_runtime_holds_even_where_the_compiler_forbids_values() {
    // The compiler refuses `{{collected.x}}` in a host; were a value pushed right after the
    // host anyway, it is encoded and cannot become userinfo, a port or a new host.
    use apicall_runtime::__private::{CallSpec, Method, Request};
    static SPEC: CallSpec = CallSpec {
        name: "probe",
        method: Method::Get,
        timeout_ms: 100,
        retries: 0,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for value in ["@evil.example", ":8080", ".evil.example/x", "/../admin"] {
        let client = Client::new();
        let mut request = Request::new(&client, &SPEC);
        request.push_url_raw("http://127.0.0.1:9");
        request.push_path_value(value);
        let error = runtime.block_on(request.send()).unwrap_err();
        // Either the URL does not parse, or it still goes to 127.0.0.1:9 (nothing listens).
        assert!(
            matches!(error, Error::InvalidUrl { .. } | Error::Connect { .. }),
            "{value:?}: {error:?}"
        );
    }
}
