//! The redirect rule against two real servers on 127.0.0.1 (two ports, so two origins): a
//! call follows at most 5 redirects, only to its own origin and only without a body; anything
//! else is `Error::Redirect`, and the other server never hears from it.

use apicall_runtime::auth::{
    ClientAuth, HmacSpec, OAuth2Spec, PayloadPart, SignatureEncoding, ValuePart,
};
use apicall_runtime::call::{CallSpec, Method, Request};
use apicall_runtime::{Client, Error, RedirectReason, Secret};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

static GET: CallSpec = CallSpec {
    name: "order_status",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 0,
};

static POST: CallSpec = CallSpec {
    name: "book",
    method: Method::Post,
    timeout_ms: 2000,
    retries: 0,
};

static DELETE: CallSpec = CallSpec {
    name: "cancel",
    method: Method::Delete,
    timeout_ms: 2000,
    retries: 0,
};

fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

fn origin(server: &MockServer) -> String {
    format!("http://{}", server.address())
}

/// A request to `server` + `path`, carrying a secret header and a secret query value.
fn request<'a>(
    client: &'a Client,
    spec: &'static CallSpec,
    server: &MockServer,
    path: &str,
) -> Request<'a> {
    let mut request = Request::new(client, spec);
    request.push_url_raw(&format!("{}{path}", server.uri()));
    request.query("token", "query-secret");
    request.header("X-Api-Key", "header-secret", true);
    request
}

/// Mounts `/r0` → `/r1` → ... → `/r{hops}` (302s), the last answering 200.
async fn chain(server: &MockServer, hops: usize) {
    for hop in 0..hops {
        Mock::given(path(format!("/r{hop}")))
            .respond_with(redirect(302, &format!("/r{}", hop + 1)))
            .expect(1)
            .mount(server)
            .await;
    }
    Mock::given(path(format!("/r{hops}")))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok": true}"#))
        .mount(server)
        .await;
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

fn assert_no_secret(error: &Error) {
    let shown = format!("{error} {error:?}");
    for secret in ["query-secret", "header-secret", "/moved", "/next", "token"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn five_same_origin_redirects_are_followed_with_the_same_headers() {
    let server = MockServer::start().await;
    chain(&server, 5).await;
    let client = Client::new();

    let body = request(&client, &GET, &server, "/r0")
        .send()
        .await
        .expect("5 redirects are allowed");

    assert_eq!(&body[..], br#"{"ok": true}"#);
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 6);
    let last = &requests[5];
    assert_eq!(last.url.path(), "/r5");
    assert_eq!(
        last.headers.get("x-api-key").map(|v| v.as_bytes()),
        Some(&b"header-secret"[..])
    );
    assert_eq!(last.method.as_str(), "GET");
}

#[tokio::test]
async fn a_sixth_redirect_is_refused() {
    let server = MockServer::start().await;
    for hop in 0..6 {
        Mock::given(path(format!("/r{hop}")))
            .respond_with(redirect(302, &format!("/r{}?token=x", hop + 1)))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/r6"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = Client::new();

    let error = request(&client, &GET, &server, "/r0")
        .send()
        .await
        .expect_err("6 redirects are too many");

    match &error {
        Error::Redirect {
            call: "order_status",
            status: Some(302),
            target: Some(target),
            reason: RedirectReason::TooMany,
        } => assert_eq!(target, &origin(&server)),
        other => panic!("{other:?}"),
    }
    assert_eq!(received(&server).await, 6);
    assert_no_secret(&error);
}

#[tokio::test]
async fn a_redirect_loop_ends_as_too_many() {
    let server = MockServer::start().await;
    Mock::given(path("/loop"))
        .respond_with(redirect(307, "/loop"))
        .mount(&server)
        .await;
    let client = Client::new();

    let error = request(&client, &GET, &server, "/loop")
        .send()
        .await
        .expect_err("a loop");

    assert!(
        matches!(
            error,
            Error::Redirect {
                reason: RedirectReason::TooMany,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(received(&server).await, 6);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_refused_and_never_sent() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    for status in [301, 302, 303, 307, 308] {
        Mock::given(path(format!("/{status}")))
            .respond_with(redirect(
                status,
                &format!("{}/moved?token=query-secret", elsewhere.uri()),
            ))
            .mount(&server)
            .await;
    }
    let client = Client::new();

    for status in [301, 302, 303, 307, 308] {
        let error = request(&client, &GET, &server, &format!("/{status}"))
            .send()
            .await
            .expect_err("another origin");

        match &error {
            Error::Redirect {
                status: Some(found),
                target: Some(target),
                reason: RedirectReason::OtherOrigin,
                ..
            } => {
                assert_eq!(*found, status);
                assert_eq!(target, &origin(&elsewhere));
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_no_secret(&error);
        assert!(error.to_string().contains(&origin(&elsewhere)), "{error}");
    }
    assert_eq!(received(&elsewhere).await, 0);
}

#[tokio::test]
async fn another_scheme_or_port_on_the_same_host_is_another_origin() {
    let server = MockServer::start().await;
    let port = server.address().port();
    let other_port = MockServer::start().await.address().port();
    Mock::given(path("/https"))
        .respond_with(redirect(302, &format!("https://127.0.0.1:{port}/x")))
        .mount(&server)
        .await;
    Mock::given(path("/port"))
        .respond_with(redirect(302, &format!("http://127.0.0.1:{other_port}/x")))
        .mount(&server)
        .await;
    let client = Client::new();

    for (from, target) in [
        ("/https", format!("https://127.0.0.1:{port}")),
        ("/port", format!("http://127.0.0.1:{other_port}")),
    ] {
        let error = request(&client, &GET, &server, from)
            .send()
            .await
            .expect_err("another origin");
        match error {
            Error::Redirect {
                target: Some(found),
                reason: RedirectReason::OtherOrigin,
                ..
            } => assert_eq!(found, target),
            other => panic!("{from}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_request_with_a_body_is_never_redirected() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    for status in [301, 302, 303, 307, 308] {
        Mock::given(path(format!("/same/{status}")))
            .respond_with(redirect(status, "/next"))
            .mount(&server)
            .await;
        Mock::given(path(format!("/other/{status}")))
            .respond_with(redirect(status, &format!("{}/next", elsewhere.uri())))
            .mount(&server)
            .await;
    }
    Mock::given(path("/next"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = Client::new();

    for status in [301, 302, 303, 307, 308] {
        for route in ["same", "other"] {
            let mut request = request(&client, &POST, &server, &format!("/{route}/{status}"));
            request.json_body(&serde_json::json!({ "slot": "9:00" }));
            let error = request.send().await.expect_err("a body is not redirected");
            assert!(
                matches!(
                    error,
                    Error::Redirect {
                        status: Some(found),
                        target: Some(_),
                        reason: RedirectReason::HasBody,
                        ..
                    } if found == status
                ),
                "{route} {status}: {error:?}"
            );
            assert_no_secret(&error);
        }
    }
    assert_eq!(received(&server).await, 10, "only the first requests");
    assert_eq!(received(&elsewhere).await, 0);
}

#[tokio::test]
async fn a_redirect_without_a_usable_location_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/none"))
        .respond_with(ResponseTemplate::new(302))
        .mount(&server)
        .await;
    Mock::given(path("/bad"))
        .respond_with(redirect(307, "http://[::1"))
        .mount(&server)
        .await;
    let client = Client::new();

    for from in ["/none", "/bad"] {
        let error = request(&client, &GET, &server, from)
            .send()
            .await
            .expect_err("nowhere to go");
        assert!(
            matches!(
                error,
                Error::Redirect {
                    target: None,
                    reason: RedirectReason::NoLocation,
                    ..
                }
            ),
            "{from}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_relative_location_resolves_against_the_current_url() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/orders"))
        .respond_with(redirect(301, "v2/orders?page=2"))
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/v2/orders"))
        .and(header("x-api-key", "header-secret"))
        .respond_with(redirect(308, "../../../final"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/final"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new();

    request(&client, &GET, &server, "/api/v1/orders")
        .send()
        .await
        .expect("relative same-origin redirects are followed");

    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests[1].url.query(), Some("page=2"));
}

#[tokio::test]
async fn a_bodiless_delete_keeps_its_method_except_after_a_303() {
    let server = MockServer::start().await;
    Mock::given(path("/307"))
        .respond_with(redirect(307, "/gone"))
        .mount(&server)
        .await;
    Mock::given(path("/303"))
        .respond_with(redirect(303, "/status"))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/gone"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new();

    for from in ["/307", "/303"] {
        request(&client, &DELETE, &server, from)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{from}: {error:?}"));
    }
}

#[tokio::test]
async fn a_client_that_follows_redirects_itself_is_caught() {
    let server = MockServer::start().await;
    Mock::given(path("/from"))
        .respond_with(redirect(302, "/to"))
        .mount(&server)
        .await;
    Mock::given(path("/to"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    // reqwest's default policy follows up to 10 redirects anywhere.
    let client = Client::with_http_client(apicall_runtime::reqwest::Client::new());

    let error = request(&client, &GET, &server, "/from")
        .send()
        .await
        .expect_err("the client followed it");

    assert!(
        matches!(
            error,
            Error::Redirect {
                status: None,
                reason: RedirectReason::FollowedByClient,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn other_3xx_statuses_are_status_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(redirect(300, "/y"))
        .mount(&server)
        .await;
    let client = Client::new();

    let error = request(&client, &GET, &server, "/x")
        .send()
        .await
        .expect_err("300");

    assert!(
        matches!(error, Error::Status { status: 300, .. }),
        "{error:?}"
    );
}

// Each hop is built again from the checked request, or copied as it was sent when it carries a
// token or a signature: either way it carries the headers the first request was sent with.

/// The values of `name` in each request `server` received, in order.
async fn header_values(server: &MockServer, name: &str) -> Vec<Option<String>> {
    server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|request| {
            request
                .headers
                .get(name)
                .map(|value| value.to_str().expect("text").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_redirected_request_carries_its_credentials_and_user_agent() {
    let server = MockServer::start().await;
    chain(&server, 2).await;
    let client = Client::new();
    let mut request = request(&client, &GET, &server, "/r0");
    request.basic_auth("ada", &Secret::new("pw"));

    request.send().await.expect("same-origin redirects");

    let paths: Vec<String> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|request| request.url.path().to_owned())
        .collect();
    assert_eq!(paths, ["/r0", "/r1", "/r2"]);
    let basic = Some("Basic YWRhOnB3".to_owned());
    assert_eq!(
        header_values(&server, "authorization").await,
        [basic.clone(), basic.clone(), basic]
    );
    let agent = Some(format!("apicall/{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        header_values(&server, "user-agent").await,
        [agent.clone(), agent.clone(), agent]
    );
    let key = Some("header-secret".to_owned());
    assert_eq!(
        header_values(&server, "x-api-key").await,
        [key.clone(), key.clone(), key]
    );
    assert_eq!(
        header_values(&server, "content-type").await,
        [None, None, None]
    );
}

#[tokio::test]
async fn a_retry_after_a_redirect_starts_again_from_the_first_url() {
    static RETRYING: CallSpec = CallSpec {
        name: "order_status",
        method: Method::Get,
        timeout_ms: 5000,
        retries: 1,
    };
    let server = MockServer::start().await;
    Mock::given(path("/first"))
        .respond_with(redirect(302, "/second"))
        .mount(&server)
        .await;
    Mock::given(path("/second"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/second"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = Client::new();

    request(&client, &RETRYING, &server, "/first")
        .send()
        .await
        .expect("the retry succeeds");

    let requests = server.received_requests().await.expect("recorded");
    let paths: Vec<&str> = requests.iter().map(|request| request.url.path()).collect();
    assert_eq!(paths, ["/first", "/second", "/first", "/second"]);
    let queries: Vec<Option<&str>> = requests.iter().map(|request| request.url.query()).collect();
    let query = Some("token=query-secret");
    assert_eq!(queries, [query, None, query, None]);
    assert!(
        requests
            .iter()
            .all(|request| request.method.as_str() == "GET"
                && request.headers.get("x-api-key").is_some()),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_redirected_request_keeps_its_oauth2_token() {
    static OAUTH: OAuth2Spec = OAuth2Spec {
        scheme: "crm_oauth",
        token_url: "https://auth.example.com/oauth/token",
        scopes: &[],
        client_auth: ClientAuth::Basic,
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    chain(&server, 2).await;
    // The token URL and the call's URL both move to the test server.
    let client = Client::new().with_base_url(&server.uri()).expect("a base");
    let mut request = Request::new(&client, &GET);
    request.push_url_raw("https://api.example.com/r0");
    request.header("X-Api-Key", "header-secret", true);
    request.oauth2(&OAUTH, "client", &Secret::new("secret"));

    request.send().await.expect("same-origin redirects");

    let bearer = Some("Bearer tok-1".to_owned());
    let seen = header_values(&server, "authorization").await;
    // The token request's own Basic credentials, then the call's three requests.
    assert_eq!(seen[1..], [bearer.clone(), bearer.clone(), bearer]);
    let key = Some("header-secret".to_owned());
    assert_eq!(
        header_values(&server, "x-api-key").await[1..],
        [key.clone(), key.clone(), key]
    );
}

#[tokio::test]
async fn a_redirected_request_carries_the_signature_it_was_sent_with() {
    static SIGNED: HmacSpec = HmacSpec {
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
    let server = MockServer::start().await;
    chain(&server, 2).await;
    let client = Client::new();
    let mut request = request(&client, &GET, &server, "/r0");
    request.hmac_signature(&SIGNED, &Secret::new("key"));

    request.send().await.expect("same-origin redirects");

    let signatures = header_values(&server, "x-signature").await;
    let timestamps = header_values(&server, "x-timestamp").await;
    assert_eq!(signatures.len(), 3);
    assert!(signatures[0].is_some() && timestamps[0].is_some());
    // Not signed again at each hop: the request as it was sent, as for any other header.
    assert!(
        signatures
            .iter()
            .all(|signature| *signature == signatures[0])
    );
    assert!(
        timestamps
            .iter()
            .all(|timestamp| *timestamp == timestamps[0])
    );
}
