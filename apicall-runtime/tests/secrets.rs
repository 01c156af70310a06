//! A failing call that carries a secret in a header and in the query: the secret appears in
//! none of the error's `Display` or `Debug`, nor in anything traced while the call ran.

use std::io::Write;
use std::sync::{Arc, Mutex};

use apicall_runtime::call::{CallSpec, Method, Request};
use apicall_runtime::{Client, Secret};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "sk-live-9f8e7d6c5b4a";

static SPEC: CallSpec = CallSpec {
    name: "lookup_customer",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 1,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_errors_or_traces() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let secret = Secret::new(SECRET);

    let client = Client::new();
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw(&format!("{}/api/customers?key=", server.uri()));
    request.push_query_value(secret.expose());
    request.query("token", secret.expose());
    request.header(
        "Authorization",
        &format!("Bearer {}", secret.expose()),
        true,
    );
    let error = request.send().await.expect_err("the server answers 503");

    let traced = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        traced.contains("apicall.call"),
        "the call was traced: {traced}"
    );
    assert!(traced.contains("lookup_customer"), "{traced}");
    assert!(
        traced.contains("retrying"),
        "the retry was traced: {traced}"
    );
    for shown in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{:?}", std::error::Error::source(&error)),
        format!("{secret:?}"),
        traced,
    ] {
        assert!(!shown.contains(SECRET), "secret leaked into: {shown}");
    }
    // The server did receive it: redaction is about what we print, not what we send.
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].headers.get("authorization").unwrap().as_bytes(),
        format!("Bearer {SECRET}").as_bytes()
    );
}
