//! The README's examples are what the compiler does: its minimal calls.yaml compiles, and the
//! mistake it shows is the diagnostic the compiler prints for that file with that typo.

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md")
}

/// The first fenced block of `language` after `heading`.
fn block_after(text: &str, heading: &str, language: &str) -> String {
    let section = &text[text.find(heading).expect("the heading is in the README")..];
    let fence = format!("```{language}\n");
    let start = section.find(&fence).expect("a fenced block") + fence.len();
    let end = section[start..].find("```").expect("the block ends") + start;
    section[start..end].to_owned()
}

#[test]
fn the_minimal_calls_yaml_compiles() {
    let yaml = block_after(&readme(), "## A minimal calls.yaml", "yaml");
    if let Err(diagnostics) = apicall_build::compile("calls.yaml", &yaml) {
        panic!("{diagnostics}");
    }
}

#[test]
fn the_mistake_shown_is_what_the_compiler_prints() {
    let readme = readme();
    let yaml = block_after(&readme, "## A minimal calls.yaml", "yaml")
        .replace("phone: \"{{caller_phone}}\"", "phone: \"{{caler_phone}}\"");
    let shown = block_after(&readme, "## What a mistake looks like", "text");
    let printed = apicall_build::compile("calls.yaml", &yaml)
        .expect_err("the typo is an error")
        .to_string();
    assert_eq!(printed.trim_end(), shown.trim_end());
}

/// The call the "keeping the caller company" work was specified with: every message kind on
/// an `execution: async` call, each template checked.
#[test]
fn an_async_call_with_every_message_compiles() {
    let yaml = r#"
variables:
  api_key: { secret: true }
api_calls:
  - name: order_status
    description: Look up an order once the caller has read out its number
    url: https://orders.example.com/orders/{{collected.order_id}}
    method: GET
    headers:
      Authorization: Bearer {{api_key}}
    parameters:
      - { name: order_id, type: string, required: true }
    response_variables:
      - { path: status, variable: order_state }
    messages:
      start: "Let me pull up order {{collected.order_id}}."   # to say when the call starts
      delayed:                                                # to say if no answer yet
        after_ms: 1500
        say: "Still looking, one moment please."
      failed: "I can't reach the order system right now."     # to say on failure
    execution: async        # default: wait. async: the LLM gets an acknowledgement at once
"#;
    if let Err(diagnostics) = apicall_build::compile("calls.yaml", yaml) {
        panic!("{diagnostics}");
    }
}

/// The agent loops the README shows are the examples' code, line for line (indentation
/// aside), so what a newcomer copies is what CI runs (`.ci/run` runs both examples).
#[test]
fn the_agent_loops_shown_are_the_examples_code() {
    let readme = readme();
    let heading = "## From zero to a working agent";
    let section = &readme[readme.find(heading).expect("the section is in the README")..];
    let section = &section[..section[heading.len()..]
        .find("\n## ")
        .map_or(section.len(), |end| end + heading.len())];
    let blocks: Vec<&str> = section
        .split("```rust,ignore\n")
        .skip(1)
        .map(|block| &block[..block.find("```").expect("the block ends")])
        .collect();
    let lines = |text: &str| text.lines().map(str::trim).collect::<Vec<_>>().join("\n");
    assert_eq!(blocks.len(), 2, "one block per example");
    for (block, example) in blocks
        .into_iter()
        .zip(["openai_loop.rs", "responses_loop.rs"])
    {
        let path = format!("{}/../examples/{example}", env!("CARGO_MANIFEST_DIR"));
        let code = std::fs::read_to_string(&path).expect("the example");
        assert!(
            lines(&code).contains(&lines(block)),
            "the README's loop is not in examples/{example}:\n{block}"
        );
    }
}
