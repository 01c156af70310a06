//! The worker each process runs per outbox: it claims due rows under a lease, sends each
//! attempt with today's retry policy, and writes how it ended.

use super::row::rebuild;
use super::*;

/// A claimed row, ready to send.
pub(super) struct Claimed {
    pub(super) id: i64,
    pub(super) webhook: String,
    pub(super) idempotency_key: String,
    pub(super) url: String,
    pub(super) headers: String,
    pub(super) body: Vec<u8>,
    pub(super) signing_key: Option<String>,
    pub(super) timeout_ms: u64,
    pub(super) retries: u32,
    /// Including the one about to be made.
    pub(super) attempts: u32,
}

/// How an attempt ended, to write to its row.
pub(super) enum Settle {
    Delivered {
        status: u16,
    },
    Retry {
        at: i64,
        status: Option<u16>,
        error: String,
    },
    GaveUp {
        status: Option<u16>,
        error: String,
    },
    Parked(ParkReason),
}

impl Outbox {
    /// Starts this process's worker on the current Tokio runtime, unless one is running.
    pub(crate) fn ensure_worker(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut worker = self
            .shared
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A worker whose runtime shut down has finished; start another on this one.
        if worker.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let outbox = self.clone();
        *worker = Some(runtime.spawn(async move { outbox.run().await }));
    }

    /// The worker: claims due rows, sends each in a task of its own, sleeps until the next is
    /// due (or a row is written), and removes rows past their retention. Runs for the
    /// runtime's life.
    async fn run(self) {
        let mut last_purge: Option<i64> = None;
        loop {
            let now = now_ms();
            if last_purge.is_none_or(|at| now.saturating_sub(at) >= millis(PURGE_EVERY)) {
                last_purge = Some(now);
                let before = now.saturating_sub(millis(self.retention));
                match self.shared.store.purge_async(before).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::debug!(removed, "outbox rows past retention removed"),
                    Err(error) => tracing::warn!(%error, "outbox purge failed"),
                }
            }
            // Lease no more rows than this process is ready to send: the rest stay free for
            // the fleet's other workers.
            let free = self.shared.sending.available_permits().min(CLAIM_LIMIT);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let wanted = self.wanted();
                match self
                    .shared
                    .store
                    .claim(&self.shared.owner, now, free, self.lease_margin, wanted)
                    .await
                {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(%error, "outbox claim failed");
                        Vec::new()
                    }
                }
            };
            // A full claim: more may be due.
            let busy = free > 0 && claimed.len() == free;
            let client = self.client();
            for row in claimed {
                let (outbox, client) = (self.clone(), client.clone());
                let permit = Arc::clone(&self.shared.sending).try_acquire_owned().ok();
                tokio::spawn(async move {
                    outbox.send_row(&client, row).await;
                    drop(permit);
                    // A slot is free: the loop may claim again.
                    outbox.shared.wake.notify_one();
                });
            }
            let wait = if busy {
                Duration::ZERO
            } else if free == 0 {
                // Every slot is sending; a finished send wakes the loop.
                POLL_INTERVAL
            } else {
                match self.shared.store.next_due().await {
                    Ok(Some(due)) if due > now => {
                        Duration::from_millis(u64::try_from(due - now).unwrap_or(0))
                            .min(POLL_INTERVAL)
                    }
                    // Due now but not claimed: rows this process cannot send; or nothing.
                    _ => POLL_INTERVAL,
                }
            };
            if !wait.is_zero() {
                let _ = tokio::time::timeout(wait, self.shared.wake.notified()).await;
            }
        }
    }

    /// Which rows this process can send: any that needs no secret, its own, and with a
    /// resolver every one.
    fn wanted(&self) -> Wanted {
        let shared = Arc::clone(&self.shared);
        let resolves = self.resolver.is_some();
        Arc::new(move |id, needs_secrets| {
            !needs_secrets
                || resolves
                || shared
                    .held
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains_key(&id)
        })
    }

    /// The client set up with this outbox most recently (see [`Outbox::use_client`]).
    fn client(&self) -> Client {
        self.shared
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_default()
    }

    /// One attempt at a claimed row, and its outcome written back.
    async fn send_row(&self, client: &Client, row: Claimed) {
        let (spec, secrets) = {
            let held = self
                .shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match held.get(&row.id) {
                Some(held) => (held.spec, Some(held.secrets.clone())),
                None => (spec_for(&row.webhook, row.timeout_ms, row.retries), None),
            }
        };
        let span = tracing::info_span!(
            "apicall.webhook",
            webhook = spec.name,
            attempts = row.attempts,
            status = tracing::field::Empty,
            outbox_row = row.id,
        );
        async {
            let resolve = |name: &str| -> Option<Secret> {
                let secret = match &secrets {
                    Some(held) => held.get(name).cloned(),
                    None => None,
                }
                .or_else(|| self.resolver.as_ref().and_then(|resolve| resolve(name)));
                secret.filter(|secret| !secret.is_empty())
            };
            let webhook = match rebuild(&row, spec, &resolve) {
                Ok(webhook) => webhook,
                Err(reason) => {
                    tracing::warn!(%reason, "webhook parked in the outbox");
                    let error = WebhookError::Parked {
                        webhook: spec.name,
                        reason: reason.clone(),
                    };
                    self.finish_row(row.id, Settle::Parked(reason), Err(error))
                        .await;
                    return;
                }
            };
            let verdict = webhook.try_once(client).await;
            if let Some(status) = verdict.status() {
                tracing::Span::current().record("status", status);
            }
            let attempts = row.attempts;
            let (settle, result) = match verdict {
                Verdict::Delivered { status } => {
                    tracing::info!(attempts, status, "webhook delivered");
                    let delivered = Delivered {
                        webhook: spec.name,
                        status,
                        attempts,
                        idempotency_key: row.idempotency_key.clone(),
                    };
                    (Settle::Delivered { status }, Ok(delivered))
                }
                Verdict::Redirected { status } => (
                    Settle::GaveUp {
                        status: Some(status),
                        error: "redirected".to_owned(),
                    },
                    Err(WebhookError::Redirected {
                        webhook: spec.name,
                        attempts,
                    }),
                ),
                Verdict::Rejected { status } => (
                    Settle::GaveUp {
                        status: Some(status),
                        error: format!("rejected with HTTP {status}"),
                    },
                    Err(WebhookError::Rejected {
                        webhook: spec.name,
                        status,
                        attempts,
                    }),
                ),
                Verdict::Failed(failure) => {
                    let status = verdict_status(&failure);
                    match retry_wait(client, spec, attempts, &failure) {
                        Some(wait) => {
                            tracing::debug!(attempt = attempts, error = %failure.error, wait_ms = wait.as_millis(), "webhook attempt failed; retrying");
                            let settle = Settle::Retry {
                                at: now_ms().saturating_add(millis(wait)),
                                status,
                                error: failure.error.to_string(),
                            };
                            if let Err(error) = self
                                .shared
                                .store
                                .settle(row.id, &self.shared.owner, now_ms(), settle)
                                .await
                            {
                                tracing::warn!(%error, "outbox row not updated; its lease will expire");
                            }
                            self.shared.wake.notify_one();
                            return;
                        }
                        None => (
                            Settle::GaveUp {
                                status,
                                error: failure.error.to_string(),
                            },
                            Err(WebhookError::GaveUp {
                                webhook: spec.name,
                                attempts,
                                last: failure.error,
                            }),
                        ),
                    }
                }
            };
            if let Err(error) = &result {
                tracing::warn!(%error, "webhook not delivered");
            }
            self.finish_row(row.id, settle, result).await;
        }
        .instrument(span)
        .await;
    }

    /// Writes a row's last state and tells whoever waits in this process.
    async fn finish_row(&self, id: i64, settle: Settle, result: Result<Delivered, WebhookError>) {
        let written = self
            .shared
            .store
            .settle(id, &self.shared.owner, now_ms(), settle)
            .await;
        match written {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("outbox row's lease was lost; another worker has it");
                return;
            }
            Err(error) => {
                // The lease expires and the row is sent again: the receiver dedupes by key.
                tracing::warn!(%error, "outbox row not updated; its lease will expire");
                return;
            }
        }
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(waiter) = held.and_then(|held| held.waiter) {
            let _ = waiter.send(result);
        }
    }
}

pub(super) fn verdict_status(failure: &crate::webhook::Failure) -> Option<u16> {
    match failure.error {
        crate::Error::Status { status, .. } => Some(status),
        _ => None,
    }
}

/// A `'static` spec for a webhook known only from a row (written by another process). Each
/// distinct name, timeout and retries is leaked once: a process sees a handful.
pub(super) fn spec_for(name: &str, timeout_ms: u64, retries: u32) -> &'static CallSpec {
    static SPECS: Mutex<Vec<&'static CallSpec>> = Mutex::new(Vec::new());
    let mut specs = SPECS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(spec) = specs
        .iter()
        .find(|spec| spec.name == name && spec.timeout_ms == timeout_ms && spec.retries == retries)
    {
        return spec;
    }
    let spec: &'static CallSpec = Box::leak(Box::new(CallSpec {
        name: Box::leak(name.to_owned().into_boxed_str()),
        method: Method::Post,
        timeout_ms,
        retries,
    }));
    specs.push(spec);
    spec
}
