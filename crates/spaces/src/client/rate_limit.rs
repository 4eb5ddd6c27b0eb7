//! The per-client request budget.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{Quota, RateLimiter};

use crate::providers::RateLimit;

// A budget is kept by a GCRA limiter (governor) that allows a burst of a
// tenth of the budget (at least one request) and spaces the rest evenly, so
// that even a burst followed by a steady stream stays under the budget in
// every window, wherever the provider's window starts. (A burst of the whole
// budget followed by the steady rate would allow twice the budget in one window.)

/// The GCRA parameters for a budget of `n` per window `w`: a burst `b` of a
/// tenth of `n` (at least 1), then one request per `w / (n - b)`. In any
/// window of length `w` that admits at most `b + (n - b) - 1 = n - 1`
/// requests: the one request of headroom absorbs clock skew between us and
/// the provider.
fn burst_and_period(limit: RateLimit) -> (NonZeroU32, Duration) {
    let requests = limit.requests.get();
    let burst = (requests / 10).max(1);
    let steady = (requests - burst).max(1);
    (NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN), limit.per / steady)
}

/// A rate limiter shared by every request of one client.
pub(crate) struct Limiter {
    inner: Option<governor::DefaultDirectRateLimiter>,
}

impl Limiter {
    pub fn new(rate_limit: Option<RateLimit>) -> Self {
        // A zero period (a budget finer than a nanosecond) means "no limit".
        let quota = rate_limit.and_then(|limit| {
            let (burst, period) = burst_and_period(limit);
            Quota::with_period(period).map(|quota| quota.allow_burst(burst))
        });
        Limiter { inner: quota.map(RateLimiter::direct) }
    }

    /// Waits until the budget allows one more request.
    pub async fn ready(&self) {
        if let Some(limiter) = &self.inner {
            limiter.until_ready().await;
        }
    }
}
