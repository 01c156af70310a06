//! Per call, the async function that renders the request, sends it and extracts the values.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{code, docs, ident, response, type_ident};
use crate::ir::{self, Piece, Var};

pub(crate) fn call_fn(file: &ir::File, call: &ir::Call) -> TokenStream {
    let name = ident(&call.name);
    let call_name = &call.name;
    let response_type = type_ident(&call.name, "Response");
    let method = ident(match call.method {
        ir::Method::Get => "Get",
        ir::Method::Post => "Post",
        ir::Method::Put => "Put",
        ir::Method::Patch => "Patch",
        ir::Method::Delete => "Delete",
    });
    let timeout_ms = Literal::u64_unsuffixed(call.timeout_ms);
    let doc = docs(&format!(
        "{}\n\n{} with a timeout of {} ms.\n\n# Errors\n\nReturns an [`::apicall_runtime::Error`] \
         when the request cannot be sent, times out, gets a non-2xx status, or the response is \
         not JSON or holds a value of the wrong type.",
        call.description,
        code(&format!("{} {}", call.method.as_str(), call.url_text)),
        call.timeout_ms
    ));
    let context = if call.uses_context() {
        quote!(context)
    } else {
        quote!(_context)
    };
    let params_arg = if call.params.is_empty() {
        TokenStream::new()
    } else {
        let params_type = type_ident(&call.name, "Params");
        quote!(params: &#params_type,)
    };
    let url = call.url.iter().map(|part| url_part(file, call, part));
    let query = call.query.iter().map(|query| {
        let name = &query.name;
        with_values(
            file,
            call,
            &query.value,
            |value| quote!(request.query(#name, #value);),
        )
    });
    let headers = call.headers.iter().map(|header| {
        let name = &header.name;
        let sensitive = header.value.iter().any(|piece| is_secret(file, piece));
        with_values(
            file,
            call,
            &header.value,
            |value| quote!(request.header(#name, #value, #sensitive);),
        )
    });
    // The request's fixed parts are statics beside the function, not inside it: a call with
    // many response paths would otherwise make the function long enough for clippy to object.
    let spec_name = ident(&format!("{}_SPEC", call.name.to_uppercase()));
    let paths_name = ident(&format!("{}_PATHS", call.name.to_uppercase()));
    let spec_doc = format!(" How [`{}`] is sent.", call.name);
    let paths_doc = format!(" Where [`{}`] finds its values in the response.", call.name);
    let (paths, extraction) = if call.responses.is_empty() {
        (
            TokenStream::new(),
            quote! {
                request.send().await?;
                ::core::result::Result::Ok(#response_type {})
            },
        )
    } else {
        let tree = response::path_tree(call);
        let slot_count = Literal::usize_unsuffixed(call.responses.len());
        let literal = response::response_literal(call);
        (
            quote! {
                #[doc = #paths_doc]
                static #paths_name: ::apicall_runtime::__private::PathNode = #tree;
            },
            quote! {
                let body = request.send().await?;
                let mut extracted = ::apicall_runtime::__private::extract(&#spec_name, &body, &#paths_name, #slot_count)?;
                ::core::result::Result::Ok(#literal)
            },
        )
    };
    quote! {
        #[doc = #spec_doc]
        static #spec_name: ::apicall_runtime::__private::CallSpec = ::apicall_runtime::__private::CallSpec {
            name: #call_name,
            method: ::apicall_runtime::__private::Method::#method,
            timeout_ms: #timeout_ms,
        };
        #paths

        #doc
        pub async fn #name(
            client: &::apicall_runtime::Client,
            #context: &Context,
            #params_arg
        ) -> ::core::result::Result<#response_type, ::apicall_runtime::Error> {
            let mut request = ::apicall_runtime::__private::Request::new(client, &#spec_name);
            #(#url)*
            #(#query)*
            #(#headers)*
            #extraction
        }
    }
}

fn url_part(file: &ir::File, call: &ir::Call, part: &ir::UrlPart) -> TokenStream {
    match part {
        ir::UrlPart::Literal(text) => quote!(request.push_url_raw(#text);),
        ir::UrlPart::Raw(var) => {
            let value = str_expr(file, call, *var);
            quote!(request.push_url_raw(#value);)
        }
        ir::UrlPart::PathValue(var) => {
            let value = str_expr(file, call, *var);
            quote!(request.push_path_value(#value);)
        }
        ir::UrlPart::QueryValue(var) => {
            let value = str_expr(file, call, *var);
            quote!(request.push_query_value(#value);)
        }
    }
}

fn is_secret(file: &ir::File, piece: &Piece) -> bool {
    matches!(piece, Piece::Var(Var::Context(index)) if file.variables[*index].secret)
}

/// Renders a template to a `&str` expression and hands it to `use_value`. Optional LLM
/// parameters the template reads are bound first, and the statement is skipped when one is
/// absent (an absent value means "leave this header or query entry out").
fn with_values(
    file: &ir::File,
    call: &ir::Call,
    template: &[Piece],
    use_value: impl FnOnce(TokenStream) -> TokenStream,
) -> TokenStream {
    let value = match template {
        [] => quote!(""),
        [Piece::Text(text)] => quote!(#text),
        [Piece::Var(var)] => str_expr(file, call, *var),
        pieces => {
            let mut format = String::new();
            let mut args = Vec::new();
            for piece in pieces {
                match piece {
                    Piece::Text(text) => {
                        format.push_str(&text.replace('{', "{{").replace('}', "}}"))
                    }
                    Piece::Var(var) => {
                        format.push_str("{}");
                        args.push(display_expr(file, call, *var));
                    }
                }
            }
            quote!(&::std::format!(#format, #(#args),*))
        }
    };
    let mut statement = use_value(value);
    let mut optional: Vec<usize> = template
        .iter()
        .filter_map(|piece| match piece {
            Piece::Var(Var::Collected(index)) if !call.params[*index].required => Some(*index),
            _ => None,
        })
        .collect();
    optional.sort_unstable();
    optional.dedup();
    for index in optional.into_iter().rev() {
        let field = ident(&call.params[index].name);
        let binding = ident(&format!("{}_value", call.params[index].name));
        statement = quote! {
            if let ::core::option::Option::Some(#binding) = &params.#field {
                #statement
            }
        };
    }
    statement
}

/// A `&str` expression for one variable.
fn str_expr(file: &ir::File, call: &ir::Call, var: Var) -> TokenStream {
    match var {
        Var::Context(index) => {
            let variable = &file.variables[index];
            let field = ident(&variable.name);
            if variable.secret {
                quote!(context.#field.expose())
            } else {
                quote!(&context.#field)
            }
        }
        Var::Collected(index) => {
            let param = &call.params[index];
            let value = collected_place(param);
            if param.ty == ir::ValueType::String {
                if param.required {
                    quote!(&#value)
                } else {
                    value
                }
            } else {
                quote!(&#value.to_string())
            }
        }
        // Validation rejects `api.*` in requests.
        Var::Api(_) => quote!(""),
    }
}

/// An expression implementing `Display` for one variable, for `format!`.
fn display_expr(file: &ir::File, call: &ir::Call, var: Var) -> TokenStream {
    match var {
        Var::Context(index) => {
            let variable = &file.variables[index];
            let field = ident(&variable.name);
            if variable.secret {
                quote!(context.#field.expose())
            } else {
                quote!(context.#field)
            }
        }
        Var::Collected(index) => collected_place(&call.params[index]),
        Var::Api(_) => quote!(""),
    }
}

/// Where an LLM parameter's value is: the struct field, or the `if let` binding of an optional one.
fn collected_place(param: &ir::Param) -> TokenStream {
    if param.required {
        let field = ident(&param.name);
        quote!(params.#field)
    } else {
        let binding = ident(&format!("{}_value", param.name));
        quote!(#binding)
    }
}
