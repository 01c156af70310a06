//! libpq's `key=value` connection strings (`host=db sslmode=require password='a b'`), read and
//! written as rust-postgres reads them: pairs separated by blank space, blank space allowed
//! around `=`, a value either single-quoted or running to the next blank, `\` escaping the
//! character after it in either.

/// The pairs of `text`, in order, or `None` when it is not such a string.
#[cfg(feature = "outbox-postgres")]
pub(super) fn parse(text: &str) -> Option<Vec<(String, String)>> {
    let pairs = pairs(text)?;
    Some(
        pairs
            .into_iter()
            .map(|pair| (pair.key, pair.value))
            .collect(),
    )
}

/// One `key=value` of a connection string, and where its value is written (quotes included).
pub(super) struct Pair {
    pub key: String,
    #[cfg_attr(
        not(feature = "outbox-postgres"),
        expect(dead_code, reason = "read for the PostgreSQL outbox's TLS settings")
    )]
    pub value: String,
    pub written: std::ops::Range<usize>,
}

/// [`parse`], with where each value is written in `text`.
pub(super) fn pairs(text: &str) -> Option<Vec<Pair>> {
    let mut pairs = Vec::new();
    let mut chars = text.char_indices().peekable();
    let blank = |(_, c): &(usize, char)| c.is_whitespace();
    loop {
        while chars.next_if(blank).is_some() {}
        if chars.peek().is_none() {
            return Some(pairs);
        }
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(blank).is_some() {}
        if key.is_empty() || chars.next().map(|(_, c)| c) != Some('=') {
            return None;
        }
        while chars.next_if(blank).is_some() {}
        let start = chars.peek().map_or(text.len(), |(at, _)| *at);
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next()?.1 {
                    '\'' => break,
                    '\\' => value.push(chars.next()?.1),
                    c => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(if c == '\\' { chars.next()?.1 } else { c });
            }
        }
        let end = chars.peek().map_or(text.len(), |(at, _)| *at);
        pairs.push(Pair {
            key,
            value,
            written: start..end,
        });
    }
}

/// `pairs` as a connection string [`parse`] reads back: every value quoted.
#[cfg(feature = "outbox-postgres")]
pub(super) fn write(pairs: &[(String, String)]) -> String {
    let mut text = String::new();
    for (key, value) in pairs {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(key);
        text.push_str("='");
        for c in value.chars() {
            if matches!(c, '\'' | '\\') {
                text.push('\\');
            }
            text.push(c);
        }
        text.push('\'');
    }
    text
}

#[cfg(all(test, feature = "outbox-postgres"))]
mod tests {
    use super::{parse, write};

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn reads_what_libpq_and_rust_postgres_read() {
        assert_eq!(
            parse("host=db  port = 5432\tpassword='it''s' user=a\\ b sslmode=require"),
            None,
            "'' is not an escaped quote"
        );
        assert_eq!(
            parse(" host=db  port = 5432\tpassword='it\\'s a\\\\b' user=a\\ b dbname='' "),
            Some(pairs(&[
                ("host", "db"),
                ("port", "5432"),
                ("password", "it's a\\b"),
                ("user", "a b"),
                ("dbname", ""),
            ]))
        );
        for broken in ["host", "host db", "=db", "password='open", "user=a\\"] {
            assert_eq!(parse(broken), None, "{broken:?}");
        }
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let written = pairs(&[("password", "it's a\\b c"), ("host", "/tmp"), ("x", "")]);
        assert_eq!(parse(&write(&written)), Some(written));
    }
}
