//! YAML text to a generic tree in which every node knows where it came from.
//!
//! The document's own structure is read from this tree by `parse::document` rather than by
//! `#[derive(Deserialize)]`, because serde stops at the first error and we report all of them.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::Pos;

/// A YAML node and its location.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub value: Value,
    pub pos: Pos,
    /// Byte range of the node's source text, when the parser knows it.
    pub bytes: Option<(usize, usize)>,
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
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let location = spanned.referenced;
        let span = location.span();
        let bytes = span
            .byte_offset()
            .zip(span.byte_len())
            .and_then(|(start, len)| {
                Some((usize::try_from(start).ok()?, usize::try_from(len).ok()?))
            });
        Ok(Node {
            value: spanned.value,
            pos: Pos::new(
                u32::try_from(location.line()).unwrap_or(u32::MAX),
                u32::try_from(location.column()).unwrap_or(u32::MAX),
            ),
            bytes,
        })
    }
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

/// What went wrong reading the YAML itself (before its meaning is looked at).
pub(crate) struct SyntaxError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Parses YAML text into a located tree. An empty document (or one of only comments) is `Null`.
pub(crate) fn parse(source: &str) -> Result<Node, SyntaxError> {
    if source.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    }) {
        return Ok(Node {
            value: Value::Null,
            pos: Pos::new(1, 1),
            bytes: None,
        });
    }
    serde_saphyr::from_str_with_options::<Node>(source, options()).map_err(|error| {
        let pos = error.location().and_then(|location| {
            let line = u32::try_from(location.line()).ok()?;
            let col = u32::try_from(location.column()).ok()?;
            (line > 0).then_some(Pos::new(line, col.max(1)))
        });
        SyntaxError {
            pos,
            message: first_line(&error.to_string()),
        }
    })
}

/// Deserializing a node recurses once per level, so nesting is bounded well below what any
/// stack (a test thread's 2 MiB included) can take; a calls.yaml needs a dozen levels.
const MAX_NESTING: usize = 48;

fn options() -> serde_saphyr::Options {
    // Both are #[non_exhaustive]: start from the defaults and set what matters.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_NESTING;
    budget.flow_nesting_limit = MAX_NESTING;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// serde-saphyr renders its own location and snippet around the message; we draw ours, so
/// keep only the words, minus advice meant for Rust callers of serde-saphyr.
fn first_line(rendered: &str) -> String {
    let mut line = rendered.lines().next().unwrap_or_default().trim();
    line = line.strip_prefix("error: ").unwrap_or(line);
    if line.starts_with("line ")
        && let Some((_, rest)) = line.split_once(": ")
    {
        line = rest;
    }
    if let Some(at) = line.find(" at line ") {
        line = &line[..at];
    }
    if let Some(at) = line.find(", set DuplicateKeyPolicy") {
        line = &line[..at];
    }
    if line.is_empty() {
        "invalid YAML".to_owned()
    } else {
        line.to_owned()
    }
}

/// Converts byte offsets into line and column, for positions inside a scalar.
pub(crate) struct LineIndex<'s> {
    source: &'s str,
    line_starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            source,
            line_starts,
        }
    }

    pub(crate) fn source(&self) -> &'s str {
        self.source
    }

    pub(crate) fn pos_at(&self, byte: usize) -> Pos {
        let line = self.line_starts.partition_point(|&start| start <= byte);
        let start = self.line_starts[line.saturating_sub(1)];
        let col = self
            .source
            .get(start..byte)
            .map_or(1, |text| text.chars().count() + 1);
        Pos::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }
}
