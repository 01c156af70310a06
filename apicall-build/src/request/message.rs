//! A call's `messages:`, lowered: each line a template over the call's values, rendered as the
//! generated dispatcher renders it (`emit::prompt::message_expr`), so `apicall mcp` says what
//! generated code says.

use super::{Shape, Source, ValueRef};

/// What a voice agent says while a call runs (its `messages:`). Each line is rendered for the
/// call's values when the call starts, as generated code renders it before sending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Messages {
    /// Said as the call starts.
    pub start: Option<Message>,
    /// Said once if the call is still running after a delay.
    pub delayed: Option<Delayed>,
    /// Said when the call fails.
    pub failed: Option<Message>,
}

/// The `delayed:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delayed {
    /// How long after the start, in milliseconds (below the call's timeout).
    pub after_ms: u64,
    /// What to say.
    pub say: Message,
}

/// A message line: text with values, defaults and conditions, like a prompt's template. It
/// reads context variables, the call's own parameters (`{{collected.x}}`) and `api.*` values;
/// never a secret, an array or an object (calls.yaml is refused otherwise).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message(pub Vec<MessagePiece>);

/// A piece of a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessagePiece {
    /// Text from the YAML.
    Text(String),
    /// `{{x}}`: the value's text (see [`Scalar`]), or nothing when it has no value.
    Value(ValueRef),
    /// `{{x | default: "text"}}`: the value's text, or this text when it has no value (an
    /// empty string is a value).
    ValueOr(ValueRef, String),
    /// `{{#if x}}then{{else}}otherwise{{/if}}`: `then` when the value is truthy (see
    /// [`Message::render`]), else `otherwise` (empty without `{{else}}`).
    If {
        /// The value tested.
        condition: ValueRef,
        /// Rendered when it is truthy.
        then: Message,
        /// Rendered when it is not.
        otherwise: Message,
    },
}

/// A value as a message reads it: what the caller of [`Message::render`] looks up.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Scalar<'a> {
    /// A string, or a string enum's value: shown as it is.
    String(&'a str),
    /// An integer, or an integer enum's value: shown in Rust's `Display` form (`-7`).
    Integer(i64),
    /// A number: shown in Rust's `Display` form for `f64` (`2.5`, `3`, `0.1`, never an
    /// exponent).
    Number(f64),
    /// A boolean: `true` or `false`.
    Boolean(bool),
}

impl std::fmt::Display for Scalar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::String(text) => f.write_str(text),
            Scalar::Integer(n) => std::fmt::Display::fmt(n, f),
            Scalar::Number(n) => std::fmt::Display::fmt(n, f),
            Scalar::Boolean(b) => std::fmt::Display::fmt(b, f),
        }
    }
}

impl Message {
    /// The line rendered for one call's values, byte for byte as the generated dispatcher
    /// renders it. `value` looks each value up by its [`ValueRef`] (its `source` and `name`):
    /// `None` when an optional parameter was not given or no call has extracted the `api.*`
    /// value yet; a value that is not `optional` must be found.
    ///
    /// A condition is truthy as in prompts (Handlebars' and Liquid's sense): no value,
    /// `false` and `""` are falsy (and an `api.*` string "false", which is what an API's
    /// `false` becomes in one); any number (`0` included) and any enum value are truthy.
    #[must_use]
    pub fn render<'v>(&self, value: impl Fn(&ValueRef) -> Option<Scalar<'v>>) -> String {
        let mut out = String::new();
        self.render_into(&value, &mut out);
        out
    }

    fn render_into<'v>(&self, value: &dyn Fn(&ValueRef) -> Option<Scalar<'v>>, out: &mut String) {
        use std::fmt::Write as _;
        for piece in &self.0 {
            match piece {
                MessagePiece::Text(text) => out.push_str(text),
                MessagePiece::Value(var) => {
                    if let Some(found) = value(var) {
                        let _ = write!(out, "{found}");
                    }
                }
                MessagePiece::ValueOr(var, default) => match value(var) {
                    Some(found) => {
                        let _ = write!(out, "{found}");
                    }
                    None => out.push_str(default),
                },
                MessagePiece::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    let branch = if truthy(condition, value(condition)) {
                        then
                    } else {
                        otherwise
                    };
                    branch.render_into(value, out);
                }
            }
        }
    }
}

/// Whether `{{#if}}` takes its `then` branch for `found` (`emit::prompt::truthy`).
fn truthy(condition: &ValueRef, found: Option<Scalar<'_>>) -> bool {
    match found {
        None => false,
        // An enum's value is a choice: present is true, whatever its text. A JSON `false`
        // extracted into a string reads "false", and is still false.
        Some(Scalar::String(text)) => {
            matches!(condition.shape, Shape::Enum(_))
                || !(text.is_empty() || (condition.source == Source::Api && text == "false"))
        }
        Some(Scalar::Boolean(b)) => b,
        Some(Scalar::Integer(_) | Scalar::Number(_)) => true,
    }
}
