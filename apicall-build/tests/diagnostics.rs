//! Each mistake is reported at the line and column of the offending value, with a plain
//! message and, where a near name exists, a suggestion; all mistakes of a file together.

use apicall_build::{Diagnostic, compile, compile_bytes};

fn errors(yaml: &str) -> Vec<Diagnostic> {
    match compile("calls.yaml", yaml) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(diagnostics) => diagnostics.iter().cloned().collect(),
    }
}

/// `(line, col, message)` of each diagnostic.
fn located(yaml: &str) -> Vec<(u32, u32, String)> {
    errors(yaml)
        .into_iter()
        .map(|d| {
            let pos = d.pos.expect("every diagnostic here has a position");
            (pos.line, pos.col, d.message)
        })
        .collect()
}

const CALL: &str = "
  - name: lookup_customer
    description: Look up the caller
    url: https://crm.example.com/api/customers
    method: GET";

#[test]
fn undeclared_variable_in_header_points_at_its_braces_and_suggests_the_near_name() {
    let yaml = format!(
        "variables:\n  api_key: {{ secret: true }}\napi_calls:{CALL}\n    headers:\n      Authorization: Bearer {{{{ api_kye }}}}\n"
    );
    let errors = errors(&yaml);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].location(), "calls.yaml:9:29");
    assert_eq!(errors[0].message, "unknown variable `api_kye`");
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `api_key`?"));
    assert_eq!(errors[0].width, "{{ api_kye }}".len());
}

#[test]
fn positions_inside_quoted_strings_count_the_quote() {
    let yaml = format!(
        "variables:\n  caller_phone: {{}}\napi_calls:{CALL}\n    query:\n      phone: \"+{{{{caler_phone}}}}\"\n"
    );
    assert_eq!(
        located(&yaml),
        vec![(9, 16, "unknown variable `caler_phone`".to_owned())]
    );
}

#[test]
fn positions_inside_block_prompts_are_on_the_right_line() {
    let yaml = format!(
        "api_calls:{CALL}\nprompts:\n  greeting: |\n    Hello!\n    Your tier is {{{{api.tier}}}}.\n"
    );
    assert_eq!(
        located(&yaml),
        vec![(9, 18, "no API call extracts `{{api.tier}}`".to_owned())]
    );
}

#[test]
fn collected_value_that_is_not_a_parameter_of_the_call() {
    let yaml = "api_calls:
  - name: order_status
    description: x
    url: https://api.example.com/orders/{{collected.order_number}}
    method: GET
    parameters:
      - name: order_id
        required: true
";
    let errors = errors(yaml);
    assert_eq!(errors[0].location(), "calls.yaml:4:41");
    assert_eq!(
        errors[0].message,
        "`{{collected.order_number}}` is not a parameter of this call"
    );
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `order_id`?"));
}

#[test]
fn collected_value_in_the_host_is_refused() {
    let yaml = "api_calls:
  - name: fetch
    description: x
    url: https://{{collected.host}}.example.com/x
    method: GET
    parameters:
      - name: host
        required: true
";
    let errors = located(yaml);
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].0, errors[0].1), (4, 18));
    assert!(
        errors[0].2.contains("scheme, host or port"),
        "{}",
        errors[0].2
    );
}

#[test]
fn missing_required_fields_are_reported_at_the_call() {
    let yaml = "api_calls:\n  - name: order_status\n    description: x\n";
    assert_eq!(
        located(yaml),
        vec![
            (
                2,
                5,
                "this API call is missing the required field `url`".to_owned()
            ),
            (
                2,
                5,
                "this API call is missing the required field `method`".to_owned()
            ),
        ]
    );
}

#[test]
fn wrong_type_for_timeout() {
    let yaml = format!("api_calls:{CALL}\n    timeout_ms: fast\n");
    assert_eq!(
        located(&yaml),
        vec![(
            6,
            17,
            "`timeout_ms` must be a whole number of milliseconds, found the string `fast`"
                .to_owned()
        )]
    );
}

#[test]
fn timeout_out_of_range() {
    for bad in ["0", "60001", "-5"] {
        let yaml = format!("api_calls:{CALL}\n    timeout_ms: {bad}\n");
        let errors = located(&yaml);
        assert_eq!((errors[0].0, errors[0].1), (6, 17), "{bad}");
    }
}

#[test]
fn unknown_keys_suggest_the_known_one() {
    let yaml = format!("api_calls:{CALL}\n    reponse_variables: []\n");
    let errors = errors(&yaml);
    assert_eq!(errors[0].location(), "calls.yaml:6:5");
    assert_eq!(errors[0].message, "unknown key `reponse_variables`");
    assert_eq!(
        errors[0].help.as_deref(),
        Some("did you mean `response_variables`?")
    );
}

#[test]
fn unknown_method_suggests_the_near_one() {
    let yaml = CALL.replace("GET", "GTE");
    let errors = errors(&format!("api_calls:{yaml}"));
    assert_eq!(errors[0].message, "unknown HTTP method `GTE`");
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `GET`?"));
}

#[test]
fn methods_are_case_insensitive() {
    let yaml = format!("api_calls:{}", CALL.replace("GET", "get"));
    assert!(compile("calls.yaml", &yaml).is_ok());
}

#[test]
fn all_mistakes_are_reported_together_in_source_order() {
    let yaml = "variables:
  phone: {}
api_calls:
  - name: BadName
    description: x
    url: ftp://example.com
    method: FETCH
    query:
      a: '{{phon}}'
prompts:
  greeting: Hi {{api.name}}
";
    let lines: Vec<u32> = located(yaml).iter().map(|e| e.0).collect();
    assert_eq!(lines, vec![4, 6, 7, 9, 11]);
}

#[test]
fn invalid_yaml_is_located() {
    let errors = errors("api_calls:\n  - name: x\n    description: [unclosed\n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.starts_with("invalid YAML"),
        "{}",
        errors[0].message
    );
    assert!(errors[0].pos.is_some());
}

#[test]
fn empty_and_comment_only_files_say_there_are_no_calls() {
    for yaml in ["", "# nothing here\n", "\n\n"] {
        let errors = errors(yaml);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("no API calls"),
            "{}",
            errors[0].message
        );
    }
}

#[test]
fn a_file_that_is_not_a_mapping() {
    let errors = errors("- just\n- a list\n");
    assert!(
        errors[0].message.contains("must be a mapping"),
        "{}",
        errors[0].message
    );
}

#[test]
fn non_utf8_bytes_are_a_located_error() {
    let errors = compile_bytes("calls.yaml", b"api_calls:\n  - name: \xff\n").unwrap_err();
    assert_eq!(errors.iter().next().unwrap().location(), "calls.yaml:2:11");
}

#[test]
fn secrets_cannot_be_used_in_prompts() {
    let yaml = format!(
        "variables:\n  api_key: {{ secret: true }}\napi_calls:{CALL}\nprompts:\n  p: 'key {{{{api_key}}}}'\n"
    );
    let errors = located(&yaml);
    assert_eq!(
        errors[0].2,
        "secret variable `api_key` cannot be used in a prompt"
    );
}

#[test]
fn rust_keywords_and_duplicates_are_rejected() {
    let yaml = format!(
        "api_calls:{CALL}{CALL}\n  - name: match\n    description: x\n    url: https://x.example/\n    method: GET\n"
    );
    let messages: Vec<String> = located(&yaml).into_iter().map(|e| e.2).collect();
    assert!(
        messages.contains(&"call `lookup_customer` is defined twice".to_owned()),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("Rust keyword")),
        "{messages:?}"
    );
}

#[test]
fn rendered_diagnostic_shows_file_line_column_source_and_caret() {
    let yaml = format!(
        "variables:\n  caller_phone: {{}}\napi_calls:{CALL}\n    query:\n      phone: \"{{{{caler_phone}}}}\"\n"
    );
    let rendered = errors(&yaml)[0].to_string();
    assert_eq!(
        rendered,
        "error: unknown variable `caler_phone`
 --> calls.yaml:9:15
  |
9 |       phone: \"{{caler_phone}}\"
  |               ^^^^^^^^^^^^^^^
  = help: did you mean `caller_phone`?"
    );
}

const WEBHOOK_FILE: &str = "variables:
  caller_phone: {}
  webhook_secret: { secret: true }
api_calls:
  - name: lookup_customer
    description: Look up the caller
    url: https://crm.example.com/api/customers
    method: GET
    response_variables:
      - { path: customer.name, variable: customer_name }
webhooks:
  post_call:
";

#[test]
fn every_mistake_in_a_webhook_is_reported_together() {
    let yaml = format!(
        "{WEBHOOK_FILE}    - name: crm_summary
      url: https://{{{{call.id}}}}.example.com/hooks
      secret: caller_phone
      retries: -1
      timeout_ms: 90000
      headers:
        X-Order: \"{{{{collected.order_id}}}}\"
      body:
        outcome: \"{{{{call.outcom}}}}\"
        customer: \"{{{{api.customer}}}}\"
        tier: \"{{{{#if api.customer_name}}}}x{{{{/if}}}}\"
"
    );
    let found = located(&yaml);
    let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "a value from the conversation or a response cannot be used in the URL's scheme, host or port",
            "`caller_phone` signs webhooks, so it must be a secret variable",
            "a webhook's `retries` must be between 0 and 10, found -1",
            "`timeout_ms` must be between 1 and 60000, found 90000",
            "`{{collected.order_id}}` cannot be used in a webhook: LLM parameters belong to one call",
            "`{{call.outcom}}` is not a fact of the conversation",
            "no API call extracts `{{api.customer}}`",
            "`{{#if}}` is for prompts",
        ],
        "{found:?}"
    );
    let lines: Vec<u32> = found.iter().map(|(line, ..)| *line).collect();
    assert_eq!(lines, [14, 15, 16, 17, 19, 21, 22, 23]);
}

#[test]
fn a_webhook_secret_may_be_written_as_a_template() {
    for secret in [
        "webhook_secret",
        "\"{{webhook_secret}}\"",
        "\"{{ webhook_secret }}\"",
    ] {
        let yaml = format!(
            "{WEBHOOK_FILE}    - name: crm_summary\n      url: https://crm.example.com/hooks\n      secret: {secret}\n"
        );
        let generated = compile("calls.yaml", &yaml)
            .unwrap_or_else(|e| panic!("{secret}: {e:?}"))
            .to_rust_source();
        assert!(
            generated.contains(r#"Some(("webhook_secret", &context.webhook_secret))"#),
            "{secret}: {generated}"
        );
    }
}

#[test]
fn a_webhook_secret_is_one_context_variable() {
    for secret in [
        "\"{{api.customer_name}}\"",
        "\"{{webhook_secret}}x\"",
        "\"{{a\"",
    ] {
        let yaml = format!(
            "{WEBHOOK_FILE}    - name: crm_summary\n      url: https://crm.example.com/hooks\n      secret: {secret}\n"
        );
        assert_eq!(
            located(&yaml),
            vec![(15, 15, "`secret:` names one secret variable".to_owned())],
            "{secret}"
        );
    }
}

#[test]
fn a_webhook_name_may_not_shadow_a_call_s_generated_items() {
    let yaml =
        format!("{WEBHOOK_FILE}    - name: summary\n      url: https://crm.example.com/hooks\n")
            .replace("name: lookup_customer", "name: webhook_summary");
    assert_eq!(
        located(&yaml),
        vec![(
            13,
            13,
            "the renderer of webhook `summary` would be named `webhook_summary`, which is already the function of call `webhook_summary`".to_owned()
        )]
    );
}
