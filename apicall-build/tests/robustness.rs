//! Inputs found by fuzzing and outside testing that once crashed the compiler, took quadratic
//! time, or printed hostile or huge text to the user's terminal: each now gets a bounded,
//! located answer.

use std::time::{Duration, Instant};

use apicall_build::{Diagnostic, compile};

fn errors(yaml: &str) -> Vec<Diagnostic> {
    match compile("calls.yaml", yaml) {
        Ok(_) => panic!("expected errors"),
        Err(diagnostics) => diagnostics.iter().cloned().collect(),
    }
}

/// Runs `test` on a thread with the default 2 MiB test stack, so unbounded recursion shows as a
/// failed test here rather than passing on a bigger main-thread stack.
fn on_small_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(test)
        .expect("spawn a test thread")
        .join()
        .expect("the test thread finished without panicking");
}

const CALL: &str = "api_calls:\n  - name: lookup\n    description: Look up the caller\n    url: https://crm.example.com/\n    method: GET\n";

fn with_path(path: &str) -> String {
    format!(
        "{CALL}    response_variables:\n      - path: {path}\n        variable: name\nprompts:\n  p: Hi {{{{api.name}}}}\n"
    )
}

fn with_prompt(prompt: &str) -> String {
    format!(
        "{CALL}    response_variables:\n      - {{ path: a, variable: x }}\nprompts:\n  p: \"{prompt}\"\n"
    )
}

#[test]
fn a_response_path_of_4000_segments_is_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        let path = vec!["a"; 4000].join(".");
        let errors = errors(&with_path(&path));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].message,
            "invalid path: a response path deeper than 64 segments"
        );
        // At the 65th segment: 64 `a.` before it, after `      - path: `.
        assert_eq!(errors[0].location(), "calls.yaml:7:143");
    });
}

#[test]
fn a_response_path_of_64_segments_compiles() {
    on_small_stack(|| {
        let path = vec!["a"; 64].join(".");
        let generated = compile("calls.yaml", &with_path(&path));
        assert!(generated.is_ok(), "{:?}", generated.err());
    });
}

#[test]
fn indexes_count_as_path_segments() {
    let path = format!("a{}", "[0]".repeat(64));
    let errors = errors(&with_path(&path));
    assert_eq!(
        errors[0].message,
        "invalid path: a response path deeper than 64 segments"
    );
}

#[test]
fn ifs_nested_7000_deep_are_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        for depth in [4000, 7000] {
            let prompt = format!(
                "{}x{}",
                "{{#if api.x}}".repeat(depth),
                "{{/if}}".repeat(depth)
            );
            let errors = errors(&with_prompt(&prompt));
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                errors[0].message,
                "`{{#if}}` blocks nested deeper than 64 levels"
            );
            // The 65th `{{#if api.x}}` (13 characters each), after `  p: "`.
            assert_eq!(
                errors[0].location(),
                format!("calls.yaml:9:{}", 7 + 64 * 13)
            );
        }
    });
}

#[test]
fn unclosed_ifs_nested_deep_are_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        let errors = errors(&with_prompt(&"{{#if api.x}}".repeat(7000)));
        assert_eq!(
            errors[0].message,
            "`{{#if}}` blocks nested deeper than 64 levels"
        );
    });
}

#[test]
fn ifs_nested_64_deep_compile() {
    on_small_stack(|| {
        let prompt = format!("{}x{}", "{{#if api.x}}".repeat(64), "{{/if}}".repeat(64));
        let generated = compile("calls.yaml", &with_prompt(&prompt));
        let generated = generated.unwrap_or_else(|e| panic!("{e}"));
        assert!(!generated.to_rust_source().is_empty());
    });
}

#[test]
fn twenty_thousand_variables_in_one_prompt_are_checked_in_linear_time() {
    let prompt = "{{api.x}} ".repeat(20_000);
    let started = Instant::now();
    let generated = compile("calls.yaml", &with_prompt(&prompt));
    let elapsed = started.elapsed();
    assert!(generated.is_ok(), "{:?}", generated.err());
    // Quadratic position lookup took 21 s here in a debug build.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn twenty_thousand_bad_variables_are_each_located_in_linear_time() {
    // Every reference is reported, so every one needs a source position; on one line each, so
    // the test measures locating them, not copying one huge source line into each diagnostic.
    let prompt = "{{api.y}}\n    ".repeat(20_000);
    let yaml = format!(
        "{CALL}    response_variables:\n      - {{ path: a, variable: x }}\nprompts:\n  p: |\n    {prompt}\n"
    );
    let started = Instant::now();
    let errors = errors(&yaml);
    let elapsed = started.elapsed();
    assert_eq!(errors.len(), 20_000);
    assert_eq!(errors[1].location(), "calls.yaml:11:5");
    assert_eq!(errors[19_999].location(), "calls.yaml:20009:5");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn many_variables_on_one_line_are_located_by_counting_on() {
    let prompt = "{{api.y}} ".repeat(300);
    let errors = errors(&with_prompt(&prompt));
    assert_eq!(errors.len(), 300);
    assert_eq!(errors[1].location(), "calls.yaml:9:17");
    assert_eq!(
        errors[299].location(),
        format!("calls.yaml:9:{}", 7 + 299 * 10)
    );
}

/// Every diagnostic of `yaml`, as the macro, build.rs and the CLI print them.
fn printed(yaml: &str) -> String {
    match compile("calls.yaml", yaml) {
        Ok(_) => panic!("expected errors"),
        Err(diagnostics) => diagnostics.to_string(),
    }
}

#[test]
fn raw_control_characters_in_the_file_are_printed_as_codes() {
    // YAML refuses a raw ESC, and the refusal shows the line it is on.
    let yaml = format!("{CALL}    timeout_ms: \"\u{1b}]0;pwned\u{7}\"\n");
    let shown = printed(&yaml);
    for raw in ['\u{1b}', '\u{7}'] {
        assert!(!shown.contains(raw), "{raw:?} printed raw:\n{shown}");
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn quoted_escapes_and_bidi_overrides_are_printed_as_codes() {
    // An ESC and a C1 CSI from YAML escapes, quoted back in a message; a right-to-left override
    // and a zero-width space on the lines shown, which would reorder or hide what they show.
    let yaml = format!(
        "{CALL}    \"x\\e[2J\\x9b\": 1\n    headers:\n      \"X-\u{202e}dia\u{200b}\": \"{{{{nope\u{202e}}}}}\"\n"
    );
    let shown = printed(&yaml);
    for raw in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{200b}'] {
        assert!(!shown.contains(raw), "{raw:?} printed raw:\n{shown}");
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn the_caret_stays_under_the_mistake_after_escaped_characters_and_tabs() {
    let yaml = format!("{CALL}    headers: {{ X: \"\u{202e}\u{200b}\t{{{{nope}}}}\" }}\n");
    let shown = printed(&yaml);
    let lines: Vec<&str> = shown.lines().collect();
    let source = lines[3];
    let carets = lines[4];
    let caret = carets.find('^').expect("a caret line");
    assert_eq!(source.get(caret..caret + 8), Some("{{nope}}"), "\n{shown}");
    assert_eq!(carets[caret..].trim_end(), "^^^^^^^^", "\n{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn a_20_kb_line_is_shown_cut_around_each_caret() {
    // One flow-style line: every error on it would otherwise print all 20 KB.
    let entries: Vec<String> = (0..1000)
        .map(|i| format!("\"X-Header-{i}\": \"{{{{v{i}}}}}\""))
        .collect();
    let yaml = format!("{CALL}    headers: {{ {} }}\n", entries.join(", "));
    assert!(yaml.lines().nth(5).is_some_and(|line| line.len() > 20_000));
    let diagnostics = match compile("calls.yaml", &yaml) {
        Ok(_) => panic!("expected errors"),
        Err(diagnostics) => diagnostics,
    };
    assert_eq!(diagnostics.len(), 1000);
    for diagnostic in &diagnostics {
        let shown = diagnostic.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        let (source, carets) = (lines[3], lines[4]);
        assert!(source.chars().count() < 220, "{shown}");
        let name = diagnostic.message.trim_start_matches("unknown variable `");
        let name = name.trim_end_matches('`');
        let caret = carets.find('^').expect("a caret line");
        let under: String = source
            .chars()
            .skip(carets[..caret].chars().count())
            .take(2 + name.len() + 2)
            .collect();
        assert_eq!(under, format!("{{{{{name}}}}}"), "\n{shown}");
    }
    let total: usize = diagnostics.iter().map(|d| d.to_string().len()).sum();
    assert!(total < 1000 * 500, "{total} bytes printed");
    let first = diagnostics.iter().next().map(ToString::to_string);
    let last = diagnostics.iter().last().map(ToString::to_string);
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        first.unwrap_or_default(),
        last.unwrap_or_default()
    ));
}

#[test]
fn short_lines_are_shown_whole() {
    let line = format!("    headers: {{ A: \"{}{{{{nope}}}}\" }}", "x".repeat(150));
    let shown = printed(&format!("{CALL}{line}\n"));
    assert!(shown.contains(&format!("6 | {line}\n")), "{shown}");
}
