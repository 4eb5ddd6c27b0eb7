//! The one error type. Every variant names the provider; bad data also names
//! the field and the offending value. No variant ever holds a token.

use std::fmt;
use std::time::Duration;

use crate::model::Provider;

/// The longest wait a provider's `Retry-After` is taken at its word for;
/// an absurd value (days, years) is capped here rather than trusted.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// The longest excerpt of provider data an error carries; values can be
/// megabytes long and error messages must stay one readable line.
const EXCERPT_CHARS: usize = 120;

/// Everything that can go wrong getting or normalizing a Space.
///
/// `Clone`, so that one failed request can be the outcome of every id it carried.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Space id is not 1–13 ASCII letters and digits; nothing was sent.
    #[error("{provider}: invalid Space id `{id}`: {reason}")]
    InvalidId {
        /// The provider the request was for.
        provider: Provider,
        /// The refused id, shortened and escaped.
        id: Excerpt,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An argument other than a Space id is out of range (a user id, a
    /// search query, a result count); nothing was sent.
    #[error("{provider}: invalid {name} `{value}`: {reason}")]
    InvalidArgument {
        /// The provider the request was for.
        provider: Provider,
        /// What the argument is (`user id`, `query`, `max_results`).
        name: &'static str,
        /// The refused value, shortened and escaped.
        value: Excerpt,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The provider has no such endpoint (only X has batch lookup, search
    /// and Spaces by creator); nothing was sent.
    #[error("{provider}: {operation} is not offered by this provider")]
    Unsupported {
        /// The provider that was asked.
        provider: Provider,
        /// The operation, in words (`search`, `Spaces by creator`).
        operation: &'static str,
    },

    /// A batch answer neither returned nor mentioned this requested id.
    #[error("{provider}: Space {id} was requested but the answer neither returned it nor reported an error for it")]
    NotAnswered {
        /// The provider that answered.
        provider: Provider,
        /// The requested id.
        id: String,
    },

    /// The provider says the Space does not exist (or no longer does).
    #[error("{provider}: Space {}not found{}", SpaceId(.id), Detail(.detail))]
    NotFound {
        /// The provider that answered.
        provider: Provider,
        /// The Space id, when known (the requested one, or the one in the provider's problem).
        id: Option<String>,
        /// The provider's own message.
        detail: Option<String>,
    },

    /// The token was refused (HTTP 401/403, or an equivalent problem in a 200).
    #[error("{provider}: not authorized{}{}", Status(.status), Detail(.detail))]
    Unauthorized {
        /// The provider that answered.
        provider: Provider,
        /// The HTTP status, when the refusal came as one.
        status: Option<u16>,
        /// The provider's own message.
        detail: Option<String>,
    },

    /// Out of credits or over the plan's cap (HTTP 402, X `usage-capped`).
    #[error("{provider}: payment required (out of credits or usage cap){}", Detail(.detail))]
    PaymentRequired {
        /// The provider that answered.
        provider: Provider,
        /// The provider's own message.
        detail: Option<String>,
    },

    /// Too many requests.
    #[error("{provider}: rate limited{}", RetryAfter(.retry_after))]
    RateLimited {
        /// The provider that answered.
        provider: Provider,
        /// When the provider said to come back (`Retry-After` or X's
        /// `x-rate-limit-reset`), capped at [`MAX_RETRY_AFTER`].
        retry_after: Option<Duration>,
    },

    /// The provider failed (HTTP 5xx) or answered with a status it does not document.
    #[error("{provider}: upstream error (HTTP {status}): {body}")]
    Upstream {
        /// The provider that answered.
        provider: Provider,
        /// The HTTP status.
        status: u16,
        /// The start of the response body.
        body: Excerpt,
    },

    /// The provider reported a failure that fits no other variant (an error
    /// body inside a 200, a 4xx other than those above).
    #[error("{provider}: request failed{}: {message}", Status(.status))]
    Rejected {
        /// The provider that answered.
        provider: Provider,
        /// The HTTP status, when the failure came as one.
        status: Option<u16>,
        /// The provider's own message.
        message: Excerpt,
    },

    /// The body is not what the provider's spec says: malformed JSON, a field
    /// of the wrong type, or a value the converter cannot read.
    #[error("{provider}: cannot decode `{field}`{}: {detail}", Value(.value))]
    Decode {
        /// The provider whose data it is.
        provider: Provider,
        /// The JSON path of the offending value (`data.created_at`), or `body`.
        field: String,
        /// The offending value (or the start of the body), shortened.
        value: Option<Excerpt>,
        /// Why it was refused.
        detail: String,
    },

    /// The response body was larger than the client's cap.
    #[error("{provider}: response body exceeds the {limit}-byte cap")]
    BodyTooLarge {
        /// The provider that answered.
        provider: Provider,
        /// The cap, in bytes.
        limit: usize,
    },

    /// No answer within the client's timeout or deadline.
    #[error("{provider}: timed out after {:.1}s", .after.as_secs_f64())]
    Timeout {
        /// The provider that was asked.
        provider: Provider,
        /// The timeout or deadline that passed.
        after: Duration,
    },

    /// The connection failed (refused, reset, TLS, redirect loop, ...).
    #[error("{provider}: transport error: {detail}")]
    Transport {
        /// The provider that was asked.
        provider: Provider,
        /// The cause chain, as reported by the HTTP stack.
        detail: String,
    },

    /// No token was given and the provider's environment variable is unset.
    #[error("{provider}: no API token; set {env_var}")]
    MissingToken {
        /// The provider that needs it.
        provider: Provider,
        /// The variable to set.
        env_var: &'static str,
    },

    /// The directory given to [`ClientBuilder::record`](crate::ClientBuilder::record)
    /// cannot be created or written; reported by `build()`, before any request.
    #[error("{provider}: cannot record captures in `{path}`: {detail}")]
    RecordDir {
        /// The provider of the client being built.
        provider: Provider,
        /// The directory, as given.
        path: String,
        /// What the file system said.
        detail: String,
    },
}

impl Error {
    /// The provider the error is about.
    pub fn provider(&self) -> Provider {
        match self {
            Error::InvalidId { provider, .. }
            | Error::InvalidArgument { provider, .. }
            | Error::Unsupported { provider, .. }
            | Error::NotAnswered { provider, .. }
            | Error::NotFound { provider, .. }
            | Error::Unauthorized { provider, .. }
            | Error::PaymentRequired { provider, .. }
            | Error::RateLimited { provider, .. }
            | Error::Upstream { provider, .. }
            | Error::Rejected { provider, .. }
            | Error::Decode { provider, .. }
            | Error::BodyTooLarge { provider, .. }
            | Error::Timeout { provider, .. }
            | Error::Transport { provider, .. }
            | Error::MissingToken { provider, .. }
            | Error::RecordDir { provider, .. } => *provider,
        }
    }

    /// Whether trying again may succeed: rate limiting (429) and provider
    /// failures (5xx). Everything else fails the same way again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } => true,
            Error::Upstream { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// When the provider said to come back, for a rate-limited request that
    /// said so (`Retry-After`, or X's `x-rate-limit-reset`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The same error with every occurrence of `secret` in provider-supplied
    /// text (bodies, messages, values) replaced by `***`: a hostile or buggy
    /// server may echo the token back, and errors end up in logs.
    pub(crate) fn redacted(self, secret: &str) -> Error {
        if secret.is_empty() {
            return self;
        }
        let text = |text: String| redact(&text, secret);
        let excerpt = |excerpt: Excerpt| Excerpt(redact(&excerpt.0, secret));
        match self {
            Error::InvalidId { provider, id, reason } => Error::InvalidId { provider, id: excerpt(id), reason },
            Error::InvalidArgument { provider, name, value, reason } => {
                Error::InvalidArgument { provider, name, value: excerpt(value), reason }
            }
            Error::NotFound { provider, id, detail } => {
                Error::NotFound { provider, id: id.map(text), detail: detail.map(text) }
            }
            Error::Unauthorized { provider, status, detail } => {
                Error::Unauthorized { provider, status, detail: detail.map(text) }
            }
            Error::PaymentRequired { provider, detail } => {
                Error::PaymentRequired { provider, detail: detail.map(text) }
            }
            Error::Upstream { provider, status, body } => Error::Upstream { provider, status, body: excerpt(body) },
            Error::Rejected { provider, status, message } => {
                Error::Rejected { provider, status, message: excerpt(message) }
            }
            Error::Decode { provider, field, value, detail } => {
                Error::Decode { provider, field: text(field), value: value.map(excerpt), detail: text(detail) }
            }
            Error::Transport { provider, detail } => Error::Transport { provider, detail: text(detail) },
            other @ (Error::RateLimited { .. }
            | Error::Unsupported { .. }
            | Error::NotAnswered { .. }
            | Error::BodyTooLarge { .. }
            | Error::Timeout { .. }
            | Error::MissingToken { .. }
            | Error::RecordDir { .. }) => other,
        }
    }

    pub(crate) fn decode(
        provider: Provider,
        field: impl fmt::Display,
        value: impl AsRef<str>,
        detail: impl Into<String>,
    ) -> Self {
        Error::Decode {
            provider,
            field: field.to_string(),
            value: Some(Excerpt::new(value.as_ref())),
            detail: detail.into(),
        }
    }
}

/// `text` (from outside: a body a hostile or buggy server may have echoed
/// the token into) with every occurrence of `secret` replaced by `***`.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() { text.to_owned() } else { text.replace(secret, "***") }
}

/// A piece of provider data shortened to one readable line for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt(String);

impl Excerpt {
    /// Keeps the first 120 characters, marking a cut with `…`, and escapes
    /// control characters so an excerpt never breaks a log line.
    pub fn new(text: &str) -> Self {
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).flat_map(char::escape_debug).collect();
        if text.chars().nth(EXCERPT_CHARS).is_some() {
            excerpt.push('…');
        }
        Excerpt(excerpt)
    }

    /// The shortened text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Detail<'a>(&'a Option<String>);

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(detail) => write!(f, ": {}", Excerpt::new(detail)),
            None => Ok(()),
        }
    }
}

/// `1jMJgLdenVjxL ` when the id is known, nothing otherwise.
struct SpaceId<'a>(&'a Option<String>);

impl fmt::Display for SpaceId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "{} ", Excerpt::new(id)),
            None => Ok(()),
        }
    }
}

struct Status<'a>(&'a Option<u16>);

impl fmt::Display for Status<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(status) => write!(f, " (HTTP {status})"),
            None => Ok(()),
        }
    }
}

struct RetryAfter<'a>(&'a Option<Duration>);

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(after) => write!(f, "; retry after {}s", after.as_secs()),
            None => Ok(()),
        }
    }
}

struct Value<'a>(&'a Option<Excerpt>);

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, " (value `{value}`)"),
            None => Ok(()),
        }
    }
}
