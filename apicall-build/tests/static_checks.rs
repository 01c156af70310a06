//! Checks on what the YAML author wrote that used to pass the compiler and fail later: static
//! text HTTP cannot carry, and YAML names whose generated Rust names collide. Each snapshot is
//! the compiler's whole output for the file, so the line, column and wording are reviewed.

fn diagnostics(yaml: &str) -> String {
    match apicall_build::compile("calls.yaml", yaml) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(diagnostics) => diagnostics.to_string(),
    }
}

const VARIABLES: &str = "variables:
  api_key: { secret: true }
";

fn call(extra: &str) -> String {
    format!(
        "{VARIABLES}api_calls:
  - name: lookup_customer
    description: Look up the caller
    url: https://crm.example.com/api/customers
    method: GET
{extra}"
    )
}

#[test]
fn an_escaped_line_break_in_a_header_is_refused_at_the_escape() {
    let yaml =
        call("    headers:\n      Authorization: \"Bearer {{api_key}}\\r\\nX-Injected: 1\"\n");
    insta::assert_snapshot!(diagnostics(&yaml));
}

#[test]
fn a_nul_in_a_query_value_is_refused() {
    let yaml = call("    query:\n      phone: \"+1\\0\"\n");
    insta::assert_snapshot!(diagnostics(&yaml));
}

#[test]
fn a_line_break_in_a_url_is_refused() {
    let yaml = call("").replace(
        "url: https://crm.example.com/api/customers",
        "url: \"https://crm.example.com/api\\ncustomers\"",
    );
    insta::assert_snapshot!(diagnostics(&yaml));
}

#[test]
fn a_block_header_value_keeps_its_final_line_break_and_says_how_to_drop_it() {
    let yaml = call("    headers:\n      Authorization: |\n        Bearer {{api_key}}\n");
    insta::assert_snapshot!(diagnostics(&yaml));
}

#[test]
fn the_same_text_from_a_variable_is_left_to_the_runtime() {
    let yaml = call("    headers:\n      Authorization: \"Bearer {{api_key}}\"\n");
    assert!(apicall_build::compile("calls.yaml", &yaml).is_ok());
}

#[test]
fn a_call_named_like_a_prompts_strict_renderer_clashes() {
    let yaml = "api_calls:
  - name: try_render_greeting
    description: Oddly named
    url: https://crm.example.com/x
    method: GET
prompts:
  greeting: Hello!
";
    insta::assert_snapshot!(diagnostics(yaml));
}

#[test]
fn a_call_named_like_a_webhook_renderer_clashes_once() {
    let yaml = "api_calls:
  - name: webhook_crm
    description: Oddly named
    url: https://crm.example.com/x
    method: GET
webhooks:
  post_call:
    - name: crm
      url: https://crm.example.com/hooks
";
    insta::assert_snapshot!(diagnostics(yaml));
}

#[test]
fn an_enum_parameter_named_like_another_calls_response_clashes() {
    let yaml = "api_calls:
  - name: order_status
    description: Status of an order
    url: https://shop.example.com/x
    method: GET
  - name: order
    description: Place an order
    url: https://shop.example.com/y
    method: POST
    parameters:
      - { name: status_response, enum: [a, b] }
";
    insta::assert_snapshot!(diagnostics(yaml));
}

#[test]
fn names_apicall_generates_for_every_file_are_reserved() {
    // `finish` sends the webhooks; reserved even before the file has any, so adding the first
    // webhook never forces a rename.
    let yaml = "api_calls:
  - name: finish
    description: Oddly named
    url: https://crm.example.com/x
    method: GET
  - name: dispatch_all
    description: Oddly named
    url: https://crm.example.com/x
    method: GET
";
    insta::assert_snapshot!(diagnostics(yaml));
}

/// The clash check looks each name up once: 10,000 calls with distinct names take no longer
/// than reading them (a quadratic scan took seconds here).
#[test]
fn ten_thousand_distinct_calls_have_no_clash() {
    let mut yaml = String::from("api_calls:\n");
    for i in 0..10_000 {
        yaml.push_str(&format!(
            "  - {{ name: call_{i}, description: d, url: \"https://x.example.com/{i}\", method: GET }}\n"
        ));
    }
    let result = apicall_build::compile("calls.yaml", &yaml);
    assert!(
        result.is_ok(),
        "{}",
        result
            .err()
            .map(|d| d.to_string())
            .unwrap_or_default()
            .chars()
            .take(500)
            .collect::<String>()
    );
}

#[test]
fn an_unquoted_template_as_a_body_value_says_to_quote_it() {
    let yaml = "api_calls:
  - name: open_ticket
    description: Open a ticket
    url: https://desk.example.com/tickets
    method: POST
    parameters:
      - { name: summary, required: true }
    body:
      summary: {{collected.summary}}
";
    insta::assert_snapshot!(diagnostics(yaml));
}
