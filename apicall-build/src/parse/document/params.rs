//! LLM parameters: `parameters:` entries, and the `items:` and `properties:` of arrays and
//! objects, which nest.

use crate::diagnostic::{Pos, Reporter};

use super::super::yaml::{Node, Value};
use super::Text;
use super::values::{boolean, entries_of, key_text, list, scalar, text, unreachable_key};

/// A parameter, an object's property, or an array's `items:` (which has no name).
#[derive(Debug)]
pub(crate) struct ParamDecl {
    pub pos: Pos,
    pub name: Option<Text>,
    pub ty: Option<Text>,
    /// `enum: [...]`: the values the LLM may choose from.
    pub choices: Option<(Vec<Text>, Pos)>,
    pub description: Option<Text>,
    pub required: bool,
    /// `items:` of an array, and where its key is.
    pub items: Option<(Box<ParamDecl>, Pos)>,
    /// `properties:` of an object, and where its key is.
    pub properties: Option<(Vec<ParamDecl>, Pos)>,
}

pub(crate) const PARAM_KEYS: &[&str] = &[
    "name",
    "type",
    "enum",
    "description",
    "required",
    "items",
    "properties",
];
/// An array's `items:` is a parameter without a name, and always there.
pub(crate) const ITEM_KEYS: &[&str] = &["type", "enum", "description", "items", "properties"];

/// The entries of a `parameters:` or `properties:` list.
pub(super) fn read_params(value: &Node, key: &str, report: &mut Reporter<'_>) -> Vec<ParamDecl> {
    entries_of(value, key, "a parameter", report)
        .into_iter()
        .map(|(item, fields)| read_param(item, fields, PARAM_KEYS, report))
        .collect()
}

fn read_param(
    node: &Node,
    fields: &[(Node, Node)],
    keys: &'static [&'static str],
    report: &mut Reporter<'_>,
) -> ParamDecl {
    let mut param = ParamDecl {
        pos: node.pos,
        name: None,
        ty: None,
        choices: None,
        description: None,
        required: false,
        items: None,
        properties: None,
    };
    for (key, value) in fields {
        match key_text(key, keys, report) {
            Some("name") => param.name = text(value, "`name`", report),
            Some("type") => param.ty = text(value, "`type`", report),
            Some("enum") => {
                let choices = list(value, "enum", report)
                    .iter()
                    .filter_map(|choice| scalar(choice, "an `enum` value", report))
                    .collect();
                param.choices = Some((choices, value.pos));
            }
            Some("description") => param.description = text(value, "`description`", report),
            Some("required") => {
                param.required = boolean(value, "`required`", report).unwrap_or(false);
            }
            Some("items") => {
                param.items = read_items(value, report).map(|items| (Box::new(items), key.pos));
            }
            Some("properties") => {
                param.properties = Some((read_params(value, "properties", report), key.pos));
            }
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    param
}

/// `items:` is a type's name (`items: string`) or a mapping like a parameter's, unnamed.
fn read_items(value: &Node, report: &mut Reporter<'_>) -> Option<ParamDecl> {
    match &value.value {
        Value::Map(fields) => Some(read_param(value, fields, ITEM_KEYS, report)),
        _ => {
            let ty = text(value, "`items`", report)?;
            Some(ParamDecl {
                pos: value.pos,
                name: None,
                ty: Some(ty),
                choices: None,
                description: None,
                required: false,
                items: None,
                properties: None,
            })
        }
    }
}
