//! When to try again, and how long to wait first.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The longest wait a provider's `Retry-After` is taken at its word for;
/// an absurd value (days, years) is capped here rather than trusted.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

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
    /// The overall deadline for one `space()` call, waits and retries
    /// included (default 60 s). When it passes, the call fails with a timeout.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
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

/// What the provider said about when to come back: `Retry-After` (seconds or
/// an HTTP date), else X's `x-rate-limit-reset` (epoch seconds). Capped at
/// [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    let wait = if let Some(value) = header("retry-after") {
        match value.parse::<u64>() {
            Ok(seconds) => Duration::from_secs(seconds),
            Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or_default(),
        }
    } else {
        let reset = header("x-rate-limit-reset")?.parse::<u64>().ok()?;
        let reset = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))?;
        reset.duration_since(now).unwrap_or_default()
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn reads_retry_after_in_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&headers(&[("retry-after", "7")]), now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&[("retry-after", &date)]), now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&headers(&[("x-rate-limit-reset", "1700000012")]), now), Some(Duration::from_secs(12)));
        assert_eq!(retry_after(&headers(&[("retry-after", "99999999999")]), now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[]), now), None);
    }

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
}
