//! The session: one conversation's context and the values extracted so far, with the
//! dispatcher and prompt renderers as methods. Serializable without its secrets.

use proc_macro2::TokenStream;
use quote::quote;

use super::ident;
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
            pub fn #method(&self) -> ::std::string::String {
                #method(&self.context, &self.api)
            }
        }
    });
    let finish = if file.webhooks.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            /// Ends this conversation with `outcome` and sends its webhooks in the background;
            /// see [`finish`].
            pub fn finish(
                &self,
                client: &::apicall_runtime::Client,
                outcome: ::apicall_runtime::Outcome,
            ) -> ::apicall_runtime::Delivery {
                finish(client, &self.context, &self.api, &self.conversation.end(outcome))
            }
        }
    };
    quote! {
        /// One conversation: its context, every `{{api.*}}` value extracted so far, and its id
        /// and start time.
        ///
        /// It serializes (serde) so an agent can persist a conversation; secrets are written as
        /// `null` — set them again after deserializing — unless serialized inside
        /// [`::apicall_runtime::with_exposed_secrets`].
        #[derive(
            Clone, Debug,
            ::apicall_runtime::__private::serde::Serialize,
            ::apicall_runtime::__private::serde::Deserialize,
        )]
        #[serde(crate = "::apicall_runtime::__private::serde")]
        pub struct Session {
            /// The conversation's context.
            pub context: Context,
            /// The values extracted so far.
            #[serde(default)]
            pub api: ApiValues,
            /// Its id and start time: `{{call.id}}` and `{{call.started_at}}` in webhooks.
            #[serde(default)]
            pub conversation: ::apicall_runtime::Conversation,
        }

        impl Session {
            /// A conversation starting now, with a fresh id, that has extracted nothing yet.
            #[must_use]
            pub fn new(context: Context) -> Self {
                Self {
                    context,
                    api: ApiValues::default(),
                    conversation: ::apicall_runtime::Conversation::new(),
                }
            }

            /// Runs one tool call and keeps what it extracted; see [`dispatch`].
            pub async fn dispatch(
                &mut self,
                client: &::apicall_runtime::Client,
                call: &::apicall_runtime::ToolCall,
            ) -> ::apicall_runtime::ToolResult {
                dispatch(client, &self.context, &mut self.api, call).await
            }

            /// Runs one tool call, keeps what it extracted, and tells `events` what to say while
            /// it runs; see [`dispatch_with_events`].
            pub async fn dispatch_with_events(
                &mut self,
                client: &::apicall_runtime::Client,
                call: &::apicall_runtime::ToolCall,
                events: &mut dyn ::core::ops::FnMut(::apicall_runtime::ToolEvent),
            ) -> ::apicall_runtime::ToolResult {
                dispatch_with_events(client, &self.context, &mut self.api, call, events).await
            }

            /// Runs one LLM turn's tool calls concurrently and keeps what they extracted; see
            /// [`dispatch_all`].
            pub async fn dispatch_all(
                &mut self,
                client: &::apicall_runtime::Client,
                calls: &[::apicall_runtime::ToolCall],
            ) -> ::std::vec::Vec<::apicall_runtime::ToolResult> {
                dispatch_all(client, &self.context, &mut self.api, calls).await
            }

            /// Runs one LLM turn's tool calls concurrently, keeps what they extracted, and tells
            /// `events` what to say while they run, as one voice; see
            /// [`dispatch_all_with_events`].
            pub async fn dispatch_all_with_events(
                &mut self,
                client: &::apicall_runtime::Client,
                calls: &[::apicall_runtime::ToolCall],
                events: &mut dyn ::core::ops::FnMut(::apicall_runtime::ToolEvent),
            ) -> ::std::vec::Vec<::apicall_runtime::ToolResult> {
                dispatch_all_with_events(client, &self.context, &mut self.api, calls, events).await
            }

            #finish

            #(#renders)*
        }
    }
}
