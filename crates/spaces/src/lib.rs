//! One normalized model of X/Twitter Space details, whatever the provider.
//!
//! The X API v2, SocialData, AIsa and twitterapi.io each describe a Space
//! differently: other names, timestamp formats, state vocabularies and error
//! styles. This crate turns each provider's answer into the same [`Space`],
//! fetches it with one [`Client`], and reports failures as one [`Error`] that
//! names the provider (and, for bad data, the field and the value).
//!
//! The examples below run against `spaces-mock`, the same recorded-response
//! server `spaces demo` uses, so they need no network and no keys; against a
//! real provider, drop `.base_url(...)` and take the token from the
//! environment ([`Client::from_env`]).
//!
//! # Decode a body you already have
//!
//! ```
//! use spaces::{Provider, SpaceState};
//!
//! let body = br#"{"data": {"id": "1OdKrjgmNkeKX", "state": "canceled"}}"#;
//! let space = spaces::decode(Provider::X, body)?;
//! assert_eq!(space.state, SpaceState::Canceled);
//!
//! // Bad data names the provider, the field and the value.
//! let error = spaces::decode(Provider::SocialData, br#"{"id": "1OdKrjgmNkeKX", "created_at": "soon"}"#)
//!     .unwrap_err();
//! assert!(error.to_string().starts_with("socialdata: cannot decode `created_at`"), "{error}");
//! # Ok::<(), spaces::Error>(())
//! ```
//!
//! # Fetch one Space
//!
//! ```
//! use spaces::{Client, Error, Provider, Token};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! # let mock = spaces_mock::MockProviders::start().await;
//!
//! let client = Client::builder(Provider::SocialData)
//!     .token(Token::new(spaces_mock::DEMO_TOKEN)) // or Client::from_env: SOCIALDATA_API_KEY
//!     .base_url(mock.base_url(Provider::SocialData)) // default: the provider's own API
//!     .build()?;
//! let space = client.space("1jMJgLdenVjxL").await?;
//! assert_eq!(space.title.as_deref(), Some("The Algorithm goes open source"));
//!
//! // Failures are variants to match on, not strings.
//! match client.space("1OdKrjgmNkeKX").await {
//!     Err(Error::NotFound { id, .. }) => assert_eq!(id.as_deref(), Some("1OdKrjgmNkeKX")),
//!     other => panic!("expected NotFound, got {other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # 10,000 ids, streamed to NDJSON
//!
//! A [`Lookup`] reads ids as it needs them, sends them 100 per request on X
//! (`GET /2/spaces?ids=`), a few requests at a time, and yields each
//! outcome as soon as its request is answered, in input order: memory stays
//! flat and the first lines are out long before the last request returns.
//!
//! ```
//! use futures_util::StreamExt;
//! use spaces::{Client, Provider, RateLimiting, Token};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), spaces::Error> {
//! # let mock = spaces_mock::MockProviders::start().await;
//!
//! let client = Client::builder(Provider::X)
//!     .token(Token::new(spaces_mock::DEMO_TOKEN))
//!     .base_url(mock.base_url(Provider::X))
//!     // A local mock needs no budget; against X, the default keeps to X's
//!     // 300 requests per 15 minutes (these 100 requests take about 4).
//!     .rate_limiting(RateLimiting::Off)
//!     .build()?;
//! let ids = (0..10_000).map(|n| format!("1Id{n:010}")); // or lines of a file, lazily
//! let mut outcomes = client.lookup(ids).stream();
//! let mut ndjson = Vec::new(); // or stdout
//! let (mut found, mut failed) = (0, 0);
//! while let Some(outcome) = outcomes.next().await {
//!     match outcome.result {
//!         Ok(space) => {
//!             serde_json::to_writer(&mut ndjson, &space).expect("a Space serializes");
//!             ndjson.push(b'\n');
//!             found += 1;
//!         }
//!         Err(error) => {
//!             eprintln!("{}: {error}", outcome.id); // the mock knows none of these ids
//!             failed += 1;
//!         }
//!     }
//! }
//! assert_eq!(found + failed, 10_000, "one outcome per id");
//! # Ok(()) }
//! ```
//!
//! [`Client::spaces`] collects the same outcomes into a `Vec`;
//! [`Lookup::stop_on`] stops a run cleanly (a Ctrl-C: nothing more is sent,
//! every answer on its way is kept).
//!
//! # Search
//!
//! ```
//! use spaces::{Client, Provider, Search, SearchState, Token};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), spaces::Error> {
//! # let mock = spaces_mock::MockProviders::start().await;
//!
//! let client = Client::builder(Provider::X)
//!     .token(Token::new(spaces_mock::DEMO_TOKEN))
//!     .base_url(mock.base_url(Provider::X))
//!     .build()?;
//! let found = client.search(&Search::new("radio").state(SearchState::All).max_results(10)).await?;
//! assert!(!found.spaces.is_empty() && found.spaces.len() <= 10);
//! // The spec's rules are checked before anything is sent.
//! assert!(matches!(
//!     client.search(&Search::new("")).await,
//!     Err(spaces::Error::InvalidArgument { name: "query", .. })
//! ));
//! # Ok(()) }
//! ```
//!
//! # Merge across providers
//!
//! Each provider knows part of a Space; [`Providers::merge`] asks them all
//! and keeps, for each field, the first provider's value (the most advanced
//! state wins), with where each came from and where they disagree.
//!
//! ```
//! use spaces::{Client, Provider, Providers, SpaceState, Token};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = spaces_mock::MockProviders::start().await;
//!
//! let clients = Provider::ALL.iter().map(|&provider| {
//!     Client::builder(provider)
//!         .token(Token::new(spaces_mock::DEMO_TOKEN))
//!         .base_url(mock.base_url(provider))
//!         .build()
//! });
//! let providers = Providers::new(clients.collect::<Result<Vec<_>, _>>()?);
//! let merged = providers.merge("1jMJgLdenVjxL").await?.value;
//! assert_eq!(merged.space.state, SpaceState::Ended);
//! // The language comes from X alone; the listener count from SocialData.
//! assert_eq!(merged.source("lang"), Some(Provider::X));
//! assert_eq!(merged.source("total_live_listeners"), Some(Provider::SocialData));
//! // Merged serializes as the Space plus `sources` and `conflicts`.
//! let json = serde_json::to_value(&merged)?;
//! assert_eq!(json["sources"]["lang"], "x");
//! # Ok(()) }
//! ```
//!
//! For many ids, [`Providers::lookup`] streams fallback or merge outcomes
//! ([`SeveralLookup`]); [`Space::fields`] walks a Space field by field.
//!
//! Which provider supplies which field is in `docs/field-coverage.md`
//! (generated from the fixtures by `cargo xtask coverage`).

#![deny(missing_docs)]

// The layers point one way: model, fields, text, redact ← error ← list, merge, request ← convert (the converters'
// shared helpers) ← providers (each one's converter, facts and
// generated-client calls, and the exchange they share) ← client ← watch (the
// watcher and its store) ← this file.
// No module uses one to its right; `tests/it/layers.rs` checks it.
mod client;
mod convert;
mod error;
mod fields;
mod list;
mod merge;
mod model;
mod providers;
mod redact;
mod request;
pub mod text;
pub mod watch;

// The Rust examples of the README and of docs/library.md, compiled (and run,
// unless `no_run`) by `cargo test -p spaces --doc`, so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/library.md")]
pub struct LibraryDoctests;

pub use client::{Activity, ActivityEvent, ActivityItem, ActivityKind, EventOptions, Subscription, Subscriptions};
pub use client::{
    AllFailed, Answer, Attempt, CAPTURE_FORMAT, CAPTURE_SUFFIX, Client, ClientBuilder, Lookup, Providers, RateLimiting,
    RetryPolicy, SeveralLookup, Token,
};
pub use error::{Error, Excerpt, Resource};
pub use fields::{Field, FieldValue, SettingsField, UnknownField, UserField};
pub use list::{Decoded, ItemError, Outcome, SpaceList, Warning};
pub use merge::{Conflict, Merged, merge};
pub use model::{Provider, SearchState, Space, SpaceSettings, SpaceState, Topic, UnknownProvider, User, space_id_of};
pub use providers::{Capability, RateLimit};
pub use request::Search;
pub use text::escape_controls;

/// What the crate knows about each provider beyond the model: its facts
/// ([`ProviderInfo`](spec::ProviderInfo), from [`Provider::info`]), and what
/// its OpenAPI spec states (API root, auth, operations, parameters and their
/// rules, response examples), read from `specs/` by `cargo xtask regen`.
/// Tools (the mock server, the CLI's help) read these; most callers never need them.
pub mod spec {
    pub use crate::providers::{Budget, ListOperation, ProviderInfo};
    pub use spaces_generated::{Auth, Example, Operation, Param, ParamLocation, SpecFacts};

    /// The generated clients and wire types, for callers who need the raw shapes.
    pub use spaces_generated as generated;
}

/// Decodes a raw response body (as the provider sent it with a 200) into a [`Space`].
///
/// Provider failures carried inside a 200 are errors, not empty Spaces: X's
/// `errors`-only body, AIsa's `status: "error"`, SocialData's
/// `{"status": "error", "message": ...}`.
///
/// # Errors
///
/// [`Error::NotFound`] or [`Error::Rejected`] for such failures (X problems
/// may also give [`Error::Unauthorized`], [`Error::PaymentRequired`] or
/// [`Error::RateLimited`]), and [`Error::Decode`] naming the field and value
/// for anything that does not fit the provider's spec.
pub fn decode(provider: Provider, body: &[u8]) -> Result<Space, Error> {
    (provider.info().decode)(body)
}

/// Decodes a raw 200 body of any of the provider's endpoints: one Space
/// (as [`decode`]), or, for X's batch lookup, search and by-creator
/// endpoints, every Space of a multi-Space body with its partial errors.
///
/// # Errors
///
/// As [`decode`], for a single-Space body, or for a multi-Space body that
/// cannot be read at all; a multi-Space body's bad items and reported
/// problems are in its [`SpaceList::errors`] instead.
pub fn decode_any(provider: Provider, body: &[u8]) -> Result<Decoded, Error> {
    match provider.info().decode_any {
        Some(decode_any) => decode_any(body),
        None => decode(provider, body).map(Decoded::One),
    }
}
