//! The dispatcher as an agent loop uses it: LLM tool calls in, results for the LLM out, values
//! stored for prompts, failures that tell the LLM only the fixed message.

use std::time::{Duration, Instant};

use apicall_runtime::{Client, DispatchError, Error, Secret, ToolCall};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod seed {
    apicall_macros::include_api_calls!("../examples/calls.yaml");
}

mod desk {
    apicall_macros::include_api_calls!("fixtures/language.yaml");
}

fn seed_context() -> seed::Context {
    seed::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("sk-test"),
    }
}

fn client_for(server: &MockServer) -> Client {
    Client::new()
        .with_base_url(&server.uri())
        .expect("valid base URL")
}

fn tool_call(name: &str, arguments: serde_json::Value) -> ToolCall {
    ToolCall {
        id: Some(format!("call_{name}")),
        name: name.to_owned(),
        arguments,
    }
}

#[tokio::test]
async fn a_tool_call_runs_its_call_and_stores_the_values() {
    let server = MockServer::start().await;
    Mock::given(path("/orders/A-1042"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"order": {"status": "shipped"}})),
        )
        .mount(&server)
        .await;
    let mut api = seed::ApiValues::default();

    let call = ToolCall::from_json_arguments(
        Some("call_1".into()),
        "order_status",
        r#"{"order_id":"A-1042"}"#,
    )
    .expect("JSON arguments");
    let result = seed::dispatch(&client_for(&server), &seed_context(), &mut api, &call).await;

    assert!(result.is_ok(), "{:?}", result.error);
    assert_eq!(result.id.as_deref(), Some("call_1"));
    assert_eq!(result.content, json!({"order_status": "shipped"}));
    assert_eq!(api.order_status.as_deref(), Some("shipped"));
}

#[tokio::test]
async fn a_failing_call_tells_the_llm_only_the_fixed_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream db-7 down, key sk-desk"))
        .mount(&server)
        .await;
    let context = desk::Context {
        caller_phone: "+1".to_owned(),
        api_key: Secret::new("sk-desk"),
        agent_id: 7,
    };
    let mut api = desk::ApiValues::default();

    let result = desk::dispatch(
        &client_for(&server),
        &context,
        &mut api,
        &tool_call(
            "create_ticket",
            json!({"summary": "no dial tone", "priority": "urgent"}),
        ),
    )
    .await;

    assert_eq!(
        result.content,
        json!({"error": "The ticket system is unavailable right now."})
    );
    assert!(
        matches!(
            result.error,
            Some(DispatchError::Call(Error::Status { status: 503, .. }))
        ),
        "{:?}",
        result.error
    );
    assert_eq!(api, desk::ApiValues::default());
}

#[tokio::test]
async fn arguments_that_do_not_fit_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let mut api = seed::ApiValues::default();

    let result = seed::dispatch(
        &client_for(&server),
        &seed_context(),
        &mut api,
        &tool_call("order_status", json!({"order_number": "A-1"})),
    )
    .await;

    assert!(
        matches!(
            result.error,
            Some(DispatchError::InvalidArguments {
                tool: "order_status",
                ..
            })
        ),
        "{:?}",
        result.error
    );
    // The LLM is told what to fix, naming the arguments from the schema only.
    assert_eq!(
        result.content,
        json!({
            "error": "invalid arguments",
            "problems": [
                "`order_id` is required",
                "unknown argument: the parameters are `order_id`"
            ]
        })
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_call_without_parameters_takes_no_arguments_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(path("/api/customers"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"customer": {"name": "Ada"}})),
        )
        .mount(&server)
        .await;
    let client = client_for(&server);
    let mut session = seed::Session::new(seed_context());

    // What LLM APIs send for a tool without parameters: all run it.
    for (id, arguments) in [("a", "{}"), ("b", ""), ("c", " { } ")] {
        let result = session
            .dispatch(&client, &ToolCall::openai(id, "lookup_customer", arguments))
            .await;
        assert!(result.error.is_none(), "{arguments:?}: {:?}", result.error);
    }
    let result = session
        .dispatch(
            &client,
            &tool_call("lookup_customer", serde_json::Value::Null),
        )
        .await;
    assert!(result.error.is_none(), "{:?}", result.error);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);

    // Arguments it does not take are the LLM's mistake, told back to it; nothing is sent.
    let unknown = session
        .dispatch(
            &client,
            &tool_call("lookup_customer", json!({"phone": "+1555"})),
        )
        .await;
    assert_eq!(
        unknown.content,
        json!({
            "error": "invalid arguments",
            "problems": ["unknown argument: the tool takes no arguments"]
        })
    );
    let malformed = session
        .dispatch(
            &client,
            &ToolCall::openai("d", "lookup_customer", "{\"phone\": "),
        )
        .await;
    assert!(
        matches!(
            malformed.error,
            Some(DispatchError::MalformedArguments {
                tool: "lookup_customer",
                ..
            })
        ),
        "{:?}",
        malformed.error
    );
    // As text too, as OpenAI sends arguments: serde's structs would read `[]` by position.
    for (id, arguments) in [("e", "[]"), ("f", " [ ] ")] {
        let positional = session
            .dispatch(&client, &ToolCall::openai(id, "lookup_customer", arguments))
            .await;
        assert!(
            matches!(
                positional.error,
                Some(DispatchError::InvalidArguments { .. })
            ),
            "{arguments:?}: {:?}",
            positional.error
        );
    }
    let not_an_object = session
        .dispatch(&client, &tool_call("lookup_customer", json!(["+1555"])))
        .await;
    assert!(
        matches!(
            not_an_object.error,
            Some(DispatchError::InvalidArguments { .. })
        ),
        "{:?}",
        not_an_object.error
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

mod parameters {
    apicall_macros::include_api_calls!("fixtures/parameters.yaml");
}

#[tokio::test]
async fn an_object_argument_given_as_an_array_is_refused_not_read_by_position() {
    let server = MockServer::start().await;
    let context = parameters::Context {
        api_key: Secret::new("sk-test"),
    };
    let mut api = parameters::ApiValues::default();
    // As OpenAI sends arguments, as text: serde's structs would read `delivery` by position.
    let arguments = r#"{"size": 12, "counts": [1], "delivery": ["Main St", 2]}"#;
    let result = parameters::dispatch(
        &client_for(&server),
        &context,
        &mut api,
        &ToolCall::openai("call_1", "order_pizza", arguments),
    )
    .await;
    assert!(
        matches!(result.error, Some(DispatchError::InvalidArguments { .. })),
        "{:?}",
        result.error
    );
    assert!(
        result.content.to_string().contains("delivery"),
        "{}",
        result.content
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn every_mistake_in_nested_arguments_is_named_without_quoting_it() {
    let server = MockServer::start().await;
    let context = parameters::Context {
        api_key: Secret::new("sk-test"),
    };
    let mut api = parameters::ApiValues::default();
    let arguments = json!({
        "size": 11,
        "counts": [1, "sk_live_123"],
        "toppings": ["ham", "pepperoni"],
        "delivery": {"floor": 2.5, "sk_live_key": true},
        "slices": [{"share": "half"}],
        "sk_live_extra": 1
    });
    let result = parameters::dispatch(
        &client_for(&server),
        &context,
        &mut api,
        &tool_call("order_pizza", arguments),
    )
    .await;
    assert_eq!(
        result.content,
        json!({
            "error": "invalid arguments",
            "problems": [
                "`size` must be one of the integers: 10, 12, 14",
                "`toppings[1]` must be one of: ham, olives, extra cheese",
                "`counts[1]` must be an integer",
                "`delivery.street` is required",
                "`delivery.floor` must be an integer",
                "`delivery` takes only these members: `street`, `floor`, `kind`, \
                 `leave_at_door`, `position`",
                "`slices[0].share` must be a number",
                "unknown argument: the parameters are `size`, `toppings`, `notes`, `counts`, \
                 `delivery`, `slices`"
            ]
        })
    );
    assert!(result.is_error());
    assert!(!result.content.to_string().contains("sk_live"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn arrays_and_objects_reach_the_body_and_an_array_repeats_its_query_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"order": {"id": "o-1"}})))
        .mount(&server)
        .await;
    let context = parameters::Context {
        api_key: Secret::new("sk-test"),
    };
    let mut api = parameters::ApiValues::default();
    let arguments = json!({
        "size": 14,
        "counts": [2, 1],
        "toppings": ["olives", "extra cheese"],
        "delivery": {"street": "Main 1", "position": {"lat": 1, "lon": 2.5}},
        "notes": null
    });
    let result = parameters::dispatch(
        &client_for(&server),
        &context,
        &mut api,
        &tool_call("order_pizza", arguments),
    )
    .await;
    assert!(result.is_ok(), "{:?}", result.error);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[0].url.query(),
        Some("topping=olives&topping=extra+cheese&size=14")
    );
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "size": 14,
            "toppings": ["olives", "extra cheese"],
            "notes": null,
            "counts": [2, 1],
            "delivery": {
                "street": "Main 1", "floor": null, "kind": null, "leave_at_door": null,
                "position": {"lat": 1.0, "lon": 2.5}
            },
            "slices": null,
            "summary": "a 14 inch pizza"
        })
    );
}

#[tokio::test]
async fn an_unknown_tool_is_a_typed_error() {
    let server = MockServer::start().await;
    let mut api = seed::ApiValues::default();
    let result = seed::dispatch(
        &client_for(&server),
        &seed_context(),
        &mut api,
        &tool_call("delete_everything", json!({})),
    )
    .await;
    assert!(
        matches!(&result.error, Some(DispatchError::UnknownTool { name }) if name == "delete_everything"),
        "{:?}",
        result.error
    );
    assert_eq!(
        result.content,
        json!({"error": "That tool does not exist."})
    );
}

#[tokio::test]
async fn the_tool_calls_of_one_turn_run_concurrently() {
    let server = MockServer::start().await;
    let delay = Duration::from_millis(400);
    Mock::given(path("/api/customers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"customer": {"name": "Ada", "tier": "gold"}}))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    Mock::given(path("/orders/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"order": {"status": "delivered"}}))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    let mut api = seed::ApiValues::default();
    let calls = [
        tool_call("lookup_customer", json!({})),
        tool_call("order_status", json!({"order_id": "7"})),
    ];
    let started = Instant::now();

    let results = seed::dispatch_all(&client_for(&server), &seed_context(), &mut api, &calls).await;

    assert!(
        started.elapsed() < delay * 2,
        "ran one after the other: {:?}",
        started.elapsed()
    );
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].name, "lookup_customer");
    assert_eq!(
        results[0].content,
        json!({"customer_name": "Ada", "tier": "gold", "last_order": null})
    );
    assert_eq!(results[1].content, json!({"order_status": "delivered"}));
    assert_eq!(
        seed::render_greeting(&seed_context(), &api),
        "Hello Ada! I see you're a gold member. Your last order is .\n"
    );
    assert_eq!(api.order_status.as_deref(), Some("delivered"));
}

#[tokio::test]
async fn a_session_runs_calls_renders_prompts_and_persists_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(path("/api/customers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"customer": {"name": "Ada", "tier": "gold"}})),
        )
        .mount(&server)
        .await;
    let mut session = seed::Session::new(seed_context());

    let result = session
        .dispatch(
            &client_for(&server),
            &tool_call("lookup_customer", json!({})),
        )
        .await;
    assert!(result.is_ok());
    assert!(
        session
            .render_greeting()
            .starts_with("Hello Ada! I see you're a gold member.")
    );

    let saved = serde_json::to_string(&session).unwrap();
    assert!(!saved.contains("sk-test"), "{saved}");
    let mut restored: seed::Session = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored.api, session.api);
    assert_eq!(restored.context.caller_phone, "+15551234567");
    assert!(
        restored.context.api_key.is_empty(),
        "the secret must be set again"
    );
    restored.context.api_key = Secret::new("sk-test");
    assert_eq!(restored.render_greeting(), session.render_greeting());

    let with_secrets =
        apicall_runtime::with_exposed_secrets(|| serde_json::to_string(&session).unwrap());
    let restored: seed::Session = serde_json::from_str(&with_secrets).unwrap();
    assert_eq!(restored.context.api_key.expose(), "sk-test");
}

#[tokio::test]
async fn openai_style_string_arguments_are_parsed_and_malformed_ones_reported() {
    let server = MockServer::start().await;
    Mock::given(path("/orders/9"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"order": {"status": "packed"}})),
        )
        .mount(&server)
        .await;
    let mut session = seed::Session::new(seed_context());
    let client = client_for(&server);

    let ok = session
        .dispatch(
            &client,
            &ToolCall::openai("call_a", "order_status", r#"{"order_id": "9"}"#),
        )
        .await;
    assert_eq!(ok.content, json!({"order_status": "packed"}));
    assert_eq!(
        ok.to_openai(),
        json!({"role": "tool", "tool_call_id": "call_a", "content": "{\"order_status\":\"packed\"}"})
    );

    let bad = session
        .dispatch(
            &client,
            &ToolCall::openai("call_b", "order_status", "{\"order_id\": "),
        )
        .await;
    assert!(
        matches!(
            bad.error,
            Some(DispatchError::MalformedArguments {
                tool: "order_status",
                ..
            })
        ),
        "{:?}",
        bad.error
    );
    assert_eq!(bad.to_anthropic()["is_error"], true);
    assert_eq!(bad.to_anthropic()["tool_use_id"], "call_b");
    // Positional arguments are not taken, at the top or nested.
    let positional = session
        .dispatch(
            &client,
            &ToolCall::openai("call_p", "order_status", r#"["9"]"#),
        )
        .await;
    assert!(
        matches!(
            positional.error,
            Some(DispatchError::InvalidArguments { .. })
        ),
        "{:?}",
        positional.error
    );
    let wrong_type = session
        .dispatch(
            &client,
            &ToolCall::openai("call_c", "order_status", r#"{"order_id": 9}"#),
        )
        .await;
    assert!(matches!(
        wrong_type.error,
        Some(DispatchError::InvalidArguments { .. })
    ));
    assert!(
        !wrong_type.to_anthropic()["content"]
            .as_str()
            .unwrap()
            .contains("invalid type")
    );
}

/// Any JSON an LLM might send: scalars, strings that look like secrets, the schema's own names
/// and choices, nested arrays and objects with known and unknown keys.
fn any_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let names = || {
        proptest::sample::select(vec![
            "street", "floor", "kind", "share", "labels", "lat", "lon", "position", "name", "spicy",
        ])
        .prop_map(str::to_owned)
    };
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        proptest::sample::select(vec![-1i64, 0, 5, 10, 12, 14]).prop_map(serde_json::Value::from),
        proptest::num::f64::NORMAL.prop_map(serde_json::Value::from),
        "sk_live_[a-z0-9]{6}".prop_map(serde_json::Value::from),
        proptest::sample::select(vec!["ham", "olives", "house", "flat", "x"])
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let key = prop_oneof![names(), "sk_live_[a-z]{4}"];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(key, inner, 0..4)
                .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Whatever arguments the LLM sends to the generated dispatcher, the problems it is told name
/// only the schema's parameters (with indexes) and use only fixed wording: nothing it sent,
/// nothing that looks like a secret, is quoted back. Arguments that fit reach the server.
#[tokio::test]
async fn argument_problems_from_the_generated_dispatcher_quote_nothing_the_llm_sent() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"order": {"id": "o-1"}})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = client_for(&server);
    let context = parameters::Context {
        api_key: Secret::new("sk-test"),
    };
    let parameters = [
        "size", "toppings", "notes", "counts", "delivery", "slices", "stars", "tags", "dish",
    ];
    let members = [
        "street",
        "floor",
        "kind",
        "leave_at_door",
        "position",
        "lat",
        "lon",
        "share",
        "labels",
        "name",
        "spicy",
    ];
    let mut top = parameters.to_vec();
    top.push("sk_live_extra");
    let top = proptest::sample::select(top).prop_map(str::to_owned);
    let arguments = proptest::collection::btree_map(top, any_json(), 0..6);
    let mut runner = proptest::test_runner::TestRunner::default();
    let names: Vec<&str> = parameters.iter().chain(&members).copied().collect();
    let mut refused = 0;
    for case in 0..300 {
        let arguments = arguments.new_tree(&mut runner).unwrap().current();
        let tool = if case % 2 == 0 {
            "order_pizza"
        } else {
            "rate_order"
        };
        // Every tenth case sends arguments that fit, so both endings are seen.
        let arguments = match case % 10 {
            0 => json!({"size": 12, "counts": [1, 2], "toppings": ["olives"]}),
            5 => json!({"stars": -1, "dish": {"name": "sk_live_dish"}}),
            _ => serde_json::Value::Object(arguments.into_iter().collect()),
        };
        let mut api = parameters::ApiValues::default();
        let result = parameters::dispatch(
            &client,
            &context,
            &mut api,
            &tool_call(tool, arguments.clone()),
        )
        .await;
        let shown = result.content.to_string();
        assert!(!shown.contains("sk_live"), "{arguments} -> {shown}");
        let Some(problems) = result.content.get("problems") else {
            assert!(result.error.is_none(), "{arguments} -> {:?}", result.error);
            continue;
        };
        refused += 1;
        for problem in problems.as_array().unwrap() {
            let problem = problem.as_str().unwrap();
            // Every quoted part is a parameter's path: names from the schema and indexes.
            for quoted in problem.split('`').skip(1).step_by(2) {
                let path_names = quoted
                    .split(['.', '['])
                    .filter(|part| !part.ends_with(']') && !part.is_empty());
                for name in path_names {
                    assert!(names.contains(&name), "{arguments} -> {problem}");
                }
            }
        }
    }
    // Most random arguments do not fit; those that fit were sent.
    assert!(refused > 100, "{refused} of 300 refused");
    let sent = server.received_requests().await.unwrap().len();
    assert_eq!(
        sent,
        300 - refused,
        "every call that fits is sent, no other"
    );
}

/// A web server runs each conversation's turn in `tokio::spawn` on a multi-threaded runtime:
/// every way a session dispatches must be `Send`, events or none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_turns_run_in_spawned_tasks_on_a_multi_threaded_runtime() {
    let server = MockServer::start().await;
    Mock::given(path("/orders/A-7"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"order": {"status": "packed"}})),
        )
        .mount(&server)
        .await;
    let client = client_for(&server);
    let turn = tokio::spawn(async move {
        let mut session = seed::Session::new(seed_context());
        let call = tool_call("order_status", json!({"order_id": "A-7"}));
        let plain = session.dispatch(&client, &call).await;
        let mut said = Vec::new();
        let with_events = session
            .dispatch_with_events(&client, &call, &mut |event| said.push(event))
            .await;
        let mut finished = 0;
        let turn = session
            .dispatch_all_with_events(&client, std::slice::from_ref(&call), &mut |event| {
                finished +=
                    usize::from(matches!(event, apicall_runtime::ToolEvent::Finished { .. }));
            })
            .await;
        let all = session.dispatch_all(&client, &[call]).await;
        (
            plain,
            with_events,
            said.len(),
            turn,
            finished,
            all,
            session.api,
        )
    });
    let (plain, with_events, said, turn, finished, all, api) = turn.await.expect("the turn ran");
    assert!(plain.is_ok() && with_events.is_ok(), "{:?}", plain.error);
    assert!(
        turn.iter()
            .chain(&all)
            .all(apicall_runtime::ToolResult::is_ok)
    );
    assert_eq!((said, finished), (1, 1), "one Finished event each");
    assert_eq!(api.order_status.as_deref(), Some("packed"));
}
