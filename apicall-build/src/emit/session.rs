//! The session: one conversation's context, the values extracted so far and its calls running
//! in the background, with the dispatcher and prompt renderers as methods. Serializable without
//! its secrets.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ident, moved};
use crate::{ir, names};

pub(crate) fn session(file: &ir::File) -> TokenStream {
    let renders = file.prompts.iter().map(|prompt| {
        let method = ident(&names::render_fn(&prompt.name));
        let doc = format!(
            " Renders the `{}` prompt with this conversation's values; see [`{method}`].",
            prompt.name
        );
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #method(&self) -> __apicall::String {
                #method(&self.context, &self.api_values())
            }
        }
    });
    let renders = moved(renders.collect());
    let finish = if file.webhooks.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            /// Ends this conversation with `outcome`: aborts its async calls still running
            /// (see [`Session::cancel_background`]) and sends its webhooks in the background with
            /// every value extracted so far; see [`finish`].
            pub fn finish(
                &self,
                client: &::apicall_runtime::Client,
                outcome: ::apicall_runtime::Outcome,
            ) -> ::apicall_runtime::Delivery {
                self.background.cancel();
                finish(client, &self.context, &self.api_values(), &self.conversation.end(outcome))
            }
        }
    };
    let (keep, view) = if file.api_values.is_empty() {
        (
            quote!(drop(self.background.take_completed());),
            quote!(::std::borrow::Cow::Borrowed(&self.api)),
        )
    } else {
        (
            quote! {
                for values in self.background.take_completed() {
                    self.api.merge(&values);
                }
            },
            quote! {
                let completed = self.background.completed();
                if completed.is_empty() {
                    return ::std::borrow::Cow::Borrowed(&self.api);
                }
                let mut api = self.api.clone();
                for values in &completed {
                    api.merge(values);
                }
                ::std::borrow::Cow::Owned(api)
            },
        )
    };
    quote! {
        /// One conversation: its context, every `{{api.*}}` value extracted so far, its id
        /// and start time, and its `execution: async` calls still running.
        ///
        /// It serializes (serde) so an agent can persist a conversation, with the values of
        /// async calls that have completed; calls still running are not written. Secrets are
        /// written as `null` — set them again after deserializing — unless serialized inside
        /// [`::apicall_runtime::with_exposed_secrets`]. A clone has the same values and no
        /// calls running; dropping the session aborts the calls it still runs.
        #[derive(
            Clone, Debug,
            __apicall::serde::Deserialize,
        )]
        #[serde(crate = "::apicall_runtime::__private::serde")]
        pub struct Session {
            /// The conversation's context.
            pub context: Context,
            /// The values extracted so far, up to the last `&mut self` call (the dispatchers,
            /// [`Session::keep_completed`]); [`Session::api_values`] adds the async calls
            /// completed since.
            #[serde(default)]
            pub api: ApiValues,
            /// Its id and start time: `{{call.id}}` and `{{call.started_at}}` in webhooks.
            #[serde(default)]
            pub conversation: ::apicall_runtime::Conversation,
            /// Its `execution: async` calls.
            #[serde(skip)]
            background: ::apicall_runtime::Background<ApiValues>,
        }

        impl __apicall::serde::Serialize for Session {
            fn serialize<S: __apicall::serde::Serializer>(
                &self,
                serializer: S,
            ) -> __apicall::Result<S::Ok, S::Error> {
                /// The session as written: with what its async calls have extracted.
                #[derive(__apicall::serde::Serialize)]
                #[serde(crate = "::apicall_runtime::__private::serde")]
                struct Written<'a> {
                    context: &'a Context,
                    api: &'a ApiValues,
                    conversation: &'a ::apicall_runtime::Conversation,
                }
                Written {
                    context: &self.context,
                    api: &self.api_values(),
                    conversation: &self.conversation,
                }
                .serialize(serializer)
            }
        }

        impl Session {
            /// A conversation starting now, with a fresh id, that has extracted nothing yet.
            #[must_use]
            pub fn new(context: Context) -> Self {
                Self {
                    context,
                    api: ApiValues::default(),
                    conversation: ::apicall_runtime::Conversation::new(),
                    background: ::apicall_runtime::Background::new(),
                }
            }

            /// The values extracted so far, with those of async calls completed since the last
            /// `&mut self` call: what prompts rendered now see.
            #[must_use]
            pub fn api_values(&self) -> ::std::borrow::Cow<'_, ApiValues> {
                #view
            }

            /// Moves what completed async calls extracted into [`Session::api`], in the order
            /// they completed; the dispatchers do this before they run.
            pub fn keep_completed(&mut self) {
                #keep
            }

            /// Waits until no async call is running, then keeps what they extracted.
            pub async fn wait_for_background(&mut self) {
                self.background.settle().await;
                self.keep_completed();
            }

            /// How many async calls are still running.
            #[must_use]
            pub fn in_background(&self) -> usize {
                self.background.in_flight()
            }

            /// What async calls started from now on say after the dispatcher has returned:
            /// their `delayed` and `failed` lines and `Finished`, as they happen (their `start`
            /// line goes to the dispatcher's events). Replaces the previous receiver.
            #[must_use]
            pub fn background_events(&self) -> ::apicall_runtime::BackgroundEvents {
                self.background.events()
            }

            /// Aborts the async calls still running: their requests are dropped where they
            /// stand and never retried. What completed calls extracted is kept.
            pub fn cancel_background(&self) {
                self.background.cancel();
            }

            /// Runs one tool call and keeps what it extracted; see [`dispatch`]. An
            /// `execution: async` call answers `{"status": "started"}` at once and runs in the
            /// background; its values arrive when it completes.
            pub async fn dispatch(
                &mut self,
                client: &::apicall_runtime::Client,
                call: &::apicall_runtime::ToolCall,
            ) -> ::apicall_runtime::ToolResult {
                self.keep_completed();
                let background = __apicall::Some(&self.background);
                run_one(client, &self.context, &mut self.api, call, __apicall::None, background).await
            }

            /// Runs one tool call as [`Session::dispatch`] does, and tells `events` what to say
            /// while it runs; see [`dispatch_with_events`]. An async call says its `start` line
            /// and is [`::apicall_runtime::ToolEvent::Backgrounded`].
            pub async fn dispatch_with_events(
                &mut self,
                client: &::apicall_runtime::Client,
                call: &::apicall_runtime::ToolCall,
                events: &mut (dyn ::core::ops::FnMut(::apicall_runtime::ToolEvent) + ::core::marker::Send),
            ) -> ::apicall_runtime::ToolResult {
                self.keep_completed();
                let events = ::apicall_runtime::EventSink::for_call(events);
                let background = __apicall::Some(&self.background);
                run_one(client, &self.context, &mut self.api, call, __apicall::Some(&events), background).await
            }

            /// Runs one LLM turn's tool calls concurrently and keeps what they extracted; see
            /// [`dispatch_all`]. Async calls run in the background, as in
            /// [`Session::dispatch`].
            pub async fn dispatch_all(
                &mut self,
                client: &::apicall_runtime::Client,
                calls: &[::apicall_runtime::ToolCall],
            ) -> __apicall::Vec<::apicall_runtime::ToolResult> {
                self.keep_completed();
                let background = __apicall::Some(&self.background);
                run_turn(client, &self.context, &mut self.api, calls, __apicall::None, background).await
            }

            /// Runs one LLM turn's tool calls concurrently, keeps what they extracted, and tells
            /// `events` what to say while they run, as one voice; see
            /// [`dispatch_all_with_events`]. Async calls run in the background, as in
            /// [`Session::dispatch`].
            pub async fn dispatch_all_with_events(
                &mut self,
                client: &::apicall_runtime::Client,
                calls: &[::apicall_runtime::ToolCall],
                events: &mut (dyn ::core::ops::FnMut(::apicall_runtime::ToolEvent) + ::core::marker::Send),
            ) -> __apicall::Vec<::apicall_runtime::ToolResult> {
                self.keep_completed();
                let events = ::apicall_runtime::EventSink::for_turn(events);
                let background = __apicall::Some(&self.background);
                run_turn(client, &self.context, &mut self.api, calls, __apicall::Some(&events), background).await
            }

            #finish

            #renders
        }
    }
}
