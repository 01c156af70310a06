//! The LLM's arguments read against a call's parameters, as generated code describes them in
//! one static list ([`Param`]): either every argument fits, or a list of problems the LLM can
//! fix.
//!
//! A problem is built only from the description: parameter names, their types and their
//! choices. It never quotes what the LLM sent (a value, or a key no parameter has), so a
//! secret pasted into the arguments, or text meant to steer the LLM, never comes back in a
//! tool result.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::value::TypedValue;

/// At most this many problems are reported for one tool call.
pub const MAX_PROBLEMS: usize = 10;

/// One LLM parameter: its name, the JSON it takes, and whether the LLM must give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name in the arguments object.
    pub name: &'static str,
    /// The JSON it takes.
    pub shape: Shape,
    /// Whether the LLM must give it (otherwise it may leave it out or send `null`).
    pub required: bool,
}

/// The JSON an LLM parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// A string.
    String,
    /// An integer (a Rust `i64`).
    Integer,
    /// A number (a Rust `f64`).
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// One of these integers.
    IntegerEnum(&'static [i64]),
    /// An array of these.
    Array(&'static Shape),
    /// An object with these members, and no others.
    Object(&'static [Param]),
}

impl Shape {
    /// What a value of this shape is, as a problem says it: "an integer", "one of: a, b".
    fn expected(self) -> String {
        match self {
            Shape::String => "a string".to_owned(),
            Shape::Integer => "an integer".to_owned(),
            Shape::Number => "a number".to_owned(),
            Shape::Boolean => "true or false".to_owned(),
            Shape::Enum(choices) => format!("one of: {}", choices.join(", ")),
            Shape::IntegerEnum(choices) => {
                let choices: Vec<String> = choices.iter().map(i64::to_string).collect();
                format!("one of the integers: {}", choices.join(", "))
            }
            Shape::Array(item) => format!("an array of {}", item.plural()),
            Shape::Object(_) => "an object".to_owned(),
        }
    }

    /// The items of an array of this shape, as a problem says them.
    fn plural(self) -> String {
        match self {
            Shape::String => "strings".to_owned(),
            Shape::Integer => "integers".to_owned(),
            Shape::Number => "numbers".to_owned(),
            Shape::Boolean => "booleans".to_owned(),
            Shape::Enum(_) | Shape::IntegerEnum(_) => format!("values, each {}", self.expected()),
            Shape::Array(_) => "arrays".to_owned(),
            Shape::Object(_) => "objects".to_owned(),
        }
    }
}

/// An argument read against its parameter: what generated code holds in its params struct,
/// serialized as generated code serializes it (an object's members in the parameters' order,
/// an absent optional member as `null`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Argument {
    /// A string, number or boolean, or an enum's value.
    Value(TypedValue),
    /// An array.
    Array(Vec<Argument>),
    /// An object: every member the parameter declares, in its order.
    Object(Vec<(&'static str, Option<Argument>)>),
}

impl Serialize for Argument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Argument::Value(value) => value.serialize(serializer),
            Argument::Array(items) => items.serialize(serializer),
            Argument::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (name, value) in members {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

/// The problem for arguments that are not a JSON object (or not JSON at all).
pub const NOT_AN_OBJECT: &str = "the arguments must be one JSON object";

/// Reads `arguments` (a JSON object) against `params`: each given argument, in the
/// parameters' order, or every problem found (at most [`MAX_PROBLEMS`]), each naming the
/// argument and what it must be.
///
/// # Errors
///
/// The problems, when any argument does not fit.
pub fn read_arguments(
    params: &'static [Param],
    arguments: &Value,
) -> Result<Vec<(&'static str, Argument)>, Vec<String>> {
    read::<true>(params, arguments)
}

/// Checks `arguments` against `params` exactly as [`read_arguments`] does, without copying
/// out what it reads: for the dispatcher, which deserializes them itself.
pub(crate) fn check_arguments(
    params: &'static [Param],
    arguments: &Value,
) -> Result<(), Vec<String>> {
    read::<false>(params, arguments).map(drop)
}

/// [`read_arguments`]; with `KEEP` false, the arguments come out empty (an array or object
/// as an empty one, a string as ""), checked all the same.
fn read<const KEEP: bool>(
    params: &'static [Param],
    arguments: &Value,
) -> Result<Vec<(&'static str, Argument)>, Vec<String>> {
    let mut problems = Vec::new();
    let Value::Object(members) = arguments else {
        return Err(vec![NOT_AN_OBJECT.to_owned()]);
    };
    let read = read_members::<KEEP>(params, members, None, &mut problems);
    if problems.is_empty() {
        Ok(read
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name, value)))
            .collect())
    } else {
        problems.truncate(MAX_PROBLEMS);
        Err(problems)
    }
}

/// Where an argument is, as a problem names it (`quantity`, `address.floor`, `toppings[1]`):
/// written out only for a problem, so arguments that fit cost no text.
#[derive(Clone, Copy)]
enum Place<'a> {
    /// A member of the object at the first place, or a top-level argument.
    Member(Option<&'a Place<'a>>, &'static str),
    /// An item of the array at the first place.
    Item(&'a Place<'a>, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Member(None, name) => f.write_str(name),
            Place::Member(Some(at), name) => write!(f, "{at}.{name}"),
            Place::Item(at, index) => write!(f, "{at}[{index}]"),
        }
    }
}

/// An object's members against `params`; `at` is where the object is (`None` at the top).
fn read_members<const KEEP: bool>(
    params: &'static [Param],
    members: &serde_json::Map<String, Value>,
    at: Option<&Place<'_>>,
    problems: &mut Vec<String>,
) -> Vec<(&'static str, Option<Argument>)> {
    let mut read = Vec::with_capacity(if KEEP { params.len() } else { 0 });
    for param in params {
        let place = Place::Member(at, param.name);
        let value = match members.get(param.name) {
            None | Some(Value::Null) if !param.required => None,
            None => {
                problems.push(format!("`{place}` is required"));
                None
            }
            Some(value) => read_value::<KEEP>(param.shape, value, &place, problems),
        };
        if KEEP {
            read.push((param.name, value));
        }
    }
    if members
        .keys()
        .any(|key| !params.iter().any(|p| p.name == key))
    {
        let names: Vec<String> = params.iter().map(|p| format!("`{}`", p.name)).collect();
        problems.push(match (at, names.is_empty()) {
            (Some(at), true) => format!("`{at}` takes no members"),
            (Some(at), false) => format!("`{at}` takes only these members: {}", names.join(", ")),
            (None, true) => "unknown argument: the tool takes no arguments".to_owned(),
            (None, false) => format!("unknown argument: the parameters are {}", names.join(", ")),
        });
    }
    read
}

fn read_value<const KEEP: bool>(
    shape: Shape,
    value: &Value,
    place: &Place<'_>,
    problems: &mut Vec<String>,
) -> Option<Argument> {
    let read = match (shape, value) {
        (Shape::String, Value::String(text)) => Some(TypedValue::String(kept::<KEEP>(text))),
        (Shape::Integer, Value::Number(n)) => n.as_i64().map(TypedValue::Integer),
        (Shape::Number, Value::Number(n)) => n.as_f64().map(TypedValue::Number),
        (Shape::Boolean, Value::Bool(b)) => Some(TypedValue::Boolean(*b)),
        (Shape::Enum(choices), Value::String(text)) => choices
            .contains(&text.as_str())
            .then(|| TypedValue::String(kept::<KEEP>(text))),
        (Shape::IntegerEnum(choices), Value::Number(n)) => n
            .as_i64()
            .filter(|n| choices.contains(n))
            .map(TypedValue::Integer),
        (Shape::Array(item), Value::Array(items)) => {
            let read: Vec<Option<Argument>> = items
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    read_value::<KEEP>(*item, value, &Place::Item(place, i), problems)
                })
                .collect();
            return read
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(Argument::Array);
        }
        (Shape::Object(params), Value::Object(members)) => {
            let before = problems.len();
            let read = read_members::<KEEP>(params, members, Some(place), problems);
            return (problems.len() == before).then_some(Argument::Object(read));
        }
        _ => None,
    };
    if read.is_none() {
        problems.push(format!("`{place}` must be {}", shape.expected()));
    }
    read.map(Argument::Value)
}

/// A string argument's text, or "" when it is only checked.
fn kept<const KEEP: bool>(text: &str) -> String {
    if KEEP { text.to_owned() } else { String::new() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    static SIZE: Shape = Shape::IntegerEnum(&[10, 12, 14]);
    static ADDRESS: &[Param] = &[
        Param {
            name: "street",
            shape: Shape::String,
            required: true,
        },
        Param {
            name: "floor",
            shape: Shape::Integer,
            required: false,
        },
    ];
    static PARAMS: &[Param] = &[
        Param {
            name: "quantity",
            shape: Shape::Integer,
            required: true,
        },
        Param {
            name: "size",
            shape: SIZE,
            required: false,
        },
        Param {
            name: "toppings",
            shape: Shape::Array(&Shape::Enum(&["ham", "olives"])),
            required: false,
        },
        Param {
            name: "address",
            shape: Shape::Object(ADDRESS),
            required: false,
        },
    ];

    fn problems(arguments: &Value) -> Vec<String> {
        read_arguments(PARAMS, arguments).unwrap_err()
    }

    #[test]
    fn each_problem_names_the_argument_and_what_it_must_be() {
        assert_eq!(
            problems(&json!({"quantity": "two"})),
            ["`quantity` must be an integer"]
        );
        assert_eq!(problems(&json!({})), ["`quantity` is required"]);
        assert_eq!(
            problems(&json!({"quantity": 1, "size": 11})),
            ["`size` must be one of the integers: 10, 12, 14"]
        );
        assert_eq!(
            problems(&json!({"quantity": 1.5, "toppings": ["ham", "cheese"]})),
            [
                "`quantity` must be an integer",
                "`toppings[1]` must be one of: ham, olives"
            ]
        );
        assert_eq!(
            problems(&json!({"quantity": 1, "address": {"floor": "3", "zip": "x"}})),
            [
                "`address.street` is required",
                "`address.floor` must be an integer",
                "`address` takes only these members: `street`, `floor`"
            ]
        );
        assert_eq!(
            problems(&json!({"quantity": 1, "colour": "red"})),
            ["unknown argument: the parameters are `quantity`, `size`, `toppings`, `address`"]
        );
        assert_eq!(problems(&json!([1])), [NOT_AN_OBJECT]);
    }

    #[test]
    fn arguments_that_fit_are_read_in_the_parameters_order() {
        let read = read_arguments(
            PARAMS,
            &json!({"address": {"street": "Main"}, "quantity": 2, "size": null}),
        )
        .unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(
            serde_json::to_string(&read[1].1).unwrap(),
            r#"{"street":"Main","floor":null}"#
        );
        assert_eq!(
            read[0],
            ("quantity", Argument::Value(TypedValue::Integer(2)))
        );
    }

    /// Every text a problem may contain: the parameters' names and choices, and the fixed
    /// wording around them.
    fn schema_words() -> Vec<String> {
        let mut words: Vec<String> = [
            "quantity", "size", "toppings", "address", "street", "floor", "ham", "olives",
        ]
        .map(str::to_owned)
        .to_vec();
        words.extend(["10", "12", "14"].map(str::to_owned));
        words
    }

    /// A problem with every parameter name, choice and array index taken out, leaving only
    /// the fixed wording.
    fn wording(problem: &str) -> String {
        let mut rest = problem.to_owned();
        for word in schema_words() {
            rest = rest
                .replace(&format!("`{word}"), "`")
                .replace(&format!(".{word}"), ".");
        }
        rest.chars().filter(|c| !c.is_ascii_digit()).collect()
    }

    proptest::proptest! {
        /// Whatever the LLM sends (keys and values that look like secrets included), no
        /// problem quotes it: each is fixed wording around names and choices from the schema.
        #[test]
        fn problems_never_quote_the_arguments(
            secret in "sk_live_[A-Za-z0-9]{12}",
            key in "[a-z_]{1,8}|sk_live_[a-z0-9]{8}",
            number in proptest::num::f64::NORMAL,
            shape in 0..6u8,
        ) {
            let value = match shape {
                0 => json!(secret),
                1 => json!([secret, number]),
                2 => json!({ key.clone(): secret }),
                3 => json!(number),
                4 => json!({"street": secret, "floor": secret, key.clone(): 1}),
                _ => json!([{ "x": secret }]),
            };
            let mut arguments = serde_json::Map::new();
            for name in ["quantity", "size", "toppings", "address", key.as_str()] {
                arguments.insert(name.to_owned(), value.clone());
            }
            let arguments = Value::Object(arguments);
            // The dispatcher's check finds exactly what reading finds.
            proptest::prop_assert_eq!(
                check_arguments(PARAMS, &arguments),
                read_arguments(PARAMS, &arguments).map(drop)
            );
            let Err(problems) = read_arguments(PARAMS, &arguments) else {
                return Ok(());
            };
            let allowed = [
                "` must be an integer",
                "` must be one of the integers: , , ",
                "` must be an array of values, each one of: ham, olives",
                "` must be one of: ham, olives",
                "` must be an object",
                "` must be a string",
                "` is required",
                "` takes only these members: ``, ``",
                "unknown argument: the parameters are ``, ``, ``, ``",
            ];
            // Only names, choices and indexes from the schema fill the fixed wording.
            for problem in &problems {
                proptest::prop_assert!(!problem.contains("sk_live"), "{problem}");
                let wording = wording(problem);
                let wording = wording.replace("`[]", "`").replace("`.", "`");
                proptest::prop_assert!(
                    allowed.iter().any(|a| wording == format!("`{a}") || wording == *a),
                    "{problem} -> {wording}"
                );
            }
        }
    }
}
