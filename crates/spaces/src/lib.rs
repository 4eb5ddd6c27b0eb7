//! One normalized model of X/Twitter Space details, whatever the provider.
//!
//! The X API v2, SocialData and AIsa each describe a Space differently:
//! other names, timestamp formats, state vocabularies and error styles. This
//! crate turns each provider's answer into the same [`Space`].
//!
//! ```
//! use spaces::{Provider, SpaceState};
//!
//! let body = br#"{"data": {"id": "1OdKrjgmNkeKX", "state": "canceled"}}"#;
//! let space = spaces::decode(Provider::X, body)?;
//! assert_eq!(space.state, SpaceState::Canceled);
//! # Ok::<(), spaces::Error>(())
//! ```

#![deny(missing_docs)]

mod client;
mod convert;
mod error;
mod model;
mod providers;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
    MAX_RETRY_AFTER, RateLimit, RetryPolicy, Token, default_base_url, validate_id,
};
pub use error::{Error, Excerpt};
pub use model::{Provider, Space, SpaceSettings, SpaceState, Topic, UnknownProvider, User};
pub use providers::{Auth, Endpoint, ProviderInfo};

/// The generated clients and wire types, for callers who need the raw shapes.
pub use spaces_generated as generated;

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
