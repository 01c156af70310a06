//! Typed values from the located YAML tree: mappings, lists, strings, booleans and known keys,
//! each mistake reported where it is (and an unquoted `{{x}}` recognised for what it is).

use super::*;

pub(super) fn mapping<'n>(
    node: &'n Node,
    what: &str,
    report: &mut Reporter<'_>,
) -> Option<&'n [(Node, Node)]> {
    match &node.value {
        Value::Map(entries) => Some(entries),
        Value::Null => Some(&[]),
        _ => {
            report.error(
                node.pos,
                format!(
                    "{what} must be a mapping of `key: value`, found {}",
                    describe(node)
                ),
            );
            None
        }
    }
}

/// Entries of a list that are not mappings reported one by one, up to this many; the rest
/// are counted in one more error. A list of 10,000 numbers is one mistake (usually by
/// whatever generated the file), and 10,000 errors would bury it.
const MAX_ENTRY_ERRORS: usize = 20;

/// The entries of the list `key` that are mappings, with their fields. Each other entry is one
/// error and no entry, so it is not also missing every required field.
pub(super) fn entries_of<'n>(
    node: &'n Node,
    key: &str,
    what: &str,
    report: &mut Reporter<'_>,
) -> Vec<(&'n Node, &'n [(Node, Node)])> {
    let mut entries = Vec::new();
    let mut wrong = Vec::new();
    for item in list(node, key, report) {
        match &item.value {
            Value::Map(fields) => entries.push((item, fields.as_slice())),
            _ => wrong.push(item),
        }
    }
    for item in wrong.iter().take(MAX_ENTRY_ERRORS) {
        report.error(
            item.pos,
            format!(
                "{what} must be a mapping of `key: value`, found {}",
                describe(item)
            ),
        );
    }
    if let Some(first_unreported) = wrong.get(MAX_ENTRY_ERRORS) {
        let more = wrong.len() - MAX_ENTRY_ERRORS;
        report
            .error(
                first_unreported.pos,
                format!("{more} more entries of `{key}` from here on are not mappings either"),
            )
            .help(format!(
                "each entry of `{key}` is `key: value` lines under a `- `"
            ));
    }
    entries
}

pub(super) fn list<'n>(node: &'n Node, what: &str, report: &mut Reporter<'_>) -> &'n [Node] {
    match &node.value {
        Value::Seq(items) => items,
        Value::Null => &[],
        _ => {
            report
                .error(
                    node.pos,
                    format!("`{what}` must be a list, found {}", describe(node)),
                )
                .help("start each entry on its own line with `- `");
            &[]
        }
    }
}

/// A mapping of names to template strings (headers, query). Plain numbers and booleans are
/// accepted as their text, since `page: 1` reads naturally.
pub(super) fn string_map(node: &Node, what: &str, report: &mut Reporter<'_>) -> Vec<(Text, Text)> {
    let mut out = Vec::new();
    for (key, value) in mapping(node, what, report).unwrap_or_default() {
        let key = text(key, "a name", report);
        let value = scalar(value, "a value", report);
        if let (Some(key), Some(value)) = (key, value) {
            out.push((key, value));
        }
    }
    out
}

/// A scalar as text: strings as they are, numbers and booleans as written.
pub(super) fn scalar(node: &Node, what: &str, report: &mut Reporter<'_>) -> Option<Text> {
    let shown = |value: String| node.written.clone().unwrap_or(value);
    match &node.value {
        Value::Int(n) => Some(scalar_text(node, shown(n.to_string()))),
        Value::Float(n) => Some(scalar_text(node, shown(n.to_string()))),
        Value::Bool(b) => Some(scalar_text(node, shown(b.to_string()))),
        _ => text(node, what, report),
    }
}

/// `value` as a `Text` at `node`'s place in the source.
pub(crate) fn scalar_text(node: &Node, value: String) -> Text {
    Text {
        anchors: Anchors::new(&value, node.in_source.clone()),
        value,
        pos: node.pos,
    }
}

pub(super) fn text(node: &Node, what: &str, report: &mut Reporter<'_>) -> Option<Text> {
    if let Value::Str(value) = &node.value {
        return Some(scalar_text(node, value.clone()));
    }
    if let Some(template) = unquoted_template(node) {
        report
            .error(node.pos, "YAML reads this as a mapping; quote it")
            .help(format!("write `{}`", quoted(&template)));
    } else {
        report.error(
            node.pos,
            format!("{what} must be a string, found {}", describe(node)),
        );
    }
    None
}

pub(super) fn boolean(node: &Node, what: &str, report: &mut Reporter<'_>) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => {
            report
                .error(
                    node.pos,
                    format!("{what} must be `true` or `false`, found {}", describe(node)),
                )
                .help("write `true` or `false` without quotes");
            None
        }
    }
}

/// A mapping key that must be one of `known`; reports unknown keys with the nearest known one.
pub(super) fn key_text<'k>(
    key: &Node,
    known: &[&'k str],
    report: &mut Reporter<'_>,
) -> Option<&'k str> {
    let Some(given) = key.as_str() else {
        report.error(
            key.pos,
            format!("a key must be a name, found {}", describe(key)),
        );
        return None;
    };
    if let Some(found) = known.iter().find(|k| **k == given) {
        return Some(found);
    }
    let help = did_you_mean(given, known.iter().copied()).unwrap_or_else(|| {
        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        format!("the keys allowed here are {}", list.join(", "))
    });
    report
        .error_spanning(
            key.pos,
            given.chars().count(),
            format!("unknown key `{given}`"),
        )
        .help(help);
    None
}

/// `key_text` returned a key it knows but the caller forgot to handle: a bug in this crate,
/// reported as an error rather than a panic so the user still gets an answer.
pub(super) fn unreachable_key(key: &Node, report: &mut Reporter<'_>) {
    report.error(
        key.pos,
        "internal error in apicall: this key was accepted but not read; please report it",
    );
}

/// `{{name}}` unquoted, which YAML reads as a mapping whose one key is the mapping `{name}`.
pub(crate) fn unquoted_template(node: &Node) -> Option<String> {
    let Value::Map(outer) = &node.value else {
        return None;
    };
    let [(key, value)] = outer.as_slice() else {
        return None;
    };
    let Value::Map(inner) = &key.value else {
        return None;
    };
    let [(name, inner_value)] = inner.as_slice() else {
        return None;
    };
    let empty = |node: &Node| matches!(node.value, Value::Null);
    (empty(value) && empty(inner_value))
        .then(|| format!("{{{{{}}}}}", name.as_str().unwrap_or("...")))
}

/// A short description of a node for "found ..." messages, quoting numbers as written.
pub(crate) fn describe(node: &Node) -> String {
    let written = |value: String| node.written.clone().unwrap_or(value);
    match &node.value {
        Value::Str(s) if s.chars().count() <= 40 => format!("the string `{s}`"),
        Value::Int(n) => format!("the number `{}`", written(n.to_string())),
        Value::Float(_) if node.is_huge_int() => {
            format!("the number `{}`", written(String::new()))
        }
        Value::Float(n) => format!("`{}`, a decimal", written(n.to_string())),
        Value::Bool(b) => format!("`{}`", written(b.to_string())),
        other => other.kind().to_owned(),
    }
}
