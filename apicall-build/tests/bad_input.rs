//! Hostile or broken files give a located error, never a panic or a stack overflow.

use apicall_build::compile;

fn only_error(yaml: &str) -> apicall_build::Diagnostic {
    let diagnostics = compile("calls.yaml", yaml).expect_err("the file is rejected");
    assert_eq!(diagnostics.len(), 1, "{diagnostics}");
    diagnostics.iter().next().cloned().expect("one diagnostic")
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_stack_overflow() {
    for depth in [100, 100_000] {
        let yaml = format!("api_calls: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let error = only_error(&yaml);
        assert!(
            error.message == "calls.yaml is nested deeper than 32 levels",
            "{}",
            error.message
        );
        assert_eq!(error.location(), "calls.yaml:1:44");
    }
}

#[test]
fn alias_bombs_hit_the_parser_budget() {
    let yaml = "a: &a [1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n\
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d]\n\
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f]\n\
        h: [*g,*g,*g,*g,*g,*g,*g,*g]\napi_calls: []\n";
    let error = only_error(yaml);
    assert_eq!(
        error.message,
        "calls.yaml has more than 4,000,000 YAML values (each use of an alias counts)"
    );
    assert!(
        error.pos.is_some_and(|pos| pos.line == 8),
        "{}",
        error.location()
    );
}

#[test]
fn duplicate_keys_are_located_at_the_second_one() {
    let error = only_error("api_calls: []\napi_calls: []\n");
    assert_eq!(error.location(), "calls.yaml:2:1");
    assert_eq!(
        error.message,
        "invalid YAML: duplicate mapping key: api_calls"
    );
}

#[test]
fn tab_indentation_is_located() {
    let error = only_error("api_calls:\n\t- name: x\n");
    assert_eq!(error.location(), "calls.yaml:2:1");
    assert!(error.message.contains("a tab"), "{}", error.message);
}

#[test]
fn a_ten_megabyte_value_is_handled() {
    let big = "x".repeat(10 << 20);
    let yaml = format!(
        "api_calls:\n  - name: a\n    description: {big}\n    url: https://x.example/\n    method: GET\n"
    );
    assert!(compile("calls.yaml", &yaml).is_ok());
}
