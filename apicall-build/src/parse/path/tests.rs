use super::*;

fn key(k: &str) -> Segment {
    Segment::Key(k.to_owned())
}

#[test]
fn dotted_keys() {
    assert_eq!(
        parse("customer.name").unwrap(),
        vec![key("customer"), key("name")]
    );
}

#[test]
fn indexes_and_dollar_prefix() {
    assert_eq!(
        parse("$.items[0].eta").unwrap(),
        vec![key("items"), Segment::Index(0), key("eta")]
    );
    assert_eq!(
        parse("[2][1]").unwrap(),
        vec![Segment::Index(2), Segment::Index(1)]
    );
}

#[test]
fn quoted_keys_may_hold_dots() {
    assert_eq!(parse("\"a.b\".c").unwrap(), vec![key("a.b"), key("c")]);
    assert_eq!(parse("x.'y[0]'").unwrap(), vec![key("x"), key("y[0]")]);
}

#[test]
fn every_singular_query_form() {
    let cases: &[(&str, Vec<Segment>)] = &[
        ("$['first.name']", vec![key("first.name")]),
        ("$[\"first.name\"]", vec![key("first.name")]),
        (
            "$.orders[-1].id",
            vec![key("orders"), Segment::FromEnd(1), key("id")],
        ),
        ("$[0][-2]", vec![Segment::Index(0), Segment::FromEnd(2)]),
        ("$['a\\'b']", vec![key("a'b")]),
        ("$[\"a\\\"b\"]", vec![key("a\"b")]),
        ("$['a\"b']", vec![key("a\"b")]),
        ("$[\"a'b\"]", vec![key("a'b")]),
        ("$['\\u00e9t\\u00C9']", vec![key("étÉ")]),
        ("$['\\uD83D\\uDE00']", vec![key("😀")]),
        (
            "$['\\b\\f\\n\\r\\t\\/\\\\']",
            vec![key("\u{8}\u{c}\n\r\t/\\")],
        ),
        ("$.été._x1", vec![key("été"), key("_x1")]),
        (
            "$ .a [ 0 ]\t['b']",
            vec![key("a"), Segment::Index(0), key("b")],
        ),
        ("$['']", vec![key("")]),
        (
            "$[9007199254740991]",
            vec![Segment::Index(9_007_199_254_740_991)],
        ),
        (
            "$[-9007199254740991]",
            vec![Segment::FromEnd(9_007_199_254_740_991)],
        ),
        (
            "orders[-1].id",
            vec![key("orders"), Segment::FromEnd(1), key("id")],
        ),
        (
            "data['first.name'].x",
            vec![key("data"), key("first.name"), key("x")],
        ),
        ("first-name.x", vec![key("first-name"), key("x")]),
    ];
    for (path, segments) in cases {
        assert_eq!(parse(path).as_ref(), Ok(segments), "{path}");
    }
}

/// Each form RFC 9535 rejects, with where the problem is.
#[test]
fn rejected_forms_point_into_the_path() {
    let cases: &[(&str, usize, &str)] = &[
        ("$[01]", 2, "no leading zeros"),
        ("$[-01]", 2, "no leading zeros"),
        ("$[-0]", 2, "`-0` is not an index"),
        ("$.1", 2, "cannot start with a digit"),
        ("$[- 1]", 2, "right after the `-`"),
        ("$[9007199254740992]", 2, "within ±9007199254740991"),
        ("$[-9007199254740992]", 2, "within ±9007199254740991"),
        ("$['\\x']", 3, "`\\x` is not an escape"),
        ("$['\\\"']", 3, "`\\\"` is not an escape"),
        ("$[\"\\'\"]", 3, "`\\'` is not an escape"),
        ("$['\\uD83D']", 3, "must be followed by a low one"),
        ("$['\\uD83Dx']", 3, "must be followed by a low one"),
        ("$['\\uDE00']", 3, "must follow a high one"),
        ("$['\\u12']", 3, "four hex digits"),
        ("$['a\u{1}']", 4, "control character"),
        ("$[]", 1, "empty brackets"),
        ("$[ ]", 1, "empty brackets"),
        ("$.a.", 3, "ends with `.`"),
        ("$.", 1, "ends with `.`"),
        ("$[*]", 2, "`[*]` selects many"),
        ("$.*", 2, "`*` selects many"),
        ("$.a[0:2]", 3, "a slice selects many"),
        ("$[:2]", 2, "a slice selects many"),
        ("$[?@.x]", 2, "a filter selects many"),
        ("$..a", 1, "`..` selects many"),
        ("$[0,1]", 1, "a union"),
        ("$['a'", 1, "never closed"),
        ("$['a]", 2, "never closed"),
        ("$.a ", 3, "ends with blank space"),
        ("$.first-name", 2, "quote other keys"),
        ("$x", 1, "expected `.name` or `[...]`"),
        ("$.-a", 2, "quote other keys"),
        ("a..b", 1, "`..` selects many"),
        ("items.*", 6, "`*` selects many"),
        ("a[-0]", 2, "`-0`"),
        ("a.", 1, "ends with `.`"),
        (".a", 0, "starts with `.`"),
    ];
    for (path, offset, message) in cases {
        let error = parse(path).expect_err(path);
        assert!(error.message.contains(message), "{path}: {}", error.message);
        assert_eq!(error.offset, *offset, "{path}: {}", error.message);
    }
}

#[test]
fn malformed_paths_are_errors_not_panics() {
    for bad in [
        "",
        "$",
        "$.",
        "a..b",
        ".a",
        "a.",
        "a[",
        "a[x]",
        "a\"b",
        "\"a",
        "a]b",
        "a[0]b",
        "$[",
        "$['",
        "$['\\",
        "$['\\u",
        "$['\\uD83D\\u",
        "é[",
        "$.é.",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} should be rejected");
    }
}

#[test]
fn depth_is_bounded_at_the_first_segment_too_many() {
    let deepest = vec!["a"; MAX_SEGMENTS].join(".");
    assert_eq!(parse(&deepest).unwrap().len(), MAX_SEGMENTS);
    let error = parse(&format!("{deepest}.b")).unwrap_err();
    assert_eq!(error.offset, deepest.len() + 1);
    let error = parse(&format!("$.{deepest}[0]")).unwrap_err();
    assert_eq!(error.offset, deepest.len() + 2);
}

#[test]
fn display_round_trips() {
    for path in [
        "customer.name",
        "items[0].eta",
        "'a.b'.c",
        "orders[-1].id",
        "\"it's\".x",
    ] {
        assert_eq!(display(&parse(path).unwrap()), path);
    }
}
