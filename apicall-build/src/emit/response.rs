//! Per call, the struct of extracted values and how to extract them; for the whole file, the
//! `ApiValues` state that prompts render from.

use std::collections::BTreeMap;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{code, docs, ident, rust_type};
use crate::parse::path::{self, Segment};
use crate::{ir, names};

pub(crate) fn response_struct(call: &ir::Call) -> TokenStream {
    let name = ident(&names::response_type(&call.name));
    let doc = docs(&format!(
        "Values extracted from the response of [`{}`]. A value the API left out is `None`.",
        call.name
    ));
    let fields = call.responses.iter().map(|variable| {
        let field = ident(&variable.name);
        let doc = docs(&format!(
            "{} in the response; {} in prompts.",
            code(&path::display(&variable.path)),
            code(&format!("{{{{api.{}}}}}", variable.name))
        ));
        let ty = rust_type(variable.ty);
        if variable.required {
            quote! { #doc pub #field: #ty, }
        } else {
            quote! { #doc pub #field: ::core::option::Option<#ty>, }
        }
    });
    quote! {
        #doc
        #[derive(Clone, Debug, Default, PartialEq, ::apicall_runtime::__private::serde::Serialize)]
        #[serde(crate = "::apicall_runtime::__private::serde")]
        pub struct #name {
            #(#fields)*
        }
    }
}

/// `ApiValues::record_<call>`, a method of the one `impl ApiValues` block: keeps what a
/// response extracted for later prompts. `None` for a call that extracts nothing.
pub(crate) fn record_method(call: &ir::Call) -> Option<TokenStream> {
    if call.responses.is_empty() {
        return None;
    }
    let response = ident(&names::response_type(&call.name));
    let method = ident(&names::record_method(&call.name));
    let doc = docs(&format!(
        "Stores the values a call to [`{}`] extracted. A value the response left out keeps \
         its earlier value.",
        call.name
    ));
    // Two paths may fill the same variable; each present one overwrites in YAML order.
    let stores = call.responses.iter().map(|variable| {
        let field = ident(&variable.name);
        if variable.required {
            let value = if variable.ty == ir::ValueType::String {
                quote!(response.#field.clone())
            } else {
                quote!(response.#field)
            };
            quote! {
                self.#field = ::core::option::Option::Some(#value);
            }
        } else if variable.ty == ir::ValueType::String {
            quote! {
                if let ::core::option::Option::Some(value) = &response.#field {
                    self.#field = ::core::option::Option::Some(value.clone());
                }
            }
        } else {
            quote! {
                if let ::core::option::Option::Some(value) = response.#field {
                    self.#field = ::core::option::Option::Some(value);
                }
            }
        }
    });
    Some(quote! {
        #doc
        pub fn #method(&mut self, response: &#response) {
            #(#stores)*
        }
    })
}

pub(crate) fn api_values_struct(file: &ir::File) -> TokenStream {
    let fields = file.api_values.iter().map(|value| {
        let field = ident(&value.name);
        let doc = docs(&format!(
            "{}, once a call has extracted it.",
            code(&format!("{{{{api.{}}}}}", value.name))
        ));
        let ty = rust_type(value.ty);
        quote! { #doc pub #field: ::core::option::Option<#ty>, }
    });
    quote! {
        /// Every `{{api.*}}` value extracted so far in a conversation, for rendering prompts.
        #[derive(
            Clone, Debug, Default, PartialEq,
            ::apicall_runtime::__private::serde::Serialize,
            ::apicall_runtime::__private::serde::Deserialize,
        )]
        #[serde(crate = "::apicall_runtime::__private::serde", default)]
        pub struct ApiValues {
            #(#fields)*
        }
    }
}

/// The trie of response paths as a `PathNode` expression: each JSON value is visited once,
/// and only the members on some path are looked at.
pub(crate) fn path_tree(call: &ir::Call) -> TokenStream {
    #[derive(Default)]
    struct Trie {
        slots: Vec<usize>,
        children: BTreeMap<Segment, Trie>,
    }
    let mut root = Trie::default();
    for (slot, variable) in call.responses.iter().enumerate() {
        let mut node = &mut root;
        for segment in &variable.path {
            node = node.children.entry(segment.clone()).or_default();
        }
        node.slots.push(slot);
    }
    fn node(trie: &Trie) -> TokenStream {
        let slots = trie
            .slots
            .iter()
            .map(|&slot| Literal::usize_unsuffixed(slot));
        let keys = trie
            .children
            .iter()
            .filter_map(|(segment, child)| match segment {
                Segment::Key(key) => {
                    let child = node(child);
                    Some(quote!((#key, #child)))
                }
                Segment::Index(_) | Segment::FromEnd(_) => None,
            });
        let indexes = trie
            .children
            .iter()
            .filter_map(|(segment, child)| match segment {
                Segment::Index(index) => {
                    let index = Literal::usize_unsuffixed(*index);
                    let child = node(child);
                    Some(quote!((#index, #child)))
                }
                Segment::Key(_) | Segment::FromEnd(_) => None,
            });
        let from_end = trie
            .children
            .iter()
            .filter_map(|(segment, child)| match segment {
                Segment::FromEnd(back) => {
                    let back = Literal::usize_unsuffixed(*back);
                    let child = node(child);
                    Some(quote!((#back, #child)))
                }
                Segment::Key(_) | Segment::Index(_) => None,
            });
        quote! {
            ::apicall_runtime::call::PathNode {
                slots: &[#(#slots),*],
                keys: &[#(#keys),*],
                indexes: &[#(#indexes),*],
                from_end: &[#(#from_end),*],
            }
        }
    }
    node(&root)
}

/// The response struct literal, reading each slot with its declared type.
pub(crate) fn response_literal(call: &ir::Call) -> TokenStream {
    let name = ident(&names::response_type(&call.name));
    let fields = call.responses.iter().enumerate().map(|(slot, variable)| {
        let field = ident(&variable.name);
        let getter = ident(match variable.ty {
            ir::ValueType::String => "string",
            ir::ValueType::Integer => "integer",
            ir::ValueType::Number => "number",
            ir::ValueType::Boolean => "boolean",
        });
        let variable_name = &variable.name;
        let slot = Literal::usize_unsuffixed(slot);
        if variable.required {
            quote! {
                #field: extracted
                    .#getter(#slot, #variable_name)?
                    .ok_or_else(|| extracted.missing(#variable_name))?,
            }
        } else {
            quote! { #field: extracted.#getter(#slot, #variable_name)?, }
        }
    });
    quote! { #name { #(#fields)* } }
}
