//! Per prompt, a typed renderer over the context and the `api.*` values extracted so far.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{docs, ident};
use crate::ir::{self, Piece, Var};

pub(crate) fn render_fn(file: &ir::File, prompt: &ir::Prompt) -> TokenStream {
    let name = ident(&format!("render_{}", prompt.name));
    let mut doc = format!(
        "Renders the `{}` prompt. A value no call has extracted yet renders as nothing.\n\n\
         Template:\n\n```text\n",
        prompt.name
    );
    for piece in &prompt.template {
        match piece {
            Piece::Text(text) => doc.push_str(text),
            Piece::Var(Var::Context(index)) => {
                doc.push_str(&format!("{{{{{}}}}}", file.variables[*index].name));
            }
            Piece::Var(Var::Api(index)) => {
                doc.push_str(&format!("{{{{api.{}}}}}", file.api_values[*index].name));
            }
            Piece::Var(Var::Collected(_)) => {}
        }
    }
    if !doc.ends_with('\n') {
        doc.push('\n');
    }
    doc.push_str("```");
    let doc = docs(&doc);
    let uses = |wanted: fn(&Var) -> bool| {
        prompt
            .template
            .iter()
            .any(|piece| matches!(piece, Piece::Var(var) if wanted(var)))
    };
    let context = if uses(|v| matches!(v, Var::Context(_))) {
        quote!(context)
    } else {
        quote!(_context)
    };
    let api = if uses(|v| matches!(v, Var::Api(_))) {
        quote!(api)
    } else {
        quote!(_api)
    };
    let capacity: usize = prompt
        .template
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.len(),
            Piece::Var(_) => 16,
        })
        .sum();
    let capacity = Literal::usize_unsuffixed(capacity);
    let pushes = prompt.template.iter().map(|piece| match piece {
        Piece::Text(text) => quote!(out.push_str(#text);),
        Piece::Var(Var::Context(index)) => {
            // Validation rejects secrets in prompts: they would be sent to the LLM.
            let variable = &file.variables[*index];
            let field = ident(&variable.name);
            if variable.ty == ir::ValueType::String {
                quote!(out.push_str(&context.#field);)
            } else {
                quote!(out.push_str(&context.#field.to_string());)
            }
        }
        Piece::Var(Var::Api(index)) => {
            let value = &file.api_values[*index];
            let field = ident(&value.name);
            if value.ty == ir::ValueType::String {
                quote! {
                    if let ::core::option::Option::Some(value) = &api.#field {
                        out.push_str(value);
                    }
                }
            } else {
                quote! {
                    if let ::core::option::Option::Some(value) = api.#field {
                        out.push_str(&value.to_string());
                    }
                }
            }
        }
        // Validation rejects `collected.*` in prompts.
        Piece::Var(Var::Collected(_)) => TokenStream::new(),
    });
    quote! {
        #doc
        #[must_use]
        pub fn #name(#context: &Context, #api: &ApiValues) -> ::std::string::String {
            let mut out = ::std::string::String::with_capacity(#capacity);
            #(#pushes)*
            out
        }
    }
}
