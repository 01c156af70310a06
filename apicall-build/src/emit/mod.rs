//! The checked model to Rust tokens: one module per generated concern.

mod call;
mod context;
mod dispatch;
mod mcp;
mod params;
mod prompt;
mod request;
mod response;
mod session;
mod webhook;

use std::cell::Cell;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};

use crate::tools::Tool;
use crate::{ir, names};

/// All generated items for one file, in the YAML's order.
///
/// The items are moved into one stream rather than interpolated with `quote!`, which copies
/// every token of an interpolated stream: for thousands of calls that copy was a fifth of the
/// compile.
pub(crate) fn file(file: &ir::File, tools: &[Tool]) -> TokenStream {
    // Generated code calls `__private`, which is not a stable API: a runtime from another
    // release fails here, naming the release it needs, rather than deep inside a function.
    let runtime_release = ident(&format!(
        "RELEASE_{}_{}",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    ));
    // Generated code names the runtime's helpers and the standard types it uses through this
    // one private import, not by full paths: robust against a user's own `Result` or `Option`
    // as the full paths are, with a seventh fewer tokens for the compiler to make and parse.
    let mut out = quote! {
        const _: () = ::apicall_runtime::__private::#runtime_release;
        use ::apicall_runtime::__private as __apicall;
    };
    out.extend([
        context::context_struct(file),
        response::api_values_struct(file),
        api_values_impl(file),
    ]);
    for call in &file.calls {
        out.extend([
            params::params_struct(call),
            response::response_struct(call),
            call::call_fn(file, call),
        ]);
    }
    out.extend(file.prompts.iter().map(|p| prompt::render_fn(file, p)));
    out.extend([
        tools_const(tools),
        dispatch::dispatch_fns(file),
        mcp::mcp_server(),
        webhook::webhooks(file),
        session::session(file),
        uses_every_item(file),
    ]);
    out
}

/// The one `impl ApiValues` block: `merge`, then each call's `record_<call>` in YAML order,
/// then each call's private dispatcher arm, `run_<call>`.
fn api_values_impl(file: &ir::File) -> TokenStream {
    let mut methods = TokenStream::new();
    methods.extend(dispatch::merge_method(file));
    methods.extend(file.calls.iter().filter_map(response::record_method));
    methods.extend(
        file.calls
            .iter()
            .map(|call| dispatch::run_method(file, call)),
    );
    if methods.is_empty() {
        return TokenStream::new();
    }
    let mut out = quote!(impl ApiValues);
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, methods))]);
    out
}

/// Names every public function, method and constant once, in the file's order, inside an
/// unnamed constant (which rustc counts as used). A binary that calls only some of them then
/// builds without `dead_code` warnings from the file `build.rs` wrote, as it does with the
/// macro, whose expansion rustc does not lint. Unlike an `#[allow(dead_code)]` on each item,
/// this silences nothing else.
fn uses_every_item(file: &ir::File) -> TokenStream {
    let mut paths = Vec::new();
    if !file.api_values.is_empty() {
        paths.push(quote!(ApiValues::merge));
    }
    for call in file.calls.iter().filter(|call| !call.responses.is_empty()) {
        let record = ident(&names::record_method(&call.name));
        paths.push(quote!(ApiValues::#record));
    }
    for call in &file.calls {
        paths.extend(params::enum_methods(call));
        paths.push(ident(&names::call_fn(&call.name)).into_token_stream());
    }
    for prompt in &file.prompts {
        paths.push(ident(&names::render_fn(&prompt.name)).into_token_stream());
        paths.push(ident(&names::try_render_fn(&prompt.name)).into_token_stream());
    }
    paths.extend([
        quote!(TOOLS),
        quote!(dispatch),
        quote!(dispatch_with_events),
        quote!(dispatch_all),
        quote!(dispatch_all_with_events),
    ]);
    if !file.webhooks.is_empty() {
        paths.push(quote!(finish));
    }
    paths.extend([
        quote!(Session::new),
        quote!(Session::dispatch),
        quote!(Session::dispatch_with_events),
        quote!(Session::dispatch_all),
        quote!(Session::dispatch_all_with_events),
        quote!(Session::api_values),
        quote!(Session::keep_completed),
        quote!(Session::wait_for_background),
        quote!(Session::in_background),
        quote!(Session::background_events),
        quote!(Session::cancel_background),
    ]);
    if !file.webhooks.is_empty() {
        paths.push(quote!(Session::finish));
    }
    for prompt in &file.prompts {
        let render = ident(&names::render_fn(&prompt.name));
        paths.push(quote!(Session::#render));
    }
    let paths = paths.into_iter().map(moved);
    quote! {
        /// Uses every public item once, so that a binary calling only some of them builds
        /// without `dead_code` warnings.
        const _: () = {
            #(let _ = #paths;)*
        };
    }
}

/// `TOOLS`: every call as an LLM tool definition, with its parameters' JSON Schema as text.
fn tools_const(tools: &[Tool]) -> TokenStream {
    let entries = tools.iter().map(|tool| {
        let name = string_literal(&tool.name);
        let description = string_literal(&tool.description);
        let parameters = string_literal(&tool.parameters.to_string());
        let output = string_literal(&tool.output.to_string());
        moved(quote! {
            ::apicall_runtime::ToolDefinition {
                name: #name,
                description: #description,
                parameters: #parameters,
                output: #output,
            }
        })
    });
    quote! {
        /// Every call as a tool definition for the LLM, in the YAML's order. Hand them over in
        /// your LLM API's shape: [`::apicall_runtime::ToolDefinition::to_openai`],
        /// `to_openai_responses`, `to_anthropic`, `to_gemini`, `to_gemini_openapi` or `to_mcp`
        /// (or `to_target`).
        pub const TOOLS: &[::apicall_runtime::ToolDefinition] = &[#(#entries),*];
    }
}

pub(crate) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A stream that `quote!` moves into its output instead of copying it: `#stream` clones every
/// token of a `TokenStream` (an allocation per identifier and literal), and the original is
/// dropped after. The generators interpolate each piece they make once; in a large file those
/// copies were a tenth of expanding it. Interpolated a second time, a `Moved` is empty.
pub(crate) struct Moved(Cell<Option<TokenStream>>);

/// `stream`, to be moved by the `quote!` that interpolates it.
pub(crate) fn moved(stream: TokenStream) -> Moved {
    Moved(Cell::new(Some(stream)))
}

impl ToTokens for Moved {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let stream = self.0.take();
        debug_assert!(stream.is_some(), "a `Moved` stream is interpolated once");
        tokens.extend(stream);
    }
}

/// `#[allow(clippy::too_many_lines)]` for a function of `statements` generated statements
/// (each up to three lines), once there are enough for `clippy::pedantic` to count more than
/// its 100 lines; nothing below that, so small files read plainly.
pub(crate) fn allow_long_body(statements: usize) -> Option<TokenStream> {
    (statements > 25)
        .then(|| quote!(#[allow(clippy::too_many_lines, reason = "one statement per value")]))
}

/// The Rust type of a value of this JSON type.
pub(crate) fn rust_type(ty: ir::ValueType) -> TokenStream {
    match ty {
        ir::ValueType::String => quote!(__apicall::String),
        ir::ValueType::Integer => quote!(i64),
        ir::ValueType::Number => quote!(f64),
        ir::ValueType::Boolean => quote!(bool),
    }
}

/// Doc attributes, one per line: formatted, each is a `///` line (prettyplease prints a
/// `#[doc]` holding a line break as a `/** */` block). A lone `\r` breaks a line too, since
/// rustc refuses one inside a `///` comment.
pub(crate) fn docs(text: &str) -> Moved {
    let text = text.trim_end();
    let text = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    // Prose from calls.yaml names products as their makers spell them (`HubSpot`, `OAuth2`),
    // which clippy's pedantic `doc_markdown` would have a user's crate put in backticks.
    let mut out = if names_code_like_words(&text) {
        quote!(#[allow(clippy::doc_markdown, reason = "prose from calls.yaml")])
    } else {
        TokenStream::new()
    };
    for line in text.split(['\n', '\r']) {
        let line = if line.is_empty() {
            string_literal("")
        } else {
            string_literal(&format!(" {}", visible_direction_controls(line)))
        };
        // `#[doc = #line]`, made here: `quote!` would copy the literal, then drop it.
        let mut attribute = quote!(doc =);
        attribute.extend([TokenTree::Literal(line)]);
        out.extend([
            TokenTree::Punct(Punct::new('#', Spacing::Alone)),
            TokenTree::Group(Group::new(Delimiter::Bracket, attribute)),
        ]);
    }
    moved(out)
}

/// The string literal token `quote!` makes of `text`, made without escaping it one character
/// at a time where it needs no escape.
///
/// Outside a compiler (build.rs, `apicall expand`), proc-macro2 writes a string literal by
/// passing each character through `char::escape_debug`: for a large file that was a tenth of
/// the compile, most of it doc comments. Printable ASCII escapes only `"` and `\`, so such text
/// is written here as the literal's source and read back, one cheap pass; any other text goes
/// through [`Literal::string`]. The literal's text, and so the token, is the same either way.
pub(crate) fn string_literal(text: &str) -> Literal {
    if text.bytes().all(|byte| (b' '..=b'~').contains(&byte)) {
        let mut source = String::with_capacity(text.len() + text.len() / 8 + 2);
        source.push('"');
        let mut rest = text;
        while let Some(at) = rest.find(['"', '\\']) {
            source.push_str(&rest[..at]);
            source.push('\\');
            source.push_str(&rest[at..=at]);
            rest = &rest[at + 1..];
        }
        source.push_str(rest);
        source.push('"');
        if let Ok(literal) = source.parse() {
            return literal;
        }
    }
    Literal::string(text)
}

/// Whether `text` has a word outside backticks that `doc_markdown` takes for code: as clippy
/// reads a word, one with `_` or `::`, or a camel-case one (`HubSpot`: a capital first, another
/// capital and a lowercase letter; `CRM` and `API` are fine).
fn names_code_like_words(text: &str) -> bool {
    if text.is_ascii() {
        names_code_like_ascii_words(text.as_bytes())
    } else {
        names_code_like_unicode_words(text)
    }
}

/// [`names_code_like_words`] for ASCII text, a byte at a time: docs are most of what a big file
/// generates, and reading them as `char`s took a tenth of the compile.
fn names_code_like_ascii_words(text: &[u8]) -> bool {
    let separates = |byte: &u8| {
        matches!(
            byte,
            b' ' | b'\t'
                | b'\n'
                | b'\x0B'
                | b'\x0C'
                | b'\r'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'<'
                | b'>'
                | b','
                | b';'
                | b'!'
                | b'?'
                | b'"'
                | b'\''
        )
    };
    let in_word = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'_';
    let camel_case = |word: &[u8]| {
        let word = word.strip_suffix(b"s").unwrap_or(word);
        word.first().is_some_and(u8::is_ascii_uppercase)
            && word.iter().all(u8::is_ascii_alphanumeric)
            && word
                .iter()
                .filter(|byte| byte.is_ascii_uppercase())
                .nth(1)
                .is_some()
            && word.iter().any(u8::is_ascii_lowercase)
    };
    text.split(|byte| *byte == b'`')
        .step_by(2)
        .flat_map(|prose| prose.split(separates))
        .map(|word| {
            let start = word.iter().position(in_word).unwrap_or(word.len());
            let end = word
                .iter()
                .rposition(in_word)
                .map_or(start, |last| last + 1);
            &word[start..end]
        })
        .any(|word| {
            word.contains(&b'_') || word.windows(2).any(|pair| pair == b"::") || camel_case(word)
        })
}

fn names_code_like_unicode_words(text: &str) -> bool {
    let camel_case = |word: &str| {
        let word = word.strip_suffix('s').unwrap_or(word);
        word.starts_with(|c: char| c.is_uppercase())
            && word.chars().all(char::is_alphanumeric)
            && word.chars().filter(|c| c.is_uppercase()).nth(1).is_some()
            && word.chars().any(char::is_lowercase)
    };
    text.split('`')
        .step_by(2)
        .flat_map(|prose| {
            prose.split(|c: char| {
                c.is_whitespace() || (c.is_ascii() && b"()[]{}<>,;!?\"'".contains(&(c as u8)))
            })
        })
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'))
        .any(|word| {
            word.contains('_') || (word.contains(':') && word.contains("::")) || camel_case(word)
        })
}

/// `text` with each bidirectional override or isolate written as its escape (`\u{202e}`): in a
/// `///` comment of the build.rs output rustc refuses them (`text_direction_codepoint_in_comment`
/// is an error), and in the macro's docs they would reorder what a reader sees.
fn visible_direction_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let is_control = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if text.is_ascii() || !text.contains(is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| {
            if is_control(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A Markdown code span that cannot be broken by backticks in `text`.
pub(crate) fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use quote::ToTokens as _;

    #[test]
    fn direction_controls_in_docs_are_written_as_escapes() {
        let docs = super::docs("Looks up \u{202e}redro\u{202c} and \u{2067}x\u{2069}")
            .to_token_stream()
            .to_string();
        assert!(
            docs.contains(r"\\u{202e}redro\\u{202c} and \\u{2067}x\\u{2069}"),
            "{docs}"
        );
        assert!(!docs.contains('\u{202e}'), "{docs}");
    }

    /// A file with an `api.*` value, a prompt that can miss it, webhooks and multi-line docs.
    const YAML: &str = r#"
variables:
  caller:
    description: "The caller.\r\nTheir number, in E.164.\rNever empty."
api_calls:
  - name: lookup
    description: |
      Look up the caller.

      Second paragraph.
    url: https://crm.example.com/lookup
    method: GET
    response_variables:
      - variable: customer
        path: name
prompts:
  greeting: "Hello {{api.customer}}"
webhooks:
  post_call:
    - name: audit
      url: https://audit.example.com/
      body:
        customer: "{{api.customer}}"
"#;

    fn source() -> String {
        crate::compile("calls.yaml", YAML)
            .expect("the file is valid")
            .to_rust_source()
    }

    #[test]
    fn every_doc_line_prints_as_a_triple_slash_comment() {
        let source = source();
        assert!(!source.contains("/**"), "{source}");
        assert!(!source.contains('\r'), "{source}");
        assert!(
            source.contains(
                "    /// The caller.\n    /// Their number, in E.164.\n    /// Never empty.\n"
            ),
            "{source}"
        );
        assert!(
            source.contains("/// Look up the caller.\n///\n/// Second paragraph.\n"),
            "{source}"
        );
        assert!(source.contains("///\n/// # Errors\n///\n"), "{source}");
    }

    #[test]
    fn items_are_separated_by_one_blank_line() {
        let source = source();
        assert!(!source.contains("\n\n\n"), "{source}");
        assert!(!source.ends_with("\n\n"), "{source}");
        // Between top-level items, and between the items of an `impl` block.
        assert!(source.contains("}\n\nimpl Session {\n"), "{source}");
        assert!(
            source.contains("    }\n\n    /// Runs one tool call"),
            "{source}"
        );
        // Not between fields or statements.
        assert!(!source.contains(",\n\n"), "{source}");
        assert!(!source.contains(";\n\n    "), "{source}");
    }

    #[test]
    fn each_type_has_one_impl_block() {
        let source = source();
        assert_eq!(source.matches("impl ApiValues {").count(), 1, "{source}");
        assert_eq!(source.matches("impl Session {").count(), 1, "{source}");
        assert!(source.contains("pub fn record_lookup("), "{source}");
    }
}

#[cfg(test)]
mod doc_words {
    use proptest::prelude::*;

    use super::{
        names_code_like_ascii_words, names_code_like_unicode_words, names_code_like_words,
    };

    proptest! {
        #[test]
        fn ascii_text_is_read_as_the_unicode_reading_does(
            text in "[ -~\t\n\r\x0B\x0C]*|[a-zA-Z_:` .'s]*"
        ) {
            prop_assert_eq!(
                names_code_like_ascii_words(text.as_bytes()),
                names_code_like_unicode_words(&text),
                "{:?}", text
            );
        }
    }

    #[test]
    fn camel_case_and_identifiers_are_code_like_acronyms_are_not() {
        for code_like in [
            "Look it up in HubSpot.",
            "An OAuth2 client",
            "see caller_phone",
            "a::b",
        ] {
            assert!(names_code_like_words(code_like), "{code_like}");
        }
        for prose in [
            "Key for the CRM API",
            "GET with JSON",
            "Ada's order",
            "in `HubSpot`",
        ] {
            assert!(!names_code_like_words(prose), "{prose}");
        }
    }
}

#[cfg(test)]
mod string_literals {
    use proc_macro2::Literal;
    use proptest::prelude::*;

    use super::string_literal;

    fn same_as_quote(text: &str) {
        assert_eq!(
            string_literal(text).to_string(),
            Literal::string(text).to_string(),
            "{text:?}"
        );
    }

    #[test]
    fn are_the_tokens_quote_makes() {
        for text in [
            "",
            " Look up the caller",
            "a \"quoted\" word, a \\ and a '",
            r#"{"type":"object","properties":{"a\\b":{"description":"\"x\""}}}"#,
            "tab\there",
            "two\nlines\r",
            "\0 and \x007",
            "\u{7f}",
            "café ☕",
            "\u{202e}",
        ] {
            same_as_quote(text);
        }
    }

    proptest! {
        #[test]
        fn are_the_tokens_quote_makes_for_any_text(text in "\\PC*|[ -~]*|[\"\\\\a ]*") {
            same_as_quote(&text);
        }
    }
}
