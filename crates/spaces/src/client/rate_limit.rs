//! The per-client request budget.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{Quota, RateLimiter};

use crate::model::Provider;

/// A request budget: at most `requests` per `per`, bursts allowed up to `requests`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: NonZeroU32,
    /// The window.
    pub per: Duration,
}

impl RateLimit {
    /// The provider's documented budget ([`ProviderInfo::documented_rate_limit`](crate::ProviderInfo)):
    /// X 300 per 15 minutes, SocialData 120 per minute. AIsa and twitterapi.io
    /// document none, so they get no limiter.
    pub fn documented(provider: Provider) -> Option<RateLimit> {
        provider.info().documented_rate_limit
    }
}

/// A rate limiter shared by every request of one client.
pub(crate) struct Limiter {
    inner: Option<governor::DefaultDirectRateLimiter>,
}

impl Limiter {
    pub fn new(rate_limit: Option<RateLimit>) -> Self {
        // A zero period (a budget finer than a nanosecond) means "no limit".
        let quota = rate_limit.and_then(|limit| {
            Quota::with_period(limit.per / limit.requests.get()).map(|quota| quota.allow_burst(limit.requests))
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
