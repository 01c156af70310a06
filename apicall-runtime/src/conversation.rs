//! The conversation's own facts: its id, when it started, and — once it ends — how and when.
//! These are the `{{call.*}}` values post-call webhooks send.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One conversation's identity and start time, kept in the generated `Session`.
///
/// The id names the conversation in webhooks (`{{call.id}}`) and is part of each webhook's
/// idempotency key, so a receiver can drop a webhook it already has. Use your platform's id
/// (a call SID, say) with [`Conversation::with_id`] to line the two up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The conversation's id.
    pub id: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
}

impl Conversation {
    /// A conversation starting now, with a fresh random id.
    #[must_use]
    pub fn new() -> Self {
        Self::with_id(random_id())
    }

    /// A conversation starting now, with your id for it.
    #[must_use]
    pub fn with_id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            started_at_ms: unix_ms(SystemTime::now()),
        }
    }

    /// The facts of this conversation ending now with `outcome`.
    #[must_use]
    pub fn end(&self, outcome: Outcome) -> CallEnd {
        self.end_at(SystemTime::now(), outcome)
    }

    /// The facts of this conversation ending at `ended_at` with `outcome`.
    #[must_use]
    pub fn end_at(&self, ended_at: SystemTime, outcome: Outcome) -> CallEnd {
        let ended_at_ms = unix_ms(ended_at);
        CallEnd {
            id: self.id.clone(),
            started_at: rfc3339(self.started_at_ms),
            ended_at: rfc3339(ended_at_ms),
            duration_ms: ended_at_ms.saturating_sub(self.started_at_ms),
            outcome,
        }
    }
}

impl Default for Conversation {
    fn default() -> Self {
        Self::new()
    }
}

/// How a conversation ended: `{{call.outcome}}` in webhooks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The conversation ran to its end (`completed`).
    Completed,
    /// It was handed to a person or another line (`transferred`).
    Transferred,
    /// The caller left before it was done (`abandoned`).
    Abandoned,
    /// The agent could not carry on (`failed`).
    Failed,
    /// Your own outcome, sent as written.
    Other(String),
}

impl Outcome {
    /// The outcome as webhooks send it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Transferred => "transferred",
            Outcome::Abandoned => "abandoned",
            Outcome::Failed => "failed",
            Outcome::Other(other) => other,
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = std::convert::Infallible;

    /// The outcome `as_str` names; any other text is [`Outcome::Other`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "completed" => Outcome::Completed,
            "transferred" => Outcome::Transferred,
            "abandoned" => Outcome::Abandoned,
            "failed" => Outcome::Failed,
            other => Outcome::Other(other.to_owned()),
        })
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `{{call.*}}` values of a conversation that has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallEnd {
    /// `{{call.id}}`: the conversation's id.
    pub id: String,
    /// `{{call.started_at}}`: RFC 3339, UTC, milliseconds (`2026-11-25T15:04:05.123Z`).
    pub started_at: String,
    /// `{{call.ended_at}}`: RFC 3339, UTC, milliseconds.
    pub ended_at: String,
    /// `{{call.duration_ms}}`: from start to end, in milliseconds.
    pub duration_ms: u64,
    /// `{{call.outcome}}`.
    pub outcome: Outcome,
}

pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// `2026-11-25T15:04:05.123Z` for milliseconds since the Unix epoch: RFC 3339, UTC, to the
/// millisecond, as `{{call.started_at}}` renders and `apicall outbox list` shows row times.
#[must_use]
pub fn rfc3339(unix_ms: u64) -> String {
    let seconds = unix_ms / 1000;
    let days = seconds / 86_400;
    let (year, month, day) = civil_from_days(days);
    let in_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        unix_ms % 1000
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// 64 unpredictable bits, for ids and jitter. `RandomState` is seeded from the OS once per
/// thread and stepped per instance; mixing in a counter and the time keeps values distinct.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos(),
    );
    hasher.finish()
}

/// 128 random bits as 32 hex digits.
fn random_id() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29, a leap day in a century leap year.
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_619_045_123), "2026-11-25T15:04:05.123Z");
        assert_eq!(rfc3339(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn ending_measures_the_duration() {
        let conversation = Conversation {
            id: "CA123".into(),
            started_at_ms: 1_795_619_045_000,
        };
        let end = conversation.end_at(
            UNIX_EPOCH + Duration::from_millis(1_795_619_107_250),
            Outcome::Transferred,
        );
        assert_eq!(end.id, "CA123");
        assert_eq!(end.started_at, "2026-11-25T15:04:05.000Z");
        assert_eq!(end.ended_at, "2026-11-25T15:05:07.250Z");
        assert_eq!(end.duration_ms, 62_250);
        assert_eq!(end.outcome.as_str(), "transferred");
        // A clock that went backwards gives zero, not an underflow.
        let earlier = conversation.end_at(UNIX_EPOCH, Outcome::Completed);
        assert_eq!(earlier.duration_ms, 0);
    }

    #[test]
    fn outcomes_read_back_what_they_write() {
        for outcome in [
            Outcome::Completed,
            Outcome::Transferred,
            Outcome::Abandoned,
            Outcome::Failed,
            Outcome::Other("voicemail".into()),
        ] {
            assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome.clone()));
        }
    }

    #[test]
    fn ids_are_distinct() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| Conversation::new().id).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 32));
    }
}
