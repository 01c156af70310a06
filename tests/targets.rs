//! Selecting the LLM APIs a crate's tools are for: a call only MCP takes compiles when the
//! macro is told `targets = ["mcp"]` (without it, the same file is an error naming the other
//! targets: tests/ui/fail/tool_name_too_long.yaml), and the compiler and the runtime name the
//! targets alike.

mod mcp_only {
    apicall_macros::include_api_calls!("fixtures/long_names.yaml", targets = ["mcp"]);
}

#[test]
fn a_tool_only_mcp_takes_compiles_when_only_mcp_is_selected() {
    let tool = mcp_only::TOOLS[0];
    assert_eq!(tool.name.len(), 72);
    assert_eq!(tool.to_mcp()["name"], tool.name);
    let yaml = include_str!("fixtures/long_names.yaml");
    let everything = apicall_build::compile("long_names.yaml", yaml)
        .expect_err("OpenAI, Anthropic and Gemini refuse the names")
        .to_string();
    assert!(everything.contains("is 72 characters; openai, openai-responses, anthropic"));
    let openai_only = apicall_build::Options::new()
        .targets([apicall_build::Target::OpenAi])
        .compile("long_names.yaml", yaml)
        .expect_err("OpenAI refuses the call name")
        .to_string();
    assert!(
        openai_only.contains("is 72 characters; openai takes tool names of at most 64"),
        "{openai_only}"
    );
    // OpenAI has no limit on property names: only the call's name is reported.
    assert_eq!(openai_only.matches("error:").count(), 1, "{openai_only}");
}

#[test]
fn the_compiler_and_the_runtime_name_the_same_targets() {
    let compiler: Vec<&str> = apicall_build::Target::ALL
        .iter()
        .map(|target| target.name())
        .collect();
    let runtime: Vec<&str> = apicall_runtime::ToolTarget::ALL
        .iter()
        .map(|target| target.name())
        .collect();
    assert_eq!(compiler, runtime);
}
