//! How calls.yaml is read as YAML: YAML 1.2 core schema scalars, every line break YAML
//! allows, size limits in plain words, one error per bad list entry, and parser errors
//! reworded for the person who wrote the file, each at the right line and column.

use apicall_build::{Diagnostic, Diagnostics, compile};

fn diagnostics(yaml: &str) -> Diagnostics {
    compile("calls.yaml", yaml).expect_err("the file is rejected")
}

/// The one diagnostic the file gives, rendered as the user sees it.
fn rendered(yaml: &str) -> String {
    let diagnostics = diagnostics(yaml);
    assert_eq!(diagnostics.len(), 1, "{diagnostics}");
    diagnostics.to_string()
}

fn only(yaml: &str) -> Diagnostic {
    let diagnostics = diagnostics(yaml);
    assert_eq!(diagnostics.len(), 1, "{diagnostics}");
    diagnostics.iter().next().cloned().expect("one diagnostic")
}

const CALL: &str = "api_calls:
  - name: lookup_customer
    description: Look up the caller
    url: https://crm.example.com/api/customers
    method: GET
";

// ---- YAML 1.2 core schema ----

#[test]
fn yaml_1_1_booleans_are_strings_everywhere() {
    let yaml = format!(
        "variables:\n  y: {{ description: no }}\n{CALL}    query:\n      q: \"{{{{y}}}}\"\n    \
         parameters:\n      - name: n\n        description: yes\n        required: True\n    \
         response_variables:\n      - path: a\n        variable: on\n"
    );
    let generated = compile("calls.yaml", &yaml).unwrap_or_else(|d| panic!("{d}"));
    let source = generated.to_rust_source();
    assert!(source.contains("pub n: "), "the parameter is named `n`");
    assert!(
        source.contains("pub on: "),
        "the response variable is named `on`"
    );
}

#[test]
fn only_true_and_false_are_booleans() {
    let yaml = format!("{CALL}    parameters:\n      - name: a\n        required: yes\n");
    insta::assert_snapshot!(rendered(&yaml));
}

#[test]
fn core_schema_integers_are_numbers() {
    for timeout in ["0o17", "0x1F", "+12", "017"] {
        let yaml = format!("{CALL}    timeout_ms: {timeout}\n");
        assert!(compile("calls.yaml", &yaml).is_ok(), "{timeout}");
    }
}

#[test]
fn yaml_1_1_number_forms_are_strings() {
    for (timeout, col) in [("1_000", 17), ("0b1", 17), ("1:30", 17), ("-0x1F", 17)] {
        let error = only(&format!("{CALL}    timeout_ms: {timeout}\n"));
        assert_eq!(error.location(), format!("calls.yaml:6:{col}"));
        assert_eq!(
            error.message,
            format!(
                "`timeout_ms` must be a whole number of milliseconds, found the string `{timeout}`"
            )
        );
    }
}

#[test]
fn core_schema_nulls_are_nothing() {
    for null in ["~", "null", "Null", "NULL", ""] {
        let error = only(&format!("{CALL}    timeout_ms: {null}\n"));
        assert_eq!(
            error.message,
            "`timeout_ms` must be a whole number of milliseconds, found nothing (null)",
            "{null:?}"
        );
    }
}

#[test]
fn a_decimal_is_quoted_as_written() {
    insta::assert_snapshot!(rendered(&format!("{CALL}    timeout_ms: 1.0\n")));
}

#[test]
fn an_out_of_range_integer_is_quoted_as_written() {
    let error = only(&format!(
        "{CALL}    timeout_ms: 99999999999999999999999999999\n"
    ));
    assert_eq!(error.location(), "calls.yaml:6:17");
    assert!(
        error
            .message
            .ends_with("found 99999999999999999999999999999"),
        "{}",
        error.message
    );
    let digits = format!("1{}", "0".repeat(45));
    insta::assert_snapshot!(rendered(&format!("{CALL}    timeout_ms: {digits}\n")));
}

#[test]
fn numbers_in_query_values_keep_their_spelling() {
    let yaml = format!("{CALL}    query:\n      page: 007\n      ratio: 1.50\n");
    let source = compile("calls.yaml", &yaml)
        .unwrap_or_else(|d| panic!("{d}"))
        .to_rust_source();
    assert!(source.contains("\"007\""), "{source}");
    assert!(source.contains("\"1.50\""), "{source}");
}

// ---- line breaks ----

/// A mistake inside a quoted scalar on line 9 (located by apicall, not the YAML parser) and
/// one the parser locates on line 6.
fn with_breaks(line_break: &str) -> String {
    format!(
        "variables:\n  x: {{}}\n{CALL}    timeout_ms: soon\n    query:\n      a: \"{{{{y}}}}\"\n"
    )
    .replace('\n', line_break)
}

fn locations(yaml: &str) -> Vec<(String, String)> {
    diagnostics(yaml)
        .iter()
        .map(|d| (d.location(), d.message.clone()))
        .collect()
}

#[test]
fn lone_cr_line_breaks_are_line_breaks() {
    let expected = locations(&with_breaks("\n"));
    assert_eq!(
        expected,
        vec![
            (
                "calls.yaml:8:17".to_owned(),
                "`timeout_ms` must be a whole number of milliseconds, found the string `soon`"
                    .to_owned()
            ),
            (
                "calls.yaml:10:11".to_owned(),
                "unknown variable `y`".to_owned()
            ),
        ]
    );
    assert_eq!(locations(&with_breaks("\r")), expected);
}

/// The printed snippet shows the offending line whatever the line breaks: the reporter and
/// the positions split lines the same way.
#[test]
fn every_line_break_style_prints_the_same_diagnostics() {
    let printed = |line_break: &str| {
        compile("calls.yaml", &with_breaks(line_break))
            .err()
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let with_lf = printed("\n");
    assert!(with_lf.contains("8 |     timeout_ms: soon"), "{with_lf}");
    assert_eq!(printed("\r"), with_lf);
    assert_eq!(printed("\r\n"), with_lf);
}

#[test]
fn crlf_is_one_line_break() {
    assert_eq!(
        locations(&with_breaks("\r\n")),
        locations(&with_breaks("\n"))
    );
}

#[test]
fn a_cr_only_file_of_comments_is_empty_but_content_after_a_comment_is_not() {
    assert_eq!(
        only("# nothing\r# here\r").message,
        "the file defines no API calls"
    );
    assert!(
        compile(
            "calls.yaml",
            &format!("# calls\r{CALL}").replace('\n', "\r")
        )
        .is_ok()
    );
}

// ---- tabs ----

#[test]
fn a_tab_in_indentation_is_pointed_at() {
    insta::assert_snapshot!(rendered("api_calls:\n\t- name: x\n"));
}

#[test]
fn a_tab_the_parser_reports_on_the_line_above_is_found_on_its_own_line() {
    let yaml = format!("{CALL}    parameters:\n      - name: a\n    \t    required: true\n");
    let error = only(&yaml);
    assert_eq!(error.location(), "calls.yaml:8:5");
    assert_eq!(
        error.message,
        "YAML indentation must be spaces; this is a tab"
    );
}

// ---- budgets ----

#[test]
fn nesting_past_the_limit_is_said_in_levels() {
    let flow = format!("api_calls: {}{}\n", "[".repeat(60), "]".repeat(60));
    let error = only(&flow);
    assert_eq!(error.location(), "calls.yaml:1:44");
    assert_eq!(error.message, "calls.yaml is nested deeper than 32 levels");
    let block: String = (0..60).map(|i| format!("{}-\n", " ".repeat(i))).collect();
    let error = only(&format!("api_calls:\n{block}"));
    assert_eq!(error.message, "calls.yaml is nested deeper than 32 levels");
    assert_eq!(error.location(), "calls.yaml:33:32");
}

// The value count that stops an alias bomb: `alias_bombs_hit_the_parser_budget` in bad_input.rs.

#[test]
fn too_many_aliases_are_counted_in_words() {
    let aliases = vec!["*a"; 500_001].join(",");
    let error = only(&format!("api_calls: []\nx: &a 1\ny: [{aliases}]\n"));
    assert_eq!(
        error.message,
        "calls.yaml uses more than 500,000 aliases (`*name`)"
    );
}

#[test]
#[ignore = "minutes in a debug build; `parse::yaml` unit tests check the same by count"]
fn fifty_thousand_calls_are_within_the_budget() {
    let calls: String = (0..50_000).map(realistic_call).collect();
    // The mistake is on the last line: reaching it means the whole file was read.
    let yaml = format!("api_calls:\n{calls}  - 1\n");
    let diagnostics = diagnostics(&yaml);
    let last = diagnostics.iter().next_back().expect("a diagnostic");
    assert_eq!(
        last.message,
        "an API call must be a mapping of `key: value`, found the number `1`",
    );
}

/// 42 YAML values: more than most calls have.
fn realistic_call(i: usize) -> String {
    format!(
        "  - name: call_{i}\n    description: d\n    url: https://x.example/{{{{collected.id}}}}\n    \
         method: GET\n    timeout_ms: 3000\n    headers:\n      Authorization: Bearer {{{{k}}}}\n    \
         query:\n      phone: \"{{{{k}}}}\"\n    parameters:\n      - name: id\n        type: string\n        \
         description: The id\n        required: true\n    response_variables:\n      - path: a.b\n        \
         variable: a_{i}\n      - path: a.c\n        variable: c_{i}\n"
    )
}

// ---- one error per bad entry, a bounded number in all ----

#[test]
fn an_entry_that_is_not_a_mapping_is_one_error() {
    insta::assert_snapshot!(rendered("api_calls: [1]\n"));
    let yaml = format!("{CALL}    parameters: [x]\n    response_variables:\n      -\n");
    let messages: Vec<String> = diagnostics(&yaml)
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(
        messages,
        [
            "a parameter must be a mapping of `key: value`, found the string `x`",
            "a response variable must be a mapping of `key: value`, found nothing (null)",
        ]
    );
}

fn twenty_kilobytes_of_ones() -> String {
    format!("api_calls: [{}]\n", vec!["1"; 10_000].join(","))
}

#[test]
fn a_long_list_of_entries_that_are_not_mappings_is_reported_briefly() {
    let diagnostics = diagnostics(&twenty_kilobytes_of_ones());
    assert_eq!(diagnostics.len(), 21);
    let last = diagnostics.iter().next_back().expect("a diagnostic");
    assert_eq!(
        last.message,
        "9980 more entries of `api_calls` from here on are not mappings either"
    );
    assert_eq!(last.location(), "calls.yaml:1:53");
    let printed = diagnostics.to_string().len();
    assert!(printed < 200_000, "{printed}");
}

// ---- parser errors in plain words ----

#[test]
fn a_second_document_is_pointed_at_its_marker() {
    insta::assert_snapshot!(rendered(&format!("---\n{CALL}---\n{CALL}")));
}

#[test]
fn a_template_at_the_start_of_a_plain_value_says_to_quote_it() {
    let yaml = CALL.replace(
        "https://crm.example.com/api/customers",
        "{{base_url}}/customers",
    );
    insta::assert_snapshot!(rendered(&yaml));
    let yaml = format!("variables:\n  k: {{}}\n{CALL}    headers:\n      X-Key: {{{{k}}}}\n");
    insta::assert_snapshot!(rendered(&yaml));
}

#[test]
fn a_recursive_alias_is_explained() {
    insta::assert_snapshot!(rendered("api_calls: []\nx: &x [1, *x]\n"));
}

#[test]
fn an_alias_without_an_anchor_is_explained() {
    insta::assert_snapshot!(rendered("api_calls: *calls\n"));
}

#[test]
fn no_message_shows_rust_debug_text() {
    let cases = [
        format!("api_calls: {}{}\n", "[".repeat(60), "]".repeat(60)),
        "api_calls: []\nx: &x [*x]\n".to_owned(),
        format!("{CALL}---\n"),
        "api_calls:\n\t- 1\n".to_owned(),
    ];
    for yaml in cases {
        for d in &diagnostics(&yaml) {
            assert!(
                !d.message.contains(" { ") && !d.message.contains("from_str"),
                "{}",
                d.message
            );
        }
    }
}
