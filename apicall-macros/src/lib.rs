//! `include_api_calls!("calls.yaml")`: compiles a calls.yaml into typed Rust where it is
//! invoked. A thin shim over [`apicall_build::expand`]; all logic lives in the compiler.
//!
//! ```ignore
//! mod calls {
//!     apicall_macros::include_api_calls!("calls.yaml");
//! }
//! ```
//!
//! The path resolves like `include_str!`: relative to the directory of the file that invokes
//! the macro. Only when the compiler cannot name that file (some tools expand macros without
//! one) is it relative to the crate's `CARGO_MANIFEST_DIR` instead. Every mistake in the YAML
//! is a compile error naming `calls.yaml:LINE:COL`, and editing the YAML rebuilds the crate.

use std::path::PathBuf;

/// Generates the context struct, per-call params and response structs, async call functions
/// and prompt renderers for the calls.yaml at the given path. See the crate docs.
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
