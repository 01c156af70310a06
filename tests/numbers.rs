//! Numbers keep every digit, both ways: a YAML body's literals reach the server as written,
//! and a response number extracted as a string is its JSON text. Against a real server.

use apicall_runtime::Client;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod calls {
    apicall_macros::include_api_calls!("fixtures/numbers.yaml");
}

#[tokio::test]
async fn body_literals_are_sent_digit_for_digit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = Client::new().with_base_url(&server.uri()).unwrap();

    calls::record_payment(&client, &calls::Context {})
        .await
        .expect("the call succeeds");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&requests[0].body),
        concat!(
            r#"{"ledger_id":98765432109876543210,"debit":-98765432109876543210,"#,
            r#""tiny":-1.5e-7,"huge":1E+400,"exact":0.1000000000000000055511151231257827,"#,
            r#""plain":1.10,"hex":31,"list":[12345678901234567890123,1]}"#
        )
    );
}

#[tokio::test]
async fn numbers_extracted_as_strings_are_their_json_text() {
    let server = MockServer::start().await;
    let body = r#"{"payment": {"ledger_id": 98765432109876543210, "debit": -98765432109876543210,
        "exponent": 12345678901234567890123e5, "decimal": 0.1000000000000000055511151231257827}}"#;
    Mock::given(method("GET"))
        .and(path("/payments/latest"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = Client::new().with_base_url(&server.uri()).unwrap();

    let payment = calls::fetch_payment(&client, &calls::Context {})
        .await
        .expect("the call succeeds");

    assert_eq!(payment.ledger_id.as_deref(), Some("98765432109876543210"));
    assert_eq!(payment.debit.as_deref(), Some("-98765432109876543210"));
    assert_eq!(
        payment.exponent.as_deref(),
        Some("12345678901234567890123e5")
    );
    assert_eq!(
        payment.decimal.as_deref(),
        Some("0.1000000000000000055511151231257827")
    );
}
