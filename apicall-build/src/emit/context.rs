//! The context struct: values the agent runtime supplies for each conversation.

use proc_macro2::TokenStream;
use quote::quote;

use super::{code, docs, ident};
use crate::ir;

pub(crate) fn context_struct(file: &ir::File) -> TokenStream {
    let fields = file.variables.iter().map(|variable| {
        let name = ident(&variable.name);
        let doc = docs(variable.description.as_deref().unwrap_or(&format!(
            "The context variable {}.",
            code(&format!("{{{{{}}}}}", variable.name))
        )));
        let ty = if variable.secret {
            quote!(::apicall_runtime::Secret)
        } else {
            quote!(::std::string::String)
        };
        quote! {
            #doc
            pub #name: #ty,
        }
    });
    quote! {
        /// Values the agent runtime supplies for each conversation, used as `{{name}}` in calls and prompts.
        ///
        /// Secret values are [`::apicall_runtime::Secret`]s: `Debug`, errors and logs show them redacted.
        #[derive(Clone, Debug)]
        pub struct Context {
            #(#fields)*
        }
    }
}
