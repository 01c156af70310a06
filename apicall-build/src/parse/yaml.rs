//! YAML text to a generic tree in which every node knows where it came from.
//!
//! The document's own structure is read from this tree by `parse::document` rather than by
//! `#[derive(Deserialize)]`, because serde stops at the first error and we report all of them.
//!
//! calls.yaml is YAML 1.2 with the core schema. serde-saphyr guesses scalar types with some
//! YAML 1.1 rules even when told otherwise, so after parsing, every scalar it did not read as
//! a string is read again from its own source text with the core schema's rules (`resolve`).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::{Error as YamlError, ExternalMessageSource, Location, Spanned};

use crate::diagnostic::Pos;

/// A YAML node and its location.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub value: Value,
    pub pos: Pos,
    /// Byte range of the node's source text, when the parser knows it.
    pub bytes: Option<(usize, usize)>,
    /// A number, boolean or null as the user wrote it (`1.0`, `0x1F`, `TRUE`): messages quote
    /// this rather than our reading of it, which may have lost digits.
    pub written: Option<String>,
    /// Byte range of the text that gives the node its value: for an alias, the anchored value.
    defined: Option<(usize, usize)>,
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

    /// A whole number with more digits than `Value::Int` holds, kept as an approximate float.
    pub(crate) fn is_huge_int(&self) -> bool {
        matches!(self.value, Value::Float(_))
            && self
                .written
                .as_deref()
                .is_some_and(|text| core_int(text).is_some())
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let location = spanned.referenced;
        Ok(Node {
            value: spanned.value,
            pos: Pos::new(
                u32::try_from(location.line()).unwrap_or(u32::MAX),
                u32::try_from(location.column()).unwrap_or(u32::MAX),
            ),
            bytes: byte_range(&location),
            written: None,
            defined: byte_range(&spanned.defined),
        })
    }
}

fn byte_range(location: &Location) -> Option<(usize, usize)> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    Some((start, len))
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

/// Gives every scalar serde-saphyr did not read as a string the core schema's reading of its
/// source text. Strings need no second look: quoted scalars are strings in every schema, and
/// the options below keep serde-saphyr from typing plain text the core schema leaves as text.
fn resolve(node: &mut Node, source: &str) {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| resolve(item, source)),
        Value::Map(entries) => {
            for (key, value) in entries {
                resolve(key, source);
                resolve(value, source);
            }
        }
        Value::Str(_) => {}
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            resolve_scalar(node, source);
        }
    }
}

fn resolve_scalar(node: &mut Node, source: &str) {
    let Some(text) = node
        .defined
        .and_then(|(start, len)| source.get(start..start.checked_add(len)?))
    else {
        return;
    };
    // A tag chose the type explicitly, and folded multi-line text is not a number: keep
    // serde-saphyr's reading of both.
    if text.starts_with(['!', '&', '*']) || text.contains(['\n', '\r']) {
        return;
    }
    node.value = core_scalar(text);
    node.written = Some(text.to_owned());
}

/// A plain scalar read with the YAML 1.2 core schema (YAML 1.2.2, section 10.3.2).
fn core_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => core_number(text).unwrap_or_else(|| Value::Str(text.to_owned())),
    }
}

fn core_number(text: &str) -> Option<Value> {
    if let Some((digits, radix)) = core_int(text) {
        return Some(i128::from_str_radix(digits, radix).map_or_else(
            // Past i128 the value is kept approximately; `written` keeps every digit.
            |_| Value::Float(approximate(digits, radix)),
            Value::Int,
        ));
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if is_core_float(unsigned) {
        return text.parse().ok().map(Value::Float);
    }
    None
}

/// The digits (with any sign) and radix of a core schema integer: `[-+]?[0-9]+`, `0o[0-7]+`
/// or `0x[0-9a-fA-F]+`.
fn core_int(text: &str) -> Option<(&str, u32)> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        (text, 10)
    };
    let unsigned = match radix {
        10 => digits.strip_prefix(['-', '+']).unwrap_or(digits),
        _ => digits,
    };
    let valid = !unsigned.is_empty() && unsigned.chars().all(|c| c.is_digit(radix));
    valid.then_some((digits, radix))
}

fn approximate(digits: &str, radix: u32) -> f64 {
    let magnitude = digits
        .chars()
        .filter_map(|c| c.to_digit(radix))
        .fold(0.0, |n, digit| n * f64::from(radix) + f64::from(digit));
    if digits.starts_with('-') {
        -magnitude
    } else {
        magnitude
    }
}

/// `( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, the sign already removed.
fn is_core_float(text: &str) -> bool {
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && all_digits(digits)
    });
    mantissa_ok && exponent_ok
}

/// What went wrong reading the YAML itself (before its meaning is looked at).
pub(crate) struct SyntaxError {
    pub pos: Option<Pos>,
    /// How many characters to underline at `pos`.
    pub width: usize,
    pub message: String,
    pub help: Option<String>,
}

impl SyntaxError {
    fn new(pos: Option<Pos>, message: impl Into<String>) -> Self {
        Self {
            pos,
            width: 1,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Parses YAML text into a located tree. An empty document (or one of only comments) is `Null`.
pub(crate) fn parse(source: &str) -> Result<Node, SyntaxError> {
    if lines(source).all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    }) {
        return Ok(Node {
            value: Value::Null,
            pos: Pos::new(1, 1),
            bytes: None,
            written: None,
            defined: None,
        });
    }
    let mut root = serde_saphyr::from_str_with_options::<Node>(source, options())
        .map_err(|error| explain(&error, source))?;
    resolve(&mut root, source);
    Ok(root)
}

/// Deserializing a node recurses once per level, so nesting is bounded well below what any
/// stack (a test thread's 2 MiB included) can take; a calls.yaml needs a dozen levels. With
/// serde-saphyr optimised, a level takes about 50 KB of stack: 41 levels overflowed 2 MiB.
const MAX_NESTING: usize = 32;

/// YAML values (scalars, lists and mappings, counting each use of an alias as a copy) in one
/// file. A realistic call is 15 to 40 of them, so 50,000 calls fit; an alias bomb stops here
/// at a few hundred megabytes of memory at most.
const MAX_VALUES: usize = 2_500_000;

/// Aliases (`*name`) in one file: one per call (shared headers, say) fits many times over.
const MAX_ALIASES: usize = 500_000;

fn options() -> serde_saphyr::Options {
    // Both are #[non_exhaustive]: start from the defaults and set what matters.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_NESTING;
    budget.flow_nesting_limit = MAX_NESTING;
    budget.max_nodes = MAX_VALUES;
    // Each value is at most a start and an end event, each alias one more: these two can
    // only be reached after `max_nodes` or `max_aliases`, whose messages say more.
    budget.max_events = 2 * MAX_VALUES + MAX_ALIASES + 16;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_recorded_anchor_events = 2 * MAX_VALUES;
    // Many uses of one anchor (a shared `headers:` in every call) is normal in calls.yaml;
    // the value count above is what bounds an alias bomb.
    budget.enforce_alias_anchor_ratio = false;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 2 * MAX_VALUES + 16;
    options.strict_booleans = true;
    options.underscored_numbers_as_strings = true;
    // `.inf` reaches the validator, which says where JSON cannot hold it.
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    options.with_snippet = false;
    options
}

/// serde-saphyr's error in words for the author of calls.yaml.
fn explain(error: &YamlError, source: &str) -> SyntaxError {
    let pos = error.location().and_then(|location| {
        let line = u32::try_from(location.line()).ok()?;
        let col = u32::try_from(location.column()).ok()?;
        (line > 0).then_some(Pos::new(line, col.max(1)))
    });
    let fallback = || SyntaxError::new(pos, format!("invalid YAML: {}", first_line(error)));
    match original(error) {
        YamlError::Budget { breach, .. } => over_budget(pos, breach),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. } => too_many_values(pos),
        YamlError::MultipleDocuments { .. } => second_document(source, pos),
        YamlError::RecursiveReferencesRequireWeakTypes { .. } => recursive_alias(source, pos),
        YamlError::UnknownAnchor { .. } => unknown_anchor(source, pos),
        YamlError::ExternalMessage {
            source: external, ..
        } => match &**external {
            ExternalMessageSource::Parser(scan) => {
                parser_error(scan.kind(), source, pos).unwrap_or_else(fallback)
            }
            _ => fallback(),
        },
        _ => fallback(),
    }
}

/// The error itself, without the wrappers that add a snippet or an alias's other location.
fn original(error: &YamlError) -> &YamlError {
    match error.without_snippet() {
        YamlError::AliasError { error, .. } => original(error),
        other => other,
    }
}

fn over_budget(pos: Option<Pos>, breach: &BudgetBreach) -> SyntaxError {
    match breach {
        BudgetBreach::Depth { .. } => too_deep(pos),
        BudgetBreach::Nodes { .. }
        | BudgetBreach::Events { .. }
        | BudgetBreach::RecordedAnchorEvents { .. } => too_many_values(pos),
        BudgetBreach::Aliases { .. } => SyntaxError::new(
            pos,
            format!(
                "calls.yaml uses more than {} aliases (`*name`)",
                thousands(MAX_ALIASES)
            ),
        ),
        BudgetBreach::Anchors { .. } => SyntaxError::new(
            pos,
            format!(
                "calls.yaml defines more than {} anchors (`&name`)",
                thousands(MAX_ALIASES)
            ),
        ),
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            SyntaxError::new(
                pos,
                "calls.yaml holds more than 64 MiB of text (each use of an alias counts)",
            )
        }
        BudgetBreach::MergeKeys { .. } => {
            SyntaxError::new(pos, "calls.yaml uses more than 10,000 merge keys (`<<`)")
        }
        _ => SyntaxError::new(pos, "calls.yaml is too large to read"),
    }
}

fn too_many_values(pos: Option<Pos>) -> SyntaxError {
    SyntaxError::new(
        pos,
        format!(
            "calls.yaml has more than {} YAML values (each use of an alias counts)",
            thousands(MAX_VALUES)
        ),
    )
    .help("an alias (`*name`) inside an anchored value multiplies: check the aliases near here")
}

fn too_deep(pos: Option<Pos>) -> SyntaxError {
    SyntaxError::new(
        pos,
        format!("calls.yaml is nested deeper than {MAX_NESTING} levels"),
    )
    .help("a calls.yaml needs a dozen levels; look for an unclosed `[` or `{`")
}

/// `2500000` as `2,500,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Points at the `---` that starts the second document; serde-saphyr points at its content.
fn second_document(source: &str, pos: Option<Pos>) -> SyntaxError {
    let upto = pos.map_or(usize::MAX, |pos| pos.line as usize);
    let first_content = lines(source).position(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && !is_document_start(line)
    });
    let marker = lines(source)
        .take(upto)
        .enumerate()
        .filter(|(index, line)| is_document_start(line) && Some(*index) > first_content)
        .last();
    let help = "remove this line and what follows, or move what follows into the document above";
    match marker.and_then(|(index, _)| u32::try_from(index + 1).ok()) {
        Some(line) => SyntaxError {
            width: 3,
            ..SyntaxError::new(
                Some(Pos::new(line, 1)),
                "calls.yaml is one document; this `---` starts a second",
            )
            .help(help)
        },
        None => SyntaxError::new(pos, "calls.yaml is one document; this starts a second")
            .help("remove the `---` or `...` above this line"),
    }
}

fn is_document_start(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn recursive_alias(source: &str, pos: Option<Pos>) -> SyntaxError {
    let alias = pos.and_then(|pos| word_at(source, pos));
    let message = match &alias {
        Some(alias) => {
            format!("`{alias}` is used inside the value it names, which would never end")
        }
        None => "this alias is used inside the value it names, which would never end".to_owned(),
    };
    SyntaxError {
        width: alias.as_deref().map_or(1, |alias| alias.chars().count()),
        ..SyntaxError::new(pos, message).help("write the inner value out instead of the alias")
    }
}

fn unknown_anchor(source: &str, pos: Option<Pos>) -> SyntaxError {
    let Some(alias) = pos.and_then(|pos| word_at(source, pos)) else {
        return SyntaxError::new(pos, "this alias names no anchor");
    };
    let name = alias.trim_start_matches('*');
    SyntaxError {
        width: alias.chars().count(),
        ..SyntaxError::new(pos, format!("`{alias}` names no anchor")).help(format!(
            "mark the value to reuse with `&{name}` before this line"
        ))
    }
}

/// The alias or other token that starts at `pos`.
fn word_at(source: &str, pos: Pos) -> Option<String> {
    let line = lines(source).nth((pos.line as usize).checked_sub(1)?)?;
    let word: String = line
        .chars()
        .skip((pos.col as usize).saturating_sub(1))
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
        .collect();
    word.starts_with('*').then_some(word)
}

/// Parser errors with a likely cause serde-saphyr's message does not name.
fn parser_error(kind: &ErrorKind, source: &str, pos: Option<Pos>) -> Option<SyntaxError> {
    let pos = pos?;
    match kind {
        ErrorKind::TabNotAllowed
        | ErrorKind::TabInBlockIndentation
        | ErrorKind::TabInIndentation
        | ErrorKind::TabInPlainScalar
        | ErrorKind::TabAtBlockScalarStart => tab_in_indentation(source, pos),
        ErrorKind::RecursionLimitExceeded => Some(too_deep(Some(pos))),
        _ => unquoted_braces(source, pos),
    }
}

/// serde-saphyr reports a tab at the token before it, often the end of the line above; the
/// culprit is the first tab in the indentation of a line from there on.
fn tab_in_indentation(source: &str, pos: Pos) -> Option<SyntaxError> {
    let (index, col) = lines(source)
        .enumerate()
        .skip((pos.line as usize).saturating_sub(1))
        .take(3)
        .find_map(|(index, line)| {
            let rest = line.trim_start_matches([' ', '\t', '-']);
            let indent = &line[..line.len() - rest.len()];
            Some((index, indent.find('\t')?)).filter(|_| !rest.trim().is_empty())
        })?;
    let pos = Pos::new(u32::try_from(index + 1).ok()?, u32::try_from(col + 1).ok()?);
    Some(
        SyntaxError::new(Some(pos), "YAML indentation must be spaces; this is a tab")
            .help("replace the tab with spaces"),
    )
}

/// `url: {{base}}/x`: a plain value starting with `{` is a flow mapping to YAML, so a template
/// there must be quoted. serde-saphyr stops somewhere after the braces, on that line or the
/// next.
fn unquoted_braces(source: &str, pos: Pos) -> Option<SyntaxError> {
    let at = (pos.line as usize).checked_sub(1)?;
    let (index, line, start) = [Some(at), at.checked_sub(1)]
        .into_iter()
        .flatten()
        .find_map(|index| {
            let line = lines(source).nth(index)?;
            Some((index, line, braces_start(line)?))
        })?;
    let lead = line[..start].trim();
    let value = line[start..]
        .split(" #")
        .next()
        .unwrap_or_default()
        .trim_end();
    let pos = Pos::new(
        u32::try_from(index + 1).ok()?,
        u32::try_from(line[..start].chars().count() + 1).ok()?,
    );
    Some(
        SyntaxError::new(Some(pos), "YAML reads this as a mapping; quote it")
            .help(format!("write `{lead} {}`", quoted(value))),
    )
}

/// Where a value that starts with `{{` begins on this line, if one does.
fn braces_start(line: &str) -> Option<usize> {
    line.match_indices("{{").map(|(i, _)| i).find(|&i| {
        let before = &line[..i];
        before.ends_with([' ', '\t']) && before.trim_end().ends_with([':', '-'])
    })
}

/// `text` as a YAML quoted scalar that reads back as `text`.
pub(crate) fn quoted(text: &str) -> String {
    if text.contains(['"', '\\']) {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        format!("\"{text}\"")
    }
}

/// serde-saphyr's own words for errors we have no better ones for, minus its location (we
/// draw ours) and advice meant for Rust callers of serde-saphyr.
fn first_line(error: &YamlError) -> String {
    let rendered = error.to_string();
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

/// The source's lines, split at every YAML 1.2 line break: LF, CRLF and a lone CR. Like
/// `str::lines`, a break at the very end does not start an empty last line.
pub(crate) fn lines(source: &str) -> impl Iterator<Item = &str> {
    let body = source.strip_suffix('\n').unwrap_or(source);
    body.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

/// Byte offsets where lines start: after each LF, each CRLF and each lone CR.
fn line_starts(source: &str) -> Vec<usize> {
    let bytes = source.as_bytes();
    std::iter::once(0)
        .chain(bytes.iter().enumerate().filter_map(|(i, &b)| match b {
            b'\n' => Some(i + 1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => Some(i + 1),
            _ => None,
        }))
        .collect()
}

/// Converts byte offsets into line and column, for positions inside a scalar.
pub(crate) struct LineIndex<'s> {
    source: &'s str,
    line_starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Self {
            source,
            line_starts: line_starts(source),
        }
    }

    pub(crate) fn source(&self) -> &'s str {
        self.source
    }

    /// Line `line` (1-based) without its line break (LF, CRLF or a lone CR).
    pub(crate) fn line(&self, line: u32) -> Option<&'s str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)?;
        if start >= self.source.len() {
            return None;
        }
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.source.len());
        let text = self.source.get(start..end)?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        Some(text.strip_suffix('\r').unwrap_or(text))
    }

    pub(crate) fn pos_at(&self, byte: usize) -> Pos {
        let line = self.line_starts.partition_point(|&start| start <= byte);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn count(node: &Node) -> usize {
        1 + match &node.value {
            Value::Seq(items) => items.iter().map(count).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
            _ => 0,
        }
    }

    #[test]
    fn fifty_thousand_realistic_calls_fit_the_value_budget() {
        let call = "- name: lookup_customer
  description: Look up the caller by phone when the call starts
  url: https://crm.example.com/customers/{{collected.id}}
  method: GET
  timeout_ms: 3000
  headers: { Authorization: 'Bearer {{api_key}}' }
  query: { phone: '{{caller_phone}}' }
  parameters:
    - { name: id, type: string, description: The id, required: true }
  response_variables:
    - { path: customer.name, variable: customer_name }
    - { path: customer.tier, variable: tier }
";
        let Ok(list) = parse(call) else {
            panic!("the call parses")
        };
        // The list itself is not part of a call.
        let per_call = count(&list) - 1;
        assert_eq!(per_call, 42);
        assert!(50_000 * per_call < MAX_VALUES);
    }

    #[test]
    fn lines_split_at_lf_crlf_and_lone_cr() {
        let split: Vec<&str> = lines("a\nb\r\nc\rd\r\re\n").collect();
        assert_eq!(split, ["a", "b", "c", "d", "", "e"]);
        let index = LineIndex::new("a\rbc\r\nd");
        assert_eq!(index.pos_at(3), Pos::new(2, 2));
        assert_eq!(index.pos_at(6), Pos::new(3, 1));
    }

    #[test]
    fn core_schema_scalars() {
        let read = |text: &str| format!("{:?}", core_scalar(text));
        assert_eq!(read("0o17"), "Int(15)");
        assert_eq!(read("0x1F"), "Int(31)");
        assert_eq!(read("-12"), "Int(-12)");
        assert_eq!(read("1."), "Float(1.0)");
        assert_eq!(read(".5e1"), "Float(5.0)");
        for text in [
            "1_000", "0b1", "1:30", "yes", "n", "on", "-0x1", "0o8", ".", "1e",
        ] {
            assert_eq!(read(text), format!("Str({text:?})"));
        }
    }
}
