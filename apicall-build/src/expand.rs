//! What `include_api_calls!("calls.yaml")` expands to. Lives here, not in the proc-macro
//! crate, so tests can compare it with the build.rs output and the macro crate stays a shim.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::diagnostic::did_you_mean;
use crate::{Generated, Options, Target};

/// `"calls.yaml"`, then optionally `, targets = ["openai", "mcp"]`.
struct MacroInput {
    literal: syn::LitStr,
    targets: Option<Vec<syn::LitStr>>,
}

impl syn::parse::Parse for MacroInput {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let literal = input.parse()?;
        let mut targets = None;
        if input.parse::<Option<syn::Token![,]>>()?.is_some() && !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            if key != "targets" {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown option `{key}`"),
                ));
            }
            input.parse::<syn::Token![=]>()?;
            let list;
            syn::bracketed!(list in input);
            let names =
                list.parse_terminated(<syn::LitStr as syn::parse::Parse>::parse, syn::Token![,])?;
            targets = Some(names.into_iter().collect());
            input.parse::<Option<syn::Token![,]>>()?;
        }
        Ok(Self { literal, targets })
    }
}

/// The targets named, or a `compile_error!` at the first name that is not a target's.
fn selected(names: &[syn::LitStr]) -> Result<Vec<Target>, TokenStream> {
    names
        .iter()
        .map(|name| {
            let value = name.value();
            Target::from_name(&value).ok_or_else(|| {
                let known = Target::ALL.map(Target::name);
                let hint = did_you_mean(&value, known)
                    .unwrap_or_else(|| format!("the targets are {}", known.join(", ")));
                let message = format!("unknown tool target `{value}`: {hint}");
                let span = name.span();
                quote_spanned!(span=> ::core::compile_error!(#message);)
            })
        })
        .collect()
}

/// Expands the macro's input (one string literal naming the YAML file).
///
/// The path resolves like `include_str!`: relative to `invoking_file`'s directory (the file
/// that contains the macro call). When the compiler cannot say which file that is
/// (rust-analyzer never does), the first that exists of `manifest_dir` and its `src/` and
/// `src/bin/` is used instead: that is where the invoking file of a package usually is.
///
/// The output starts with an `include_bytes!` of the YAML's absolute path, so editing the YAML
/// rebuilds the crate; it is present even when the YAML has errors. Every error, including a
/// missing file, becomes a `compile_error!` naming the path as the user wrote it.
#[must_use]
pub fn expand(
    input: TokenStream,
    invoking_file: Option<&Path>,
    manifest_dir: Option<&Path>,
) -> TokenStream {
    let MacroInput { literal, targets } = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => {
            let message = format!(
                "{error}: include_api_calls! takes the path of a calls.yaml, and optionally the \
                 LLM APIs its tools are for, e.g. include_api_calls!(\"calls.yaml\") or \
                 include_api_calls!(\"calls.yaml\", targets = [\"openai\", \"mcp\"])"
            );
            let span = error.span();
            return quote_spanned!(span=> ::core::compile_error!(#message););
        }
    };
    let options = match targets.map(|targets| selected(&targets)).transpose() {
        Ok(Some(targets)) => Options::new().targets(targets),
        Ok(None) => Options::new(),
        Err(error) => return error,
    };
    let written = literal.value();
    let span = literal.span();
    let candidates = candidates(Path::new(&written), invoking_file, manifest_dir);
    // Without an invoking file there are several guesses: take the first that exists, and
    // report the read error of the first when none does.
    let path = candidates
        .iter()
        .find(|path| path.is_file())
        .or_else(|| candidates.first())
        .cloned()
        .unwrap_or_else(|| PathBuf::from(&written));
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let message = unreadable(&written, &error, &candidates);
            return quote_spanned!(span=> ::core::compile_error!(#message););
        }
    };
    let tracking = tracking_item(&path);
    let (generated, diagnostics) = crate::compile_recovering(&written, &bytes, &options);
    let errors = diagnostics.iter().map(|diagnostic| {
        // rustc writes its own `error: ` before the message.
        let rendered = diagnostic.to_string();
        let message = rendered
            .strip_prefix("error: ")
            .unwrap_or(&rendered)
            .to_owned();
        quote_spanned!(span=> ::core::compile_error!(#message);)
    });
    // Moved, not interpolated: `quote!` would copy every generated token once more.
    let mut out = tracking;
    out.extend(errors);
    out.extend(generated.map(Generated::into_tokens));
    out
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

/// Where `written` may be, in order: one place when the invoking file is known (or the path is
/// absolute), else the places a package's source files usually are.
fn candidates(
    written: &Path,
    invoking_file: Option<&Path>,
    manifest_dir: Option<&Path>,
) -> Vec<PathBuf> {
    if written.is_absolute() {
        return vec![written.to_path_buf()];
    }
    if let Some(dir) = invoking_file.and_then(Path::parent) {
        // `local_file()` can be relative to the crate root (the working directory of rustc).
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir().map_or_else(|_| dir.to_path_buf(), |cwd| cwd.join(dir))
        };
        return vec![dir.join(written)];
    }
    let Some(manifest_dir) = manifest_dir else {
        return vec![written.to_path_buf()];
    };
    ["", "src", "src/bin"]
        .iter()
        .map(|dir| manifest_dir.join(dir).join(written))
        .collect()
}

/// The error for a YAML file that could not be read, naming every place that was tried.
fn unreadable(written: &str, error: &std::io::Error, tried: &[PathBuf]) -> String {
    match tried {
        [_] | [] => format!(
            "cannot read `{written}`: {error}\n  (paths are relative to the file that calls include_api_calls!)"
        ),
        several => {
            let places: Vec<String> = several
                .iter()
                .map(|path| format!("  - {}", path.display()))
                .collect();
            format!(
                "cannot read `{written}`: {error}\n  the compiler did not say which file calls \
                 include_api_calls!, so these were tried:\n{}",
                places.join("\n")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory with `src/bin` in it, removed when the returned guard drops (the
    /// test's end, pass or fail).
    fn scratch(name: &str) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("apicall-expand-{name}-"))
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("src/bin")).expect("temp dir");
        dir
    }

    const YAML: &str = "api_calls:\n  - { name: ping, description: d, url: \"https://x.example.com/\", method: GET }\n";

    fn expand_without_invoking_file(written: &str, manifest_dir: &Path) -> String {
        let input = format!("{written:?}").parse().expect("a literal");
        expand(input, None, Some(manifest_dir)).to_string()
    }

    /// rust-analyzer gives a proc macro no invoking file: `src/main.rs` calling
    /// `include_api_calls!("calls.yaml")` must still find `src/calls.yaml`.
    #[test]
    fn without_an_invoking_file_the_yaml_beside_src_main_is_found() {
        let temp = scratch("src");
        let dir = temp.path();
        std::fs::write(dir.join("src/calls.yaml"), YAML).expect("write");
        let expanded = expand_without_invoking_file("calls.yaml", dir);
        assert!(expanded.contains("fn ping"), "{expanded}");
        assert!(!expanded.contains("compile_error"), "{expanded}");
    }

    /// `src/bin/x.rs` calling `include_api_calls!("../calls.yaml")`.
    #[test]
    fn without_an_invoking_file_a_path_relative_to_src_bin_is_found() {
        let temp = scratch("bin");
        let dir = temp.path();
        std::fs::write(dir.join("src/calls.yaml"), YAML).expect("write");
        let expanded = expand_without_invoking_file("../calls.yaml", dir);
        assert!(expanded.contains("fn ping"), "{expanded}");
    }

    #[test]
    fn the_manifest_directory_comes_first() {
        let temp = scratch("root");
        let dir = temp.path();
        std::fs::write(dir.join("calls.yaml"), YAML).expect("write");
        std::fs::write(dir.join("src/calls.yaml"), YAML.replace("ping", "pong")).expect("write");
        let expanded = expand_without_invoking_file("calls.yaml", dir);
        assert!(expanded.contains("fn ping"), "{expanded}");
    }

    #[test]
    fn a_file_in_none_of_the_places_names_each_place_tried() {
        let temp = scratch("none");
        let dir = temp.path();
        let expanded = expand_without_invoking_file("calls.yaml", dir);
        assert!(expanded.contains("compile_error"), "{expanded}");
        assert!(expanded.contains("these were tried"), "{expanded}");
        for place in ["calls.yaml", "src/calls.yaml", "src/bin/calls.yaml"] {
            let shown = dir.join(place).display().to_string();
            assert!(expanded.contains(&shown), "{shown} in {expanded}");
        }
    }

    #[test]
    fn with_an_invoking_file_only_its_directory_is_used() {
        let temp = scratch("invoking");
        let dir = temp.path();
        std::fs::write(dir.join("calls.yaml"), YAML).expect("write");
        let input = "\"calls.yaml\"".parse().expect("a literal");
        let expanded = expand(input, Some(&dir.join("src/main.rs")), Some(dir)).to_string();
        assert!(expanded.contains("compile_error"), "{expanded}");
        assert!(expanded.contains("relative to the file"), "{expanded}");
    }
}
