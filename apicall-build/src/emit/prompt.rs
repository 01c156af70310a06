//! Per prompt, a typed renderer over the context and the `api.*` values extracted so far.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{docs, ident};
use crate::ir::{self, Piece, Template, Var};
use crate::names;

pub(crate) fn render_fn(file: &ir::File, prompt: &ir::Prompt) -> TokenStream {
    let name = ident(&names::render_fn(&prompt.name));
    let mut doc = format!(
        "Renders the `{}` prompt with the values extracted so far. A value no call has \
         extracted renders as its `default`, or as nothing.\n\nTemplate:\n\n```text\n",
        prompt.name
    );
    write_template(file, &prompt.template, &mut doc);
    if !doc.ends_with('\n') {
        doc.push('\n');
    }
    doc.push_str("```");
    let doc = docs(&doc);
    let context = if uses(file, &prompt.template, &|v| matches!(v, Var::Context(_))) {
        quote!(context)
    } else {
        quote!(_context)
    };
    let api = if uses(file, &prompt.template, &|v| matches!(v, Var::Api(_))) {
        quote!(api)
    } else {
        quote!(_api)
    };
    let capacity = Literal::usize_unsuffixed(capacity(&prompt.template));
    let lenient = pushes(file, &prompt.template, false);
    let strict = if has_strict_renderer(prompt) {
        let try_name = ident(&names::try_render_fn(&prompt.name));
        let prompt_name = &prompt.name;
        let pushes = pushes(file, &prompt.template, true);
        let doc = docs(&format!(
            "Renders the `{}` prompt, or names the values it would have left blank: those \
             used without a `default` or an `{{{{#if}}}}` around them that no call has extracted \
             yet. [`{name}`] renders them as nothing instead.\n\n# Errors\n\n\
             [`::apicall_runtime::MissingValues`] listing them.",
            prompt.name
        ));
        quote! {
            #doc
            pub fn #try_name(
                #context: &Context,
                api: &ApiValues,
            ) -> __apicall::Result<__apicall::String, ::apicall_runtime::MissingValues> {
                let mut out = __apicall::String::with_capacity(#capacity);
                let mut missing: __apicall::Vec<&'static str> = __apicall::Vec::new();
                #pushes
                if missing.is_empty() {
                    __apicall::Ok(out)
                } else {
                    __apicall::Err(::apicall_runtime::MissingValues {
                        prompt: #prompt_name,
                        variables: missing,
                    })
                }
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        #doc
        #[must_use]
        pub fn #name(#context: &Context, #api: &ApiValues) -> __apicall::String {
            let mut out = __apicall::String::with_capacity(#capacity);
            #lenient
            out
        }

        #strict
    }
}

/// Whether the prompt has a `try_render_<prompt>`: whether its template shows a value that can
/// be missing.
pub(crate) fn has_strict_renderer(prompt: &ir::Prompt) -> bool {
    has_bare_api_value(&prompt.template)
}

/// Whether the template shows an `api.*` value with neither a default nor an `{{#if}}` on
/// that value around it: the values a strict render can find missing.
fn has_bare_api_value(template: &Template) -> bool {
    template.iter().any(|piece| match piece {
        Piece::Var(Var::Api(_)) => true,
        Piece::If {
            then, otherwise, ..
        } => has_bare_api_value(then) || has_bare_api_value(otherwise),
        _ => false,
    })
}

/// The template as the YAML author wrote it, for the renderer's docs.
fn write_template(file: &ir::File, template: &Template, doc: &mut String) {
    let spell = |var: &Var| match var {
        Var::Context(index) => file.variables[*index].name.clone(),
        Var::Api(index) => format!("api.{}", file.api_values[*index].name),
        Var::Collected(_) | Var::Call(_) => String::new(),
    };
    for piece in template {
        match piece {
            Piece::Text(text) => doc.push_str(text),
            Piece::Var(var) => doc.push_str(&format!("{{{{{}}}}}", spell(var))),
            Piece::VarOr(var, default) => {
                doc.push_str(&format!("{{{{{} | default: {default:?}}}}}", spell(var)));
            }
            Piece::If {
                condition,
                then,
                otherwise,
            } => {
                doc.push_str(&format!("{{{{#if {}}}}}", spell(condition)));
                write_template(file, then, doc);
                if !otherwise.is_empty() {
                    doc.push_str("{{else}}");
                    write_template(file, otherwise, doc);
                }
                doc.push_str("{{/if}}");
            }
        }
    }
}

/// Whether the rendered code reads a variable `wanted` picks (a condition that is always true
/// reads nothing).
fn uses(file: &ir::File, template: &Template, wanted: &dyn Fn(&Var) -> bool) -> bool {
    let params: &[ir::Param] = &[];
    template.iter().any(|piece| match piece {
        Piece::Text(_) => false,
        Piece::Var(var) | Piece::VarOr(var, _) => wanted(var),
        Piece::If {
            condition,
            then,
            otherwise,
        } => {
            (wanted(condition) && truthy(file, params, *condition).is_some())
                || uses(file, then, wanted)
                || uses(file, otherwise, wanted)
        }
    })
}

fn capacity(template: &Template) -> usize {
    template
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.len(),
            Piece::Var(_) => 16,
            Piece::VarOr(_, default) => default.len().max(16),
            Piece::If {
                then, otherwise, ..
            } => capacity(then).max(capacity(otherwise)),
        })
        .sum()
}

/// A spoken message of a call as a `String` expression: a template like a prompt's, which may
/// also read the call's parameters (`params`).
pub(crate) fn message_expr(
    file: &ir::File,
    params: &[ir::Param],
    template: &Template,
) -> TokenStream {
    let capacity = Literal::usize_unsuffixed(capacity(template));
    let pushes = pushes_in(file, params, template, false);
    quote! {{
        let mut out = __apicall::String::with_capacity(#capacity);
        #pushes
        out
    }}
}

/// The pushes rendering `template`; `strict` records each missing bare `api.*` value in
/// `missing` instead of rendering nothing.
fn pushes(file: &ir::File, template: &Template, strict: bool) -> TokenStream {
    pushes_in(file, &[], template, strict)
}

/// [`pushes`], where `{{collected.*}}` reads `params`.
fn pushes_in(
    file: &ir::File,
    params: &[ir::Param],
    template: &Template,
    strict: bool,
) -> TokenStream {
    let pushes = template.iter().map(|piece| match piece {
        Piece::Text(text) => append_text(text),
        Piece::Var(var) | Piece::VarOr(var, _) => {
            let default = match piece {
                Piece::VarOr(_, default) => Some(default),
                _ => None,
            };
            match value(file, params, *var) {
                Value::Always(push) => push,
                Value::Maybe(place, push) => match default {
                    None if strict => {
                        let name = match var {
                            Var::Api(index) => file.api_values[*index].name.as_str(),
                            _ => "",
                        };
                        quote! {
                            if let __apicall::Some(value) = &#place {
                                #push
                            } else {
                                missing.push(#name);
                            }
                        }
                    }
                    None => quote! {
                        if let __apicall::Some(value) = &#place {
                            #push
                        }
                    },
                    Some(default) => {
                        let fallback = append_text(default);
                        quote! {
                            if let __apicall::Some(value) = &#place {
                                #push
                            } else {
                                #fallback
                            }
                        }
                    }
                },
            }
        }
        Piece::If {
            condition,
            then,
            otherwise,
        } => {
            let then = pushes_in(file, params, then, strict);
            let otherwise = pushes_in(file, params, otherwise, strict);
            match truthy(file, params, *condition) {
                None => then,
                Some(Test::True(test)) if otherwise.is_empty() => quote! {
                    if #test {
                        #then
                    }
                },
                Some(Test::False(test)) if otherwise.is_empty() => quote! {
                    if !#test {
                        #then
                    }
                },
                Some(Test::True(test)) => quote! {
                    if #test {
                        #then
                    } else {
                        #otherwise
                    }
                },
                // `if !x {} else {}` reads backwards (clippy's `if_not_else` says so).
                Some(Test::False(test)) => quote! {
                    if #test {
                        #otherwise
                    } else {
                        #then
                    }
                },
            }
        }
    });
    quote!(#(#pushes)*)
}

/// The test `{{#if var}}` makes, as Handlebars and Liquid users expect: absent (or `null`),
/// `false` and `""` take the `else` branch; anything else, `0` included, takes `then`. `None`
/// when the value is always true (a numeric context variable), so no test is emitted.
fn truthy(file: &ir::File, params: &[ir::Param], var: Var) -> Option<Test> {
    let (ty, place, optional) = match var {
        Var::Collected(index) => {
            let param = &params[index];
            let field = ident(&param.name);
            let ty = match param.ty {
                ir::ParamType::Value(ty) => ty,
                // An enum's value is a non-empty string: always true when present.
                _ if param.required => return None,
                _ => return Some(Test::True(quote!(params.#field.is_some()))),
            };
            (ty, quote!(params.#field), !param.required)
        }
        Var::Context(index) => {
            let variable = &file.variables[index];
            let field = ident(&variable.name);
            (variable.ty, quote!(context.#field), false)
        }
        Var::Api(index) => {
            let value = &file.api_values[index];
            let field = ident(&value.name);
            (value.ty, quote!(api.#field), true)
        }
        Var::Call(_) => return None,
    };
    match (ty, optional) {
        (ir::ValueType::String, false) => Some(Test::False(quote!(#place.is_empty()))),
        (ir::ValueType::Boolean, false) => Some(Test::True(place)),
        (ir::ValueType::Integer | ir::ValueType::Number, false) => None,
        (ir::ValueType::String, true) => Some(Test::True(quote!(
            #place.as_deref().is_some_and(|value| !value.is_empty())
        ))),
        (ir::ValueType::Boolean, true) => Some(Test::True(quote!(#place == __apicall::Some(true)))),
        (ir::ValueType::Integer | ir::ValueType::Number, true) => {
            Some(Test::True(quote!(#place.is_some())))
        }
    }
}

/// A condition's test: true when the value is truthy, or true when it is falsy.
enum Test {
    True(TokenStream),
    False(TokenStream),
}

/// Appends literal text; one character is a `push`, as clippy's `single_char_add_str` wants in
/// users' crates.
fn append_text(text: &str) -> TokenStream {
    match text.chars().collect::<Vec<_>>().as_slice() {
        [c] => quote!(out.push(#c);),
        _ => quote!(out.push_str(#text);),
    }
}

/// How to append a variable: context variables always have a value; an `api.*` value is an
/// `Option` at `place`, appended as `value` once bound by reference.
enum Value {
    Always(TokenStream),
    Maybe(TokenStream, TokenStream),
}

/// Validation keeps secrets out of prompts and messages, and LLM parameters out of prompts.
fn value(file: &ir::File, params: &[ir::Param], var: Var) -> Value {
    match var {
        Var::Collected(index) => {
            let param = &params[index];
            let field = ident(&param.name);
            // `value` is the field (required) or a reference bound to it (optional).
            let text = |value: TokenStream| match param.ty {
                ir::ParamType::Value(ir::ValueType::String) if param.required => {
                    quote!(out.push_str(&#value);)
                }
                ir::ParamType::Value(ir::ValueType::String) => quote!(out.push_str(#value);),
                ir::ParamType::Enum { .. } => quote!(out.push_str(#value.as_str());),
                // Numbers, booleans and integer enums say themselves; validation keeps arrays
                // and objects out of messages.
                _ => quote!(out.push_str(&#value.to_string());),
            };
            if param.required {
                Value::Always(text(quote!(params.#field)))
            } else {
                Value::Maybe(quote!(params.#field), text(quote!(value)))
            }
        }
        Var::Context(index) => {
            let variable = &file.variables[index];
            let field = ident(&variable.name);
            Value::Always(if variable.ty == ir::ValueType::String {
                quote!(out.push_str(&context.#field);)
            } else {
                quote!(out.push_str(&context.#field.to_string());)
            })
        }
        Var::Api(index) => {
            let value = &file.api_values[index];
            let field = ident(&value.name);
            let push = if value.ty == ir::ValueType::String {
                quote!(out.push_str(value);)
            } else {
                quote!(out.push_str(&value.to_string());)
            };
            Value::Maybe(quote!(api.#field), push)
        }
        Var::Call(_) => Value::Always(TokenStream::new()),
    }
}
