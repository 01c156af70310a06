//! A lowered request ([`crate::request`]) as Rust statements on the runtime's `Request`: the
//! URL piece by piece, query entries and headers (left out when an optional value is absent),
//! and the JSON body as fixed text and serialized values. Calls and webhooks share it.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::ident;
use crate::request::{
    self, Auth, BodyPiece, PayloadPart, Piece, RequestModel, Shape, Source, Template, UrlPiece,
    ValuePart, ValueRef, ValueType,
};

/// Where a request is sent from: an API call or a webhook.
pub(super) struct Site {
    /// The static `CallSpec` the request is sent under.
    pub spec: proc_macro2::Ident,
    /// Whether the function returns a webhook's error rather than a call's.
    pub webhook: bool,
}

/// The statements that build a lowered request: URL, query, headers and body.
pub(super) fn request_statements(site: &Site, model: &RequestModel) -> TokenStream {
    let url = model.url.iter().map(|part| url_part(site, part));
    let query = model.query.iter().map(|entry| {
        let name = &entry.name;
        if let [Piece::Value(value)] = entry.value.0.as_slice()
            && let Shape::Array(items) = &value.shape
        {
            return repeated_query(name, value, items);
        }
        with_values(&entry.value, |value| quote!(request.query(#name, #value);))
    });
    let headers = model.headers.iter().map(header_statement);
    let body = model.body.as_deref().map(body).unwrap_or_default();
    let auth = model.auth.as_ref().map(auth_statements).unwrap_or_default();
    // Extended, not interpolated: `quote!` would copy each statement's tokens.
    let mut statements = TokenStream::new();
    statements.extend(url);
    statements.extend(query);
    statements.extend(headers);
    statements.extend([body, auth]);
    statements
}

/// The request's `auth:` scheme applied with the context's credentials. The scheme's
/// description is a constant expression, so `&` of it is `'static` (promoted, no item among
/// the statements). Tokens, signatures and client certificates are the runtime's, at send
/// time.
fn auth_statements(auth: &Auth) -> TokenStream {
    let secret = |value: &ValueRef| {
        let field = ident(&value.name);
        quote!(&context.#field)
    };
    match auth {
        Auth::OAuth2 {
            scheme,
            token_url,
            client_id,
            client_secret,
            scopes,
            client_auth_in_body,
        } => {
            let client_auth = if *client_auth_in_body {
                quote!(Body)
            } else {
                quote!(Basic)
            };
            let client_secret = secret(client_secret);
            let spec = quote! {
                &::apicall_runtime::auth::OAuth2Spec {
                    scheme: #scheme,
                    token_url: #token_url,
                    scopes: &[#(#scopes),*],
                    client_auth: ::apicall_runtime::auth::ClientAuth::#client_auth,
                }
            };
            with_values(
                client_id,
                |client_id| quote!(request.oauth2(#spec, #client_id, #client_secret);),
            )
        }
        Auth::Basic {
            username, password, ..
        } => {
            let password = secret(password);
            with_values(
                username,
                |username| quote!(request.basic_auth(#username, #password);),
            )
        }
        Auth::Mtls {
            scheme,
            certificate,
            key,
        } => {
            let (certificate, key) = (secret(certificate), secret(key));
            quote!(request.client_identity(#scheme, #certificate, #key);)
        }
        Auth::Hmac {
            scheme,
            header,
            timestamp_header,
            secret: key,
            payload,
            base64,
            value,
        } => {
            let timestamp_header = match timestamp_header {
                Some(name) => quote!(__apicall::Some(#name)),
                None => quote!(__apicall::None),
            };
            let payload = payload.iter().map(|part| match part {
                PayloadPart::Text(text) => {
                    quote!(::apicall_runtime::auth::PayloadPart::Text(#text))
                }
                PayloadPart::Timestamp => quote!(::apicall_runtime::auth::PayloadPart::Timestamp),
                PayloadPart::Body => quote!(::apicall_runtime::auth::PayloadPart::Body),
            });
            let encoding = if *base64 { quote!(Base64) } else { quote!(Hex) };
            let value = value.iter().map(|part| match part {
                ValuePart::Text(text) => quote!(::apicall_runtime::auth::ValuePart::Text(#text)),
                ValuePart::Timestamp => quote!(::apicall_runtime::auth::ValuePart::Timestamp),
                ValuePart::Signature => quote!(::apicall_runtime::auth::ValuePart::Signature),
            });
            let key = secret(key);
            quote! {
                request.hmac_signature(
                    &::apicall_runtime::auth::HmacSpec {
                        scheme: #scheme,
                        header: #header,
                        timestamp_header: #timestamp_header,
                        payload: &[#(#payload),*],
                        encoding: ::apicall_runtime::auth::SignatureEncoding::#encoding,
                        value: &[#(#value),*],
                    },
                    #key,
                );
            }
        }
    }
}

/// An array parameter as a whole `query:` value: one entry per item, in order (none for an
/// empty or absent array).
fn repeated_query(name: &str, value: &ValueRef, items: &Shape) -> TokenStream {
    let field = ident(&value.name);
    let item = match items {
        Shape::Enum(_) => quote!(item.as_str()),
        Shape::Value(ValueType::String) => quote!(item),
        _ => quote!(&item.to_string()),
    };
    if value.optional {
        quote! {
            if let __apicall::Some(items) = &params.#field {
                for item in items {
                    request.query(#name, #item);
                }
            }
        }
    } else {
        quote! {
            for item in &params.#field {
                request.query(#name, #item);
            }
        }
    }
}

/// Adds one header; a header carrying a secret is marked sensitive.
fn header_statement(header: &request::Header) -> TokenStream {
    let name = &header.name;
    let sensitive = header.sensitive;
    with_values(
        &header.value,
        |value| quote!(request.header(#name, #value, #sensitive);),
    )
}

fn url_part(site: &Site, part: &UrlPiece) -> TokenStream {
    match part {
        UrlPiece::Text(text) => quote!(request.push_url_raw(#text);),
        UrlPiece::Raw(value) => {
            let value = str_expr(value);
            quote!(request.push_url_raw(#value);)
        }
        UrlPiece::PathValue(value) => {
            let bind = require_api_value(site, value);
            let value = str_expr(value);
            quote! {
                #bind
                request.push_path_value(#value);
            }
        }
        UrlPiece::QueryValue(value) => {
            let bind = require_api_value(site, value);
            let value = str_expr(value);
            quote! {
                #bind
                request.push_query_value(#value);
            }
        }
    }
}

/// A URL cannot leave a part out, so an `api.*` value it needs must be there: bind it, or
/// fail the call before anything is sent.
fn require_api_value(site: &Site, value: &ValueRef) -> TokenStream {
    if value.source != Source::Api {
        return TokenStream::new();
    }
    let name = &value.name;
    let field = ident(name);
    let binding = binding(value);
    let spec = &site.spec;
    let missing = if site.webhook {
        quote!(webhook_missing_value)
    } else {
        quote!(missing_value)
    };
    quote! {
        let __apicall::Some(#binding) = &api.#field else {
            return __apicall::Err(__apicall::#missing(&#spec, #name));
        };
    }
}

/// Renders a template to a `&str` expression and hands it to `use_value`. Optional values the
/// template reads are bound first, and the statement is skipped when one is absent (an absent
/// value means "leave this header or query entry out").
fn with_values(
    template: &Template,
    use_value: impl FnOnce(TokenStream) -> TokenStream,
) -> TokenStream {
    let value = match template.0.as_slice() {
        [] => quote!(""),
        [Piece::Text(text)] => quote!(#text),
        [Piece::Value(value)] => str_expr(value),
        pieces => {
            let mut format = String::new();
            let mut args = Vec::new();
            for piece in pieces {
                match piece {
                    Piece::Text(text) => {
                        format.push_str(&text.replace('{', "{{").replace('}', "}}"));
                    }
                    // A plain binding goes inside the braces, as clippy's
                    // `uninlined_format_args` wants in users' crates.
                    Piece::Value(value) if value.source == Source::Param && value.optional => {
                        format.push_str(&format!("{{{}_value}}", value.name));
                    }
                    Piece::Value(value) => {
                        format.push_str("{}");
                        args.push(display_expr(value));
                    }
                }
            }
            quote!(&::std::format!(#format #(, #args)*))
        }
    };
    let mut statement = use_value(value);
    // Bind each value that may be absent; innermost first, so wrap in reverse.
    for value in template.optional_values().into_iter().rev() {
        let field = ident(&value.name);
        let place = match value.source {
            Source::Param => quote!(params.#field),
            Source::Api => quote!(api.#field),
            Source::Context | Source::Conversation => continue,
        };
        let binding = binding(value);
        statement = quote! {
            if let __apicall::Some(#binding) = &#place {
                #statement
            }
        };
    }
    statement
}

/// The local an optional value is bound to: `<name>_value` for a parameter, `<name>_api` for
/// an `api.*` value.
fn binding(value: &ValueRef) -> proc_macro2::Ident {
    match value.source {
        Source::Api => ident(&format!("{}_api", value.name)),
        _ => ident(&format!("{}_value", value.name)),
    }
}

/// A `&str` expression for one value.
fn str_expr(value: &ValueRef) -> TokenStream {
    let display = display_expr(value);
    match value.source {
        Source::Context if value.secret => display,
        Source::Param if matches!(value.shape, Shape::Enum(_)) => quote!(#display.as_str()),
        Source::Param if value.ty == ValueType::String && value.optional => display,
        Source::Conversation if value.name == "outcome" => quote!(end.outcome.as_str()),
        Source::Api if value.ty == ValueType::String => display,
        _ if value.ty == ValueType::String => quote!(&#display),
        _ => quote!(&#display.to_string()),
    }
}

/// An expression implementing `Display` for one value, for `format!`.
fn display_expr(value: &ValueRef) -> TokenStream {
    let field = ident(&value.name);
    match value.source {
        Source::Context if value.secret => quote!(context.#field.expose()),
        Source::Context => quote!(context.#field),
        Source::Param if value.optional => {
            let binding = binding(value);
            quote!(#binding)
        }
        Source::Param => quote!(params.#field),
        Source::Api => {
            let binding = binding(value);
            quote!(#binding)
        }
        Source::Conversation => quote!(end.#field),
    }
}

/// The body, written as JSON text: the fixed parts (keys, punctuation, literals from the YAML,
/// digit for digit) joined at compile time, each value serialized at run time.
fn body(pieces: &[BodyPiece]) -> TokenStream {
    // A guess of 16 bytes per value; the buffer grows if they are longer.
    let capacity: usize = pieces
        .iter()
        .map(|piece| match piece {
            BodyPiece::Json(text) => text.len(),
            BodyPiece::Value(_) | BodyPiece::Text(_) => 16,
        })
        .sum();
    let statements = pieces.iter().map(|piece| match piece {
        BodyPiece::Json(text) => quote!(body.raw(#text);),
        BodyPiece::Value(value) => {
            let value = body_value_expr(value);
            quote!(body.value(#value);)
        }
        BodyPiece::Text(template) => {
            let mut format = String::new();
            let mut args = Vec::new();
            for piece in &template.0 {
                match piece {
                    Piece::Text(text) => {
                        format.push_str(&text.replace('{', "{{").replace('}', "}}"));
                    }
                    Piece::Value(value) => {
                        format.push_str("{}");
                        args.push(body_display_expr(value));
                    }
                }
            }
            quote!(body.value(&::std::format!(#format, #(#args),*));)
        }
    });
    let capacity = Literal::usize_unsuffixed(capacity);
    quote! {
        let mut body = __apicall::JsonText::with_capacity(#capacity);
        #(#statements)*
        request.json_body_text(body);
    }
}

/// A reference to a body value with its own JSON type: `Option`s serialize as the value or
/// `null`.
fn body_value_expr(value: &ValueRef) -> TokenStream {
    let field = ident(&value.name);
    match value.source {
        Source::Param => quote!(&params.#field),
        Source::Api => quote!(&api.#field),
        Source::Conversation if value.name == "outcome" => quote!(end.outcome.as_str()),
        Source::Context if value.secret => display_expr(value),
        Source::Context | Source::Conversation => {
            let value = display_expr(value);
            quote!(&#value)
        }
    }
}

/// A body value inside text: an absent optional value renders as nothing.
fn body_display_expr(value: &ValueRef) -> TokenStream {
    let field = ident(&value.name);
    match value.source {
        Source::Param if value.optional => {
            quote!(params.#field.as_ref().map_or_else(__apicall::String::new, ::std::string::ToString::to_string))
        }
        Source::Param => quote!(params.#field),
        Source::Api => {
            quote!(api.#field.as_ref().map_or_else(__apicall::String::new, ::std::string::ToString::to_string))
        }
        Source::Context | Source::Conversation => display_expr(value),
    }
}
