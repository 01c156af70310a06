//! The seed's calls against a real HTTP server on 127.0.0.1: the exact request that arrives,
//! and the values extracted from the response.

use apicall_runtime::{Client, Secret};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod calls {
    apicall_macros::include_api_calls!("../examples/calls.yaml");
}

fn context() -> calls::Context {
    calls::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("sk-test-123"),
    }
}

fn client_for(server: &MockServer) -> Client {
    Client::new()
        .with_base_url(&server.uri())
        .expect("the mock server's URI is a valid base URL")
}

#[tokio::test]
async fn lookup_customer_sends_phone_query_and_bearer_key_and_extracts_values() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "customer": {
                "name": "Ada Lovelace",
                "tier": "gold",
                "last_order": "A-1042",
                "notes": ["ignored", {"deep": true}]
            },
            "meta": {"took_ms": 3}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let response = calls::lookup_customer(&client_for(&server), &context())
        .await
        .expect("the call succeeds");

    assert_eq!(
        response,
        calls::LookupCustomerResponse {
            customer_name: Some("Ada Lovelace".to_owned()),
            tier: Some("gold".to_owned()),
            last_order: Some("A-1042".to_owned()),
        }
    );
    let requests = server
        .received_requests()
        .await
        .expect("requests are recorded");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/api/customers");
    assert_eq!(request.url.query(), Some("phone=%2B15551234567"));
    assert_eq!(
        request.headers.get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer sk-test-123"[..])
    );
}

#[tokio::test]
async fn order_id_with_slash_question_mark_and_hash_stays_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"order": {"status": "shipped"}})),
        )
        .mount(&server)
        .await;
    let params: calls::OrderStatusParams =
        serde_json::from_value(json!({"order_id": "A/B?x#y"})).expect("valid tool arguments");

    let response = calls::order_status(&client_for(&server), &context(), &params)
        .await
        .expect("the call succeeds");

    assert_eq!(response.order_status.as_deref(), Some("shipped"));
    let requests = server
        .received_requests()
        .await
        .expect("requests are recorded");
    assert_eq!(requests[0].url.path(), "/orders/A%2FB%3Fx%23y");
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn values_the_api_leaves_out_are_none_and_the_greeting_skips_them() {
    let server = MockServer::start().await;
    Mock::given(path("/api/customers"))
        .and(query_param("phone", "+15551234567"))
        .and(header("authorization", "Bearer sk-test-123"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"customer": {"name": "Grace"}})),
        )
        .mount(&server)
        .await;
    let context = context();

    let response = calls::lookup_customer(&client_for(&server), &context)
        .await
        .expect("the call succeeds");
    let mut api = calls::ApiValues::default();
    api.record_lookup_customer(&response);

    assert_eq!(response.tier, None);
    assert_eq!(response.last_order, None);
    assert_eq!(
        calls::render_greeting(&context, &api),
        "Hello Grace! I see you're a  member. Your last order is .\n"
    );
}

#[tokio::test]
async fn a_failing_status_is_a_typed_error_naming_the_call() {
    let server = MockServer::start().await;
    Mock::given(path("/api/customers"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    let error = calls::lookup_customer(&client_for(&server), &context())
        .await
        .expect_err("a 503 is an error");

    assert!(
        matches!(
            error,
            apicall_runtime::Error::Status {
                call: "lookup_customer",
                status: 503
            }
        ),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("sk-test-123"));
}

#[tokio::test]
async fn build_rs_generated_calls_work_the_same() {
    let server = MockServer::start().await;
    Mock::given(path("/orders/42"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"order": {"status": "delivered"}})),
        )
        .mount(&server)
        .await;
    let context = apicall_examples::Context {
        caller_phone: "+1".to_owned(),
        api_key: Secret::new("k"),
    };
    let params = apicall_examples::OrderStatusParams {
        order_id: "42".to_owned(),
    };

    let response = apicall_examples::order_status(&client_for(&server), &context, &params)
        .await
        .expect("the call succeeds");

    assert_eq!(response.order_status.as_deref(), Some("delivered"));
}

#[test]
fn a_strict_render_names_the_values_it_would_leave_blank() {
    let context = context();
    let mut api = calls::ApiValues {
        customer_name: Some("Ada".to_owned()),
        ..calls::ApiValues::default()
    };
    let error = calls::try_render_greeting(&context, &api).unwrap_err();
    assert_eq!(error.variables, ["tier", "last_order"]);
    assert_eq!(
        error.to_string(),
        "prompt `greeting` needs values no call has extracted yet: tier, last_order"
    );
    api.tier = Some("gold".to_owned());
    api.last_order = Some("A-1".to_owned());
    assert_eq!(
        calls::try_render_greeting(&context, &api).unwrap(),
        calls::render_greeting(&context, &api)
    );
}
