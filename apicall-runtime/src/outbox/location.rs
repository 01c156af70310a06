//! An outbox's location as apicall shows it: never a connection string's password.

use super::*;

/// The location as it may be shown: a PostgreSQL URL with its password (in the user info or a
/// `password` query parameter) as `***`. One that does not parse as a URL is shown as its
/// scheme alone. A file path is shown as it is, but for the value after a `password=` in it
/// (a libpq `key=value` string given by mistake is taken for a path).
pub(super) fn masked_location(location: &str) -> String {
    if !is_postgres_url(location) {
        return masked_keywords(location);
    }
    let Ok(mut url) = Url::parse(location) else {
        let scheme = location.split_once("://").map_or("postgres", |(s, _)| s);
        return format!("{scheme}://***");
    };
    if url.password().is_some() {
        // A URL with a password has a host, so this cannot fail.
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// A libpq `key=value` string with each `password`'s value, as written, replaced by `***`.
/// Text that does not read as one (a file path, or a string with a mistake in it) is shown
/// with the value after any `password=` hidden all the same.
fn masked_keywords(text: &str) -> String {
    let Some(pairs) = super::keywords::pairs(text) else {
        return masked_after_password(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut shown = 0;
    for pair in pairs.iter().filter(|pair| pair.key == "password") {
        out.push_str(&text[shown..pair.written.start]);
        out.push_str("***");
        shown = pair.written.end;
    }
    out.push_str(&text[shown..]);
    out
}

/// `password=VALUE` (VALUE up to the next space, or quoted) with VALUE as `***`.
fn masked_after_password(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after) = rest.split_at(at + KEY.len());
        out.push_str(before);
        out.push_str("***");
        let end = if let Some(quoted) = after.strip_prefix('\'') {
            quoted.find('\'').map_or(after.len(), |close| close + 2)
        } else {
            after.find(char::is_whitespace).unwrap_or(after.len())
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

pub(super) fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::masked_location as masked;

    #[test]
    fn a_postgres_password_is_masked() {
        assert_eq!(
            masked("postgres://user:pass@host/db"),
            "postgres://user:***@host/db"
        );
        assert_eq!(
            masked("postgresql://app:s3cr%2Ft@db.internal:5432/outbox?sslmode=require"),
            "postgresql://app:***@db.internal:5432/outbox?sslmode=require"
        );
        assert_eq!(
            masked("postgres://app@host/db?password=hunter2&sslmode=disable"),
            "postgres://app@host/db?password=***&sslmode=disable"
        );
        // Nothing to hide: shown as given.
        assert_eq!(masked("postgres://app@host/db"), "postgres://app@host/db");
        // Not a URL (several hosts): nothing after the scheme is shown.
        assert_eq!(
            masked("postgres://u:pw@h1:5432,h2:5432/db"),
            "postgres://***"
        );
        // File paths as they are; a keyword string's password hidden.
        assert_eq!(
            masked("/var/lib/agent/outbox.db"),
            "/var/lib/agent/outbox.db"
        );
        assert_eq!(
            masked("host=db user=app password=hunter2 dbname=x"),
            "host=db user=app password=*** dbname=x"
        );
        assert_eq!(
            masked("host=db password='hunter 2' dbname=x"),
            "host=db password=*** dbname=x"
        );
        // As libpq reads them: blanks around `=`, escaped quotes and blanks.
        assert_eq!(
            masked("host=db password = hunter2 dbname=x"),
            "host=db password = *** dbname=x"
        );
        assert_eq!(
            masked("password='it\\'s 2' user=a\\ b password=x\\ y"),
            "password=*** user=a\\ b password=***"
        );
        // A string with a mistake in it still hides what follows `password=`.
        assert_eq!(
            masked("host=db password=hunter2 oops"),
            "host=db password=*** oops"
        );
    }
}
