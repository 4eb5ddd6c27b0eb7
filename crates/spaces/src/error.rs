//! The one error type. Every variant names the provider; bad data also names
//! the field and the offending value. No variant ever holds a token, and
//! every text that came from a provider is shown escaped (one line, no
//! terminal escapes) and shortened.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::Provider;
use crate::redact::Redactor;
use crate::text::escape_controls;

/// The longest wait a provider's `Retry-After` is taken at its word for;
/// an absurd value (days, years) is capped here rather than trusted.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// How much provider text an error keeps: enough to redact a token echoed
/// anywhere near the start before it is shortened for display, bounded
/// because bodies can be megabytes and one error is cloned to every id of
/// a failed batch.
const KEPT_CHARS: usize = 1024;

/// How much of it a message shows: messages stay one readable line.
const SHOWN_CHARS: usize = 120;

/// What a not-found answer is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resource {
    /// A Space (the usual case).
    Space,
    /// A user, such as the creator or a host an expansion names.
    User,
    /// Something else the provider named (a topic, ...).
    Other,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Space => "Space",
            Resource::User => "user",
            Resource::Other => "resource",
        })
    }
}

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
        /// The refused id.
        id: Excerpt,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An argument other than a Space id is out of range (a user id, a
    /// search query, a result count, a base URL); nothing was sent.
    #[error("{provider}: invalid {name} `{value}`: {reason}")]
    InvalidArgument {
        /// The provider the request was for.
        provider: Provider,
        /// What the argument is (`user id`, `query`, `max_results`, `base URL`).
        name: &'static str,
        /// The refused value.
        value: Excerpt,
        /// What is wrong with it (the spec's rule it breaks).
        reason: String,
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
    #[error("{provider}: Space {} was requested but the answer neither returned it nor reported an error for it", Shown(.id))]
    NotAnswered {
        /// The provider that answered.
        provider: Provider,
        /// The requested id.
        id: String,
    },

    /// The provider answered with another Space than the one asked for.
    /// It is never taken as the answer.
    #[error("{provider}: asked for Space {} but the answer is Space {}", Shown(.requested), Shown(.returned))]
    WrongSpace {
        /// The provider that answered.
        provider: Provider,
        /// The id asked for.
        requested: String,
        /// The id of the Space the provider sent.
        returned: String,
    },

    /// The provider says the Space (or another resource it names, such as
    /// a user) does not exist, or no longer does.
    #[error("{provider}: {resource} {}not found{}", SpaceId(.id), Detail(.detail))]
    NotFound {
        /// The provider that answered.
        provider: Provider,
        /// What is missing: a Space, unless the provider said otherwise.
        resource: Resource,
        /// Its id, when known: for a lookup, the id asked for; in a list's
        /// partial error, the one the provider named.
        id: Option<String>,
        /// The provider's own message.
        detail: Option<Excerpt>,
    },

    /// The token was refused (HTTP 401/403, or an equivalent problem in a 200).
    #[error("{provider}: not authorized{}{}", Status(.status), Detail(.detail))]
    Unauthorized {
        /// The provider that answered.
        provider: Provider,
        /// The HTTP status, when the refusal came as one.
        status: Option<u16>,
        /// The provider's own message.
        detail: Option<Excerpt>,
    },

    /// Out of credits or over the plan's cap (HTTP 402, X `usage-capped`).
    #[error("{provider}: payment required (out of credits or usage cap){}", Detail(.detail))]
    PaymentRequired {
        /// The provider that answered.
        provider: Provider,
        /// The provider's own message.
        detail: Option<Excerpt>,
    },

    /// Too many requests.
    #[error("{provider}: rate limited{}", RetryAfter(.retry_after, .retry_at))]
    RateLimited {
        /// The provider that answered.
        provider: Provider,
        /// How long to wait before coming back (`Retry-After` or X's
        /// `x-rate-limit-reset`), capped at [`RetryPolicy::MAX_RETRY_AFTER`](crate::RetryPolicy::MAX_RETRY_AFTER).
        retry_after: Option<Duration>,
        /// When the provider said to come back, as it said it (uncapped;
        /// a wrong clock can put it years away).
        retry_at: Option<DateTime<Utc>>,
    },

    /// The provider failed (HTTP 5xx) or answered with a status it does not document.
    #[error("{provider}: upstream error (HTTP {status}): {body}{}", RetryAfter(.retry_after, &None))]
    Upstream {
        /// The provider that answered.
        provider: Provider,
        /// The HTTP status.
        status: u16,
        /// The start of the response body.
        body: Excerpt,
        /// When the provider said to come back (a 503's `Retry-After`),
        /// capped at [`RetryPolicy::MAX_RETRY_AFTER`](crate::RetryPolicy::MAX_RETRY_AFTER).
        retry_after: Option<Duration>,
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
    #[error("{provider}: cannot decode `{}`{}: {detail}", Shown(.field), Value(.value))]
    Decode {
        /// The provider whose data it is.
        provider: Provider,
        /// The JSON path of the offending value (`data.created_at`), or `body`.
        field: String,
        /// The offending value (or the start of the body).
        value: Option<Excerpt>,
        /// Why it was refused.
        detail: Excerpt,
    },

    /// The request was never sent: the run it belonged to was stopped
    /// ([`Lookup::stop_on`](crate::Lookup::stop_on)).
    #[error("{provider}: not sent: the run was stopped")]
    Interrupted {
        /// The provider it was for.
        provider: Provider,
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
        /// Where (host and path, never the query) and the cause, in words.
        detail: Excerpt,
    },

    /// No token was given and the provider's environment variable is unset.
    #[error("{provider}: no API token; set {env_var}")]
    MissingToken {
        /// The provider that needs it.
        provider: Provider,
        /// The variable to set.
        env_var: &'static str,
    },

    /// The token cannot be used: too short to be kept out of messages
    /// safely, or holding characters an HTTP header cannot carry. Reported
    /// by `build()`, before any request.
    #[error("{provider}: unusable API token: {reason}; check {env_var} (or the token file)")]
    InvalidToken {
        /// The provider it is for.
        provider: Provider,
        /// The variable it is read from by default.
        env_var: &'static str,
        /// What is wrong with it (never the token itself).
        reason: &'static str,
    },

    /// The directory given to [`ClientBuilder::record`](crate::ClientBuilder::record)
    /// cannot be created or written; reported by `build()`, before any request.
    #[error("{provider}: cannot record captures in `{}`: {detail}", Shown(.path))]
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
            | Error::WrongSpace { provider, .. }
            | Error::NotFound { provider, .. }
            | Error::Unauthorized { provider, .. }
            | Error::PaymentRequired { provider, .. }
            | Error::RateLimited { provider, .. }
            | Error::Upstream { provider, .. }
            | Error::Rejected { provider, .. }
            | Error::Decode { provider, .. }
            | Error::BodyTooLarge { provider, .. }
            | Error::Interrupted { provider }
            | Error::Timeout { provider, .. }
            | Error::Transport { provider, .. }
            | Error::MissingToken { provider, .. }
            | Error::InvalidToken { provider, .. }
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

    /// How long the provider said to wait before coming back (`Retry-After`
    /// on a 429 or a 503, or X's `x-rate-limit-reset`), capped at
    /// [`RetryPolicy::MAX_RETRY_AFTER`](crate::RetryPolicy::MAX_RETRY_AFTER).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Upstream { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The same error with every echo of the token in provider-supplied
    /// text (bodies, messages, values, ids, field names) masked.
    pub(crate) fn redacted(self, redactor: &Redactor) -> Error {
        let text = |text: String| redactor.text(&text).into_owned();
        let excerpt = |excerpt: Excerpt| excerpt.redacted(redactor);
        match self {
            Error::InvalidId { provider, id, reason } => Error::InvalidId { provider, id: excerpt(id), reason },
            Error::InvalidArgument { provider, name, value, reason } => {
                Error::InvalidArgument { provider, name, value: excerpt(value), reason }
            }
            Error::NotAnswered { provider, id } => Error::NotAnswered { provider, id: text(id) },
            Error::WrongSpace { provider, requested, returned } => {
                Error::WrongSpace { provider, requested: text(requested), returned: text(returned) }
            }
            Error::NotFound { provider, resource, id, detail } => {
                Error::NotFound { provider, resource, id: id.map(text), detail: detail.map(excerpt) }
            }
            Error::Unauthorized { provider, status, detail } => {
                Error::Unauthorized { provider, status, detail: detail.map(excerpt) }
            }
            Error::PaymentRequired { provider, detail } => {
                Error::PaymentRequired { provider, detail: detail.map(excerpt) }
            }
            Error::Upstream { provider, status, body, retry_after } => {
                Error::Upstream { provider, status, body: excerpt(body), retry_after }
            }
            Error::Rejected { provider, status, message } => {
                Error::Rejected { provider, status, message: excerpt(message) }
            }
            Error::Decode { provider, field, value, detail } => Error::Decode {
                provider,
                // A path cut short (`shorten_path`) ends in `…`; what is left may end in a token's start.
                field: match field.strip_suffix('…') {
                    Some(kept) => redactor.cut_text(kept) + "…",
                    None => text(field),
                },
                value: value.map(excerpt),
                detail: excerpt(detail),
            },
            Error::Transport { provider, detail } => Error::Transport { provider, detail: excerpt(detail) },
            other @ (Error::RateLimited { .. }
            | Error::Unsupported { .. }
            | Error::BodyTooLarge { .. }
            | Error::Interrupted { .. }
            | Error::Timeout { .. }
            | Error::MissingToken { .. }
            | Error::InvalidToken { .. }
            | Error::RecordDir { .. }) => other,
        }
    }

    pub(crate) fn decode(
        provider: Provider,
        field: impl fmt::Display,
        value: impl AsRef<str>,
        detail: impl Into<Excerpt>,
    ) -> Self {
        Error::Decode {
            provider,
            field: field.to_string(),
            value: Some(Excerpt::new(value.as_ref())),
            detail: detail.into(),
        }
    }

    /// A Space not found, by id.
    pub(crate) fn not_found(provider: Provider, id: Option<String>, detail: Option<Excerpt>) -> Self {
        Error::NotFound { provider, resource: Resource::Space, id, detail }
    }
}

/// A piece of provider text kept for an error: at most the first 1,024
/// characters of it, as received. It dereferences to that text; its
/// `Display` shows the first 120 characters, with control characters and
/// bidi overrides escaped (see [`escape_controls`](crate::escape_controls)),
/// and `…` when there was more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    text: String,
    /// Whether the provider's text went on past what is kept.
    cut: bool,
}

impl Excerpt {
    /// Keeps the start of `text`.
    pub fn new(text: &str) -> Self {
        match text.char_indices().nth(KEPT_CHARS) {
            Some((end, _)) => Excerpt { text: text[..end].to_owned(), cut: true },
            None => Excerpt { text: text.to_owned(), cut: false },
        }
    }

    /// The kept text, as received (not escaped, not shortened for display).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the provider's text was longer than what is kept.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// The same excerpt, marked cut when `cut` (the text was taken from the
    /// start of a longer one).
    pub(crate) fn cut_if(mut self, cut: bool) -> Excerpt {
        self.cut |= cut;
        self
    }

    fn redacted(self, redactor: &Redactor) -> Excerpt {
        let text = if self.cut { redactor.cut_text(&self.text) } else { redactor.text(&self.text).into_owned() };
        Excerpt { text, cut: self.cut }
    }
}

impl Deref for Excerpt {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<&str> for Excerpt {
    fn from(text: &str) -> Self {
        Excerpt::new(text)
    }
}

impl From<String> for Excerpt {
    fn from(text: String) -> Self {
        Excerpt::new(&text)
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown(&self.text).fmt(f)?;
        if self.cut && self.text.chars().nth(SHOWN_CHARS).is_none() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// Provider text as a message shows it: escaped, at most [`SHOWN_CHARS`]
/// characters, `…` marking a cut.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(SHOWN_CHARS) {
            Some((end, _)) => write!(f, "{}…", escape_controls(&self.0[..end])),
            None => f.write_str(&escape_controls(self.0)),
        }
    }
}

struct Detail<'a>(&'a Option<Excerpt>);

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(detail) => write!(f, ": {detail}"),
            None => Ok(()),
        }
    }
}

/// `1jMJgLdenVjxL ` when the id is known, nothing otherwise.
struct SpaceId<'a>(&'a Option<String>);

impl fmt::Display for SpaceId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "{} ", Shown(id)),
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

/// `; retry after 30s`, or, when the provider named a time further away than
/// the cap, that time and the cap: a reset years away (a wrong clock) must
/// not read as a plain 15-minute wait.
struct RetryAfter<'a>(&'a Option<Duration>, &'a Option<DateTime<Utc>>);

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let far = self.1.filter(|at| (*at - Utc::now()).to_std().is_ok_and(|wait| wait > MAX_RETRY_AFTER));
        match (self.0, far) {
            (_, Some(at)) => write!(
                f,
                "; the provider says to retry at {}, more than {} min away (waiting at most that)",
                at.format("%Y-%m-%dT%H:%M:%SZ"),
                MAX_RETRY_AFTER.as_secs() / 60
            ),
            (Some(after), None) => write!(f, "; retry after {}s", after.as_secs()),
            (None, None) => Ok(()),
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
