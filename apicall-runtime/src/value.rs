//! A value whose type is known only at run time: what `apicall run` holds for the variables,
//! parameters and extracted values that generated code keeps in typed struct fields.
//!
//! Its text form is the Rust `Display` of the same primitive generated code formats, and its
//! JSON the same primitive's serde form, so a request built from these values is byte for byte
//! the request generated code builds.

use std::fmt;

use serde::{Serialize, Serializer};

/// The declared type of a variable, parameter or response value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `string` (and an `enum` parameter's choices): a Rust `String`.
    String,
    /// `integer`: a Rust `i64`.
    Integer,
    /// `number`: a Rust `f64`, always finite.
    Number,
    /// `boolean`: a Rust `bool`.
    Boolean,
}

impl ValueKind {
    /// The YAML spelling: `string`, `integer`, `number`, `boolean`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::String => "string",
            ValueKind::Integer => "integer",
            ValueKind::Number => "number",
            ValueKind::Boolean => "boolean",
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of one of the [`ValueKind`]s.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TypedValue {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// A finite number.
    Number(f64),
    /// A boolean.
    Boolean(bool),
}

impl TypedValue {
    /// Reads `text` as a value of `kind`, as a command line argument: `None` when it is not
    /// one (a number must be finite).
    #[must_use]
    pub fn parse(kind: ValueKind, text: &str) -> Option<Self> {
        match kind {
            ValueKind::String => Some(TypedValue::String(text.to_owned())),
            ValueKind::Integer => text.parse().ok().map(TypedValue::Integer),
            ValueKind::Number => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(TypedValue::Number),
            ValueKind::Boolean => text.parse().ok().map(TypedValue::Boolean),
        }
    }

    /// Its kind.
    #[must_use]
    pub fn kind(&self) -> ValueKind {
        match self {
            TypedValue::String(_) => ValueKind::String,
            TypedValue::Integer(_) => ValueKind::Integer,
            TypedValue::Number(_) => ValueKind::Number,
            TypedValue::Boolean(_) => ValueKind::Boolean,
        }
    }
}

impl fmt::Display for TypedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypedValue::String(text) => f.write_str(text),
            TypedValue::Integer(n) => fmt::Display::fmt(n, f),
            TypedValue::Number(n) => fmt::Display::fmt(n, f),
            TypedValue::Boolean(b) => fmt::Display::fmt(b, f),
        }
    }
}

impl Serialize for TypedValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TypedValue::String(text) => text.serialize(serializer),
            TypedValue::Integer(n) => n.serialize(serializer),
            TypedValue::Number(n) => n.serialize(serializer),
            TypedValue::Boolean(b) => b.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_are_the_primitives_own() {
        let cases = [
            (TypedValue::Number(1.0), "1", "1.0"),
            (TypedValue::Number(0.1), "0.1", "0.1"),
            (TypedValue::Integer(-7), "-7", "-7"),
            (TypedValue::Boolean(true), "true", "true"),
            (TypedValue::String("a\"b".into()), "a\"b", "\"a\\\"b\""),
        ];
        for (value, text, json) in cases {
            assert_eq!(value.to_string(), text);
            assert_eq!(serde_json::to_string(&value).unwrap(), json);
        }
    }

    #[test]
    fn parses_by_kind() {
        assert_eq!(
            TypedValue::parse(ValueKind::Integer, "42"),
            Some(TypedValue::Integer(42))
        );
        assert_eq!(TypedValue::parse(ValueKind::Integer, "4.2"), None);
        assert_eq!(TypedValue::parse(ValueKind::Number, "inf"), None);
        assert_eq!(TypedValue::parse(ValueKind::Boolean, "yes"), None);
    }
}
