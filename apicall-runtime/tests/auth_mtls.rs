//! Client certificates (mutual TLS) against a local rustls server that requires one, with a
//! test CA and certificates made here by rcgen: the runtime trusts the CA through
//! `Client::with_root_certificate`, a call with the identity gets through, one without (or with a
//! certificate from another CA) is refused with a typed TLS error.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apicall_runtime::call::{CallSpec, Method, Request};
use apicall_runtime::{Client, Error, Secret};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static SPEC: CallSpec = CallSpec {
    name: "whoami",
    method: Method::Get,
    timeout_ms: 5000,
    retries: 0,
};

/// A certificate authority that signs the server's and clients' certificates.
struct Ca {
    pem: String,
    der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let certificate = params.self_signed(&key).unwrap();
    Ca {
        pem: certificate.pem(),
        der: certificate.der().clone(),
        issuer: Issuer::new(params, key),
    }
}

/// A leaf certificate signed by `ca`: its DER and PEM, and its key.
fn leaf(
    ca: &Ca,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> (CertificateDer<'static>, String, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "apicall test");
    params.extended_key_usages = vec![usage];
    let certificate = params.signed_by(&key, &ca.issuer).unwrap();
    (certificate.der().clone(), certificate.pem(), key)
}

struct Server {
    url: String,
    /// Requests answered, each over a verified client certificate.
    served: Arc<AtomicUsize>,
    /// Handshakes the server refused.
    refused: Arc<AtomicUsize>,
}

/// A TLS server on 127.0.0.1:0 that requires a client certificate signed by `client_ca`, and
/// answers every request over such a connection with `{"ok":true}`.
async fn start(server_ca: &Ca, client_ca: &Ca) -> Server {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(client_ca.der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let (certificate, _, key) = leaf(
        server_ca,
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![certificate], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let (served_count, refused_count) = (Arc::clone(&served), Arc::clone(&refused));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let (served, refused) = (Arc::clone(&served_count), Arc::clone(&refused_count));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    refused.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                assert!(tls.get_ref().1.peer_certificates().is_some());
                let mut head = Vec::new();
                let mut buffer = [0; 1024];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                served.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"ok":true}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Server {
        url: format!("https://127.0.0.1:{}/whoami", address.port()),
        served,
        refused,
    }
}

fn trusting(ca: &Ca) -> Client {
    let root = apicall_runtime::reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap();
    Client::new().with_root_certificate(root).unwrap()
}

async fn call(
    client: &Client,
    url: &str,
    identity: Option<(&str, &str)>,
) -> Result<bytes::Bytes, Error> {
    let mut request = Request::new(client, &SPEC);
    request.push_url_raw(url);
    if let Some((certificate, key)) = identity {
        request.client_identity("partner_mtls", &Secret::new(certificate), &Secret::new(key));
    }
    request.send().await
}

#[tokio::test]
async fn a_call_with_the_client_certificate_gets_through_and_one_without_is_refused() {
    let authority = ca("apicall test CA");
    let server = start(&authority, &authority).await;
    let (_, certificate, key) = leaf(
        &authority,
        &["client.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let key = key.serialize_pem();
    let client = trusting(&authority);

    let body = call(&client, &server.url, Some((&certificate, &key)))
        .await
        .unwrap();
    assert_eq!(&body[..], br#"{"ok":true}"#);
    assert_eq!(server.served.load(Ordering::SeqCst), 1);
    // The same identity again: the client built for it is reused.
    call(&client, &server.url, Some((&certificate, &key)))
        .await
        .unwrap();
    assert_eq!(server.served.load(Ordering::SeqCst), 2);
    let shown = format!("{client:?}");
    assert!(shown.contains(r#"schemes: ["partner_mtls"]"#), "{shown}");
    assert!(!shown.contains("PRIVATE KEY") && !shown.contains(&key[40..80]));

    // Without a certificate: the server refuses the handshake.
    let error = call(&client, &server.url, None).await.unwrap_err();
    assert!(
        matches!(error, Error::Tls { call: "whoami", .. }),
        "{error:?}"
    );
    assert_eq!(server.served.load(Ordering::SeqCst), 2);
    assert!(server.refused.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn a_certificate_from_another_authority_is_refused() {
    let authority = ca("apicall test CA");
    let server = start(&authority, &authority).await;
    let stranger = ca("someone else's CA");
    let (_, certificate, key) = leaf(
        &stranger,
        &["client.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let client = trusting(&authority);
    let error = call(
        &client,
        &server.url,
        Some((&certificate, &key.serialize_pem())),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_the_ca_the_server_itself_is_not_trusted() {
    let authority = ca("apicall test CA");
    let server = start(&authority, &authority).await;
    let (_, certificate, key) = leaf(
        &authority,
        &["client.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let error = call(
        &Client::new(),
        &server.url,
        Some((&certificate, &key.serialize_pem())),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn pem_that_is_no_identity_is_a_typed_error_that_shows_no_key() {
    let authority = ca("apicall test CA");
    let (_, certificate, key) = leaf(
        &authority,
        &["client.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let key = key.serialize_pem();
    let client = trusting(&authority);
    // A key but no certificate, and text that is not PEM at all.
    for (certificate, key) in [("", key.as_str()), ("not pem", "not a key either")] {
        let error = call(
            &client,
            "https://127.0.0.1:1/whoami",
            Some((certificate, key)),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidIdentity {
                    scheme: "partner_mtls",
                    ..
                } | Error::InvalidCredentials {
                    scheme: "partner_mtls",
                    ..
                }
            ),
            "{error:?}"
        );
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("PRIVATE KEY") && !shown.contains("not a key"),
            "{shown}"
        );
    }
    // A certificate with no key.
    let error = call(
        &client,
        "https://127.0.0.1:1/whoami",
        Some((&certificate, "no key here")),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, Error::InvalidIdentity { .. }), "{error:?}");
}
