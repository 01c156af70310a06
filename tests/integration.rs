//! Generated code against real servers on 127.0.0.1, one module per subject. One binary, not
//! one per file: each linked the runtime, the HTTP stack and the test servers again, which
//! cost a clean `cargo test` about a minute and a gigabyte of disk. `webhooks.rs` stays a
//! binary of its own because it captures traces: tracing caches each callsite's interest
//! process-wide, so a test beside it with no subscriber could have its events cached as
//! unwanted.

/// The name libtest gives `function` in the module that calls this, for running one test by
/// name in a child process (`--exact`): the module's path without the crate's name.
macro_rules! test_name {
    ($function:literal) => {
        match module_path!().split_once("::") {
            Some((_, module)) => format!("{module}::{}", $function),
            None => $function.to_owned(),
        }
    };
}

mod pg_cluster;

mod auth;
mod background;
mod dispatch;
mod escapes;
mod http_calls;
mod jsonpath;
mod language_calls;
mod macro_and_build_rs_agree;
mod message_render;
mod numbers;
mod outbox;
mod outbox_postgres;
mod prompt_truthiness;
mod spoken;
mod targets;
mod tool_schemas;
mod wide;
