//! `apicall mcp`: every call of a calls.yaml served as a Model Context Protocol tool, over
//! stdio or streamable HTTP, by the runtime's [`McpServer`].
//!
//! Tools are listed as `apicall tools --format mcp` prints them. A tool call runs as `apicall
//! run` runs a call: the compiler's request model executed through the runtime's `call` API,
//! its arguments read by [`call::read_arguments`] as the generated dispatcher reads them, and
//! its result built by the same `finish` the dispatcher uses. Context variables and secrets
//! come from the command line or the environment, never from the client.
//!
//! A call's `messages:` are rendered by the request model ([`Message::render`], as generated
//! code renders them) and said through the runtime's [`speaking`], as the generated dispatcher
//! says them; the server sends them as progress notifications when the client asked for
//! progress.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use apicall_build::request::{Message, RequestModel, Requests, ValueRef};
use apicall_runtime::call::{self, CallSpec, Request, TypedValue};
use apicall_runtime::mcp::rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use apicall_runtime::mcp::rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use apicall_runtime::mcp::{Events, McpServer};
use apicall_runtime::{
    Client, DispatchError, EventSink, Spoken, ToolCall, ToolResult, ToolTarget, speaking,
};
use serde_json::{Map, Value};

use crate::execute::{Renderer, Values};
use crate::run::{self, Stop, usage};
use crate::{McpArgs, ValueArgs};

/// One call as a tool: what generated code keeps in `static`s for it.
struct Tool {
    model: &'static RequestModel,
    spec: &'static CallSpec,
    params: &'static [call::Param],
}

/// Everything a tool call reads: built once, shared by every call.
struct Calls {
    tools: Vec<Tool>,
    /// The loaded file, whose `auth:` schemes its calls apply.
    requests: &'static Requests,
    /// The context variables and `api.*` values from the command line.
    values: Values,
    client: Client,
}

pub(crate) fn mcp(args: &McpArgs) -> ExitCode {
    let prepared = prepare(args).and_then(|(calls, tools)| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|error| Stop(format!("error: cannot start the async runtime: {error}"), 2))?;
        Ok((runtime, calls, tools))
    });
    let (runtime, calls, tools) = match prepared {
        Ok(prepared) => prepared,
        Err(stop) => return stop.into(),
    };
    let count = calls.tools.len();
    let calls = Arc::new(calls);
    let server = McpServer::from_mcp_tools(tools, move |tool_call, events| {
        let calls = Arc::clone(&calls);
        async move { calls.dispatch(&tool_call, events).await }
    })
    .with_implementation("apicall", env!("CARGO_PKG_VERSION"));
    runtime.block_on(serve(server, count, args.http))
}

/// The file's calls with the values from the command line, and their MCP tool definitions;
/// or why not (exit status 2 for the command line, 1 for the file).
fn prepare(args: &McpArgs) -> Result<(Calls, Vec<Value>), Stop> {
    let requests = run::load(&args.file)?;
    let generated = crate::compiled(&args.file).map_err(|_| Stop(String::new(), 1))?;
    let given = ValueArgs {
        vars: args
            .values
            .vars
            .iter()
            .cloned()
            .chain(from_environment(&args.var_env)?)
            .collect(),
        api: args.values.api.clone(),
        base_url: args.values.base_url.clone(),
    };
    let values = run::given_values(requests, &given)?;
    // A server is started once and runs any call: every variable any call reads must be
    // given now, as generated code's `Context` needs them all.
    for model in &requests.calls {
        run::check_context(model, &values).map_err(|Stop(message, code)| {
            Stop(
                format!("{message} (or --var-env NAME=ENV to read it from the environment)"),
                code,
            )
        })?;
    }
    let tools = requests
        .calls
        .iter()
        .map(|model| {
            let spec: &'static CallSpec = Box::leak(Box::new(run::call_spec(model)));
            Tool {
                model,
                spec,
                params: run::described(&model.params),
            }
        })
        .collect();
    let definitions = generated
        .tools()
        .iter()
        .map(|tool| {
            apicall_runtime::tool_for(
                ToolTarget::Mcp,
                &tool.name,
                &tool.description,
                tool.parameters.clone(),
                tool.output.clone(),
            )
        })
        .collect();
    let calls = Calls {
        tools,
        requests,
        values,
        client: run::client(args.values.base_url.as_deref())?,
    };
    Ok((calls, definitions))
}

/// `--var-env NAME=ENV`: each variable's value read from the environment. An unset variable
/// is named, never a value.
fn from_environment(pairs: &[(String, String)]) -> Result<Vec<(String, String)>, Stop> {
    pairs
        .iter()
        .map(|(name, env)| match std::env::var(env) {
            Ok(value) => Ok((name.clone(), value)),
            Err(std::env::VarError::NotPresent) => Err(usage(format!(
                "--var-env {name}={env}: the environment variable `{env}` is not set"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(usage(format!(
                "--var-env {name}={env}: the environment variable `{env}` is not UTF-8"
            ))),
        })
        .collect()
}

async fn serve(server: McpServer, count: usize, http: Option<SocketAddr>) -> ExitCode {
    let tools = if count == 1 { "tool" } else { "tools" };
    let Some(address) = http else {
        eprintln!("apicall mcp: serving {count} {tools} over stdio");
        return match server.serve_stdio().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        };
    };
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {address}: {error}");
            return ExitCode::from(2);
        }
    };
    let address = listener.local_addr().unwrap_or(address);
    // The server keeps nothing between requests, so it needs no sessions, for clients of any
    // protocol generation (and a client ending one gets 405, which MCP allows, rather than
    // rmcp's 202, which the Python SDK reports as a failure).
    let mut config = StreamableHttpServerConfig::default().with_legacy_session_mode(false);
    // rmcp accepts loopback `Host`s only, against DNS rebinding; an address given explicitly
    // is accepted too.
    if !address.ip().is_loopback() {
        eprintln!(
            "warning: {address} is not a loopback address: anyone who reaches it can run the \
             calls with the variables and secrets given here"
        );
        if !address.ip().is_unspecified() {
            config.allowed_hosts.push(address.ip().to_string());
        }
    }
    let service: StreamableHttpService<McpServer, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.clone()), Arc::default(), config);
    let router = axum::Router::new().nest_service("/mcp", service);
    eprintln!("apicall mcp: serving {count} {tools} at http://{address}/mcp");
    match axum::serve(listener, router).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

impl Calls {
    /// One tool call, answered as the generated dispatcher answers it; what it says while it
    /// runs goes to `events`.
    async fn dispatch(&self, tool_call: &ToolCall, mut events: Events) -> ToolResult {
        let tool = self
            .tools
            .iter()
            .find(|tool| tool.model.name == tool_call.name);
        let (outcome, failure_message) = match tool {
            Some(tool) => (
                self.run(tool, &tool_call.arguments, &mut *events).await,
                tool.model.failure_message.as_str(),
            ),
            None => (
                Err(DispatchError::UnknownTool {
                    name: tool_call.name.clone(),
                }),
                "That tool does not exist.",
            ),
        };
        apicall_runtime::__private::finish(tool_call, outcome, failure_message)
    }

    /// Checks the arguments, sends the request and reads its values: the generated call
    /// function's steps, each failing where it fails. Arguments that do not fit say nothing;
    /// the request says the call's messages, as the generated dispatcher's arm does.
    async fn run(
        &self,
        tool: &Tool,
        arguments: &Value,
        events: &mut (dyn FnMut(apicall_runtime::ToolEvent) + Send),
    ) -> Result<Value, DispatchError> {
        let mut values = self.values.clone();
        // As the generated dispatcher: a call without parameters takes no arguments either.
        let empty = Value::Object(Map::new());
        let arguments = if arguments.is_null() {
            &empty
        } else {
            arguments
        };
        let read = call::read_arguments(tool.params, arguments).map_err(|problems| {
            DispatchError::InvalidArguments {
                tool: tool.spec.name,
                problems,
            }
        })?;
        for (name, argument) in read {
            values.insert_argument(name, argument);
        }
        let running = async {
            let mut request = Request::new(&self.client, tool.spec);
            Renderer {
                values: &values,
                masked: false,
                requests: self.requests,
            }
            .build(&mut request, tool.spec, tool.model)?;
            let body = request.send().await?;
            run::extract(tool.model, tool.spec, &body)
        };
        let events = EventSink::for_call(events);
        let found = speaking(
            tool.spec.name,
            running,
            spoken(tool.model, &values),
            &events,
        )
        .await?;
        let mut content = Map::new();
        for (extraction, value) in tool.model.extract.iter().zip(found) {
            let value = match value {
                // A server echoing a secret back does not pass it on.
                Some(TypedValue::String(text)) => Value::String(values.mask(&text)),
                Some(value) => serde_json::to_value(&value).unwrap_or(Value::Null),
                None => Value::Null,
            };
            content.insert(extraction.name.clone(), value);
        }
        Ok(Value::Object(content))
    }
}

/// The call's `messages:` rendered for this call's values, as generated code renders them.
fn spoken(model: &RequestModel, values: &Values) -> Spoken {
    let value = |value: &ValueRef| values.scalar(value);
    let say = |message: &Message| message.render(value);
    let messages = &model.messages;
    Spoken::new(
        messages.start.as_ref().map(say),
        messages
            .delayed
            .as_ref()
            .map(|delayed| (Duration::from_millis(delayed.after_ms), say(&delayed.say))),
        messages.failed.as_ref().map(say),
    )
}
