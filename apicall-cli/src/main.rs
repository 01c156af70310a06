//! `apicall`: the compiler as a command line tool. `apicall --help` lists the commands and
//! `apicall <command> --help` explains one.
//!
//! `check`, `expand`, `schema` and `tools` read a calls.yaml and print; `run` and `webhook`
//! send one call or webhook live, executing the compiler's request model
//! ([`apicall_build::request`]) through apicall-runtime's `call` API, so that they succeed and
//! fail exactly where the generated function does.
//!
//! Exit status: 0 when valid (or the call succeeded), 1 when a file has errors (or the call
//! failed), 2 when a file cannot be read or the command line is wrong.

mod auth;
mod execute;
mod mask;
mod mcp;
mod outbox;
mod run;

use std::io::Write;
use std::process::ExitCode;

use apicall_runtime::ToolTarget;
use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};

/// Check calls.yaml files, print what they generate, and send their calls live.
#[derive(Debug, Parser)]
#[command(name = "apicall", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 when valid (or the call succeeded), 1 when a file has \
    errors (or the call failed), 2 when a file cannot be read or the command line is wrong.\n\
    RUST_LOG (e.g. RUST_LOG=apicall=debug) logs the runtime's spans and events to stderr."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate calls.yaml files and print every mistake with its line and column.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print the Rust code `include_api_calls!` generates for FILE.
    Expand {
        /// The calls.yaml file.
        file: String,
    },
    /// Print the JSON Schema of calls.yaml, for editors.
    Schema,
    /// Print the calls as LLM tool definitions.
    Tools {
        /// The calls.yaml file.
        file: String,
        /// Which LLM API's tool shape.
        #[arg(long, default_value = "openai", value_parser = tool_target())]
        format: ToolTarget,
    },
    /// Send one call live: show the request (secrets as ***), the status, the latency and the
    /// extracted values, or the error the generated function would return.
    Run(CallArgs),
    /// Send one post-call webhook live, signed and retried, as a conversation ending now would.
    Webhook(WebhookArgs),
    /// Serve every call as a Model Context Protocol tool, over stdio (the default) or
    /// streamable HTTP at /mcp. Only protocol messages go to stdout.
    Mcp(McpArgs),
    /// Inspect and act on a durable webhook outbox (a SQLite file or a postgres:// URL):
    /// list its rows, retry parked or given-up ones, purge finished ones.
    Outbox(outbox::OutboxArgs),
}

/// `--format`: the name of one [`ToolTarget`], offered as the runtime lists them.
fn tool_target() -> impl clap::builder::TypedValueParser<Value = ToolTarget> {
    clap::builder::PossibleValuesParser::new(ToolTarget::ALL.map(ToolTarget::name)).map(|name| {
        // The parser only lets through names of targets.
        ToolTarget::ALL
            .into_iter()
            .find(|target| target.name() == name)
            .unwrap_or(ToolTarget::OpenAi)
    })
}

/// Values for the variables a request reads.
#[derive(Debug, Args)]
struct ValueArgs {
    /// A context variable: `{{NAME}}`.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = pair)]
    vars: Vec<(String, String)>,
    /// A value an earlier call extracted: `{{api.NAME}}`.
    #[arg(long = "api", value_name = "NAME=VALUE", value_parser = pair)]
    api: Vec<(String, String)>,
    /// Send to this origin instead of the one in the YAML (a local server, say).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

#[derive(Debug, Args)]
struct CallArgs {
    /// The calls.yaml file.
    file: String,
    /// The call's name.
    call: String,
    /// An LLM parameter: `{{collected.NAME}}`.
    #[arg(long = "arg", value_name = "NAME=VALUE", value_parser = pair)]
    args: Vec<(String, String)>,
    #[command(flatten)]
    values: ValueArgs,
}

#[derive(Debug, Args)]
struct WebhookArgs {
    /// The calls.yaml file.
    file: String,
    /// The webhook's name.
    webhook: String,
    /// How the conversation ended: `{{call.outcome}}`.
    #[arg(long, value_name = "OUTCOME")]
    outcome: Option<String>,
    /// The conversation's id: `{{call.id}}` (default: a new one).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    #[command(flatten)]
    values: ValueArgs,
}

#[derive(Debug, Args)]
struct McpArgs {
    /// The calls.yaml file.
    file: String,
    /// A context variable read from an environment variable: `{{NAME}}` is $ENV's value
    /// (keeps secrets out of the command line and the client's configuration).
    #[arg(long = "var-env", value_name = "NAME=ENV", value_parser = pair)]
    var_env: Vec<(String, String)>,
    #[command(flatten)]
    values: ValueArgs,
    /// Serve streamable HTTP at http://ADDRESS/mcp instead of stdio (port 0 picks one, shown
    /// on stderr).
    #[arg(long, value_name = "127.0.0.1:PORT")]
    http: Option<std::net::SocketAddr>,
}

/// `NAME=VALUE`.
fn pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, found `{text}`"))
}

fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    match Cli::parse().command {
        Command::Check { files } => check(&files),
        Command::Expand { file } => expand(&file),
        Command::Schema => write_out(&apicall_build::json_schema()),
        Command::Tools { file, format } => tools(&file, format),
        Command::Run(args) => run::run(&args),
        Command::Webhook(args) => run::webhook(&args),
        Command::Mcp(args) => mcp::mcp(&args),
        Command::Outbox(args) => outbox::outbox(&args),
    }
}

fn check(files: &[String]) -> ExitCode {
    let mut errors = 0;
    let mut unreadable = 0;
    let mut stderr = std::io::stderr().lock();
    for file in files {
        match std::fs::read(file) {
            Err(error) => {
                unreadable += 1;
                let _ = writeln!(stderr, "error: cannot read `{file}`: {error}\n");
            }
            Ok(bytes) => {
                if let Err(diagnostics) = apicall_build::check_bytes(file, &bytes) {
                    errors += diagnostics.len();
                    let _ = writeln!(stderr, "{diagnostics}\n");
                }
            }
        }
    }
    let checked = files.len() - unreadable;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let summary = match (errors, unreadable) {
        (0, 0) => format!("ok: {} valid", plural(checked, "file")),
        (errors, 0) => format!("{} in {}", plural(errors, "error"), plural(checked, "file")),
        (errors, unreadable) => format!(
            "{} in {}; {} could not be read",
            plural(errors, "error"),
            plural(checked, "file"),
            plural(unreadable, "file")
        ),
    };
    let _ = writeln!(stderr, "{summary}");
    if unreadable > 0 {
        ExitCode::from(2)
    } else if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn tools(file: &str, target: ToolTarget) -> ExitCode {
    // Held to this target's limits only: a name only MCP takes prints for `--format mcp`.
    let options = apicall_build::Target::from_name(target.name())
        .map_or_else(apicall_build::Options::new, |target| {
            apicall_build::Options::new().targets([target])
        });
    match compiled_for(file, &options) {
        Ok(generated) => {
            let tools: Vec<serde_json::Value> = generated
                .tools()
                .iter()
                .map(|tool| {
                    apicall_runtime::tool_for(
                        target,
                        &tool.name,
                        &tool.description,
                        tool.parameters.clone(),
                        tool.output.clone(),
                    )
                })
                .collect();
            let mut json = serde_json::to_string_pretty(&tools).unwrap_or_default();
            json.push('\n');
            write_out(&json)
        }
        Err(code) => code,
    }
}

/// Writes `text` to standard output. A reader that stopped reading (`apicall expand | head`)
/// is not a failure; any other write error is.
fn write_out(text: &str) -> ExitCode {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the output: {error}");
            ExitCode::from(1)
        }
    }
}

fn expand(file: &str) -> ExitCode {
    match compiled(file) {
        Ok(generated) => write_out(&generated.to_rust_source()),
        Err(code) => code,
    }
}

/// The file's bytes, or exit status 2 after saying why they cannot be read.
pub(crate) fn read(file: &str) -> Result<Vec<u8>, ExitCode> {
    std::fs::read(file).map_err(|error| {
        eprintln!("error: cannot read `{file}`: {error}");
        ExitCode::from(2)
    })
}

/// The generated code for the file, or the exit status after printing why there is none.
pub(crate) fn compiled(file: &str) -> Result<apicall_build::Generated, ExitCode> {
    compiled_for(file, &apicall_build::Options::new())
}

/// `file` compiled for the LLM APIs `options` selects, its diagnostics printed.
fn compiled_for(
    file: &str,
    options: &apicall_build::Options,
) -> Result<apicall_build::Generated, ExitCode> {
    options
        .compile_bytes(file, &read(file)?)
        .map_err(|diagnostics| {
            eprintln!("{diagnostics}");
            ExitCode::from(1)
        })
}
