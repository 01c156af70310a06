//! The dispatcher: an LLM's tool call in, the matching call run, a result for the LLM out,
//! and the extracted values stored in the conversation's `ApiValues`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ident, moved};
use crate::{ir, names};

pub(crate) fn dispatch_fns(file: &ir::File) -> TokenStream {
    let has_values = !file.api_values.is_empty();
    let arms = file.calls.iter().map(|call| {
        let name = &call.name;
        let method = ident(&names::run_method(&call.name));
        quote!(#name => ApiValues::#method(client, context, api, call, events, background),)
    });
    let failures = file.calls.iter().map(|call| {
        let name = &call.name;
        let message = call.failure_message();
        quote!(#name => #message,)
    });
    let (arms, failures) = (moved(arms.collect()), moved(failures.collect()));
    // With values, each arm yields its content and the `ApiValues` it filled, made only once
    // the call has returned: a value declared before the match would be held across every
    // await, making each dispatch future as large as `ApiValues`.
    let outcome_type = outcome_type(has_values);
    let split = if has_values {
        quote! {
                let (outcome, extracted) = match outcome {
                    __apicall::Ok((answer, extracted)) => {
                        (__apicall::Ok(answer), extracted)
                    }
                    __apicall::Err(error) => {
                    (__apicall::Err(error), ApiValues::default())
                }
            };
        }
    } else {
        quote!(let extracted = ApiValues::default();)
    };
    let merge_one = if has_values {
        quote!(api.merge(&extracted);)
    } else {
        quote!(let _ = (api, extracted);)
    };
    let merge_all = if has_values {
        quote!(api.merge(&extracted);)
    } else {
        quote!(let _ = extracted;)
    };
    // Every arm is handed all of them; a file without calls has no arms.
    let (api_param, background_param) = if file.calls.is_empty() {
        (quote!(_api), quote!(_background))
    } else {
        (quote!(api), quote!(background))
    };
    quote! {
        /// Runs the tool call an LLM returned: checks its arguments against the call's
        /// parameters, sends the request, and stores what it extracted in `api`.
        ///
        /// The result's `content` is what to give back to the LLM: the extracted values, or on
        /// any failure `{"error": "<the call's failure_message>"}`, never the error itself; the
        /// error is in `result.error` for the agent's logs.
        ///
        /// An `execution: async` call needs a [`Session`] to run in the background (its values
        /// arrive after this returns); called here, it is waited for like any other call.
        pub async fn dispatch(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &mut ApiValues,
            call: &::apicall_runtime::ToolCall,
        ) -> ::apicall_runtime::ToolResult {
            run_one(client, context, api, call, __apicall::None, __apicall::None).await
        }

        /// Runs the tool call as [`dispatch`] does, and tells `events` what a voice agent
        /// should say while it runs (the call's `messages:`) and when it has finished: see
        /// [`::apicall_runtime::ToolEvent`]. The callback runs on the dispatcher's task; keep it
        /// quick (hand the line to the speech pipeline and return).
        pub async fn dispatch_with_events(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &mut ApiValues,
            call: &::apicall_runtime::ToolCall,
            events: &mut (dyn ::core::ops::FnMut(::apicall_runtime::ToolEvent) + ::core::marker::Send),
        ) -> ::apicall_runtime::ToolResult {
            let events = ::apicall_runtime::EventSink::for_call(events);
            run_one(client, context, api, call, __apicall::Some(&events), __apicall::None).await
        }

        /// Runs the tool calls of one LLM turn concurrently, then stores what they extracted in
        /// `api` (in the calls' order). Results come back in the calls' order.
        pub async fn dispatch_all(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &mut ApiValues,
            calls: &[::apicall_runtime::ToolCall],
        ) -> __apicall::Vec<::apicall_runtime::ToolResult> {
            run_turn(client, context, api, calls, __apicall::None, __apicall::None).await
        }

        /// Runs one LLM turn's tool calls as [`dispatch_all`] does, and tells `events` what a
        /// voice agent should say while they run, as one voice: the first call's `start` line
        /// (not one per call), one `delayed` line (the first that comes due while its call
        /// still runs), each failed call's `failed` line, and each call's `Finished`.
        pub async fn dispatch_all_with_events(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &mut ApiValues,
            calls: &[::apicall_runtime::ToolCall],
            events: &mut (dyn ::core::ops::FnMut(::apicall_runtime::ToolEvent) + ::core::marker::Send),
        ) -> __apicall::Vec<::apicall_runtime::ToolResult> {
            let events = ::apicall_runtime::EventSink::for_turn(events);
            run_turn(client, context, api, calls, __apicall::Some(&events), __apicall::None).await
        }

        /// One tool call, then what it extracted stored in `api`; async calls go to
        /// `background` when there is one.
        async fn run_one(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &mut ApiValues,
            call: &::apicall_runtime::ToolCall,
            events: __apicall::Option<&::apicall_runtime::EventSink<'_>>,
            background: __apicall::Option<&::apicall_runtime::Background<ApiValues>>,
        ) -> ::apicall_runtime::ToolResult {
            let (result, extracted) = run_tool(client, context, api, call, events, background).await;
            #merge_one
            result
        }

        /// One turn's calls, concurrently, then what they extracted stored in `api`.
        async fn run_turn(
            client: &::apicall_runtime::Client,
            context: &Context,
            api: &mut ApiValues,
            calls: &[::apicall_runtime::ToolCall],
            events: __apicall::Option<&::apicall_runtime::EventSink<'_>>,
            background: __apicall::Option<&::apicall_runtime::Background<ApiValues>>,
        ) -> __apicall::Vec<::apicall_runtime::ToolResult> {
            let snapshot: &ApiValues = api;
            let outcomes = __apicall::join_all(
                calls
                    .iter()
                    .map(|call| run_tool(client, context, snapshot, call, events, background)),
            )
            .await;
            let mut results = __apicall::Vec::with_capacity(outcomes.len());
            for (result, extracted) in outcomes {
                #merge_all
                results.push(result);
            }
            results
        }

        /// One tool call, and the values it extracted (only those set).
        #[allow(clippy::too_many_lines, reason = "one arm per call in the YAML")]
        async fn run_tool(
            client: &::apicall_runtime::Client,
            context: &Context,
            #api_param: &ApiValues,
            call: &::apicall_runtime::ToolCall,
            events: __apicall::Option<&::apicall_runtime::EventSink<'_>>,
            #background_param: __apicall::Option<&::apicall_runtime::Background<ApiValues>>,
        ) -> (::apicall_runtime::ToolResult, ApiValues) {
            // Each arm is a function of its own returning a boxed future, awaited once here.
            // One `async fn` awaiting in every arm is one coroutine with an await per call,
            // and async blocks written here would still be type-checked as one body with this
            // function: rustc's time and memory for either grow faster than the calls.
            let running: __apicall::Running<'_, #outcome_type> =
                match call.name.as_str() {
                #arms
                _ => __apicall::Box::pin(::core::future::ready(__apicall::Err(
                    ::apicall_runtime::DispatchError::UnknownTool {
                        name: call.name.clone(),
                    },
                ))),
            };
            let outcome = running.await;
            #split
            let failure_message = match call.name.as_str() {
                #failures
                _ => "That tool does not exist.",
            };
            (
                __apicall::finish(call, outcome, failure_message),
                extracted,
            )
        }
    }
}

/// What each dispatcher arm yields: the content for the LLM, and with values the `ApiValues`
/// the call filled.
fn outcome_type(has_values: bool) -> TokenStream {
    if has_values {
        quote!((__apicall::serde_json::Value, ApiValues))
    } else {
        quote!(__apicall::serde_json::Value)
    }
}

fn has_messages(call: &ir::Call) -> bool {
    call.messages.templates().next().is_some()
}

/// `ApiValues::run_<call>`, a method of the one `impl ApiValues` block: the call's arm of
/// `run_tool`, its arguments read and its request running in a boxed future. A function of its
/// own, so that rustc type-checks each arm apart.
pub(crate) fn run_method(file: &ir::File, call: &ir::Call) -> TokenStream {
    let has_values = !file.api_values.is_empty();
    let name = &call.name;
    let function = ident(&names::call_fn(&call.name));
    let api = if call.uses_api() {
        quote!(api,)
    } else {
        TokenStream::new()
    };
    let params = (!call.params.is_empty()).then(|| quote!(&params,));
    let read_arguments = if params.is_some() {
        let params_type = ident(&names::params_type(&call.name));
        let described = ident(&names::call_arguments(&call.name));
        quote! {
            let params = __apicall::arguments::<#params_type>(
                call, #name, #described,
            )?;
        }
    } else {
        // Arguments given to a call that takes none are the LLM's mistake, told back to it.
        quote!(__apicall::no_arguments(call, #name)?;)
    };
    let (record, answer) = if !has_values {
        (None, quote!(__apicall::content(&response)))
    } else if call.responses.is_empty() {
        (
            None,
            quote!((__apicall::content(&response), ApiValues::default())),
        )
    } else {
        let method = ident(&names::record_method(&call.name));
        (
            Some(quote! {
                let mut extracted = ApiValues::default();
                extracted.#method(&response);
            }),
            quote!((__apicall::content(&response), extracted)),
        )
    };
    // Rendered only when there is someone to say them to.
    let spoken = if has_messages(call) {
        let spoken = spoken(file, call);
        quote!(|| #spoken)
    } else {
        quote!(__apicall::Spoken::default)
    };
    let (spoken, record, answer) = (
        moved(spoken),
        moved(record.unwrap_or_default()),
        moved(answer),
    );
    let run = quote! {
        let response = __apicall::speaking_if(
            #name,
            #function(client, context, #params #api),
            events,
            #spoken,
        )
        .await?;
        #record
        __apicall::Ok::<_, __apicall::DispatchError>(#answer)
    };
    let run = if call.execution == ir::Execution::Async {
        let spawn = in_background(file, call, has_values, params.as_ref());
        quote! {
            if let __apicall::Some(background) = background #spawn else { #run }
        }
    } else {
        run
    };
    let (read_arguments, run) = (moved(read_arguments), moved(run));
    let body = moved(quote!({ #read_arguments #run }));
    let method = ident(&names::run_method(&call.name));
    let doc = super::docs(&format!("Call `{name}`'s arm of the dispatcher."));
    let outcome_type = outcome_type(has_values);
    // Each arm takes what `run_tool` has, and names what it does not read with a `_`.
    let api_param = if call.uses_api() || call.messages_use_api() {
        quote!(api)
    } else {
        quote!(_api)
    };
    let background_param = if call.execution == ir::Execution::Async {
        quote!(background)
    } else {
        quote!(_background)
    };
    // The messages are rendered inline, a few lines per piece of each template.
    let allow = has_messages(call).then(|| {
        let branches = call.messages.templates().any(super::prompt::has_branches);
        let collapsible = branches.then(|| quote!(clippy::collapsible_if, clippy::collapsible_else_if,));
        quote!(#[allow(clippy::too_many_lines, #collapsible reason = "renders the call's messages")])
    });
    quote! {
        #doc
        #allow
        fn #method<'a>(
            client: &'a __apicall::Client,
            context: &'a Context,
            #api_param: &'a ApiValues,
            call: &'a __apicall::ToolCall,
            events: __apicall::Option<&'a __apicall::EventSink<'_>>,
            #background_param: __apicall::Option<&'a __apicall::Background<ApiValues>>,
        ) -> __apicall::Running<'a, #outcome_type> {
            __apicall::Box::pin(async move #body)
        }
    }
}

/// An `execution: async` call handed to the session's background with owned copies of what
/// it reads; the LLM is answered with the acknowledgement at once.
fn in_background(
    file: &ir::File,
    call: &ir::Call,
    has_values: bool,
    params: Option<&TokenStream>,
) -> TokenStream {
    let name = &call.name;
    let function = ident(&names::call_fn(&call.name));
    let (api_copy, api) = if call.uses_api() {
        (quote!(let api = api.clone();), quote!(&api,))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let extracted = if call.responses.is_empty() || !has_values {
        quote! {
            let _ = response;
            __apicall::Ok(ApiValues::default())
        }
    } else {
        let method = ident(&names::record_method(&call.name));
        quote! {
            let mut extracted = ApiValues::default();
            extracted.#method(&response);
            __apicall::Ok(extracted)
        }
    };
    let started = if has_values {
        // Its values arrive in the background, not with this answer.
        quote!((__apicall::started(), ApiValues::default()))
    } else {
        quote!(__apicall::started())
    };
    let spoken = spoken(file, call);
    quote! {{
        let spoken = #spoken;
        let client = client.clone();
        let context = context.clone();
        #api_copy
        background.spawn(
            #name,
            async move {
                let response = #function(&client, &context, #params #api).await?;
                #extracted
            },
            spoken,
            events,
        );
        __apicall::Ok(#started)
    }}
}

/// The call's `messages:` rendered for this call's values, as a `Spoken`.
fn spoken(file: &ir::File, call: &ir::Call) -> TokenStream {
    let start = said(file, call, call.messages.start.as_ref());
    let failed = said(file, call, call.messages.failed.as_ref());
    let delayed = match &call.messages.delayed {
        Some(delayed) => {
            let after = proc_macro2::Literal::u64_unsuffixed(delayed.after_ms);
            let text = super::prompt::message_expr(file, &call.params, &delayed.say);
            quote!(__apicall::Some((::core::time::Duration::from_millis(#after), #text)))
        }
        None => quote!(__apicall::None),
    };
    quote!(__apicall::Spoken::new(#start, #delayed, #failed))
}

/// A message line rendered for this call's values, as an `Option<String>`.
fn said(file: &ir::File, call: &ir::Call, template: Option<&ir::Template>) -> TokenStream {
    match template {
        Some(template) => {
            let text = super::prompt::message_expr(file, &call.params, template);
            quote!(__apicall::Some(#text))
        }
        None => quote!(__apicall::None),
    }
}

/// `ApiValues::merge`, a method of the one `impl ApiValues` block: takes every value `newer`
/// has. `None` when the file extracts nothing.
pub(crate) fn merge_method(file: &ir::File) -> Option<TokenStream> {
    if file.api_values.is_empty() {
        return None;
    }
    let fields = file.api_values.iter().map(|value| {
        let field = ident(&value.name);
        quote!(__apicall::keep(&mut self.#field, &newer.#field);)
    });
    let fields = moved(fields.collect());
    let allow = super::allow_long_body(file.api_values.len());
    Some(quote! {
        /// Takes every value `newer` has, keeping the others.
        #allow
        pub fn merge(&mut self, newer: &ApiValues) {
            #fields
        }
    })
}
