//! The apicall compiler: a `calls.yaml` of agent API calls to typed, documented Rust.
//!
//! One compiler serves every front door: the `include_api_calls!` macro (via [`expand`]),
//! `build.rs` (via [`Builder`]), the command line and tests (via [`compile`]). It is a plain
//! library: no `proc_macro` types, no panics on any input.
//!
//! The pipeline is visible in the module names: `parse` (YAML → located syntax tree) →
//! `validate` (the rules, every violation a [`Diagnostic`] at its line and column) → `ir` (the
//! checked model) → `emit` (Rust tokens, formatted with `prettyplease`).
//!
//! ```
//! let yaml = r#"
//! api_calls:
//!   - name: ping
//!     description: Check the service is up
//!     url: https://status.example.com/ping
//!     method: GET
//! "#;
//! let generated = apicall_build::compile("calls.yaml", yaml).unwrap();
//! assert!(generated.to_rust_source().contains("pub async fn ping("));
//! ```

mod builder;
mod diagnostic;
mod emit;
mod expand;
mod ir;
mod names;
mod parse;
pub mod request;
mod schema;
mod targets;
mod tools;
mod validate;

use proc_macro2::TokenStream;

pub use builder::{BuildError, Builder};
pub use diagnostic::{Diagnostic, Diagnostics, Pos, escape_text};
pub use expand::expand;
pub use schema::json_schema;
pub use targets::{Options, Target};
pub use tools::Tool;

/// The Rust code generated for one calls.yaml.
#[derive(Clone, Debug)]
pub struct Generated {
    tokens: TokenStream,
    tools: Vec<Tool>,
}

impl Generated {
    /// The generated items as tokens, as the macro emits them.
    #[must_use]
    pub fn tokens(&self) -> &TokenStream {
        &self.tokens
    }

    /// The generated items as tokens, without a copy (what the macro hands to rustc).
    #[must_use]
    pub fn into_tokens(self) -> TokenStream {
        self.tokens
    }

    /// Each call as an LLM tool, in YAML order (the generated `TOOLS` constant holds the same).
    #[must_use]
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The generated items as formatted Rust source, as `build.rs` writes them.
    #[must_use]
    pub fn to_rust_source(&self) -> String {
        format_tokens(&self.tokens)
    }
}

/// Formats tokens with prettyplease, with a blank line between items. Generated tokens always
/// parse; if they somehow did not, the unformatted text is still valid input for rustc, which
/// will point at the problem.
pub(crate) fn format_tokens(tokens: &TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(mut file) => {
            separate_items(&mut file.items);
            let formatted = prettyplease::unparse(&file);
            let mut out = String::with_capacity(formatted.len() + formatted.len() / 32);
            for line in formatted.lines() {
                if line.trim_start() != BLANK_LINE_MARKER {
                    out.push_str(line);
                }
                out.push('\n');
            }
            out
        }
        Err(_) => tokens.to_string(),
    }
}

/// prettyplease prints items back to back. A marker item between each two, printed alone on
/// its line, becomes the blank line; generated code never spells the name.
const BLANK_LINE_MARKER: &str = "__apicall_blank_line!();";

fn separate_items(items: &mut Vec<syn::Item>) {
    for item in items.iter_mut() {
        match item {
            syn::Item::Impl(block) => {
                block.items = interleave(std::mem::take(&mut block.items), || {
                    syn::ImplItem::Macro(syn::ImplItemMacro {
                        attrs: Vec::new(),
                        mac: marker(),
                        semi_token: Some(syn::token::Semi::default()),
                    })
                });
            }
            syn::Item::Trait(definition) => {
                definition.items = interleave(std::mem::take(&mut definition.items), || {
                    syn::TraitItem::Macro(syn::TraitItemMacro {
                        attrs: Vec::new(),
                        mac: marker(),
                        semi_token: Some(syn::token::Semi::default()),
                    })
                });
            }
            syn::Item::Mod(syn::ItemMod {
                content: Some((_, items)),
                ..
            }) => separate_items(items),
            _ => {}
        }
    }
    *items = interleave(std::mem::take(items), || {
        syn::Item::Macro(syn::ItemMacro {
            attrs: Vec::new(),
            ident: None,
            mac: marker(),
            semi_token: Some(syn::token::Semi::default()),
        })
    });
}

/// `items` with `separator()` between each two.
fn interleave<T>(items: Vec<T>, separator: impl Fn() -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len() * 2);
    for item in items {
        if !out.is_empty() {
            out.push(separator());
        }
        out.push(item);
    }
    out
}

/// `__apicall_blank_line!()`.
fn marker() -> syn::Macro {
    syn::Macro {
        path: proc_macro2::Ident::new("__apicall_blank_line", proc_macro2::Span::call_site())
            .into(),
        bang_token: syn::token::Not::default(),
        delimiter: syn::MacroDelimiter::Paren(syn::token::Paren::default()),
        tokens: TokenStream::new(),
    }
}

/// Compiles one calls.yaml, for every LLM API [`Target`] (see [`Options`] to select some).
/// `file` is the name used in diagnostics (write it as the user wrote it, so messages are the
/// same on every machine); `source` is the file's text.
///
/// # Errors
///
/// Every mistake found in the file, each with its line and column.
pub fn compile(file: &str, source: &str) -> Result<Generated, Diagnostics> {
    Options::default().compile(file, source)
}

/// Compiles calls.yaml bytes, reporting non-UTF-8 input as a located diagnostic.
///
/// # Errors
///
/// As [`compile`], plus a diagnostic when the bytes are not UTF-8.
pub fn compile_bytes(file: &str, bytes: &[u8]) -> Result<Generated, Diagnostics> {
    Options::default().compile_bytes(file, bytes)
}

/// Checks calls.yaml bytes without generating code: the diagnostics [`compile_bytes`] would
/// report, in a fraction of its time (what `apicall check` and editors need).
///
/// # Errors
///
/// Every mistake found in the file, each with its line and column.
pub fn check_bytes(file: &str, bytes: &[u8]) -> Result<(), Diagnostics> {
    Options::default().check_bytes(file, bytes)
}

/// Checks calls.yaml bytes and lowers each call and webhook into the request it sends: what
/// `apicall run` and `apicall webhook` execute, the same description the generated code is
/// written from.
///
/// # Errors
///
/// Every mistake found in the file, each with its line and column.
pub fn requests(file: &str, bytes: &[u8]) -> Result<request::Requests, Diagnostics> {
    match check(file, bytes, &Options::default()) {
        (Some(model), diagnostics) if diagnostics.is_empty() => Ok(request::lower(&model)),
        (_, diagnostics) => Err(diagnostics),
    }
}

pub(crate) fn finish(
    (generated, diagnostics): (Option<Generated>, Diagnostics),
) -> Result<Generated, Diagnostics> {
    match generated {
        Some(generated) if diagnostics.is_empty() => Ok(generated),
        _ => Err(diagnostics),
    }
}

/// The diagnostics, and code generated from what was valid whenever the YAML itself parsed.
/// The macro emits that code beside its errors, so a typo in one header is one error, not one
/// per use of the generated items in the user's crate.
pub(crate) fn compile_recovering(
    file: &str,
    bytes: &[u8],
    options: &Options,
) -> (Option<Generated>, Diagnostics) {
    let (model, diagnostics) = check(file, bytes, options);
    let generated = model.map(|model| {
        let tools = tools::tools(&model);
        Generated {
            tokens: emit::file(&model, &tools),
            tools,
        }
    });
    (generated, diagnostics)
}

/// Parses and validates: the checked model (a best-effort one when there are diagnostics)
/// whenever the YAML itself parsed.
pub(crate) fn check(
    file: &str,
    bytes: &[u8],
    options: &Options,
) -> (Option<ir::File>, Diagnostics) {
    let source = match std::str::from_utf8(bytes) {
        Ok(source) => source,
        Err(error) => {
            let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
            let pos = parse::lines::LineIndex::new(valid).pos_at(valid.len());
            let mut report = diagnostic::Reporter::new(file, valid);
            report
                .error(pos, "the file is not valid UTF-8")
                .help("save calls.yaml as UTF-8");
            return (None, report.finish());
        }
    };
    let mut report = diagnostic::Reporter::new(file, source);
    let root = match parse::yaml::parse(source) {
        Ok(root) => root,
        Err(error) => {
            let pos = error.pos.unwrap_or(Pos::new(1, 1));
            report
                .error_spanning(pos, error.width, error.message)
                .maybe_help(error.help);
            return (None, report.finish());
        }
    };
    let document = parse::document::read(&root, &mut report);
    let model = validate::validate(&document, &mut report, options.selected());
    (Some(model), report.finish())
}
