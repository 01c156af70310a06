//! What `include_api_calls!("calls.yaml")` expands to. Lives here, not in the proc-macro
//! crate, so tests can compare it with the build.rs output and the macro crate stays a shim.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// Expands the macro's input (one string literal naming the YAML file).
///
/// The path resolves like `include_str!`: relative to `invoking_file`'s directory (the file
/// that contains the macro call), or to `manifest_dir` when the compiler cannot say which file
/// that is. The output starts with an `include_bytes!` of the YAML's absolute path, so editing
/// the YAML rebuilds the crate; it is present even when the YAML has errors. Every error,
/// including a missing file, becomes a `compile_error!` naming the path as the user wrote it.
#[must_use]
pub fn expand(
    input: TokenStream,
    invoking_file: Option<&Path>,
    manifest_dir: Option<&Path>,
) -> TokenStream {
    let literal: syn::LitStr = match syn::parse2(input) {
        Ok(literal) => literal,
        Err(_) => {
            return quote! {
                ::core::compile_error!("include_api_calls! takes one string literal: the path of a calls.yaml, e.g. include_api_calls!(\"calls.yaml\")");
            };
        }
    };
    let written = literal.value();
    let span = literal.span();
    let path = resolve(Path::new(&written), invoking_file, manifest_dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let message = format!(
                "cannot read `{written}`: {error}\n  (paths are relative to the file that calls include_api_calls!)"
            );
            return quote_spanned!(span=> ::core::compile_error!(#message););
        }
    };
    let tracking = tracking_item(&path);
    let (generated, diagnostics) = crate::compile_recovering(&written, &bytes);
    let errors = diagnostics.iter().map(|diagnostic| {
        // rustc writes its own `error: ` before the message.
        let rendered = diagnostic.to_string();
        let message = rendered
            .strip_prefix("error: ")
            .unwrap_or(&rendered)
            .to_owned();
        quote_spanned!(span=> ::core::compile_error!(#message);)
    });
    let tokens = generated.map(|generated| generated.tokens().clone());
    quote! {
        #tracking
        #(#errors)*
        #tokens
    }
}

/// `const _: &[u8] = include_bytes!("/abs/calls.yaml");`: makes Cargo and rustc track the YAML.
#[must_use]
pub fn tracking_item(path: &Path) -> TokenStream {
    let absolute = path.to_string_lossy();
    let literal = syn::LitStr::new(&absolute, Span::call_site());
    quote! {
        const _: &[u8] = ::core::include_bytes!(#literal);
    }
}

fn resolve(written: &Path, invoking_file: Option<&Path>, manifest_dir: Option<&Path>) -> PathBuf {
    if written.is_absolute() {
        return written.to_path_buf();
    }
    let base = invoking_file
        .and_then(Path::parent)
        .map(|dir| {
            // `local_file()` can be relative to the crate root (the working directory of rustc).
            if dir.is_absolute() {
                dir.to_path_buf()
            } else {
                std::env::current_dir().map_or_else(|_| dir.to_path_buf(), |cwd| cwd.join(dir))
            }
        })
        .or_else(|| manifest_dir.map(Path::to_path_buf))
        .unwrap_or_default();
    base.join(written)
}
