use super::*;
use crate::spec::Method;

static SPEC: CallSpec = CallSpec {
    name: "lookup_customer",
    method: Method::Get,
    timeout_ms: 1000,
    retries: 0,
};

const fn leaf(slot: &'static [usize]) -> PathNode {
    PathNode {
        slots: slot,
        keys: &[],
        indexes: &[],
        from_end: &[],
    }
}

// customer.name -> 0, customer.age -> 1, items[1].eta -> 2, "a.b" -> 3, customer -> 4
static TREE: PathNode = PathNode {
    slots: &[],
    keys: &[
        (
            "customer",
            PathNode {
                slots: &[4],
                keys: &[("name", leaf(&[0])), ("age", leaf(&[1]))],
                indexes: &[],
                from_end: &[],
            },
        ),
        (
            "items",
            PathNode {
                slots: &[],
                keys: &[],
                indexes: &[(
                    1,
                    PathNode {
                        slots: &[],
                        keys: &[("eta", leaf(&[2]))],
                        indexes: &[],
                        from_end: &[],
                    },
                )],
                from_end: &[],
            },
        ),
        ("a.b", leaf(&[3])),
    ],
    indexes: &[],
    from_end: &[],
};

fn run(json: &str) -> Result<Extracted, Error> {
    extract(&SPEC, json.as_bytes(), &TREE, 5)
}

#[test]
fn reads_nested_keys_indexes_and_dotted_keys() {
    let mut found = run(
        r#"{"x": [1, {"y": 2}], "customer": {"name": "Ada", "age": 36, "tags": ["a"]},
        "items": [{"eta": "late"}, {"eta": "soon"}], "a.b": true}"#,
    )
    .unwrap();
    assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("Ada"));
    assert_eq!(found.integer(1, "age").unwrap(), Some(36));
    assert_eq!(found.string(2, "eta").unwrap().as_deref(), Some("soon"));
    assert_eq!(found.boolean(3, "ab").unwrap(), Some(true));
}

#[test]
fn missing_paths_are_none() {
    let mut found = run(r#"{"customer": "not an object", "items": [{"eta": 1}]}"#).unwrap();
    assert_eq!(found.string(0, "name").unwrap(), None);
    assert_eq!(found.string(2, "eta").unwrap(), None);
    assert_eq!(found.boolean(3, "ab").unwrap(), None);
    let mut found = run("[]").unwrap();
    assert_eq!(found.string(0, "name").unwrap(), None);
}

#[test]
fn numbers_and_booleans_render_as_text_for_strings() {
    let mut found =
        run(r#"{"customer": {"name": 42, "age": 1}, "items": [0, {"eta": 4.5}], "a.b": false}"#)
            .unwrap();
    assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("42"));
    assert_eq!(found.string(2, "eta").unwrap().as_deref(), Some("4.5"));
    assert_eq!(found.string(3, "ab").unwrap().as_deref(), Some("false"));
}

#[test]
fn numbers_extracted_as_strings_keep_their_exact_json_text() {
    for json in [
        "98765432109876543210",
        "-98765432109876543210",
        "123456789012345678901234567890",
        "18446744073709551616",
        "-9223372036854775809",
        "1E+400",
        "-1.5e-7",
        "12345678901234567890123e5",
        "3.14159265358979323846264338327950288",
        "0.10000000000000000000000001",
        "1.0",
        "-0.25",
        "1e20",
        "-0",
        "0",
    ] {
        let body = format!(r#"{{"customer": {{"name": {json}, "age": [{json}]}}}}"#);
        let mut found = run(&body).unwrap();
        assert_eq!(found.string(0, "name").unwrap().as_deref(), Some(json));
    }
}

#[test]
fn a_captured_parent_keeps_the_digits_of_its_children() {
    let mut found =
        run(r#"{"customer": {"age": 98765432109876543210, "name": 12345678901234567890123e5}}"#)
            .unwrap();
    assert!(matches!(
        found.string(4, "customer"),
        Err(Error::WrongType {
            found: "an object",
            ..
        })
    ));
    assert_eq!(
        found.string(0, "name").unwrap().as_deref(),
        Some("12345678901234567890123e5")
    );
    assert_eq!(
        found.string(1, "age").unwrap().as_deref(),
        Some("98765432109876543210")
    );
}

#[test]
fn integers_must_fit_i64_and_numbers_f64() {
    // `age` (slot 1) read as an integer and as a number.
    let age = |json: &str| {
        let body = format!(r#"{{"customer": {{"age": {json}}}}}"#);
        let mut found = run(&body).unwrap();
        let mut again = run(&body).unwrap();
        (found.integer(1, "age"), again.number(1, "age"))
    };
    assert_eq!(age("9223372036854775807").0.unwrap(), Some(i64::MAX));
    assert_eq!(age("-9223372036854775808").0.unwrap(), Some(i64::MIN));
    assert_eq!(age("-0").0.unwrap(), Some(0));
    for (json, found) in [
        ("9223372036854775808", "an integer"),
        ("98765432109876543210", "an integer"),
        ("1e3", "a decimal number"),
        ("4.0", "a decimal number"),
    ] {
        match age(json).0 {
            Err(Error::WrongType { found: kind, .. }) => assert_eq!(kind, found, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
    assert_eq!(age("-1.5e-7").1.unwrap(), Some(-1.5e-7));
    assert_eq!(
        age("98765432109876543210").1.unwrap(),
        Some(9.876_543_210_987_654e19)
    );
    assert_eq!(age("1e3").1.unwrap(), Some(1000.0));
    assert!(matches!(
        age("1E+400").1,
        Err(Error::WrongType {
            expected: "a number within f64 range",
            ..
        })
    ));
}

#[test]
fn strings_are_unescaped_and_literals_read_as_themselves() {
    let mut found =
        run(r#"{"customer": {"name": "A\u00e9\n\"b\"", "age": null}, "a.b": true}"#).unwrap();
    assert_eq!(
        found.string(0, "name").unwrap().as_deref(),
        Some("A\u{e9}\n\"b\"")
    );
    assert_eq!(found.integer(1, "age").unwrap(), None);
    assert_eq!(found.boolean(3, "ab").unwrap(), Some(true));
}

#[test]
fn a_value_is_read_once_per_slot() {
    let mut found = run(r#"{"customer": {"name": "Ada"}}"#).unwrap();
    assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("Ada"));
    assert_eq!(found.string(0, "name").unwrap(), None);
    // Slots past the count are empty, not a panic.
    assert_eq!(found.string(99, "name").unwrap(), None);
}

#[test]
fn deeply_nested_values_are_skipped_without_recursing() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(r#"{{"x": {deep}, "customer": {{"name": {deep}}}}}"#);
    let mut found = run(&body).unwrap();
    assert!(matches!(
        found.string(0, "name"),
        Err(Error::WrongType {
            found: "an array",
            ..
        })
    ));
    let unclosed = format!(r#"{{"x": {}"#, "[".repeat(100_000));
    assert!(matches!(run(&unclosed), Err(Error::NotJson { .. })));
}

#[test]
fn wrong_types_are_errors_naming_the_variable() {
    let mut found = run(r#"{"customer": {"name": {"first": "Ada"}, "age": "old"}}"#).unwrap();
    let error = found.string(0, "customer_name").unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongType {
                variable: "customer_name",
                found: "an object",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        found.integer(1, "age"),
        Err(Error::WrongType { .. })
    ));
    let mut found = run(r#"{"customer": {"age": 4.5}}"#).unwrap();
    assert!(matches!(
        found.integer(1, "age"),
        Err(Error::WrongType { .. })
    ));
    let mut found = run(r#"{"customer": {"age": 18446744073709551615}}"#).unwrap();
    assert!(matches!(
        found.integer(1, "age"),
        Err(Error::WrongType { .. })
    ));
    let mut found = run(r#"{"customer": {"age": 18446744073709551615}}"#).unwrap();
    assert!(found.number(1, "age").unwrap().is_some());
}

#[test]
fn fields_read_by_their_type_and_the_first_error_wins() {
    let found = run(r#"{"customer": {"name": "Ada", "age": 36}, "a.b": false}"#).unwrap();
    let read = found.into_response(|found| {
        let name: String = found.field(0, "name");
        let age: Option<i64> = found.field(1, "age");
        let eta: Option<String> = found.field(2, "eta");
        let flag: bool = found.field(3, "ab");
        (name, age, eta, flag)
    });
    assert_eq!(read.unwrap(), ("Ada".to_owned(), Some(36), None, false));

    // The wrong type in slot 0 is read first; the missing required slot 2 comes after.
    let found = run(r#"{"customer": {"name": [1], "age": 36}}"#).unwrap();
    let error = found
        .into_response(|found| {
            let name: Option<String> = found.field(0, "name");
            let eta: String = found.field(2, "eta");
            let age: f64 = found.field(1, "age");
            (name, eta, age)
        })
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongType {
                variable: "name",
                ..
            }
        ),
        "{error:?}"
    );

    let found = run(r#"{"customer": {"age": 36}}"#).unwrap();
    let error = found
        .into_response(|found| found.field::<i64>(2, "eta"))
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MissingRequired {
                variable: "eta",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_value_that_is_also_a_parent_is_captured_as_its_kind() {
    let mut found = run(r#"{"customer": {"name": "Ada"}}"#).unwrap();
    assert!(matches!(
        found.string(4, "customer"),
        Err(Error::WrongType {
            found: "an object",
            ..
        })
    ));
    assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("Ada"));
}

#[test]
fn escaped_keys_match_their_unescaped_form() {
    let mut found = run(r#"{"cust\u006fmer": {"na\u006de": "Ada \"A\""}}"#).unwrap();
    assert_eq!(
        found.string(0, "name").unwrap().as_deref(),
        Some("Ada \"A\"")
    );
}

#[test]
fn an_empty_body_has_no_values() {
    for body in ["", " \n"] {
        let mut found = run(body).unwrap();
        assert_eq!(found.string(0, "name").unwrap(), None);
    }
}

#[test]
fn malformed_json_is_not_json() {
    for body in [
        "{",
        "<html>",
        r#"{"customer": {"name": "Ada"}} trailing"#,
        "{\"a\": tru}",
    ] {
        assert!(matches!(run(body), Err(Error::NotJson { .. })), "{body:?}");
    }
}

/// Elements counted from the end (`[-1]`), beside indexes into the same array, nested,
/// and selecting nothing past either end or on a value that is not an array.
#[test]
fn elements_from_the_end() {
    use super::paths::{PathStep, ResponsePaths};
    let key = |k: &str| PathStep::Key(k.to_owned());
    let paths = [
        vec![key("orders"), PathStep::FromEnd(1), key("id")],
        vec![key("orders"), PathStep::FromEnd(3), key("id")],
        vec![key("orders"), PathStep::Index(0), key("id")],
        vec![key("orders"), PathStep::FromEnd(4)],
        vec![key("name"), PathStep::FromEnd(1)],
        vec![
            key("orders"),
            PathStep::FromEnd(1),
            key("lines"),
            PathStep::FromEnd(1),
        ],
    ];
    let paths = ResponsePaths::new(paths.iter().map(Vec::as_slice));
    let body = r#"{"name": "Ada", "orders": [
        {"id": "o-1"}, {"id": "o-2"}, {"id": "o-3", "lines": [1, 2, 3]}
    ]}"#;
    let mut found = extract_paths(&SPEC, body.as_bytes(), &paths).unwrap();
    assert_eq!(found.string(0, "last").unwrap().as_deref(), Some("o-3"));
    assert_eq!(found.string(1, "first").unwrap().as_deref(), Some("o-1"));
    assert_eq!(found.string(2, "zeroth").unwrap().as_deref(), Some("o-1"));
    assert_eq!(found.string(3, "too_far").unwrap(), None);
    assert_eq!(found.string(4, "not_an_array").unwrap(), None);
    assert_eq!(found.integer(5, "last_line").unwrap(), Some(3));
}
