//! The per-client request budget.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::error::MAX_RETRY_AFTER;
use crate::providers::{Budget, ProviderInfo, RateHeaders, RateLimit};

// A budget is kept by a GCRA limiter (governor) that allows a burst of a
// tenth of the budget (at least one request) and spaces the rest evenly, so
// that even a burst followed by a steady stream stays under the budget in
// every window, wherever the provider's window starts. (A burst of the whole
// budget followed by the steady rate would allow twice the budget in one window.)

/// Which request budgets a client keeps to
/// ([`ClientBuilder::rate_limiting`](crate::ClientBuilder::rate_limiting)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RateLimiting {
    /// The provider's documented budgets ([`ProviderInfo::budgets`](crate::spec::ProviderInfo::budgets)).
    #[default]
    Documented,
    /// One budget over all the client's requests together, in place of the documented ones.
    Budget(RateLimit),
    /// No limiter (a window the provider reports spent is still waited out).
    Off,
}

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

/// One budget's limiter, shared by every request it counts.
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

/// Extra wait after a provider's announced reset: its clock and ours
/// disagree by up to about a second, and a request sent a moment early is
/// refused (429) and costs a retry.
const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(1);

/// Every budget a client keeps to, per operation, and what the provider
/// said about its windows (`x-rate-limit-remaining: 0` until the reset).
pub(crate) struct Limits {
    /// Budgets counting every request of the client.
    shared: Vec<Limiter>,
    /// Per `operationId`: budgets counting only that operation's requests.
    by_operation: HashMap<&'static str, Vec<Limiter>>,
    /// Per `operationId`: no request before this instant (the provider said
    /// its window is spent), whatever the budgets allow.
    closed_until: Mutex<HashMap<&'static str, Instant>>,
}

impl Limits {
    /// The budgets `rate_limiting` chooses for a client of the provider `info` describes.
    pub fn new(info: &ProviderInfo, rate_limiting: RateLimiting) -> Self {
        let mut limits = Limits { shared: Vec::new(), by_operation: HashMap::new(), closed_until: Mutex::default() };
        match rate_limiting {
            RateLimiting::Documented => {}
            RateLimiting::Budget(one) => {
                limits.shared.push(Limiter::new(Some(one)));
                return limits;
            }
            RateLimiting::Off => return limits,
        }
        for budget in info.budgets {
            match *budget {
                Budget::Shared(limit) => limits.shared.push(Limiter::new(Some(limit))),
                Budget::PerEndpoint(limit) => {
                    for operation in info.spec.operations {
                        limits.by_operation.entry(operation.operation_id).or_default().push(Limiter::new(Some(limit)));
                    }
                }
                Budget::Operation(operation_id, limit) => {
                    limits.by_operation.entry(operation_id).or_default().push(Limiter::new(Some(limit)));
                }
            }
        }
        limits
    }

    /// Waits until every budget that counts `operation_id` allows one more request.
    pub async fn ready(&self, operation_id: &str) {
        for limiter in self.shared.iter().chain(self.by_operation.get(operation_id).into_iter().flatten()) {
            limiter.ready().await;
        }
    }

    /// When `operation_id` may be sent again, if the provider closed its window.
    pub fn closed_until(&self, operation_id: &str) -> Option<Instant> {
        let closed = self.closed_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        closed.get(operation_id).copied().filter(|until| *until > Instant::now())
    }

    /// Reads a response's rate-limit headers: a spent window closes the
    /// operation until its reset (plus a margin for clock skew, at most
    /// [`MAX_RETRY_AFTER`] away, however far the provider's clock says).
    pub fn observe(&self, operation_id: &'static str, headers: &RateHeaders) {
        if !headers.exhausted() {
            return;
        }
        let wait =
            headers.reset.map_or(Duration::ZERO, |reset| reset.duration_since(SystemTime::now()).unwrap_or_default());
        self.close(operation_id, wait);
    }

    /// Closes the operation for `wait` (capped, plus the skew margin): a
    /// 429 that said when to come back closes it for every request, not
    /// only for the one that was refused.
    pub fn close(&self, operation_id: &'static str, wait: Duration) {
        let until = Instant::now() + wait.min(MAX_RETRY_AFTER) + CLOCK_SKEW_MARGIN;
        let mut closed = self.closed_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = closed.entry(operation_id).or_insert(until);
        *entry = (*entry).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Provider;

    #[test]
    fn documented_budgets_count_per_endpoint_where_documented_so() {
        let x = Limits::new(Provider::X.info(), RateLimiting::Documented);
        assert!(x.shared.is_empty(), "X counts each endpoint on its own");
        assert_eq!(x.by_operation.get("find_spaces_by_ids").map(Vec::len), Some(1));
        assert_eq!(x.by_operation.get("find_spaces_by_creator_ids").map(Vec::len), Some(2), "300/15 min and 1/s");
        let socialdata = Limits::new(Provider::SocialData.info(), RateLimiting::Documented);
        assert_eq!(socialdata.shared.len(), 1, "one budget shared by every endpoint");
        let off = Limits::new(Provider::X.info(), RateLimiting::Off);
        assert!(off.shared.is_empty() && off.by_operation.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_window_closes_the_operation_until_its_reset() {
        let limits = Limits::new(Provider::X.info(), RateLimiting::Off);
        let reset = SystemTime::now() + Duration::from_secs(30);
        limits.observe("find_spaces_by_ids", &RateHeaders { remaining: Some(1), reset: Some(reset) });
        assert_eq!(limits.closed_until("find_spaces_by_ids"), None, "budget left: stays open");
        limits.observe("find_spaces_by_ids", &RateHeaders { remaining: Some(0), reset: Some(reset) });
        let until = limits.closed_until("find_spaces_by_ids").expect("closed");
        let wait = until - Instant::now();
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(31) + CLOCK_SKEW_MARGIN, "{wait:?}");
        assert_eq!(limits.closed_until("search_spaces"), None, "other endpoints are counted apart");
        // A reset absurdly far away (a wrong clock) is capped.
        let far = SystemTime::now() + Duration::from_secs(86_400);
        limits.observe("search_spaces", &RateHeaders { remaining: Some(0), reset: Some(far) });
        let capped = limits.closed_until("search_spaces").expect("closed") - Instant::now();
        assert!(capped <= MAX_RETRY_AFTER + CLOCK_SKEW_MARGIN, "{capped:?}");
    }
}
