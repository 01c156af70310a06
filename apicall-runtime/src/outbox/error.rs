//! Why an outbox failed, why a webhook was not written to it, and why a row is parked.

/// Why an outbox failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The database could not be opened or created.
    #[error("outbox: cannot open {location}: {source}")]
    Open {
        /// The file or address, as given.
        location: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A migration failed; the schema is left as it was.
    #[error("outbox: migration {version} failed: {source}")]
    Migration {
        /// The migration's number.
        version: u32,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was migrated by a newer apicall than this one.
    #[error("outbox: schema version {found} is newer than this release knows ({known})")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this release knows.
        known: i64,
    },
    /// A query failed.
    #[error("outbox: {action} failed: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The backend's error (it names no stored value).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No row has that id, or it is in a state the action does not apply to.
    #[error("outbox: no {wanted} row with id {id}")]
    NoSuchRow {
        /// The row id.
        id: i64,
        /// The states the action wanted, in words.
        wanted: &'static str,
    },
    /// A database task could not finish (the runtime shut down).
    #[error("outbox: the database task was cancelled")]
    Cancelled,
}

impl OutboxError {
    #[allow(dead_code, reason = "used only by builds without one of the backends")]
    pub(super) fn missing_feature(location: &str, feature: &'static str) -> Self {
        OutboxError::Open {
            location: location.to_owned(),
            source: format!("this build of apicall-runtime lacks the `{feature}` feature").into(),
        }
    }
}

/// Why a webhook was not written to the outbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotQueued {
    /// A secret's value is in the URL: a row holds the URL as sent, so it would be stored.
    #[error("the secret `{secret}` is in the URL, and the outbox stores no secret")]
    SecretInUrl {
        /// The secret variable.
        secret: &'static str,
    },
    /// A secret's value is in the body: a row holds the body as sent, so it would be stored.
    #[error("the secret `{secret}` is in the body, and the outbox stores no secret")]
    SecretInBody {
        /// The secret variable.
        secret: &'static str,
    },
    /// A header is marked as holding a secret, but no named secret is in it: it could only be
    /// stored as it is.
    #[error("the header `{header}` holds a secret the webhook does not name")]
    UnnamedSecretHeader {
        /// The header's name.
        header: String,
    },
    /// The webhook is signed, but the key's variable is not named (it was prepared with
    /// `prepare_webhook` rather than `prepare_webhook_with_secrets`).
    #[error("the signing key is not named, and the outbox stores no secret")]
    UnnamedSigningKey,
    /// The row could not be written.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// Why a row is parked: the worker cannot send it as it stands, and leaves it for a person
/// (see [`Outbox::retry`]) instead of dropping it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParkReason {
    /// A secret the row names is not configured in the process that took it: neither held
    /// from the conversation that wrote it nor given by [`Outbox::with_secrets`] (or empty).
    #[error("the secret `{name}` is not configured in this process")]
    UnresolvedSecret {
        /// The secret variable's name.
        name: String,
    },
    /// The row cannot be turned back into a request (an edited or damaged row).
    #[error("the row cannot be read: {detail}")]
    Unreadable {
        /// What is wrong, naming no stored value.
        detail: String,
    },
}

impl ParkReason {
    pub(super) fn columns(&self) -> (&'static str, &str) {
        match self {
            ParkReason::UnresolvedSecret { name } => ("unresolved_secret", name),
            ParkReason::Unreadable { detail } => ("unreadable", detail),
        }
    }

    pub(super) fn from_columns(kind: Option<String>, detail: Option<String>) -> Option<Self> {
        let detail = detail.unwrap_or_default();
        match kind?.as_str() {
            "unresolved_secret" => Some(ParkReason::UnresolvedSecret { name: detail }),
            _ => Some(ParkReason::Unreadable { detail }),
        }
    }
}
