//! Every call and webhook says it is apicall, unless the YAML sets a `User-Agent`: then that
//! one goes out instead. Exactly one `User-Agent` header reaches the server either way.

use apicall_runtime::call::{CallSpec, Method, Request, deliver, prepare_webhook};
use apicall_runtime::{Client, Conversation, Outcome};
use wiremock::{Mock, MockServer, ResponseTemplate};

static CALL: CallSpec = CallSpec {
    name: "lookup",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 0,
};

static HOOK: CallSpec = CallSpec {
    name: "hook",
    method: Method::Post,
    timeout_ms: 2000,
    retries: 0,
};

const APICALL: &str = concat!("apicall/", env!("CARGO_PKG_VERSION"));

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    server
}

/// The `User-Agent` values of the one request `server` received.
async fn user_agents(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1);
    requests[0]
        .headers
        .get_all("user-agent")
        .iter()
        .map(|value| value.to_str().unwrap_or("<not text>").to_owned())
        .collect()
}

async fn call(client: &Client, server: &MockServer, yaml_user_agent: Option<&str>) {
    let mut request = Request::new(client, &CALL);
    request.push_url_raw(&format!("{}/x", server.uri()));
    if let Some(agent) = yaml_user_agent {
        request.header("User-Agent", agent, false);
    }
    request.send().await.expect("200");
}

async fn hook(client: &Client, server: &MockServer, yaml_user_agent: Option<&str>) {
    let mut request = Request::new(client, &HOOK);
    request.push_url_raw(&format!("{}/hook", server.uri()));
    if let Some(agent) = yaml_user_agent {
        request.header("user-agent", agent, false);
    }
    let end = Conversation::with_id("CA-1").end(Outcome::Completed);
    let prepared = prepare_webhook(request, None, &end);
    let results = deliver(client, vec![prepared]).wait().await;
    assert!(matches!(results.as_slice(), [Ok(_)]), "{results:?}");
}

#[tokio::test]
async fn a_call_says_it_is_apicall() {
    let server = server().await;
    call(&Client::new(), &server, None).await;
    assert_eq!(user_agents(&server).await, [APICALL]);
}

#[tokio::test]
async fn a_yaml_user_agent_replaces_apicalls_on_a_call() {
    let server = server().await;
    call(&Client::new(), &server, Some("crm-agent/2.1")).await;
    assert_eq!(user_agents(&server).await, ["crm-agent/2.1"]);
}

#[tokio::test]
async fn a_webhook_says_it_is_apicall() {
    let server = server().await;
    hook(&Client::new(), &server, None).await;
    assert_eq!(user_agents(&server).await, [APICALL]);
}

#[tokio::test]
async fn a_yaml_user_agent_replaces_apicalls_on_a_webhook() {
    let server = server().await;
    hook(&Client::new(), &server, Some("hooks/1")).await;
    assert_eq!(user_agents(&server).await, ["hooks/1"]);
}

#[tokio::test]
async fn a_callers_client_with_its_own_default_still_sends_one() {
    let http = apicall_runtime::reqwest::Client::builder()
        .user_agent("their-default/1")
        .redirect(apicall_runtime::reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let client = Client::with_http_client(http);

    let server = server().await;
    call(&client, &server, None).await;
    assert_eq!(user_agents(&server).await, [APICALL]);

    let server = self::server().await;
    call(&client, &server, Some("crm-agent/2.1")).await;
    assert_eq!(user_agents(&server).await, ["crm-agent/2.1"]);
}
