//! The context struct: values the agent runtime supplies for each conversation.

use proc_macro2::TokenStream;
use quote::quote;

use super::{code, docs, ident, rust_type};
use crate::ir;

pub(crate) fn context_struct(file: &ir::File) -> TokenStream {
    let fields = file.variables.iter().map(|variable| {
        let name = ident(&variable.name);
        let mut doc = variable.description.clone().unwrap_or_else(|| {
            format!(
                "The context variable {}.",
                code(&format!("{{{{{}}}}}", variable.name))
            )
        });
        if let Some(example) = &variable.example {
            doc.push_str(&format!("\n\nExample: {}", code(example)));
        }
        let doc = docs(&doc);
        if variable.secret {
            // Serialized as `null`, so a restored conversation has an empty one until set.
            quote! {
                #doc
                #[serde(default)]
                pub #name: ::apicall_runtime::Secret,
            }
        } else {
            let ty = rust_type(variable.ty);
            quote! {
                #doc
                pub #name: #ty,
            }
        }
    });
    quote! {
        /// Values the agent runtime supplies for each conversation, used as `{{name}}` in calls and prompts.
        ///
        /// Secret values are [`::apicall_runtime::Secret`]s: `Debug`, errors and logs show them
        /// redacted, and serializing writes them as `null`.
        #[derive(
            Clone, Debug,
            __apicall::serde::Serialize,
            __apicall::serde::Deserialize,
        )]
        #[serde(crate = "::apicall_runtime::__private::serde")]
        pub struct Context {
            #(#fields)*
        }
    }
}
