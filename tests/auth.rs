//! `auth:` schemes through the generated code, against real servers on 127.0.0.1: the OAuth2
//! token endpoint sees one client-credentials request for several calls and the API a bearer
//! token; Basic reaches the API as RFC 7617 says; an HMAC signature recomputed by the server
//! matches the exact body sent. Secrets appear in no error. (The runtime's own tests cover
//! single-flight, expiry, 401 renewal and mTLS: apicall-runtime/tests/auth_*.rs.)

use std::sync::{Arc, Mutex};

use apicall_runtime::{Client, Secret};
use apicall_tests::auth::{
    self, Context, LookupCustomerParams, PostEntryParams, RefundPaymentParams,
};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

/// Every request the server saw: method, path, headers, body.
type Seen = Arc<Mutex<Vec<(String, String, Vec<(String, String)>, String)>>>;

async fn server() -> (Client, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().fallback(move |request: Request| {
        let log = Arc::clone(&log);
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
                .collect();
            let path = parts.uri.path().to_owned();
            log.lock().unwrap().push((
                parts.method.to_string(),
                path.clone(),
                headers,
                String::from_utf8_lossy(&body).into_owned(),
            ));
            match path.as_str() {
                "/oauth2/token" => axum::Json(json!({
                    "access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600
                }))
                .into_response(),
                "/customers/C-7" if bearer(&parts.headers) => {
                    axum::Json(json!({"name": "Ada"})).into_response()
                }
                "/invoices" if basic(&parts.headers) => {
                    axum::Json(json!({"open": 2})).into_response()
                }
                "/entries" if signed(&parts.headers, &body) => {
                    axum::Json(json!({"id": "e-1"})).into_response()
                }
                "/refunds" if stripe_signed(&parts.headers, &body) => {
                    axum::Json(json!({"id": "re-1"})).into_response()
                }
                "/customers/C-7" | "/invoices" | "/entries" | "/refunds" => {
                    StatusCode::UNAUTHORIZED.into_response()
                }
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (Client::new().with_base_url(&base).unwrap(), seen)
}

/// The API's own checks, as a real one makes them.
fn bearer(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("authorization")
        .is_some_and(|v| v == "Bearer tok-123")
}

fn basic(headers: &axum::http::HeaderMap) -> bool {
    let expected = format!("Basic {}", base64("ada:pa:ss"));
    headers
        .get("authorization")
        .is_some_and(|v| *v == *expected)
}

fn signed(headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(timestamp), Some(signature)) =
        (text("x-ledger-timestamp"), text("x-ledger-signature"))
    else {
        return false;
    };
    let mut payload = format!("{timestamp}.").into_bytes();
    payload.extend_from_slice(body);
    signature == hmac_hex(b"ledger-key", &payload)
}

/// `Stripe-Signature: t=<seconds>,v1=<hex>`, checked as Stripe's libraries check it: the
/// signature over `<seconds>.<body>`.
fn stripe_signed(headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    let Some(value) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut timestamp = None;
    let mut signature = None;
    for item in value.split(',') {
        match item.split_once('=') {
            Some(("t", seconds)) => timestamp = Some(seconds),
            Some(("v1", hex)) => signature = Some(hex),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return false;
    };
    let mut payload = format!("{timestamp}.").into_bytes();
    payload.extend_from_slice(body);
    timestamp.parse::<u64>().is_ok() && signature == hmac_hex(b"ledger-key", &payload)
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn context() -> Context {
    Context {
        crm_client_id: "agent 7".into(),
        crm_client_secret: Secret::new("s3cr3t/+&"),
        billing_user: "ada".into(),
        billing_password: Secret::new("pa:ss"),
        ledger_key: Secret::new("ledger-key"),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn oauth2_fetches_one_token_and_sends_it_as_bearer() {
    let (client, seen) = server().await;
    let params = LookupCustomerParams {
        customer_id: "C-7".into(),
    };
    for _ in 0..3 {
        let response = auth::lookup_customer(&client, &context(), &params)
            .await
            .unwrap();
        assert_eq!(response.customer_name.as_deref(), Some("Ada"));
    }
    let seen = seen.lock().unwrap();
    let tokens: Vec<_> = seen.iter().filter(|r| r.1 == "/oauth2/token").collect();
    assert_eq!(tokens.len(), 1, "one token for three calls");
    let (method, _, headers, form) = tokens[0];
    assert_eq!(method, "POST");
    // RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
    assert_eq!(
        header(headers, "authorization"),
        Some(format!("Basic {}", base64("agent+7:s3cr3t%2F%2B%26")).as_str())
    );
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains("scope=customers.read+orders.read"), "{form}");
    let calls: Vec<_> = seen.iter().filter(|r| r.1 == "/customers/C-7").collect();
    assert_eq!(calls.len(), 3);
    for (_, _, headers, _) in calls {
        assert_eq!(header(headers, "authorization"), Some("Bearer tok-123"));
    }
}

#[tokio::test]
async fn basic_and_hmac_reach_the_api() {
    let (client, seen) = server().await;
    let response = auth::open_invoices(&client, &context()).await.unwrap();
    assert_eq!(response.open_invoices, Some(2));
    let entry = auth::post_entry(&client, &context(), &PostEntryParams { amount: 12.5 })
        .await
        .unwrap();
    assert_eq!(entry.entry_id.as_deref(), Some("e-1"));

    let seen = seen.lock().unwrap();
    let invoices = seen.iter().find(|r| r.1 == "/invoices").unwrap();
    assert_eq!(
        header(&invoices.2, "authorization"),
        Some(format!("Basic {}", base64("ada:pa:ss")).as_str())
    );
    let (_, _, headers, body) = seen.iter().find(|r| r.1 == "/entries").unwrap();
    let timestamp = header(headers, "x-ledger-timestamp").expect("timestamp header");
    let expected = hmac_hex(b"ledger-key", format!("{timestamp}.{body}").as_bytes());
    assert_eq!(
        header(headers, "x-ledger-signature"),
        Some(expected.as_str())
    );
    assert_eq!(body, &json!({"amount": 12.5}).to_string());
}

#[tokio::test]
async fn the_webhook_authenticates_with_its_scheme_and_errors_hold_no_secret() {
    let (client, seen) = server().await;
    let session = auth::Session::new(context());
    let delivered = session
        .finish(&client, apicall_runtime::Outcome::Completed)
        .wait()
        .await;
    // The stand-in answers 404 for summaries: the failure must not show the password.
    for result in &delivered {
        if let Err(error) = result {
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("pa:ss"), "{shown}");
        }
    }
    let seen = seen.lock().unwrap();
    let summary = seen.iter().find(|r| r.1 == "/summaries").expect("sent");
    assert_eq!(
        header(&summary.2, "authorization"),
        Some(format!("Basic {}", base64("ada:pa:ss")).as_str())
    );
}

#[tokio::test]
async fn a_stripe_style_signature_header_names_the_timestamp_it_signed() {
    let (client, seen) = server().await;
    let params = RefundPaymentParams {
        payment_id: "pi_42".into(),
    };
    let refund = auth::refund_payment(&client, &context(), &params)
        .await
        .unwrap();
    assert_eq!(refund.refund_id.as_deref(), Some("re-1"));
    {
        let seen = seen.lock().unwrap();
        let (_, _, headers, _) = seen.iter().find(|r| r.1 == "/refunds").unwrap();
        let value = header(headers, "stripe-signature").unwrap();
        assert!(value.starts_with("t=") && value.contains(",v1="), "{value}");
        // No timestamp header: the value carries it.
        assert_eq!(header(headers, "x-ledger-timestamp"), None);
    }

    let mut wrong = context();
    wrong.ledger_key = Secret::new("wrong-key");
    let refused = auth::refund_payment(&client, &wrong, &params)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, apicall_runtime::Error::Status { status: 401, .. }),
        "{refused:?}"
    );
}

/// Wrong credentials reach the API, which refuses them: a typed error that shows none of them.
#[tokio::test]
async fn wrong_credentials_are_refused_with_a_typed_error() {
    let (client, _) = server().await;
    let mut wrong = context();
    wrong.billing_password = Secret::new("wrong-password");
    wrong.ledger_key = Secret::new("wrong-key");
    let refused = auth::open_invoices(&client, &wrong).await.unwrap_err();
    assert!(
        matches!(refused, apicall_runtime::Error::Status { status: 401, .. }),
        "{refused:?}"
    );
    let unsigned = auth::post_entry(&client, &wrong, &PostEntryParams { amount: 1.0 })
        .await
        .unwrap_err();
    assert!(
        matches!(unsigned, apicall_runtime::Error::Status { status: 401, .. }),
        "{unsigned:?}"
    );
    for error in [refused, unsigned] {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("wrong-"), "{shown}");
    }
}
