//! Per call, the async function that renders the request, sends it and extracts the values.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{code, docs, ident, response};
use crate::ir::{self, Piece, Var};
use crate::names;

/// Where a request is rendered: an API call, with its LLM parameters, or a webhook.
pub(super) struct Site<'a> {
    pub file: &'a ir::File,
    /// `{{collected.*}}` resolves here; webhooks have none.
    pub params: &'a [ir::Param],
    /// The static `CallSpec` the request is sent under.
    pub spec: proc_macro2::Ident,
    /// Whether the function returns a webhook's error rather than a call's.
    pub webhook: bool,
}

pub(crate) fn call_fn(file: &ir::File, call: &ir::Call) -> TokenStream {
    let spec_name = ident(&names::call_spec(&call.name));
    let site = Site {
        file,
        params: &call.params,
        spec: spec_name.clone(),
        webhook: false,
    };
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
    let url = call.url.iter().map(|part| url_part(&site, part));
    let query = call.query.iter().map(|query| {
        let name = &query.name;
        with_values(
            &site,
            &query.value,
            |value| quote!(request.query(#name, #value);),
        )
    });
    let body = call
        .body
        .as_ref()
        .map(|json| body(&site, json))
        .unwrap_or_default();
    let headers = call
        .headers
        .iter()
        .map(|header| header_statement(&site, header));
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
            retries: #retries,
        };
        #paths

        #doc
        pub async fn #name(
            client: &::apicall_runtime::Client,
            #context: &Context,
            #params_arg
            #api_arg
        ) -> ::core::result::Result<#response_type, ::apicall_runtime::Error> {
            let mut request = ::apicall_runtime::__private::Request::new(client, &#spec_name);
            #(#url)*
            #(#query)*
            #(#headers)*
            #body
            #extraction
        }
    }
}

/// Adds one header; a header carrying a secret is marked sensitive.
pub(super) fn header_statement(site: &Site<'_>, header: &ir::Header) -> TokenStream {
    let name = &header.name;
    let sensitive = header.value.iter().any(|piece| is_secret(site.file, piece));
    with_values(
        site,
        &header.value,
        |value| quote!(request.header(#name, #value, #sensitive);),
    )
}

pub(super) fn url_part(site: &Site<'_>, part: &ir::UrlPart) -> TokenStream {
    match part {
        ir::UrlPart::Literal(text) => quote!(request.push_url_raw(#text);),
        ir::UrlPart::Raw(var) => {
            let value = str_expr(site, *var);
            quote!(request.push_url_raw(#value);)
        }
        ir::UrlPart::PathValue(var) => {
            let value = str_expr(site, *var);
            let bind = require_api_value(site, *var);
            quote! {
                #bind
                request.push_path_value(#value);
            }
        }
        ir::UrlPart::QueryValue(var) => {
            let value = str_expr(site, *var);
            let bind = require_api_value(site, *var);
            quote! {
                #bind
                request.push_query_value(#value);
            }
        }
    }
}

/// A URL cannot leave a part out, so an `api.*` value it needs must be there: bind it, or
/// fail the call before anything is sent.
fn require_api_value(site: &Site<'_>, var: Var) -> TokenStream {
    let Var::Api(index) = var else {
        return TokenStream::new();
    };
    let name = &site.file.api_values[index].name;
    let field = ident(name);
    let binding = ident(&format!("{name}_api"));
    let spec = &site.spec;
    let missing = if site.webhook {
        quote!(webhook_missing_value)
    } else {
        quote!(missing_value)
    };
    quote! {
        let ::core::option::Option::Some(#binding) = &api.#field else {
            return ::core::result::Result::Err(::apicall_runtime::__private::#missing(&#spec, #name));
        };
    }
}

fn is_secret(file: &ir::File, piece: &Piece) -> bool {
    matches!(piece, Piece::Var(Var::Context(index)) if file.variables[*index].secret)
}

/// Renders a template to a `&str` expression and hands it to `use_value`. Optional LLM
/// parameters the template reads are bound first, and the statement is skipped when one is
/// absent (an absent value means "leave this header or query entry out").
fn with_values(
    site: &Site<'_>,
    template: &[Piece],
    use_value: impl FnOnce(TokenStream) -> TokenStream,
) -> TokenStream {
    let value = match template {
        [] => quote!(""),
        [Piece::Text(text)] => quote!(#text),
        [Piece::Var(var)] => str_expr(site, *var),
        pieces => {
            let mut format = String::new();
            let mut args = Vec::new();
            for piece in pieces {
                match piece {
                    Piece::Text(text) => {
                        format.push_str(&text.replace('{', "{{").replace('}', "}}"))
                    }
                    // A plain binding goes inside the braces, as clippy's
                    // `uninlined_format_args` wants in users' crates.
                    Piece::Var(Var::Collected(index)) if !site.params[*index].required => {
                        format.push_str(&format!("{{{}_value}}", site.params[*index].name));
                    }
                    Piece::Var(var) => {
                        format.push_str("{}");
                        args.push(display_expr(site, *var));
                    }
                    // Validation keeps defaults and conditionals in prompts.
                    Piece::VarOr(..) | Piece::If { .. } => {}
                }
            }
            quote!(&::std::format!(#format #(, #args)*))
        }
    };
    let mut statement = use_value(value);
    // Bind each value that may be absent; innermost first, so wrap in reverse.
    let mut optional: Vec<Var> = template
        .iter()
        .filter_map(|piece| match piece {
            Piece::Var(var @ Var::Collected(index)) if !site.params[*index].required => Some(*var),
            Piece::Var(var @ Var::Api(_)) => Some(*var),
            _ => None,
        })
        .collect();
    let mut seen = Vec::new();
    optional.retain(|var| {
        let first = !seen.contains(var);
        seen.push(*var);
        first
    });
    for var in optional.into_iter().rev() {
        let (place, binding) = match var {
            Var::Collected(index) => {
                let name = &site.params[index].name;
                let field = ident(name);
                (quote!(params.#field), ident(&format!("{name}_value")))
            }
            Var::Api(index) => {
                let name = &site.file.api_values[index].name;
                let field = ident(name);
                (quote!(api.#field), ident(&format!("{name}_api")))
            }
            Var::Context(_) | Var::Call(_) => continue,
        };
        statement = quote! {
            if let ::core::option::Option::Some(#binding) = &#place {
                #statement
            }
        };
    }
    statement
}

/// A `&str` expression for one variable.
fn str_expr(site: &Site<'_>, var: Var) -> TokenStream {
    match var {
        Var::Context(index) => {
            let variable = &site.file.variables[index];
            let value = display_expr(site, var);
            if variable.secret {
                value
            } else if variable.ty == ir::ValueType::String {
                quote!(&#value)
            } else {
                quote!(&#value.to_string())
            }
        }
        Var::Collected(index) => {
            let param = &site.params[index];
            let value = collected_place(param);
            match (&param.ty, param.required) {
                (ir::ParamType::Value(ir::ValueType::String), true) => quote!(&#value),
                (ir::ParamType::Value(ir::ValueType::String), false) => value,
                (ir::ParamType::Enum(_), _) => quote!(#value.as_str()),
                (ir::ParamType::Value(_), _) => quote!(&#value.to_string()),
            }
        }
        Var::Api(index) => {
            let value = &site.file.api_values[index];
            let binding = ident(&format!("{}_api", value.name));
            if value.ty == ir::ValueType::String {
                quote!(#binding)
            } else {
                quote!(&#binding.to_string())
            }
        }
        Var::Call(ir::CallField::DurationMs) => quote!(&end.duration_ms.to_string()),
        Var::Call(ir::CallField::Outcome) => quote!(end.outcome.as_str()),
        Var::Call(field) => {
            let field = ident(field.name());
            quote!(&end.#field)
        }
    }
}

/// An expression implementing `Display` for one variable, for `format!`.
fn display_expr(site: &Site<'_>, var: Var) -> TokenStream {
    match var {
        Var::Context(index) => {
            let variable = &site.file.variables[index];
            let field = ident(&variable.name);
            if variable.secret {
                quote!(context.#field.expose())
            } else {
                quote!(context.#field)
            }
        }
        Var::Collected(index) => collected_place(&site.params[index]),
        Var::Api(index) => {
            let binding = ident(&format!("{}_api", site.file.api_values[index].name));
            quote!(#binding)
        }
        Var::Call(field) => {
            let field = ident(field.name());
            quote!(end.#field)
        }
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

/// The body, written as JSON text: the fixed parts (keys, punctuation, literals from the YAML,
/// digit for digit) joined at compile time, each value serialized at run time. A string that
/// is one variable keeps the variable's JSON type; an absent optional parameter is `null`.
pub(super) fn body(site: &Site<'_>, json: &ir::Json) -> TokenStream {
    let mut writer = BodyWriter {
        site,
        fixed: String::new(),
        capacity: 0,
        statements: Vec::new(),
    };
    writer.json(json);
    writer.flush();
    let BodyWriter {
        capacity,
        statements,
        ..
    } = writer;
    let capacity = Literal::usize_unsuffixed(capacity);
    quote! {
        let mut body = ::apicall_runtime::__private::JsonText::with_capacity(#capacity);
        #(#statements)*
        request.json_body_text(body);
    }
}

/// Turns a body's JSON into `body.raw(..)` and `body.value(..)` statements.
struct BodyWriter<'s> {
    site: &'s Site<'s>,
    /// Fixed text not yet written out.
    fixed: String,
    capacity: usize,
    statements: Vec<TokenStream>,
}

impl BodyWriter<'_> {
    fn raw(&mut self, text: &str) {
        self.fixed.push_str(text);
    }

    fn flush(&mut self) {
        if !self.fixed.is_empty() {
            let text = std::mem::take(&mut self.fixed);
            self.capacity += text.len();
            self.statements.push(quote!(body.raw(#text);));
        }
    }

    fn value(&mut self, expr: TokenStream) {
        self.flush();
        // A guess for the value's length; the buffer grows if it is longer.
        self.capacity += 16;
        self.statements.push(quote!(body.value(#expr);));
    }

    /// A JSON string literal for `text`.
    fn string(&mut self, text: &str) {
        self.raw(&serde_json::Value::from(text).to_string());
    }

    fn json(&mut self, json: &ir::Json) {
        match json {
            ir::Json::Null => self.raw("null"),
            ir::Json::Bool(b) => self.raw(if *b { "true" } else { "false" }),
            ir::Json::Number(text) => self.raw(text),
            ir::Json::Text(template) => self.text(template),
            ir::Json::Var(var) => {
                let expr = body_value_expr(self.site, *var);
                self.value(expr);
            }
            ir::Json::Array(items) => {
                self.raw("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.json(item);
                }
                self.raw("]");
            }
            ir::Json::Object(members) => {
                self.raw("{");
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.string(key);
                    self.raw(":");
                    self.json(value);
                }
                self.raw("}");
            }
            ir::Json::Params => {
                self.raw("{");
                for (i, param) in self.site.params.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.string(&param.name);
                    self.raw(":");
                    let field = ident(&param.name);
                    self.value(quote!(&params.#field));
                }
                self.raw("}");
            }
        }
    }

    /// Text with variables, as one JSON string.
    fn text(&mut self, template: &ir::Template) {
        let mut format = String::new();
        let mut args = Vec::new();
        for piece in template {
            match piece {
                Piece::Text(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
                Piece::Var(var) => {
                    format.push_str("{}");
                    args.push(body_display_expr(self.site, *var));
                }
                // Validation keeps defaults and conditionals in prompts.
                Piece::VarOr(..) | Piece::If { .. } => {}
            }
        }
        if args.is_empty() {
            let text = format.replace("{{", "{").replace("}}", "}");
            self.string(&text);
        } else {
            self.value(quote!(&::std::format!(#format, #(#args),*)));
        }
    }
}

/// A reference to a body value with its own JSON type: `Option`s serialize as the value or
/// `null`.
fn body_value_expr(site: &Site<'_>, var: Var) -> TokenStream {
    match var {
        Var::Collected(index) => {
            let field = ident(&site.params[index].name);
            quote!(&params.#field)
        }
        Var::Api(index) => {
            let field = ident(&site.file.api_values[index].name);
            quote!(&api.#field)
        }
        Var::Call(ir::CallField::Outcome) => quote!(end.outcome.as_str()),
        Var::Context(index) if site.file.variables[index].secret => display_expr(site, var),
        other => {
            let value = display_expr(site, other);
            quote!(&#value)
        }
    }
}

/// A body value inside text: an absent optional parameter renders as nothing.
fn body_display_expr(site: &Site<'_>, var: Var) -> TokenStream {
    match var {
        Var::Collected(index) if !site.params[index].required => {
            let field = ident(&site.params[index].name);
            quote!(params.#field.as_ref().map_or_else(::std::string::String::new, ::std::string::ToString::to_string))
        }
        Var::Collected(index) => {
            let field = ident(&site.params[index].name);
            quote!(params.#field)
        }
        Var::Api(index) => {
            let field = ident(&site.file.api_values[index].name);
            quote!(api.#field.as_ref().map_or_else(::std::string::String::new, ::std::string::ToString::to_string))
        }
        Var::Context(_) | Var::Call(_) => display_expr(site, var),
    }
}
