//! The `apicall` binary as users run it, one module per command: in one test binary, because
//! each binary of its own linked the runtime, the MCP SDK and the generated code again.

mod cli;
mod mcp;
mod outbox;
mod run_matches_generated;
