//! A call's `messages:` rendered by the request model
//! (`apicall_build::request::Message::render`, what `apicall mcp` says) and by the generated
//! dispatcher (`dispatch_with_events`, against a real server on 127.0.0.1), for the same
//! context, arguments and `api.*` values: byte for byte the same lines.
//!
//! `fixtures/messages.yaml` holds every kind of piece (`{{x}}`, defaults, `{{#if}}` with and
//! without `{{else}}`, nested in text) over every kind of value: strings (empty or not),
//! integers, numbers, booleans, string and integer enums, each from the context, a parameter
//! (given or absent) or an earlier call (extracted or not). The values are generated, plus the
//! edges picked by hand (`""`, `0`, `-0.0`, `1e21`, every optional value absent).

use std::time::Duration;

use apicall_build::request::{Message, Requests, Scalar, Shape, Source, ValueRef, ValueType};
use apicall_runtime::{Client, SayReason, Secret, ToolCall, ToolEvent};
use axum::http::StatusCode;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

mod calls {
    apicall_macros::include_api_calls!("fixtures/messages.yaml");
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/messages.yaml");

/// A value the test holds, of any scalar type.
#[derive(Clone, Debug, PartialEq)]
enum Held {
    String(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
}

impl Held {
    fn scalar(&self) -> Scalar<'_> {
        match self {
            Held::String(text) => Scalar::String(text),
            Held::Integer(n) => Scalar::Integer(*n),
            Held::Number(n) => Scalar::Number(*n),
            Held::Boolean(b) => Scalar::Boolean(*b),
        }
    }
}

/// Everything one dispatch reads.
#[derive(Clone, Debug)]
struct Case {
    caller_name: String,
    member: bool,
    credit: f64,
    visits: i64,
    order_state: Option<String>,
    pinged: Option<bool>,
    stock_left: Option<i64>,
    unit_price: Option<f64>,
    call: &'static str,
    /// The LLM's arguments; an absent optional parameter is not a member.
    arguments: Map<String, Value>,
}

impl Case {
    fn context(&self) -> calls::Context {
        calls::Context {
            caller_name: self.caller_name.clone(),
            api_key: Secret::new("sk-render-secret"),
            member: self.member,
            credit: self.credit,
            visits: self.visits,
        }
    }

    fn api(&self) -> calls::ApiValues {
        calls::ApiValues {
            order_state: self.order_state.clone(),
            pinged: self.pinged,
            stock_left: self.stock_left,
            unit_price: self.unit_price,
        }
    }

    /// Every value as the request model names it: (source, name, value).
    fn values(&self) -> Vec<(Source, String, Held)> {
        let mut values = vec![
            (
                Source::Context,
                "caller_name".to_owned(),
                Held::String(self.caller_name.clone()),
            ),
            (
                Source::Context,
                "member".to_owned(),
                Held::Boolean(self.member),
            ),
            (
                Source::Context,
                "credit".to_owned(),
                Held::Number(self.credit),
            ),
            (
                Source::Context,
                "visits".to_owned(),
                Held::Integer(self.visits),
            ),
        ];
        let api = [
            ("order_state", self.order_state.clone().map(Held::String)),
            ("pinged", self.pinged.map(Held::Boolean)),
            ("stock_left", self.stock_left.map(Held::Integer)),
            ("unit_price", self.unit_price.map(Held::Number)),
        ];
        for (name, value) in api {
            if let Some(value) = value {
                values.push((Source::Api, name.to_owned(), value));
            }
        }
        for (name, value) in &self.arguments {
            let held = match value {
                Value::String(text) => Held::String(text.clone()),
                Value::Bool(b) => Held::Boolean(*b),
                Value::Number(n) => match n.as_i64() {
                    Some(n) => Held::Integer(n),
                    None => Held::Number(n.as_f64().unwrap()),
                },
                // Arrays say nothing: messages cannot read them.
                _ => continue,
            };
            values.push((Source::Param, name.clone(), held));
        }
        values
    }
}

/// The held value a message reads, typed as the model declares it.
fn look_up<'v>(values: &'v [(Source, String, Held)], wanted: &ValueRef) -> Option<Scalar<'v>> {
    let (_, _, held) = values
        .iter()
        .find(|(source, name, _)| *source == wanted.source && *name == wanted.name)?;
    // A JSON number is an integer or a number by the parameter's declared type.
    Some(match (held, wanted.ty) {
        (Held::Integer(n), ValueType::Number) => Scalar::Number(*n as f64),
        _ => held.scalar(),
    })
}

fn strings() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("0".to_owned()),
        Just("false".to_owned()),
        "[a-zA-Z0-9 {}|\"'.,é€😀-]{1,12}",
    ]
}

fn numbers() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(0.1),
        Just(1e21),
        Just(1e-7),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        (-1000i64..1000).prop_map(|n| n as f64),
        proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
    ]
}

fn integers() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i64::MIN),
        Just(i64::MAX),
        any::<i64>()
    ]
}

/// An optional value: absent a third of the time.
fn maybe<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 2 => value.prop_map(Some)]
}

/// The arguments of one of the calls that speak, with some optional ones left out.
fn arguments() -> impl Strategy<Value = (&'static str, Map<String, Value>)> {
    let order = (strings(), maybe(any::<bool>())).prop_map(|(id, rush)| {
        let mut arguments = Map::new();
        arguments.insert("order_id".to_owned(), json!(id));
        if let Some(rush) = rush {
            arguments.insert("rush".to_owned(), json!(rush));
        }
        ("order_status", arguments)
    });
    let table = (
        prop_oneof![Just(2), Just(4), Just(6)],
        maybe(prop_oneof![Just("inside"), Just("terrace")]),
        maybe(proptest::collection::vec(strings(), 0..3)),
    )
        .prop_map(|(seats, area, notes)| {
            let mut arguments = Map::new();
            arguments.insert("seats".to_owned(), json!(seats));
            if let Some(area) = area {
                arguments.insert("area".to_owned(), json!(area));
            }
            if let Some(notes) = notes {
                arguments.insert("notes".to_owned(), json!(notes));
            }
            ("book_table", arguments)
        });
    let stock = (
        strings(),
        maybe(integers()),
        maybe(numbers()),
        maybe(any::<bool>()),
        maybe(strings()),
        maybe(prop_oneof![Just("small"), Just("large")]),
    )
        .prop_map(|(sku, quantity, max_price, gift, note, size)| {
            let mut arguments = Map::new();
            arguments.insert("sku".to_owned(), json!(sku));
            let optional = [
                ("quantity", quantity.map(|n| json!(n))),
                ("max_price", max_price.map(|n| json!(n))),
                ("gift", gift.map(|b| json!(b))),
                ("note", note.map(|text| json!(text))),
                ("size", size.map(|size| json!(size))),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    arguments.insert(name.to_owned(), value);
                }
            }
            ("check_stock", arguments)
        });
    prop_oneof![1 => order, 1 => table, 3 => stock]
}

fn generated_cases() -> impl Strategy<Value = Case> {
    (
        (strings(), any::<bool>(), numbers(), integers()),
        (
            maybe(strings()),
            maybe(any::<bool>()),
            maybe(integers()),
            maybe(numbers()),
        ),
        arguments(),
    )
        .prop_map(
            |(
                (caller_name, member, credit, visits),
                (order_state, pinged, stock_left, unit_price),
                (call, arguments),
            )| Case {
                caller_name,
                member,
                credit,
                visits,
                order_state,
                pinged,
                stock_left,
                unit_price,
                call,
                arguments,
            },
        )
}

/// The edges, picked by hand: every optional value absent, then every one present and falsy
/// or extreme.
fn edges() -> Vec<Case> {
    let bare = Case {
        caller_name: String::new(),
        member: false,
        credit: 0.0,
        visits: 0,
        order_state: None,
        pinged: None,
        stock_left: None,
        unit_price: None,
        call: "check_stock",
        arguments: json!({"sku": ""}).as_object().unwrap().clone(),
    };
    let falsy = Case {
        caller_name: "Ada".to_owned(),
        member: true,
        credit: -0.0,
        visits: -1,
        order_state: Some(String::new()),
        pinged: Some(false),
        stock_left: Some(0),
        unit_price: Some(0.0),
        arguments: json!({
            "sku": "X-1", "quantity": 0, "max_price": 0.0, "gift": false, "note": "",
            "size": "small",
        })
        .as_object()
        .unwrap()
        .clone(),
        ..bare.clone()
    };
    let extreme = Case {
        credit: 1e21,
        visits: i64::MIN,
        order_state: Some("shipped".to_owned()),
        pinged: Some(true),
        stock_left: Some(i64::MAX),
        unit_price: Some(1e-7),
        arguments: json!({
            "sku": "{{x}}", "quantity": -5, "max_price": 2.5, "gift": true, "note": "ribbon",
            "size": "large",
        })
        .as_object()
        .unwrap()
        .clone(),
        ..falsy.clone()
    };
    let order = |arguments: Value| Case {
        call: "order_status",
        arguments: arguments.as_object().unwrap().clone(),
        ..falsy.clone()
    };
    let table = |arguments: Value| Case {
        call: "book_table",
        arguments: arguments.as_object().unwrap().clone(),
        ..falsy.clone()
    };
    vec![
        bare,
        falsy.clone(),
        extreme,
        order(json!({"order_id": "A-1"})),
        order(json!({"order_id": "", "rush": true})),
        order(json!({"order_id": "A-1", "rush": false})),
        table(json!({"seats": 6})),
        table(json!({"seats": 2, "area": "inside", "notes": ["window"]})),
    ]
}

/// A server that answers every request with a 500 after `delay`: slow enough for every
/// `delayed` line, and failing, for every `failed` line.
async fn failing_slowly(delay: Duration) -> Client {
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        StatusCode::INTERNAL_SERVER_ERROR
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Client::new().with_base_url(&base).unwrap()
}

/// What the generated dispatcher says for `case`, in order.
async fn generated(client: &Client, case: &Case) -> Vec<(SayReason, String)> {
    let call = ToolCall {
        id: None,
        name: case.call.to_owned(),
        arguments: Value::Object(case.arguments.clone()),
    };
    let mut events = Vec::new();
    let result = calls::dispatch_with_events(
        client,
        &case.context(),
        &mut case.api(),
        &call,
        &mut |event| events.push(event),
    )
    .await;
    assert!(result.is_error(), "the server fails every call: {result:?}");
    events
        .into_iter()
        .filter_map(|event| match event {
            ToolEvent::Say { text, reason, .. } => Some((reason, text)),
            _ => None,
        })
        .collect()
}

/// What the request model renders for `case`: each line the call has, in the order a slow,
/// failing call says them.
fn modelled(requests: &Requests, case: &Case) -> Vec<(SayReason, String)> {
    let model = requests
        .calls
        .iter()
        .find(|model| model.name == case.call)
        .unwrap();
    let values = case.values();
    let render = |message: &Message| message.render(|wanted| look_up(&values, wanted));
    let messages = &model.messages;
    let mut lines = Vec::new();
    if let Some(start) = &messages.start {
        lines.push((SayReason::Start, render(start)));
    }
    if let Some(delayed) = &messages.delayed {
        lines.push((SayReason::Delayed, render(&delayed.say)));
    }
    if let Some(failed) = &messages.failed {
        lines.push((SayReason::Failed, render(failed)));
    }
    lines
}

#[tokio::test]
async fn the_model_renders_every_message_as_generated_code_does() {
    let requests =
        apicall_build::requests(FIXTURE, &std::fs::read(FIXTURE).unwrap()).expect("valid");
    // Integer parameters are integers in the model, enums included.
    let check_stock = requests.calls.iter().find(|m| m.name == "check_stock");
    let quantity = &check_stock.unwrap().params[1];
    assert_eq!(quantity.shape, Shape::Value(ValueType::Integer));

    let mut runner = TestRunner::default();
    let mut cases = edges();
    for _ in 0..120 {
        cases.push(generated_cases().new_tree(&mut runner).unwrap().current());
    }
    // Past every `after_ms` (400 at most), within every timeout (2000 at least).
    let client = failing_slowly(Duration::from_millis(1000)).await;
    let local = tokio::task::LocalSet::new();
    let said = local
        .run_until(async {
            let running: Vec<_> = cases
                .iter()
                .cloned()
                .map(|case| {
                    let client = client.clone();
                    tokio::task::spawn_local(async move { generated(&client, &case).await })
                })
                .collect();
            let mut said = Vec::new();
            for running in running {
                said.push(running.await.unwrap());
            }
            said
        })
        .await;
    let mut spoke = [0; 3];
    for (case, said) in cases.iter().zip(said) {
        let mut expected = modelled(&requests, case);
        // A request the runtime refuses before sending it (a path segment of `.` or `..`)
        // fails at once, before any `delayed` line is due.
        if !said.iter().any(|(reason, _)| *reason == SayReason::Delayed) {
            expected.retain(|(reason, _)| *reason != SayReason::Delayed);
        }
        assert_eq!(said, expected, "{case:#?}");
        for (reason, _) in &said {
            let kind = match reason {
                SayReason::Start => 0,
                SayReason::Delayed => 1,
                _ => 2,
            };
            spoke[kind] += 1;
        }
    }
    // Every kind of line was compared, many times.
    assert!(spoke.iter().all(|count| *count > 20), "{spoke:?}");
}
