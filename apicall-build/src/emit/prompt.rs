//! Per prompt, a typed renderer over the context and the `api.*` values extracted so far.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{docs, ident, moved};
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
    let lenient = moved(pushes(file, &prompt.template));
    // For every prompt, so that code calling it keeps compiling when a template gains or loses
    // a `default`: one whose values cannot be missing always renders.
    let strict = {
        let try_name = ident(&names::try_render_fn(&prompt.name));
        let prompt_name = &prompt.name;
        let checks = missing_checks(file, &prompt.template);
        // Each value inside an `{{#if}}` on itself: nothing can be missing.
        let missing = if checks.is_empty() {
            quote!(missing)
        } else {
            quote!(mut missing)
        };
        let checks = moved(checks);
        let doc = docs(&format!(
            "Renders the `{}` prompt, or names the values it would have left blank: those \
             used without a `default` or an `{{{{#if}}}}` around them that no call has extracted \
             yet. [`{name}`] renders them as nothing instead.\n\n# Errors\n\n\
             [`::apicall_runtime::MissingValues`] listing them.",
            prompt.name
        ));
        // The checks alone, then the lenient renderer: the template's text is generated once.
        quote! {
            #doc
            pub fn #try_name(
                context: &Context,
                api: &ApiValues,
            ) -> __apicall::Result<__apicall::String, ::apicall_runtime::MissingValues> {
                let #missing = __apicall::Vec::new();
                #checks
                __apicall::strictly(#prompt_name, missing, || #name(context, api))
            }
        }
    };
    let strict = moved(strict);
    // The `if`s mirror the template's `{{#if}}`s: an `{{#if}}` around only an `api.*` value is
    // an `if` around only an `if let`, which clippy would have the user's crate collapse.
    let allow = has_branches(&prompt.template).then(|| {
        quote!(#[allow(
            clippy::collapsible_if,
            clippy::collapsible_else_if,
            reason = "one `if` per `{{#if}}` of the template"
        )])
    });
    quote! {
        #doc
        #[must_use]
        #allow
        pub fn #name(#context: &Context, #api: &ApiValues) -> __apicall::String {
            let mut out = __apicall::String::with_capacity(#capacity);
            #lenient
            out
        }

        #strict
    }
}

/// Whether the template has an `{{#if}}`.
pub(crate) fn has_branches(template: &Template) -> bool {
    template
        .iter()
        .any(|piece| matches!(piece, Piece::If { .. }))
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
    let pushes = moved(pushes_in(file, params, template));
    quote! {{
        let mut out = __apicall::String::with_capacity(#capacity);
        #pushes
        out
    }}
}

/// The pushes rendering a prompt's `template`; a missing `api.*` value renders as its default
/// or as nothing.
fn pushes(file: &ir::File, template: &Template) -> TokenStream {
    pushes_in(file, &[], template)
}

/// [`pushes`], where `{{collected.*}}` reads `params`.
fn pushes_in(file: &ir::File, params: &[ir::Param], template: &Template) -> TokenStream {
    let pushes = template.iter().map(|piece| match piece {
        Piece::Text(text) => append_text(text),
        Piece::Var(var) | Piece::VarOr(var, _) => {
            let default = match piece {
                Piece::VarOr(_, default) => Some(default),
                _ => None,
            };
            match value(file, params, *var) {
                Value::Always(push) => push,
                Value::Maybe(place, push) => {
                    let (place, push) = (moved(place), moved(push));
                    match default {
                        None => quote! {
                            if let __apicall::Some(value) = &#place {
                                #push
                            }
                        },
                        Some(default) => {
                            let fallback = moved(append_text(default));
                            quote! {
                                if let __apicall::Some(value) = &#place {
                                    #push
                                } else {
                                    #fallback
                                }
                            }
                        }
                    }
                }
            }
        }
        Piece::If {
            condition,
            then,
            otherwise,
        } => branch(
            truthy(file, params, *condition),
            pushes_in(file, params, then),
            pushes_in(file, params, otherwise),
        ),
    });
    pushes.collect()
}

/// What a strict render checks before rendering: each `api.*` value the template shows bare
/// (no default), under the `{{#if}}`s it is shown under, pushed to `missing` when no call has
/// extracted it. Each check is one flat `if`, its `{{#if}}`s joined with `&&` (nested `if`s
/// without an `else` are what clippy's `collapsible_if` refuses); a value inside an `{{#if}}`
/// on itself is there, and not checked.
fn missing_checks(file: &ir::File, template: &Template) -> TokenStream {
    let mut checks = TokenStream::new();
    add_missing_checks(file, template, &mut Vec::new(), &mut checks);
    checks
}

/// [`missing_checks`] under `conditions`, each `(test, value it shows present)`.
fn add_missing_checks(
    file: &ir::File,
    template: &Template,
    conditions: &mut Vec<(TokenStream, Option<usize>)>,
    checks: &mut TokenStream,
) {
    for piece in template {
        match piece {
            Piece::Var(Var::Api(index)) => {
                if conditions
                    .iter()
                    .any(|(_, present)| *present == Some(*index))
                {
                    continue;
                }
                let value = &file.api_values[*index];
                let field = ident(&value.name);
                let name = value.name.as_str();
                let tests = conditions.iter().map(|(test, _)| test);
                checks.extend(quote! {
                    if #(#tests &&)* api.#field.is_none() {
                        missing.push(#name);
                    }
                });
            }
            Piece::Text(_) | Piece::Var(_) | Piece::VarOr(..) => {}
            Piece::If {
                condition,
                then,
                otherwise,
            } => {
                let Some(test) = truthy(file, &[], *condition) else {
                    add_missing_checks(file, then, conditions, checks);
                    continue;
                };
                let present = match condition {
                    Var::Api(index) => Some(*index),
                    _ => None,
                };
                conditions.push((test.truthy, present));
                add_missing_checks(file, then, conditions, checks);
                conditions.pop();
                conditions.push((test.falsy, None));
                add_missing_checks(file, otherwise, conditions, checks);
                conditions.pop();
            }
        }
    }
}

/// An `{{#if}}`: `then` when `test` passes, else `otherwise`; either may be empty. Without a
/// test (the value is always true), `then` alone.
fn branch(test: Option<Test>, then: TokenStream, otherwise: TokenStream) -> TokenStream {
    let Some(test) = test else {
        return then;
    };
    let (then_is_empty, otherwise_is_empty) = (then.is_empty(), otherwise.is_empty());
    let (then, otherwise) = (moved(then), moved(otherwise));
    let Test {
        truthy,
        falsy,
        truthy_negated,
    } = test;
    match (then_is_empty, otherwise_is_empty) {
        (true, true) => TokenStream::new(),
        (false, true) => quote!(if #truthy { #then }),
        (true, false) => quote!(if #falsy { #otherwise }),
        // `if !x {} else {}` reads backwards (clippy's `if_not_else` says so).
        (false, false) if truthy_negated => quote!(if #falsy { #otherwise } else { #then }),
        (false, false) => quote!(if #truthy { #then } else { #otherwise }),
    }
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
                _ => {
                    return Some(Test::plain(
                        quote!(params.#field.is_some()),
                        quote!(params.#field.is_none()),
                    ));
                }
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
            if value.ty == ir::ValueType::String {
                // A JSON `false` extracted into a string reads "false", and is still false.
                return Some(Test::plain(
                    quote!(api.#field.as_deref().is_some_and(|value| !value.is_empty() && value != "false")),
                    quote!(api.#field.as_deref().is_none_or(|value| value.is_empty() || value == "false")),
                ));
            }
            (value.ty, quote!(api.#field), true)
        }
        Var::Call(_) => return None,
    };
    match (ty, optional) {
        (ir::ValueType::String, false) => Some(Test {
            truthy: quote!(!#place.is_empty()),
            falsy: quote!(#place.is_empty()),
            truthy_negated: true,
        }),
        (ir::ValueType::Boolean, false) => Some(Test::plain(place.clone(), quote!(!#place))),
        (ir::ValueType::Integer | ir::ValueType::Number, false) => None,
        (ir::ValueType::String, true) => Some(Test::plain(
            quote!(#place.as_deref().is_some_and(|value| !value.is_empty())),
            quote!(#place.as_ref().is_none_or(__apicall::String::is_empty)),
        )),
        (ir::ValueType::Boolean, true) => Some(Test::plain(
            quote!(#place == __apicall::Some(true)),
            quote!(#place != __apicall::Some(true)),
        )),
        (ir::ValueType::Integer | ir::ValueType::Number, true) => Some(Test::plain(
            quote!(#place.is_some()),
            quote!(#place.is_none()),
        )),
    }
}

/// A condition's test, written both ways, so that neither is a negated method call clippy
/// would rewrite (`!x.is_some()`).
struct Test {
    /// True when the value is truthy.
    truthy: TokenStream,
    /// True when the value is falsy.
    falsy: TokenStream,
    /// Whether `truthy` is `falsy` negated (`!x.is_empty()`): an `if` with an `else` then tests
    /// `falsy` and swaps its branches.
    truthy_negated: bool,
}

impl Test {
    fn plain(truthy: TokenStream, falsy: TokenStream) -> Self {
        Test {
            truthy,
            falsy,
            truthy_negated: false,
        }
    }
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
