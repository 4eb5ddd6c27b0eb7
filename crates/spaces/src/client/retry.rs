//! When to try again, and how long to wait first.

use std::time::Duration;

use crate::error::MAX_RETRY_AFTER;

/// How a client retries rate-limited (429) and failed (5xx) requests.
///
/// Other statuses are never retried: a 4xx other than 429 will fail the same
/// way again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// The first backoff; each retry doubles it (default 500 ms).
    pub initial_backoff: Duration,
    /// The most any single backoff waits (default 30 s).
    pub max_backoff: Duration,
    /// The overall deadline for one call (one request and its retries,
    /// waits included). When it passes, the call fails with a timeout.
    /// `None` (the default) is twice the per-attempt timeout
    /// ([`ClientBuilder::timeout`](crate::ClientBuilder::timeout)): 60 s with
    /// the default 30 s, room for a retry after a slow attempt. A deadline
    /// shorter than one attempt's timeout is raised to it.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// The longest wait a provider's `Retry-After` (or X's reset) is taken
    /// at its word for: an absurd value (days, years) is capped here.
    pub const MAX_RETRY_AFTER: Duration = MAX_RETRY_AFTER;

    /// The deadline of one call whose attempts each time out after `timeout`.
    pub(crate) fn deadline_for(&self, timeout: Duration) -> Duration {
        self.deadline.unwrap_or_else(|| timeout.saturating_mul(2)).max(timeout)
    }

    /// No retries: one attempt, same deadline.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// The wait before retry number `retry` (1 for the first retry): "full
    /// jitter" exponential backoff, but never shorter than what the provider
    /// asked for.
    pub(crate) fn backoff(&self, retry: u32, provider_hint: Option<Duration>) -> Duration {
        let exponential =
            self.initial_backoff.saturating_mul(1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX));
        let ceiling = exponential.min(self.max_backoff);
        let jittered = ceiling.mul_f64(fastrand::f64());
        match provider_hint {
            Some(hint) => hint.min(MAX_RETRY_AFTER).max(jittered),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn backoff_grows_within_bounds_and_honours_the_hint() {
        let policy = RetryPolicy::default();
        for retry in 1..=40 {
            let wait = policy.backoff(retry, None);
            assert!(wait <= policy.max_backoff, "retry {retry}: {wait:?}");
            assert!(wait <= policy.initial_backoff * 2u32.saturating_pow(retry - 1), "retry {retry}: {wait:?}");
        }
        assert!(policy.backoff(1, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
        assert_eq!(policy.backoff(1, Some(Duration::from_secs(86_400))), MAX_RETRY_AFTER);
    }

    #[test]
    fn the_deadline_follows_the_timeout_and_is_never_shorter() {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        assert_eq!(RetryPolicy::default().deadline_for(Duration::from_secs(30)), minutes(1));
        assert_eq!(RetryPolicy::default().deadline_for(minutes(10)), minutes(20));
        let set = RetryPolicy { deadline: Some(minutes(1)), ..RetryPolicy::default() };
        assert_eq!(set.deadline_for(minutes(10)), minutes(10), "never shorter than one attempt");
        assert_eq!(set.deadline_for(Duration::from_secs(5)), minutes(1));
    }
}
