//! A call's `messages:` (what a voice agent says while the call runs) and `execution:`.

use super::values::{key_text, mapping, text, unreachable_key};
use super::*;

/// `messages:` of a call: lines to speak when it starts, when it is slow, and when it fails.
#[derive(Debug)]
pub(crate) struct MessagesDecl {
    pub start: Option<Text>,
    pub delayed: Option<DelayedDecl>,
    pub failed: Option<Text>,
}

/// `delayed:` under `messages:`.
#[derive(Debug)]
pub(crate) struct DelayedDecl {
    /// The `delayed:` key: missing fields are reported here.
    pub key: Text,
    pub after_ms: Option<(i128, Pos)>,
    pub say: Option<Text>,
    /// The keys it has, valid or not: a key with a bad value is not also "missing".
    pub present: Vec<&'static str>,
}

pub(crate) const MESSAGE_KEYS: &[&str] = &["start", "delayed", "failed"];
pub(crate) const DELAYED_KEYS: &[&str] = &["after_ms", "say"];

/// Reads `messages:`.
pub(super) fn read_messages(value: &Node, report: &mut Reporter<'_>) -> MessagesDecl {
    let mut messages = MessagesDecl {
        start: None,
        delayed: None,
        failed: None,
    };
    for (key, value) in mapping(value, "`messages`", report).unwrap_or_default() {
        match key_text(key, MESSAGE_KEYS, report) {
            Some("start") => messages.start = text(value, "`start`", report),
            Some("failed") => messages.failed = text(value, "`failed`", report),
            Some("delayed") => messages.delayed = Some(read_delayed(key, value, report)),
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    messages
}

fn read_delayed(key: &Node, value: &Node, report: &mut Reporter<'_>) -> DelayedDecl {
    let mut delayed = DelayedDecl {
        key: scalar_text(key, "delayed".to_owned()),
        after_ms: None,
        say: None,
        present: Vec::new(),
    };
    for (key, value) in mapping(value, "`delayed`", report).unwrap_or_default() {
        let known = key_text(key, DELAYED_KEYS, report);
        delayed.present.extend(known);
        match known {
            Some("after_ms") => {
                delayed.after_ms = whole_number(
                    value,
                    "`after_ms`",
                    "a whole number of milliseconds",
                    "for example `after_ms: 1500`",
                    report,
                );
            }
            Some("say") => delayed.say = text(value, "`say`", report),
            Some(_) => unreachable_key(key, report),
            None => {}
        }
    }
    delayed
}
