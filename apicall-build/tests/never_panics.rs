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
}
