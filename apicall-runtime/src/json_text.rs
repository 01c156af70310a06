//! A JSON body written as text, so a number from the YAML keeps every digit.
//!
//! `serde_json::Value` holds integers only up to 64 bits and other numbers as `f64`, so a body
//! built as a `Value` would send `98765432109876543210` as `9.876543210987654e19`. Generated
//! code instead writes the body's fixed parts as JSON text checked at compile time, and only
//! the values known at run time go through serde.

use serde::Serialize;

/// A JSON document under construction. Generated code alternates [`JsonText::raw`] for the
/// fixed text and [`JsonText::value`] for each value.
#[derive(Debug, Default)]
pub struct JsonText {
    bytes: Vec<u8>,
}

impl JsonText {
    /// An empty document with room for `capacity` bytes.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// Appends JSON text the compiler wrote (punctuation, keys, literal values).
    pub fn raw(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
    }

    /// Appends one value as JSON: `None` is `null`, strings are escaped.
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        let start = self.bytes.len();
        // The values generated code passes (strings, numbers, booleans, options and enums of
        // them) always serialize; should one fail anyway, it is `null` rather than half a value.
        if serde_json::to_writer(&mut self.bytes, value).is_err() {
            self.bytes.truncate(start);
            self.bytes.extend_from_slice(b"null");
        }
    }

    /// The document's bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_text_and_values_make_one_document() {
        let mut json = JsonText::default();
        json.raw(r#"{"id":98765432109876543210,"name":"#);
        json.value("Ada \"A\"");
        json.raw(r#","note":"#);
        json.value(&None::<String>);
        json.raw(r#","ratio":"#);
        json.value(&f64::NAN);
        json.raw("}");
        assert_eq!(
            String::from_utf8(json.into_bytes()).unwrap(),
            r#"{"id":98765432109876543210,"name":"Ada \"A\"","note":null,"ratio":null}"#
        );
    }
}
