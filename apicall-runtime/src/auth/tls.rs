//! Client certificates: one `reqwest::Client` per identity, built once and kept.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest as _, Sha256};

use super::Identity;
use crate::Error;

/// Cache key: scheme, SHA-256 of the certificate and key PEM.
type Key = (&'static str, [u8; 32]);

/// The identity clients of one [`Client`](crate::Client) and its clones.
#[derive(Default)]
pub(crate) struct Identities {
    clients: Mutex<HashMap<Key, reqwest::Client>>,
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The schemes only: never the certificate, the key or their hash.
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut schemes: Vec<&str> = clients.keys().map(|(scheme, _)| *scheme).collect();
        schemes.sort_unstable();
        f.debug_struct("Identities")
            .field("schemes", &schemes)
            .finish()
    }
}

impl Identities {
    /// The client that presents `identity`, built with `builder` the first time.
    pub(crate) fn client(
        &self,
        call: &'static str,
        identity: &Identity,
        builder: impl FnOnce() -> reqwest::ClientBuilder,
    ) -> Result<reqwest::Client, Error> {
        let scheme = identity.scheme;
        let certificate = identity.certificate_pem.expose().as_bytes();
        let key = identity.key_pem.expose().as_bytes();
        if certificate.is_empty() || key.is_empty() {
            return Err(super::invalid(
                call,
                scheme,
                "the client certificate or key is empty",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(certificate.len().to_le_bytes());
        hasher.update(certificate);
        hasher.update(key);
        let digest: [u8; 32] = hasher.finalize().into();
        let cache_key = (scheme, digest);
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&cache_key) {
            return Ok(client.clone());
        }
        let invalid = |source: reqwest::Error| Error::InvalidIdentity {
            call,
            scheme,
            source,
        };
        let mut pem = Vec::with_capacity(certificate.len() + key.len() + 1);
        pem.extend_from_slice(certificate);
        pem.push(b'\n');
        pem.extend_from_slice(key);
        let client = builder()
            .identity(reqwest::Identity::from_pem(&pem).map_err(invalid)?)
            .build()
            .map_err(invalid)?;
        clients.insert(cache_key, client.clone());
        Ok(client)
    }
}
