//! Watching accounts' Spaces over time: a [`Watcher`] polls X's
//! `GET /2/spaces/by/creator_ids` for the watched users at the fastest
//! steady pace the endpoint's budget allows, confirms each Space that stops
//! appearing with a batch lookup, turns what it sees into lifecycle events
//! ([`lifecycle`], a pure state machine) and keeps everything in a
//! [`Store`] (SQLite): each poll's changes and events in one transaction,
//! each event handed to the caller only once it is committed.
//!
//! Killed at any moment and started again on the same store, a watcher
//! resumes from what the store knows: no event already committed comes
//! again, and a transition that happened meanwhile is reported once, at
//! the first poll that sees it, with the time it was observed.
//!
//! With [`WatchOptions::activity`], it also subscribes each watched user to
//! X's `spaces.start` and `spaces.end` push events (tagged, reusing the
//! subscriptions it made before) and holds X's event stream open: each
//! event of its own names a Space, which is looked up at once (within the
//! batch lookup's pace) and fed to the same state machine, so a start is
//! reported within seconds of X's event, and a repeated delivery changes
//! nothing. Polling goes on meanwhile: only it sees scheduled and canceled
//! Spaces.

pub mod export;
pub mod lifecycle;
pub mod store;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use tokio::time::Instant;

use crate::client::Client;
use crate::client::{ActivityItem, EventOptions, Subscriptions};
use crate::error::Error;
use crate::list::SpaceList;
use crate::model::Provider;
use crate::providers::{Budget, Capability, RateLimit};
use lifecycle::{EventKind, Phase, Seen, advance};
pub use store::{Event, Poll, SCHEMA_VERSION, Sample, Store, StoreError, Tracked, WatchLock};
pub use store::{Forgotten, Rows, SpaceRow};

/// How a [`Watcher`] runs beyond its defaults.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct WatchOptions {
    /// The least time between two polls of the same users. Default: as
    /// fast as the budget allows; a value shorter than that changes nothing
    /// (it may only slow the watcher down).
    pub interval: Option<Duration>,
    /// The budget to pace to, in place of the provider's documented one for
    /// Spaces by creator (a raised quota, or a test's scaled clock).
    pub budget: Option<RateLimit>,
    /// X's push events too, under this subscription tag
    /// ([`Watcher::ACTIVITY_TAG`] unless another is wanted): see the module
    /// docs. Default: off (polling only).
    pub activity: Option<String>,
}

impl WatchOptions {
    /// The least time between two polls of the same users.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// The budget to pace to.
    pub fn budget(mut self, budget: RateLimit) -> Self {
        self.budget = Some(budget);
        self
    }

    /// X's push events too, under the subscription tag `tag` (usually
    /// [`Watcher::ACTIVITY_TAG`]). Each watched user gets a `spaces.start`
    /// and a `spaces.end` subscription with this tag, unless it has them;
    /// the stream's events of other tags or users are not the watcher's.
    pub fn activity(mut self, tag: impl Into<String>) -> Self {
        self.activity = Some(tag.into());
        self
    }
}

/// What can stop a watcher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The provider cannot be watched, or refused in a way no retry fixes
    /// (a token, credits).
    #[error(transparent)]
    Provider(#[from] Error),
    /// No user to watch: none given, and none in the store.
    #[error("no user to watch: give user ids (the store {} watches none yet)", .store.display())]
    NoUsers {
        /// The store's file.
        store: std::path::PathBuf,
    },
}

/// What a running watcher reports, as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub enum Happening<'a> {
    /// A lifecycle event, committed.
    Event(&'a Event),
    /// A request that failed and will be tried again (a 5xx, a timeout, a
    /// rate limit): nothing is lost, the next poll asks again. With push
    /// events, also the end of X's stream for a reason no retry fixes but
    /// polling survives (a plan without the Activity API): polling goes on.
    Problem(&'a Error),
    /// With push events: the watched users' subscriptions, reused and made,
    /// before the first poll.
    Subscribed(&'a Subscriptions),
    /// With push events: the stream (re)connected, lost its connection, or
    /// skipped a line of the watcher's own that is no event. Never an
    /// [`ActivityItem::Event`] (each event is looked up, and reported as
    /// the lifecycle events it leads to), nor [`ActivityItem::Failed`] (a
    /// [`Problem`](Happening::Problem), or the end of the watch).
    Stream(&'a ActivityItem),
}

/// Watches users' Spaces over time; see the module docs.
pub struct Watcher {
    client: Client,
    store: Store,
    users: Vec<String>,
    /// What is known of every Space not in a final phase.
    tracked: HashMap<String, Tracked>,
    /// Spaces that stopped appearing, to confirm with a lookup.
    pending: Vec<String>,
    /// The time between two requests to one endpoint.
    pace: Duration,
    /// The time between two polls (`pace`, or longer when the interval asks).
    tick: Duration,
    /// The earliest time of the next batch lookup (one per `pace`).
    next_lookup: Instant,
    /// The subscription tag, with push events.
    activity: Option<String>,
    _lock: WatchLock,
}

impl Watcher {
    /// The subscription tag `spaces watch --activity` uses: every watcher
    /// of one app shares it (each keeps only its own users' events).
    pub const ACTIVITY_TAG: &'static str = "spaces-watch";

    /// A watcher of `users` (added to the store's; none: the store's), on
    /// the store at `store`, asking through `client`.
    ///
    /// # Errors
    ///
    /// [`WatchError::Provider`] with [`Error::Unsupported`] for a provider
    /// without Spaces by creator and batch lookup (only X has them);
    /// [`StoreError::Locked`] when another watcher uses the store; other
    /// [`StoreError`]s; [`WatchError::NoUsers`].
    pub fn open(
        client: Client,
        store: impl AsRef<Path>,
        users: impl IntoIterator<Item = String>,
        options: WatchOptions,
    ) -> Result<Watcher, WatchError> {
        let provider = client.provider();
        for capability in [Capability::ByCreators, Capability::BatchLookup] {
            if !provider.supports(capability) {
                return Err(Error::Unsupported { provider, operation: capability.as_str() }.into());
            }
        }
        let mut given: Vec<String> = Vec::new();
        for user in users {
            provider.check_user_id(&user)?;
            if !given.contains(&user) {
                given.push(user);
            }
        }
        let lock = Store::lock_for_watch(&store)?;
        let mut opened = Store::open(&store)?;
        opened.watch_users(&given, Utc::now())?;
        let users = opened.users()?;
        if users.is_empty() {
            return Err(WatchError::NoUsers { store: opened.path().to_path_buf() });
        }
        let tracked = opened.tracked()?;
        let pace = pace(provider, options.budget);
        let per_request = provider.info().by_creators.map_or(1, |operation| operation.max_ids.max(1));
        let requests_per_cycle = users.len().div_ceil(per_request).max(1);
        let tick = match options.interval {
            Some(interval) => pace.max(interval / u32::try_from(requests_per_cycle).unwrap_or(u32::MAX)),
            None => pace,
        };
        Ok(Watcher {
            client,
            store: opened,
            users,
            tracked,
            pending: Vec::new(),
            pace,
            tick,
            next_lookup: Instant::now(),
            activity: options.activity,
            _lock: lock,
        })
    }

    /// The time between two requests to an endpoint: the budget's steady
    /// rate, with one request of headroom per window.
    pub fn pace(&self) -> Duration {
        self.pace
    }

    /// The time between two polls of the same users: one request per
    /// [`pace`](Self::pace) for each 100 users, or the interval asked for.
    pub fn cycle(&self) -> Duration {
        self.tick * u32::try_from(self.chunks().count()).unwrap_or(u32::MAX)
    }

    /// The watched users.
    pub fn users(&self) -> &[String] {
        &self.users
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn chunks(&self) -> std::slice::Chunks<'_, String> {
        let per_request = self.client.provider().info().by_creators.map_or(1, |operation| operation.max_ids.max(1));
        self.users.chunks(per_request)
    }

    /// Polls until `stop` resolves: one request per [`pace`](Self::pace),
    /// each 100 users in turn, from the first at once; each event is handed
    /// to `on` once its poll is committed. A stop that comes while a poll is
    /// under way lets it finish and commit first.
    ///
    /// With push events ([`WatchOptions::activity`]), the subscriptions are
    /// made first, and each pushed event's Space is looked up as soon as
    /// the batch lookup's pace allows, its events committed and handed to
    /// `on` like a poll's.
    ///
    /// # Errors
    ///
    /// A [`WatchError`] that no retry fixes: the store failing, a token
    /// refused, credits spent, the subscriptions refused.
    pub async fn run(
        &mut self,
        stop: impl Future<Output = ()>,
        mut on: impl FnMut(Happening<'_>),
    ) -> Result<(), WatchError> {
        let mut stop = pin!(stop);
        let mut pushed = match &self.activity {
            Some(tag) => {
                let activity = self.client.activity()?;
                let subscriptions = tokio::select! {
                    () = stop.as_mut() => return Ok(()),
                    made = activity.ensure_subscriptions(self.users.iter().cloned(), tag) => made?,
                };
                on(Happening::Subscribed(&subscriptions));
                activity.events(EventOptions::new(tag.clone()).user_ids(self.users.iter().cloned())).boxed()
            }
            None => stream::pending().boxed(),
        };
        let mut ticker = tokio::time::interval(self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next = 0;
        loop {
            let chunks = self.chunks().count().max(1);
            let lookup_due = !self.pending.is_empty();
            let events = tokio::select! {
                biased;
                () = stop.as_mut() => return Ok(()),
                _ = ticker.tick() => {
                    let index = next % chunks;
                    next = (next + 1) % chunks;
                    self.poll(index, &mut on).await?
                }
                item = pushed.next() => {
                    self.take_pushed(item, &mut pushed, &mut on)?;
                    continue;
                }
                () = tokio::time::sleep_until(self.next_lookup), if lookup_due => {
                    let mut poll = Poll { at: Utc::now(), ..Poll::default() };
                    self.confirm(&mut poll, &mut on).await?;
                    self.commit(poll)?
                }
            };
            for event in &events {
                on(Happening::Event(event));
            }
        }
    }

    /// One item of the push stream: an event's Space is queued for a
    /// lookup (first in line), unless it is being looked up already or the
    /// store knows it is over; the stream's end leaves polling alone.
    fn take_pushed(
        &mut self,
        item: Option<ActivityItem>,
        pushed: &mut BoxStream<'static, ActivityItem>,
        on: &mut impl FnMut(Happening<'_>),
    ) -> Result<(), WatchError> {
        match item {
            Some(ActivityItem::Event(event)) => {
                let known_over = self.store.is_final(&event.space_id)?;
                if !known_over && !self.pending.contains(&event.space_id) {
                    self.pending.insert(0, event.space_id);
                }
            }
            Some(ActivityItem::Failed(error)) => {
                *pushed = stream::pending().boxed();
                fail_or_note(error, on)?;
            }
            Some(other) => on(Happening::Stream(&other)),
            None => *pushed = stream::pending().boxed(),
        }
        Ok(())
    }

    /// One poll of the `index`-th group of users, and the confirmation of
    /// Spaces that stopped appearing; returns the events committed.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn poll(&mut self, index: usize, on: &mut impl FnMut(Happening<'_>)) -> Result<Vec<Event>, WatchError> {
        let chunk: Vec<String> = self.chunks().nth(index).map(<[String]>::to_vec).unwrap_or_default();
        let mut poll = Poll { at: Utc::now(), ..Poll::default() };
        match self.client.by_creators_paced(&chunk).await {
            Ok(list) => {
                poll.at = Utc::now();
                let seen = self.observe_list(&list, &mut poll);
                // A Space of these users that is no longer listed is over, or gone: ask.
                let users: HashSet<&String> = chunk.iter().collect();
                for (space_id, tracked) in &self.tracked {
                    let theirs = tracked.user_id.as_ref().is_some_and(|user| users.contains(user));
                    if theirs && !seen.contains(space_id) && !self.pending.contains(space_id) {
                        self.pending.push(space_id.clone());
                    }
                }
            }
            Err(error) => fail_or_note(error, on)?,
        }
        self.confirm(&mut poll, on).await?;
        self.commit(poll)
    }

    /// Commits a poll's changes (if any), and keeps what is now known.
    fn commit(&mut self, poll: Poll) -> Result<Vec<Event>, WatchError> {
        for (space, tracked) in &poll.spaces {
            self.remember(&space.id, tracked);
        }
        for (space_id, tracked) in &poll.gone {
            self.remember(space_id, tracked);
        }
        if poll.spaces.is_empty() && poll.gone.is_empty() && poll.events.is_empty() && poll.samples.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.commit(poll)?)
    }

    /// Keeps what is now known of a Space; a final one is no longer tracked.
    fn remember(&mut self, space_id: &str, tracked: &Tracked) {
        if tracked.known.phase.is_final() {
            self.tracked.remove(space_id);
            self.pending.retain(|pending| pending != space_id);
        } else {
            self.tracked.insert(space_id.to_owned(), tracked.clone());
        }
    }

    /// Each Space of a by-creator answer through the state machine; returns the ids seen.
    fn observe_list(&self, list: &SpaceList, poll: &mut Poll) -> HashSet<String> {
        let mut seen = HashSet::new();
        for space in &list.spaces {
            seen.insert(space.id.clone());
            self.observe(space.id.clone(), Seen::Space(space), poll);
        }
        seen
    }

    /// One observation of one Space, into the poll: its new state, its events, its sample.
    fn observe(&self, space_id: String, seen: Seen<'_>, poll: &mut Poll) {
        let before = self.tracked.get(&space_id);
        let user_id = match seen {
            Seen::Space(space) => space.creator_id.clone().or_else(|| before.and_then(|known| known.user_id.clone())),
            Seen::NotFound => before.and_then(|known| known.user_id.clone()),
        };
        let (now, kinds) = advance(before.map(|tracked| &tracked.known), seen);
        let Some(known) = now else { return };
        let tracked = Tracked { user_id: user_id.clone(), known };
        for kind in kinds {
            let space = match (kind, seen) {
                (EventKind::Gone, _) | (_, Seen::NotFound) => None,
                (_, Seen::Space(space)) => Some(space.clone()),
            };
            poll.events.push(Event {
                seq: 0,
                kind,
                space_id: space_id.clone(),
                user_id: user_id.clone(),
                at: poll.at,
                space,
            });
        }
        match seen {
            Seen::Space(space) => {
                if tracked.known.phase == Phase::Live {
                    poll.samples.push(Sample::of(space, poll.at));
                }
                poll.spaces.push((space.clone(), tracked));
            }
            Seen::NotFound => poll.gone.push((space_id, tracked)),
        }
    }

    /// One batch lookup of Spaces that stopped appearing or were pushed (as
    /// many as a request takes; the rest next time), unless the last one
    /// was less than a pace ago: each one's answer goes
    /// through the state machine, not found is `gone`.
    async fn confirm(&mut self, poll: &mut Poll, on: &mut impl FnMut(Happening<'_>)) -> Result<(), WatchError> {
        // One lookup per pace: pushed events may ask between polls.
        if self.pending.is_empty() || Instant::now() < self.next_lookup {
            return Ok(());
        }
        self.next_lookup = Instant::now() + self.pace;
        let per_request = self.client.ids_per_request(false);
        let asked: Vec<String> = self.pending.iter().take(per_request).cloned().collect();
        let outcomes = self.client.batch_paced(&asked).await;
        poll.at = Utc::now();
        for outcome in outcomes {
            match outcome.result {
                Ok(space) => self.observe(outcome.id.clone(), Seen::Space(&space), poll),
                Err(Error::NotFound { resource: crate::error::Resource::Space, .. }) => {
                    self.observe(outcome.id.clone(), Seen::NotFound, poll);
                }
                Err(error) => {
                    // Asked again at the next poll.
                    fail_or_note(error, on)?;
                    continue;
                }
            }
            self.pending.retain(|pending| *pending != outcome.id);
        }
        Ok(())
    }
}

/// A failure no retry fixes stops the watcher; any other is reported and
/// the next poll asks again.
fn fail_or_note(error: Error, on: &mut impl FnMut(Happening<'_>)) -> Result<(), WatchError> {
    match error {
        Error::Unauthorized { .. }
        | Error::PaymentRequired { .. }
        | Error::MissingToken { .. }
        | Error::InvalidToken { .. }
        | Error::Unsupported { .. }
        | Error::InvalidArgument { .. } => Err(WatchError::Provider(error)),
        other => {
            on(Happening::Problem(&other));
            Ok(())
        }
    }
}

/// The time between two requests to the by-creator endpoint at the fastest
/// steady pace its budgets allow, with one request of headroom in each
/// window (a window's last request sent a moment early, by the provider's
/// clock, is refused): the slowest of `per / (requests - 1)` over them.
fn pace(provider: Provider, budget: Option<RateLimit>) -> Duration {
    let info = provider.info();
    let operation = info.by_creators.map(|operation| operation.operation.operation_id);
    let budgets: Vec<RateLimit> = match budget {
        Some(budget) => vec![budget],
        None => info
            .budgets
            .iter()
            .filter_map(|budget| match *budget {
                Budget::Shared(limit) | Budget::PerEndpoint(limit) => Some(limit),
                Budget::Operation(id, limit) => (Some(id) == operation).then_some(limit),
            })
            .collect(),
    };
    budgets
        .iter()
        .map(|limit| {
            let requests = limit.requests.get();
            limit.per / requests.saturating_sub(1).max(1)
        })
        .max()
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn x_is_paced_to_299_requests_per_15_minutes() {
        let pace = pace(Provider::X, None);
        assert_eq!(pace, Duration::from_secs(900) / 299);
        let per_window = Duration::from_secs(900).as_secs_f64() / pace.as_secs_f64();
        assert!((285.0..=300.0).contains(&per_window), "{per_window} requests per 15 minutes");
        let scaled = RateLimit { requests: NonZeroU32::new(300).expect("non-zero"), per: Duration::from_secs(3) };
        assert_eq!(super::pace(Provider::X, Some(scaled)), Duration::from_secs(3) / 299);
    }
}
