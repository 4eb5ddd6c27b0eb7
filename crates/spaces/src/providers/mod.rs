//! What the crate knows about each provider, one file per provider: where
//! its API lives, how it authenticates, its documented request budget, and
//! how to call its generated client. Everything provider-specific outside the
//! converters (`convert/<provider>.rs`) is here, so the client, the CLI and
//! the mock server work for any registered provider without naming it.
//!
//! Registering a provider: a `Provider` variant (and its place in
//! `Provider::ALL`), a module here with its [`ProviderInfo`], and one arm in
//! [`info`].

mod aisa;
mod socialdata;
mod twitterapi;
mod x;

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::time::Duration;

use progenitor_client::{Error as ApiError, ResponseValue};
use spaces_generated::observe;

use crate::client::{Interpreter, RateLimit};
use crate::error::Error;
use crate::model::{Provider, Space};

/// Static facts about a provider, from its documentation. See [`Provider::info`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// The name used in the CLI, the JSON and error messages (`x`, `socialdata`, ...).
    pub name: &'static str,
    /// The provider's own name for display (`X API v2`, `SocialData`, ...).
    pub title: &'static str,
    /// The environment variable that holds its token.
    pub env_var: &'static str,
    /// Its production API root; the endpoint path is appended to it.
    pub default_base_url: &'static str,
    /// The Space-detail endpoint, relative to the API root.
    pub endpoint: Endpoint,
    /// How the token is sent.
    pub auth: Auth,
    /// Its documented request budget; `None` where it documents none.
    pub documented_rate_limit: Option<RateLimit>,
    /// Parses and converts a raw 200 body.
    pub(crate) decode: fn(&[u8]) -> Result<Space, Error>,
    /// Wraps a configured `reqwest::Client` in the provider's generated client.
    pub(crate) connect: fn(&str, reqwest::Client) -> Box<dyn Fetch>,
}

/// Where a provider's Space-detail endpoint takes the Space id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// In the path: `path` followed by `/{id}` (X's `/2/spaces/{id}`).
    PathSegment {
        /// The path before the id.
        path: &'static str,
    },
    /// In a query parameter (`/twitter/spaces/show?id=...`).
    Query {
        /// The endpoint path.
        path: &'static str,
        /// The query parameter that carries the id.
        param: &'static str,
    },
}

impl Endpoint {
    /// The endpoint path, without the id.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::PathSegment { path } | Endpoint::Query { path, .. } => path,
        }
    }
}

/// How a provider expects its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The token alone in the named header (e.g. `x-api-key`), lowercase.
    ApiKeyHeader(&'static str),
}

/// One request through a provider's generated client, interpreted into a
/// [`Space`] or an [`Error`]. The future is boxed so that the client holds
/// any provider behind one type; one allocation per request is noise next
/// to the HTTP exchange.
pub(crate) trait Fetch: Send + Sync {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a>;
}

pub(crate) type BoxFuture<'a> = Pin<Box<dyn Future<Output = Result<Space, Error>> + Send + 'a>>;

/// The one way every provider runs a generated-client call: watched by
/// [`observe`] (body cap, status kept for bodies that do not decode), then
/// interpreted into a Space or an error. `message` pulls the reason out of
/// the provider's error body.
pub(crate) fn exchange<'a, T, E>(
    interpreter: &'a Interpreter<'a>,
    call: impl Future<Output = Result<ResponseValue<T>, ApiError<E>>> + Send + 'a,
    decode: fn(&[u8]) -> Result<Space, Error>,
    message: fn(&E) -> Option<String>,
) -> BoxFuture<'a>
where
    T: Send + 'a,
    E: Send + 'a,
    Space: TryFrom<T, Error = Error>,
{
    Box::pin(async move {
        let (result, head) = observe(interpreter.max_body_bytes, call).await;
        interpreter.interpret(result, head, Space::try_from, decode, message).await
    })
}

/// The registry: every provider's facts.
pub(crate) fn info(provider: Provider) -> &'static ProviderInfo {
    match provider {
        Provider::X => &x::INFO,
        Provider::SocialData => &socialdata::INFO,
        Provider::Aisa => &aisa::INFO,
        Provider::TwitterApi => &twitterapi::INFO,
    }
}

/// A documented budget of `requests` per `seconds`, checked at compile time.
const fn budget(requests: u32, seconds: u64) -> Option<RateLimit> {
    match NonZeroU32::new(requests) {
        Some(requests) => Some(RateLimit { requests, per: Duration::from_secs(seconds) }),
        None => panic!("a documented budget allows at least one request"),
    }
}
