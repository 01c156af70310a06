//! OAuth2 client credentials against a real token endpoint and API (axum on 127.0.0.1:0): the
//! token request RFC 6749 asks for, one token request for many concurrent calls, renewal before
//! expiry (on Tokio's clock), the 401 retry, typed failures, and no secret or token in errors,
//! `Debug` or traces.

use std::sync::atomic::Ordering;
use std::time::Duration;

use apicall_runtime::call::{CallSpec, Method, Request};
use apicall_runtime::{Client, Error, Secret, TimeoutPhase, TokenFailure};

use crate::support::oauth2_server::*;

#[tokio::test]
async fn the_token_request_is_rfc_6749_client_credentials_with_basic_client_auth() {
    let (server, base) = start(issuing(Some(3600))).await;
    let body = call(&client(&base)).await.unwrap();
    assert_eq!(&body[..], br#"{"orders":[]}"#);

    let seen = server.token_seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (authorization, content_type, form) = &seen[0];
    assert_eq!(authorization.as_deref(), Some(EXPECTED_BASIC));
    assert_eq!(
        content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let pairs: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "orders:read orders:write".to_owned()),
        ]
    );
    // The API saw the token, once, instead of the YAML's header.
    assert_eq!(
        *server.api_seen.lock().unwrap(),
        [Some("Bearer tok-1".to_owned())]
    );
}

#[tokio::test]
async fn client_auth_body_puts_the_credentials_in_the_form() {
    let (server, base) = start(issuing(Some(3600))).await;
    call_with(&client(&base), &SPEC, &OAUTH_BODY).await.unwrap();
    let seen = server.token_seen.lock().unwrap().clone();
    let (authorization, _, form) = &seen[0];
    assert_eq!(authorization, &None);
    let pairs: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    // No scopes: no `scope`.
    assert_eq!(
        pairs,
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), CLIENT_ID.to_owned()),
            ("client_secret".to_owned(), CLIENT_SECRET.to_owned()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_calls_share_one_token_request() {
    let (server, base) = start(issuing(Some(3600))).await;
    // Slow enough that every call arrives while the first token request is still out.
    *server.token_delay.lock().unwrap() = Duration::from_millis(300);
    let client = client(&base);
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { call(&client).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    assert_eq!(server.api_requests.load(Ordering::SeqCst), 100);
    // Later calls keep using it.
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    // Another client has its own cache.
    call(&Client::new().with_base_url(&base).unwrap())
        .await
        .unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);
}

/// Moves Tokio's clock forward by `by` (the token cache reads it), then lets it run again so
/// the real sockets of the next call are not timed out by an auto-advancing clock.
async fn skip(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

#[tokio::test]
async fn a_token_is_renewed_shortly_before_it_expires() {
    let (server, base) = start(issuing(Some(120))).await;
    let client = client(&base);
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    // A 120 s token is renewed 12 s (a tenth, less than 30 s) before it ends: at 108 s.
    skip(Duration::from_secs(105)).await;
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    skip(Duration::from_secs(4)).await;
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(
        server.api_seen.lock().unwrap().last().unwrap().as_deref(),
        Some("Bearer tok-2")
    );
}

#[tokio::test]
async fn a_token_without_expires_in_lasts_an_hour_less_30_seconds() {
    let (server, base) = start(issuing(None)).await;
    let client = client(&base);
    call(&client).await.unwrap();
    skip(Duration::from_secs(3565)).await;
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    skip(Duration::from_secs(10)).await;
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_401_drops_the_token_and_retries_once_with_a_fresh_one() {
    let (server, base) = start(issuing(Some(3600))).await;
    let client = client(&base);
    call(&client).await.unwrap();
    // The API revokes tok-1 early: it accepts only a token issued after now.
    *server.accepted.lock().unwrap() = Some("not-yet-issued".to_owned());
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(
        *server.api_seen.lock().unwrap(),
        [
            Some("Bearer tok-1".to_owned()),
            Some("Bearer tok-1".to_owned()),
            Some("Bearer tok-2".to_owned()),
        ]
    );
    // The fresh token is cached for the next call.
    call(&client).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);

    // An API that refuses every token: one retry, then the call's 401.
    *server.refuse_all.lock().unwrap() = true;
    let before = server.api_requests.load(Ordering::SeqCst);
    let error = call(&client).await.unwrap_err();
    assert!(
        matches!(error, Error::Status { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(server.api_requests.load(Ordering::SeqCst), before + 2);
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 3);
}

/// Every token endpoint failure is a typed error that shows neither the secret nor a token.
#[tokio::test]
async fn token_endpoint_failures_are_typed_and_secret_free() {
    let cases = [
        (
            Answer::Fixed(
                401,
                r#"{"error":"invalid_client","error_description":"bad secret s3cr+t/:é tok-9"}"#,
            ),
            "HTTP 401 (invalid_client)",
        ),
        (Answer::Fixed(400, r#"{"error":"s3cr+t/:é"}"#), "HTTP 400"),
        (Answer::Fixed(302, ""), "HTTP 302"),
        (
            Answer::Fixed(200, "<html>tok-9</html>"),
            "not a JSON object",
        ),
        (
            Answer::Fixed(200, r#"{"token_type":"bearer","expires_in":60}"#),
            "no usable access_token",
        ),
        (
            Answer::Fixed(200, r#"{"access_token":"","token_type":"bearer"}"#),
            "no usable access_token",
        ),
        (
            Answer::Token {
                expires_in: Some(60),
                token_type: "mac",
            },
            "other than Bearer",
        ),
    ];
    for (answer, expected) in cases {
        let (server, base) = start(answer).await;
        let error = call(&client(&base)).await.unwrap_err();
        let shown = format!("{error} {error:?}");
        match &error {
            Error::Token {
                call: "list_orders",
                scheme: "crm_oauth",
                failure,
            } => assert!(
                failure.to_string().contains(expected),
                "{expected}: {failure}"
            ),
            other => panic!("{expected}: {other:?}"),
        }
        for secret in [CLIENT_SECRET, "tok-1", "tok-9", "bad secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // Nothing reached the API.
        assert_eq!(server.api_requests.load(Ordering::SeqCst), 0, "{expected}");
    }
    let status = |error: &Error| match error {
        Error::Token {
            failure: TokenFailure::Status { status, error },
            ..
        } => Some((*status, *error)),
        _ => None,
    };
    let (_, base) = start(Answer::Fixed(400, r#"{"error":"invalid_scope"}"#)).await;
    let error = call(&client(&base)).await.unwrap_err();
    assert_eq!(status(&error), Some((400, Some("invalid_scope"))));
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_typed_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = call(&client(&format!("http://{address}")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Token {
                failure: TokenFailure::Request { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains(CLIENT_SECRET));
}

#[tokio::test]
async fn the_token_request_is_bounded_by_the_calls_timeout() {
    static QUICK: CallSpec = CallSpec {
        name: "list_orders",
        method: Method::Get,
        timeout_ms: 300,
        retries: 0,
    };
    let (server, base) = start(issuing(Some(3600))).await;
    *server.token_delay.lock().unwrap() = Duration::from_secs(5);
    let started = std::time::Instant::now();
    let error = call_with(&client(&base), &QUICK, &OAUTH).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                timeout_ms: 300,
                phase: TimeoutPhase::Token,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.api_requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn empty_credentials_are_refused_before_anything_is_sent() {
    let (server, base) = start(issuing(Some(3600))).await;
    let client = client(&base);
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://api.example.com/orders");
    request.oauth2(&OAUTH, CLIENT_ID, &Secret::new(""));
    let error = request.send().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidCredentials {
                scheme: "crm_oauth",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 0);
    assert_eq!(server.api_requests.load(Ordering::SeqCst), 0);
}
