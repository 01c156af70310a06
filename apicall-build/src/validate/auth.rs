//! Rules for `auth:` schemes and the calls and webhooks that name them: every field a kind
//! needs, secrets only from secret variables, and no scheme fighting a hand-written header.

use super::*;
use crate::parse::document::AuthKindDecl;

const CLIENT_AUTHS: &[&str] = &["basic", "body"];
const ENCODINGS: &[&str] = &["hex", "base64"];

impl Checker<'_, '_> {
    /// Every scheme under `auth:`, named well and once; those that check out are kept for the
    /// calls and webhooks that name them.
    pub(super) fn auth_schemes(&mut self, document: &Document) {
        self.auth_declared = document.auth.iter().map(|d| d.name.value.clone()).collect();
        let mut seen = HashMap::new();
        for decl in &document.auth {
            let named = self.name(&decl.name, "auth scheme")
                && self.defined_once(&decl.name, "auth scheme", &mut seen);
            let kind = decl.kind.as_ref().and_then(|kind| self.auth_kind(kind));
            if let (true, Some(kind)) = (named, kind) {
                self.auth.push(ir::AuthScheme {
                    name: decl.name.value.clone(),
                    kind,
                });
            }
        }
    }

    fn auth_kind(&mut self, kind: &AuthKindDecl) -> Option<ir::AuthKind> {
        match kind {
            AuthKindDecl::OAuth2 {
                key,
                token_url,
                client_id,
                client_secret,
                scopes,
                client_auth,
                present,
            } => {
                let item = (
                    "`oauth2_client_credentials` scheme",
                    key.pos,
                    present.as_slice(),
                );
                let url_help = "add `token_url: https://login.example.com/oauth2/token`";
                self.required(token_url.as_ref(), item, "token_url", url_help);
                let id_help = "add `client_id: \"{{crm_client_id}}\"`";
                self.required(client_id.as_ref(), item, "client_id", id_help);
                let secret_help = "add `client_secret: crm_client_secret`, a secret variable";
                self.required(client_secret.as_ref(), item, "client_secret", secret_help);
                let token_url = token_url.as_ref().and_then(|url| self.token_url(url));
                let client_id = client_id.as_ref().and_then(|id| self.auth_text(id));
                let client_secret = client_secret.as_ref().and_then(|secret| {
                    let role = "is an OAuth2 client secret";
                    self.secret_variable(secret, ("client_secret", "crm_client_secret"), role)
                });
                let scopes_ok = scopes.iter().all(|scope| self.scope_is_a_token(scope));
                let in_body = match client_auth {
                    None => Some(false),
                    Some(text) => self
                        .one_of(text, CLIENT_AUTHS, "client authentication")
                        .map(|chosen| chosen == "body"),
                };
                Some(ir::AuthKind::OAuth2 {
                    token_url: token_url?,
                    client_id: client_id?,
                    client_secret: client_secret?,
                    scopes: scopes_ok.then(|| scopes.iter().map(|s| s.value.clone()).collect())?,
                    client_auth_in_body: in_body?,
                })
            }
            AuthKindDecl::Basic {
                key,
                username,
                password,
                present,
            } => {
                let item = ("`basic` scheme", key.pos, present.as_slice());
                let user_help = "add `username: \"{{billing_user}}\"`";
                self.required(username.as_ref(), item, "username", user_help);
                let password_help = "add `password: billing_password`, a secret variable";
                self.required(password.as_ref(), item, "password", password_help);
                let username = username.as_ref().and_then(|name| self.auth_text(name));
                let password = password.as_ref().and_then(|password| {
                    let field = ("password", "billing_password");
                    self.secret_variable(password, field, "is a Basic auth password")
                });
                Some(ir::AuthKind::Basic {
                    username: username?,
                    password: password?,
                })
            }
            AuthKindDecl::Mtls {
                key,
                certificate,
                private_key,
                present,
            } => {
                let item = ("`mtls` scheme", key.pos, present.as_slice());
                let cert_help = "add `certificate: ledger_cert_pem`, a secret variable holding PEM";
                self.required(certificate.as_ref(), item, "certificate", cert_help);
                let key_help = "add `key: ledger_key_pem`, a secret variable holding PEM";
                self.required(private_key.as_ref(), item, "key", key_help);
                let certificate = certificate.as_ref().and_then(|certificate| {
                    let field = ("certificate", "ledger_cert_pem");
                    self.secret_variable(certificate, field, "is a client certificate")
                });
                let private_key = private_key.as_ref().and_then(|private_key| {
                    let field = ("key", "ledger_key_pem");
                    self.secret_variable(private_key, field, "is a client certificate's key")
                });
                Some(ir::AuthKind::Mtls {
                    certificate: certificate?,
                    key: private_key?,
                })
            }
            AuthKindDecl::Hmac {
                key,
                header,
                timestamp_header,
                secret,
                payload,
                encoding,
                value,
                present,
            } => {
                let item = ("`hmac_signature` scheme", key.pos, present.as_slice());
                let header_help = "add `header: X-Signature`, where the signature is sent";
                self.required(header.as_ref(), item, "header", header_help);
                let secret_help = "add `secret: ledger_signing_key`, a secret variable";
                self.required(secret.as_ref(), item, "secret", secret_help);
                let header = header.as_ref().filter(|h| self.header_name_is_valid(h));
                let timestamp_ok = timestamp_header
                    .as_ref()
                    .is_none_or(|h| self.header_name_is_valid(h) && !self.same_header(h, header));
                let secret = secret.as_ref().and_then(|secret| {
                    let field = ("secret", "ledger_signing_key");
                    self.secret_variable(secret, field, "signs requests")
                });
                let value_text = value.as_ref();
                let value = match value_text {
                    Some(text) => self.signature_value(text),
                    None => Some(vec![ir::ValuePart::Signature]),
                };
                // The receiver must be told the timestamp to check a signature over it. Read
                // from the text, so that a mistake in `value` is not reported again here.
                let timestamp_sent = timestamp_header.is_some()
                    || value_text.is_some_and(|text| text.value.contains("{timestamp}"));
                let payload = match payload {
                    Some(text) => self.payload(text, timestamp_sent),
                    None if timestamp_sent => Some(vec![
                        ir::PayloadPart::Timestamp,
                        ir::PayloadPart::Text(".".to_owned()),
                        ir::PayloadPart::Body,
                    ]),
                    None => Some(vec![ir::PayloadPart::Body]),
                };
                let base64 = match encoding {
                    None => Some(false),
                    Some(text) => self
                        .one_of(text, ENCODINGS, "signature encoding")
                        .map(|chosen| chosen == "base64"),
                };
                timestamp_ok.then_some(())?;
                Some(ir::AuthKind::Hmac {
                    header: header?.value.clone(),
                    timestamp_header: timestamp_header.as_ref().map(|h| h.value.clone()),
                    secret: secret?,
                    payload: payload?,
                    base64: base64?,
                    value: value?,
                })
            }
        }
    }

    /// The token endpoint is a fixed absolute http(s) URL: it is called before any call's
    /// values are known, so it holds no `{{...}}`.
    fn token_url(&mut self, url: &Text) -> Option<String> {
        let lower = url.value.to_ascii_lowercase();
        let absolute = ["https://", "http://"]
            .iter()
            .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len());
        if absolute && !url.value.contains("{{") && !url.value.contains(char::is_whitespace) {
            return Some(url.value.clone());
        }
        self.report
            .error_spanning(
                url.pos,
                url.width().max(1),
                "`token_url` must be a fixed absolute URL, like `https://login.example.com/oauth2/token`",
            )
            .help("the token endpoint is the same for every call that uses the scheme");
        None
    }

    /// A client id or user name: text with context variables only.
    fn auth_text(&mut self, text: &Text) -> Option<ir::RequestTemplate> {
        self.no_control_characters(text, "an auth field");
        self.template(text, &[], Place::Auth)
    }

    /// A scope is an RFC 6749 scope token: printable ASCII, no space, `"` or `\`.
    fn scope_is_a_token(&mut self, scope: &Text) -> bool {
        let token = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if !scope.value.is_empty() && scope.value.bytes().all(token) {
            return true;
        }
        self.report
            .error_spanning(
                scope.pos,
                scope.width().max(1),
                format!("`{}` is not one OAuth2 scope", scope.value),
            )
            .help("list each scope on its own, `scopes: [customers.read, orders.read]`; they are sent space-separated");
        false
    }

    /// `text` is one of `choices`, or an error with a suggestion.
    fn one_of(
        &mut self,
        text: &Text,
        choices: &[&'static str],
        what: &str,
    ) -> Option<&'static str> {
        if let Some(chosen) = choices.iter().find(|choice| **choice == text.value) {
            return Some(chosen);
        }
        let help = did_you_mean(&text.value, choices.iter().copied())
            .unwrap_or_else(|| format!("use {}", choices.join(" or ")));
        self.report
            .error_spanning(
                text.pos,
                text.width().max(1),
                format!("unknown {what} `{}`", text.value),
            )
            .help(help);
        None
    }

    /// What an HMAC signs: text with `{timestamp}` and `{body}` (the exact bytes sent);
    /// `{timestamp}` only when the request sends it too (a `timestamp_header`, or the `value`).
    fn payload(&mut self, text: &Text, timestamp_sent: bool) -> Option<Vec<ir::PayloadPart>> {
        let known = [
            ("{timestamp}", Placeholder::Timestamp),
            ("{body}", Placeholder::Body),
        ];
        let message = "a signature payload holds only `{timestamp}`, `{body}` and text";
        let pieces =
            self.signature_template(text, &known, message, "`payload: \"{timestamp}.{body}\"`")?;
        let mut parts = Vec::new();
        for piece in pieces {
            parts.push(match piece {
                Piece::Text(text) => ir::PayloadPart::Text(text),
                Piece::Placeholder(Placeholder::Timestamp, at, width) if !timestamp_sent => {
                    self.report
                        .error_spanning(
                            text.pos_at(at),
                            text.width_of(at, width).unwrap_or(1),
                            "the payload signs `{timestamp}`, but the request does not send it",
                        )
                        .help(
                            "add `timestamp_header: X-Timestamp`, or `{timestamp}` in `value`, \
                             so the receiver can check it",
                        );
                    return None;
                }
                Piece::Placeholder(Placeholder::Timestamp, ..) => ir::PayloadPart::Timestamp,
                Piece::Placeholder(..) => ir::PayloadPart::Body,
            });
        }
        Some(parts)
    }

    /// The timestamp header is the signature's own: the signature would replace the timestamp,
    /// and the timestamp it signs would never be sent.
    fn same_header(&mut self, timestamp_header: &Text, header: Option<&Text>) -> bool {
        let Some(header) = header else {
            return false;
        };
        if !timestamp_header.value.eq_ignore_ascii_case(&header.value) {
            return false;
        }
        self.report
            .error_spanning(
                timestamp_header.pos,
                timestamp_header.width(),
                "the timestamp would go in the signature's own header",
            )
            .help("name another header, or write the timestamp into the signature's `value`");
        true
    }

    /// The signature header's value: text with `{signature}` once and `{timestamp}`, such as
    /// `sha256={signature}` or `t={timestamp},v1={signature}`.
    fn signature_value(&mut self, text: &Text) -> Option<Vec<ir::ValuePart>> {
        if text.value.contains(['\r', '\n', '\0']) {
            self.no_control_characters(text, "a header value");
            return None;
        }
        // Its text is fixed and the signature and timestamp are ASCII: what HTTP carries in a
        // header (visible ASCII, space, tab) can be checked whole, here.
        let not_carried = text
            .value
            .char_indices()
            .find(|(_, c)| !(matches!(c, ' '..='~') || *c == '\t'));
        if let Some((offset, found)) = not_carried {
            self.report
                .error_spanning(
                    text.pos_at(offset),
                    text.width_of(offset, found.len_utf8()).unwrap_or(1),
                    format!(
                        "a signature header's value holds {}, which HTTP headers do not carry",
                        if found.is_ascii() {
                            "a control character"
                        } else {
                            "a character outside ASCII"
                        }
                    ),
                )
                .help("write it in visible ASCII, as in `value: \"sha256={signature}\"`");
            return None;
        }
        let known = [
            ("{signature}", Placeholder::Signature),
            ("{timestamp}", Placeholder::Timestamp),
        ];
        let message = "a signature header's value holds only `{signature}`, `{timestamp}` and text";
        let pieces =
            self.signature_template(text, &known, message, "`value: \"sha256={signature}\"`")?;
        let mut parts = Vec::new();
        let mut signatures = 0;
        for piece in pieces {
            parts.push(match piece {
                Piece::Text(text) => ir::ValuePart::Text(text),
                Piece::Placeholder(Placeholder::Signature, at, width) => {
                    signatures += 1;
                    if signatures > 1 {
                        self.report
                            .error_spanning(
                                text.pos_at(at),
                                text.width_of(at, width).unwrap_or(1),
                                "the value holds `{signature}` twice",
                            )
                            .help("a header carries one signature: remove this one");
                        return None;
                    }
                    ir::ValuePart::Signature
                }
                Piece::Placeholder(..) => ir::ValuePart::Timestamp,
            });
        }
        if signatures == 0 {
            self.report
                .error_spanning(
                    text.pos_at(0),
                    text.width_of(0, text.value.len()).unwrap_or(1),
                    "the signature header's value has no `{signature}`",
                )
                .help("write where the signature goes, as in `value: \"sha256={signature}\"`");
            return None;
        }
        Some(parts)
    }

    /// `text` cut at the placeholders `known` names; any other `{…}` is an error saying
    /// `message`, with `example` as its help.
    fn signature_template(
        &mut self,
        text: &Text,
        known: &[(&'static str, Placeholder)],
        message: &str,
        example: &str,
    ) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut rest = text.value.as_str();
        let mut offset = 0;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let after = &rest[open..];
            let Some(&(name, placeholder)) = known.iter().find(|(name, _)| after.starts_with(name))
            else {
                let width = if after.starts_with("{{") {
                    after.find("}}").map_or(after.len(), |close| close + 2)
                } else {
                    after.find('}').map_or(after.len(), |close| close + 1)
                };
                let help = if after.starts_with("{{") {
                    format!("placeholders here take single braces, as in {example}")
                } else {
                    format!("for example {example}")
                };
                self.report
                    .error_spanning(
                        text.pos_at(offset + open),
                        text.width_of(offset + open, width).unwrap_or(1),
                        message,
                    )
                    .help(help);
                return None;
            };
            pieces.push(Piece::Placeholder(placeholder, offset + open, name.len()));
            rest = &after[name.len()..];
            offset += open + name.len();
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Some(pieces)
    }

    /// A call's or webhook's `auth:` names a scheme that checked out, and its own headers do
    /// not set what the scheme sets.
    pub(super) fn auth_of(
        &mut self,
        auth: Option<&Text>,
        headers: &[(Text, Text)],
        place: Place,
    ) -> Option<ir::AuthScheme> {
        let name = auth?;
        let Some(scheme) = self.auth.iter().find(|s| s.name == name.value).cloned() else {
            self.unknown_scheme(name);
            return None;
        };
        if place == Place::Webhook && !matches!(scheme.kind, ir::AuthKind::Basic { .. }) {
            self.report
                .error_spanning(
                    name.pos,
                    name.width(),
                    format!(
                        "`{}` is not a `basic` scheme: webhooks authenticate with Basic only, for now",
                        name.value
                    ),
                )
                .help("webhooks are already signed with their `secret:`; give the receiver a `basic:` scheme if it wants credentials too");
            return None;
        }
        let set_by_scheme = set_headers(&scheme);
        for (header, _) in headers {
            if let Some(set) = set_by_scheme
                .iter()
                .find(|set| set.eq_ignore_ascii_case(&header.value))
            {
                self.report
                    .error_spanning(
                        header.pos,
                        header.width(),
                        format!(
                            "`{}` is set by the `{}` auth scheme; this header would fight it",
                            set, scheme.name
                        ),
                    )
                    .help("remove the header, or the `auth:`");
            }
        }
        Some(scheme)
    }

    /// An `auth:` that names no scheme (or one with errors, already reported).
    fn unknown_scheme(&mut self, name: &Text) {
        if self.auth_declared.contains(&name.value) {
            return;
        }
        let known: Vec<&str> = self.auth_declared.iter().map(String::as_str).collect();
        let help = did_you_mean(&name.value, known.iter().copied()).unwrap_or_else(|| {
            if known.is_empty() {
                "declare it under a top-level `auth:`".to_owned()
            } else {
                format!("the schemes are {}", known.join(", "))
            }
        });
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!("unknown auth scheme `{}`", name.value),
            )
            .help(help);
    }
}

/// The headers a scheme sets on each request.
fn set_headers(scheme: &ir::AuthScheme) -> Vec<&str> {
    match &scheme.kind {
        ir::AuthKind::OAuth2 { .. } | ir::AuthKind::Basic { .. } => vec!["Authorization"],
        ir::AuthKind::Mtls { .. } => Vec::new(),
        ir::AuthKind::Hmac {
            header,
            timestamp_header,
            ..
        } => std::iter::once(header.as_str())
            .chain(timestamp_header.as_deref())
            .collect(),
    }
}

/// What a signature's `payload` or `value` may name.
#[derive(Clone, Copy, PartialEq)]
enum Placeholder {
    Timestamp,
    Body,
    Signature,
}

/// A piece of a signature template: text, or a placeholder with its byte offset and width in
/// the YAML text (for errors).
enum Piece {
    Text(String),
    Placeholder(Placeholder, usize, usize),
}
