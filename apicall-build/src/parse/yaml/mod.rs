//! YAML text to a generic tree in which every node knows where it came from.
//!
//! The document's own structure is read from this tree by `parse::document` rather than by
//! `#[derive(Deserialize)]`, because serde stops at the first error and we report all of them.
//!
//! calls.yaml is YAML 1.2 with the core schema. serde-saphyr guesses scalar types with some
//! YAML 1.1 rules even when told otherwise, so after parsing, every scalar it did not read as
//! a string is read again from its own source text with the core schema's rules (`resolve`).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

mod core_schema;
mod syntax_error;

use core_schema::{core_int, resolve};
use syntax_error::explain;
pub(crate) use syntax_error::{SyntaxError, quoted};

use super::anchors::InSource;
use super::lines::{LineIndex, lines};
use crate::diagnostic::Pos;

/// A YAML node and its location.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub value: Value,
    pub pos: Pos,
    /// Byte range of the node's source text, when the parser knows it.
    pub bytes: Option<(usize, usize)>,
    /// A number, boolean or null as the user wrote it (`1.0`, `0x1F`, `TRUE`): messages quote
    /// this rather than our reading of it, which may have lost digits.
    pub written: Option<String>,
    /// Byte range of the text that gives the node its value: for an alias, the anchored value.
    pub(super) defined: Option<(usize, usize)>,
    /// A scalar's quote and `{{` in the source, which place offsets in its value.
    pub(super) in_source: InSource,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// The kind of value, as a YAML author would name it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a decimal number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The node's scalar as text, if it is a scalar that reads naturally as text.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A whole number with more digits than `Value::Int` holds, kept as an approximate float.
    pub(crate) fn is_huge_int(&self) -> bool {
        matches!(self.value, Value::Float(_))
            && self
                .written
                .as_deref()
                .is_some_and(|text| core_int(text).is_some())
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let location = spanned.referenced;
        Ok(Node {
            value: spanned.value,
            pos: Pos::new(
                u32::try_from(location.line()).unwrap_or(u32::MAX),
                u32::try_from(location.column()).unwrap_or(u32::MAX),
            ),
            bytes: byte_range(&location),
            written: None,
            defined: byte_range(&spanned.defined),
            in_source: InSource::default(),
        })
    }
}

fn byte_range(location: &Location) -> Option<(usize, usize)> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    Some((start, len))
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

/// Parses YAML text into a located tree. An empty document (or one of only comments) is `Null`.
pub(crate) fn parse(source: &str) -> Result<Node, SyntaxError> {
    if lines(source).all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    }) {
        return Ok(Node {
            value: Value::Null,
            pos: Pos::new(1, 1),
            bytes: None,
            written: None,
            defined: None,
            in_source: InSource::default(),
        });
    }
    let mut root = serde_saphyr::from_str_with_options::<Node>(source, options())
        .map_err(|error| explain(&error, source))?;
    resolve(&mut root, source);
    read_in_source(&mut root, &LineIndex::new(source));
    Ok(root)
}

/// Reads where each scalar's quote and `{{` are in the source (`InSource`).
fn read_in_source(node: &mut Node, lines: &LineIndex<'_>) {
    match &mut node.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|item| read_in_source(item, lines)),
        Value::Map(entries) => {
            for (key, value) in entries {
                read_in_source(key, lines);
                read_in_source(value, lines);
            }
        }
        _ => node.in_source = InSource::read(node.bytes, lines),
    }
}

/// Deserializing a node recurses once per level, so nesting is bounded well below what any
/// stack (a test thread's 2 MiB included) can take; a calls.yaml needs a dozen levels. With
/// serde-saphyr optimised, a level takes about 50 KB of stack: 41 levels overflowed 2 MiB.
pub(super) const MAX_NESTING: usize = 32;

/// YAML values (scalars, lists and mappings, counting each use of an alias as a copy) in one
/// file. A realistic call is 15 to 60 of them (the compile benchmark's, with two parameters,
/// three response paths, a header, a query and a prompt, is 58), so 50,000 calls fit; an alias
/// bomb stops here, having taken about 1.5 GB of memory (0.97 GB at the 2,500,000 this was
/// until the benchmark's 50,000 calls did not fit).
pub(super) const MAX_VALUES: usize = 4_000_000;

/// Aliases (`*name`) in one file: one per call (shared headers, say) fits many times over.
pub(super) const MAX_ALIASES: usize = 500_000;

fn options() -> serde_saphyr::Options {
    // Both are #[non_exhaustive]: start from the defaults and set what matters.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_NESTING;
    budget.flow_nesting_limit = MAX_NESTING;
    budget.max_nodes = MAX_VALUES;
    // Each value is at most a start and an end event, each alias one more: these two can
    // only be reached after `max_nodes` or `max_aliases`, whose messages say more.
    budget.max_events = 2 * MAX_VALUES + MAX_ALIASES + 16;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_recorded_anchor_events = 2 * MAX_VALUES;
    // Many uses of one anchor (a shared `headers:` in every call) is normal in calls.yaml;
    // the value count above is what bounds an alias bomb.
    budget.enforce_alias_anchor_ratio = false;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 2 * MAX_VALUES + 16;
    options.strict_booleans = true;
    options.underscored_numbers_as_strings = true;
    // `.inf` reaches the validator, which says where JSON cannot hold it.
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    options.with_snippet = false;
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(node: &Node) -> usize {
        1 + match &node.value {
            Value::Seq(items) => items.iter().map(count).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
            _ => 0,
        }
    }

    #[test]
    fn fifty_thousand_realistic_calls_fit_the_value_budget() {
        let call = "- name: lookup_customer
  description: Look up the caller by phone when the call starts
  url: https://crm.example.com/customers/{{collected.id}}
  method: GET
  timeout_ms: 3000
  headers: { Authorization: 'Bearer {{api_key}}' }
  query: { phone: '{{caller_phone}}' }
  parameters:
    - { name: id, type: string, description: The id, required: true }
  response_variables:
    - { path: customer.name, variable: customer_name }
    - { path: customer.tier, variable: tier }
";
        let Ok(list) = parse(call) else {
            panic!("the call parses")
        };
        // The list itself is not part of a call.
        let per_call = count(&list) - 1;
        assert_eq!(per_call, 42);
        assert!(50_000 * per_call < MAX_VALUES);
    }
}
