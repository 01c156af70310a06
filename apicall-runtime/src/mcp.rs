//! The calls as Model Context Protocol tools, served with the official Rust SDK ([`rmcp`]).
//!
//! [`McpServer`] lists each call as a tool (its `inputSchema` and `outputSchema` from
//! [`ToolDefinition::to_mcp`]) and answers `tools/call` with a dispatch function: the generated
//! `mcp_server(client, context)` passes the generated dispatcher, `apicall mcp` its own
//! execution of the calls.yaml. A result is [`ToolResult::to_mcp`]: the extracted values as
//! `structuredContent` and as text, or `isError` with the call's fixed failure message (or the
//! problems with the LLM's arguments). A client that sends a progress token hears what the
//! call's `messages:` say while it runs, as progress notifications.
//!
//! Both protocol generations are served: clients of 2026-07-28 and later that start without
//! `initialize`, and older ones that negotiate it (rmcp does the negotiation).
//!
//! ```no_run
//! # async fn serve(server: apicall_runtime::mcp::McpServer) -> Result<(), apicall_runtime::mcp::McpError> {
//! // Over stdio: stdout carries protocol messages only, so log to stderr.
//! server.serve_stdio().await?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::future::{Either, select};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ResultType,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler, ServiceExt as _};
use serde_json::{Value, json};

use crate::{ToolCall, ToolDefinition, ToolEvent, ToolResult};

pub use rmcp;

/// Where a dispatch function reports what a voice agent would say while the call runs
/// (pass it to the generated `dispatch_with_events` as `&mut *events`). The server turns each
/// line into a progress notification when the client asked for progress, and drops it
/// otherwise.
pub type Events = Box<dyn FnMut(ToolEvent) + Send>;

/// The boxed dispatch function.
type Dispatch = dyn Fn(ToolCall, Events) -> Pin<Box<dyn Future<Output = ToolResult>>> + Send + Sync;

/// Why serving stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The client went away before the session started, or it did not speak MCP.
    #[error("the MCP session did not start: {0}")]
    Start(Box<rmcp::service::ServerInitializeError>),
    /// The session ended abnormally.
    #[error("the MCP session failed: {0}")]
    Session(#[from] tokio::task::JoinError),
}

/// An MCP server for a calls.yaml's calls: cheap to clone (every clone serves the same tools
/// with the same dispatch function), as rmcp's HTTP transport asks for one per session.
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<[Tool]>,
    dispatch: Arc<Dispatch>,
    implementation: Implementation,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("tools", &self.tools.len())
            .field("implementation", &self.implementation.name)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// A server for the generated `TOOLS`, each call run by `dispatch` (the generated
    /// dispatcher, given a client and a context). The future `dispatch` returns need not be
    /// `Send`: each call runs on a blocking thread of the Tokio runtime, with the runtime's
    /// I/O and timers.
    pub fn new<F, Fut>(tools: &[ToolDefinition], dispatch: F) -> Self
    where
        F: Fn(ToolCall, Events) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + 'static,
    {
        Self::from_mcp_tools(tools.iter().map(ToolDefinition::to_mcp), dispatch)
    }

    /// A server for tools already in MCP's shape (`{"name", "description", "inputSchema",
    /// "outputSchema"}`, as [`tool_for`](crate::tool_for) writes them for
    /// [`ToolTarget::Mcp`](crate::ToolTarget::Mcp)): for a calls.yaml read at run time.
    pub fn from_mcp_tools<F, Fut>(tools: impl IntoIterator<Item = Value>, dispatch: F) -> Self
    where
        F: Fn(ToolCall, Events) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + 'static,
    {
        let dispatch: Arc<Dispatch> = Arc::new(move |call, events| {
            let running: Pin<Box<dyn Future<Output = ToolResult>>> =
                Box::pin(dispatch(call, events));
            running
        });
        Self {
            tools: tools.into_iter().map(listed).collect(),
            dispatch,
            implementation: Implementation::new("apicall", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The name and version the server gives clients (default: `apicall` and the runtime's
    /// version).
    #[must_use]
    pub fn with_implementation(mut self, name: &str, version: &str) -> Self {
        self.implementation = Implementation::new(name, version);
        self
    }

    /// Serves one client over standard input and output until it disconnects. Nothing else
    /// may write to stdout meanwhile.
    ///
    /// # Errors
    ///
    /// When the session cannot start or ends abnormally.
    pub async fn serve_stdio(self) -> Result<(), McpError> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|error| McpError::Start(Box::new(error)))?;
        running.waiting().await?;
        Ok(())
    }

    /// Runs one tool call to its result, on a blocking thread (the dispatch future may hold
    /// the generated dispatcher's `!Send` event sink). `None` when the client cancelled it:
    /// the call is dropped, which aborts its request.
    async fn run(
        &self,
        call: ToolCall,
        events: Events,
        cancelled: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Option<ToolResult>, ErrorData> {
        let dispatch = Arc::clone(&self.dispatch);
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            runtime.block_on(async move {
                let running = dispatch(call, events);
                match select(running, std::pin::pin!(cancelled)).await {
                    Either::Left((result, _)) => Some(result),
                    Either::Right(((), _)) => None,
                }
            })
        })
        .await
        .map_err(|error| ErrorData::internal_error(format!("the tool call stopped: {error}"), None))
    }
}

/// A tool in rmcp's model. The lowering always writes object schemas; were one ever not,
/// the tool is still listed, taking any object.
fn listed(tool: Value) -> Tool {
    let name = tool["name"].as_str().unwrap_or_default().to_owned();
    serde_json::from_value(tool).unwrap_or_else(|_| {
        let mut schema = JsonObject::new();
        schema.insert("type".to_owned(), json!("object"));
        Tool::new_with_raw(name, None, schema)
    })
}

/// The result in rmcp's model: what [`ToolResult::to_mcp`] writes, marked complete for
/// clients of 2026-07-28 and later (rmcp removes the mark for older ones).
fn answered(result: &ToolResult) -> Result<CallToolResult, ErrorData> {
    let mut answered: CallToolResult = serde_json::from_value(result.to_mcp())
        .map_err(|error| ErrorData::internal_error(error.to_string(), None))?;
    answered.result_type.get_or_insert(ResultType::COMPLETE);
    Ok(answered)
}

/// Sends each line the call says as a progress notification for `token`, in order, until
/// the call's sender is dropped.
async fn report_progress(
    peer: Peer<RoleServer>,
    token: ProgressToken,
    mut said: tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let mut progress = 0.0;
    while let Some(text) = said.recv().await {
        progress += 1.0;
        let notification =
            ProgressNotificationParam::new(token.clone(), progress).with_message(text);
        if let Err(error) = peer.notify_progress(notification).await {
            tracing::debug!(%error, "progress notification not sent");
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(self.implementation.clone())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|tool| tool.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // An unknown tool is a protocol error in MCP, not a tool result.
        if !self.tools.iter().any(|tool| tool.name == request.name) {
            return Err(ErrorData::invalid_params(
                format!("no tool is named `{}`", request.name),
                None,
            ));
        }
        let call = ToolCall {
            id: None,
            name: request.name.into_owned(),
            arguments: request.arguments.map_or(Value::Null, Value::Object),
        };
        let (events, progress): (Events, _) = match context.meta.get_progress_token() {
            Some(token) => {
                let (sender, said) = tokio::sync::mpsc::unbounded_channel();
                let events = Box::new(move |event| {
                    if let ToolEvent::Say { text, .. } = event {
                        let _ = sender.send(text);
                    }
                });
                let reporting = report_progress(context.peer.clone(), token, said);
                (events, Some(tokio::spawn(reporting)))
            }
            None => (Box::new(|_| {}), None),
        };
        let result = self
            .run(call, events, context.ct.clone().cancelled_owned())
            .await?;
        // Every line said is sent before the result, which ends the request.
        if let Some(progress) = progress {
            let _ = progress.await;
        }
        match result {
            Some(result) => Ok(CallToolResponse::Complete(answered(&result)?)),
            None => Err(ErrorData::internal_error(
                "the tool call was cancelled",
                None,
            )),
        }
    }
}
