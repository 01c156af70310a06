//! Per call, the struct of LLM parameters, deserialized from the LLM's tool-call arguments,
//! the enums and structs its parameters need, and the static description of the parameters
//! the dispatcher checks the LLM's arguments against.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{code, docs, ident, moved, rust_type};
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
    let fields = fields(&call.params, |param| {
        format!(
            "The LLM parameter {}.",
            code(&format!("{{{{collected.{}}}}}", param.name))
        )
    });
    let mut types = TokenStream::new();
    nested_types(call, &call.params, "", &mut types);
    let description = moved(arguments_static(call));
    let (types, fields) = (moved(types), moved(fields.into_iter().collect()));
    quote! {
        #types

        #doc
        #[derive(Clone, Debug, PartialEq, __apicall::serde::Deserialize)]
        #[serde(crate = "::apicall_runtime::__private::serde", deny_unknown_fields)]
        pub struct #name {
            #fields
        }

        #description
    }
}

/// The fields of a params struct or an object parameter's struct; `undocumented` says what a
/// field without a `description:` is.
fn fields(params: &[ir::Param], undocumented: impl Fn(&ir::Param) -> String) -> Vec<TokenStream> {
    params
        .iter()
        .map(|param| {
            let field = ident(&param.name);
            let description = param
                .description
                .clone()
                .unwrap_or_else(|| undocumented(param));
            let doc = docs(&description);
            let ty = param_type(&param.ty);
            if param.required {
                quote! { #doc pub #field: #ty, }
            } else {
                quote! {
                    #doc
                    #[serde(default)]
                    pub #field: __apicall::Option<#ty>,
                }
            }
        })
        .collect()
}

/// The Rust type of an LLM parameter (without the `Option` of optional ones).
pub(crate) fn param_type(ty: &ir::ParamType) -> TokenStream {
    match ty {
        ir::ParamType::Value(ty) => rust_type(*ty),
        ir::ParamType::Array(items) => {
            let items = param_type(items);
            quote!(__apicall::Vec<#items>)
        }
        ir::ParamType::Enum { type_name, .. }
        | ir::ParamType::IntegerEnum { type_name, .. }
        | ir::ParamType::Object { type_name, .. } => {
            let name = ident(type_name);
            quote!(#name)
        }
    }
}

/// The enums and structs `params` need, each before the types that use it; `at` is the path
/// of the object they are members of (`address.`), for docs.
fn nested_types(call: &ir::Call, params: &[ir::Param], at: &str, out: &mut TokenStream) {
    for param in params {
        let place = format!("{at}{}", param.name);
        match param.ty.element() {
            ir::ParamType::Enum { type_name, choices } => {
                out.extend(enum_type(call, &place, type_name, choices));
            }
            ir::ParamType::IntegerEnum { type_name, choices } => {
                out.extend(integer_enum_type(call, &place, type_name, choices));
            }
            ir::ParamType::Object { type_name, fields } => {
                nested_types(call, fields, &format!("{place}."), out);
                out.extend(object_type(call, &place, type_name, fields));
            }
            ir::ParamType::Value(_) | ir::ParamType::Array(_) => {}
        }
    }
}

/// Each generated enum's method that names its value (`as_str`, `value`), for the list of
/// items a binary may leave unused.
pub(crate) fn enum_methods(call: &ir::Call) -> Vec<TokenStream> {
    fn walk(params: &[ir::Param], out: &mut Vec<TokenStream>) {
        for param in params {
            match param.ty.element() {
                ir::ParamType::Enum { type_name, .. } => {
                    let name = ident(type_name);
                    out.push(quote!(#name::as_str));
                }
                ir::ParamType::IntegerEnum { type_name, .. } => {
                    let name = ident(type_name);
                    out.push(quote!(#name::value));
                }
                ir::ParamType::Object { fields, .. } => walk(fields, out),
                ir::ParamType::Value(_) | ir::ParamType::Array(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&call.params, &mut out);
    out
}

/// The struct of an object parameter: read from the LLM's JSON and written into a JSON body,
/// every member in order, an absent optional one as `null`.
fn object_type(call: &ir::Call, place: &str, type_name: &str, fields: &[ir::Param]) -> TokenStream {
    let name = ident(type_name);
    let doc = docs(&format!(
        "The object the LLM passes as `{place}` of [`{}`].",
        call.name
    ));
    let fields = self::fields(fields, |param| {
        format!("The member `{}` of `{place}`.", param.name)
    });
    quote! {
        #doc
        #[derive(
            Clone, Debug, PartialEq,
            __apicall::serde::Deserialize,
            __apicall::serde::Serialize,
        )]
        #[serde(crate = "::apicall_runtime::__private::serde", deny_unknown_fields)]
        pub struct #name {
            #(#fields)*
        }
    }
}

/// The Rust enum of a string `enum:`.
fn enum_type(
    call: &ir::Call,
    place: &str,
    type_name: &str,
    choices: &[ir::EnumChoice],
) -> TokenStream {
    let name = ident(type_name);
    let doc = docs(&format!(
        "The values the LLM may choose for `{place}` of [`{}`].",
        call.name
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
            __apicall::serde::Deserialize,
            __apicall::serde::Serialize,
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

/// The Rust enum of an integer `enum:`: read and written as the JSON numbers, displayed as
/// the integer.
fn integer_enum_type(
    call: &ir::Call,
    place: &str,
    type_name: &str,
    choices: &[ir::IntegerChoice],
) -> TokenStream {
    let name = ident(type_name);
    let doc = docs(&format!(
        "The integers the LLM may choose for `{place}` of [`{}`].",
        call.name
    ));
    let variant = |choice: &ir::IntegerChoice| -> (Ident, proc_macro2::Literal) {
        (
            ident(&choice.variant),
            proc_macro2::Literal::i64_unsuffixed(choice.value),
        )
    };
    let variants = choices.iter().map(|choice| {
        let variant = ident(&choice.variant);
        let doc = docs(&code(&choice.value.to_string()));
        quote! { #doc #variant, }
    });
    let to_value = choices.iter().map(|choice| {
        let (variant, value) = variant(choice);
        quote!(Self::#variant => #value,)
    });
    let from_value = choices.iter().map(|choice| {
        let (variant, value) = variant(choice);
        quote!(#value => __apicall::Ok(Self::#variant),)
    });
    quote! {
        #doc
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            __apicall::serde::Deserialize,
            __apicall::serde::Serialize,
        )]
        #[serde(
            crate = "::apicall_runtime::__private::serde",
            try_from = "i64",
            into = "i64"
        )]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            /// The integer as the LLM and the API write it.
            #[must_use]
            pub fn value(self) -> i64 {
                match self {
                    #(#to_value)*
                }
            }
        }

        impl ::core::convert::From<#name> for i64 {
            fn from(choice: #name) -> i64 {
                choice.value()
            }
        }

        impl ::core::convert::TryFrom<i64> for #name {
            type Error = &'static str;

            fn try_from(value: i64) -> __apicall::Result<Self, Self::Error> {
                match value {
                    #(#from_value)*
                    _ => __apicall::Err("not one of the enum's integers"),
                }
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.value(), f)
            }
        }
    }
}

/// `<CALL>_ARGUMENTS`: the parameters as the dispatcher checks the LLM's arguments against
/// them, to tell it what to fix.
fn arguments_static(call: &ir::Call) -> TokenStream {
    let name = ident(&names::call_arguments(&call.name));
    let params = moved(params_description(&call.params));
    let doc = docs(&format!(
        "The parameters of [`{}`], as the dispatcher checks the LLM's arguments.",
        call.name
    ));
    quote! {
        #doc
        static #name: &[__apicall::Param] = #params;
    }
}

fn params_description(params: &[ir::Param]) -> TokenStream {
    let params = params.iter().map(|param| {
        let name = &param.name;
        let shape = shape(&param.ty);
        let required = param.required;
        quote! {
            __apicall::Param { name: #name, shape: #shape, required: #required }
        }
    });
    let params = params.map(moved);
    quote!(&[#(#params),*])
}

fn shape(ty: &ir::ParamType) -> TokenStream {
    let shape = quote!(__apicall::Shape);
    match ty {
        ir::ParamType::Value(ir::ValueType::Integer) => quote!(#shape::Integer),
        ir::ParamType::Value(ir::ValueType::Number) => quote!(#shape::Number),
        ir::ParamType::Value(ir::ValueType::Boolean) => quote!(#shape::Boolean),
        ir::ParamType::Value(_) => quote!(#shape::String),
        ir::ParamType::Enum { choices, .. } => {
            let values = choices.iter().map(|c| &c.value);
            quote!(#shape::Enum(&[#(#values),*]))
        }
        ir::ParamType::IntegerEnum { choices, .. } => {
            let values = choices
                .iter()
                .map(|c| proc_macro2::Literal::i64_unsuffixed(c.value));
            quote!(#shape::IntegerEnum(&[#(#values),*]))
        }
        ir::ParamType::Array(items) => {
            let items = self::shape(items);
            quote!(#shape::Array(&#items))
        }
        ir::ParamType::Object { fields, .. } => {
            let fields = params_description(fields);
            quote!(#shape::Object(#fields))
        }
    }
}
