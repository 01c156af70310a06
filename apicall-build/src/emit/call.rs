//! Per call, the async function that renders the request, sends it and extracts the values.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::request::{Site, request_statements};
use super::{code, docs, ident, moved, response};
use crate::ir;
use crate::names;
use crate::request;

pub(crate) fn call_fn(file: &ir::File, call: &ir::Call) -> TokenStream {
    let spec_name = ident(&names::call_spec(&call.name));
    let site = Site {
        spec: spec_name.clone(),
        webhook: false,
    };
    let model = request::lower_call(file, call);
    let name = ident(&names::call_fn(&call.name));
    let call_name = &call.name;
    let response_type = ident(&names::response_type(&call.name));
    let method = ident(match call.method {
        ir::Method::Get => "Get",
        ir::Method::Post => "Post",
        ir::Method::Put => "Put",
        ir::Method::Patch => "Patch",
        ir::Method::Delete => "Delete",
    });
    let timeout_ms = Literal::u64_unsuffixed(call.timeout_ms);
    let retries = Literal::u32_unsuffixed(call.retries);
    let mut doc = format!(
        "{}\n\n{} with a timeout of {} ms",
        call.description,
        code(&format!("{} {}", call.method.as_str(), call.url_text)),
        call.timeout_ms
    );
    if call.retries > 0 {
        doc.push_str(&format!(
            ", retried up to {} times on connection failures and 502/503/504",
            call.retries
        ));
    }
    doc.push('.');
    if let Some(message) = &call.failure_message {
        doc.push_str(&format!(
            "\n\nWhen it fails, the LLM is told: {}",
            code(message)
        ));
    }
    doc.push_str(
        "\n\n# Errors\n\nReturns an [`::apicall_runtime::Error`] when the request cannot be \
         sent, times out, gets a non-2xx status, or the response is not JSON or holds a value \
         of the wrong type.",
    );
    let doc = docs(&doc);
    let context = if call.uses_context() {
        quote!(context)
    } else {
        quote!(_context)
    };
    let api_arg = if call.uses_api() {
        quote!(api: &ApiValues,)
    } else {
        TokenStream::new()
    };
    let params_arg = if call.params.is_empty() {
        TokenStream::new()
    } else {
        let params_type = ident(&names::params_type(&call.name));
        quote!(params: &#params_type,)
    };
    let statements = moved(request_statements(&site, &model));
    // The request's fixed parts are statics beside the function, not inside it: a call with
    // many response paths would otherwise make the function long enough for clippy to object.
    let paths_name = ident(&names::call_paths(&call.name));
    let spec_doc = format!(" How [`{}`] is sent.", call.name);
    let paths_doc = format!(" Where [`{}`] finds its values in the response.", call.name);
    let (paths, extraction) = if call.responses.is_empty() {
        (
            TokenStream::new(),
            quote! {
                request.send().await?;
                __apicall::Ok(#response_type {})
            },
        )
    } else {
        let tree = moved(response::path_tree(call));
        let slot_count = Literal::usize_unsuffixed(call.responses.len());
        let literal = moved(response::response_literal(call));
        (
            quote! {
                #[doc = #paths_doc]
                static #paths_name: __apicall::PathNode = #tree;
            },
            quote! {
                let body = request.send().await?;
                __apicall::extract(&#spec_name, &body, &#paths_name, #slot_count)?
                    .into_response(#literal)
            },
        )
    };
    let (paths, extraction) = (moved(paths), moved(extraction));
    let allow = super::allow_long_body(call.responses.len());
    quote! {
        #[doc = #spec_doc]
        static #spec_name: __apicall::CallSpec = __apicall::CallSpec {
            name: #call_name,
            method: __apicall::Method::#method,
            timeout_ms: #timeout_ms,
            retries: #retries,
        };
        #paths

        #doc
        #allow
        pub async fn #name(
            client: &::apicall_runtime::Client,
            #context: &Context,
            #params_arg
            #api_arg
        ) -> __apicall::Result<#response_type, ::apicall_runtime::Error> {
            let mut request = __apicall::Request::new(client, &#spec_name);
            #statements
            #extraction
        }
    }
}
