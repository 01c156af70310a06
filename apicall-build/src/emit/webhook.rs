//! Post-call webhooks: a renderer per webhook, and `finish`, which sends them all in the
//! background when the conversation ends.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::request::{Site, request_statements};
use super::{code, docs, ident};
use crate::ir::{self, Var};
use crate::names;

pub(crate) fn webhooks(file: &ir::File) -> TokenStream {
    if file.webhooks.is_empty() {
        return TokenStream::new();
    }
    let renderers = file.webhooks.iter().map(|webhook| renderer(file, webhook));
    let calls = file.webhooks.iter().map(|webhook| {
        let renderer = ident(&names::webhook_fn(&webhook.name));
        quote!(#renderer(client, context, api, end))
    });
    let mut doc = String::from(
        "Sends the `post_call` webhooks of a conversation that has ended, in the background: \
         this returns at once, and the [`::apicall_runtime::Delivery`] says how each fared.\n\n\
         Webhooks:\n",
    );
    for webhook in &file.webhooks {
        doc.push_str(&format!("- `{}`", webhook.name));
        if let Some(description) = &webhook.description {
            doc.push_str(&format!(": {}", description.trim().replace('\n', " ")));
        }
        doc.push('\n');
    }
    doc.push_str(
        "\nEach is sent as a JSON `POST` with an `Idempotency-Key` header (the conversation id and the \
         webhook's name), signed when it has a `secret`, and retried with backoff on \
         connection failures, timeouts, 408, 429 and 5xx. Must be called inside a Tokio \
         runtime. With an outbox on the client ([`::apicall_runtime::Client::with_outbox`]), \
         each is written to it before this returns, and delivered from there.",
    );
    let doc = docs(&doc);
    quote! {
        #(#renderers)*

        #doc
        pub fn finish(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &ApiValues,
            end: &::apicall_runtime::CallEnd,
        ) -> ::apicall_runtime::Delivery {
            __apicall::deliver(client, ::std::vec![#(#calls),*])
        }
    }
}

fn renderer(file: &ir::File, webhook: &ir::Webhook) -> TokenStream {
    let spec_name = ident(&names::webhook_spec(&webhook.name));
    let site = Site {
        spec: spec_name.clone(),
        webhook: true,
    };
    let model = crate::request::lower_webhook(file, webhook);
    let name = &webhook.name;
    let function = ident(&names::webhook_fn(name));
    let timeout_ms = Literal::u64_unsuffixed(webhook.timeout_ms);
    let retries = Literal::u32_unsuffixed(webhook.retries);
    let spec_doc = format!(" How the `{name}` webhook is sent.");
    let mut doc = format!("Renders the `{name}` webhook.");
    if let Some(description) = &webhook.description {
        doc.push_str(&format!("\n\n{}", description.trim_end()));
    }
    doc.push_str(&format!(
        "\n\n{}, {} ms per attempt, up to {} retries.",
        code(&format!("POST {}", webhook.url_text)),
        webhook.timeout_ms,
        webhook.retries
    ));
    let doc = docs(&doc);
    let statements = request_statements(&site, &model);
    let signing_key = match webhook.signing_key {
        Some(index) => {
            let variable = &file.variables[index].name;
            let field = ident(variable);
            quote!(__apicall::Some((#variable, &context.#field)))
        }
        None => quote!(__apicall::None),
    };
    // Every secret the webhook is rendered with, by name: an outbox stores the names in their
    // place and resolves them again when it sends.
    let secrets = (file.variables.iter().enumerate())
        .filter(|(index, variable)| {
            variable.secret
                && webhook.signing_key != Some(*index)
                && webhook.uses(|var| *var == Var::Context(*index))
        })
        .map(|(_, variable)| {
            let name = &variable.name;
            let field = ident(name);
            quote!((#name, &context.#field))
        });
    let context =
        if webhook.signing_key.is_some() || webhook.uses(|var| matches!(var, Var::Context(_))) {
            quote!(context)
        } else {
            quote!(_context)
        };
    let api = if webhook.uses(|var| matches!(var, Var::Api(_))) {
        quote!(api)
    } else {
        quote!(_api)
    };
    quote! {
        #[doc = #spec_doc]
        static #spec_name: __apicall::CallSpec = __apicall::CallSpec {
            name: #name,
            method: __apicall::Method::Post,
            timeout_ms: #timeout_ms,
            retries: #retries,
        };

        #doc
        fn #function(
            client: &::apicall_runtime::Client,
            #context: &Context,
            #api: &ApiValues,
            end: &::apicall_runtime::CallEnd,
        ) -> __apicall::Result<::apicall_runtime::call::Webhook, ::apicall_runtime::WebhookError> {
            let mut request = __apicall::Request::new(client, &#spec_name);
            #statements
            __apicall::prepare_webhook_with_secrets(
                request,
                #signing_key,
                &[#(#secrets),*],
                end,
            )
        }
    }
}
