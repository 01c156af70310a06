//! `include_api_calls!("calls.yaml")`: compiles a calls.yaml into typed Rust where it is
//! invoked. A thin shim over [`apicall_build::expand`]; all logic lives in the compiler, and
//! the items are the ones `apicall_build::Builder` writes from a build script.
//!
//! ```ignore
//! mod calls {
//!     apicall_macros::include_api_calls!("calls.yaml");
//! }
//! ```
//!
//! The path resolves like `include_str!`: relative to the directory of the file that invokes
//! the macro (an absolute path is used as it is). When the compiler cannot name that file
//! (rust-analyzer never does), the first that exists of the crate's `CARGO_MANIFEST_DIR`, its
//! `src/` and its `src/bin/` is used instead, and a file found in none of them is an error
//! listing each place tried.
//!
//! Every mistake in the YAML is a `compile_error!` naming `calls.yaml:LINE:COL` (the path as
//! written) with the source line and a caret. Beside the errors the macro still emits the code
//! generated from the parts that were valid, so one typo in the YAML is one error, not one per
//! use of the generated items. Editing the YAML rebuilds the crate, even while it has errors.

use std::path::PathBuf;

/// Generates typed Rust for the calls.yaml at the given path (found as the crate docs say):
///
/// - `Context`: the values the agent supplies for each conversation (`variables:`), secret
///   ones as `apicall_runtime::Secret`;
/// - for each API call, a `<Call>Response` struct of what it extracts, a `<Call>Params`
///   struct (and an enum per `enum:` parameter) when it has `parameters:`, and
///   `async fn <call>(client, context[, params])`, which sends the request;
/// - `ApiValues`: every `{{api.*}}` value extracted so far, with `merge` and a
///   `record_<call>` for each call that extracts any;
/// - for each prompt, `render_<prompt>` (a missing value renders as nothing) and
///   `try_render_<prompt>` (which names the missing values instead);
/// - `TOOLS`: every call as a tool definition for the LLM, and `dispatch` and
///   `dispatch_all`, which run one tool call or one turn's tool calls and store what they
///   extracted in `ApiValues`;
/// - with `webhooks:`, `finish`, which sends the `post_call` webhooks of an ended
///   conversation in the background;
/// - `Session`: one conversation (its context, values, id and start time), with
///   `dispatch`, `dispatch_all`, `finish` (with webhooks) and each prompt's `render_<prompt>`
///   as methods.
#[proc_macro]
pub fn include_api_calls(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let invoking_file = proc_macro::Span::call_site().local_file();
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    apicall_build::expand(
        input.into(),
        invoking_file.as_deref(),
        manifest_dir.as_deref(),
    )
    .into()
}
