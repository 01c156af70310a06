//! Secret values hidden in what a server sends back. A server may echo a secret in any of the
//! encodings a request gave it, or that its own JSON writer adds: percent- or form-encoded
//! from the URL, base64 inside a Basic credential, `\u` escapes from a JSON writer that keeps
//! to ASCII (Python's, httpbin's). Each secret is looked for in every such form.

use apicall_runtime::call::path_value_text;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// What a secret shows as.
pub(crate) const MASK: &str = "***";

/// Base64 text shorter than this is left alone: it would match ordinary words.
const SHORTEST_BASE64: usize = 4;

/// The forms of every secret to hide, longest first, so that a form containing another is
/// replaced whole.
#[derive(Clone, Debug, Default)]
pub(crate) struct Masks {
    forms: Vec<String>,
}

impl Masks {
    /// Adds `secret`'s forms. An empty secret has none.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        for form in forms(secret) {
            if !form.is_empty() && !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    }

    /// `text` with every form of every secret replaced by [`MASK`].
    pub(crate) fn apply(&self, text: &str) -> String {
        self.apply_within(text, text.len()).0
    }

    /// [`Masks::apply`] for the first `limit` bytes of `text`: a form that starts within them
    /// is masked whole (so read `text` [`Masks::longest`] bytes past `limit`), and nothing
    /// after them is shown, even though masking shortens what comes before. Also whether
    /// text was left out.
    pub(crate) fn apply_within(&self, text: &str, limit: usize) -> (String, bool) {
        let mut shown = String::with_capacity(text.len().min(limit));
        let mut at = 0;
        while at < limit {
            let rest = &text[at..];
            // Longest first: a form that holds another is masked whole.
            if let Some(form) = self
                .forms
                .iter()
                .find(|form| rest.starts_with(form.as_str()))
            {
                shown.push_str(MASK);
                at += form.len();
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

    /// The longest form, in bytes: text read this far past what is shown holds whole any form
    /// that starts within it.
    pub(crate) fn longest(&self) -> usize {
        self.forms.first().map_or(0, String::len)
    }
}

/// The encodings of `secret` a request or a server's echo of it may hold.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    // A path value, a query value (`+` for a space), each with either case of hex digit.
    let percent = path_value_text(secret).to_string();
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    for encoded in [percent, form] {
        forms.push(lowercase_hex_escapes(&encoded, '%'));
        forms.push(encoded);
    }
    // Inside a JSON string: escaped as serde_json does, ASCII-only (Python's `\u00e9`), and
    // either with `/` as `\/` (PHP's default does both).
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|json| json.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    let ascii = ascii_json(&json);
    for escaped in [lowercase_hex_escapes(&ascii, 'u'), ascii, json] {
        forms.push(escaped.replace('/', "\\/"));
        forms.push(escaped);
    }
    // Bytes as hex, either case.
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    forms.push(hex.to_ascii_uppercase());
    forms.push(hex);
    forms.extend(base64_forms(secret.as_bytes()));
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

/// JSON string text with every character outside ASCII as `\uXXXX` (UTF-16, uppercase hex).
fn ascii_json(json: &str) -> String {
    let mut ascii = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0; 2];
            for unit in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{unit:04X}"));
            }
        }
    }
    ascii
}

/// `text` with the hex digits after each `marker` escape (`%` or `\u`) in lowercase.
fn lowercase_hex_escapes(text: &str, marker: char) -> String {
    let digits = if marker == '%' { 2 } else { 4 };
    let mut out = String::with_capacity(text.len());
    let mut lower_next = 0;
    let mut previous = None;
    for c in text.chars() {
        if lower_next > 0 {
            out.push(c.to_ascii_lowercase());
            lower_next -= 1;
        } else {
            out.push(c);
            let starts = match marker {
                '%' => c == '%',
                _ => c == 'u' && previous == Some('\\'),
            };
            if starts {
                lower_next = digits;
            }
        }
        previous = Some(c);
    }
    out
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
    fn text_without_secrets_is_unchanged() {
        let text = "{\"status\": \"shipped\", \"id\": \"A-1\"}";
        assert_eq!(masks().apply(text), text);
        let mut short = Masks::default();
        short.add("ab");
        assert_eq!(short.apply("YWI= and ab"), "YWI= and ***");
    }
}
