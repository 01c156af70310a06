//! TLS to PostgreSQL: the settings of a libpq connection string that rust-postgres does not
//! read itself (`sslmode=verify-full`, `sslrootcert`, `sslcert`, `sslkey`), and the rustls
//! connector they make, verified as reqwest verifies a server.

use std::borrow::Cow;
use std::sync::Arc;

use postgres::Config;
use postgres::config::SslMode;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::outbox::{keywords, location};

/// Why an outbox could not be opened, before any connection was tried.
type SetupError = Box<dyn std::error::Error + Send + Sync>;

/// The connection settings of `url` (a URL or `key=value` pairs), and the TLS connector when
/// they ask for TLS: the platform's roots and `extra_roots` (PEM) trusted, the TLS files the
/// string names read, and the client certificate, when one is named, presented.
pub(super) fn connection_settings(
    url: &str,
    extra_roots: &[u8],
) -> Result<(Config, Option<MakeRustlsConnect>), SetupError> {
    let (url, files) = libpq_tls(url);
    let read = |setting: &str, path: &str| -> Result<Vec<u8>, SetupError> {
        std::fs::read(path)
            .map_err(|error| format!("cannot read the {setting} file `{path}`: {error}").into())
    };
    let mut roots = extra_roots.to_vec();
    if let Some(path) = &files.roots {
        roots.push(b'\n');
        roots.extend(read("sslrootcert", path)?);
    }
    let identity = match (&files.certificate, &files.key) {
        (None, None) => None,
        (Some(certificate), Some(key)) => Some(Identity {
            certificates: read("sslcert", certificate)?,
            key: read("sslkey", key)?,
        }),
        _ => return Err("`sslcert` and `sslkey` go together: give both, or neither".into()),
    };
    let config: Config = url.parse()?;
    let tls = match config.get_ssl_mode() {
        SslMode::Require => Some(tls_connector(&roots, identity.as_ref())?),
        _ if identity.is_some() => {
            return Err("`sslcert` needs TLS: add `sslmode=require` (or `verify-full`)".into());
        }
        _ => None,
    };
    Ok((config, tls))
}

/// The TLS files a libpq connection string names, which rust-postgres does not read itself.
#[derive(Debug, Default, PartialEq)]
struct TlsFiles {
    /// `sslrootcert`: certificates to trust beside the platform's (`system`: none).
    roots: Option<String>,
    /// `sslcert`: the client's certificate chain, for a server that asks for one.
    certificate: Option<String>,
    /// `sslkey`: the client certificate's private key.
    key: Option<String>,
}

/// A libpq connection string as rust-postgres reads it: `sslmode=verify-full` and `verify-ca`
/// become `require` (which checks the certificate and, stricter than libpq's `verify-ca`, the
/// host name), and `sslrootcert`, `sslcert` and `sslkey` are taken out, their paths returned
/// to be read. Both forms, a URL's query and `key=value` pairs; a string without these
/// settings is left as it is, byte for byte.
fn libpq_tls(url: &str) -> (Cow<'_, str>, TlsFiles) {
    let unchanged = (Cow::Borrowed(url), TlsFiles::default());
    if !location::is_postgres_url(url) {
        let Some((kept, files)) = keywords::parse(url).and_then(take_tls_files) else {
            return unchanged;
        };
        return (Cow::Owned(keywords::write(&kept)), files);
    }
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return unchanged;
    };
    let pairs = parsed.query_pairs().into_owned().collect();
    let Some((kept, files)) = take_tls_files(pairs) else {
        return unchanged;
    };
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    (Cow::Owned(parsed.into()), files)
}

/// `pairs` without the TLS files libpq reads (returned beside them) and with `sslmode`'s
/// verifying values as `require`; `None` when there is none of either.
fn take_tls_files(pairs: Vec<(String, String)>) -> Option<(Vec<(String, String)>, TlsFiles)> {
    const FILES: [&str; 3] = ["sslrootcert", "sslcert", "sslkey"];
    let verify =
        |key: &str, value: &str| key == "sslmode" && matches!(value, "verify-full" | "verify-ca");
    if !(pairs.iter()).any(|(key, value)| FILES.contains(&key.as_str()) || verify(key, value)) {
        return None;
    }
    let mut files = TlsFiles::default();
    let mut kept = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match key.as_str() {
            "sslrootcert" => files.roots = Some(value).filter(|path| path != "system"),
            "sslcert" => files.certificate = Some(value),
            "sslkey" => files.key = Some(value),
            _ if verify(&key, &value) => kept.push((key, "require".to_owned())),
            _ => kept.push((key, value)),
        }
    }
    Some((kept, files))
}

/// A client certificate chain and its private key, PEM.
struct Identity {
    certificates: Vec<u8>,
    key: Vec<u8>,
}

/// TLS as reqwest does it: rustls with aws-lc-rs, the platform's roots and `extra_roots`
/// (PEM), and the server's name checked; with `identity`, the client certificate a server
/// that asks for one (`clientcert=verify-full`, `cert` authentication) gets.
fn tls_connector(
    extra_roots: &[u8],
    identity: Option<&Identity>,
) -> Result<MakeRustlsConnect, TlsSetupError> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject as _;
    let roots = CertificateDer::pem_slice_iter(extra_roots)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsSetupError::RootCertificate(error.to_string()))?;
    // Roots given that hold no certificate (DER, a key, a wrong file) would otherwise be
    // ignored, and the connection refused later for a reason that hides this one.
    if roots.is_empty() && !extra_roots.trim_ascii().is_empty() {
        let found = "no `-----BEGIN CERTIFICATE-----` section".to_owned();
        return Err(TlsSetupError::RootCertificate(found));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, Arc::clone(&provider))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = match identity {
        None => config.with_no_client_auth(),
        Some(identity) => {
            let chain = CertificateDer::pem_slice_iter(&identity.certificates)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| TlsSetupError::ClientCertificate(error.to_string()))?;
            if chain.is_empty() {
                let found = "no `-----BEGIN CERTIFICATE-----` section".to_owned();
                return Err(TlsSetupError::ClientCertificate(found));
            }
            let key = PrivateKeyDer::from_pem_slice(&identity.key)
                .map_err(|error| TlsSetupError::ClientKey(error.to_string()))?;
            config
                .with_client_auth_cert(chain, key)
                .map_err(client_identity_error)?
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Why rustls would not take the client certificate and key: said as a setting's problem
/// (rustls calls its own certificate a "peer certificate" here), with what to do about the
/// X.509 v1 certificates `openssl x509 -req` issues without extensions, which libpq takes.
fn client_identity_error(error: rustls::Error) -> TlsSetupError {
    let version_1 = matches!(
        &error,
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))
            if format!("{other:?}").contains("UnsupportedCertVersion")
    );
    let reason = if version_1 {
        "it is an X.509 version 1 certificate, and rustls takes version 3 only: reissue it with \
         any extension (`openssl x509 -req ... -extfile` with `basicConstraints=CA:FALSE`)"
            .to_owned()
    } else {
        error.to_string()
    };
    TlsSetupError::ClientIdentity(reason)
}

/// Why TLS to PostgreSQL could not be set up.
#[derive(Debug, thiserror::Error)]
enum TlsSetupError {
    #[error("a root certificate is not PEM: {0}")]
    RootCertificate(String),
    #[error("the client certificate (sslcert) is not PEM: {0}")]
    ClientCertificate(String),
    // The key's text is never in the message: only what the PEM reader says of it.
    #[error("the client key (sslkey) is not a PEM private key: {0}")]
    ClientKey(String),
    #[error("the client certificate (sslcert) and key (sslkey) cannot be used: {0}")]
    ClientIdentity(String),
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

#[cfg(test)]
mod tests {
    use super::{Identity, TlsFiles, libpq_tls, tls_connector};

    #[test]
    fn an_x509_version_1_client_certificate_is_refused_saying_what_to_do() {
        // A throwaway test identity, as `openssl x509 -req` issues it without `-extfile`.
        let identity = Identity {
            certificates: include_bytes!("testdata/x509v1_client.crt").to_vec(),
            key: include_bytes!("testdata/x509v1_client.key").to_vec(),
        };
        let Err(error) = tls_connector(&[], Some(&identity)) else {
            panic!("a version 1 certificate was taken");
        };
        let shown = error.to_string();
        assert!(shown.contains("(sslcert)"), "{shown}");
        assert!(shown.contains("version 1"), "{shown}");
    }

    #[test]
    fn libpq_tls_settings_are_read_as_rust_postgres_takes_them() {
        let files = |roots: Option<&str>, certificate: Option<&str>, key: Option<&str>| TlsFiles {
            roots: roots.map(str::to_owned),
            certificate: certificate.map(str::to_owned),
            key: key.map(str::to_owned),
        };
        let (url, found) = libpq_tls(
            "postgres://agent:pw@db.example.com:5432/agent?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x",
        );
        assert_eq!(
            url,
            "postgres://agent:pw@db.example.com:5432/agent?sslmode=require&application_name=x"
        );
        assert_eq!(found, files(Some("/etc/ca.pem"), None, None));

        let (url, found) = libpq_tls("postgresql://db/agent?sslrootcert=system&sslmode=verify-ca");
        assert_eq!(url, "postgresql://db/agent?sslmode=require");
        assert_eq!(found, TlsFiles::default());

        let (url, found) = libpq_tls("postgresql://db/agent?sslrootcert=/ca.pem");
        assert_eq!(url, "postgresql://db/agent");
        assert_eq!(found, files(Some("/ca.pem"), None, None));

        let (url, found) = libpq_tls(
            "postgresql://agent@db/agent?sslmode=verify-full&sslcert=/c%20d/agent.crt&sslkey=/k.key",
        );
        assert_eq!(url, "postgresql://agent@db/agent?sslmode=require");
        assert_eq!(found, files(None, Some("/c d/agent.crt"), Some("/k.key")));

        // libpq's other form, as RDS and psql write it.
        let (dsn, found) = libpq_tls(
            "host=db.example.com password='p w\\'d' sslmode=verify-full sslrootcert=/etc/ca.pem",
        );
        assert_eq!(
            dsn,
            "host='db.example.com' password='p w\\'d' sslmode='require'"
        );
        assert_eq!(found, files(Some("/etc/ca.pem"), None, None));
        let (dsn, found) = libpq_tls("host=db sslmode=require sslcert=/a.crt sslkey = '/k.key'");
        assert_eq!(dsn, "host='db' sslmode='require'");
        assert_eq!(found, files(None, Some("/a.crt"), Some("/k.key")));

        for untouched in [
            "postgres://agent:p%40ss@db/agent?sslmode=require&host=%2Ftmp",
            "host=db sslmode=require",
            "host=db password='open",
            "postgres://db/agent",
        ] {
            let (url, found) = libpq_tls(untouched);
            assert_eq!((url.as_ref(), found), (untouched, TlsFiles::default()));
        }
    }
}
