//! Response paths are RFC 9535 singular queries: end to end against a local server, and the
//! compiler's parser plus the runtime's extraction checked against a maintained RFC 9535
//! implementation (`serde_json_path`) on generated documents and queries.

use apicall_runtime::Client;
use apicall_runtime::call::{self, CallSpec, Method, PathStep, ResponsePaths};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod orders {
    apicall_macros::include_api_calls!("fixtures/jsonpath.yaml");
}

#[tokio::test]
async fn the_most_recent_order_is_found_from_the_end() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "first.name": "Ada",
            "first": {"name": "not this one"},
            "café": {"open": true},
            "orders": [
                {"id": "o-1", "total": 12},
                {"id": "o-2", "total": 30},
                {"id": "o-3", "total": 7}
            ]
        })))
        .mount(&server)
        .await;
    let client = Client::new().with_base_url(&server.uri()).unwrap();
    let response = orders::recent_orders(&client, &orders::Context {})
        .await
        .unwrap();
    assert_eq!(response.last_order_id, "o-3");
    assert_eq!(response.previous_total, Some(30));
    assert_eq!(response.first_name.as_deref(), Some("Ada"));
    assert_eq!(response.cafe_open, Some(true));
    assert_eq!(response.eighth_order_id, None);
    assert_eq!(response.not_an_object.as_deref(), Some("not this one"));
    assert_eq!(response.first_order_id.as_deref(), Some("o-1"));
}

const KEYS: &[&str] = &[
    "a",
    "b",
    "first.name",
    "it's",
    "say \"hi\"",
    "é",
    "",
    "0",
    "a b",
    "\u{1F600}",
];

/// A JSON document of objects (keys from [`KEYS`]) and arrays, with scalar leaves.
fn document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        "[a-z \"'\\\\é]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(proptest::sample::select(KEYS), inner, 0..5).prop_map(
                |members| {
                    Value::Object(
                        members
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    )
                }
            ),
        ]
    })
}

/// One step of a query, chosen from the document where it can be (so queries mostly find
/// something) and sometimes beside it (a missing key, an index past either end).
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(i64),
}

fn steps_into(doc: &Value, choices: &[u32]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut node = Some(doc);
    for &choice in choices {
        let step = match node {
            Some(Value::Object(members)) if !members.is_empty() && choice % 5 != 0 => {
                let key = members.keys().nth(choice as usize % members.len()).unwrap();
                Step::Key(key.clone())
            }
            Some(Value::Array(items)) if !items.is_empty() && choice % 5 != 0 => {
                let len = items.len() as i64;
                let index = i64::from(choice) % len;
                Step::Index(if choice % 2 == 0 { index } else { index - len })
            }
            _ if choice % 2 == 0 => Step::Key(KEYS[choice as usize % KEYS.len()].to_owned()),
            _ => Step::Index(i64::from(choice % 7) - 3),
        };
        node = match (&step, node) {
            (Step::Key(key), Some(Value::Object(members))) => members.get(key),
            (Step::Index(index), Some(Value::Array(items))) => {
                let len = items.len() as i64;
                let at = if *index < 0 { len + index } else { *index };
                usize::try_from(at).ok().and_then(|at| items.get(at))
            }
            _ => None,
        };
        steps.push(step);
    }
    steps
}

/// The steps written as an RFC 9535 query, each in one of its spellings.
fn spelled(steps: &[Step], styles: &[u32]) -> String {
    let mut query = String::from("$");
    for (step, style) in steps.iter().zip(styles.iter().cycle()) {
        match step {
            Step::Index(index) => query.push_str(&format!("[{index}]")),
            Step::Key(key) => {
                let shorthand = key
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii())
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii());
                match style % 4 {
                    0 if shorthand => query.push_str(&format!(".{key}")),
                    0 | 1 => query.push_str(&format!("['{}']", escaped(key, '\'', false))),
                    2 => query.push_str(&format!("[\"{}\"]", escaped(key, '"', false))),
                    _ => query.push_str(&format!("['{}']", escaped(key, '\'', true))),
                }
            }
        }
    }
    query
}

/// `key` inside `quote`s: the quote and `\` escaped, and with `unicode`, every non-ASCII
/// character as `\uXXXX` (a surrogate pair beyond the BMP).
fn escaped(key: &str, quote: char, unicode: bool) -> String {
    let mut out = String::new();
    for c in key.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if unicode && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The runtime's steps for `query`, as the compiler parses it in a calls.yaml.
fn compiled(query: &str) -> Vec<PathStep> {
    let yaml = format!(
        "api_calls:\n  - name: probe\n    description: d\n    url: https://x.example.com/\n    \
         method: GET\n    response_variables:\n      - {{ path: {}, variable: found }}\n",
        serde_json::to_string(query).unwrap()
    );
    let requests = apicall_build::requests("probe.yaml", yaml.as_bytes())
        .unwrap_or_else(|diagnostics| panic!("{query} was refused:\n{diagnostics}"));
    requests.calls[0].extract[0]
        .path
        .iter()
        .map(|step| match step {
            apicall_build::request::PathStep::Key(key) => PathStep::Key(key.clone()),
            apicall_build::request::PathStep::Index(index) => PathStep::Index(*index),
            apicall_build::request::PathStep::FromEnd(back) => PathStep::FromEnd(*back),
            other => panic!("a step this test does not know: {other:?}"),
        })
        .collect()
}

static SPEC: CallSpec = CallSpec {
    name: "probe",
    method: Method::Get,
    timeout_ms: 1000,
    retries: 0,
};

/// What apicall extracts at `steps` in `doc`, read as the reference's value's type.
fn extracted(doc: &Value, steps: &[PathStep], like: Option<&Value>) -> Option<Value> {
    let paths = ResponsePaths::new([steps]);
    let mut found = call::extract_paths(&SPEC, doc.to_string().as_bytes(), &paths).unwrap();
    match like {
        Some(Value::Bool(_)) => found.boolean(0, "found").unwrap().map(Value::from),
        Some(Value::Number(_)) => found.integer(0, "found").unwrap().map(Value::from),
        Some(Value::Object(_) | Value::Array(_)) => {
            assert!(
                found.string(0, "found").is_err(),
                "a composite is no string"
            );
            like.cloned()
        }
        _ => found.string(0, "found").unwrap().map(Value::from),
    }
}

#[test]
fn extraction_agrees_with_a_reference_rfc9535_implementation() {
    let mut runner = TestRunner::default();
    let cases = (
        document(),
        proptest::collection::vec(any::<u32>(), 1..5),
        proptest::collection::vec(0u32..4, 1..5),
    );
    let mut found_something = 0;
    for _ in 0..512 {
        let (doc, choices, styles) = cases.new_tree(&mut runner).unwrap().current();
        let steps = steps_into(&doc, &choices);
        let query = spelled(&steps, &styles);
        let reference = serde_json_path::JsonPath::parse(&query)
            .unwrap_or_else(|error| panic!("the reference refuses {query}: {error}"));
        let expected = reference
            .query(&doc)
            .at_most_one()
            .unwrap_or_else(|_| panic!("{query} is singular"));
        let ours = extracted(&doc, &compiled(&query), expected);
        // apicall reads JSON null as no value, as a missing one.
        let expected = expected.filter(|value| !value.is_null()).cloned();
        assert_eq!(ours, expected, "{query} in {doc}");
        found_something += usize::from(expected.is_some());
    }
    assert!(
        found_something > 50,
        "only {found_something} queries found a value"
    );
}

/// Queries put together from fragments, well-formed and not: apicall accepts exactly the ones
/// the reference accepts that select at most one value.
#[test]
fn apicall_accepts_the_singular_queries_the_reference_accepts() {
    const FRAGMENTS: &[&str] = &[
        ".a",
        ".é",
        ".1",
        ".",
        "..",
        "[0]",
        "[-1]",
        "[01]",
        "[-0]",
        "['a']",
        "[\"b\"]",
        "['\\u00e9']",
        "['\\uD83D\\uDE00']",
        "['\\uD83D']",
        "['\\x']",
        "[ 1 ]",
        "[- 1]",
        " ",
        "[*]",
        "[]",
        "['it\\'s']",
        "[\"\\'\"]",
        "['\\\"']",
        "[9007199254740992]",
        "[9007199254740991]",
        "[1:2]",
        "[?@.a]",
        "[0,1]",
        "x",
        ".a-b",
        "['a\u{1}']",
    ];
    let mut runner = TestRunner::default();
    let fragments = proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..4);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..3000 {
        let query = format!(
            "${}",
            fragments.new_tree(&mut runner).unwrap().current().concat()
        );
        let yaml_path = serde_json::to_string(&query).unwrap();
        let yaml = format!(
            "api_calls:\n  - name: probe\n    description: d\n    url: https://x.example.com/\n    \
             method: GET\n    response_variables:\n      - {{ path: {yaml_path}, variable: v }}\n"
        );
        let ours = apicall_build::requests("p.yaml", yaml.as_bytes()).is_ok();
        let reference = serde_json_path::JsonPath::parse(&query).is_ok();
        let selects_many = ["*", "..", ":", "?", ","]
            .iter()
            .any(|many| query.contains(many));
        assert_eq!(
            ours,
            reference && !selects_many,
            "{query:?}: apicall {ours}, reference {reference}"
        );
        if ours {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        accepted > 300 && refused > 300,
        "{accepted} accepted, {refused} refused"
    );
}
