//! HMAC request signatures and HTTP Basic against a real server (axum on 127.0.0.1:0) that
//! recomputes what it receives: the signature covers the exact body bytes sent and a timestamp
//! taken at each attempt.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apicall_runtime::auth::{HmacSpec, PayloadPart, SignatureEncoding, ValuePart};
use apicall_runtime::call::{CallSpec, JsonText, Method, Request};
use apicall_runtime::{Client, Error, Secret};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use base64::Engine as _;
use hmac::{KeyInit, Mac};

const KEY: &str = "whsec-signing-key-42";

static STRIPE_LIKE: HmacSpec = HmacSpec {
    scheme: "signed",
    header: "X-Signature",
    timestamp_header: Some("X-Timestamp"),
    payload: &[
        PayloadPart::Timestamp,
        PayloadPart::Text("."),
        PayloadPart::Body,
    ],
    encoding: SignatureEncoding::Hex,
    value: &[ValuePart::Signature],
};

static BODY_ONLY: HmacSpec = HmacSpec {
    scheme: "body_signed",
    header: "X-Hub-Signature",
    timestamp_header: None,
    payload: &[PayloadPart::Text("v0:"), PayloadPart::Body],
    encoding: SignatureEncoding::Base64,
    value: &[ValuePart::Text("sha256="), ValuePart::Signature],
};

/// Stripe's own layout: no timestamp header, the timestamp inside the signature header.
static STRIPE_HEADER: HmacSpec = HmacSpec {
    scheme: "stripe",
    header: "Stripe-Signature",
    timestamp_header: None,
    payload: &[
        PayloadPart::Timestamp,
        PayloadPart::Text("."),
        PayloadPart::Body,
    ],
    encoding: SignatureEncoding::Hex,
    value: &[
        ValuePart::Text("t="),
        ValuePart::Timestamp,
        ValuePart::Text(",v1="),
        ValuePart::Signature,
    ],
};

/// One received request: its headers and exact body bytes.
type Received = (HeaderMap, Bytes);

#[derive(Default)]
struct Server {
    received: Mutex<Vec<Received>>,
    /// Statuses for the first requests (then 200); a 503 is held until the wall clock's second
    /// changes, so the retry is in a later second.
    statuses: Mutex<Vec<u16>>,
}

async fn record(State(server): State<Arc<Server>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    server.received.lock().unwrap().push((headers, body));
    let status = {
        let mut statuses = server.statuses.lock().unwrap();
        if statuses.is_empty() {
            200
        } else {
            statuses.remove(0)
        }
    };
    if status == 503 {
        let second = unix_seconds();
        while unix_seconds() == second {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    StatusCode::from_u16(status).unwrap()
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn start() -> (Arc<Server>, Client) {
    let server = Arc::new(Server::default());
    let app = Router::new()
        .route("/{*path}", any(record))
        .with_state(Arc::clone(&server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = Client::new()
        .with_base_url(&format!("http://{address}"))
        .unwrap();
    (server, client)
}

/// HMAC-SHA256 of `message` under `KEY`, by the `hmac` crate directly.
fn expected(message: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize().as_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

/// Checks a `{timestamp}.{body}` hex signature as the receiving API would; gives the timestamp.
fn verify_stripe_like(headers: &HeaderMap, body: &[u8]) -> u64 {
    let timestamp = text(headers, "x-timestamp").expect("the timestamp header is sent");
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    assert_eq!(
        text(headers, "x-signature").as_deref(),
        Some(hex(&expected(&message)).as_str()),
        "the signature covers the timestamp and the exact body"
    );
    assert_eq!(headers.get_all("x-signature").iter().count(), 1);
    timestamp.parse().unwrap()
}

#[tokio::test]
async fn the_signature_covers_the_timestamp_and_the_exact_body_sent() {
    static SPEC: CallSpec = CallSpec {
        name: "create_order",
        method: Method::Post,
        timeout_ms: 5000,
        retries: 0,
    };
    let (server, client) = start().await;
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://api.example.com/orders");
    // Numbers kept digit for digit, non-ASCII text: the signed bytes are the sent bytes.
    let mut body = JsonText::with_capacity(64);
    body.raw(r#"{"amount":1.50,"big":98765432109876543210,"note":"café"}"#);
    request.json_body_text(body);
    // A YAML header of the same name is replaced, not joined.
    request.header("X-Signature", "from-yaml", false);
    request.hmac_signature(&STRIPE_LIKE, &Secret::new(KEY));
    request.send().await.unwrap();

    let received = server.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    assert_eq!(
        &body[..],
        r#"{"amount":1.50,"big":98765432109876543210,"note":"café"}"#.as_bytes()
    );
    let timestamp = verify_stripe_like(headers, body);
    assert!(unix_seconds().abs_diff(timestamp) <= 5, "{timestamp}");
}

/// Sends one PUT signed with `spec`, answered 503 and then (in a later second) 200: what the
/// server received in the two attempts.
async fn signed_and_retried(spec: &'static HmacSpec) -> Vec<Received> {
    static SPEC: CallSpec = CallSpec {
        name: "put_order",
        method: Method::Put,
        timeout_ms: 6000,
        retries: 2,
    };
    let (server, client) = start().await;
    *server.statuses.lock().unwrap() = vec![503];
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://api.example.com/orders/7");
    request.json_body(&serde_json::json!({"status": "shipped"}));
    request.hmac_signature(spec, &Secret::new(KEY));
    request.send().await.unwrap();
    let received = server.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    received
}

#[tokio::test]
async fn each_retry_is_signed_again_with_a_fresh_timestamp() {
    let received = signed_and_retried(&STRIPE_LIKE).await;
    let first = verify_stripe_like(&received[0].0, &received[0].1);
    let second = verify_stripe_like(&received[1].0, &received[1].1);
    assert!(second > first, "{first} then {second}");
    assert_ne!(
        text(&received[0].0, "x-signature"),
        text(&received[1].0, "x-signature")
    );
}

#[tokio::test]
async fn base64_signatures_without_a_timestamp_and_without_a_body() {
    static GET: CallSpec = CallSpec {
        name: "get_order",
        method: Method::Get,
        timeout_ms: 5000,
        retries: 0,
    };
    let (server, client) = start().await;
    let mut request = Request::new(&client, &GET);
    request.push_url_raw("https://api.example.com/orders/7");
    request.hmac_signature(&BODY_ONLY, &Secret::new(KEY));
    request.send().await.unwrap();

    let received = server.received.lock().unwrap().clone();
    let (headers, body) = &received[0];
    assert!(body.is_empty());
    assert_eq!(headers.get("x-timestamp"), None);
    let expected = base64::engine::general_purpose::STANDARD.encode(expected(b"v0:"));
    assert_eq!(
        text(headers, "x-hub-signature"),
        Some(format!("sha256={expected}")),
        "the value's text before the signature"
    );
}

#[tokio::test]
async fn the_header_names_the_timestamp_it_signed_in_each_attempt() {
    let received = signed_and_retried(&STRIPE_HEADER).await;
    let mut signed_at = Vec::new();
    for (headers, body) in &received {
        let value = text(headers, "stripe-signature").expect("the signature header is sent");
        let (timestamp, signature) = value
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .unwrap_or_else(|| panic!("not `t=<seconds>,v1=<hex>`: {value}"));
        let mut message = format!("{timestamp}.").into_bytes();
        message.extend_from_slice(body);
        assert_eq!(signature, hex(&expected(&message)));
        assert_eq!(headers.get("x-timestamp"), None);
        signed_at.push(timestamp.parse::<u64>().unwrap());
    }
    assert!(signed_at[1] > signed_at[0], "{signed_at:?}");
}

#[tokio::test]
async fn basic_credentials_follow_rfc_7617() {
    static GET: CallSpec = CallSpec {
        name: "get_order",
        method: Method::Get,
        timeout_ms: 5000,
        retries: 0,
    };
    let (server, client) = start().await;
    let mut request = Request::new(&client, &GET);
    request.push_url_raw("https://api.example.com/orders/7");
    request.header("Authorization", "Bearer from-yaml", true);
    // A colon in the password is fine; only the username must not have one.
    request.basic_auth("user", &Secret::new("päss:word"));
    request.send().await.unwrap();

    let received = server.received.lock().unwrap().clone();
    let headers = &received[0].0;
    // `printf 'user:päss:word' | base64`
    let sent: Vec<_> = headers.get_all("authorization").iter().collect();
    assert_eq!(sent, ["Basic dXNlcjpww6Rzczp3b3Jk"]);

    // An empty password (an API key as the username) is sent as such.
    let mut request = Request::new(&client, &GET);
    request.push_url_raw("https://api.example.com/orders/7");
    request.basic_auth("sk_test_123", &Secret::new(""));
    request.send().await.unwrap();
    let received = server.received.lock().unwrap().clone();
    // `printf 'sk_test_123:' | base64`
    assert_eq!(
        text(&received[1].0, "authorization").as_deref(),
        Some("Basic c2tfdGVzdF8xMjM6")
    );
}

/// Gives a request its (unusable) credentials.
type Configure = fn(&mut Request<'_>);

#[tokio::test]
async fn unusable_credentials_are_refused_before_anything_is_sent() {
    static GET: CallSpec = CallSpec {
        name: "get_order",
        method: Method::Get,
        timeout_ms: 5000,
        retries: 0,
    };
    let (server, client) = start().await;
    let attempts: [(&str, Configure); 3] = [
        ("basic", |request| {
            request.basic_auth("user:name", &Secret::new("pw"));
        }),
        ("basic", |request| {
            request.basic_auth("user", &Secret::new("p\nw"));
        }),
        ("signed", |request| {
            request.hmac_signature(&STRIPE_LIKE, &Secret::new(""));
        }),
    ];
    for (scheme, configure) in attempts {
        let mut request = Request::new(&client, &GET);
        request.push_url_raw("https://api.example.com/orders/7");
        configure(&mut request);
        let error = request.send().await.unwrap_err();
        match &error {
            Error::InvalidCredentials {
                call: "get_order",
                scheme: refused,
                ..
            } => assert_eq!(*refused, scheme),
            other => panic!("{other:?}"),
        }
        assert!(!error.to_string().contains("p\nw"));
    }
    assert!(server.received.lock().unwrap().is_empty());
}
