//! Per call, the struct of LLM parameters, deserialized from the LLM's tool-call arguments.

use proc_macro2::TokenStream;
use quote::quote;

use super::{code, docs, enum_ident, ident, param_type};
use crate::{ir, names};

pub(crate) fn params_struct(call: &ir::Call) -> TokenStream {
    if call.params.is_empty() {
        return TokenStream::new();
    }
    let name = ident(&names::params_type(&call.name));
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
        let ty = param_type(call, param);
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
    let enums = call.params.iter().map(|param| enum_type(call, param));
    quote! {
        #(#enums)*

        #doc
        #[derive(Clone, Debug, PartialEq, ::apicall_runtime::__private::serde::Deserialize)]
        #[serde(crate = "::apicall_runtime::__private::serde", deny_unknown_fields)]
        pub struct #name {
            #(#fields)*
        }
    }
}

/// For an `enum:` parameter, the Rust enum of its values; nothing otherwise.
fn enum_type(call: &ir::Call, param: &ir::Param) -> TokenStream {
    let ir::ParamType::Enum(choices) = &param.ty else {
        return TokenStream::new();
    };
    let name = enum_ident(call, param);
    let doc = docs(&format!(
        "The values the LLM may choose for `{}` of [`{}`].",
        param.name, call.name
    ));
    let variants = choices.iter().map(|choice| {
        let variant = ident(&choice.variant);
        let value = &choice.value;
        let doc = docs(&code(value));
        quote! {
            #doc
            #[serde(rename = #value)]
            #variant,
        }
    });
    let arms = choices.iter().map(|choice| {
        let variant = ident(&choice.variant);
        let value = &choice.value;
        quote!(Self::#variant => #value,)
    });
    quote! {
        #doc
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            ::apicall_runtime::__private::serde::Deserialize,
            ::apicall_runtime::__private::serde::Serialize,
        )]
        #[serde(crate = "::apicall_runtime::__private::serde")]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            /// The value as the LLM and the API write it.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    #(#arms)*
                }
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}
