//! Many Space ids, streamed: ids are read as they come, grouped into the
//! requests the provider allows (100 per `GET /2/spaces?ids=` on X, one per
//! lookup elsewhere), sent a few at a time, and each outcome is yielded as
//! soon as its request is answered, in input order.
//!
//! Memory stays flat whatever the number of ids: at most the client's
//! concurrency in requests is in flight, and an answered request's outcomes
//! wait only for the requests before it (the reorder buffer holds at most
//! `concurrency` requests' outcomes).

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

use super::Client;
use super::stop::{Stop, StopOn};
use crate::error::Error;
use crate::list::{Outcome, SpaceList, Warning};
use crate::model::{Provider, Space};

/// A bulk lookup of many Space ids on one provider, configured, then run
/// with [`stream`](Self::stream) or [`collect`](Self::collect). Made by
/// [`Client::lookup`] or [`Client::lookup_stream`].
///
/// ```
/// use futures_util::StreamExt;
/// use spaces::{Client, Provider, Token};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), spaces::Error> {
/// # let mock = spaces_mock::MockProviders::start().await;
/// let client = Client::builder(Provider::X)
///     .token(Token::new(spaces_mock::DEMO_TOKEN))
///     .base_url(mock.base_url(Provider::X))
///     .build()?;
/// let ids = (0..250).map(|n| format!("1Id{n:010}"));
/// let mut outcomes = client.lookup(ids).stream(); // 3 requests of up to 100 ids
/// let mut seen = 0;
/// while let Some(outcome) = outcomes.next().await {
///     seen += 1; // each as soon as its request is answered, in input order
///     assert!(outcome.result.is_err(), "the mock knows none of these: {}", outcome.id);
/// }
/// assert_eq!(seen, 250);
/// # Ok(()) }
/// ```
#[must_use = "a lookup sends nothing until it is streamed or collected"]
pub struct Lookup {
    client: Client,
    ids: BoxStream<'static, String>,
    one_by_one: bool,
    signal: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Client {
    /// Looks up many Spaces; see [`Lookup`]. `ids` is read lazily, as the
    /// requests need them.
    pub fn lookup<I>(&self, ids: I) -> Lookup
    where
        I: IntoIterator,
        I::Item: Into<String>,
        I::IntoIter: Send + 'static,
        <I::IntoIter as Iterator>::Item: 'static,
    {
        self.lookup_stream(stream::iter(ids.into_iter().map(Into::into)))
    }

    /// [`lookup`](Self::lookup) of ids that arrive as a stream (read from a
    /// file on another thread, say).
    pub fn lookup_stream(&self, ids: impl Stream<Item = String> + Send + 'static) -> Lookup {
        Lookup { client: self.clone(), ids: ids.boxed(), one_by_one: false, signal: None }
    }

    /// Fetches many Spaces: one [`Outcome`] per requested id, in input order,
    /// once all are in; each distinct id is asked once, however far apart
    /// its repeats (they get a copy of its result). A [`lookup`](Self::lookup)
    /// collected, for ids borrowed from the caller.
    pub async fn spaces<I>(&self, ids: I) -> Vec<Outcome>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let requested: Vec<String> = ids.into_iter().map(Into::into).collect();
        let mut seen = HashSet::new();
        let distinct: Vec<String> = requested.iter().filter(|id| seen.insert(id.as_str())).cloned().collect();
        let answers = self.lookup(distinct).collect().await;
        let mut outcomes: HashMap<String, Outcome> =
            answers.into_iter().map(|outcome| (outcome.id.clone(), outcome)).collect();
        let mut remaining: HashMap<&str, usize> = HashMap::new();
        for id in &requested {
            *remaining.entry(id.as_str()).or_default() += 1;
        }
        // The last occurrence takes the outcome (its warnings with it); earlier ones a copy.
        requested
            .iter()
            .map(|id| {
                let left = remaining.get_mut(id.as_str()).map_or(0, |left| {
                    *left -= 1;
                    *left
                });
                let outcome = if left == 0 {
                    outcomes.remove(id)
                } else {
                    outcomes.get(id).map(|outcome| Outcome::of(id.clone(), outcome.result.clone()))
                };
                // The lookup answered every distinct id; this only guards against a slip.
                outcome.unwrap_or_else(|| {
                    Outcome::of(id.clone(), Err(Error::NotAnswered { provider: self.provider(), id: id.clone() }))
                })
            })
            .collect()
    }

    /// How many ids one request carries: the batch endpoint's maximum, or
    /// one where there is none (or `one_by_one` asks for single lookups).
    pub(crate) fn ids_per_request(&self, one_by_one: bool) -> usize {
        match self.provider().info().batch_lookup {
            Some(batch) if !one_by_one => batch.max_ids.max(1),
            _ => 1,
        }
    }

    /// The outcome of each of `ids` (valid and distinct), in their order:
    /// through the batch endpoint, `ids_per_request` at a time, or one
    /// lookup each; the requests run at once, as many as the client allows.
    pub(crate) async fn answer_ids(&self, ids: Vec<String>, one_by_one: bool, stop: &Stop) -> Vec<Outcome> {
        let provider = self.provider();
        match provider.info().batch_lookup.filter(|_| !one_by_one) {
            Some(batch) => {
                let requests = ids.chunks(batch.max_ids.max(1)).map(|chunk| async move {
                    let answer = self.batch(batch.operation, chunk, stop).await;
                    assign(provider, chunk.to_vec(), answer)
                });
                futures_util::future::join_all(requests).await.into_iter().flatten().collect()
            }
            None => {
                let requests = ids.into_iter().map(|id| async move {
                    let result = self.space_until(&id, stop).await;
                    Outcome::of(id, result)
                });
                futures_util::future::join_all(requests).await
            }
        }
    }
}

impl Lookup {
    /// One request per id, through the single-Space endpoint (X's
    /// `GET /2/spaces/{id}`), instead of the batch endpoint: 100 times the
    /// requests on X. Providers without a batch endpoint always do this.
    pub fn one_by_one(mut self, one_by_one: bool) -> Self {
        self.one_by_one = one_by_one;
        self
    }

    /// Stops the lookup when `signal` resolves (a Ctrl-C, a deadline):
    /// no request is sent after that and any wait ends at once, requests
    /// already sent are answered as usual, and the stream yields every
    /// outcome received, then the ids read but not sent, each with
    /// [`Error::Interrupted`], and ends.
    pub fn stop_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }

    /// The outcomes, one per id, in input order, each yielded as soon as
    /// its request and those before it are answered.
    pub fn stream(self) -> impl Stream<Item = Outcome> + Send + Unpin + 'static {
        let Lookup { client, ids, one_by_one, signal } = self;
        let stop = if signal.is_some() { Stop::new() } else { Stop::default() };
        let provider = client.provider();
        let size = client.ids_per_request(one_by_one);
        let concurrency = client.inner.concurrency;
        let answering = stop.clone();
        let answer = move |asked: Vec<String>| {
            let (client, stop) = (client.clone(), answering.clone());
            async move { client.answer_ids(asked, one_by_one, &stop).await }.boxed()
        };
        let outcomes = in_order(ids, size, concurrency, provider, stop.clone(), answer).boxed();
        StopOn { inner: outcomes, signal, stop }
    }

    /// Every outcome, in input order, once all are in.
    pub async fn collect(self) -> Vec<Outcome> {
        self.stream().collect().await
    }
}

/// How far apart a repeated id is still answered from its first request
/// rather than asked again: the ids of this many recent asks are
/// remembered (with their requests' answers), so memory stays flat.
pub(crate) const RECENT_IDS: usize = 4_096;

/// At most this many ids per request's run of input whatever they are, so
/// that a long run of invalid or repeated ids cannot grow one without bound.
const ENTRIES_PER_ASKED: usize = 10;

/// One request's answers, findable by id.
struct Answered<T, E> {
    outcomes: Vec<Outcome<T, E>>,
    at: HashMap<String, usize>,
}

impl<T: Clone, E: Clone + From<Error>> Answered<T, E> {
    fn new(outcomes: Vec<Outcome<T, E>>) -> Self {
        let at = outcomes.iter().enumerate().map(|(index, outcome)| (outcome.id.clone(), index)).collect();
        Answered { outcomes, at }
    }

    /// The outcome of `id` (its warnings with it), or of a repeat of it (the result alone).
    fn outcome(&self, id: &str, repeat: bool, provider: Provider) -> Outcome<T, E> {
        match self.at.get(id).and_then(|&index| self.outcomes.get(index)) {
            Some(outcome) if repeat => Outcome::of(id.to_owned(), outcome.result.clone()),
            Some(outcome) => outcome.clone(),
            // `answer` gives every asked id an outcome; this only guards against a slip.
            None => Outcome::of(id.to_owned(), Err(E::from(Error::NotAnswered { provider, id: id.to_owned() }))),
        }
    }
}

type SharedAnswer<T, E> = Shared<BoxFuture<'static, Arc<Answered<T, E>>>>;

/// Where an id's outcome comes from.
enum Entry<T, E> {
    /// This request asks it.
    Asked(String),
    /// Asked earlier in this request's run (`None`), or by a recent
    /// request: the same result again.
    Repeat(String, Option<SharedAnswer<T, E>>),
    /// Refused before anything was sent.
    Invalid(String, Error),
}

/// The ids of recent requests and their answers.
struct Recent<T, E> {
    order: VecDeque<String>,
    answers: HashMap<String, SharedAnswer<T, E>>,
}

impl<T, E> Recent<T, E> {
    fn remember(&mut self, id: String, answer: SharedAnswer<T, E>) {
        if self.order.len() >= RECENT_IDS
            && let Some(oldest) = self.order.pop_front()
        {
            self.answers.remove(&oldest);
        }
        self.order.push_back(id.clone());
        self.answers.insert(id, answer);
    }
}

/// The engine of every bulk lookup: reads `ids` as requests need them,
/// groups them into runs of up to `size` ids to ask (an invalid id fails
/// on its own; a repeated id is answered from its first request when that
/// was recent), asks each run with `answer`, `concurrency` runs at a time,
/// and yields one outcome per id, in input order, each run's as soon as it
/// and the runs before it are answered. The reorder buffer is `buffered`'s:
/// at most `concurrency` runs.
pub(crate) fn in_order<T, E, A>(
    ids: BoxStream<'static, String>,
    size: usize,
    concurrency: usize,
    provider: Provider,
    stop: Stop,
    answer: A,
) -> impl Stream<Item = Outcome<T, E>> + Send + 'static
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + From<Error> + 'static,
    A: Fn(Vec<String>) -> BoxFuture<'static, Vec<Outcome<T, E>>> + Send + 'static,
{
    let size = size.max(1);
    let most = size * ENTRIES_PER_ASKED;
    let recent = Recent { order: VecDeque::new(), answers: HashMap::new() };
    let runs = stream::unfold((Some(ids), recent, answer), move |(ids, mut recent, answer)| {
        let stop = stop.clone();
        async move {
            let mut ids = ids?;
            let mut entries: Vec<Entry<T, E>> = Vec::new();
            let mut asked: Vec<String> = Vec::new();
            let mut this_run: HashSet<String> = HashSet::new();
            let mut ended = false;
            while asked.len() < size && entries.len() < most {
                let Some(Some(id)) = stop.unless_stopped(ids.next()).await else {
                    // The input ended, or the run was stopped: this run is the last.
                    ended = true;
                    break;
                };
                entries.push(match super::validate_id(provider, &id) {
                    Err(error) => Entry::Invalid(id, error),
                    Ok(()) if this_run.contains(&id) => Entry::Repeat(id, None),
                    Ok(()) => match recent.answers.get(&id) {
                        Some(earlier) => Entry::Repeat(id, Some(earlier.clone())),
                        None => {
                            this_run.insert(id.clone());
                            asked.push(id.clone());
                            Entry::Asked(id)
                        }
                    },
                });
            }
            if entries.is_empty() {
                return None;
            }
            let own: SharedAnswer<T, E> =
                answer(asked.clone()).map(|outcomes| Arc::new(Answered::new(outcomes))).boxed().shared();
            for id in asked {
                recent.remember(id, own.clone());
            }
            let run = async move {
                let own = own.await;
                let mut outcomes = Vec::with_capacity(entries.len());
                for entry in entries {
                    outcomes.push(match entry {
                        Entry::Asked(id) => own.outcome(&id, false, provider),
                        Entry::Repeat(id, None) => own.outcome(&id, true, provider),
                        Entry::Repeat(id, Some(earlier)) => earlier.await.outcome(&id, true, provider),
                        Entry::Invalid(id, error) => Outcome::of(id, Err(E::from(error))),
                    });
                }
                outcomes
            };
            let next = if ended { None } else { Some(ids) };
            Some((run, (next, recent, answer)))
        }
    });
    runs.buffered(concurrency.max(1)).flat_map(stream::iter)
}

/// Each id of one batch request with its outcome, from the request's answer.
pub(crate) fn assign(provider: Provider, chunk: Vec<String>, answer: Result<SpaceList, Error>) -> Vec<Outcome> {
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
