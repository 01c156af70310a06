//! Located, human-readable errors: one `Display` shared by the macro, build.rs and the CLI.

use std::fmt;

use crate::parse::lines::LineIndex;
pub use crate::parse::lines::Pos;

/// One mistake in a calls.yaml file, with where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (stable across checkouts, unlike an absolute path).
    pub file: String,
    /// Where the offending value starts; `None` when the problem concerns the whole file.
    pub pos: Option<Pos>,
    /// How many characters to underline at `pos` (at least one caret is drawn).
    pub width: usize,
    /// What is wrong, in plain words.
    pub message: String,
    /// A suggestion, such as the nearest valid name.
    pub help: Option<String>,
    /// The text of the offending source line, shown under the location.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// `file:line:col`, or just `file` when the diagnostic has no position.
    #[must_use]
    pub fn location(&self) -> String {
        match self.pos {
            Some(pos) => format!("{}:{}:{}", self.file, pos.line, pos.col),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages quote YAML text, which may hold terminal escapes or bidi overrides.
        writeln!(f, "error: {}", escape_text(&self.message))?;
        let help = self.help.as_deref().map(escape_text);
        let Some(pos) = self.pos else {
            write!(f, "  --> {}", escape_text(&self.file))?;
            if let Some(help) = help {
                write!(f, "\n  = help: {help}")?;
            }
            return Ok(());
        };
        let gutter = " ".repeat(pos.line.to_string().len());
        write!(f, "{gutter}--> {}", escape_text(&self.location()))?;
        if let Some(line) = &self.source_line {
            let col = usize::try_from(pos.col.saturating_sub(1)).unwrap_or(usize::MAX);
            let snippet = Snippet::new(line, col, self.width);
            let indent = " ".repeat(snippet.indent);
            let carets = "^".repeat(snippet.carets);
            write!(
                f,
                "\n{gutter} |\n{} | {}\n{gutter} | {indent}{carets}",
                pos.line, snippet.text
            )?;
        }
        if let Some(help) = help {
            write!(f, "\n{gutter} = help: {help}")?;
        }
        Ok(())
    }
}

/// The most columns of a source line shown under a diagnostic. Longer lines are cut around
/// the caret: a 20 KB one-line file with many errors once printed the whole line under each,
/// 371 MB in all.
const SHOWN_COLUMNS: usize = 200;
/// How many of those columns come before the caret when a line is cut.
const COLUMNS_BEFORE_CARET: usize = 80;

/// A source line as printed, with where the caret goes in the printed text.
struct Snippet {
    text: String,
    /// Columns before the first caret.
    indent: usize,
    /// At least one.
    carets: usize,
}

impl Snippet {
    /// `col` and `width` count characters of `line`, as `Pos` and `Diagnostic::width` do.
    fn new(line: &str, col: usize, width: usize) -> Self {
        let columns = |c: char| shown_char(c).map_or(1, |shown| shown.chars().count());
        let fits = line
            .chars()
            .try_fold(0, |total: usize, c| {
                let total = total + columns(c);
                (total <= SHOWN_COLUMNS).then_some(total)
            })
            .is_some();
        // Every character takes at least one column, so a cut window lies within these.
        let first = if fits {
            0
        } else {
            col.saturating_sub(COLUMNS_BEFORE_CARET)
        };
        let mut rest = line.chars().skip(first);
        let near: Vec<char> = if fits {
            rest.by_ref().collect()
        } else {
            rest.by_ref()
                .take(COLUMNS_BEFORE_CARET + SHOWN_COLUMNS)
                .collect()
        };
        let more_after = rest.next().is_some();
        let caret = col - first;
        let (start, end) = if fits {
            (0, near.len())
        } else {
            let mut start = caret.min(near.len());
            let mut before = 0;
            while let Some(&c) = start.checked_sub(1).and_then(|i| near.get(i)) {
                before += columns(c);
                if before > COLUMNS_BEFORE_CARET {
                    break;
                }
                start -= 1;
            }
            let mut end = start;
            let mut shown = 0;
            while let Some(&c) = near.get(end) {
                shown += columns(c);
                if shown > SHOWN_COLUMNS {
                    break;
                }
                end += 1;
            }
            (start, end)
        };
        let cut_before = first + start > 0;
        let cut_after = end < near.len() || more_after;
        let shown = near.get(start..end).unwrap_or_default();
        let mut text = String::new();
        if cut_before {
            text.push('…');
        }
        for &c in shown {
            match shown_char(c) {
                Some(escaped) => text.push_str(&escaped),
                None => text.push(c),
            }
        }
        if cut_after {
            text.push('…');
        }
        let before_caret = near.get(start..caret.min(end)).unwrap_or_default();
        // A caret past the end of the line (an error at its end) stays there, but not so far
        // out that printing the way there is itself a blow-up.
        let past_end = if cut_after {
            0
        } else {
            caret.saturating_sub(near.len()).min(SHOWN_COLUMNS)
        };
        let indent = usize::from(cut_before)
            + before_caret.iter().copied().map(columns).sum::<usize>()
            + past_end;
        let mut carets = 0;
        for i in (caret..caret.saturating_add(width.max(1))).take(SHOWN_COLUMNS) {
            match near.get(i) {
                Some(&c) if i < end => carets += columns(c),
                None if !cut_after => carets += 1,
                _ => break,
            }
        }
        Self {
            text,
            indent,
            carets: carets.max(1),
        }
    }
}

/// How a character of a source line is printed, when not as itself: tabs as one space so the
/// caret lines up, and characters that would act on the terminal instead of showing (escape
/// sequences, bidi overrides, invisible characters) as their code.
fn shown_char(c: char) -> Option<String> {
    if c == '\t' {
        return Some(" ".to_owned());
    }
    escaped_char(c)
}

/// Text from the YAML (or the file name), with control, bidi and invisible characters spelled
/// out, so that a diagnostic can neither drive the terminal nor hide or reorder what it shows.
/// Public for tools that show other untrusted text the same way (`apicall run` shows what a
/// server sent): `\u{1b}` for a control character but tab, `<U+202E>` for a bidi override.
#[must_use]
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| escaped_char(c).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match escaped_char(c) {
            Some(escaped) => out.push_str(&escaped),
            None => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `\u{1b}` for a control character other than tab, `<U+202E>` for a formatting character
/// that reorders or hides text (bidi controls, zero-width characters, byte-order mark, tags).
fn escaped_char(c: char) -> Option<String> {
    if c != '\t' && c.is_control() {
        return Some(c.escape_unicode().to_string());
    }
    let invisible = matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    );
    invisible.then(|| format!("<U+{:04X}>", u32::from(c)))
}

/// Every diagnostic found in one file, in source order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics, in source order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one source file, so every stage reports all it finds.
pub(crate) struct Reporter<'s> {
    file: String,
    /// Finds a diagnostic's line without rescanning the file (20,000 diagnostics in a
    /// 20,000-line file took seconds that way), with the same line breaks as positions use.
    lines: LineIndex<'s>,
    found: Vec<Diagnostic>,
}

impl<'s> Reporter<'s> {
    pub(crate) fn new(file: &str, source: &'s str) -> Self {
        Self {
            file: file.to_owned(),
            lines: LineIndex::new(source),
            found: Vec::new(),
        }
    }

    /// Line `line` (1-based) without its line break.
    fn line(&self, line: u32) -> Option<&'s str> {
        self.lines.line(line)
    }

    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>) -> &mut Diagnostic {
        self.error_spanning(pos, 1, message)
    }

    pub(crate) fn error_spanning(
        &mut self,
        pos: Pos,
        width: usize,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let source_line = self.line(pos.line).map(str::to_owned);
        self.found.push(Diagnostic {
            file: self.file.clone(),
            pos: (pos.line > 0).then_some(pos),
            width,
            message: message.into(),
            help: None,
            source_line,
        });
        let last = self.found.len() - 1;
        &mut self.found[last]
    }

    pub(crate) fn finish(mut self) -> Diagnostics {
        // Stable sort: source order, and the order of discovery for one position.
        self.found.sort_by_key(|d| d.pos);
        Diagnostics(self.found)
    }
}

/// `did you mean ...?` for the candidate closest to `given`, if one is close enough.
///
/// Close means a few typos away (edit distance with transpositions, case ignored, scaled to
/// the name's length), or sharing a long prefix (Jaro-Winkler), which catches truncations.
pub(crate) fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(given, candidates).map(|best| format!("did you mean `{best}`?"))
}

/// The candidate [`did_you_mean`] would suggest for `given`, if one is near enough.
pub(crate) fn nearest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given_lower = given.to_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != given)
        .filter_map(|candidate| {
            let candidate_lower = candidate.to_lowercase();
            let distance = strsim::damerau_levenshtein(&given_lower, &candidate_lower);
            let similarity = strsim::jaro_winkler(&given_lower, &candidate_lower);
            let allowed = (candidate.chars().count() / 3).max(1);
            (distance <= allowed || similarity >= 0.85).then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, best)| best)
}

impl Diagnostic {
    /// Attaches a suggestion.
    pub(crate) fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Attaches a suggestion when there is one.
    pub(crate) fn maybe_help(&mut self, help: Option<String>) -> &mut Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shown text from the caret on, in characters.
    fn at_caret(snippet: &Snippet) -> String {
        snippet.text.chars().skip(snippet.indent).collect()
    }

    #[test]
    fn escapes_control_and_invisible_characters_and_keeps_tabs_as_spaces() {
        let snippet = Snippet::new("a\u{1b}[0m\t\u{202e}b\u{7f}\u{85}c", 10, 1);
        assert_eq!(snippet.text, "a\\u{1b}[0m <U+202E>b\\u{7f}\\u{85}c");
        assert_eq!(at_caret(&snippet), "c");
        assert_eq!(
            escape_text("tab\tstays, \u{feff}bom"),
            "tab\tstays, <U+FEFF>bom"
        );
    }

    #[test]
    fn carets_cover_escaped_characters_whole() {
        let snippet = Snippet::new("x\u{200b}y", 1, 1);
        assert_eq!((snippet.indent, snippet.carets), (1, "<U+200B>".len()));
    }

    #[test]
    fn a_caret_past_the_end_of_the_line_stays_past_it() {
        let snippet = Snippet::new("ab", 3, 2);
        assert_eq!(
            (snippet.text.as_str(), snippet.indent, snippet.carets),
            ("ab", 3, 2)
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let line: String = (0..5000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for col in [0, 10, 79, 80, 81, 2500, 4990, 4999, 5000, 6000] {
            let snippet = Snippet::new(&line, col, 3);
            assert!(snippet.text.chars().count() <= SHOWN_COLUMNS + 2, "{col}");
            if let Some(expected) = line.get(col..(col + 3).min(line.len())) {
                assert!(at_caret(&snippet).starts_with(expected), "{col}");
            }
            assert_eq!(
                snippet.text.starts_with('…'),
                col > COLUMNS_BEFORE_CARET,
                "{col}"
            );
        }
    }

    #[test]
    fn long_lines_of_escaped_characters_are_cut_by_shown_width() {
        let line = "\u{202e}".repeat(1000);
        let snippet = Snippet::new(&line, 500, 1);
        assert!(snippet.text.chars().count() <= SHOWN_COLUMNS + 2);
        assert!(at_caret(&snippet).starts_with("<U+202E>"));
        assert_eq!(snippet.carets, 8);
    }

    #[test]
    fn any_line_caret_and_width_give_a_snippet() {
        let pieces = ["a", "\t", "\u{1b}", "\u{202e}", "é", "日"];
        for length in [0, 1, 7, 150, 400] {
            let line: String = (0..length).map(|i| pieces[i % pieces.len()]).collect();
            for col in [0, 1, length / 2, length, length + 5, usize::MAX] {
                for width in [0, 1, 5, 1000, usize::MAX] {
                    let snippet = Snippet::new(&line, col, width);
                    assert!(snippet.carets >= 1);
                    assert!(snippet.carets <= SHOWN_COLUMNS * 10);
                }
            }
        }
    }
}
