//! Arbitrary input to the compiler, the template lexer and the path parser: an answer (code or
//! diagnostics), never a panic.

use proptest::prelude::*;

const CALL_HEAD: &str = "api_calls:\n  - name: a\n    description: x\n    method: GET\n    url: ";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_compiles_or_is_diagnosed(source in "\\PC{0,200}") {
        let _ = apicall_build::compile("calls.yaml", &source);
    }

    #[test]
    fn any_bytes_compile_or_are_diagnosed(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = apicall_build::compile_bytes("calls.yaml", &bytes);
    }

    #[test]
    fn yaml_like_text_compiles_or_is_diagnosed(source in "([a-z_:{}\\[\\]\"' .$#\\-|\n]|api_calls|url|\\{\\{|\\}\\}){0,80}") {
        let _ = apicall_build::compile("calls.yaml", &source);
    }

    #[test]
    fn any_url_template_compiles_or_is_diagnosed(url in "(https?://|\\{\\{|\\}\\}|collected\\.|api\\.|[a-z/?#:@. \"'{}%])*") {
        let _ = apicall_build::compile("calls.yaml", &format!("{CALL_HEAD}{url:?}\n"));
    }

    #[test]
    fn any_response_path_compiles_or_is_diagnosed(path in "(\\$\\.|[a-z.\\[\\]0-9\"'$])*") {
        let yaml = format!("{CALL_HEAD}https://x.example/\n    response_variables:\n      - path: {path:?}\n        variable: v\n");
        let _ = apicall_build::compile("calls.yaml", &yaml);
    }

    #[test]
    fn any_webhook_compiles_or_is_diagnosed(
        url in "(https?://|\\{\\{|\\}\\}|call\\.|api\\.|[a-z/?#:@. {}%])*",
        body in "(\\{\\{|\\}\\}|call\\.|api\\.|collected\\.|[a-z_ .\"'{}|#/])*",
        secret in "(\\{\\{|\\}\\}|[a-z_ ])*",
    ) {
        let yaml = format!(
            "variables:\n  k: {{ secret: true }}\n{CALL_HEAD}https://x.example/\nwebhooks:\n  post_call:\n    - name: w\n      url: {url:?}\n      secret: {secret:?}\n      body:\n        b: {body:?}\n"
        );
        let _ = apicall_build::compile("calls.yaml", &yaml);
    }

    #[test]
    fn any_prompt_compiles_or_is_diagnosed(prompt in "(\\{\\{|\\}\\}|api\\.|[a-z .\"'{}\n])*") {
        let yaml = format!("{CALL_HEAD}https://x.example/\nprompts:\n  p: {prompt:?}\n");
        let _ = apicall_build::compile("calls.yaml", &yaml);
    }

    #[test]
    fn yaml_with_any_line_breaks_tabs_and_number_forms_is_diagnosed(
        source in "([a-z_:{}\\[\\]\" .\\-|\r\n\t0-9+]|api_calls|name|0x|0o|0b|1_0|yes|on|~|\\.inf|---){0,80}"
    ) {
        let _ = apicall_build::compile("calls.yaml", &source);
    }

    /// Whatever the file holds, the printed diagnostics carry no terminal control sequence or
    /// bidi override: only printable text, tabs and line breaks reach the terminal.
    #[test]
    fn printed_diagnostics_hold_no_control_or_bidi_characters(
        junk in "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z{} ]{0,40}"
    ) {
        let yaml = format!("api_calls:\n  - name: a\n    description: x\n    method: GET\n    url: https://x.example/\n    {junk}: 1\n    headers: {{ X-A: \"{{{{{junk}}}}}\" }}\n");
        if let Err(diagnostics) = apicall_build::compile("calls.yaml", &yaml) {
            let printed = diagnostics.to_string();
            let bad = printed.chars().find(|c| {
                (c.is_control() && !matches!(c, '\n' | '\t'))
                    || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            });
            prop_assert!(bad.is_none(), "{bad:?} printed in {printed:?}");
        }
    }

    /// A JSON number written in a body is sent digit for digit.
    #[test]
    fn body_numbers_keep_their_digits(
        number in "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?"
    ) {
        let yaml = format!("api_calls:\n  - name: a\n    description: x\n    method: POST\n    url: https://x.example/\n    body:\n      n: {number}\n");
        let generated = apicall_build::compile("calls.yaml", &yaml);
        prop_assert!(generated.is_ok(), "{number}: {:?}", generated.err().map(|d| d.to_string()));
        let source = generated.map(|g| g.to_rust_source()).unwrap_or_default();
        let needle = format!("{{\\\"n\\\":{number}}}");
        prop_assert!(source.contains(&needle), "{needle} not in the generated body");
    }
}
