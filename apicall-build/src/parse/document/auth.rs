//! `auth:`: named authentication schemes that calls and webhooks refer to by name.

use super::values::{key_text, list, mapping, text, unreachable_key};
use super::*;

/// One named scheme: `crm: { oauth2_client_credentials: {...} }`.
#[derive(Debug)]
pub(crate) struct AuthDecl {
    pub name: Text,
    /// Its kind and fields; `None` when the scheme had none (reported).
    pub kind: Option<AuthKindDecl>,
}

/// A scheme's kind, with its key (where missing fields are reported) and fields as written.
#[derive(Debug)]
pub(crate) enum AuthKindDecl {
    OAuth2 {
        key: Text,
        token_url: Option<Text>,
        client_id: Option<Text>,
        client_secret: Option<Text>,
        scopes: Vec<Text>,
        client_auth: Option<Text>,
        present: Vec<&'static str>,
    },
    Basic {
        key: Text,
        username: Option<Text>,
        password: Option<Text>,
        present: Vec<&'static str>,
    },
    Mtls {
        key: Text,
        certificate: Option<Text>,
        private_key: Option<Text>,
        present: Vec<&'static str>,
    },
    Hmac {
        key: Text,
        header: Option<Text>,
        timestamp_header: Option<Text>,
        secret: Option<Text>,
        payload: Option<Text>,
        encoding: Option<Text>,
        value: Option<Text>,
        present: Vec<&'static str>,
    },
}

pub(crate) const AUTH_KINDS: &[&str] = &[
    "oauth2_client_credentials",
    "basic",
    "mtls",
    "hmac_signature",
];
pub(crate) const OAUTH2_KEYS: &[&str] = &[
    "token_url",
    "client_id",
    "client_secret",
    "scopes",
    "client_auth",
];
pub(crate) const BASIC_KEYS: &[&str] = &["username", "password"];
pub(crate) const MTLS_KEYS: &[&str] = &["certificate", "key"];
pub(crate) const HMAC_KEYS: &[&str] = &[
    "header",
    "timestamp_header",
    "secret",
    "payload",
    "encoding",
    "value",
];

/// Reads `auth:`, a mapping of scheme names to schemes.
pub(super) fn read_auth(node: &Node, report: &mut Reporter<'_>, out: &mut Vec<AuthDecl>) {
    for (key, value) in mapping(node, "`auth`", report).unwrap_or_default() {
        let Some(name) = text(key, "a scheme name", report) else {
            continue;
        };
        let kind = read_scheme(&name, value, report);
        out.push(AuthDecl { name, kind });
    }
}

/// One scheme: a mapping with exactly one kind.
fn read_scheme(name: &Text, node: &Node, report: &mut Reporter<'_>) -> Option<AuthKindDecl> {
    let entries = mapping(node, "an auth scheme", report)?;
    let mut kind = None;
    for (key, value) in entries {
        let Some(known) = key_text(key, AUTH_KINDS, report) else {
            continue;
        };
        if kind.is_some() {
            report
                .error(key.pos, format!("scheme `{}` has two kinds", name.value))
                .help("give each kind of authentication its own scheme name");
            continue;
        }
        let key_text = scalar_text(key, known.to_owned());
        kind = match known {
            "oauth2_client_credentials" => Some(read_oauth2(key_text, value, report)),
            "basic" => Some(read_basic(key_text, value, report)),
            "mtls" => Some(read_mtls(key_text, value, report)),
            "hmac_signature" => Some(read_hmac(key_text, value, report)),
            _ => {
                unreachable_key(key, report);
                None
            }
        };
    }
    if kind.is_none() && entries.is_empty() {
        report
            .error(node.pos, format!("scheme `{}` says nothing", name.value))
            .help(
                "give it one of `oauth2_client_credentials:`, `basic:`, `mtls:` or \
                 `hmac_signature:`",
            );
    }
    kind
}

fn read_oauth2(key: Text, node: &Node, report: &mut Reporter<'_>) -> AuthKindDecl {
    let (mut token_url, mut client_id, mut client_secret, mut client_auth) =
        (None, None, None, None);
    let mut scopes = Vec::new();
    let mut present = Vec::new();
    for (field, value) in mapping(node, "`oauth2_client_credentials`", report).unwrap_or_default() {
        let known = key_text(field, OAUTH2_KEYS, report);
        present.extend(known);
        match known {
            Some("token_url") => token_url = text(value, "`token_url`", report),
            Some("client_id") => client_id = text(value, "`client_id`", report),
            Some("client_secret") => client_secret = text(value, "`client_secret`", report),
            Some("client_auth") => client_auth = text(value, "`client_auth`", report),
            Some("scopes") => {
                scopes = list(value, "`scopes`", report)
                    .iter()
                    .filter_map(|scope| text(scope, "a scope", report))
                    .collect();
            }
            Some(_) => unreachable_key(field, report),
            None => {}
        }
    }
    AuthKindDecl::OAuth2 {
        key,
        token_url,
        client_id,
        client_secret,
        scopes,
        client_auth,
        present,
    }
}

fn read_basic(key: Text, node: &Node, report: &mut Reporter<'_>) -> AuthKindDecl {
    let (mut username, mut password) = (None, None);
    let mut present = Vec::new();
    for (field, value) in mapping(node, "`basic`", report).unwrap_or_default() {
        let known = key_text(field, BASIC_KEYS, report);
        present.extend(known);
        match known {
            Some("username") => username = text(value, "`username`", report),
            Some("password") => password = text(value, "`password`", report),
            Some(_) => unreachable_key(field, report),
            None => {}
        }
    }
    AuthKindDecl::Basic {
        key,
        username,
        password,
        present,
    }
}

fn read_mtls(key: Text, node: &Node, report: &mut Reporter<'_>) -> AuthKindDecl {
    let (mut certificate, mut private_key) = (None, None);
    let mut present = Vec::new();
    for (field, value) in mapping(node, "`mtls`", report).unwrap_or_default() {
        let known = key_text(field, MTLS_KEYS, report);
        present.extend(known);
        match known {
            Some("certificate") => certificate = text(value, "`certificate`", report),
            Some("key") => private_key = text(value, "`key`", report),
            Some(_) => unreachable_key(field, report),
            None => {}
        }
    }
    AuthKindDecl::Mtls {
        key,
        certificate,
        private_key,
        present,
    }
}

fn read_hmac(key: Text, node: &Node, report: &mut Reporter<'_>) -> AuthKindDecl {
    let (mut header, mut timestamp_header, mut secret, mut payload, mut encoding, mut value) =
        (None, None, None, None, None, None);
    let mut present = Vec::new();
    for (field, given) in mapping(node, "`hmac_signature`", report).unwrap_or_default() {
        let known = key_text(field, HMAC_KEYS, report);
        present.extend(known);
        match known {
            Some("header") => header = text(given, "`header`", report),
            Some("timestamp_header") => {
                timestamp_header = text(given, "`timestamp_header`", report);
            }
            Some("secret") => secret = text(given, "`secret`", report),
            Some("payload") => payload = text(given, "`payload`", report),
            Some("encoding") => encoding = text(given, "`encoding`", report),
            Some("value") => value = text(given, "`value`", report),
            Some(_) => unreachable_key(field, report),
            None => {}
        }
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
    }
}
