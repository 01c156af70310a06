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
mod tests {
    use super::*;
    use crate::spec::Method;

    static SPEC: CallSpec = CallSpec {
        name: "lookup_customer",
        method: Method::Get,
        timeout_ms: 1000,
        retries: 0,
    };

    const fn leaf(slot: &'static [usize]) -> PathNode {
        PathNode {
            slots: slot,
            keys: &[],
            indexes: &[],
            from_end: &[],
        }
    }

    // customer.name -> 0, customer.age -> 1, items[1].eta -> 2, "a.b" -> 3, customer -> 4
    static TREE: PathNode = PathNode {
        slots: &[],
        keys: &[
            (
                "customer",
                PathNode {
                    slots: &[4],
                    keys: &[("name", leaf(&[0])), ("age", leaf(&[1]))],
                    indexes: &[],
                    from_end: &[],
                },
            ),
            (
                "items",
                PathNode {
                    slots: &[],
                    keys: &[],
                    indexes: &[(
                        1,
                        PathNode {
                            slots: &[],
                            keys: &[("eta", leaf(&[2]))],
                            indexes: &[],
                            from_end: &[],
                        },
                    )],
                    from_end: &[],
                },
            ),
            ("a.b", leaf(&[3])),
        ],
        indexes: &[],
        from_end: &[],
    };

    fn run(json: &str) -> Result<Extracted, Error> {
        extract(&SPEC, json.as_bytes(), &TREE, 5)
    }

    #[test]
    fn reads_nested_keys_indexes_and_dotted_keys() {
        let mut found = run(
            r#"{"x": [1, {"y": 2}], "customer": {"name": "Ada", "age": 36, "tags": ["a"]},
            "items": [{"eta": "late"}, {"eta": "soon"}], "a.b": true}"#,
        )
        .unwrap();
        assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("Ada"));
        assert_eq!(found.integer(1, "age").unwrap(), Some(36));
        assert_eq!(found.string(2, "eta").unwrap().as_deref(), Some("soon"));
        assert_eq!(found.boolean(3, "ab").unwrap(), Some(true));
    }

    #[test]
    fn missing_paths_are_none() {
        let mut found = run(r#"{"customer": "not an object", "items": [{"eta": 1}]}"#).unwrap();
        assert_eq!(found.string(0, "name").unwrap(), None);
        assert_eq!(found.string(2, "eta").unwrap(), None);
        assert_eq!(found.boolean(3, "ab").unwrap(), None);
        let mut found = run("[]").unwrap();
        assert_eq!(found.string(0, "name").unwrap(), None);
    }

    #[test]
    fn numbers_and_booleans_render_as_text_for_strings() {
        let mut found = run(
            r#"{"customer": {"name": 42, "age": 1}, "items": [0, {"eta": 4.5}], "a.b": false}"#,
        )
        .unwrap();
        assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("42"));
        assert_eq!(found.string(2, "eta").unwrap().as_deref(), Some("4.5"));
        assert_eq!(found.string(3, "ab").unwrap().as_deref(), Some("false"));
    }

    #[test]
    fn numbers_extracted_as_strings_keep_their_exact_json_text() {
        for json in [
            "98765432109876543210",
            "-98765432109876543210",
            "123456789012345678901234567890",
            "18446744073709551616",
            "-9223372036854775809",
            "1E+400",
            "-1.5e-7",
            "12345678901234567890123e5",
            "3.14159265358979323846264338327950288",
            "0.10000000000000000000000001",
            "1.0",
            "-0.25",
            "1e20",
            "-0",
            "0",
        ] {
            let body = format!(r#"{{"customer": {{"name": {json}, "age": [{json}]}}}}"#);
            let mut found = run(&body).unwrap();
            assert_eq!(found.string(0, "name").unwrap().as_deref(), Some(json));
        }
    }

    #[test]
    fn a_captured_parent_keeps_the_digits_of_its_children() {
        let mut found = run(
            r#"{"customer": {"age": 98765432109876543210, "name": 12345678901234567890123e5}}"#,
        )
        .unwrap();
        assert!(matches!(
            found.string(4, "customer"),
            Err(Error::WrongType {
                found: "an object",
                ..
            })
        ));
        assert_eq!(
            found.string(0, "name").unwrap().as_deref(),
            Some("12345678901234567890123e5")
        );
        assert_eq!(
            found.string(1, "age").unwrap().as_deref(),
            Some("98765432109876543210")
        );
    }

    #[test]
    fn integers_must_fit_i64_and_numbers_f64() {
        // `age` (slot 1) read as an integer and as a number.
        let age = |json: &str| {
            let body = format!(r#"{{"customer": {{"age": {json}}}}}"#);
            let mut found = run(&body).unwrap();
            let mut again = run(&body).unwrap();
            (found.integer(1, "age"), again.number(1, "age"))
        };
        assert_eq!(age("9223372036854775807").0.unwrap(), Some(i64::MAX));
        assert_eq!(age("-9223372036854775808").0.unwrap(), Some(i64::MIN));
        assert_eq!(age("-0").0.unwrap(), Some(0));
        for (json, found) in [
            ("9223372036854775808", "an integer"),
            ("98765432109876543210", "an integer"),
            ("1e3", "a decimal number"),
            ("4.0", "a decimal number"),
        ] {
            match age(json).0 {
                Err(Error::WrongType { found: kind, .. }) => assert_eq!(kind, found, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        assert_eq!(age("-1.5e-7").1.unwrap(), Some(-1.5e-7));
        assert_eq!(
            age("98765432109876543210").1.unwrap(),
            Some(9.876_543_210_987_654e19)
        );
        assert_eq!(age("1e3").1.unwrap(), Some(1000.0));
        assert!(matches!(
            age("1E+400").1,
            Err(Error::WrongType {
                expected: "a number within f64 range",
                ..
            })
        ));
    }

    #[test]
    fn strings_are_unescaped_and_literals_read_as_themselves() {
        let mut found =
            run(r#"{"customer": {"name": "A\u00e9\n\"b\"", "age": null}, "a.b": true}"#).unwrap();
        assert_eq!(
            found.string(0, "name").unwrap().as_deref(),
            Some("A\u{e9}\n\"b\"")
        );
        assert_eq!(found.integer(1, "age").unwrap(), None);
        assert_eq!(found.boolean(3, "ab").unwrap(), Some(true));
    }

    #[test]
    fn a_value_is_read_once_per_slot() {
        let mut found = run(r#"{"customer": {"name": "Ada"}}"#).unwrap();
        assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("Ada"));
        assert_eq!(found.string(0, "name").unwrap(), None);
        // Slots past the count are empty, not a panic.
        assert_eq!(found.string(99, "name").unwrap(), None);
    }

    #[test]
    fn deeply_nested_values_are_skipped_without_recursing() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let body = format!(r#"{{"x": {deep}, "customer": {{"name": {deep}}}}}"#);
        let mut found = run(&body).unwrap();
        assert!(matches!(
            found.string(0, "name"),
            Err(Error::WrongType {
                found: "an array",
                ..
            })
        ));
        let unclosed = format!(r#"{{"x": {}"#, "[".repeat(100_000));
        assert!(matches!(run(&unclosed), Err(Error::NotJson { .. })));
    }

    #[test]
    fn wrong_types_are_errors_naming_the_variable() {
        let mut found = run(r#"{"customer": {"name": {"first": "Ada"}, "age": "old"}}"#).unwrap();
        let error = found.string(0, "customer_name").unwrap_err();
        assert!(
            matches!(
                error,
                Error::WrongType {
                    variable: "customer_name",
                    found: "an object",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(matches!(
            found.integer(1, "age"),
            Err(Error::WrongType { .. })
        ));
        let mut found = run(r#"{"customer": {"age": 4.5}}"#).unwrap();
        assert!(matches!(
            found.integer(1, "age"),
            Err(Error::WrongType { .. })
        ));
        let mut found = run(r#"{"customer": {"age": 18446744073709551615}}"#).unwrap();
        assert!(matches!(
            found.integer(1, "age"),
            Err(Error::WrongType { .. })
        ));
        let mut found = run(r#"{"customer": {"age": 18446744073709551615}}"#).unwrap();
        assert!(found.number(1, "age").unwrap().is_some());
    }

    #[test]
    fn fields_read_by_their_type_and_the_first_error_wins() {
        let found = run(r#"{"customer": {"name": "Ada", "age": 36}, "a.b": false}"#).unwrap();
        let read = found.into_response(|found| {
            let name: String = found.field(0, "name");
            let age: Option<i64> = found.field(1, "age");
            let eta: Option<String> = found.field(2, "eta");
            let flag: bool = found.field(3, "ab");
            (name, age, eta, flag)
        });
        assert_eq!(read.unwrap(), ("Ada".to_owned(), Some(36), None, false));

        // The wrong type in slot 0 is read first; the missing required slot 2 comes after.
        let found = run(r#"{"customer": {"name": [1], "age": 36}}"#).unwrap();
        let error = found
            .into_response(|found| {
                let name: Option<String> = found.field(0, "name");
                let eta: String = found.field(2, "eta");
                let age: f64 = found.field(1, "age");
                (name, eta, age)
            })
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::WrongType {
                    variable: "name",
                    ..
                }
            ),
            "{error:?}"
        );

        let found = run(r#"{"customer": {"age": 36}}"#).unwrap();
        let error = found
            .into_response(|found| found.field::<i64>(2, "eta"))
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::MissingRequired {
                    variable: "eta",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_value_that_is_also_a_parent_is_captured_as_its_kind() {
        let mut found = run(r#"{"customer": {"name": "Ada"}}"#).unwrap();
        assert!(matches!(
            found.string(4, "customer"),
            Err(Error::WrongType {
                found: "an object",
                ..
            })
        ));
        assert_eq!(found.string(0, "name").unwrap().as_deref(), Some("Ada"));
    }

    #[test]
    fn escaped_keys_match_their_unescaped_form() {
        let mut found = run(r#"{"cust\u006fmer": {"na\u006de": "Ada \"A\""}}"#).unwrap();
        assert_eq!(
            found.string(0, "name").unwrap().as_deref(),
            Some("Ada \"A\"")
        );
    }

    #[test]
    fn an_empty_body_has_no_values() {
        for body in ["", " \n"] {
            let mut found = run(body).unwrap();
            assert_eq!(found.string(0, "name").unwrap(), None);
        }
    }

    #[test]
    fn malformed_json_is_not_json() {
        for body in [
            "{",
            "<html>",
            r#"{"customer": {"name": "Ada"}} trailing"#,
            "{\"a\": tru}",
        ] {
            assert!(matches!(run(body), Err(Error::NotJson { .. })), "{body:?}");
        }
    }

    /// Elements counted from the end (`[-1]`), beside indexes into the same array, nested,
    /// and selecting nothing past either end or on a value that is not an array.
    #[test]
    fn elements_from_the_end() {
        use super::paths::{PathStep, ResponsePaths};
        let key = |k: &str| PathStep::Key(k.to_owned());
        let paths = [
            vec![key("orders"), PathStep::FromEnd(1), key("id")],
            vec![key("orders"), PathStep::FromEnd(3), key("id")],
            vec![key("orders"), PathStep::Index(0), key("id")],
            vec![key("orders"), PathStep::FromEnd(4)],
            vec![key("name"), PathStep::FromEnd(1)],
            vec![
                key("orders"),
                PathStep::FromEnd(1),
                key("lines"),
                PathStep::FromEnd(1),
            ],
        ];
        let paths = ResponsePaths::new(paths.iter().map(Vec::as_slice));
        let body = r#"{"name": "Ada", "orders": [
            {"id": "o-1"}, {"id": "o-2"}, {"id": "o-3", "lines": [1, 2, 3]}
        ]}"#;
        let mut found = extract_paths(&SPEC, body.as_bytes(), &paths).unwrap();
        assert_eq!(found.string(0, "last").unwrap().as_deref(), Some("o-3"));
        assert_eq!(found.string(1, "first").unwrap().as_deref(), Some("o-1"));
        assert_eq!(found.string(2, "zeroth").unwrap().as_deref(), Some("o-1"));
        assert_eq!(found.string(3, "too_far").unwrap(), None);
        assert_eq!(found.string(4, "not_an_array").unwrap(), None);
        assert_eq!(found.integer(5, "last_line").unwrap(), Some(3));
    }
}
