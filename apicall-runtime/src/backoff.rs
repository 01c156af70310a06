//! The wait between two attempts, one rule for calls (`send.rs`) and webhooks (`webhook.rs`):
//! each caller passes its own base and cap.

use std::time::Duration;

use crate::conversation::random_u64;

/// The wait before retry number `retry` (1 for the first): `base` doubled for each later retry
/// up to `cap`, then "equal jitter": half of that fixed, half random. The fixed half keeps the
/// growth; the random half keeps many senders that failed together (a server's blip, say) from
/// all coming back in the same millisecond and failing together again.
pub(crate) fn backoff(base: Duration, cap: Duration, retry: u32) -> Duration {
    let exponential = base
        .saturating_mul(1_u32 << retry.saturating_sub(1).min(16))
        .min(cap);
    let half = exponential / 2;
    let half_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let jitter = if half_ms == 0 {
        0
    } else {
        random_u64() % half_ms.saturating_add(1)
    };
    half + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(30);
        for _ in 0..100 {
            let first = backoff(base, cap, 1);
            assert!(
                (Duration::from_millis(50)..=base).contains(&first),
                "{first:?}"
            );
            let third = backoff(base, cap, 3);
            assert!(
                (Duration::from_millis(200)..=Duration::from_millis(400)).contains(&third),
                "{third:?}"
            );
            let late = backoff(base, cap, 40);
            assert!((cap / 2..=cap).contains(&late), "{late:?}");
        }
        assert_eq!(backoff(Duration::ZERO, cap, 3), Duration::ZERO);
        assert_eq!(backoff(base, Duration::ZERO, 3), Duration::ZERO);
    }
}
