//! A token endpoint and an API on 127.0.0.1 for the OAuth2 tests, shared by the test files
//! that need them.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apicall_runtime::auth::{ClientAuth, OAuth2Spec};
use apicall_runtime::call::{CallSpec, Method, Request};
use apicall_runtime::{Client, Error, Secret, TimeoutPhase, TokenFailure};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub(crate) const CLIENT_ID: &str = "my client:1";
pub(crate) const CLIENT_SECRET: &str = "s3cr+t/:é";
/// `base64(form_urlencode(CLIENT_ID) ":" form_urlencode(CLIENT_SECRET))`, by Python's
/// `urllib.parse.quote_plus` and `base64`.
pub(crate) const EXPECTED_BASIC: &str = "Basic bXkrY2xpZW50JTNBMTpzM2NyJTJCdCUyRiUzQSVDMyVBOQ==";

pub(crate) static SPEC: CallSpec = CallSpec {
    name: "list_orders",
    method: Method::Get,
    timeout_ms: 5000,
    retries: 0,
};

/// The token URL names another host: `with_base_url` moves it to the test server too.
pub(crate) static OAUTH: OAuth2Spec = OAuth2Spec {
    scheme: "crm_oauth",
    token_url: "https://auth.example.com/oauth/token",
    scopes: &["orders:read", "orders:write"],
    client_auth: ClientAuth::Basic,
};

pub(crate) static OAUTH_BODY: OAuth2Spec = OAuth2Spec {
    scheme: "crm_oauth_body",
    token_url: "https://auth.example.com/oauth/token",
    scopes: &[],
    client_auth: ClientAuth::Body,
};

/// What the token endpoint answers.
#[derive(Clone)]
pub(crate) enum Answer {
    /// A new token `tok-N`, with this `expires_in` (none: absent) and `token_type`.
    Token {
        expires_in: Option<u64>,
        token_type: &'static str,
    },
    /// This status and body.
    Fixed(u16, &'static str),
}

/// A token request's `Authorization` header, `Content-Type` and form body.
pub(crate) type TokenRequest = (Option<String>, Option<String>, String);

pub(crate) struct Server {
    pub(crate) answer: Mutex<Answer>,
    /// How long the token endpoint takes.
    pub(crate) token_delay: Mutex<Duration>,
    pub(crate) token_requests: AtomicUsize,
    /// Each token request's `Authorization` header, `Content-Type` and form body.
    pub(crate) token_seen: Mutex<Vec<TokenRequest>>,
    pub(crate) api_requests: AtomicUsize,
    /// The `Authorization` of each API request.
    pub(crate) api_seen: Mutex<Vec<Option<String>>>,
    /// The one token the API accepts; `None` accepts the latest issued.
    pub(crate) accepted: Mutex<Option<String>>,
    /// When set, the API refuses every token.
    pub(crate) refuse_all: Mutex<bool>,
    pub(crate) issued: AtomicUsize,
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

pub(crate) async fn token(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    server.token_requests.fetch_add(1, Ordering::SeqCst);
    server.token_seen.lock().unwrap().push((
        header(&headers, "authorization"),
        header(&headers, "content-type"),
        body,
    ));
    let delay = *server.token_delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let answer = server.answer.lock().unwrap().clone();
    match answer {
        Answer::Token {
            expires_in,
            token_type,
        } => {
            let number = server.issued.fetch_add(1, Ordering::SeqCst) + 1;
            let token = format!("tok-{number}");
            *server.accepted.lock().unwrap() = Some(token.clone());
            let mut json = serde_json::json!({"access_token": token, "token_type": token_type});
            if let Some(seconds) = expires_in {
                json["expires_in"] = seconds.into();
            }
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                json.to_string(),
            )
                .into_response()
        }
        Answer::Fixed(status, body) => {
            (StatusCode::from_u16(status).unwrap(), body).into_response()
        }
    }
}

pub(crate) async fn orders(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    server.api_requests.fetch_add(1, Ordering::SeqCst);
    let authorization = header(&headers, "authorization");
    server.api_seen.lock().unwrap().push(authorization.clone());
    let accepted = server
        .accepted
        .lock()
        .unwrap()
        .as_ref()
        .map(|token| format!("Bearer {token}"));
    if *server.refuse_all.lock().unwrap() || authorization.is_none() || authorization != accepted {
        return (StatusCode::UNAUTHORIZED, "{}").into_response();
    }
    (StatusCode::OK, r#"{"orders":[]}"#).into_response()
}

pub(crate) async fn start(answer: Answer) -> (Arc<Server>, String) {
    let server = Arc::new(Server {
        answer: Mutex::new(answer),
        token_delay: Mutex::new(Duration::ZERO),
        token_requests: AtomicUsize::new(0),
        token_seen: Mutex::new(Vec::new()),
        api_requests: AtomicUsize::new(0),
        api_seen: Mutex::new(Vec::new()),
        accepted: Mutex::new(None),
        refuse_all: Mutex::new(false),
        issued: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/orders", get(orders))
        .with_state(Arc::clone(&server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, format!("http://{address}"))
}

pub(crate) fn issuing(expires_in: Option<u64>) -> Answer {
    Answer::Token {
        expires_in,
        token_type: "bearer",
    }
}

pub(crate) async fn call_with(
    client: &Client,
    spec: &'static CallSpec,
    oauth: &'static OAuth2Spec,
) -> Result<bytes::Bytes, Error> {
    let mut request = Request::new(client, spec);
    request.push_url_raw("https://api.example.com/orders");
    // A YAML header the token must replace, not join.
    request.header("Authorization", "Bearer stale-from-yaml", true);
    request.oauth2(oauth, CLIENT_ID, &Secret::new(CLIENT_SECRET));
    request.send().await
}

pub(crate) async fn call(client: &Client) -> Result<bytes::Bytes, Error> {
    call_with(client, &SPEC, &OAUTH).await
}

pub(crate) fn client(base: &str) -> Client {
    Client::new().with_base_url(base).unwrap()
}
