//! Per call, the struct of extracted values and how to extract them; for the whole file, the
//! `ApiValues` state that prompts render from.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::{allow_long_body, code, docs, ident, moved, rust_type};
use crate::parse::path::{self, Segment};
use crate::{ir, names};

pub(crate) fn response_struct(call: &ir::Call) -> TokenStream {
    let name = ident(&names::response_type(&call.name));
    let doc = docs(&format!(
        "Values extracted from the response of [`{}`]. A value the API left out is `None`.",
        call.name
    ));
    let impls = value_impls(&name, call.responses.iter().map(|v| &*v.name));
    let derives = if impls.is_none() {
        quote! {
            #[derive(
                Clone, Debug, Default, PartialEq,
                __apicall::serde::Serialize,
            )]
            #[serde(crate = "::apicall_runtime::__private::serde")]
        }
    } else {
        quote!(#[derive(Clone, Default)])
    };
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
            quote! { #doc pub #field: __apicall::Option<#ty>, }
        }
    });
    // `clippy::pedantic` asks for an enum instead of four `bool`s; these mirror the response.
    let bools = call
        .responses
        .iter()
        .filter(|variable| variable.required && variable.ty == ir::ValueType::Boolean)
        .count();
    let allow_bools = (bools > 3).then(|| {
        quote!(#[allow(clippy::struct_excessive_bools, reason = "one field per response value")])
    });
    let fields = moved(fields.collect());
    quote! {
        #doc
        #allow_bools
        #derives
        pub struct #name {
            #fields
        }
        #impls
    }
}

/// Structs with more fields than this get hand-written `Debug`, `PartialEq` and `Serialize`
/// impls rather than derived ones. The derived `eq` is one `&&` chain and serde's field count
/// one `1 + 1 + …` sum, both nested one level per field, and rustc overflows its stack on them
/// at about 5,000 fields; the derived `Debug` puts an array of every field on the stack, which
/// `clippy::large_stack_arrays` refuses above 1,024. Below the threshold the derives read
/// better in `apicall expand`.
const DERIVE_UP_TO_FIELDS: usize = 256;

/// Hand-written `Debug`, `PartialEq` and serde `Serialize` impls for a struct of `fields`, or
/// `None` when it is small enough to derive them. The impls behave as the derives do: fields
/// shown, compared and serialized by name, in order, one statement each.
fn value_impls<'a>(
    name: &Ident,
    fields: impl ExactSizeIterator<Item = &'a str> + Clone,
) -> Option<TokenStream> {
    if fields.len() <= DERIVE_UP_TO_FIELDS {
        return None;
    }
    let count = Literal::usize_unsuffixed(fields.len());
    let type_name = name.to_string();
    let idents = fields.clone().map(ident);
    let idents_again = idents.clone();
    let idents_debug = idents.clone();
    let keys = fields;
    let keys_debug = keys.clone();
    let impls = quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #name {
            #[allow(clippy::too_many_lines, reason = "one statement per field")]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut fields = f.debug_struct(#type_name);
                #( fields.field(#keys_debug, &self.#idents_debug); )*
                fields.finish()
            }
        }
        #[automatically_derived]
        impl ::core::cmp::PartialEq for #name {
            #[allow(clippy::too_many_lines, reason = "one statement per field")]
            fn eq(&self, other: &Self) -> bool {
                #(
                    if ::core::cmp::PartialEq::ne(&self.#idents, &other.#idents) {
                        return false;
                    }
                )*
                true
            }
        }
        #[automatically_derived]
        impl __apicall::serde::Serialize for #name {
            #[allow(clippy::too_many_lines, reason = "one statement per field")]
            fn serialize<S>(&self, serializer: S) -> __apicall::Result<S::Ok, S::Error>
            where
                S: __apicall::serde::Serializer,
            {
                use __apicall::serde::ser::SerializeStruct as _;
                let mut state = serializer.serialize_struct(#type_name, #count)?;
                #( state.serialize_field(#keys, &self.#idents_again)?; )*
                state.end()
            }
        }
    };
    Some(impls)
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
                self.#field = __apicall::Some(#value);
            }
        } else {
            quote!(__apicall::keep(&mut self.#field, &response.#field);)
        }
    });
    let stores = moved(stores.collect());
    let allow = allow_long_body(call.responses.len());
    Some(quote! {
        #doc
        #allow
        pub fn #method(&mut self, response: &#response) {
            #stores
        }
    })
}

pub(crate) fn api_values_struct(file: &ir::File) -> TokenStream {
    let name = ident("ApiValues");
    let impls = value_impls(&name, file.api_values.iter().map(|value| &*value.name));
    let derives = if impls.is_none() {
        quote! {
            #[derive(
                Clone, Debug, Default, PartialEq,
                __apicall::serde::Serialize,
                __apicall::serde::Deserialize,
            )]
            #[serde(crate = "::apicall_runtime::__private::serde", default)]
        }
    } else {
        quote!(#[derive(Clone, Default)])
    };
    let fields = file.api_values.iter().map(|value| {
        let field = ident(&value.name);
        let doc = docs(&format!(
            "{}, once a call has extracted it.",
            code(&format!("{{{{api.{}}}}}", value.name))
        ));
        let ty = rust_type(value.ty);
        quote! { #doc pub #field: __apicall::Option<#ty>, }
    });
    let deserialize_impl = impls
        .is_some()
        .then(|| deserialize_impl(&name, file.api_values.iter().map(|value| &*value.name)));
    let fields = moved(fields.collect());
    quote! {
        /// Every `{{api.*}}` value extracted so far in a conversation, for rendering prompts.
        #derives
        pub struct #name {
            #fields
        }
        #impls
        #deserialize_impl
    }
}

/// serde's `Deserialize` for a struct of more than [`DERIVE_UP_TO_FIELDS`] optional `fields`,
/// every one defaulted as `#[serde(default)]` would: from a map (unknown keys skipped, a key
/// given twice taking its last value) or a sequence (the fields in order, a short one leaving
/// the rest `None`). The derive keeps one local per field, and rustc's time and memory grow
/// with their square (23 s and 2.3 GB to check 6,000); these write into one value.
fn deserialize_impl<'a>(
    name: &Ident,
    fields: impl ExactSizeIterator<Item = &'a str> + Clone,
) -> TokenStream {
    let type_name = name.to_string();
    let expecting = format!("struct {type_name}");
    let keys = fields.clone();
    let keys_const = fields.clone();
    let idents = fields.clone().map(ident);
    let idents_seq = fields.map(ident);
    quote! {
        #[automatically_derived]
        impl<'de> __apicall::serde::Deserialize<'de> for #name {
            #[allow(clippy::too_many_lines, reason = "one arm per field")]
            fn deserialize<D>(deserializer: D) -> __apicall::Result<Self, D::Error>
            where
                D: __apicall::serde::Deserializer<'de>,
            {
                use __apicall::serde::de;
                struct Visitor;
                impl<'de> de::Visitor<'de> for Visitor {
                    type Value = #name;
                    fn expecting(
                        &self,
                        formatter: &mut ::core::fmt::Formatter<'_>,
                    ) -> ::core::fmt::Result {
                        formatter.write_str(#expecting)
                    }
                    fn visit_map<A>(self, mut map: A) -> __apicall::Result<#name, A::Error>
                    where
                        A: de::MapAccess<'de>,
                    {
                        use __apicall::read_value;
                        let mut values = #name::default();
                        while let __apicall::Some(key) =
                            map.next_key::<__apicall::String>()?
                        {
                            let mut ignored = de::IgnoredAny;
                            match key.as_str() {
                                #( #keys => read_value(&mut map, &mut values.#idents), )*
                                _ => read_value(&mut map, &mut ignored),
                            }?;
                        }
                        __apicall::Ok(values)
                    }
                    fn visit_seq<A>(self, mut seq: A) -> __apicall::Result<#name, A::Error>
                    where
                        A: de::SeqAccess<'de>,
                    {
                        use __apicall::read_element;
                        let mut values = #name::default();
                        // Each `?` makes a value of its function's result type: here `()`, not
                        // the whole struct, once per field.
                        let mut read = || -> __apicall::Result<(), A::Error> {
                            #(
                                if !read_element(&mut seq, &mut values.#idents_seq)? {
                                    return __apicall::Ok(());
                                }
                            )*
                            __apicall::Ok(())
                        };
                        read()?;
                        __apicall::Ok(values)
                    }
                }
                const FIELDS: &[&str] = &[#(#keys_const),*];
                deserializer.deserialize_struct(#type_name, FIELDS, Visitor)
            }
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
                    let child = moved(node(child));
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
                    let child = moved(node(child));
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
                    let child = moved(node(child));
                    Some(quote!((#back, #child)))
                }
                Segment::Key(_) | Segment::Index(_) => None,
            });
        if trie.children.is_empty() {
            return quote!(__apicall::leaf(&[#(#slots),*]));
        }
        let (keys, indexes, from_end) = (keys.map(moved), indexes.map(moved), from_end.map(moved));
        quote!(__apicall::node(
            &[#(#slots),*],
            &[#(#keys),*],
            &[#(#indexes),*],
            &[#(#from_end),*],
        ))
    }
    node(&root)
}

/// The response struct literal, each field read from its slot by `Extracted::field` with the
/// field's type, inside the closure `Extracted::into_response` runs. The closure is a body of
/// its own: in the `async fn`, the literal made rustc's time and memory grow with the square
/// of the fields.
pub(crate) fn response_literal(call: &ir::Call) -> TokenStream {
    let name = ident(&names::response_type(&call.name));
    let fields = call.responses.iter().enumerate().map(|(slot, variable)| {
        let field = ident(&variable.name);
        let variable_name = &variable.name;
        let slot = Literal::usize_unsuffixed(slot);
        quote! { #field: extracted.field(#slot, #variable_name), }
    });
    let fields = moved(fields.collect());
    quote! { |extracted| #name { #fields } }
}
