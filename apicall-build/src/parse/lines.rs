//! Line breaks as YAML 1.2 counts them (LF, CRLF and a lone CR), shared by positions and by
//! the source lines diagnostics print, so the two never disagree.

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

    #[test]
    fn lines_split_at_lf_crlf_and_lone_cr() {
        let split: Vec<&str> = lines("a\nb\r\nc\rd\r\re\n").collect();
        assert_eq!(split, ["a", "b", "c", "d", "", "e"]);
        let index = LineIndex::new("a\rbc\r\nd");
        assert_eq!(index.pos_at(3), Pos::new(2, 2));
        assert_eq!(index.pos_at(6), Pos::new(3, 1));
    }
}
