//! Every provider, one module each: its facts, its converter and its calls
//! into its generated client (`x/`, `socialdata/`, `aisa.rs`,
//! `twitterapi.rs`), in the way object_store keeps `src/aws/`. The shared
//! machinery beside them ([`exchange`]) never names a provider, and the
//! client, the CLI and the mock server work for any registered provider by
//! reading [`ProviderInfo`].
//!
//! Facts a spec already states (API root, auth scheme, endpoint path, where
//! the id goes, error examples) are not restated here: they come from the
//! generated `SPEC` of each provider's module in `spaces-generated`.
//!
//! Registering a provider takes three lines outside its own module: its
//! [`Provider`] variant, its `mod` line below, and its arm in
//! [`Provider::info`].

mod aisa;
mod exchange;
mod socialdata;
mod twitterapi;
mod x;

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::time::Duration;

use spaces_generated::{Operation, SpecFacts};

use crate::error::Error;
use crate::model::{Provider, Space};
pub(crate) use exchange::{Interpreter, exchange};

impl Provider {
    /// What the crate knows about the provider: its spec's facts (API root,
    /// auth, endpoints), its token variable and its documented budget.
    pub fn info(self) -> &'static ProviderInfo {
        match self {
            Provider::X => &x::INFO,
            Provider::SocialData => &socialdata::INFO,
            Provider::Aisa => &aisa::INFO,
            Provider::TwitterApi => &twitterapi::INFO,
        }
    }
}

/// Facts about a provider. See [`Provider::info`].
///
/// The hand-written ones are what no spec can say (display title, token
/// variable, documented budget); everything else is [`spec`](Self::spec),
/// read from `specs/<provider>.yaml` by `cargo xtask regen`.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// The provider's own name for display (`X API v2`, `SocialData`, ...).
    pub title: &'static str,
    /// The environment variable that holds its token.
    pub env_var: &'static str,
    /// Its documented request budget; `None` where it documents none.
    pub documented_rate_limit: Option<RateLimit>,
    /// What its spec says: production API root, auth scheme, operations, examples.
    pub spec: &'static SpecFacts,
    /// The single-Space lookup operation of [`spec`](Self::spec).
    pub lookup: &'static Operation,
    /// Parses and converts a raw 200 body of [`lookup`](Self::lookup).
    pub(crate) decode: fn(&[u8]) -> Result<Space, Error>,
    /// Wraps a configured `reqwest::Client` in the provider's generated client.
    pub(crate) connect: fn(&str, reqwest::Client) -> Box<dyn Fetch>,
}

/// A request budget: at most `requests` in any window of length `per`.
///
/// The client keeps to it with a limiter that never exceeds it in any
/// window, wherever the provider's window starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: NonZeroU32,
    /// The window.
    pub per: Duration,
}

/// One request through a provider's generated client, interpreted into a
/// [`Space`] or an [`Error`]. The future is boxed so that the client holds
/// any provider behind one type; one allocation per request is noise next
/// to the HTTP exchange.
pub(crate) trait Fetch: Send + Sync {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a>;
}

pub(crate) type BoxFuture<'a> = Pin<Box<dyn Future<Output = Result<Space, Error>> + Send + 'a>>;

/// A documented budget of `requests` per `seconds`, checked at compile time.
const fn budget(requests: u32, seconds: u64) -> Option<RateLimit> {
    match NonZeroU32::new(requests) {
        Some(requests) => Some(RateLimit { requests, per: Duration::from_secs(seconds) }),
        None => panic!("a documented budget allows at least one request"),
    }
}

/// The operation `operation_id` of a spec, found at compile time: a
/// provider that names an operation its spec lacks does not build.
const fn operation(spec: &'static SpecFacts, operation_id: &str) -> &'static Operation {
    let mut index = 0;
    while index < spec.operations.len() {
        if bytes_equal(spec.operations[index].operation_id.as_bytes(), operation_id.as_bytes()) {
            return &spec.operations[index];
        }
        index += 1;
    }
    panic!("the spec has no operation with this operationId")
}

const fn bytes_equal(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use spaces_generated::ParamLocation;

    use crate::model::Provider;

    #[test]
    fn every_lookup_takes_one_space_id_in_the_path_or_query() {
        for &provider in Provider::ALL {
            let lookup = provider.info().lookup;
            let param = lookup.id_param().unwrap_or_else(|| panic!("{provider}: lookup has no required parameter"));
            assert!(matches!(param.location, ParamLocation::Path | ParamLocation::Query), "{provider}: {param:?}");
            assert!(provider.info().spec.server_url.starts_with("https://"), "{provider}");
        }
    }
}
