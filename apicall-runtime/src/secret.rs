//! A string that never shows itself by accident.

use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret value, such as an API key.
///
/// `Debug` prints `Secret("***")` and there is no `Display`, so a secret cannot end up in a
/// log line, an error message or a prompt without someone writing [`Secret::expose`].
/// Serializing writes `null` — a persisted conversation holds no secrets — unless inside
/// [`with_exposed_secrets`]. Deserializing `null` gives an empty secret, to be set again.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether there is no secret (as after restoring a serialized conversation).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

thread_local! {
    static EXPOSE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `serialize` with secrets written in clear, for storage you trust to keep them (an
/// encrypted store, say). Everywhere else they serialize as `null`.
pub fn with_exposed_secrets<T>(serialize: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            EXPOSE.with(|expose| expose.set(self.0));
        }
    }
    let _reset = Reset(EXPOSE.with(|expose| expose.replace(true)));
    serialize()
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if EXPOSE.with(Cell::get) {
            serializer.serialize_str(&self.0)
        } else {
            serializer.serialize_none()
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(
            Option::<String>::deserialize(deserializer)?.unwrap_or_default(),
        ))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new("sk-live-123");
        assert_eq!(format!("{secret:?}"), "Secret(\"***\")");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(\"***\"))");
        assert_eq!(secret.expose(), "sk-live-123");
    }

    #[test]
    fn deserializes_from_a_plain_string_or_null() {
        let secret: Secret = serde_json::from_str("\"k\"").unwrap();
        assert_eq!(secret.expose(), "k");
        let secret: Secret = serde_json::from_str("null").unwrap();
        assert!(secret.is_empty());
    }

    #[test]
    fn serializes_as_null_unless_exposed_on_purpose() {
        let secret = Secret::new("sk-live-123");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "null");
        let exposed = with_exposed_secrets(|| serde_json::to_string(&secret).unwrap());
        assert_eq!(exposed, "\"sk-live-123\"");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "null");
    }
}
