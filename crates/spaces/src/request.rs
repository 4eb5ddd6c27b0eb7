//! What a caller asks for beyond one id: a search of Space titles and its
//! options, checked against the spec's rules before anything is sent.

use spaces_generated::Operation;

use crate::error::{Error, Excerpt};
use crate::model::{Provider, SearchState};

/// A search of live and scheduled Spaces by title (X's `GET /2/spaces/search`),
/// for [`Client::search`](crate::Client::search).
///
/// ```
/// use spaces::{Search, SearchState};
/// let search = Search::new("rust").state(SearchState::Live).max_results(10);
/// assert_eq!((search.query(), search.state_filter(), search.result_limit()), ("rust", SearchState::Live, Some(10)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    query: String,
    state: SearchState,
    max_results: Option<u8>,
}

impl Search {
    /// A search for `query` in Space titles, of live and scheduled Spaces,
    /// with the provider's default number of results (X: 100).
    pub fn new(query: impl Into<String>) -> Search {
        Search { query: query.into(), state: SearchState::All, max_results: None }
    }

    /// Only live, or only scheduled, Spaces (default: both).
    pub fn state(mut self, state: SearchState) -> Search {
        self.state = state;
        self
    }

    /// At most this many Spaces (X: 1–100; X has no further pages).
    pub fn max_results(mut self, max_results: u8) -> Search {
        self.max_results = Some(max_results);
        self
    }

    /// The text searched for.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Which Spaces are searched.
    pub fn state_filter(&self) -> SearchState {
        self.state
    }

    /// The most results asked for, if set.
    pub fn result_limit(&self) -> Option<u8> {
        self.max_results
    }

    /// What [`Client::search`](crate::Client::search) checks before any
    /// request: that `provider` offers search, and that its operation's
    /// parameters allow the query's length and the number of results (as
    /// the spec bounds them: X 1–2048 characters, 1–100 results).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] or [`Error::InvalidArgument`] naming the value.
    pub fn check(&self, provider: Provider) -> Result<(), Error> {
        let operation = provider.info().search.ok_or(Error::Unsupported { provider, operation: "search" })?;
        self.check_for(provider, operation)
    }

    /// The spec's rules on the operation's `query` and `max_results` parameters.
    pub(crate) fn check_for(&self, provider: Provider, operation: &Operation) -> Result<(), Error> {
        let invalid = |name, value: &str, reason: String| Error::InvalidArgument {
            provider,
            name,
            value: Excerpt::new(value),
            reason,
        };
        if let Some(query) = operation.param("query")
            && !query.rules.accepts(&self.query)
        {
            let (min, max) = (query.rules.min_length.unwrap_or(0), query.rules.max_length);
            let reason = match max {
                Some(max) => format!("must be {min} to {max} characters"),
                None => format!("must be at least {min} characters"),
            };
            return Err(invalid("query", &self.query, reason));
        }
        if let (Some(max), Some(param)) = (self.max_results, operation.param("max_results"))
            && !param.rules.number_fits(i64::from(max))
        {
            let bound = |bound: Option<i64>| bound.map_or_else(|| "any".to_owned(), |bound| bound.to_string());
            let reason = format!("must be {} to {}", bound(param.rules.minimum), bound(param.rules.maximum));
            return Err(invalid("max_results", &max.to_string(), reason));
        }
        Ok(())
    }
}
