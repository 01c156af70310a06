//! Client certificates: one `reqwest::Client` per identity, built once and kept while it is
//! among the most recently used.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest as _, Sha256};

use super::Identity;
use crate::Error;

/// Cache key: scheme, SHA-256 of the certificate and key PEM.
type Key = (&'static str, [u8; 32]);

/// How many identity clients one [`Client`](crate::Client) keeps. Certificates are renewed
/// (every few hours, with some issuers) and tenants each bring their own, so a process that
/// kept every client it built would grow without end: past this many, the least recently used
/// one goes, and its idle connections with it.
pub(crate) const MAX_IDENTITY_CLIENTS: usize = 64;

/// The identity clients of one [`Client`](crate::Client) and its clones.
#[derive(Default)]
pub(crate) struct Identities {
    clients: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// Each client, with the `uses` count at its last use.
    clients: HashMap<Key, (reqwest::Client, u64)>,
    uses: u64,
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The schemes only: never the certificate, the key or their hash.
        let kept = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut schemes: Vec<&str> = kept.clients.keys().map(|(scheme, _)| *scheme).collect();
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
        let mut kept = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        kept.uses += 1;
        let now = kept.uses;
        if let Some((client, last_used)) = kept.clients.get_mut(&cache_key) {
            *last_used = now;
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
        if kept.clients.len() >= MAX_IDENTITY_CLIENTS {
            let least_recent = kept
                .clients
                .iter()
                .min_by_key(|(_, (_, last_used))| *last_used)
                .map(|(key, _)| *key);
            if let Some(key) = least_recent {
                kept.clients.remove(&key);
            }
        }
        kept.clients.insert(cache_key, (client.clone(), now));
        Ok(client)
    }

    /// How many clients are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        (self.clients.lock().unwrap_or_else(PoisonError::into_inner))
            .clients
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use std::cell::Cell;

    fn identity() -> Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["client.test".to_owned()]).unwrap();
        let certificate = params.self_signed(&key).unwrap();
        Identity {
            scheme: "partner_mtls",
            certificate_pem: Secret::new(certificate.pem()),
            key_pem: Secret::new(key.serialize_pem()),
        }
    }

    /// Whether `identity` was already kept: its client is built only when it was not.
    fn was_kept(identities: &Identities, identity: &Identity) -> bool {
        let built = Cell::new(false);
        identities
            .client("whoami", identity, || {
                built.set(true);
                reqwest::Client::builder()
            })
            .unwrap();
        !built.get()
    }

    #[test]
    fn past_the_limit_the_least_recently_used_client_goes() {
        let identities = Identities::default();
        let all: Vec<Identity> = (0..=MAX_IDENTITY_CLIENTS).map(|_| identity()).collect();
        for identity in &all[..MAX_IDENTITY_CLIENTS] {
            assert!(!was_kept(&identities, identity));
        }
        assert_eq!(identities.len(), MAX_IDENTITY_CLIENTS);
        // The first is used again, so the second is now the least recently used.
        assert!(was_kept(&identities, &all[0]));
        assert!(!was_kept(&identities, &all[MAX_IDENTITY_CLIENTS]));
        assert_eq!(identities.len(), MAX_IDENTITY_CLIENTS);
        assert!(was_kept(&identities, &all[0]));
        assert!(was_kept(&identities, &all[MAX_IDENTITY_CLIENTS]));
        assert!(!was_kept(&identities, &all[1]), "the second was let go");
    }
}
