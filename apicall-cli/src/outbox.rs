//! `apicall outbox FILE|URL list|retry|purge`: inspects a durable webhook outbox (a SQLite
//! file or a PostgreSQL database, as [`Outbox::open`] takes them) and acts on its rows,
//! through the runtime's own calls. It starts no worker: a retried row is sent by the worker
//! of a process that uses the outbox.
//!
//! What it prints never holds a row's URL, headers or body (the runtime does not hand them
//! out), nor a connection string's password (see [`masked`]).
//!
//! Exit status: 0 when done, 1 when an action fails (a row cannot be retried, a query fails),
//! 2 when the outbox cannot be opened (as for a file that cannot be read) or the command line
//! is wrong.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use apicall_runtime::reqwest::Url;
use apicall_runtime::{DEFAULT_RETENTION, Outbox, OutboxError, OutboxRow, RowState};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::run::Stop;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when done, 1 when an action fails (an id that cannot be \
    retried, a failed query), 2 when the outbox cannot be opened (a SQLite file that does not \
    exist, say) or the command line is wrong."
)]
pub(crate) struct OutboxArgs {
    /// The outbox: the path of its SQLite file (which must exist), or a PostgreSQL connection
    /// string, `postgres://USER:PASSWORD@HOST/DATABASE` (its password is shown as ***).
    #[arg(value_name = "FILE|URL")]
    location: String,
    /// Certificates (PEM) to trust beside the platform's roots for a PostgreSQL server's TLS
    /// certificate, with `sslmode=require` in the URL: a managed database's CA bundle, say.
    #[arg(long, value_name = "PEM_FILE", global = true)]
    root_certificates: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print every row, oldest first: its id, webhook, state, attempts, last status and error,
    /// why it is parked, its times (UTC) and its idempotency key. Never its URL, headers or
    /// body.
    List {
        /// Print a JSON array, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Make parked or given-up rows pending again, for the worker of a process using the
    /// outbox to send (a parked row gets the attempts it had left, a given-up one a single
    /// further attempt). Exit status 1 if any id is unknown or its row is pending or
    /// delivered.
    Retry {
        /// The rows' ids, as `list` shows them.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Remove delivered and given-up rows that finished more than DURATION ago, and say how
    /// many; pending and parked rows stay.
    Purge {
        /// `30s`, `15m`, `12h`, `7d`; `0s` removes every finished row. Default: 7d, the
        /// retention after which a worker removes them itself.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: Option<Duration>,
    },
}

pub(crate) fn outbox(args: &OutboxArgs) -> ExitCode {
    match act(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(stop) => stop.into(),
    }
}

fn act(args: &OutboxArgs) -> Result<(), Stop> {
    let location = args.location.as_str();
    let outbox = open(location, args.root_certificates.as_deref())?;
    match args.action {
        Action::List { json } => {
            let rows = outbox.list().map_err(|error| failed(location, &error))?;
            let text = if json {
                let rows: Vec<serde_json::Value> = rows.iter().map(row_json).collect();
                let mut text = serde_json::to_string_pretty(&rows).unwrap_or_default();
                text.push('\n');
                text
            } else if rows.is_empty() {
                format!(
                    "The outbox at {} is empty.\n",
                    Outbox::masked_location(location)
                )
            } else {
                listing(&rows)
            };
            written(&text)
        }
        Action::Retry { ref ids } => {
            let mut failures = 0;
            let mut retried = String::new();
            for &id in ids {
                match outbox.retry(id) {
                    Ok(()) => {
                        let _ = writeln!(retried, "row {id}: pending again");
                    }
                    Err(OutboxError::NoSuchRow { id, wanted }) => {
                        failures += 1;
                        eprintln!("error: row {id}: no {wanted} row has this id");
                    }
                    Err(error) => {
                        failures += 1;
                        eprintln!("error: row {id}: {}", sanitized(location, &error));
                    }
                }
            }
            written(&retried)?;
            if failures == 0 {
                Ok(())
            } else {
                Err(Stop(String::new(), 1))
            }
        }
        Action::Purge { older_than } => {
            let older_than = older_than.unwrap_or(DEFAULT_RETENTION);
            let removed = outbox
                .purge(older_than)
                .map_err(|error| failed(location, &error))?;
            let plural = if removed == 1 { "" } else { "s" };
            written(&format!(
                "Removed {removed} finished row{plural} (delivered or given up more than {} \
                 ago).\n",
                duration_text(older_than)
            ))
        }
    }
}

/// The outbox at `location`. A SQLite file must exist already: opening one creates it, and an
/// inspection that finds nothing should say so rather than leave an empty database behind
/// (under a mistyped name, say).
fn open(location: &str, root_certificates: Option<&Path>) -> Result<Outbox, Stop> {
    let roots = match root_certificates {
        Some(_) if !is_postgres(location) => {
            let message =
                "error: --root-certificates is for a PostgreSQL outbox (a postgres:// URL)";
            return Err(Stop(message.to_owned(), 2));
        }
        Some(path) => std::fs::read(path).map_err(|error| {
            Stop(
                format!("error: cannot read `{}`: {error}", path.display()),
                2,
            )
        })?,
        None => Vec::new(),
    };
    if !is_postgres(location) {
        let path = Path::new(location);
        if let Err(error) = std::fs::metadata(path)
            && error.kind() == std::io::ErrorKind::NotFound
        {
            return Err(Stop(
                format!(
                    "error: no outbox at `{}`: the file does not exist (a PostgreSQL outbox is \
                     given as a postgres:// URL)",
                    Outbox::masked_location(location)
                ),
                2,
            ));
        }
    }
    let opened = if roots.is_empty() {
        Outbox::open(location)
    } else {
        Outbox::postgres_with_root_certificates(location, &roots)
    };
    opened.map_err(|error| {
        let message = match error {
            OutboxError::Open { ref source, .. } => format!(
                "error: cannot open the outbox at {}: {}",
                Outbox::masked_location(location),
                scrub(location, &with_causes(&**source))
            ),
            ref other => format!("error: {}", sanitized(location, other)),
        };
        Stop(message, 2)
    })
}

/// An action that failed: exit status 1.
fn failed(location: &str, error: &OutboxError) -> Stop {
    Stop(format!("error: {}", sanitized(location, error)), 1)
}

/// Writes `text` to standard output, as [`crate::write_out`] does.
fn written(text: &str) -> Result<(), Stop> {
    if crate::write_out(text) == ExitCode::SUCCESS {
        Ok(())
    } else {
        Err(Stop(String::new(), 1))
    }
}

fn state_name(state: RowState) -> &'static str {
    match state {
        RowState::Pending => "pending",
        RowState::Delivered => "delivered",
        RowState::GaveUp => "gave_up",
        // Parked, and any state a newer runtime adds: shown, never sent by this one.
        _ => "parked",
    }
}

/// One block per row, then a count by state.
fn listing(rows: &[OutboxRow]) -> String {
    let mut text = String::new();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for row in rows {
        let state = state_name(row.state);
        match counts.iter_mut().find(|(name, _)| *name == state) {
            Some((_, count)) => *count += 1,
            None => counts.push((state, 1)),
        }
        let _ = writeln!(text, "#{} {} {state}", row.id, row.webhook);
        let mut line = |label: &str, value: &str| {
            let _ = writeln!(text, "  {:<16} {value}", format!("{label}:"));
        };
        let status = row
            .last_status
            .map_or_else(String::new, |status| format!(", last status {status}"));
        line("attempts", &format!("{}{status}", row.attempts));
        if let Some(error) = &row.last_error {
            line("last error", error);
        }
        if let Some(reason) = &row.park_reason {
            line("parked because", &reason.to_string());
        }
        line("created", &rfc3339(row.created_at_ms));
        if row.state == RowState::Pending {
            line("next attempt", &rfc3339(row.next_attempt_at_ms));
        }
        if let Some(finished) = row.finished_at_ms {
            line("finished", &rfc3339(finished));
        }
        line("idempotency key", &row.idempotency_key);
        text.push('\n');
    }
    let plural = if rows.len() == 1 { "" } else { "s" };
    let counts: Vec<String> = counts
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    let _ = writeln!(text, "{} row{plural}: {}", rows.len(), counts.join(", "));
    text
}

fn row_json(row: &OutboxRow) -> serde_json::Value {
    json!({
        "id": row.id,
        "webhook": row.webhook,
        "state": state_name(row.state),
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "park_reason": row.park_reason.as_ref().map(ToString::to_string),
        "created_at": rfc3339(row.created_at_ms),
        "next_attempt_at": (row.state == RowState::Pending).then(|| rfc3339(row.next_attempt_at_ms)),
        "finished_at": row.finished_at_ms.map(rfc3339),
        "idempotency_key": row.idempotency_key,
    })
}

/// A row's time (Unix milliseconds) as RFC 3339 in UTC, to the millisecond.
fn rfc3339(unix_ms: i64) -> String {
    apicall_runtime::rfc3339(u64::try_from(unix_ms).unwrap_or(0))
}

/// `30s`, `15m`, `12h`, `7d`: a whole number and one unit.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "expected a whole number and a unit (s, m, h or d), such as 30s, 15m, 12h or 7d; found `{text}`"
        )
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(expected)?;
    let (number, unit) = text.split_at(split);
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return Err(expected()),
    };
    if number.is_empty() {
        return Err(expected());
    }
    // All digits: the only way to fail is too many of them.
    let too_long = || format!("`{text}` is too long a duration");
    let number: u64 = number.parse().map_err(|_| too_long())?;
    number
        .checked_mul(unit_seconds)
        .map(Duration::from_secs)
        .ok_or_else(too_long)
}

/// A duration in the largest unit [`parse_duration`] reads that divides it.
fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if seconds != 0 && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The error's message with the location masked.
fn sanitized(location: &str, error: &OutboxError) -> String {
    scrub(location, &with_causes(error))
}

/// The error's message, then each cause's that it does not already quote (a driver's
/// "error connecting to server" says why only in its cause).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = error.source();
    }
    text
}

/// `text` with every occurrence of `location` masked, and of its password (as written and
/// decoded) replaced by `***`, should a backend's message quote either.
fn scrub(location: &str, text: &str) -> String {
    if location.is_empty() {
        return text.to_owned();
    }
    let mut text = text.replace(location, &Outbox::masked_location(location));
    if is_postgres(location) {
        let mut passwords: Vec<String> = Vec::new();
        if let Ok(url) = Url::parse(location) {
            if let Some(password) = url.password() {
                passwords.push(password.to_owned());
                if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                    passwords.push(decoded.into_owned());
                }
            }
            passwords.extend(
                url.query_pairs()
                    .filter(|(key, _)| key == "password")
                    .map(|(_, value)| value.into_owned()),
            );
        }
        for password in passwords.iter().filter(|p| !p.is_empty() && *p != "***") {
            text = text.replace(password.as_str(), "***");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        for wrong in ["", "7", "d", "7w", "7 d", "-1s", "1.5h", "7dd", " 7d"] {
            let error = parse_duration(wrong).unwrap_err();
            assert!(error.contains("such as 30s"), "{wrong:?}: {error}");
        }
        for huge in ["99999999999999999999d", "999999999999999999d"] {
            let error = parse_duration(huge).unwrap_err();
            assert!(error.contains("too long"), "{huge}: {error}");
        }
    }

    #[test]
    fn the_default_purge_age_is_the_runtimes_retention_of_7_days() {
        // The `--older-than` help says 7d.
        assert_eq!(DEFAULT_RETENTION, parse_duration("7d").unwrap());
        assert_eq!(duration_text(DEFAULT_RETENTION), "7d");
        assert_eq!(duration_text(Duration::ZERO), "0s");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
        assert_eq!(duration_text(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn errors_are_scrubbed_of_the_location_and_its_password() {
        let location = "postgres://app:s3cr%2Ft@db/outbox";
        let text = format!("cannot open {location}: auth failed for s3cr/t (s3cr%2Ft)");
        assert_eq!(
            scrub(location, &text),
            "cannot open postgres://app:***@db/outbox: auth failed for *** (***)"
        );
    }

    #[test]
    fn an_error_says_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = OutboxError::Database {
            action: "listing rows",
            source: Box::new(io),
        };
        assert_eq!(with_causes(&error), "outbox: listing rows failed: refused");
    }
}
