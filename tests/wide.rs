//! A call extracting 6,000 values (`wide.yaml`, written by build.rs). rustc overflowed its
//! stack on the derived `PartialEq` and `Serialize` of structs this wide, and took 24 GB on
//! the response struct's literal; the generated impls written instead must still behave as
//! the derives did. Against a real server.

use apicall_runtime::{Client, Error, ToolCall};
use apicall_tests::wide;
use serde_json::{Map, Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const VALUES: usize = 6_000;

/// The JSON each field `f{i}` reads, by its type (see build.rs).
fn value(i: usize) -> Value {
    match i % 4 {
        0 => json!(format!("text {i}")),
        1 => json!(i),
        2 => json!(i as f64 + 0.5),
        _ => json!(i.is_multiple_of(3)),
    }
}

fn record() -> Map<String, Value> {
    (0..VALUES).map(|i| (format!("f{i}"), value(i))).collect()
}

async fn serve(record: Map<String, Value>) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(path("/wide"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "record": record })))
        .mount(&server)
        .await;
    let client = Client::new().with_base_url(&server.uri()).unwrap();
    (server, client)
}

#[tokio::test]
async fn every_value_is_extracted_compared_and_serialized_by_name() {
    let (_server, client) = serve(record()).await;

    let response = wide::wide_lookup(&client, &wide::Context {})
        .await
        .expect("the call succeeds");

    assert_eq!(response.f0.as_deref(), Some("text 0"));
    assert_eq!(response.f9, 9);
    assert_eq!(response.f5998, Some(5998.5));
    assert_eq!(response.f5999, 5999_usize.is_multiple_of(3));
    // Serialized field by field, in order, as the derive would: every value under its name.
    let serialized = serde_json::to_value(&response).unwrap();
    assert_eq!(serialized, Value::Object(record()));
    let text = serde_json::to_string(&response).unwrap();
    assert!(
        text.starts_with(r#"{"f0":"text 0","f1":1,"#),
        "{}",
        &text[..40]
    );

    let mut changed = response.clone();
    assert_eq!(changed, response);
    changed.f5999 = !changed.f5999;
    assert_ne!(changed, response, "the last field is compared");
    let mut changed = response.clone();
    changed.f0 = None;
    assert_ne!(changed, response, "the first field is compared");

    let shown = format!("{response:?}");
    assert!(shown.starts_with("WideLookupResponse { f0: Some(\"text 0\"), f1: Some(1),"));
    assert!(
        shown.ends_with(", f5999: false }"),
        "{}",
        &shown[shown.len() - 40..]
    );
}

/// Runs `test` on a thread with a 32 MiB stack. Unoptimised, a 6,000-value `ApiValues`
/// (85 KB) is copied many times over in a frame: the dispatcher's holds about 14 copies, and
/// serde_json's `deserialize_struct` 10, past the 2 MiB a test thread has. Optimised builds
/// keep a few; README "Performance" says what a file this wide costs.
fn on_a_big_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(test)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_session_keeps_every_value_and_survives_a_round_trip() {
    on_a_big_stack(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(session_round_trip());
    });
}

async fn session_round_trip() {
    let (_server, client) = serve(record()).await;
    let mut session = wide::Session::new(wide::Context {});

    let result = session
        .dispatch(
            &client,
            &ToolCall {
                id: Some("call_1".to_owned()),
                name: "wide_lookup".to_owned(),
                arguments: json!({}),
            },
        )
        .await;

    assert!(result.is_ok(), "{:?}", result.error);
    assert_eq!(session.api.f4.as_deref(), Some("text 4"));
    assert_eq!(session.api.f5999, Some(5999_usize.is_multiple_of(3)));
    let saved = serde_json::to_string(&session.api).unwrap();
    let restored: wide::ApiValues = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, session.api);
    assert_ne!(restored, wide::ApiValues::default());
}

#[test]
fn api_values_read_back_from_a_map_or_a_sequence_as_the_derive_would() {
    on_a_big_stack(read_back);
}

fn read_back() {
    let values: wide::ApiValues =
        serde_json::from_str(r#"{"f1": 7, "unknown": [1, {"x": 2}], "f5999": true, "f0": null}"#)
            .unwrap();
    assert_eq!(values.f0, None);
    assert_eq!(values.f1, Some(7));
    assert_eq!(values.f5999, Some(true));
    assert_eq!(values.f2, None, "absent is None");

    let values: wide::ApiValues = serde_json::from_str(r#"["first", 2]"#).unwrap();
    assert_eq!(values.f0.as_deref(), Some("first"));
    assert_eq!(values.f1, Some(2));
    assert_eq!(values.f2, None, "a short sequence leaves the rest None");

    let error = serde_json::from_str::<wide::ApiValues>(r#"{"f1": "seven"}"#).unwrap_err();
    assert!(error.to_string().contains("expected i64"), "{error}");
    let error = serde_json::from_str::<wide::ApiValues>("3").unwrap_err();
    assert!(error.to_string().contains("struct ApiValues"), "{error}");
}

#[tokio::test]
async fn the_first_failing_field_is_the_error() {
    let mut record = record();
    // f100 is a string and f4000 an integer; both are wrong here. f100 is read first.
    record.insert("f4000".to_owned(), json!("not a number"));
    record.insert("f100".to_owned(), json!({"an": "object"}));
    let (_server, client) = serve(record).await;

    let error = wide::wide_lookup(&client, &wide::Context {})
        .await
        .expect_err("f100 is an object");

    assert!(
        matches!(
            error,
            Error::WrongType {
                variable: "f100",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_missing_required_value_is_the_error() {
    let mut record = record();
    record.remove("f5999");
    let (_server, client) = serve(record).await;

    let error = wide::wide_lookup(&client, &wide::Context {})
        .await
        .expect_err("f5999 is required");

    assert!(
        matches!(
            error,
            Error::MissingRequired {
                variable: "f5999",
                ..
            }
        ),
        "{error:?}"
    );
}
