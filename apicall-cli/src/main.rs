//! `apicall`: the compiler as a command line tool.
//!
//! ```text
//! apicall check FILE...   validate; every diagnostic with FILE:LINE:COL, source line and caret
//! apicall expand FILE     print the Rust that include_api_calls! generates for FILE
//! apicall schema          print the JSON Schema of calls.yaml, for editors
//! apicall tools FILE [--format openai|anthropic]   print the calls as LLM tool definitions
//! apicall run FILE CALL [--var NAME=VALUE]... [--arg NAME=VALUE]... [--api NAME=VALUE]...
//!                         [--base-url URL]
//!                         send one call live; print the request (secrets as ***), status,
//!                         latency and the extracted values
//! apicall webhook FILE NAME [--var NAME=VALUE]... [--api NAME=VALUE]... [--outcome OUTCOME]
//!                         [--id ID] [--base-url URL]
//!                         send one post-call webhook live, signed and retried, as a
//!                         conversation ending now would
//! ```
//!
//! Exit status: 0 when valid, 1 when any file has errors, 2 when a file cannot be read or the
//! command line is wrong.

mod run;

use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage:
  apicall check FILE...   validate calls.yaml files and print every mistake
  apicall expand FILE     print the Rust code generated for FILE
  apicall schema          print the JSON Schema of calls.yaml, for editors
  apicall tools FILE [--format openai|anthropic]
                          print the calls as LLM tool definitions (default: openai)
  apicall run FILE CALL [--var NAME=VALUE]... [--arg NAME=VALUE]... [--api NAME=VALUE]...
                        [--base-url URL]
                          send one call live and show the request, status, latency and values
  apicall webhook FILE NAME [--var NAME=VALUE]... [--api NAME=VALUE]... [--outcome OUTCOME]
                        [--id ID] [--base-url URL]
                          send one post-call webhook live (signed, retried) and show it";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") if args.len() > 1 => check(&args[1..]),
        Some("expand") if args.len() == 2 => expand(&args[1]),
        Some("tools") if args.len() == 2 => tools(&args[1], "openai"),
        Some("tools") if args.len() == 4 && args[2] == "--format" => tools(&args[1], &args[3]),
        Some("run") if args.len() >= 3 => run::run(&args[1], &args[2], &args[3..]),
        Some("webhook") if args.len() >= 3 => run::webhook(&args[1], &args[2], &args[3..]),
        Some("schema") if args.len() == 1 => {
            print!("{}", apicall_build::json_schema());
            ExitCode::SUCCESS
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
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

fn tools(file: &str, format: &str) -> ExitCode {
    let shape: fn(&str, &str, serde_json::Value) -> serde_json::Value = match format {
        "openai" => apicall_runtime::openai_tool,
        "anthropic" => apicall_runtime::anthropic_tool,
        other => {
            eprintln!("error: unknown format `{other}`: use openai or anthropic");
            return ExitCode::from(2);
        }
    };
    match compiled(file) {
        Ok(generated) => {
            let tools: Vec<serde_json::Value> = generated
                .tools()
                .iter()
                .map(|tool| shape(&tool.name, &tool.description, tool.parameters.clone()))
                .collect();
            let json = serde_json::to_string_pretty(&tools).unwrap_or_default();
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn expand(file: &str) -> ExitCode {
    match compiled(file) {
        Ok(generated) => {
            print!("{}", generated.to_rust_source());
            ExitCode::SUCCESS
        }
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
fn compiled(file: &str) -> Result<apicall_build::Generated, ExitCode> {
    apicall_build::compile_bytes(file, &read(file)?).map_err(|diagnostics| {
        eprintln!("{diagnostics}");
        ExitCode::from(1)
    })
}
