//! The whole calls.yaml language against a real server on 127.0.0.1: default and templated
//! JSON bodies keep their JSON types, enums, optional parameters, typed and required
//! response values.

use apicall_runtime::{Client, Error, Secret};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod calls {
    apicall_macros::include_api_calls!("fixtures/language.yaml");
}

fn context() -> calls::Context {
    calls::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("sk-desk"),
        agent_id: 7,
    }
}

fn client_for(server: &MockServer) -> Client {
    Client::new()
        .with_base_url(&server.uri())
        .expect("valid base URL")
}

async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1);
    requests.remove(0)
}

#[tokio::test]
async fn post_without_body_sends_the_llm_parameters_as_typed_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/tickets"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"ticket": {"id": 4711, "queue.position": 3}})),
        )
        .mount(&server)
        .await;
    let params: calls::CreateTicketParams = serde_json::from_value(json!({
        "summary": "Router blinks red", "priority": "urgent", "callback": true
    }))
    .expect("the LLM's arguments fit the params struct");

    let response = calls::create_ticket(&client_for(&server), &context(), &params)
        .await
        .expect("the call succeeds");

    assert_eq!(response.ticket_id, 4711);
    assert_eq!(response.queue_position, Some(3.0));
    let request = only_request(&server).await;
    assert_eq!(
        request.headers.get("content-type").unwrap().as_bytes(),
        b"application/json"
    );
    assert_eq!(
        request.headers.get("x-api-key").unwrap().as_bytes(),
        b"sk-desk"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"summary": "Router blinks red", "priority": "urgent", "callback": true})
    );
}

#[tokio::test]
async fn an_absent_optional_parameter_is_null_in_the_default_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 1}})))
        .mount(&server)
        .await;
    let params = calls::CreateTicketParams {
        summary: "x".to_owned(),
        priority: calls::CreateTicketPriority::Low,
        callback: None,
    };

    let response = calls::create_ticket(&client_for(&server), &context(), &params)
        .await
        .unwrap();

    assert_eq!(response.queue_position, None);
    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(
        body,
        json!({"summary": "x", "priority": "low", "callback": null})
    );
}

#[tokio::test]
async fn a_missing_required_response_value_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {}})))
        .mount(&server)
        .await;
    let params = calls::CreateTicketParams {
        summary: "x".to_owned(),
        priority: calls::CreateTicketPriority::Normal,
        callback: Some(false),
    };

    let error = calls::create_ticket(&client_for(&server), &context(), &params)
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            Error::MissingRequired {
                call: "create_ticket",
                variable: "ticket_id"
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn enum_values_outside_the_list_are_refused_when_parsing_the_llm_arguments() {
    let parsed = serde_json::from_value::<calls::CreateTicketParams>(
        json!({"summary": "x", "priority": "critical"}),
    );
    assert!(parsed.is_err());
    let unknown_field = serde_json::from_value::<calls::CreateTicketParams>(
        json!({"summary": "x", "priority": "low", "colour": "red"}),
    );
    assert!(unknown_field.is_err());
}

#[tokio::test]
async fn body_template_keeps_types_and_renders_text_query_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/tickets/4711/notes"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 99}], "ok": true})),
        )
        .mount(&server)
        .await;
    let params = calls::AddNoteParams {
        ticket: 4711,
        text: "Customer \"Ada\" called back".to_owned(),
        visibility: Some(calls::AddNoteVisibility::Public),
    };

    let response = calls::add_note(&client_for(&server), &context(), &params)
        .await
        .unwrap();

    assert_eq!(response.note_id.as_deref(), Some("99"));
    assert_eq!(response.note_saved, Some(true));
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), Some("agent=7&visibility=public"));
    assert_eq!(
        request.headers.get("x-visibility").unwrap().as_bytes(),
        b"v=public"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({
            "note": {
                "text": "Customer \"Ada\" called back",
                "ticket": 4711,
                "from": "agent 7 for +15551234567",
                "tags": ["phone", "public"]
            },
            "literal_braces": "{{not a variable}}",
            "version": 2,
            "ratio": 0.5,
            "draft": false,
            "extra": null
        })
    );
}

#[tokio::test]
async fn absent_optional_parameters_leave_out_their_query_entry_and_header() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let params = calls::AddNoteParams {
        ticket: 1,
        text: "t".to_owned(),
        visibility: None,
    };

    calls::add_note(&client_for(&server), &context(), &params)
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert_eq!(request.url.query(), Some("agent=7"));
    assert!(request.headers.get("x-visibility").is_none());
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["note"]["tags"], json!(["phone", null]));
}

#[test]
fn prompts_render_typed_context_and_api_values() {
    let mut api = calls::ApiValues::default();
    api.record_create_ticket(&calls::CreateTicketResponse {
        ticket_id: 12,
        queue_position: Some(2.0),
    });
    assert_eq!(
        calls::render_ticket_opened(&context(), &api),
        "Agent 7: ticket 12 is open; you are number 2 in the queue."
    );
}

#[tokio::test]
async fn api_values_from_earlier_calls_fill_later_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tickets/4711"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ticket": {"state": "open"}})),
        )
        .mount(&server)
        .await;
    let mut api = calls::ApiValues::default();
    api.record_create_ticket(&calls::CreateTicketResponse {
        ticket_id: 4711,
        queue_position: Some(2.5),
    });

    let response = calls::ticket_status(&client_for(&server), &context(), &api)
        .await
        .unwrap();

    assert_eq!(response.ticket_state.as_deref(), Some("open"));
    let request = only_request(&server).await;
    assert_eq!(
        request.headers.get("x-queue-position").unwrap().as_bytes(),
        b"2.5"
    );
    // `note_id` was never extracted: the query entry is left out.
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn a_url_needing_an_api_value_not_yet_extracted_fails_before_sending() {
    let server = MockServer::start().await;

    let error = calls::ticket_status(
        &client_for(&server),
        &context(),
        &calls::ApiValues::default(),
    )
    .await
    .unwrap_err();

    assert!(
        matches!(
            error,
            Error::MissingValue {
                call: "ticket_status",
                variable: "ticket_id"
            }
        ),
        "{error:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn api_values_in_a_body_keep_their_type_or_become_null() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/escalations"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let mut api = calls::ApiValues::default();
    api.record_create_ticket(&calls::CreateTicketResponse {
        ticket_id: 9,
        queue_position: None,
    });

    calls::escalate(&client_for(&server), &context(), &api)
        .await
        .unwrap();

    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(body, json!({"ticket": 9, "reason": "ticket 9, note "}));
}

#[test]
fn tool_definitions_describe_each_call_and_its_parameters() {
    let names: Vec<&str> = calls::TOOLS.iter().map(|tool| tool.name).collect();
    assert_eq!(
        names,
        ["create_ticket", "add_note", "ticket_status", "escalate"]
    );
    let create = calls::TOOLS[0].to_anthropic();
    assert_eq!(
        create,
        json!({
            "name": "create_ticket",
            "description": "Open a support ticket when the caller reports a problem",
            "input_schema": {
                "type": "object",
                "properties": {
                    "summary": {"type": "string", "description": "One sentence describing the problem"},
                    "priority": {"type": "string", "enum": ["low", "normal", "urgent"]},
                    "callback": {"type": "boolean"}
                },
                "required": ["summary", "priority"],
                "additionalProperties": false
            },
            "strict": true
        })
    );
    // Arguments that fit the schema fit the params struct.
    let arguments = json!({"summary": "x", "priority": "urgent", "callback": false});
    assert!(serde_json::from_value::<calls::CreateTicketParams>(arguments).is_ok());
}

#[test]
fn prompts_degrade_gracefully_with_defaults_and_conditionals() {
    let mut api = calls::ApiValues::default();
    assert_eq!(
        calls::render_ticket_summary(&context(), &api),
        "I can open a ticket for you, +15551234567."
    );
    api.record_create_ticket(&calls::CreateTicketResponse {
        ticket_id: 12,
        queue_position: None,
    });
    assert_eq!(
        calls::render_ticket_summary(&context(), &api),
        "Your ticket 12 is being processed."
    );
    api.ticket_state = Some("resolved".to_owned());
    assert_eq!(
        calls::render_ticket_summary(&context(), &api),
        "Your ticket 12 is resolved."
    );
}
