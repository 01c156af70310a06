//! Located, human-readable errors: one `Display` shared by the macro, build.rs and the CLI.

use std::fmt;

/// A position in the YAML source: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
}

impl Pos {
    /// A position from 1-based line and column.
    #[must_use]
    pub const fn new(line: u32, col: u32) -> Self {
        Self { line, col }
    }
}

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
        writeln!(f, "error: {}", self.message)?;
        let Some(pos) = self.pos else {
            write!(f, "  --> {}", self.file)?;
            if let Some(help) = &self.help {
                write!(f, "\n  = help: {help}")?;
            }
            return Ok(());
        };
        let gutter = " ".repeat(pos.line.to_string().len());
        write!(f, "{gutter}--> {}", self.location())?;
        if let Some(line) = &self.source_line {
            // Tabs would misalign the caret, so show them as single spaces.
            let shown = line.replace('\t', " ");
            let indent = " ".repeat(pos.col.saturating_sub(1) as usize);
            let carets = "^".repeat(self.width.max(1));
            write!(
                f,
                "\n{gutter} |\n{} | {shown}\n{gutter} | {indent}{carets}",
                pos.line
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n{gutter} = help: {help}")?;
        }
        Ok(())
    }
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
    source: &'s str,
    found: Vec<Diagnostic>,
}

impl<'s> Reporter<'s> {
    pub(crate) fn new(file: &str, source: &'s str) -> Self {
        Self {
            file: file.to_owned(),
            source,
            found: Vec::new(),
        }
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
        let source_line = (pos.line > 0)
            .then(|| self.source.lines().nth(pos.line as usize - 1))
            .flatten()
            .map(str::to_owned);
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
        .map(|(_, best)| format!("did you mean `{best}`?"))
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
