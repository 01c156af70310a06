//! `mcp_server(client, context)`: the calls served as Model Context Protocol tools.
//!
//! The function exists only when the runtime is built with its `mcp` feature. Generated code
//! sits in the user's crate, where `#[cfg(feature = "mcp")]` would test the user's features, so
//! it invokes a runtime macro that expands to the function or to nothing, following the
//! runtime's own feature.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn mcp_server() -> TokenStream {
    quote! {
        ::apicall_runtime::__mcp_server!();
    }
}
