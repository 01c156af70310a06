//! serde-saphyr's errors in words for the author of calls.yaml: budgets, a second document,
//! aliases, tabs and unquoted `{{` get a sentence, a position that points at the culprit and,
//! where it helps, the fix.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::{Error as YamlError, ExternalMessageSource};

use super::{MAX_ALIASES, MAX_NESTING, MAX_VALUES};
use crate::diagnostic::Pos;
use crate::parse::lines::lines;

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

/// serde-saphyr's error in words for the author of calls.yaml.
pub(super) fn explain(error: &YamlError, source: &str) -> SyntaxError {
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
