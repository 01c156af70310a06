//! Post-call webhooks from `fixtures/webhooks.yaml`, delivered to a real receiver on
//! 127.0.0.1 that verifies signatures and drops duplicates by idempotency key, as a user's
//! service would.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apicall_runtime::{
    Client, Conversation, Delivered, Error, IDEMPOTENCY_KEY_HEADER, Outcome, SIGNATURE_HEADER,
    Secret, TIMESTAMP_HEADER, Verifier, WebhookError,
};
use apicall_tests::webhooks::{ApiValues, Context, Session};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const API_KEY: &str = "sk-live-crm-5e4d3c2b1a";
const WEBHOOK_SECRET: &str = "whsec-7a6b5c4d3e2f";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
    verified: bool,
}

/// The webhook that `crm_summary` sends; `audit_log` goes to `/events`.
const CRM: &str = "/customers";

/// What the receiver answers next: statuses queued by a test for a path, then 200.
#[derive(Default)]
struct Receiver {
    script: Mutex<VecDeque<(&'static str, StatusCode, Option<&'static str>)>>,
    received: Mutex<Vec<Received>>,
    /// Idempotency keys already acted on.
    seen_keys: Mutex<HashSet<String>>,
    /// Webhooks acted on: each key once, however often it arrives.
    processed: Mutex<Vec<Value>>,
}

impl Receiver {
    /// Queues an answer for the next request whose path starts with `path`.
    fn answer_next(&self, path: &'static str, status: u16, retry_after: Option<&'static str>) {
        self.script.lock().unwrap().push_back((
            path,
            StatusCode::from_u16(status).unwrap(),
            retry_after,
        ));
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn received_at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.uri.path().starts_with(path))
            .collect()
    }

    fn processed(&self) -> Vec<Value> {
        self.processed.lock().unwrap().clone()
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified = Verifier::new(Secret::new(WEBHOOK_SECRET))
        .verify(&headers, &body)
        .is_ok();
    let path = uri.path().to_owned();
    receiver.received.lock().unwrap().push(Received {
        uri,
        headers: headers.clone(),
        body: body.clone(),
        at: Instant::now(),
        verified,
    });
    // Acted on before answering: a 5xx from the script is "processed, but the answer got
    // lost", the case an idempotency key exists for.
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if receiver.seen_keys.lock().unwrap().insert(key) {
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        receiver.processed.lock().unwrap().push(body);
    }
    let next = {
        let mut script = receiver.script.lock().unwrap();
        let index = script
            .iter()
            .position(|(prefix, ..)| path.starts_with(prefix));
        index.and_then(|index| script.remove(index))
    };
    match next {
        Some((_, status, retry_after)) => {
            let mut response = status.into_response();
            if let Some(retry_after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static(retry_after));
            }
            response
        }
        None => StatusCode::OK.into_response(),
    }
}

async fn start_receiver() -> (Arc<Receiver>, Client) {
    let receiver = Arc::new(Receiver::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::new()
        .with_base_url(&format!("http://{address}"))
        .unwrap()
        .with_webhook_backoff(Duration::from_millis(20));
    (receiver, client)
}

fn session() -> Session {
    let mut session = Session::new(Context {
        caller_phone: "+15550100".into(),
        api_key: Secret::new(API_KEY),
        webhook_secret: Secret::new(WEBHOOK_SECRET),
        agent_id: 42,
    });
    session.conversation = Conversation::with_id("CA-1001");
    session.api = ApiValues {
        customer_id: Some("C/7".into()),
        customer_name: Some("Ada Lovelace".into()),
        open_orders: Some(2),
    };
    session
}

fn delivered(result: &Result<Delivered, WebhookError>) -> &Delivered {
    result.as_ref().expect("delivered")
}

#[tokio::test]
async fn the_conversation_ends_with_signed_webhooks_the_receiver_verifies() {
    let (receiver, client) = start_receiver().await;
    let session = session();
    let started = session.conversation.started_at_ms;

    let results = session.finish(&client, Outcome::Completed).wait().await;

    assert_eq!(results.len(), 2, "{results:?}");
    let summary = delivered(&results[0]);
    assert_eq!(summary.webhook, "crm_summary");
    assert_eq!(summary.status, 200);
    assert_eq!(summary.attempts, 1);
    assert_eq!(summary.idempotency_key, "CA-1001:crm_summary");
    assert_eq!(delivered(&results[1]).webhook, "audit_log");

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let crm = received
        .iter()
        .find(|r| r.uri.path().starts_with("/customers"))
        .expect("the CRM webhook arrived");
    // The `api.*` value is one path segment; the query keeps its context value.
    assert_eq!(crm.uri.path(), "/customers/C%2F7/calls");
    assert_eq!(crm.uri.query(), Some("source=agent-42"));
    assert!(
        crm.verified,
        "the signature verifies with the shared secret"
    );
    assert_eq!(crm.headers["content-type"], "application/json");
    assert_eq!(crm.headers["authorization"], format!("Bearer {API_KEY}"));
    assert_eq!(crm.headers["x-conversation"], "CA-1001");
    assert_eq!(crm.headers[IDEMPOTENCY_KEY_HEADER], "CA-1001:crm_summary");
    let timestamp: u64 = crm.headers[TIMESTAMP_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        timestamp.abs_diff(started / 1000) <= 5,
        "{timestamp} vs {started}"
    );
    assert!(
        crm.headers[SIGNATURE_HEADER]
            .to_str()
            .unwrap()
            .starts_with("v1=")
    );

    let body: Value = serde_json::from_slice(&crm.body).unwrap();
    let duration = body["duration_ms"]
        .as_u64()
        .expect("duration is a JSON number");
    assert!(duration < 10_000, "{duration}");
    assert_eq!(body["caller"], "+15550100");
    assert_eq!(body["customer"], "Ada Lovelace");
    assert_eq!(body["open_orders"], 2);
    assert_eq!(body["agent"], 42);
    assert_eq!(body["outcome"], "completed");
    assert_eq!(body["tags"], json!(["voice", "completed"]));
    assert_eq!(body["version"], 1);
    assert_eq!(
        body["summary"],
        format!("+15550100 talked for {duration} ms (completed)")
    );
    for field in ["started_at", "ended_at"] {
        let text = body[field].as_str().unwrap();
        assert!(
            text.len() == 24 && text.ends_with('Z') && text.as_bytes()[10] == b'T',
            "{field}: {text}"
        );
    }

    // No body in the YAML: every fact and every `api.*` value. No secret: unsigned.
    let audit = received
        .iter()
        .find(|r| r.uri.path() == "/events")
        .expect("the audit webhook arrived");
    assert!(!audit.headers.contains_key(SIGNATURE_HEADER));
    assert!(!audit.headers.contains_key(TIMESTAMP_HEADER));
    assert_eq!(audit.headers[IDEMPOTENCY_KEY_HEADER], "CA-1001:audit_log");
    let audit: Value = serde_json::from_slice(&audit.body).unwrap();
    assert_eq!(audit["call"]["id"], "CA-1001");
    assert_eq!(audit["call"]["outcome"], "completed");
    assert_eq!(audit["call"]["duration_ms"], duration);
    assert_eq!(
        audit["api"],
        json!({ "customer_id": "C/7", "customer_name": "Ada Lovelace", "open_orders": 2 })
    );
}

#[tokio::test]
async fn a_receiver_rejects_a_tampered_or_replayed_webhook() {
    let (receiver, client) = start_receiver().await;
    let results = session().finish(&client, Outcome::Transferred).wait().await;
    delivered(&results[0]);
    let crm = receiver
        .received()
        .into_iter()
        .find(|r| r.uri.path().starts_with("/customers"))
        .unwrap();
    let verifier = Verifier::new(Secret::new(WEBHOOK_SECRET));
    assert_eq!(verifier.verify(&crm.headers, &crm.body), Ok(()));

    let tampered = String::from_utf8(crm.body.to_vec())
        .unwrap()
        .replace("transferred", "completed");
    assert_eq!(
        verifier.verify(&crm.headers, tampered.as_bytes()),
        Err(apicall_runtime::VerifyError::Mismatch)
    );
    let wrong_secret = Verifier::new(Secret::new("whsec-guess"));
    assert_eq!(
        wrong_secret.verify(&crm.headers, &crm.body),
        Err(apicall_runtime::VerifyError::Mismatch)
    );
    // The same webhook an hour later is a replay.
    let timestamp = crm.headers[TIMESTAMP_HEADER].to_str().unwrap();
    let signature = crm.headers[SIGNATURE_HEADER].to_str().unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    assert!(matches!(
        verifier.verify_at(timestamp, signature, &crm.body, later),
        Err(apicall_runtime::VerifyError::OutsideTolerance { .. })
    ));
}

#[tokio::test]
async fn a_503_is_retried_and_the_retry_is_delivered() {
    let (receiver, client) = start_receiver().await;
    receiver.answer_next(CRM, 503, None);

    let results = session().finish(&client, Outcome::Completed).wait().await;

    let summary = delivered(&results[0]);
    assert_eq!(summary.attempts, 2);
    assert_eq!(delivered(&results[1]).attempts, 1);
    let attempts = receiver.received_at(CRM);
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        attempts[0].body, attempts[1].body,
        "the same body each time"
    );
    assert_eq!(
        attempts[0].headers[IDEMPOTENCY_KEY_HEADER],
        attempts[1].headers[IDEMPOTENCY_KEY_HEADER]
    );
    assert!(
        attempts.iter().all(|a| a.verified),
        "each attempt is signed"
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (receiver, client) = start_receiver().await;
    receiver.answer_next(CRM, 429, Some("1"));

    let results = session().finish(&client, Outcome::Completed).wait().await;

    assert_eq!(delivered(&results[0]).attempts, 2);
    let attempts = receiver.received_at(CRM);
    let waited = attempts[1].at - attempts[0].at;
    // The client's backoff is 20 ms; the receiver asked for a second.
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
}

#[tokio::test]
async fn delivery_gives_up_after_the_retry_budget() {
    let (receiver, client) = start_receiver().await;
    for _ in 0..5 {
        receiver.answer_next(CRM, 500, None);
    }

    let results = session().finish(&client, Outcome::Failed).wait().await;

    // `retries: 2`: three attempts, then a typed error naming the last failure.
    match &results[0] {
        Err(WebhookError::GaveUp {
            webhook: "crm_summary",
            attempts: 3,
            last: Error::Status { status: 500, .. },
        }) => {}
        other => panic!("expected GaveUp after 3 attempts, got {other:?}"),
    }
    assert_eq!(receiver.received_at(CRM).len(), 3);
    // The other webhook is unaffected.
    assert_eq!(delivered(&results[1]).webhook, "audit_log");
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let (receiver, client) = start_receiver().await;
    receiver.answer_next(CRM, 400, None);

    let results = session().finish(&client, Outcome::Completed).wait().await;

    assert!(
        matches!(
            results[0],
            Err(WebhookError::Rejected {
                webhook: "crm_summary",
                status: 400,
                attempts: 1
            })
        ),
        "{results:?}"
    );
    assert_eq!(receiver.received_at(CRM).len(), 1);
}

#[tokio::test]
async fn an_unreachable_receiver_is_a_connect_failure_after_retries() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let client = Client::new()
        .with_base_url(&format!("http://{address}"))
        .unwrap()
        .with_webhook_backoff(Duration::from_millis(10));

    let results = session().finish(&client, Outcome::Completed).wait().await;

    assert!(
        matches!(
            results[0],
            Err(WebhookError::GaveUp {
                attempts: 3,
                last: Error::Connect { .. },
                ..
            })
        ),
        "{results:?}"
    );
    assert!(
        matches!(
            results[1],
            Err(WebhookError::GaveUp {
                attempts: 1,
                last: Error::Connect { .. },
                ..
            })
        ),
        "{results:?}"
    );
}

#[tokio::test]
async fn the_receiver_drops_duplicates_by_idempotency_key() {
    let (receiver, client) = start_receiver().await;
    // Processed, but the answer is lost: the sender retries the same webhook.
    receiver.answer_next(CRM, 502, None);
    let session = session();

    let first = session.finish(&client, Outcome::Completed).wait().await;
    // The agent ends the same conversation again (a retried job, say).
    let second = session.finish(&client, Outcome::Completed).wait().await;

    assert_eq!(delivered(&first[0]).attempts, 2);
    assert_eq!(delivered(&second[0]).attempts, 1);
    let arrived = receiver.received_at(CRM);
    assert_eq!(arrived.len(), 3, "three requests arrived");
    assert!(
        arrived
            .iter()
            .all(|r| r.headers[IDEMPOTENCY_KEY_HEADER] == "CA-1001:crm_summary"),
        "all with the same key"
    );
    let processed: Vec<Value> = receiver
        .processed()
        .into_iter()
        .filter(|body| body.get("caller").is_some())
        .collect();
    assert_eq!(processed.len(), 1, "acted on once");

    // Another conversation is another key, and is processed.
    let mut other = session.clone();
    other.conversation = Conversation::with_id("CA-1002");
    delivered(&other.finish(&client, Outcome::Completed).wait().await[0]);
    let processed = receiver
        .processed()
        .into_iter()
        .filter(|body| body.get("caller").is_some())
        .count();
    assert_eq!(processed, 2);
}

#[tokio::test]
async fn a_restored_session_without_its_secrets_does_not_send_unsigned() {
    let (receiver, client) = start_receiver().await;
    let saved = serde_json::to_string(&session()).unwrap();
    assert!(!saved.contains(WEBHOOK_SECRET));
    let restored: Session = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        restored.conversation.id, "CA-1001",
        "the conversation survives"
    );

    let results = restored.finish(&client, Outcome::Completed).wait().await;

    assert!(
        matches!(
            results[0],
            Err(WebhookError::MissingSigningKey {
                webhook: "crm_summary"
            })
        ),
        "{results:?}"
    );
    assert!(receiver.received_at(CRM).is_empty(), "nothing was sent");
    delivered(&results[1]);
}

#[tokio::test]
async fn a_url_value_no_call_extracted_stops_only_that_webhook() {
    let (receiver, client) = start_receiver().await;
    let mut session = session();
    session.api.customer_id = None;

    let results = session.finish(&client, Outcome::Abandoned).wait().await;

    assert!(
        matches!(
            &results[0],
            Err(WebhookError::NotSent {
                webhook: "crm_summary",
                source: Error::MissingValue {
                    variable: "customer_id",
                    ..
                },
            })
        ),
        "{results:?}"
    );
    assert!(receiver.received_at(CRM).is_empty());
    let audit: Value = serde_json::from_slice(&receiver.received_at("/events")[0].body).unwrap();
    assert_eq!(audit["api"]["customer_id"], Value::Null);
    assert_eq!(audit["call"]["outcome"], "abandoned");
}

#[tokio::test]
async fn finishing_does_not_wait_for_delivery() {
    let (receiver, client) = start_receiver().await;
    // The receiver wants a second before the retry; `finish` returns at once all the same.
    receiver.answer_next(CRM, 503, Some("1"));
    let started = Instant::now();
    let delivery = session().finish(&client, Outcome::Completed);
    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(!delivery.is_finished());
    let results = delivery.wait().await;
    assert_eq!(delivered(&results[0]).attempts, 2);
}

#[test]
fn finishing_outside_a_runtime_is_an_error_not_a_panic() {
    let client = Client::new();
    let delivery = session().finish(&client, Outcome::Completed);
    assert!(delivery.is_finished());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let results = runtime.block_on(delivery.wait());
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(WebhookError::NoRuntime { .. }))),
        "{results:?}"
    );
}

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
async fn secrets_stay_out_of_logs_and_errors() {
    let (receiver, client) = start_receiver().await;
    for _ in 0..3 {
        receiver.answer_next(CRM, 503, None);
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: the delivery task runs on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let conversation = tracing::info_span!("conversation", id = "CA-1001");

    let delivery = conversation.in_scope(|| session().finish(&client, Outcome::Completed));
    let results = delivery.wait().await;

    let traced = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The background delivery is traced under the span `finish` was called in.
    assert!(
        traced.contains("conversation{id=\"CA-1001\"}:apicall.webhook"),
        "{traced}"
    );
    assert!(traced.contains("crm_summary"), "{traced}");
    assert!(traced.contains("retrying"), "{traced}");
    assert!(traced.contains("webhook not delivered"), "{traced}");
    let signature = receiver.received_at(CRM)[0].headers[SIGNATURE_HEADER]
        .to_str()
        .unwrap()
        .to_owned();
    let shown = [
        traced,
        format!("{results:?}"),
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| format!("{e} / {:?}", std::error::Error::source(e)))
            .collect(),
        format!("{:?}", session()),
    ];
    for text in shown {
        for secret in [API_KEY, WEBHOOK_SECRET, signature.as_str()] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}
