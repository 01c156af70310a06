//! `Client::new()` from several Tokio runtimes in one process, as a test suite of
//! `#[tokio::test]`s does: a connection pooled by a runtime that has shut down must not be
//! handed to the next one (it failed with "runtime dropped the dispatch task").

use apicall_runtime::Client;
use apicall_runtime::call::{CallSpec, Method, Request};
use wiremock::{Mock, MockServer, ResponseTemplate};

static SPEC: CallSpec = CallSpec {
    name: "ping",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 0,
};

/// The race the test suites hit: one runtime shuts down while another is about to reuse the
/// connection it pooled. Before clients were per runtime this failed within a few rounds.
#[test]
fn a_runtime_shutting_down_does_not_break_calls_from_another() {
    let server_runtime = tokio::runtime::Runtime::new().unwrap();
    let server = server_runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        server
    });
    let url = format!("{}/ping", server.uri());
    let call = |url: String| async move {
        let client = Client::new();
        let mut request = Request::new(&client, &SPEC);
        request.push_url_raw(&url);
        request.send().await
    };
    for round in 0..40 {
        let first = tokio::runtime::Runtime::new().unwrap();
        assert!(first.block_on(call(url.clone())).is_ok(), "round {round}");
        let second = tokio::runtime::Runtime::new().unwrap();
        let shutdown = std::thread::spawn(move || drop(first));
        let result = second.block_on(call(url.clone()));
        shutdown.join().unwrap();
        assert!(result.is_ok(), "round {round}: {result:?}");
    }
    drop(server);
}
