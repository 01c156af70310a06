//! Response paths. A path that starts with `$` is an RFC 9535 JSONPath *singular query*:
//! `$.customer.name`, `$['first.name']`, `$["a\u00e9"]`, `$.orders[-1].id`. Without the `$`
//! it is the shorthand calls.yaml has always had: `customer.name`, `items[0].eta`,
//! `"a.b".c` (a quoted key taken as written), plus the same bracket selectors.
//!
//! A response variable holds one value, so the selectors that select many (`*`, slices,
//! filters, `..`, unions) are errors that say so.

/// One step into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Segment {
    /// The member with this name.
    Key(String),
    /// The element at this index, from 0.
    Index(usize),
    /// The element this far from the end: 1 is the last (`[-1]`).
    FromEnd(usize),
}

/// The deepest path accepted. Real responses nest a handful of levels; the code generated for
/// a path, and the compiler itself, nest once per segment, so an unbounded path could exhaust
/// the stack while compiling (a fuzzed 4,000-segment path did).
pub(crate) const MAX_SEGMENTS: usize = 64;

/// The largest index magnitude RFC 9535 allows: 2^53 − 1, the integers I-JSON holds exactly.
const MAX_INDEX: u64 = (1 << 53) - 1;

/// A malformed path, with the byte offset in the path text where the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathError {
    pub offset: usize,
    pub message: String,
}

/// Parses a response path. Never panics, on any input.
pub(crate) fn parse(path: &str) -> Result<Vec<Segment>, PathError> {
    let mut parser = Parser {
        text: path,
        at: 0,
        segments: Vec::new(),
    };
    if path.starts_with('$') {
        parser.at = 1;
        parser.query()?;
    } else {
        parser.shorthand()?;
    }
    Ok(parser.segments)
}

struct Parser<'p> {
    text: &'p str,
    /// Byte offset of the next character.
    at: usize,
    segments: Vec<Segment>,
}

impl Parser<'_> {
    /// `$` then segments, each `.name` or `[selector]`, blanks allowed before each.
    fn query(&mut self) -> Result<(), PathError> {
        if self.text.len() == 1 {
            return Err(self.error(
                0,
                "the path `$` names the whole response, not a value in it",
            ));
        }
        loop {
            let before_blanks = self.at;
            self.skip_blanks();
            let Some(next) = self.peek() else {
                if self.at > before_blanks {
                    return Err(self.error(before_blanks, "the path ends with blank space"));
                }
                return Ok(());
            };
            match next {
                '.' => {
                    self.at += 1;
                    self.member_name_shorthand()?;
                }
                '[' => self.bracket()?,
                _ => return Err(self.error(self.at, "expected `.name` or `[...]` after `$`")),
            }
        }
    }

    /// `.name` after the dot (RFC 9535 `member-name-shorthand`).
    fn member_name_shorthand(&mut self) -> Result<(), PathError> {
        let start = self.at;
        match self.peek() {
            None => return Err(self.error(start - 1, "the path ends with `.`")),
            Some('.') => return Err(self.many(start - 1, "`..`")),
            Some('*') => return Err(self.many(start, "`*`")),
            Some(first) if first.is_ascii_digit() => {
                return Err(self.error(
                    start,
                    "a name after `.` cannot start with a digit: write `[0]` for an index, or \
                     `['0']` for a key",
                ));
            }
            Some(first) if !name_first(first) => {
                return Err(self.error(
                    start,
                    "after `.` comes a name of letters, digits and `_`: quote other keys as \
                     `['first-name']`",
                ));
            }
            Some(_) => {}
        }
        let end = self.text[start..]
            .find(|c: char| !name_first(c) && !c.is_ascii_digit())
            .map_or(self.text.len(), |offset| start + offset);
        self.at = end;
        if self
            .peek()
            .is_some_and(|next| !matches!(next, '.' | '[' | ' ' | '\t' | '\n' | '\r'))
        {
            return Err(self.error(
                start,
                "after `.` comes a name of letters, digits and `_`: quote other keys as \
                 `['first-name']`",
            ));
        }
        self.push(start, Segment::Key(self.text[start..end].to_owned()))
    }

    /// `[...]`: a quoted name or an index, blanks allowed inside.
    fn bracket(&mut self) -> Result<(), PathError> {
        let open = self.at;
        self.at += 1;
        self.skip_blanks();
        let segment = match self.peek() {
            None => return Err(self.error(open, "this `[` is never closed with `]`")),
            Some(quote @ ('\'' | '"')) => Segment::Key(self.string_literal(quote)?),
            Some('-' | '0'..='9') => self.index()?,
            Some(']') => {
                return Err(self.error(
                    open,
                    "empty brackets: write an index `[0]` or a name `['a']`",
                ));
            }
            Some('*') => return Err(self.many(self.at, "`[*]`")),
            Some(':') => return Err(self.many(self.at, "a slice")),
            Some('?') => return Err(self.many(self.at, "a filter")),
            Some(_) => {
                return Err(self.error(
                    self.at,
                    "expected a quoted name (`['a']`) or an index (`[0]`) in the brackets",
                ));
            }
        };
        self.skip_blanks();
        match self.peek() {
            Some(']') => self.at += 1,
            Some(':') => return Err(self.many(open, "a slice")),
            Some(',') => return Err(self.many(open, "a union (`[a, b]`)")),
            None => return Err(self.error(open, "this `[` is never closed with `]`")),
            Some(_) => return Err(self.error(self.at, "expected `]`")),
        }
        self.push(open, segment)
    }

    /// An index: `0`, or an optional `-` and digits without a leading zero, within
    /// ±(2^53 − 1). Negative indexes count from the end.
    fn index(&mut self) -> Result<Segment, PathError> {
        let start = self.at;
        let negative = self.peek() == Some('-');
        if negative {
            self.at += 1;
        }
        let digits_start = self.at;
        let digits_end = self.text[digits_start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(self.text.len(), |offset| digits_start + offset);
        let digits = &self.text[digits_start..digits_end];
        if digits.is_empty() {
            return Err(self.error(
                start,
                "an index is a whole number right after the `-`, like `[-1]`",
            ));
        }
        if digits.len() > 1 && digits.starts_with('0') {
            return Err(self.error(
                start,
                "an index has no leading zeros: write `[1]`, not `[01]`",
            ));
        }
        if negative && digits == "0" {
            return Err(self.error(start, "`-0` is not an index: the last element is `[-1]`"));
        }
        let magnitude = digits
            .parse::<u64>()
            .ok()
            .filter(|magnitude| *magnitude <= MAX_INDEX)
            .and_then(|magnitude| usize::try_from(magnitude).ok())
            .ok_or_else(|| {
                self.error(
                    start,
                    "an index must be within ±9007199254740991 (2^53 − 1)",
                )
            })?;
        self.at = digits_end;
        Ok(if negative {
            Segment::FromEnd(magnitude)
        } else {
            Segment::Index(magnitude)
        })
    }

    /// A quoted name with RFC 9535's escapes: `\b \f \n \r \t \/ \\`, the quote itself, and
    /// `\uXXXX` (a surrogate only as a high–low pair).
    fn string_literal(&mut self, quote: char) -> Result<String, PathError> {
        let open = self.at;
        self.at += 1;
        let mut name = String::new();
        loop {
            let at = self.at;
            let Some(c) = self.peek() else {
                return Err(self.error(open, "this quote is never closed"));
            };
            self.at += c.len_utf8();
            match c {
                _ if c == quote => return Ok(name),
                '\\' => name.push(self.escape(at, quote)?),
                '\u{0}'..='\u{1f}' => {
                    return Err(self.error(
                        at,
                        "a control character in a quoted name must be escaped, as `\\n` or \
                         `\\u0000`",
                    ));
                }
                _ => name.push(c),
            }
        }
    }

    /// The character an escape after `\` (at `backslash`) stands for.
    fn escape(&mut self, backslash: usize, quote: char) -> Result<char, PathError> {
        let Some(c) = self.peek() else {
            return Err(self.error(backslash, "the path ends inside an escape"));
        };
        self.at += c.len_utf8();
        let escaped = match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '/' => '/',
            '\\' => '\\',
            'u' => return self.unicode_escape(backslash),
            _ if c == quote => quote,
            _ => {
                return Err(self.error(
                    backslash,
                    &format!(
                        "`\\{c}` is not an escape: use \\b \\f \\n \\r \\t \\/ \\\\ \\{quote} or \
                         \\uXXXX"
                    ),
                ));
            }
        };
        Ok(escaped)
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, as one character.
    fn unicode_escape(&mut self, backslash: usize) -> Result<char, PathError> {
        let high = self.hex4(backslash)?;
        if (0xDC00..=0xDFFF).contains(&high) {
            return Err(self.error(
                backslash,
                "a low surrogate `\\uDC00`–`\\uDFFF` must follow a high one",
            ));
        }
        if !(0xD800..=0xDBFF).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.error(backslash, "not a character"));
        }
        let unpaired = |parser: &Self| {
            parser.error(
                backslash,
                "a high surrogate `\\uD800`–`\\uDBFF` must be followed by a low one, as \
                 `\\uD83D\\uDE00`",
            )
        };
        if !self.text[self.at..].starts_with("\\u") {
            return Err(unpaired(self));
        }
        self.at += 2;
        let low = self.hex4(backslash)?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return Err(unpaired(self));
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.error(backslash, "not a character"))
    }

    /// Four hex digits.
    fn hex4(&mut self, backslash: usize) -> Result<u32, PathError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|digits| digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.error(backslash, "`\\u` takes four hex digits, as `\\u00e9`"));
        };
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error(backslash, "not hex digits"))
    }

    /// The calls.yaml shorthand: `a.b`, `items[0]`, `"a.b".c`; keys are taken as written up to
    /// the next `.` or `[`, and may also be bracketed or RFC-quoted.
    fn shorthand(&mut self) -> Result<(), PathError> {
        if self.text.is_empty() {
            return Err(self.error(0, "the path is empty"));
        }
        let mut expect_key = true;
        while let Some(next) = self.peek() {
            match next {
                '[' => {
                    self.bracket()?;
                    expect_key = false;
                }
                '.' if !expect_key => {
                    self.at += 1;
                    expect_key = true;
                    match self.peek() {
                        None => return Err(self.error(self.at - 1, "the path ends with `.`")),
                        Some('.') => return Err(self.many(self.at - 1, "`..`")),
                        Some(_) => {}
                    }
                }
                '.' => return Err(self.error(self.at, "the path starts with `.`")),
                quote @ ('"' | '\'') if expect_key => {
                    let open = self.at;
                    let close = self.text[open + 1..]
                        .find(quote)
                        .ok_or_else(|| self.error(open, "this quote is never closed"))?;
                    self.at = open + 1 + close + 1;
                    let key = self.text[open + 1..open + 1 + close].to_owned();
                    self.push(open, Segment::Key(key))?;
                    expect_key = false;
                }
                _ if expect_key => {
                    let start = self.at;
                    let end = self.text[start..]
                        .find(['.', '['])
                        .map_or(self.text.len(), |offset| start + offset);
                    let key = &self.text[start..end];
                    if key == "*" {
                        return Err(self.many(start, "`*`"));
                    }
                    // `items.0` reads as an index to anyone used to lodash or JavaScript, but
                    // would be a key here and select nothing in an array: make it explicit.
                    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(self.error(
                            start,
                            &format!(
                                "{} is ambiguous: write `[{key}]` for an index, or `\"{key}\"` \
                                 for a key",
                                if start == 0 {
                                    "a number as the first segment"
                                } else {
                                    "a number after `.`"
                                }
                            ),
                        ));
                    }
                    if key.contains(['"', '\'', ']']) {
                        return Err(self.error(
                            start,
                            "quote keys that contain quotes or brackets: `\"a.b\"` or `['a]b']`",
                        ));
                    }
                    self.at = end;
                    self.push(start, Segment::Key(key.to_owned()))?;
                    expect_key = false;
                }
                _ => return Err(self.error(self.at, "expected `.` or `[` between path segments")),
            }
        }
        Ok(())
    }

    /// Adds a segment that started at `start`, within the depth bound.
    fn push(&mut self, start: usize, segment: Segment) -> Result<(), PathError> {
        if self.segments.len() == MAX_SEGMENTS {
            return Err(self.error(
                start,
                &format!("a response path deeper than {MAX_SEGMENTS} segments"),
            ));
        }
        self.segments.push(segment);
        Ok(())
    }

    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    /// RFC 9535's blank space: space, tab, line feed, carriage return.
    fn skip_blanks(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn error(&self, offset: usize, message: &str) -> PathError {
        PathError {
            offset,
            message: message.to_owned(),
        }
    }

    /// The error for a selector that selects many values.
    fn many(&self, offset: usize, what: &str) -> PathError {
        self.error(
            offset,
            &format!(
                "a response variable holds one value; {what} selects many (arrays of values are \
                 not supported yet)"
            ),
        )
    }
}

/// RFC 9535 `name-first`: a letter, `_`, or any non-ASCII character.
fn name_first(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

/// The path as it would be written in the YAML, for documentation.
pub(crate) fn display(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) if key.is_empty() || key.contains(['.', '[', ']', '"', '\'']) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let quote = if key.contains('\'') { '"' } else { '\'' };
                out.push_str(&format!("{quote}{key}{quote}"));
            }
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
            Segment::FromEnd(back) => out.push_str(&format!("[-{back}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests;
