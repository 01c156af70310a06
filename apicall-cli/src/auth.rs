//! `auth:` schemes applied by the command line exactly as generated code applies them: the
//! runtime takes each scheme's description as `&'static`, and generated code has them as
//! constants; here they are built once from the loaded file, which lives for the rest of the
//! process (see `run::load`), so nothing is leaked.

use std::sync::OnceLock;

use apicall_build::request::{Auth, PayloadPart, Requests, Template, ValuePart, ValueRef};
use apicall_runtime::Secret;
use apicall_runtime::auth::{
    ClientAuth, HmacSpec, OAuth2Spec, PayloadPart as Part, SignatureEncoding,
    ValuePart as HeaderPart,
};
use apicall_runtime::call::Request;

/// The scopes, payloads and signature header values the scheme descriptions point into.
struct Parts {
    scopes: Vec<(&'static str, Vec<&'static str>)>,
    payloads: Vec<(&'static str, Vec<Part>)>,
    values: Vec<(&'static str, Vec<HeaderPart>)>,
}

/// Every OAuth2 and HMAC scheme of the file, described for the runtime.
struct Schemes {
    oauth2: Vec<OAuth2Spec>,
    hmac: Vec<HmacSpec>,
}

static PARTS: OnceLock<Parts> = OnceLock::new();
static SCHEMES: OnceLock<Schemes> = OnceLock::new();

/// Each scheme once, as the calls and webhooks that use it hold it.
fn each_scheme(requests: &'static Requests) -> impl Iterator<Item = &'static Auth> {
    let mut seen: Vec<&str> = Vec::new();
    requests
        .calls
        .iter()
        .chain(&requests.webhooks)
        .filter_map(|model| model.auth.as_ref())
        .filter(move |auth| {
            let new = !seen.contains(&auth.scheme());
            seen.push(auth.scheme());
            new
        })
}

fn schemes(requests: &'static Requests) -> &'static Schemes {
    SCHEMES.get_or_init(|| {
        let parts = PARTS.get_or_init(|| Parts {
            scopes: each_scheme(requests)
                .filter_map(|auth| match auth {
                    Auth::OAuth2 { scheme, scopes, .. } => {
                        Some((scheme.as_str(), scopes.iter().map(String::as_str).collect()))
                    }
                    _ => None,
                })
                .collect(),
            payloads: each_scheme(requests)
                .filter_map(|auth| match auth {
                    Auth::Hmac {
                        scheme, payload, ..
                    } => Some((scheme.as_str(), payload.iter().map(part).collect())),
                    _ => None,
                })
                .collect(),
            values: each_scheme(requests)
                .filter_map(|auth| match auth {
                    Auth::Hmac { scheme, value, .. } => {
                        Some((scheme.as_str(), value.iter().map(value_part).collect()))
                    }
                    _ => None,
                })
                .collect(),
        });
        let mut schemes = Schemes {
            oauth2: Vec::new(),
            hmac: Vec::new(),
        };
        for auth in each_scheme(requests) {
            match auth {
                Auth::OAuth2 {
                    scheme,
                    token_url,
                    client_auth_in_body,
                    ..
                } => schemes.oauth2.push(OAuth2Spec {
                    scheme: scheme.as_str(),
                    token_url: token_url.as_str(),
                    scopes: kept(&parts.scopes, scheme),
                    client_auth: if *client_auth_in_body {
                        ClientAuth::Body
                    } else {
                        ClientAuth::Basic
                    },
                }),
                Auth::Hmac {
                    scheme,
                    header,
                    timestamp_header,
                    base64,
                    ..
                } => schemes.hmac.push(HmacSpec {
                    scheme: scheme.as_str(),
                    header: header.as_str(),
                    timestamp_header: timestamp_header.as_deref(),
                    payload: kept(&parts.payloads, scheme),
                    encoding: if *base64 {
                        SignatureEncoding::Base64
                    } else {
                        SignatureEncoding::Hex
                    },
                    value: kept(&parts.values, scheme),
                }),
                _ => {}
            }
        }
        schemes
    })
}

/// What `parts` holds for the scheme `name`.
fn kept<'a, T>(parts: &'a [(&str, Vec<T>)], name: &str) -> &'a [T] {
    (parts.iter())
        .find(|(scheme, _)| *scheme == name)
        .map_or(&[], |(_, parts)| parts.as_slice())
}

fn value_part(part: &'static ValuePart) -> HeaderPart {
    match part {
        ValuePart::Text(text) => HeaderPart::Text(text),
        ValuePart::Timestamp => HeaderPart::Timestamp,
        _ => HeaderPart::Signature,
    }
}

fn part(part: &'static PayloadPart) -> Part {
    match part {
        PayloadPart::Text(text) => Part::Text(text),
        PayloadPart::Timestamp => Part::Timestamp,
        _ => Part::Body,
    }
}

/// Applies `auth` to `request`, reading its texts (a client id, a user name) with `text`
/// and its secrets with `secret`. Returns the header lines to show, masked.
pub(crate) fn apply(
    requests: &'static Requests,
    auth: &'static Auth,
    request: &mut Request<'_>,
    text: impl Fn(&Template) -> String,
    secret: impl Fn(&ValueRef) -> Secret,
) -> Vec<String> {
    match auth {
        Auth::OAuth2 {
            scheme,
            client_id,
            client_secret,
            ..
        } => {
            if let Some(spec) = (schemes(requests).oauth2.iter()).find(|s| s.scheme == scheme) {
                request.oauth2(spec, &text(client_id), &secret(client_secret));
            }
            vec![format!(
                "Authorization: Bearer *** (a token from the `{scheme}` scheme)"
            )]
        }
        Auth::Basic {
            username, password, ..
        } => {
            request.basic_auth(&text(username), &secret(password));
            vec!["Authorization: Basic ***".to_owned()]
        }
        Auth::Mtls {
            scheme,
            certificate,
            key,
        } => {
            request.client_identity(scheme, &secret(certificate), &secret(key));
            vec![format!("(client certificate of the `{scheme}` scheme)")]
        }
        Auth::Hmac {
            scheme,
            header,
            timestamp_header,
            secret: key,
            ..
        } => {
            if let Some(spec) = (schemes(requests).hmac.iter()).find(|s| s.scheme == scheme) {
                request.hmac_signature(spec, &secret(key));
            }
            std::iter::once(format!("{header}: *** (signed as it is sent)"))
                .chain(
                    timestamp_header
                        .iter()
                        .map(|name| format!("{name}: <unix seconds>")),
                )
                .collect()
        }
        _ => Vec::new(),
    }
}
