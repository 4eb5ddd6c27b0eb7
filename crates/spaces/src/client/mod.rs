//! One async client over every provider, wrapping the generated progenitor
//! clients: auth, id validation, timeouts, retries, a rate limiter, a body
//! cap, and errors a caller can match on.

mod multi;
mod rate_limit;
mod record;
mod retry;
mod token;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tracing::Instrument;

pub use multi::{AllFailed, Answer, Attempt, Providers};
pub use record::{CAPTURE_FORMAT, CAPTURE_SUFFIX};
pub use retry::RetryPolicy;
use spaces_generated::Auth;
pub use token::Token;

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use spaces_generated::Operation;

use crate::error::{Error, Excerpt};
use crate::list::{ItemError, Outcome, SpaceList, Warning};
use crate::model::{Provider, SearchState, Space};
use crate::providers::{BoxFuture, Exchanged, Fetch, Interpreter, RateLimit, Search};
use crate::redact::Redactor;
use rate_limit::Limits;
use record::Recorder;

/// The default per-attempt request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on a response body (4 MiB; real Space bodies are a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = spaces_generated::DEFAULT_MAX_BODY_BYTES;
/// The default number of requests [`Client::spaces`] keeps in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("spaces/", env!("CARGO_PKG_VERSION"));

/// Fetches Spaces from one provider.
///
/// Cheap to clone: clones share the connection pool and the rate limiter.
///
/// ```no_run
/// # async fn run() -> Result<(), spaces::Error> {
/// use spaces::{Client, Provider};
///
/// // The token comes from X_BEARER_TOKEN.
/// let client = Client::from_env(Provider::X)?;
/// let space = client.space("1jMJgLdenVjxL").await?;
/// println!("{} is {}", space.title.as_deref().unwrap_or("(untitled)"), space.state);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Provider,
    base_url: String,
    api: Box<dyn Fetch>,
    token: Token,
    /// Every answer, error, log line and capture passes through it first.
    redactor: Redactor,
    retry: RetryPolicy,
    timeout: Duration,
    /// One call's deadline ([`RetryPolicy::deadline`]).
    deadline: Duration,
    max_body_bytes: usize,
    concurrency: usize,
    limits: Limits,
    recorder: Option<Recorder>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.inner.provider)
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("record", &self.record_dir())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client for `provider`.
    pub fn builder(provider: Provider) -> ClientBuilder {
        ClientBuilder::new(provider)
    }

    /// A client with every default, its token from the provider's environment variable.
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] naming the variable to set.
    pub fn from_env(provider: Provider) -> Result<Client, Error> {
        ClientBuilder::new(provider).build()
    }

    /// The provider this client asks.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The directory captures are written to ([`ClientBuilder::record`]), if any.
    pub fn record_dir(&self) -> Option<&Path> {
        self.inner.recorder.as_ref().map(Recorder::dir)
    }

    /// The captures that could not be written (a full disk, a directory
    /// removed meanwhile), one message each naming the file and the cause;
    /// at most the first 100 ([`record_failure_count`](Self::record_failure_count)
    /// counts them all). Such a failure never fails the request it records.
    /// Empty when the client does not record.
    pub fn record_failures(&self) -> Vec<String> {
        self.inner.recorder.as_ref().map(Recorder::failures).unwrap_or_default()
    }

    /// How many captures could not be written (see [`record_failures`](Self::record_failures)).
    pub fn record_failure_count(&self) -> u64 {
        self.inner.recorder.as_ref().map_or(0, Recorder::failure_count)
    }

    /// Fetches and normalizes one Space.
    ///
    /// The id is checked first (1–13 ASCII letters or digits); a bad id
    /// sends nothing. 429 and 5xx answers are retried per the client's
    /// [`RetryPolicy`]; nothing else is.
    ///
    /// # Errors
    ///
    /// Every [`Error`] variant but `MissingToken`; each names the provider.
    pub async fn space(&self, id: &str) -> Result<Space, Error> {
        validate_id(self.inner.provider, id)?;
        let space = self.call(self.inner.provider.info().lookup, Some(id), &Lookup(id)).await?;
        // A provider may answer with another Space than the one asked for
        // (a cache keyed wrongly, a redirect, a hostile server): never the answer.
        if space.id != id {
            return Err(Error::WrongSpace { provider: space.provider, requested: id.to_owned(), returned: space.id });
        }
        Ok(space)
    }

    /// Fetches many Spaces: one [`Outcome`] per requested id, in input order
    /// (a duplicate id is fetched once and its outcome repeated).
    ///
    /// An invalid id fails alone, before anything is sent. Where the
    /// provider has a batch endpoint (X), the valid ids go out `max_ids` (100)
    /// per request: 10,000 ids take 100 requests. Each requested id then gets
    /// its Space, or the error the answer reported for it (`NotFound`), or
    /// [`Error::NotAnswered`] if the answer neither returned nor mentioned it
    /// ([`Error::WrongSpace`] when it was the request's only id and the
    /// answer held another Space: that Space came in its place). A request that
    /// fails as a whole (after its retries) is the outcome of every id it
    /// carried. Elsewhere the ids are looked up one by one. Either way
    /// [`ClientBuilder::concurrency`] requests run at once, under the rate
    /// limiter.
    ///
    /// What was odd about an answer without costing an id its outcome (a
    /// Space sent twice, one not asked for, a problem about a user) is in
    /// [`Outcome::warnings`]: a warning about one id on that id's outcome,
    /// one about the request as a whole on the outcome of its first id.
    pub async fn spaces<I, S>(&self, ids: I) -> Vec<Outcome>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let provider = self.inner.provider;
        let requested: Vec<String> = ids.into_iter().map(Into::into).collect();
        let mut outcomes: HashMap<String, Outcome> = HashMap::new();
        let mut distinct = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for id in &requested {
            if !seen.insert(id.as_str()) {
                continue;
            }
            match validate_id(provider, id) {
                Err(error) => {
                    outcomes.insert(id.clone(), Outcome::of(id.clone(), Err(error)));
                }
                Ok(()) => distinct.push(id.clone()),
            }
        }
        let concurrency = self.inner.concurrency;
        match provider.info().batch_lookup {
            Some(batch) => {
                let chunks: Vec<Vec<String>> = distinct.chunks(batch.max_ids).map(<[String]>::to_vec).collect();
                let mut answers = futures_util::stream::iter(chunks)
                    .map(|chunk| async move {
                        let answer = self.call(batch.operation, None, &ListCall::Ids(&chunk)).await;
                        (chunk, answer)
                    })
                    .buffer_unordered(concurrency);
                while let Some((chunk, answer)) = answers.next().await {
                    outcomes.extend(
                        assign(provider, chunk, answer).into_iter().map(|outcome| (outcome.id.clone(), outcome)),
                    );
                }
            }
            None => {
                let mut answers = futures_util::stream::iter(distinct)
                    .map(|id| async move {
                        let answer = self.space(&id).await;
                        Outcome::of(id, answer)
                    })
                    .buffer_unordered(concurrency);
                while let Some(outcome) = answers.next().await {
                    outcomes.insert(outcome.id.clone(), outcome);
                }
            }
        }
        // The last occurrence of an id takes its outcome; earlier duplicates
        // get a copy of its result (the warnings are reported once).
        let mut remaining: HashMap<&str, usize> = HashMap::new();
        for id in &requested {
            *remaining.entry(id.as_str()).or_default() += 1;
        }
        let mut ordered = Vec::with_capacity(requested.len());
        for id in &requested {
            let left = remaining.get_mut(id.as_str()).map_or(0, |left| {
                *left -= 1;
                *left
            });
            let outcome = if left == 0 {
                outcomes.remove(id)
            } else {
                outcomes.get(id).map(|outcome| Outcome::of(id.clone(), outcome.result.clone()))
            };
            // Every id was given an outcome above; this only guards against a slip.
            ordered.push(
                outcome
                    .unwrap_or_else(|| Outcome::of(id.clone(), Err(Error::NotAnswered { provider, id: id.clone() }))),
            );
        }
        ordered
    }

    /// Searches live and scheduled Spaces by title (X's `GET /2/spaces/search`).
    ///
    /// `query` is 1–2048 characters; `max_results` 1–100 (X's default: 100).
    /// X offers no pagination for search.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a provider without search and
    /// [`Error::InvalidArgument`] for an out-of-range argument, both before
    /// any request; otherwise as [`Client::space`]. Partial errors are in the
    /// list's `errors`.
    pub async fn search(&self, query: &str, state: SearchState, max_results: Option<u8>) -> Result<SpaceList, Error> {
        let provider = self.inner.provider;
        let operation = provider.info().search.ok_or(Error::Unsupported { provider, operation: "search" })?;
        let invalid =
            |name, value: &str, reason| Error::InvalidArgument { provider, name, value: Excerpt::new(value), reason };
        let length = query.chars().count();
        if length == 0 || length > 2048 {
            return Err(invalid("query", query, "must be 1 to 2048 characters"));
        }
        if let Some(max) = max_results
            && !(1..=100).contains(&max)
        {
            return Err(invalid("max_results", &max.to_string(), "must be 1 to 100"));
        }
        let search = Search { query: query.to_owned(), state, max_results };
        self.call(operation, None, &ListCall::Search(&search)).await
    }

    /// The live and scheduled Spaces created by these users (X's
    /// `GET /2/spaces/by/creator_ids`), `max_ids` (100) users per request.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a provider without it and
    /// [`Error::InvalidArgument`] for a user id that is not 1–19 digits, both
    /// before any request; a request that fails fails the call. Partial
    /// errors are in the list's `errors`.
    pub async fn spaces_by_creators<I, S>(&self, user_ids: I) -> Result<SpaceList, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let provider = self.inner.provider;
        let operation =
            provider.info().by_creators.ok_or(Error::Unsupported { provider, operation: "Spaces by creator" })?;
        let mut distinct: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for id in user_ids.into_iter().map(Into::into) {
            if id.is_empty() || id.len() > 19 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
                let value = Excerpt::new(&id);
                return Err(Error::InvalidArgument {
                    provider,
                    name: "user id",
                    value,
                    reason: "must be 1 to 19 digits",
                });
            }
            if seen.insert(id.clone()) {
                distinct.push(id);
            }
        }
        let mut all = SpaceList::default();
        for chunk in distinct.chunks(operation.max_ids) {
            let list = self.call(operation.operation, None, &ListCall::Creators(chunk)).await?;
            all.spaces.extend(list.spaces);
            all.errors.extend(list.errors);
            all.warnings.extend(list.warnings);
            all.result_count = match (all.result_count, list.result_count) {
                (None, None) => None,
                (sum, count) => Some(sum.unwrap_or(0) + count.unwrap_or(0)),
            };
        }
        Ok(all)
    }

    /// One operation, with retries, within the overall deadline.
    async fn call<C: Call>(
        &self,
        operation: &'static Operation,
        id: Option<&str>,
        call: &C,
    ) -> Result<C::Output, Error> {
        let inner = &self.inner;
        let deadline = tokio::time::Instant::now() + inner.deadline;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome =
                match tokio::time::timeout_at(deadline, self.attempt(operation, id, attempt, deadline, call)).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Err(Error::Timeout { provider: inner.provider, after: inner.deadline }),
                };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !error.is_retryable() || attempt >= inner.retry.max_attempts {
                return Err(error);
            }
            let wait = inner.retry.backoff(attempt, error.retry_after());
            if tokio::time::Instant::now() + wait >= deadline {
                // Waiting would outlast the deadline: report the real cause, not a timeout.
                return Err(error);
            }
            tracing::warn!(provider = %inner.provider, id, attempt, wait_ms = wait.as_millis() as u64, %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP exchange: after the budgets allow it and any window the
    /// provider closed has reset, traced, its rate-limit headers read.
    async fn attempt<C: Call>(
        &self,
        operation: &'static Operation,
        id: Option<&str>,
        attempt: u32,
        deadline: tokio::time::Instant,
        call: &C,
    ) -> Result<C::Output, Error> {
        let inner = &self.inner;
        let operation_id = operation.operation_id;
        if let Some(until) = inner.limits.closed_until(operation_id) {
            if until >= deadline {
                // Sending now would be refused, and the window resets too late.
                let retry_after = until - tokio::time::Instant::now();
                let retry_at = chrono::Utc::now() + retry_after;
                return Err(Error::RateLimited {
                    provider: inner.provider,
                    retry_after: Some(retry_after),
                    retry_at: Some(retry_at),
                });
            }
            tracing::info!(provider = %inner.provider, operation = operation_id, "waiting for the rate-limit window to reset");
            tokio::time::sleep_until(until).await;
        }
        inner.limits.ready(operation_id).await;
        let span = tracing::info_span!(
            "spaces.request",
            provider = %inner.provider,
            operation = operation_id,
            id,
            attempt,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let taped = Mutex::new(None);
        let interpreter = Interpreter {
            provider: inner.provider,
            id,
            request_timeout: inner.timeout,
            max_body_bytes: inner.max_body_bytes,
            record: inner.recorder.as_ref().map(|_| &taped),
        };
        let exchange = async {
            let Exchanged { outcome, rate } = call.run(&*inner.api, &interpreter).await;
            // The one redaction point: nothing of the answer is logged,
            // returned or compared before it.
            let exchanged = Exchanged { outcome: C::Output::redacted(outcome, &inner.redactor), rate };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::Span::current().record("elapsed_ms", elapsed_ms);
            match &exchanged.outcome {
                Ok(_) => tracing::debug!("answer received"),
                Err(error) => tracing::debug!(%error, "request failed"),
            }
            exchanged
        };
        let exchanged = exchange.instrument(span).await;
        if let Some(recorder) = &inner.recorder
            && let Some(wire) = taped.into_inner().unwrap_or_else(PoisonError::into_inner)
        {
            recorder.write(inner.provider, operation_id, &inner.redactor, wire);
        }
        if let Some(rate) = &exchanged.rate {
            inner.limits.observe(operation_id, rate);
        }
        // A 429 or a 503 that said when to come back closes the operation
        // for every request, not only for the one that was refused.
        if let Err(error) = &exchanged.outcome
            && let Some(wait) = error.retry_after()
        {
            inner.limits.close(operation_id, wait);
        }
        exchanged.outcome
    }
}

/// One kind of request, run through a provider's [`Fetch`].
trait Call: Sync {
    type Output: Send + Redact;
    fn run<'a>(&'a self, api: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Self::Output>;
}

/// A value from a provider, with every echo of the token masked.
trait Redact: Sized {
    fn redacted(outcome: Result<Self, Error>, redactor: &Redactor) -> Result<Self, Error>;
}

impl Redact for Space {
    fn redacted(outcome: Result<Space, Error>, redactor: &Redactor) -> Result<Space, Error> {
        match outcome {
            Ok(space) => redact_space(space, redactor),
            Err(error) => Err(error.redacted(redactor)),
        }
    }
}

impl Redact for SpaceList {
    fn redacted(outcome: Result<SpaceList, Error>, redactor: &Redactor) -> Result<SpaceList, Error> {
        let list = outcome.map_err(|error| error.redacted(redactor))?;
        let mut redacted = SpaceList { result_count: list.result_count, ..SpaceList::default() };
        let text = |text: String| redactor.text(&text).into_owned();
        for space in list.spaces {
            match redact_space(space.clone(), redactor) {
                Ok(space) => redacted.spaces.push(space),
                Err(error) => redacted.errors.push(ItemError { id: Some(text(space.id)), error }),
            }
        }
        for item in list.errors {
            redacted.errors.push(ItemError { id: item.id.map(text), error: item.error.redacted(redactor) });
        }
        redacted.warnings = list
            .warnings
            .into_iter()
            .map(|warning| match warning {
                Warning::Duplicate { provider, id, identical } => {
                    Warning::Duplicate { provider, id: text(id), identical }
                }
                Warning::Unrequested { provider, id } => Warning::Unrequested { provider, id: text(id) },
                Warning::Unattributed(error) => Warning::Unattributed(error.redacted(redactor)),
            })
            .collect();
        Ok(redacted)
    }
}

/// The Space with every echo of the token in any of its texts masked. A
/// Space holds no token in the common case, which one serialization
/// checks; only one that does is taken apart.
fn redact_space(space: Space, redactor: &Redactor) -> Result<Space, Error> {
    let provider = space.provider;
    if !serde_json::to_vec(&space).is_ok_and(|json| redactor.finds(&json)) {
        return Ok(space);
    }
    let mut value = serde_json::to_value(&space).unwrap_or(serde_json::Value::Null);
    mask_strings(&mut value, redactor);
    // A field that cannot hold the mask (a state, a timestamp that is the
    // token) leaves no safe way to show the Space: it is refused, not shown.
    serde_json::from_value(value).map_err(|_| Error::Rejected {
        provider,
        status: None,
        message: Excerpt::new("the answer echoes the API token in a field that cannot be masked; not shown"),
    })
}

fn mask_strings(value: &mut serde_json::Value, redactor: &Redactor) {
    match value {
        serde_json::Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = redactor.text(text) {
                *text = masked;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| mask_strings(item, redactor)),
        serde_json::Value::Object(members) => members.values_mut().for_each(|member| mask_strings(member, redactor)),
        _ => {}
    }
}

/// A single-Space lookup.
struct Lookup<'x>(&'x str);

impl Call for Lookup<'_> {
    type Output = Space;
    fn run<'a>(&'a self, api: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space> {
        api.space(self.0, interpreter)
    }
}

/// The multi-Space requests.
enum ListCall<'x> {
    /// A batch lookup of up to `max_ids` Space ids.
    Ids(&'x [String]),
    Creators(&'x [String]),
    Search(&'x Search),
}

impl Call for ListCall<'_> {
    type Output = SpaceList;
    fn run<'a>(&'a self, api: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, SpaceList> {
        match self {
            ListCall::Ids(ids) => api.spaces(ids, interpreter),
            ListCall::Creators(user_ids) => api.by_creators(user_ids, interpreter),
            ListCall::Search(search) => api.search(search, interpreter),
        }
    }
}

/// Checks a Space id before any request: 1–13 ASCII letters and digits
/// (X's pattern `^[a-zA-Z0-9]{1,13}$`).
///
/// # Errors
///
/// [`Error::InvalidId`] naming the id and what is wrong with it.
pub fn validate_id(provider: Provider, id: &str) -> Result<(), Error> {
    match crate::model::id_problem(id) {
        Some(reason) => Err(Error::InvalidId { provider, id: Excerpt::new(id), reason }),
        None => Ok(()),
    }
}

/// Each id of one batch request with its outcome, from the request's answer.
fn assign(provider: Provider, chunk: Vec<String>, answer: Result<SpaceList, Error>) -> Vec<Outcome> {
    let list = match answer {
        Ok(list) => list,
        Err(error) => return chunk.into_iter().map(|id| Outcome::of(id, Err(error.clone()))).collect(),
    };
    let asked: HashSet<&str> = chunk.iter().map(String::as_str).collect();
    let mut found: HashMap<String, Result<Space, Error>> = HashMap::new();
    let mut per_id: HashMap<String, Vec<Warning>> = HashMap::new();
    // Warnings about the request as a whole, not about one asked id.
    let mut general: Vec<Warning> = Vec::new();
    let mut unrequested: Vec<String> = Vec::new();
    for space in list.spaces {
        if asked.contains(space.id.as_str()) {
            found.entry(space.id.clone()).or_insert(Ok(space));
        } else {
            unrequested.push(space.id);
        }
    }
    for problem in list.errors {
        match problem.id {
            Some(id) if asked.contains(id.as_str()) => {
                found.entry(id).or_insert(Err(problem.error));
            }
            // Problems about users (an expansion) leave the Spaces themselves complete.
            _ => general.push(Warning::Unattributed(problem.error)),
        }
    }
    for warning in list.warnings {
        match &warning {
            Warning::Duplicate { id, .. } if asked.contains(id.as_str()) => {
                per_id.entry(id.clone()).or_default().push(warning);
            }
            _ => general.push(warning),
        }
    }
    if let ([requested], [returned]) = (chunk.as_slice(), unrequested.as_slice())
        && !found.contains_key(requested)
    {
        // One id asked, another Space sent: that Space came in its place.
        let error = Error::WrongSpace { provider, requested: requested.clone(), returned: returned.clone() };
        found.insert(requested.clone(), Err(error));
    } else {
        general.extend(unrequested.into_iter().map(|id| Warning::Unrequested { provider, id }));
    }
    let mut outcomes: Vec<Outcome> = chunk
        .into_iter()
        .map(|id| {
            let result = found.remove(&id).unwrap_or_else(|| Err(Error::NotAnswered { provider, id: id.clone() }));
            let warnings = per_id.remove(&id).unwrap_or_default();
            Outcome { id, result, warnings }
        })
        .collect();
    // On the first id's outcome, so that none is lost.
    if let Some(first) = outcomes.first_mut() {
        first.warnings.extend(general);
    }
    outcomes
}

/// Configures a [`Client`]. Every setting has a documented default.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    provider: Provider,
    token: Option<Token>,
    base_url: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    /// `None`: the documented budgets; `Some(budget)`: the caller's one (or none).
    rate_limit: Option<Option<RateLimit>>,
    max_body_bytes: usize,
    concurrency: usize,
    record: Option<PathBuf>,
}

impl ClientBuilder {
    fn new(provider: Provider) -> Self {
        ClientBuilder {
            provider,
            token: None,
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            rate_limit: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            concurrency: DEFAULT_CONCURRENCY,
            record: None,
        }
    }

    /// The API token. Default: the provider's environment variable
    /// ([`ProviderInfo::env_var`](crate::ProviderInfo::env_var)).
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// The API root, e.g. a mock server. Default: the provider's production
    /// root, from its spec ([`SpecFacts::server_url`](crate::generated::SpecFacts::server_url)).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Timeout of one attempt, connect to last body byte. Default [`DEFAULT_TIMEOUT`] (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`] (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retries and the overall deadline. Default [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header. Default [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// One request budget for all the client's requests together, in place
    /// of the documented ones; `None` turns the limiter off. Default: the
    /// provider's documented budgets ([`ProviderInfo::budgets`](crate::ProviderInfo::budgets)):
    /// X 300 per 15 minutes for each endpoint, and 1 per second more for
    /// Spaces by creator; SocialData 120 per minute in all; none for AIsa and
    /// twitterapi.io, which document none. Whatever the budget, a window the
    /// provider reports spent (`x-rate-limit-remaining: 0`) is waited out.
    pub fn rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// Requests in flight at once in [`Client::spaces`] (default 4, at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The largest response body accepted; larger ones fail with
    /// [`Error::BodyTooLarge`] while streaming. Default [`DEFAULT_MAX_BODY_BYTES`].
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Writes every provider response to `dir` as one capture file
    /// (`<time>-<provider>-<operation>-<unique>.capture.json`): the request's
    /// method, path and query, the status, the headers that matter
    /// (`content-type`, `x-rate-limit-*`, `retry-after`) and the raw body,
    /// every echo of the token in it replaced by `***`. No request header is
    /// ever written. Default: nothing is recorded.
    ///
    /// `dir` is created if missing; [`build`](Self::build) fails with
    /// [`Error::RecordDir`] when it cannot be created or written. Each file
    /// is written whole or not at all (a temporary file, renamed); one that
    /// cannot be written is logged and listed by
    /// [`Client::record_failures`], and never fails its request. These files
    /// are what `cargo xtask audit` checks against the specs and what
    /// `cargo xtask fixture add` turns into test fixtures.
    ///
    /// The format (version [`CAPTURE_FORMAT`]), one JSON object per file:
    ///
    /// ```json
    /// {"spaces_capture": 1, "provider": "x", "operation": "find_space_by_id",
    ///  "request": {"method": "GET", "path": "/2/spaces/1jMJgLdenVjxL", "query": [["space.fields", "..."]]},
    ///  "status": 200, "headers": {"content-type": "application/json", "x-rate-limit-remaining": "299"},
    ///  "received_at": "2026-11-22T23:00:00Z", "body": "<the raw body text>"}
    /// ```
    ///
    /// `body_base64` replaces `body` when the body is not UTF-8. A response
    /// whose body was not received whole (over the body cap, or cut off) is
    /// not written.
    pub fn record(mut self, dir: impl Into<PathBuf>) -> Self {
        self.record = Some(dir.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] when no token was given and the environment
    /// variable is unset; [`Error::InvalidToken`] when the token is shorter
    /// than [`MIN_TOKEN_CHARS`](crate::MIN_TOKEN_CHARS) or holds characters
    /// a header cannot carry ([`Token::problem`]); [`Error::InvalidArgument`]
    /// when the [`base_url`](Self::base_url) is not an http(s) URL or has a
    /// query or fragment; [`Error::Transport`] when the HTTP client cannot be
    /// built; [`Error::RecordDir`] when the [`record`](Self::record)
    /// directory cannot be created or written.
    pub fn build(self) -> Result<Client, Error> {
        let provider = self.provider;
        let token = match self.token {
            Some(token) => token,
            None => Token::from_env(provider)?,
        };
        token.check(provider)?;
        let info = provider.info();
        let base_url = base_url(provider, self.base_url.as_deref().unwrap_or(info.spec.server_url))?;
        // Injected once, as a default header, marked sensitive so that
        // reqwest never prints it; reqwest also drops `Authorization` on a
        // redirect to another host, and the client follows no redirect with
        // an API-key header to another host either (see `redirect_policy`).
        let (name, value) = match info.spec.auth {
            Auth::Bearer => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Auth::ApiKeyHeader(name) => {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Transport {
                    provider,
                    detail: format!("the spec's API-key header `{name}` is not a valid header name").into(),
                })?;
                (name, token.expose().to_owned())
            }
        };
        // `token.check` above refused what a header cannot carry.
        let mut auth = HeaderValue::from_str(&value).map_err(|_| Error::InvalidToken {
            provider,
            env_var: info.env_var,
            reason: "it holds characters an HTTP header cannot carry",
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(name, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(self.user_agent)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .redirect(redirect_policy(info.spec.auth))
            .build()
            .map_err(|error| Error::Transport { provider, detail: Excerpt::new(&error.to_string()) })?;
        let api = (info.connect)(&base_url, http);
        let limits = Limits::new(info, self.rate_limit);
        let recorder = self.record.map(|dir| Recorder::open(provider, dir)).transpose()?;
        Ok(Client {
            inner: Arc::new(Inner {
                provider,
                base_url,
                api,
                redactor: Redactor::new(token.expose()),
                token,
                deadline: self.retry.deadline_for(self.timeout),
                retry: self.retry,
                timeout: self.timeout,
                max_body_bytes: self.max_body_bytes,
                concurrency: self.concurrency,
                limits,
                recorder,
            }),
        })
    }
}

/// The API root requests are sent under, without a trailing slash. A query
/// or a fragment cannot be part of it: the path of each request is appended
/// to the root as text, so `http://h/?a=b` would send `/?a=b/2/spaces/ID`.
fn base_url(provider: Provider, url: &str) -> Result<String, Error> {
    let invalid = |reason| Error::InvalidArgument { provider, name: "base URL", value: Excerpt::new(url), reason };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(invalid("only http:// and https:// URLs are API roots"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || url.contains(['?', '#']) {
        return Err(invalid("an API root cannot have a query (`?`) or a fragment (`#`)"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Follows up to 10 redirects, like reqwest's default, except that a token
/// in a custom header is never sent to another host: reqwest strips only
/// `Authorization` on a cross-host redirect, so for API-key providers such a
/// redirect is refused (a `Transport` error saying so).
fn redirect_policy(auth: Auth) -> reqwest::redirect::Policy {
    const MAX_REDIRECTS: usize = 10;
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let origin = |url: &reqwest::Url| (url.host_str().map(str::to_owned), url.port_or_known_default());
        let same_origin = attempt.previous().first().is_none_or(|first| origin(first) == origin(attempt.url()));
        match auth {
            Auth::ApiKeyHeader(_) if !same_origin => {
                attempt.error("redirect to another host refused: it would carry the API key header")
            }
            _ => attempt.follow(),
        }
    })
}
