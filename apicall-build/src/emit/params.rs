//! Per call, the struct of LLM parameters, deserialized from the LLM's tool-call arguments.

use proc_macro2::TokenStream;
use quote::quote;

use super::{code, docs, ident, rust_type, type_ident};
use crate::ir;

pub(crate) fn params_struct(call: &ir::Call) -> TokenStream {
    if call.params.is_empty() {
        return TokenStream::new();
    }
    let name = type_ident(&call.name, "Params");
    let doc = docs(&format!(
        "LLM parameters of [`{}`], as the LLM passes them in a tool call (JSON).",
        call.name
    ));
    let fields = call.params.iter().map(|param| {
        let field = ident(&param.name);
        let description = param.description.clone().unwrap_or_else(|| {
            format!(
                "The LLM parameter {}.",
                code(&format!("{{{{collected.{}}}}}", param.name))
            )
        });
        let doc = docs(&description);
        let ty = rust_type(param.ty);
        if param.required {
            quote! { #doc pub #field: #ty, }
        } else {
            quote! {
                #doc
                #[serde(default)]
                pub #field: ::core::option::Option<#ty>,
            }
        }
    });
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq, ::apicall_runtime::__private::serde::Deserialize)]
        #[serde(crate = "::apicall_runtime::__private::serde", deny_unknown_fields)]
        pub struct #name {
            #(#fields)*
        }
    }
}
