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

use spaces_generated::{Operation, Param, SpecFacts};

use crate::error::Error;
use crate::list::{Decoded, SpaceList};
use crate::model::{Provider, Space};
use crate::request::Search;
pub(crate) use exchange::{Exchanged, Interpreter, RateHeaders, exchange};
pub(crate) use x::activity;

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

    /// Checks a Space id before any request: ids are 1–13 ASCII letters and
    /// digits (X's pattern `^[a-zA-Z0-9]{1,13}$`; every provider uses X's ids).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`] naming the id and what is wrong with it.
    pub fn check_id(self, id: &str) -> Result<(), Error> {
        match crate::model::id_problem(id) {
            Some(reason) => Err(Error::InvalidId { provider: self, id: crate::error::Excerpt::new(id), reason }),
            None => Ok(()),
        }
    }

    /// Checks a user id before any request, by the pattern the provider's
    /// spec sets on the items of its Spaces-by-creator list (X:
    /// `^[0-9]{1,19}$`).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a provider without Spaces by creator;
    /// [`Error::InvalidArgument`] naming the id and the pattern.
    pub fn check_user_id(self, id: &str) -> Result<(), Error> {
        let operation =
            self.info().by_creators.ok_or(Error::Unsupported { provider: self, operation: "Spaces by creator" })?;
        let rules = &operation.list.rules;
        if rules.matches(id) {
            return Ok(());
        }
        let reason = match rules.pattern {
            Some(pattern) => format!("must match {pattern}"),
            None => "refused by the spec".to_owned(),
        };
        Err(Error::InvalidArgument { provider: self, name: "user id", value: crate::error::Excerpt::new(id), reason })
    }

    /// Whether the provider offers `capability`: declared once, by the
    /// operation its [`ProviderInfo`] names for it.
    pub fn supports(self, capability: Capability) -> bool {
        let info = self.info();
        match capability {
            Capability::BatchLookup => info.batch_lookup.is_some(),
            Capability::Search => info.search.is_some(),
            Capability::ByCreators => info.by_creators.is_some(),
        }
    }
}

/// What a provider may offer beyond the single-Space lookup every one has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::VariantArray)]
#[non_exhaustive]
pub enum Capability {
    /// Many Space ids in one request (X's `GET /2/spaces?ids=`).
    BatchLookup,
    /// Search of Space titles (X's `GET /2/spaces/search`).
    Search,
    /// The Spaces of given creators (X's `GET /2/spaces/by/creator_ids`).
    ByCreators,
}

impl Capability {
    /// Every capability.
    pub const ALL: &'static [Capability] = <Capability as strum::VariantArray>::VARIANTS;

    /// The capability in words, as errors name it (`search`).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::BatchLookup => "batch lookup",
            Capability::Search => "search",
            Capability::ByCreators => "Spaces by creator",
        }
    }
}

/// Facts about a provider. See [`Provider::info`].
///
/// The hand-written ones are what no spec can say (display title, token
/// variable, documented budgets); everything else is [`spec`](Self::spec),
/// read from `specs/<provider>.yaml` by `cargo xtask regen`.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// The provider's own name for display (`X API v2`, `SocialData`, ...).
    pub title: &'static str,
    /// The environment variable that holds its token.
    pub env_var: &'static str,
    /// Its documented request budgets; empty where it documents none.
    pub budgets: &'static [Budget],
    /// What its spec says: production API root, auth scheme, operations, examples.
    pub spec: &'static SpecFacts,
    /// The single-Space lookup operation of [`spec`](Self::spec).
    pub lookup: &'static Operation,
    /// Lookup of many Space ids in one request, where the provider has it.
    pub batch_lookup: Option<ListOperation>,
    /// The Spaces of given creators, where the provider has it.
    pub by_creators: Option<ListOperation>,
    /// Search of Space titles, where the provider has it.
    pub search: Option<&'static Operation>,
    /// Parses and converts a raw 200 body of [`lookup`](Self::lookup).
    pub(crate) decode: fn(&[u8]) -> Result<Space, Error>,
    /// Parses a raw 200 body of any of its operations, one Space or several
    /// (`None`: every body is a single lookup's).
    pub(crate) decode_any: Option<DecodeAny>,
    /// Wraps a configured `reqwest::Client` in the provider's generated client.
    pub(crate) connect: fn(&str, reqwest::Client) -> Box<dyn Fetch>,
}

/// Parses a raw body of any of a provider's operations.
pub(crate) type DecodeAny = fn(&[u8]) -> Result<Decoded, Error>;

/// An operation that takes a list of ids in one request.
#[derive(Clone, Copy, Debug)]
pub struct ListOperation {
    /// The spec's operation.
    pub operation: &'static Operation,
    /// Its list parameter (`ids`, `user_ids`), with the spec's rules.
    pub list: &'static Param,
    /// The most ids one request may carry: the list's `maxItems` in the spec.
    pub max_ids: usize,
}

impl ListOperation {
    /// The operation `operation_id` of `spec` and its list parameter `list`,
    /// found at compile time, with the spec's `maxItems` as `max_ids`: a
    /// spec without them does not build.
    const fn of(spec: &'static SpecFacts, operation_id: &str, list: &str) -> ListOperation {
        let operation = operation(spec, operation_id);
        let Some(param) = operation.param(list) else { panic!("the operation has no such list parameter") };
        let Some(max_ids) = param.max_items() else { panic!("the spec sets no maxItems on the list") };
        ListOperation { operation, list: param, max_ids }
    }
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

/// One documented budget, and which requests it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// One budget for all the provider's endpoints together.
    Shared(RateLimit),
    /// The same budget for each endpoint, counted separately.
    PerEndpoint(RateLimit),
    /// A further budget for one operation (by `operationId`).
    Operation(&'static str, RateLimit),
}

/// Calls into a provider's generated client, each interpreted into a value
/// or an [`Error`]. The futures are boxed so that the client holds any
/// provider behind one type; one allocation per request is noise next to
/// the HTTP exchange. The list operations answer `Unsupported` unless the
/// provider has them (and says so in its [`ProviderInfo`]).
pub(crate) trait Fetch: Send + Sync {
    fn space<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space>;

    fn spaces<'a>(&'a self, _ids: &'a [String], interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, SpaceList> {
        unsupported(interpreter, "batch lookup")
    }

    fn by_creators<'a>(
        &'a self,
        _user_ids: &'a [String],
        interpreter: &'a Interpreter<'a>,
    ) -> BoxFuture<'a, SpaceList> {
        unsupported(interpreter, "Spaces by creator")
    }

    fn search<'a>(&'a self, _query: &'a Search, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, SpaceList> {
        unsupported(interpreter, "search")
    }
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Exchanged<T>> + Send + 'a>>;

fn unsupported<'a, T: Send + 'a>(interpreter: &Interpreter<'_>, operation: &'static str) -> BoxFuture<'a, T> {
    let error = Error::Unsupported { provider: interpreter.provider, operation };
    Box::pin(async move { Exchanged { outcome: Err(error), rate: None } })
}

/// A documented budget of `requests` per `seconds`, checked at compile time.
const fn per(requests: u32, seconds: u64) -> RateLimit {
    match NonZeroU32::new(requests) {
        Some(requests) => RateLimit { requests, per: Duration::from_secs(seconds) },
        None => panic!("a documented budget allows at least one request"),
    }
}

/// The operation `operation_id` of a spec, found at compile time: a
/// provider that names an operation its spec lacks does not build.
const fn operation(spec: &'static SpecFacts, operation_id: &str) -> &'static Operation {
    match spec.operation(operation_id) {
        Some(operation) => operation,
        None => panic!("the spec has no operation with this operationId"),
    }
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
