//! Response paths: `customer.name`, `items[0].eta`, `"a.b".c`, with an optional leading `$.`.

/// One step into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// The deepest path accepted. Real responses nest a handful of levels; the code generated for
/// a path, and the compiler itself, nest once per segment, so an unbounded path could exhaust
/// the stack while compiling (a fuzzed 4,000-segment path did).
pub(crate) const MAX_SEGMENTS: usize = 64;

/// A malformed path, with the byte offset in the path text where the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathError {
    pub offset: usize,
    pub message: String,
}

/// Parses a response path. Never panics, on any input.
pub(crate) fn parse(path: &str) -> Result<Vec<Segment>, PathError> {
    let error = |offset: usize, message: &str| PathError {
        offset,
        message: message.to_owned(),
    };
    let mut segments = Vec::new();
    let body_start = if path.starts_with("$.") {
        2
    } else if path == "$" {
        return Err(error(
            0,
            "the path `$` names the whole response, not a value in it",
        ));
    } else {
        0
    };
    let bytes = path.as_bytes();
    let mut i = body_start;
    let mut expect_key = true;
    if i >= bytes.len() {
        return Err(error(i, "the path is empty"));
    }
    while i < bytes.len() {
        if starts_segment(bytes[i], expect_key) && segments.len() == MAX_SEGMENTS {
            return Err(PathError {
                offset: i,
                message: format!("a response path deeper than {MAX_SEGMENTS} segments"),
            });
        }
        match bytes[i] {
            b'[' => {
                let close = path[i..]
                    .find(']')
                    .ok_or_else(|| error(i, "this `[` is never closed with `]`"))?;
                let digits = &path[i + 1..i + close];
                let index = digits
                    .parse::<usize>()
                    .ok()
                    .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| error(i, "an index must be a whole number, like `[0]`"))?;
                segments.push(Segment::Index(index));
                i += close + 1;
                expect_key = false;
            }
            b'.' if !expect_key => {
                i += 1;
                expect_key = true;
                if i >= bytes.len() {
                    return Err(error(i - 1, "the path ends with `.`"));
                }
            }
            b'.' => {
                return Err(error(
                    i,
                    "empty segment in the path (`..` or a leading `.`)",
                ));
            }
            quote @ (b'"' | b'\'') if expect_key => {
                let close = path[i + 1..]
                    .find(char::from(quote))
                    .ok_or_else(|| error(i, "this quote is never closed"))?;
                segments.push(Segment::Key(path[i + 1..i + 1 + close].to_owned()));
                i += close + 2;
                expect_key = false;
            }
            _ if expect_key => {
                let end = path[i..].find(['.', '[']).map_or(path.len(), |at| i + at);
                let key = &path[i..end];
                if key.contains(['"', '\'', ']']) {
                    return Err(error(
                        i,
                        "quote keys that contain quotes or brackets: `\"a.b\"`",
                    ));
                }
                segments.push(Segment::Key(key.to_owned()));
                i = end;
                expect_key = false;
            }
            _ => return Err(error(i, "expected `.` or `[` between path segments")),
        }
    }
    Ok(segments)
}

/// Whether the byte at the cursor starts a new segment (so the depth bound applies there).
fn starts_segment(byte: u8, expect_key: bool) -> bool {
    byte == b'[' || (expect_key && byte != b'.')
}

/// The path as it would be written in the YAML, for documentation.
pub(crate) fn display(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) if key.is_empty() || key.contains(['.', '[', ']', '"']) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&format!("'{key}'"));
            }
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn dotted_keys() {
        assert_eq!(
            parse("customer.name").unwrap(),
            vec![key("customer"), key("name")]
        );
    }

    #[test]
    fn indexes_and_dollar_prefix() {
        assert_eq!(
            parse("$.items[0].eta").unwrap(),
            vec![key("items"), Segment::Index(0), key("eta")]
        );
        assert_eq!(
            parse("[2][1]").unwrap(),
            vec![Segment::Index(2), Segment::Index(1)]
        );
    }

    #[test]
    fn quoted_keys_may_hold_dots() {
        assert_eq!(parse("\"a.b\".c").unwrap(), vec![key("a.b"), key("c")]);
        assert_eq!(parse("x.'y[0]'").unwrap(), vec![key("x"), key("y[0]")]);
    }

    #[test]
    fn malformed_paths_are_errors_not_panics() {
        for bad in [
            "", "$", "$.", "a..b", ".a", "a.", "a[", "a[x]", "a[-1]", "a\"b", "\"a", "a]b", "a[0]b",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn depth_is_bounded_at_the_first_segment_too_many() {
        let deepest = vec!["a"; MAX_SEGMENTS].join(".");
        assert_eq!(parse(&deepest).unwrap().len(), MAX_SEGMENTS);
        let error = parse(&format!("{deepest}.b")).unwrap_err();
        assert_eq!(error.offset, deepest.len() + 1);
        let error = parse(&format!("$.{deepest}[0]")).unwrap_err();
        assert_eq!(error.offset, deepest.len() + 2);
    }

    #[test]
    fn display_round_trips() {
        for path in ["customer.name", "items[0].eta", "'a.b'.c"] {
            assert_eq!(display(&parse(path).unwrap()), path);
        }
    }
}
