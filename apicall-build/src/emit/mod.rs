//! The checked model to Rust tokens: one module per generated concern.

mod call;
mod context;
mod dispatch;
mod params;
mod prompt;
mod response;
mod session;
mod webhook;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

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
    let mut out = quote! {
        const _: () = ::apicall_runtime::__private::#runtime_release;
    };
    out.extend([
        context::context_struct(file),
        response::api_values_struct(file),
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
        webhook::webhooks(file),
        session::session(file),
    ]);
    out
}

/// `TOOLS`: every call as an LLM tool definition, with its parameters' JSON Schema as text.
fn tools_const(tools: &[Tool]) -> TokenStream {
    let entries = tools.iter().map(|tool| {
        let name = &tool.name;
        let description = &tool.description;
        let parameters = tool.parameters.to_string();
        quote! {
            ::apicall_runtime::ToolDefinition {
                name: #name,
                description: #description,
                parameters: #parameters,
            }
        }
    });
    quote! {
        /// Every call as a tool definition for the LLM, in the YAML's order. Hand them over with
        /// [`::apicall_runtime::ToolDefinition::to_openai`] or
        /// [`::apicall_runtime::ToolDefinition::to_anthropic`].
        pub const TOOLS: &[::apicall_runtime::ToolDefinition] = &[#(#entries),*];
    }
}

pub(crate) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The Rust type of a value of this JSON type.
pub(crate) fn rust_type(ty: ir::ValueType) -> TokenStream {
    match ty {
        ir::ValueType::String => quote!(::std::string::String),
        ir::ValueType::Integer => quote!(i64),
        ir::ValueType::Number => quote!(f64),
        ir::ValueType::Boolean => quote!(bool),
    }
}

/// The Rust type of an LLM parameter (without the `Option` of optional ones).
pub(crate) fn param_type(call: &ir::Call, param: &ir::Param) -> TokenStream {
    match &param.ty {
        ir::ParamType::Value(ty) => rust_type(*ty),
        ir::ParamType::Enum(_) => {
            let name = enum_ident(call, param);
            quote!(#name)
        }
    }
}

/// `order_status` + `priority` → `OrderStatusPriority`.
pub(crate) fn enum_ident(call: &ir::Call, param: &ir::Param) -> Ident {
    ident(&names::enum_type(&call.name, &param.name))
}

/// Doc attributes, one per line, so multi-line YAML descriptions stay readable.
pub(crate) fn docs(text: &str) -> TokenStream {
    let lines = text.trim_end().lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
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
