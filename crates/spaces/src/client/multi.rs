//! Several providers as one: the first that answers ([`Providers::fallback`]),
//! or all of them merged ([`Providers::merge`]), with a record of every
//! attempt.

use std::fmt;

use crate::error::Error;
use crate::merge::{Merged, merge};
use crate::model::{Provider, Space};

use super::{Client, validate_id};

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
