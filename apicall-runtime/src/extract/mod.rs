//! Typed partial deserialization: walk the response JSON, descend only into members on a
//! requested path, skip everything else unparsed, and keep just the values asked for.
//!
//! A value on a path is read as its raw JSON text first, so a number keeps every digit
//! (`98765432109876543210`, `1E+400`) until a variable's type says how to read it; serde_json's
//! own number parsing would round it to `f64`. When a value is also a parent of other path
//! values, its text is walked again with a second parser.

use serde::de::DeserializeSeed;

use crate::Error;
use crate::spec::CallSpec;
use crate::value::{TypedValue, ValueKind};

mod paths;
mod walk;

use paths::Trie;
pub use paths::{PathNode, PathStep, ResponsePaths};
use walk::Walk;

/// A captured value. Objects and arrays are only noted, never built.
#[derive(Clone, Debug, PartialEq)]
enum Leaf {
    Null,
    Bool(bool),
    /// The number's JSON text, exactly as the response wrote it.
    Number(String),
    Str(String),
    Object,
    Array,
}

impl Leaf {
    fn kind(&self) -> &'static str {
        match self {
            Leaf::Null => "null",
            Leaf::Bool(_) => "a boolean",
            Leaf::Number(text) if is_integer_text(text) => "an integer",
            Leaf::Number(_) => "a decimal number",
            Leaf::Str(_) => "a string",
            Leaf::Object => "an object",
            Leaf::Array => "an array",
        }
    }
}

/// Whether a JSON number's text is an integer (no fraction, no exponent), as serde_json would
/// have read it.
fn is_integer_text(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

/// The values found for each slot, read out with their declared types.
#[derive(Debug)]
pub struct Extracted {
    spec: &'static CallSpec,
    slots: Vec<Option<Leaf>>,
    /// The first error [`Extracted::field`] met, returned by [`Extracted::into_response`].
    first_error: Option<Error>,
}

/// Walks `body` along `tree`, filling `slot_count` slots. An empty body (a 204, say) has no
/// values: every slot stays empty.
///
/// # Errors
///
/// [`Error::NotJson`] when a non-empty body is not one well-formed JSON value.
pub fn extract(
    spec: &'static CallSpec,
    body: &[u8],
    tree: &'static PathNode,
    slot_count: usize,
) -> Result<Extracted, Error> {
    walk(spec, body, tree, slot_count)
}

/// [`extract`] along paths known only at run time.
///
/// # Errors
///
/// [`Error::NotJson`] when a non-empty body is not one well-formed JSON value.
pub fn extract_paths(
    spec: &'static CallSpec,
    body: &[u8],
    paths: &ResponsePaths,
) -> Result<Extracted, Error> {
    walk(spec, body, paths.root(), paths.len())
}

fn walk<T: Trie>(
    spec: &'static CallSpec,
    body: &[u8],
    tree: &T,
    slot_count: usize,
) -> Result<Extracted, Error> {
    let mut slots = vec![None; slot_count];
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Extracted {
            spec,
            slots,
            first_error: None,
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let walked = Walk {
        node: tree,
        slots: &mut slots,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end());
    walked.map_err(|source| Error::NotJson {
        call: spec.name,
        source,
    })?;
    Ok(Extracted {
        spec,
        slots,
        first_error: None,
    })
}

impl Extracted {
    fn take(&mut self, slot: usize) -> Option<Leaf> {
        self.slots.get_mut(slot).and_then(Option::take)
    }

    fn wrong_type(&self, variable: &'static str, expected: &'static str, found: &Leaf) -> Error {
        Error::WrongType {
            call: self.spec.name,
            variable,
            expected,
            found: found.kind(),
        }
    }

    /// The error for a `required` response variable the response did not have (or had as
    /// `null`).
    #[must_use]
    pub fn missing(&self, variable: &'static str) -> Error {
        Error::MissingRequired {
            call: self.spec.name,
            variable,
        }
    }

    /// A string; numbers and booleans become their JSON text, every digit of a number kept
    /// as the response wrote it. Absent or null is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] for an object or array.
    pub fn string(&mut self, slot: usize, variable: &'static str) -> Result<Option<String>, Error> {
        match self.take(slot) {
            None | Some(Leaf::Null) => Ok(None),
            Some(Leaf::Str(s) | Leaf::Number(s)) => Ok(Some(s)),
            Some(Leaf::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.wrong_type(variable, "a string", &other)),
        }
    }

    /// An integer that fits `i64`. Absent or null is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] for anything else, including `4.5`, `1e3` and integers beyond `i64`.
    pub fn integer(&mut self, slot: usize, variable: &'static str) -> Result<Option<i64>, Error> {
        match self.take(slot) {
            None | Some(Leaf::Null) => Ok(None),
            Some(leaf) => match &leaf {
                Leaf::Number(text) if is_integer_text(text) => text
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| self.wrong_type(variable, "an integer within i64", &leaf)),
                _ => Err(self.wrong_type(variable, "an integer", &leaf)),
            },
        }
    }

    /// Any JSON number, as the nearest `f64`. Absent or null is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] for anything but a number, or one beyond `f64` (`1e400`).
    pub fn number(&mut self, slot: usize, variable: &'static str) -> Result<Option<f64>, Error> {
        match self.take(slot) {
            None | Some(Leaf::Null) => Ok(None),
            Some(leaf) => match &leaf {
                // JSON number syntax is a subset of what `f64::from_str` reads; only a number
                // beyond f64 (`1e400`) reads as infinite.
                Leaf::Number(text) => match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Some(n)),
                    _ => Err(self.wrong_type(variable, "a number within f64 range", &leaf)),
                },
                _ => Err(self.wrong_type(variable, "a number", &leaf)),
            },
        }
    }

    /// A boolean. Absent or null is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] for anything but `true` or `false`.
    pub fn boolean(&mut self, slot: usize, variable: &'static str) -> Result<Option<bool>, Error> {
        match self.take(slot) {
            None | Some(Leaf::Null) => Ok(None),
            Some(Leaf::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong_type(variable, "a boolean", &other)),
        }
    }

    /// Builds a response struct with `build`, which reads each field with
    /// [`field`](Self::field), and returns it, or the first error a field met.
    ///
    /// This is how generated code fills a response struct. A field read cannot fail on the
    /// spot, so the struct literal has no `?` per field: rustc's time and memory grow with
    /// the square of the early returns in one literal (2,000 fields took 24 GB), and
    /// linearly without them.
    ///
    /// # Errors
    ///
    /// The first [`Error::WrongType`] or [`Error::MissingRequired`], in the order the fields
    /// were read.
    pub fn into_response<T>(mut self, build: impl FnOnce(&mut Self) -> T) -> Result<T, Error> {
        let response = build(&mut self);
        match self.first_error {
            Some(error) => Err(error),
            None => Ok(response),
        }
    }

    /// The value in `slot` with the type of the field it fills: `Option<String>`,
    /// `Option<i64>`, `Option<f64>` or `Option<bool>` for an optional value, the bare type for
    /// a `required` one. Read as [`string`](Self::string), [`integer`](Self::integer),
    /// [`number`](Self::number) and [`boolean`](Self::boolean) read; an error is kept for
    /// [`into_response`](Self::into_response) (the first one wins) and the field gets `None`,
    /// or the type's default.
    pub fn field<T: Field>(&mut self, slot: usize, variable: &'static str) -> T {
        T::read(self, slot, variable)
    }

    fn keep<T>(&mut self, read: Result<Option<T>, Error>) -> Option<T> {
        read.unwrap_or_else(|error| {
            self.first_error.get_or_insert(error);
            None
        })
    }

    fn require<T: Default>(&mut self, value: Option<T>, variable: &'static str) -> T {
        value.unwrap_or_else(|| {
            if self.first_error.is_none() {
                self.first_error = Some(self.missing(variable));
            }
            T::default()
        })
    }

    /// The value in `slot` read as `kind`, as the typed reader of that kind reads it; a
    /// `required` value that is absent or `null` is [`Error::MissingRequired`]. This is how
    /// generated code fills each field of a response struct, for values whose type is known
    /// only at run time.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] or [`Error::MissingRequired`].
    pub fn read(
        &mut self,
        slot: usize,
        variable: &'static str,
        kind: ValueKind,
        required: bool,
    ) -> Result<Option<TypedValue>, Error> {
        let value = match kind {
            ValueKind::String => self.string(slot, variable)?.map(TypedValue::String),
            ValueKind::Integer => self.integer(slot, variable)?.map(TypedValue::Integer),
            ValueKind::Number => self.number(slot, variable)?.map(TypedValue::Number),
            ValueKind::Boolean => self.boolean(slot, variable)?.map(TypedValue::Boolean),
        };
        match value {
            None if required => Err(self.missing(variable)),
            value => Ok(value),
        }
    }
}

/// A type a response struct's field can have: what [`Extracted::field`] reads.
pub trait Field: Sized + sealed::Sealed {
    #[doc(hidden)]
    fn read(extracted: &mut Extracted, slot: usize, variable: &'static str) -> Self;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! fields {
    ($($ty:ty => $reader:ident),* $(,)?) => {$(
        impl sealed::Sealed for Option<$ty> {}
        impl Field for Option<$ty> {
            fn read(extracted: &mut Extracted, slot: usize, variable: &'static str) -> Self {
                let read = extracted.$reader(slot, variable);
                extracted.keep(read)
            }
        }
        impl sealed::Sealed for $ty {}
        impl Field for $ty {
            fn read(extracted: &mut Extracted, slot: usize, variable: &'static str) -> Self {
                let value = Option::<$ty>::read(extracted, slot, variable);
                extracted.require(value, variable)
            }
        }
    )*};
}

fields!(String => string, i64 => integer, f64 => number, bool => boolean);

#[cfg(test)]
mod tests;
