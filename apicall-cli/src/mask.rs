//! Secret values hidden in what a server sends back. A server may echo a secret in any of the
//! encodings a request gave it, or that its own writers add, and mix them: percent- or
//! form-encoded from the URL (and partly decoded again, as httpbin's `url` is), escaped in a
//! JSON string (`\"`, `\/`, Python's `\u00e9`), as hex, or in base64 inside a Basic
//! credential. Each secret is matched character by character, each character in any of the
//! spellings those give it; hex and base64, which spell bytes in groups, are matched whole.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// What a secret shows as.
pub(crate) const MASK: &str = "***";

/// Base64 text shorter than this is left alone: it would match ordinary words.
const SHORTEST_BASE64: usize = 4;

/// The most bytes one character of a secret takes in the text: four UTF-8 bytes as `%XX`
/// each, or a surrogate pair of `\uXXXX`.
const WIDEST_CHARACTER: usize = 12;

/// The secrets to hide, and the hex and base64 forms of each.
#[derive(Clone, Debug, Default)]
pub(crate) struct Masks {
    secrets: Vec<String>,
    /// Longest first, so that a form containing another is masked whole.
    forms: Vec<String>,
}

impl Masks {
    /// Adds `secret`. An empty secret has nothing to hide.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() || self.secrets.iter().any(|known| known == secret) {
            return;
        }
        self.secrets.push(secret.to_owned());
        self.forms.extend(byte_forms(secret.as_bytes()));
        self.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    }

    /// `text` with every spelling of every secret replaced by [`MASK`].
    pub(crate) fn apply(&self, text: &str) -> String {
        self.apply_within(text, text.len()).0
    }

    /// [`Masks::apply`] for the first `limit` bytes of `text`: a secret that starts within them
    /// is masked whole (so read `text` [`Masks::longest`] bytes past `limit`), and nothing
    /// after them is shown, even though masking shortens what comes before. Also whether
    /// text was left out.
    pub(crate) fn apply_within(&self, text: &str, limit: usize) -> (String, bool) {
        let mut shown = String::with_capacity(text.len().min(limit));
        let mut at = 0;
        while at < limit {
            let rest = &text[at..];
            if let Some(len) = self.longest_match(rest) {
                shown.push_str(MASK);
                at += len;
                continue;
            }
            let Some(c) = rest.chars().next() else {
                break;
            };
            shown.push(c);
            at += c.len_utf8();
        }
        (shown, at < text.len())
    }

    /// How many bytes at the start of `text` spell a secret, the longest spelling found.
    fn longest_match(&self, text: &str) -> Option<usize> {
        let spelled =
            (self.secrets.iter()).filter_map(|secret| spelled_len(secret, text.as_bytes()));
        let form = (self.forms.iter())
            .find(|form| text.starts_with(form.as_str()))
            .map(String::len);
        spelled.chain(form).max()
    }

    /// The most bytes a secret takes in text: read this far past what is shown, any secret
    /// that starts within it is whole.
    pub(crate) fn longest(&self) -> usize {
        let spelled = self
            .secrets
            .iter()
            .map(|s| s.chars().count() * WIDEST_CHARACTER);
        spelled
            .chain(self.forms.first().map(String::len))
            .max()
            .unwrap_or(0)
    }
}

/// How many bytes at the start of `text` spell `secret`, each character in any of its
/// spellings (see [`char_spellings`]), or `None`. Characters with two spellings of different
/// lengths (`%` as itself or `%25`) are tried both ways.
fn spelled_len(secret: &str, text: &[u8]) -> Option<usize> {
    let Some(c) = secret.chars().next() else {
        return Some(0);
    };
    let rest = &secret[c.len_utf8()..];
    char_spellings(c, text)
        .into_iter()
        .find_map(|len| Some(len + spelled_len(rest, text.get(len..)?)?))
}

/// The lengths of the spellings of `c` that `text` starts with: its UTF-8 bytes each as
/// itself or `%XX` (either case), `+` for a space, a JSON escape (`\"`, `\\`, `\/`, `\n`...),
/// or `\uXXXX` (either case; a surrogate pair beyond the BMP).
fn char_spellings(c: char, text: &[u8]) -> Vec<usize> {
    let mut lengths = Vec::new();
    let mut utf8 = [0; 4];
    percent_spellings(c.encode_utf8(&mut utf8).as_bytes(), text, 0, &mut lengths);
    let mut literal = |spelling: &[u8]| {
        if text.starts_with(spelling) {
            lengths.push(spelling.len());
        }
    };
    let escape = match c {
        ' ' => Some("+"),
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '/' => Some("\\/"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        '\u{8}' => Some("\\b"),
        '\u{c}' => Some("\\f"),
        _ => None,
    };
    if let Some(escape) = escape {
        literal(escape.as_bytes());
    }
    let mut units = [0; 2];
    let unicode: String = (c.encode_utf16(&mut units).iter())
        .map(|unit| format!("\\u{unit:04x}"))
        .collect();
    if text.len() >= unicode.len() && text[..unicode.len()].eq_ignore_ascii_case(unicode.as_bytes())
    {
        lengths.push(unicode.len());
    }
    lengths.sort_unstable_by(|a, b| b.cmp(a));
    lengths.dedup();
    lengths
}

/// Every length at which `text` spells `bytes`, each byte as itself or `%XX` (either case).
fn percent_spellings(bytes: &[u8], text: &[u8], used: usize, lengths: &mut Vec<usize>) {
    let Some((&byte, rest)) = bytes.split_first() else {
        lengths.push(used);
        return;
    };
    let here = &text[used.min(text.len())..];
    if here.first() == Some(&byte) {
        percent_spellings(rest, text, used + 1, lengths);
    }
    let escaped = format!("%{byte:02X}");
    if here.len() >= 3 && here[..3].eq_ignore_ascii_case(escaped.as_bytes()) {
        percent_spellings(rest, text, used + 3, lengths);
    }
}

/// The forms of `secret` that spell its bytes in groups: hex (either case), and base64 at
/// each alignment.
fn byte_forms(secret: &[u8]) -> Vec<String> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![hex.to_ascii_uppercase(), hex];
    forms.extend(base64_forms(secret));
    forms
}

/// The base64 characters that encode only `secret`, whatever bytes come before and after it
/// (as the password in `user:password` does): one form for each of the three alignments, in
/// the standard and URL-safe alphabets.
fn base64_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for offset in 0..3 {
        let mut bytes = vec![0; offset];
        bytes.extend_from_slice(secret);
        // The first character that holds no bit of the bytes before, and the end of the last
        // one that holds no bit of the bytes after.
        let start = (offset * 8).div_ceil(6);
        let end = bytes.len() * 8 / 6;
        if end < start + SHORTEST_BASE64 {
            continue;
        }
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&bytes);
            if let Some(middle) = encoded.get(start..end) {
                forms.push(middle.to_owned());
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const SECRET: &str = "pa ss/wörd\"+&é😀";

    fn masks() -> Masks {
        let mut masks = Masks::default();
        masks.add(SECRET);
        masks
    }

    #[test]
    fn every_encoding_a_server_may_echo_is_hidden() {
        let credential = STANDARD.encode(format!("user:{SECRET}"));
        let shifted = STANDARD.encode(format!("ab{SECRET}cd"));
        let python_json = "pa ss\\/w\\u00f6rd\\\"+&\\u00e9\\ud83d\\ude00";
        let echoes = [
            SECRET.to_owned(),
            "pa%20ss%2Fw%C3%B6rd%22%2B%26%C3%A9%F0%9F%98%80".to_owned(),
            "pa%20ss%2fw%c3%b6rd%22%2b%26%c3%a9%f0%9f%98%80".to_owned(),
            "pa+ss%2Fw%C3%B6rd%22%2B%26%C3%A9%F0%9F%98%80".to_owned(),
            python_json.to_owned(),
            "pa ss/w\\u00F6rd\\\"+&\\u00E9\\uD83D\\uDE00".to_owned(),
            SECRET.bytes().map(|b| format!("{b:02x}")).collect(),
            credential,
            shifted,
        ];
        let masks = masks();
        for echo in echoes {
            let shown = masks.apply(&format!("before {echo} after"));
            assert!(shown.contains(MASK), "{echo}: {shown}");
            assert!(
                !shown.contains("ss/w") && !shown.contains("ss%2"),
                "{echo}: {shown}"
            );
        }
    }

    #[test]
    fn a_basic_credential_keeps_its_user_name_and_loses_its_password() {
        let masks = {
            let mut masks = Masks::default();
            masks.add("s3cr3t-passw0rd");
            masks
        };
        let credential = STANDARD.encode("ada:s3cr3t-passw0rd");
        let shown = masks.apply(&format!("Basic {credential}"));
        assert!(shown.starts_with("Basic YWRh"), "{shown}");
        assert!(shown.contains(MASK), "{shown}");
        assert!(!shown.contains(&credential[8..]), "{shown}");
    }

    #[test]
    fn within_a_limit_no_text_from_past_it_moves_into_view() {
        let mut masks = Masks::default();
        masks.add("abcdefghij");
        // Each masked copy is shorter than the secret: what lies past the limit, the start of
        // a secret cut off by it among it, must not take the room masking frees.
        let text = "abcdefghij".repeat(300);
        let limit = 2048;
        let read = &text[..limit + masks.longest()];
        let (shown, cut) = masks.apply_within(read, limit);
        assert!(cut);
        assert_eq!(shown, MASK.repeat(205), "{shown}");
        assert_eq!(
            masks.apply_within("x abcdefghij", 3),
            ("x ***".to_owned(), false)
        );
        assert_eq!(
            masks.apply_within("x abcdefghij y", 3),
            ("x ***".to_owned(), true)
        );
    }

    #[test]
    fn spellings_mixed_within_one_echo_are_hidden() {
        // httpbin's `url`: the path partly decoded again by werkzeug, the query form-encoded,
        // inside a JSON string.
        let mut masks = Masks::default();
        masks.add("pä ss/wörd\"+&");
        let echo = r#"{"url": "http://h/anything/pä%20ss/wörd\"+&?t=pä+ss/wörd\"%2B%26"}"#;
        assert_eq!(
            masks.apply(echo),
            r#"{"url": "http://h/anything/***?t=***"}"#
        );
        let mut percent = Masks::default();
        percent.add("100%");
        assert_eq!(percent.apply("a 100%25 b 100% c"), "a *** b *** c");
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let text = "{\"status\": \"shipped\", \"id\": \"A-1\"}";
        assert_eq!(masks().apply(text), text);
        let mut short = Masks::default();
        short.add("ab");
        assert_eq!(short.apply("YWI= and ab"), "YWI= and ***");
    }
}
