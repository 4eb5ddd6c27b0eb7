//! X's rate-limit headers, on every answer the mock gives for X.
//!
//! X-specific because only X sends them: X documents `x-rate-limit-limit`,
//! `x-rate-limit-remaining` and `x-rate-limit-reset` (Unix seconds) on every
//! response of every Space endpoint, counted per endpoint (300 requests per
//! 15 minutes each); SocialData, AIsa and twitterapi.io document no such
//! headers. `specs/x.yaml` declares them (as documentation: regen states no
//! response headers as facts); the numbers are X's documented per-endpoint
//! budget as the library states it ([`budget`]).
//!
//! Each [`MockProviders`](crate::MockProviders) counts on its own, one count
//! per endpoint (operation), starting at 299 remaining, with the reset 15
//! minutes after the mock started. So that tests and benches never see the
//! budget run out, the count never reaches 0: the request that would leave
//! 0 starts the count again at 299, as if a window had passed (the reset
//! second stays). When 15 minutes really pass, a new window starts: the
//! count restarts and the reset moves 15 minutes on. A test that wants an
//! exhausted budget or a 429 mounts its own answer, for example with
//! [`with_headers`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use spaces::spec::Budget;
use spaces::{Provider, RateLimit};
use wiremock::{Request, Respond, ResponseTemplate};

/// X's documented budget of each endpoint: 300 requests per 15 minutes
/// (`x-rate-limit-limit` is its `requests`), from [`spaces::spec::ProviderInfo::budgets`].
///
/// # Panics
///
/// When the library states no per-endpoint budget for X.
pub fn budget() -> RateLimit {
    let budgets = Provider::X.info().budgets;
    budgets
        .iter()
        .find_map(|budget| match budget {
            Budget::PerEndpoint(limit) => Some(*limit),
            _ => None,
        })
        .unwrap_or_else(|| panic!("spaces states no per-endpoint budget for X: {budgets:?}"))
}

/// `response` with X's three rate-limit headers: the [`budget`]'s limit,
/// `remaining`, and `reset` in Unix seconds. For tests that script their own
/// budget (e.g. 0 remaining).
pub fn with_headers(response: ResponseTemplate, remaining: u32, reset: u64) -> ResponseTemplate {
    response
        .insert_header("x-rate-limit-limit", budget().requests.to_string().as_str())
        .insert_header("x-rate-limit-remaining", remaining.to_string().as_str())
        .insert_header("x-rate-limit-reset", reset.to_string().as_str())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// One mock's rate-limit windows: when it started, and per endpoint the
/// window it last counted in and how many requests it counted there.
#[derive(Clone, Debug)]
pub(crate) struct Windows {
    started: u64,
    /// Requests per window, and the window's length in seconds.
    limit: u32,
    length: u64,
    counts: Arc<Mutex<HashMap<&'static str, (u64, u32)>>>,
}

impl Windows {
    pub(crate) fn start() -> Self {
        let RateLimit { requests, per } = budget();
        Self { started: unix_now(), limit: requests.get(), length: per.as_secs().max(1), counts: Arc::default() }
    }

    /// The window `now` falls in (0 for the first 15 minutes).
    fn window(&self, now: u64) -> u64 {
        now.saturating_sub(self.started) / self.length
    }

    /// The Unix second at which window `window` ends.
    fn reset_of(&self, window: u64) -> u64 {
        self.started + (window + 1) * self.length
    }

    /// The reset of the current window.
    pub(crate) fn reset(&self) -> u64 {
        self.reset_of(self.window(unix_now()))
    }

    /// Counts one request against `endpoint`: (remaining, reset).
    fn count(&self, endpoint: &'static str) -> (u32, u64) {
        let window = self.window(unix_now());
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (counted_in, used) = counts.entry(endpoint).or_insert((window, 0));
        if *counted_in != window {
            (*counted_in, *used) = (window, 0);
        }
        // Never 0 remaining: the request that would use the last one starts over.
        *used = if *used + 1 >= self.limit { 1 } else { *used + 1 };
        (self.limit - *used, self.reset_of(window))
    }
}

/// A responder with X's rate-limit headers added, counted against one endpoint
/// of one mock (see the module docs). Made by [`MockProviders::x_rate_limited`](crate::MockProviders::x_rate_limited).
pub struct RateLimited<R> {
    pub(crate) inner: R,
    /// `None`: no headers (a provider that sends none).
    pub(crate) windows: Option<Windows>,
    pub(crate) endpoint: &'static str,
}

impl<R: Respond> Respond for RateLimited<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let response = self.inner.respond(request);
        match &self.windows {
            Some(windows) => {
                let (remaining, reset) = windows.count(self.endpoint);
                with_headers(response, remaining, reset)
            }
            None => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn x_documents_300_requests_per_15_minutes() {
        let budget = budget();
        assert_eq!((budget.requests.get(), budget.per), (300, Duration::from_secs(15 * 60)));
    }

    #[test]
    fn counts_down_per_endpoint_and_never_reaches_zero() {
        let windows = Windows::start();
        let reset = windows.reset();
        assert!((reset - unix_now()).abs_diff(15 * 60) <= 1, "15 minutes from now");
        assert_eq!(windows.count("a"), (299, reset));
        assert_eq!(windows.count("a"), (298, reset));
        assert_eq!(windows.count("b"), (299, reset), "each endpoint counts on its own");
        let seen: Vec<u32> = (0..700).map(|_| windows.count("a").0).collect();
        assert!(seen.iter().all(|remaining| (1..300).contains(remaining)), "never 0, never 300");
        assert_eq!(seen[296], 1);
        assert_eq!(seen[297], 299, "starts over instead of reaching 0");
    }

    #[test]
    fn a_new_window_restarts_the_count_and_moves_the_reset() {
        let windows = Windows::start();
        let first = windows.reset();
        windows.count("a");
        // Pretend the mock started one window ago.
        let earlier = Windows { started: windows.started - windows.length, ..windows.clone() };
        assert_eq!(
            earlier.count("a"),
            (299, first),
            "window 1 of the earlier start ends when window 0 of this one does"
        );
        assert_eq!(earlier.count("a"), (298, first));
    }
}
