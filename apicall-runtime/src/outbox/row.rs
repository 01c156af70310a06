//! A webhook as a stored row with no secret value in it, and back: header values become
//! text and secret variable names, the signing key a name; a secret found in the URL or
//! body cannot be named, so such a webhook is refused.

use super::*;

/// One piece of a stored header value: text as sent, or a secret variable's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Piece {
    Text(String),
    Secret(String),
}

/// A stored header value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum HeaderTemplate {
    /// Text and secret names, joined at send time.
    Pieces(Vec<Piece>),
    /// HTTP Basic credentials: the username as text, the password by name; encoded at send
    /// time (base64 of the whole pair cannot be split into pieces).
    Basic { username: String, password: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoredHeader {
    pub(super) name: String,
    pub(super) value: HeaderTemplate,
    pub(super) sensitive: bool,
}

/// A row to write.
pub(super) struct NewRow {
    pub(super) webhook: String,
    pub(super) idempotency_key: String,
    pub(super) url: String,
    pub(super) headers: String,
    pub(super) body: Vec<u8>,
    pub(super) signing_key: Option<String>,
    pub(super) needs_secrets: bool,
    pub(super) timeout_ms: u64,
    pub(super) retries: u32,
    pub(super) now: i64,
}

/// The row for `webhook`, and the secrets to hold for it in memory.
pub(super) fn new_row(
    webhook: &Webhook,
    now: i64,
) -> Result<(NewRow, HashMap<&'static str, Secret>), NotQueued> {
    let mut secrets: Vec<(&'static str, &Secret)> = webhook
        .secrets
        .iter()
        .map(|(name, secret)| (*name, secret))
        .collect();
    let signing_key = match (&webhook.signing_key, webhook.signing_key_name) {
        (None, _) => None,
        (Some(_), None) => return Err(NotQueued::UnnamedSigningKey),
        (Some(key), Some(name)) => {
            secrets.push((name, key));
            Some(name.to_owned())
        }
    };
    let findable: Vec<(&'static str, &Secret)> = secrets
        .iter()
        .copied()
        .filter(|(_, secret)| !secret.is_empty())
        .collect();
    let url = webhook.url.as_str();
    for (name, secret) in &findable {
        if url_holds(url, secret.expose()) {
            return Err(NotQueued::SecretInUrl { secret: name });
        }
        if body_holds(&webhook.body, secret.expose()) {
            return Err(NotQueued::SecretInBody { secret: name });
        }
    }
    let mut headers = Vec::with_capacity(webhook.headers.len());
    let mut needs_secrets = signing_key.is_some();
    for (name, value) in &webhook.headers {
        let template = header_template(name, value, &findable)?;
        needs_secrets |= match &template {
            HeaderTemplate::Pieces(pieces) => {
                pieces.iter().any(|piece| matches!(piece, Piece::Secret(_)))
            }
            HeaderTemplate::Basic { .. } => true,
        };
        headers.push(StoredHeader {
            name: name.as_str().to_owned(),
            value: template,
            sensitive: value.is_sensitive(),
        });
    }
    let headers = serde_json::to_string(&headers).map_err(|error| {
        NotQueued::Outbox(OutboxError::Database {
            action: "encoding headers",
            source: Box::new(error),
        })
    })?;
    let row = NewRow {
        webhook: webhook.spec.name.to_owned(),
        idempotency_key: webhook.idempotency_key_text(),
        url: url.to_owned(),
        headers,
        body: webhook.body.to_vec(),
        signing_key,
        needs_secrets,
        timeout_ms: webhook.spec.timeout_ms,
        retries: webhook.spec.retries,
        now,
    };
    let held = secrets
        .into_iter()
        .map(|(name, secret)| (name, secret.clone()))
        .collect();
    Ok((row, held))
}

/// Whether `secret` is in the URL as written there: verbatim (an origin), or encoded as a path
/// segment or a query value.
pub(super) fn url_holds(url: &str, secret: &str) -> bool {
    const PATH_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let path = percent_encoding::utf8_percent_encode(secret, PATH_VALUE).to_string();
    let query: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    url.contains(secret) || url.contains(&path) || url.contains(&query)
}

/// Whether `secret` is in the JSON body, verbatim or as a JSON string's escaped content.
pub(super) fn body_holds(body: &[u8], secret: &str) -> bool {
    let contains = |needle: &[u8]| body.windows(needle.len()).any(|window| window == needle);
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped
        .strip_prefix('"')
        .and_then(|text| text.strip_suffix('"'))
        .unwrap_or(&escaped);
    contains(secret.as_bytes()) || contains(escaped.as_bytes())
}

/// A header value with each named secret's value replaced by its name (the longest match
/// first, so a secret containing another is taken whole).
pub(super) fn header_template(
    name: &HeaderName,
    value: &HeaderValue,
    secrets: &[(&'static str, &Secret)],
) -> Result<HeaderTemplate, NotQueued> {
    let unnamed = || NotQueued::UnnamedSecretHeader {
        header: name.as_str().to_owned(),
    };
    // Values come from `&str`s (or base64), so they are UTF-8; anything else is refused
    // rather than stored in a lossy form.
    let text = std::str::from_utf8(value.as_bytes()).map_err(|_| unnamed())?;
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let found = secrets
            .iter()
            .filter(|(_, secret)| rest.starts_with(secret.expose()))
            .max_by_key(|(_, secret)| secret.expose().len());
        if let Some((name, secret)) = found {
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Secret((*name).to_owned()));
            rest = &rest[secret.expose().len()..];
        } else {
            literal.push(first);
            rest = &rest[first.len_utf8()..];
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    let names_a_secret = pieces.iter().any(|piece| matches!(piece, Piece::Secret(_)));
    if !value.is_sensitive() || names_a_secret {
        return Ok(HeaderTemplate::Pieces(pieces));
    }
    // Basic credentials: base64 of `username:password` hides the password from the search
    // above; decode it and name the password.
    if name == AUTHORIZATION
        && let Some((username, password)) = basic_credentials(text)
        && let Some((secret_name, _)) = secrets
            .iter()
            .find(|(_, secret)| secret.expose() == password)
    {
        return Ok(HeaderTemplate::Basic {
            username,
            password: (*secret_name).to_owned(),
        });
    }
    Err(unnamed())
}

pub(super) fn basic_credentials(value: &str) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

/// A claimed row as a webhook again, its secrets resolved.
pub(super) fn rebuild(
    row: &Claimed,
    spec: &'static CallSpec,
    resolve: &dyn Fn(&str) -> Option<Secret>,
) -> Result<Webhook, ParkReason> {
    let unreadable = |detail: &str| ParkReason::Unreadable {
        detail: detail.to_owned(),
    };
    let secret = |name: &str| {
        resolve(name).ok_or_else(|| ParkReason::UnresolvedSecret {
            name: name.to_owned(),
        })
    };
    let url = Url::parse(&row.url).map_err(|_| unreadable("the URL does not parse"))?;
    let stored: Vec<StoredHeader> =
        serde_json::from_str(&row.headers).map_err(|_| unreadable("the headers do not parse"))?;
    let mut headers = Vec::with_capacity(stored.len());
    for header in stored {
        let text = match &header.value {
            HeaderTemplate::Pieces(pieces) => {
                let mut text = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(part) => text.push_str(part),
                        Piece::Secret(name) => text.push_str(secret(name)?.expose()),
                    }
                }
                text
            }
            HeaderTemplate::Basic { username, password } => {
                use base64::Engine;
                let password = secret(password)?;
                let pair = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
        };
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| unreadable("a header name is invalid"))?;
        let mut value = HeaderValue::from_str(&text).map_err(|_| ParkReason::Unreadable {
            detail: format!("the value of header `{name}` is invalid"),
        })?;
        value.set_sensitive(header.sensitive);
        headers.push((name, value));
    }
    let signing_key = match &row.signing_key {
        Some(name) => Some(secret(name)?),
        None => None,
    };
    let idempotency_key = HeaderValue::from_str(&row.idempotency_key)
        .map_err(|_| unreadable("the idempotency key is invalid"))?;
    Ok(Webhook {
        spec,
        url,
        headers,
        body: Bytes::from(row.body.clone()),
        signing_key,
        idempotency_key,
        signing_key_name: None,
        secrets: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> Secret {
        Secret::new(value)
    }

    #[test]
    fn header_secrets_become_names_longest_first() {
        let (short, long) = (secret("abc"), secret("abcdef"));
        let secrets = [("short", &short), ("long", &long)];
        let mut value = HeaderValue::from_static("Bearer abcdef.abc!");
        value.set_sensitive(true);
        let template = header_template(&AUTHORIZATION, &value, &secrets).unwrap();
        assert_eq!(
            template,
            HeaderTemplate::Pieces(vec![
                Piece::Text("Bearer ".into()),
                Piece::Secret("long".into()),
                Piece::Text(".".into()),
                Piece::Secret("short".into()),
                Piece::Text("!".into()),
            ])
        );
    }

    #[test]
    fn basic_credentials_name_the_password() {
        use base64::Engine;
        let password = secret("p@ss:word");
        let encoded = base64::engine::general_purpose::STANDARD.encode("ann:p@ss:word");
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).unwrap();
        value.set_sensitive(true);
        let template = header_template(&AUTHORIZATION, &value, &[("pw", &password)]).unwrap();
        assert_eq!(
            template,
            HeaderTemplate::Basic {
                username: "ann".into(),
                password: "pw".into()
            }
        );
    }

    #[test]
    fn a_sensitive_header_without_a_named_secret_is_refused() {
        let mut value = HeaderValue::from_static("Bearer unknown");
        value.set_sensitive(true);
        let other = secret("nothere");
        let result = header_template(&AUTHORIZATION, &value, &[("k", &other)]);
        assert!(
            matches!(result, Err(NotQueued::UnnamedSecretHeader { ref header }) if header == "authorization"),
            "{result:?}"
        );
    }

    #[test]
    fn secrets_are_found_in_urls_and_bodies_however_encoded() {
        assert!(url_holds("https://x/a%2Fb", "a/b"));
        assert!(url_holds("https://x/?q=a+b", "a b"));
        assert!(!url_holds("https://x/?q=ab", "a b"));
        assert!(body_holds(br#"{"k":"say \"hi\""}"#, "say \"hi\""));
        assert!(!body_holds(br#"{"k":"hello"}"#, "hi"));
    }
}
