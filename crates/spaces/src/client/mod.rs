//! One async client over every provider, wrapping the generated progenitor
//! clients: auth, id validation, timeouts, retries, a rate limiter, a body
//! cap, one redaction point, and errors a caller can match on.

mod activity;
mod builder;
mod bulk;
mod multi;
mod rate_limit;
mod record;
mod retry;
mod stop;
mod token;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, StreamExt};
use spaces_generated::Operation;
use tracing::Instrument;

pub use activity::{Activity, ActivityEvent, ActivityItem, ActivityKind, EventOptions, Subscription, Subscriptions};
pub use builder::ClientBuilder;
pub use bulk::Lookup;
pub use multi::{AllFailed, Answer, Attempt, Providers, SeveralLookup};
pub use rate_limit::RateLimiting;
pub use record::{CAPTURE_FORMAT, CAPTURE_SUFFIX};
pub use retry::RetryPolicy;
pub use token::Token;

use crate::error::{Error, Excerpt};
use crate::list::{ItemError, SpaceList, Warning};
use crate::model::{Provider, Space};
use crate::providers::{BoxFuture, Exchanged, Fetch, Interpreter};
use crate::redact::Redactor;
use crate::request::Search;
use rate_limit::Limits;
use record::Recorder;
use stop::Stop;

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
    /// A permit per request in flight: at most `concurrency`, over every
    /// call and stream of the client.
    in_flight: tokio::sync::Semaphore,
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
    /// [`Error::MissingToken`] naming the variable to set, and as [`ClientBuilder::build`].
    pub fn from_env(provider: Provider) -> Result<Client, Error> {
        ClientBuilder::new(provider).build()
    }

    /// The provider this client asks.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// Whether the provider offers `capability` (only X has batch lookup,
    /// search and Spaces by creator); the same as
    /// [`Provider::supports`](crate::Provider::supports).
    pub fn supports(&self, capability: crate::providers::Capability) -> bool {
        self.inner.provider.supports(capability)
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
    /// The id is checked first (the spec's pattern: 1–13 ASCII letters or
    /// digits); a bad id sends nothing. 429 and 5xx answers are retried per
    /// the client's [`RetryPolicy`]; nothing else is. A Space whose id is not
    /// the one asked for is never the answer.
    ///
    /// # Errors
    ///
    /// Every [`Error`] variant but `MissingToken`; each names the provider.
    pub async fn space(&self, id: &str) -> Result<Space, Error> {
        self.space_until(id, &Stop::default()).await
    }

    /// [`space`](Self::space), as part of a run that `stop` may stop.
    async fn space_until(&self, id: &str, stop: &Stop) -> Result<Space, Error> {
        validate_id(self.inner.provider, id)?;
        let space = self.call(self.inner.provider.info().lookup, Some(id), &One(id), stop).await?;
        // A provider may answer with another Space than the one asked for
        // (a cache keyed wrongly, a redirect, a hostile server): never the answer.
        if space.id != id {
            return Err(Error::WrongSpace { provider: space.provider, requested: id.to_owned(), returned: space.id });
        }
        Ok(space)
    }

    /// One by-creator request for `user_ids` (valid, at most the
    /// endpoint's maximum), paced by the caller (the watcher).
    pub(crate) async fn by_creators_paced(&self, user_ids: &[String]) -> Result<SpaceList, Error> {
        let provider = self.inner.provider;
        let operation =
            provider.info().by_creators.ok_or(Error::Unsupported { provider, operation: "Spaces by creator" })?;
        self.call(operation.operation, None, &Paced(&ListCall::Creators(user_ids)), &Stop::default()).await
    }

    /// One batch lookup of `ids` (valid, distinct, at most the endpoint's
    /// maximum), paced by the caller (the watcher): each id's outcome.
    pub(crate) async fn batch_paced(&self, ids: &[String]) -> Vec<crate::list::Outcome> {
        let provider = self.inner.provider;
        let Some(batch) = provider.info().batch_lookup else {
            let error = Error::Unsupported { provider, operation: "batch lookup" };
            return ids.iter().map(|id| crate::list::Outcome::of(id.clone(), Err(error.clone()))).collect();
        };
        let answer = self.call(batch.operation, None, &Paced(&ListCall::Ids(ids)), &Stop::default()).await;
        bulk::assign(provider, ids.to_vec(), answer)
    }

    /// One batch request for `ids` (valid, distinct, at most the endpoint's maximum).
    async fn batch(&self, operation: &'static Operation, ids: &[String], stop: &Stop) -> Result<SpaceList, Error> {
        self.call(operation, None, &ListCall::Ids(ids), stop).await
    }

    /// Searches live and scheduled Spaces by title (X's `GET /2/spaces/search`).
    ///
    /// ```no_run
    /// # async fn run(client: spaces::Client) -> Result<(), spaces::Error> {
    /// use spaces::{Search, SearchState};
    /// let live = client.search(&Search::new("rust").state(SearchState::Live).max_results(10)).await?;
    /// println!("{} live Spaces about Rust", live.spaces.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a provider without search and
    /// [`Error::InvalidArgument`] for an argument the spec's rules refuse
    /// (a query of 1–2048 characters, 1–100 results), both before any
    /// request; otherwise as [`Client::space`]. Partial errors are in the
    /// list's `errors`.
    pub async fn search(&self, search: &Search) -> Result<SpaceList, Error> {
        let provider = self.inner.provider;
        let operation = provider.info().search.ok_or(Error::Unsupported { provider, operation: "search" })?;
        search.check_for(provider, operation)?;
        self.call(operation, None, &ListCall::Search(search), &Stop::default()).await
    }

    /// The live and scheduled Spaces created by these users (X's
    /// `GET /2/spaces/by/creator_ids`), all in one list: the answers of
    /// [`spaces_by_creators_pages`](Self::spaces_by_creators_pages), joined.
    ///
    /// # Errors
    ///
    /// As [`spaces_by_creators_pages`](Self::spaces_by_creators_pages), and
    /// the first request that fails fails the call.
    pub async fn spaces_by_creators<I, S>(&self, user_ids: I) -> Result<SpaceList, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut pages = self.spaces_by_creators_pages(user_ids)?;
        let mut all = SpaceList::default();
        while let Some(page) = pages.next().await {
            let list = page?;
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

    /// The Spaces of these users, one [`SpaceList`] per request as it is
    /// answered: each user once, as many per request as the endpoint's
    /// `user_ids` allows (100 on X), one request at a time (X allows one per
    /// second here).
    ///
    /// # Errors
    ///
    /// Before any request: [`Error::Unsupported`] for a provider without it,
    /// [`Error::InvalidArgument`] for a user id the spec's pattern refuses
    /// (1–19 digits), or none at all. Each page is the outcome of its request.
    pub fn spaces_by_creators_pages<I, S>(
        &self,
        user_ids: I,
    ) -> Result<impl Stream<Item = Result<SpaceList, Error>> + Send + Unpin + 'static, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let provider = self.inner.provider;
        let operation =
            provider.info().by_creators.ok_or(Error::Unsupported { provider, operation: "Spaces by creator" })?;
        let mut distinct: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in user_ids.into_iter().map(Into::into) {
            provider.check_user_id(&id)?;
            if seen.insert(id.clone()) {
                distinct.push(id);
            }
        }
        let chunks: Vec<Vec<String>> = distinct.chunks(operation.max_ids.max(1)).map(<[String]>::to_vec).collect();
        let client = self.clone();
        let pages = stream::iter(chunks).then(move |chunk| {
            let client = client.clone();
            async move { client.call(operation.operation, None, &ListCall::Creators(&chunk), &Stop::default()).await }
        });
        Ok(pages.boxed())
    }

    /// One operation, with retries, within the overall deadline; nothing is
    /// sent, and no wait goes on, once `stop` is stopped.
    async fn call<C: Call>(
        &self,
        operation: &'static Operation,
        id: Option<&str>,
        call: &C,
        stop: &Stop,
    ) -> Result<C::Output, Error> {
        let inner = &self.inner;
        let deadline = tokio::time::Instant::now() + inner.deadline;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome =
                match tokio::time::timeout_at(deadline, self.attempt(operation, id, attempt, deadline, call, stop))
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(_) => return Err(Error::Timeout { provider: inner.provider, after: inner.deadline }),
                };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !error.is_retryable() || attempt >= inner.retry.max_attempts || stop.is_stopped() {
                return Err(error);
            }
            let wait = inner.retry.backoff(attempt, error.retry_after());
            if tokio::time::Instant::now() + wait >= deadline {
                // Waiting would outlast the deadline: report the real cause, not a timeout.
                return Err(error);
            }
            tracing::warn!(provider = %inner.provider, id, attempt, wait_ms = wait.as_millis() as u64, %error, "retrying");
            if stop.unless_stopped(tokio::time::sleep(wait)).await.is_none() {
                return Err(error);
            }
        }
    }

    /// One HTTP exchange: after a slot among the client's concurrent
    /// requests is free, the budgets allow it and any window the provider
    /// closed has reset; traced, its rate-limit headers read.
    async fn attempt<C: Call>(
        &self,
        operation: &'static Operation,
        id: Option<&str>,
        attempt: u32,
        deadline: tokio::time::Instant,
        call: &C,
        stop: &Stop,
    ) -> Result<C::Output, Error> {
        let inner = &self.inner;
        let provider = inner.provider;
        let interrupted = || Error::Interrupted { provider };
        // The semaphore is never closed; without a permit nothing is sent.
        let Some(Ok(_permit)) = stop.unless_stopped(inner.in_flight.acquire()).await else {
            return Err(interrupted());
        };
        let operation_id = operation.operation_id;
        if let Some(until) = inner.limits.closed_until(operation_id) {
            if until >= deadline {
                // Sending now would be refused, and the window resets too late.
                let retry_after = until - tokio::time::Instant::now();
                let retry_at = chrono::Utc::now() + retry_after;
                return Err(Error::RateLimited { provider, retry_after: Some(retry_after), retry_at: Some(retry_at) });
            }
            tracing::info!(%provider, operation = operation_id, "waiting for the rate-limit window to reset");
            stop.unless_stopped(tokio::time::sleep_until(until)).await.ok_or_else(interrupted)?;
        }
        if !call.paced_by_caller() {
            stop.unless_stopped(inner.limits.ready(operation_id)).await.ok_or_else(interrupted)?;
        }
        let span = tracing::info_span!(
            "spaces.request",
            %provider,
            operation = operation_id,
            id,
            attempt,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let taped = Mutex::new(None);
        let interpreter = Interpreter {
            provider,
            id,
            request_timeout: inner.timeout,
            max_body_bytes: inner.max_body_bytes,
            record: inner.recorder.as_ref().map(|_| &taped),
        };
        // Once sent, a request is seen through whatever happens to the run:
        // its answer is paid for.
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
            recorder.write(provider, operation_id, &inner.redactor, wire);
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

    /// Whether the caller keeps to the budget itself (the watcher paces
    /// its polls): the client's limiter then lets it through, though a
    /// window the provider reports spent is still waited out.
    fn paced_by_caller(&self) -> bool {
        false
    }
}

/// A request whose caller paces itself to the budget.
struct Paced<'c, C>(&'c C);

impl<C: Call> Call for Paced<'_, C> {
    type Output = C::Output;
    fn run<'a>(&'a self, api: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Self::Output> {
        self.0.run(api, interpreter)
    }

    fn paced_by_caller(&self) -> bool {
        true
    }
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
struct One<'x>(&'x str);

impl Call for One<'_> {
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

/// Checks a Space id before any request ([`Provider::check_id`]).
pub(crate) fn validate_id(provider: Provider, id: &str) -> Result<(), Error> {
    provider.check_id(id)
}
