//! `__mcp_server!()`, which generated code invokes once: the generated `mcp_server` function
//! when this runtime is built with its `mcp` feature, nothing when not.
//!
//! Generated code lives in the user's crate, where `#[cfg(feature = "mcp")]` would test the
//! user's features rather than the runtime's; a macro defined here in two variants follows
//! the runtime's feature instead. Its names other than locals (`Context`, `ApiValues`, `TOOLS`,
//! `dispatch_with_events`) resolve where it is invoked, beside the generated items.

/// The generated `mcp_server(client, context)`; used by generated code only.
#[cfg(feature = "mcp")]
#[doc(hidden)]
#[macro_export]
macro_rules! __mcp_server {
    () => {
        /// Every call as a Model Context Protocol tool, run by [`dispatch_with_events`] with
        /// this client and context: serve it with `.serve_stdio()`, or with any rmcp transport
        /// (see [`::apicall_runtime::mcp`]). Each tool call starts from empty `api.*` values.
        #[must_use]
        pub fn mcp_server(client: $crate::Client, context: Context) -> $crate::mcp::McpServer {
            $crate::mcp::McpServer::new(TOOLS, move |call, mut events| {
                let client = ::core::clone::Clone::clone(&client);
                let context = ::core::clone::Clone::clone(&context);
                async move {
                    let mut api = <ApiValues as ::core::default::Default>::default();
                    dispatch_with_events(&client, &context, &mut api, &call, &mut *events).await
                }
            })
        }

        /// Uses `mcp_server`, so that a binary not serving MCP builds without `dead_code`
        /// warnings.
        const _: () = {
            let _ = mcp_server;
        };
    };
}

/// Without the runtime's `mcp` feature, generated code has no `mcp_server`.
#[cfg(not(feature = "mcp"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __mcp_server {
    () => {};
}
