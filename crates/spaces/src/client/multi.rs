//! Several providers as one: the first that answers ([`Providers::fallback`]),
//! or all of them merged ([`Providers::merge`]), with a record of every
//! attempt; for one id, or streamed over many ([`Providers::lookup`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use futures_util::FutureExt;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

use super::bulk::in_order;
use super::stop::{Stop, StopOn};
use super::{Client, validate_id};
use crate::error::Error;
use crate::list::{Outcome, Warning};
use crate::merge::{Merged, merge};
use crate::model::{Provider, Space};

/// Clients for several providers, asked in the order given.
///
/// ```no_run
/// # async fn run() -> Result<(), spaces::AllFailed> {
/// use spaces::{Client, Provider, Providers};
///
/// let clients = [Provider::X, Provider::SocialData].map(Client::from_env).into_iter().flatten();
/// let providers = Providers::new(clients);
/// let answer = providers.fallback("1jMJgLdenVjxL").await?;
/// println!("{} answered", answer.value.provider);
/// let merged = providers.merge("1jMJgLdenVjxL").await?;
/// println!("lang from {:?}", merged.value.source("lang"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Providers {
    clients: Vec<Client>,
}

/// A value and how it was got: every provider asked, and what each said.
#[derive(Clone, Debug)]
pub struct Answer<T> {
    /// The Space (or merged Space).
    pub value: T,
    /// Every provider asked, in order, with its error if it failed.
    pub attempts: Vec<Attempt>,
}

/// One provider asked.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// The provider.
    pub provider: Provider,
    /// `None` when it answered; its error otherwise.
    pub error: Option<Error>,
}

/// Every provider asked failed; each one's error is kept.
#[derive(Clone, Debug, PartialEq)]
pub struct AllFailed {
    /// Each provider asked, in order, with its error.
    pub errors: Vec<(Provider, Error)>,
}

impl AllFailed {
    /// The error that stands for all of them (the CLI's exit code follows
    /// it): not found when every provider said so; otherwise the most
    /// actionable one, in this order: a token to set or fix
    /// (`MissingToken`, `Unauthorized`), credits to buy (`PaymentRequired`),
    /// a wait (`RateLimited`), a bad argument (`InvalidId`,
    /// `InvalidArgument`), then any other failure in the providers' order,
    /// and `NotFound` last.
    pub fn error(&self) -> Option<&Error> {
        let rank = |error: &Error| match error {
            Error::MissingToken { .. } | Error::Unauthorized { .. } => 0,
            Error::PaymentRequired { .. } => 1,
            Error::RateLimited { .. } => 2,
            Error::InvalidId { .. } | Error::InvalidArgument { .. } => 3,
            Error::NotFound { .. } => 5,
            _ => 4,
        };
        self.errors.iter().map(|(_, error)| error).min_by_key(|error| rank(error))
    }
}

impl fmt::Display for AllFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every provider failed")?;
        for (_, error) in &self.errors {
            write!(f, "; {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AllFailed {}

/// An error that stands alone: an id refused before anything was sent.
impl From<Error> for AllFailed {
    fn from(error: Error) -> AllFailed {
        AllFailed { errors: vec![(error.provider(), error)] }
    }
}

impl Providers {
    /// Providers to ask, in order of preference.
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Self {
        Providers { clients: clients.into_iter().collect() }
    }

    /// The providers, in order.
    pub fn providers(&self) -> Vec<Provider> {
        self.clients.iter().map(Client::provider).collect()
    }

    /// Asks each provider in turn and returns the first Space.
    ///
    /// A provider's failure moves on to the next: not found, out of credits,
    /// refused token, rate limited beyond the deadline, 5xx after retries,
    /// timeout, transport, bad data. A bad id does not: it is checked once,
    /// before anything is sent, and is the same for every provider.
    ///
    /// # Errors
    ///
    /// [`AllFailed`] with every provider's error.
    pub async fn fallback(&self, id: &str) -> Result<Answer<Space>, AllFailed> {
        self.check(id)?;
        let mut attempts = Vec::new();
        for client in &self.clients {
            match client.space(id).await {
                Ok(space) => {
                    attempts.push(Attempt { provider: client.provider(), error: None });
                    return Ok(Answer { value: space, attempts });
                }
                Err(error) => {
                    tracing::info!(provider = %client.provider(), id, %error, "falling back to the next provider");
                    attempts.push(Attempt { provider: client.provider(), error: Some(error) });
                }
            }
        }
        Err(all_failed(attempts))
    }

    /// Asks every provider at once and merges whatever answered
    /// ([`merge`](crate::merge)), in the providers' order. A slow provider
    /// holds the merge no longer than its client's deadline.
    ///
    /// # Errors
    ///
    /// [`AllFailed`] when no provider answered.
    pub async fn merge(&self, id: &str) -> Result<Answer<Merged>, AllFailed> {
        self.check(id)?;
        let requests = self.clients.iter().map(|client| async move { (client.provider(), client.space(id).await) });
        let answers = futures_util::future::join_all(requests).await;
        let mut attempts = Vec::new();
        let mut spaces = Vec::new();
        for (provider, answer) in answers {
            match answer {
                Ok(space) => {
                    attempts.push(Attempt { provider, error: None });
                    spaces.push(space);
                }
                Err(error) => attempts.push(Attempt { provider, error: Some(error) }),
            }
        }
        match merge(spaces) {
            Some(merged) => Ok(Answer { value: merged, attempts }),
            None => Err(all_failed(attempts)),
        }
    }

    /// Looks up many Spaces on every provider; see [`SeveralLookup`]. `ids`
    /// is read lazily, as the requests need them.
    pub fn lookup<I>(&self, ids: I) -> SeveralLookup
    where
        I: IntoIterator,
        I::Item: Into<String>,
        I::IntoIter: Send + 'static,
        <I::IntoIter as Iterator>::Item: 'static,
    {
        self.lookup_stream(stream::iter(ids.into_iter().map(Into::into)))
    }

    /// [`lookup`](Self::lookup) of ids that arrive as a stream.
    pub fn lookup_stream(&self, ids: impl Stream<Item = String> + Send + 'static) -> SeveralLookup {
        SeveralLookup { clients: self.clients.clone(), ids: ids.boxed(), one_by_one: false, signal: None }
    }

    /// A bad id fails once, before anything is sent (every provider shares X's id rule).
    fn check(&self, id: &str) -> Result<(), AllFailed> {
        let Some(first) = self.clients.first() else {
            return Err(AllFailed { errors: Vec::new() });
        };
        validate_id(first.provider(), id).map_err(|error| AllFailed { errors: vec![(first.provider(), error)] })
    }
}

fn all_failed(attempts: Vec<Attempt>) -> AllFailed {
    AllFailed {
        errors: attempts
            .into_iter()
            .filter_map(|attempt| attempt.error.map(|error| (attempt.provider, error)))
            .collect(),
    }
}

/// A bulk lookup of many Space ids on several providers, run as a stream of
/// [`fallback`](Self::fallback) or [`merge`](Self::merge) outcomes, one per
/// id, in input order, each as soon as its providers have answered. Each
/// provider is asked through its batch endpoint where it has one (X: 100
/// ids per request), one lookup per id elsewhere.
///
/// ```
/// use futures_util::StreamExt;
/// use spaces::{Client, Provider, Providers, Token};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), spaces::Error> {
/// # let mock = spaces_mock::MockProviders::start().await;
/// let clients = [Provider::X, Provider::SocialData].map(|provider| {
///     Client::builder(provider)
///         .token(Token::new(spaces_mock::DEMO_TOKEN))
///         .base_url(mock.base_url(provider))
///         .build()
/// });
/// let providers = Providers::new(clients.into_iter().collect::<Result<Vec<_>, _>>()?);
/// let mut merged = providers.lookup(["1jMJgLdenVjxL", "1OdKrjgmNkeKX"]).merge();
/// let first = merged.next().await.expect("one outcome per id");
/// let answer = first.result.expect("both providers know the demo Space");
/// assert_eq!(answer.value.source("lang"), Some(Provider::X));
/// let second = merged.next().await.expect("one outcome per id");
/// assert!(second.result.is_err(), "neither provider knows it");
/// # Ok(()) }
/// ```
#[must_use = "a lookup sends nothing until it is streamed"]
pub struct SeveralLookup {
    clients: Vec<Client>,
    ids: BoxStream<'static, String>,
    one_by_one: bool,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

/// What one provider said about each id of a segment, in order.
type Said = Vec<Outcome>;

impl SeveralLookup {
    /// One request per id on every provider, through its single-Space endpoint.
    pub fn one_by_one(mut self, one_by_one: bool) -> Self {
        self.one_by_one = one_by_one;
        self
    }

    /// Stops the lookup when `signal` resolves, as [`Lookup::stop_on`](super::Lookup::stop_on).
    pub fn stop_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }

    /// Asks the providers in order, each only for the ids every one before
    /// it failed on; each id's outcome is the first Space found, with every
    /// attempt, or every provider's error.
    pub fn fallback(self) -> impl Stream<Item = Outcome<Answer<Space>, AllFailed>> + Send + Unpin + 'static {
        self.run(|clients, asked, one_by_one, stop| async move {
            let mut said: Vec<Vec<(Provider, Outcome)>> = asked.iter().map(|_| Vec::new()).collect();
            let mut pending: Vec<usize> = (0..asked.len()).collect();
            for client in &clients {
                if pending.is_empty() {
                    break;
                }
                let ids = pending.iter().map(|&index| asked[index].clone()).collect();
                let answers: Said = client.answer_ids(ids, one_by_one, &stop).await;
                let mut still = Vec::new();
                for (&index, answer) in pending.iter().zip(answers) {
                    if answer.result.is_err() {
                        still.push(index);
                    }
                    said[index].push((client.provider(), answer));
                }
                pending = still;
            }
            asked
                .into_iter()
                .zip(said)
                .map(|(id, said)| {
                    let (attempts, mut found, warnings) = gather(said);
                    let result = match found.drain(..).next() {
                        Some(space) => Ok(Answer { value: space, attempts }),
                        None => Err(all_failed(attempts)),
                    };
                    Outcome { id, result, warnings }
                })
                .collect()
        })
    }

    /// Asks every provider at once for every id and merges, for each id,
    /// whatever answered ([`merge`](crate::merge)), in the providers' order.
    pub fn merge(self) -> impl Stream<Item = Outcome<Answer<Merged>, AllFailed>> + Send + Unpin + 'static {
        self.run(|clients, asked, one_by_one, stop| async move {
            let requests = clients.iter().map(|client| client.answer_ids(asked.clone(), one_by_one, &stop));
            let answers: Vec<Said> = futures_util::future::join_all(requests).await;
            let mut said: Vec<Vec<(Provider, Outcome)>> = asked.iter().map(|_| Vec::new()).collect();
            for (client, answers) in clients.iter().zip(answers) {
                for (said, answer) in said.iter_mut().zip(answers) {
                    said.push((client.provider(), answer));
                }
            }
            asked
                .into_iter()
                .zip(said)
                .map(|(id, said)| {
                    let (attempts, found, warnings) = gather(said);
                    let result = match merge(found) {
                        Some(merged) => Ok(Answer { value: merged, attempts }),
                        None => Err(all_failed(attempts)),
                    };
                    Outcome { id, result, warnings }
                })
                .collect()
        })
    }

    /// The stream of outcomes `answer` gives for each segment of the input.
    fn run<T, F, Fut>(self, answer: F) -> impl Stream<Item = Outcome<Answer<T>, AllFailed>> + Send + Unpin + 'static
    where
        T: Clone + Send + Sync + 'static,
        F: Fn(Vec<Client>, Vec<String>, bool, Stop) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<Outcome<Answer<T>, AllFailed>>> + Send + 'static,
    {
        let SeveralLookup { clients, ids, one_by_one, signal } = self;
        let stop = if signal.is_some() { Stop::new() } else { Stop::default() };
        // A bad id is the same for every provider; the first names it.
        let provider = clients.first().map_or(Provider::X, Client::provider);
        let size = clients.iter().map(|client| client.ids_per_request(one_by_one)).max().unwrap_or(1);
        let concurrency = clients.iter().map(|client| client.inner.concurrency).max().unwrap_or(1);
        let answering = stop.clone();
        let ask = move |asked: Vec<String>| answer(clients.clone(), asked, one_by_one, answering.clone()).boxed();
        let outcomes = in_order(ids, size, concurrency, provider, stop.clone(), ask).boxed();
        StopOn { inner: outcomes, signal, stop }
    }
}

/// One id's answers from its providers, in order: the attempts, the Spaces
/// found, and every warning.
fn gather(said: Vec<(Provider, Outcome)>) -> (Vec<Attempt>, Vec<Space>, Vec<Warning>) {
    let mut attempts = Vec::with_capacity(said.len());
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    for (provider, outcome) in said {
        warnings.extend(outcome.warnings);
        match outcome.result {
            Ok(space) => {
                attempts.push(Attempt { provider, error: None });
                found.push(space);
            }
            Err(error) => attempts.push(Attempt { provider, error: Some(error) }),
        }
    }
    (attempts, found, warnings)
}
