//! No token or secret reaches a trace, a `Debug` or an error. In a test binary of its own:
//! tracing caches each callsite's interest process-wide, and a test running beside it on
//! another thread with no subscriber could have those events cached as unwanted.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::oauth2_server::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_and_secrets_never_reach_traces_or_debug() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (server, base) = start(issuing(Some(3600))).await;
    let client = client(&base);
    call(&client).await.unwrap();
    // A refused token: the retry is traced too.
    *server.accepted.lock().unwrap() = Some("not-yet-issued".to_owned());
    call(&client).await.unwrap();
    // A failing token endpoint.
    *server.answer.lock().unwrap() = Answer::Fixed(500, "tok-1 s3cr+t/:é");
    *server.refuse_all.lock().unwrap() = true;
    let error = call(&client).await.unwrap_err();

    let traced = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for event in [
        "fetching an access token",
        "access token fetched",
        "access token refused; retrying with a fresh one",
        "crm_oauth",
    ] {
        assert!(traced.contains(event), "{event} not traced: {traced}");
    }
    for shown in [traced, format!("{client:?}"), format!("{error} {error:?}")] {
        for secret in [CLIENT_SECRET, "tok-1", "tok-2", EXPECTED_BASIC] {
            assert!(!shown.contains(secret), "{secret} leaked into: {shown}");
        }
    }
    assert!(format!("{client:?}").contains("entries: 1"));
}
