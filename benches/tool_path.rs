//! An LLM tool call from JSON text to the ToolResult JSON, through the generated dispatcher, against the same path written by hand.
//!
//! Run: `cargo bench -p apicall-benches --bench tool_path`

fn main() {}
