//! Every Rust name the generated code defines, derived from the YAML's names in this one place.
//!
//! The emitter spells each per-item name (a call's function, structs and statics, a prompt's
//! renderers, a webhook's renderer) through these functions, and `validate` asks [`claims`] for
//! the whole list to report two YAML items that would generate the same name. The names every
//! file has (`Context`, `dispatch`...) are listed here so they are reserved; the emitter writes
//! those literally. A generated item missing from [`claims`] could clash unnoticed: add it here
//! first.

use crate::ir;

/// Rust keeps types and values (functions, statics) apart: `Foo` the struct and `foo` the
/// function never clash, but two functions named `foo` do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Space {
    Type,
    Value,
}

/// The YAML item a generated name belongs to, so a clash can leave that item out.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    /// Generated for every file: `Context`, `dispatch`...
    Fixed,
    Call(String),
    Prompt(String),
    Webhook(String),
}

/// One name the generated module defines.
#[derive(Clone, Debug)]
pub(crate) struct Claim {
    pub space: Space,
    pub name: String,
    /// What the name is, for messages: "the renderer of prompt `greeting`".
    pub what: String,
    pub owner: Owner,
}

pub(crate) const CONTEXT: &str = "Context";
pub(crate) const API_VALUES: &str = "ApiValues";
pub(crate) const SESSION: &str = "Session";
pub(crate) const TOOLS: &str = "TOOLS";
pub(crate) const DISPATCH: &str = "dispatch";
pub(crate) const DISPATCH_ALL: &str = "dispatch_all";
pub(crate) const DISPATCH_WITH_EVENTS: &str = "dispatch_with_events";
pub(crate) const DISPATCH_ALL_WITH_EVENTS: &str = "dispatch_all_with_events";
pub(crate) const RUN_TURN: &str = "run_turn";
pub(crate) const RUN_TOOL: &str = "run_tool";
pub(crate) const FINISH: &str = "finish";
pub(crate) const RUN_ONE: &str = "run_one";
/// The generated module's import of the runtime's `__private` (a type-namespace name, as
/// modules are; no generated type is snake_case).
pub(crate) const RUNTIME_IMPORT: &str = "__apicall";

/// The async function that makes the call.
pub(crate) fn call_fn(call: &str) -> String {
    call.to_owned()
}

/// `lookup_customer` → `LookupCustomerParams`.
pub(crate) fn params_type(call: &str) -> String {
    camel(call, "Params")
}

/// `lookup_customer` → `LookupCustomerResponse`.
pub(crate) fn response_type(call: &str) -> String {
    camel(call, "Response")
}

/// The enum or struct generated for a parameter (`order_status` + `priority` →
/// `OrderStatusPriority`), or for a member of an object parameter
/// (its path of names): `order` + `address`, `kind` → `OrderAddressKind`. An array's items
/// are named after the array: `order` + `toppings` → `OrderToppings`.
pub(crate) fn param_type(call: &str, path: &[&str]) -> String {
    camel(&format!("{call}_{}", path.join("_")), "")
}

/// The static `CallSpec` a call is sent under.
pub(crate) fn call_spec(call: &str) -> String {
    format!("{}_SPEC", call.to_uppercase())
}

/// The static description of a call's parameters the dispatcher checks arguments against.
pub(crate) fn call_arguments(call: &str) -> String {
    format!("{}_ARGUMENTS", call.to_uppercase())
}

/// The static tree of a call's response paths.
pub(crate) fn call_paths(call: &str) -> String {
    format!("{}_PATHS", call.to_uppercase())
}

/// `ApiValues::record_<call>` (a method: it cannot clash with module items).
pub(crate) fn record_method(call: &str) -> String {
    format!("record_{call}")
}

/// `ApiValues::run_<call>`, the call's dispatcher arm (a method: it cannot clash with module
/// items, and `run_` and `record_` names cannot meet).
pub(crate) fn run_method(call: &str) -> String {
    format!("run_{call}")
}

pub(crate) fn render_fn(prompt: &str) -> String {
    format!("render_{prompt}")
}

pub(crate) fn try_render_fn(prompt: &str) -> String {
    format!("try_render_{prompt}")
}

pub(crate) fn webhook_fn(webhook: &str) -> String {
    format!("webhook_{webhook}")
}

pub(crate) fn webhook_spec(webhook: &str) -> String {
    format!("WEBHOOK_{}_SPEC", webhook.to_uppercase())
}

/// `lookup_customer` + `Params` → `LookupCustomerParams`.
pub(crate) fn camel(snake: &str, suffix: &str) -> String {
    let mut camel = String::with_capacity(snake.len() + suffix.len());
    for word in snake.split('_').filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            camel.push(first.to_ascii_uppercase());
            camel.extend(chars);
        }
    }
    camel.push_str(suffix);
    camel
}

/// Every module-level name generated for `file`, fixed ones first, then in YAML order.
///
/// Names that are emitted only in some cases (`<CALL>_PATHS`, `finish`)
/// are claimed always: whether they appear then depends on the file's contents, and a rename
/// forced by an unrelated edit would surprise more than a name reserved up front.
pub(crate) fn claims(file: &ir::File) -> Vec<Claim> {
    let mut claims = Vec::new();
    let mut claim = |space, name: String, what: String, owner: &Owner| {
        claims.push(Claim {
            space,
            name,
            what,
            owner: owner.clone(),
        });
    };
    let fixed = Owner::Fixed;
    for (space, name, what) in [
        (Space::Type, CONTEXT, "the context struct"),
        (Space::Type, API_VALUES, "the API values struct"),
        (Space::Type, SESSION, "the session struct"),
        (Space::Value, TOOLS, "the tool definitions"),
        (Space::Value, DISPATCH, "the dispatcher"),
        (Space::Value, DISPATCH_ALL, "the dispatcher"),
        (Space::Value, DISPATCH_WITH_EVENTS, "the dispatcher"),
        (Space::Value, DISPATCH_ALL_WITH_EVENTS, "the dispatcher"),
        (Space::Value, RUN_TURN, "the dispatcher's helper"),
        (Space::Value, RUN_TOOL, "the dispatcher's helper"),
        (Space::Value, RUN_ONE, "the dispatcher's helper"),
        (Space::Type, RUNTIME_IMPORT, "the runtime's import"),
        // Not a clash for rustc (the import is a module), but a call that shares the
        // generated code's one internal name would read as part of it.
        (Space::Value, RUNTIME_IMPORT, "the runtime's import"),
        (Space::Value, FINISH, "the function that sends the webhooks"),
    ] {
        claim(space, name.to_owned(), what.to_owned(), &fixed);
    }
    for call in &file.calls {
        let owner = Owner::Call(call.name.clone());
        let what = |item: &str| format!("{item} of call `{}`", call.name);
        let name = &call.name;
        claim(Space::Value, call_fn(name), what("the function"), &owner);
        claim(
            Space::Value,
            call_spec(name),
            what("the request spec"),
            &owner,
        );
        claim(
            Space::Value,
            call_paths(name),
            what("the response paths"),
            &owner,
        );
        claim(
            Space::Value,
            call_arguments(name),
            what("the parameters' description"),
            &owner,
        );
        claim(
            Space::Type,
            response_type(name),
            what("the response struct"),
            &owner,
        );
        claim(
            Space::Type,
            params_type(name),
            what("the parameters struct"),
            &owner,
        );
        let mut types = Vec::new();
        param_types(&call.params, "", &mut types);
        for (type_name, what_for) in types {
            claim(Space::Type, type_name, what(&what_for), &owner);
        }
    }
    for prompt in &file.prompts {
        let owner = Owner::Prompt(prompt.name.clone());
        let name = &prompt.name;
        let what = format!("the renderer of prompt `{name}`");
        claim(Space::Value, render_fn(name), what, &owner);
        let what = format!("the strict renderer of prompt `{name}`");
        claim(Space::Value, try_render_fn(name), what, &owner);
    }
    for webhook in &file.webhooks {
        let owner = Owner::Webhook(webhook.name.clone());
        let name = &webhook.name;
        let what = format!("the renderer of webhook `{name}`");
        claim(Space::Value, webhook_fn(name), what, &owner);
        let what = format!("the request spec of webhook `{name}`");
        claim(Space::Value, webhook_spec(name), what, &owner);
    }
    claims
}

/// The types generated for `params` and their members, with what each is for ("the enum of
/// parameter `size`"); `at` is the object they are members of (`address.`).
fn param_types(params: &[ir::Param], at: &str, out: &mut Vec<(String, String)>) {
    for param in params {
        let place = format!("{at}{}", param.name);
        match param.ty.element() {
            ir::ParamType::Enum { type_name, .. }
            | ir::ParamType::IntegerEnum { type_name, .. } => {
                out.push((
                    type_name.clone(),
                    format!("the enum of parameter `{place}`"),
                ));
            }
            ir::ParamType::Object { type_name, fields } => {
                out.push((
                    type_name.clone(),
                    format!("the struct of parameter `{place}`"),
                ));
                param_types(fields, &format!("{place}."), out);
            }
            ir::ParamType::Value(_) | ir::ParamType::Array(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_joins_words() {
        assert_eq!(params_type("lookup_customer"), "LookupCustomerParams");
        assert_eq!(param_type("order", &["ship_speed"]), "OrderShipSpeed");
        assert_eq!(
            param_type("order", &["address", "kind"]),
            "OrderAddressKind"
        );
        assert_eq!(camel("a__b", ""), "AB");
    }
}
