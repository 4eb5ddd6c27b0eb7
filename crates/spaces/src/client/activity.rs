//! X's Activity API, as the watch mode uses it: the app's subscriptions to
//! `spaces.start` and `spaces.end` of the watched users, made once and
//! never twice, and the app-wide stream held open, each event of the
//! caller's own subscriptions yielded once.
//!
//! The stream is a long-lived GET read line by line. It does not go through
//! the client's per-attempt timeout or its body cap (either would end it):
//! it has an HTTP client of its own, with the same auth header, a connect
//! timeout and no overall timeout, and a dead connection is found by idle
//! time instead (X sends a keep-alive at least every 20 seconds). Each line
//! is held to a cap, and passes the client's redaction before it is read.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::stream::{self, Stream, StreamExt};
use progenitor_client::ByteStream;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use spaces_generated::Auth;
use tokio::time::Instant;

use super::stop::{Stop, StopOn};
use super::{Call, Client, ClientBuilder, Redact};
use crate::error::{Error, Excerpt, MAX_RETRY_AFTER};
use crate::model::Provider;
use crate::providers::activity::{self as wire, Api, Message, Operations, Page};
pub use crate::providers::activity::{ActivityEvent, ActivityKind, Subscription};
use crate::providers::{BoxFuture, Fetch, Interpreter};
use crate::redact::Redactor;

/// X's Activity API for one client: the app's subscriptions, and its
/// stream of events. Made by [`Client::activity`]; cheap to clone.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use spaces::{ActivityItem, Client, EventOptions, Provider};
///
/// # async fn run() -> Result<(), spaces::Error> {
/// let client = Client::from_env(Provider::X)?;
/// let activity = client.activity()?;
/// let users = ["2244994945", "783214"];
/// // Two subscriptions per user (start, end), tagged; existing ones are reused.
/// let subscriptions = activity.ensure_subscriptions(users, "spaces-watch").await?;
/// println!("{} reused, {} created", subscriptions.existing.len(), subscriptions.created.len());
/// let mut items = activity.events(EventOptions::new("spaces-watch").user_ids(users));
/// while let Some(item) = items.next().await {
///     match item {
///         ActivityItem::Event(event) => println!("{} {} by {}", event.kind, event.space_id, event.user_id),
///         ActivityItem::Failed(error) => return Err(error), // the last item
///         other => eprintln!("{other:?}"), // (re)connected, disconnected, skipped
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Activity {
    inner: Arc<ActivityInner>,
}

struct ActivityInner {
    client: Client,
    operations: &'static Operations,
    /// The subscription calls: the client's per-attempt timeout applies.
    rest: Api,
    /// The stream: no overall timeout.
    stream: Api,
}

impl fmt::Debug for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activity").field("client", &self.inner.client).finish_non_exhaustive()
    }
}

impl Client {
    /// X's Activity API (push events for Spaces) with this client's token,
    /// API root and limits. Make one and keep it: each call builds two HTTP
    /// clients (one for the subscription calls, one for the stream).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a provider other than X, before anything
    /// is sent; [`Error::Transport`] when an HTTP client cannot be built.
    pub fn activity(&self) -> Result<Activity, Error> {
        let inner = &self.inner;
        let provider = inner.provider;
        let operations =
            wire::operations(provider).ok_or(Error::Unsupported { provider, operation: "the Activity API" })?;
        let headers = auth_headers(provider, inner.token.expose())?;
        let http = |timeout: Option<Duration>| {
            let builder = reqwest::Client::builder()
                .default_headers(headers.clone())
                .user_agent(ClientBuilder::DEFAULT_USER_AGENT)
                .connect_timeout(ClientBuilder::DEFAULT_CONNECT_TIMEOUT)
                // X does not redirect these endpoints; a redirect is an error, not a hop.
                .redirect(reqwest::redirect::Policy::none());
            let builder = match timeout {
                Some(timeout) => builder.timeout(timeout),
                None => builder,
            };
            builder.build().map_err(|error| Error::Transport { provider, detail: Excerpt::new(&error.to_string()) })
        };
        let rest = Api::new(&inner.base_url, http(Some(inner.timeout))?);
        let stream = Api::new(&inner.base_url, http(None)?);
        Ok(Activity { inner: Arc::new(ActivityInner { client: self.clone(), operations, rest, stream }) })
    }
}

/// The auth header the client sends, marked sensitive so that reqwest never prints it.
fn auth_headers(provider: Provider, token: &str) -> Result<HeaderMap, Error> {
    let (name, value) = match provider.info().spec.auth {
        Auth::Bearer => (AUTHORIZATION, format!("Bearer {token}")),
        Auth::ApiKeyHeader(name) => {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Transport {
                provider,
                detail: format!("the spec's API-key header `{name}` is not a valid header name").into(),
            })?;
            (name, token.to_owned())
        }
    };
    // The client was built with this token, which `build` checked.
    let mut value = HeaderValue::from_str(&value).map_err(|_| Error::InvalidToken {
        provider,
        env_var: provider.info().env_var,
        reason: "it holds characters an HTTP header cannot carry",
    })?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(name, value);
    Ok(headers)
}

/// What [`Activity::ensure_subscriptions`] found and made.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Subscriptions {
    /// The caller's subscriptions (its tag, a watched user, a Space event)
    /// that were there already: reused.
    pub existing: Vec<Subscription>,
    /// Those created now, for each user and event that had none.
    pub created: Vec<Subscription>,
    /// Subscriptions of the same users and Space events under another tag,
    /// or none: another tool's, left alone. Their events are not the caller's.
    pub others: Vec<Subscription>,
}

impl Subscriptions {
    /// The caller's subscriptions: the existing ones, then the created ones.
    pub fn own(&self) -> impl Iterator<Item = &Subscription> {
        self.existing.iter().chain(&self.created)
    }
}

/// At most this many pages of subscriptions are read (X allows an app at
/// most 150,000 subscriptions, 150 pages of 1,000).
const MAX_PAGES: usize = 1_000;

impl Activity {
    /// Every subscription the app holds (every tool's, any event type and
    /// tag), following `meta.next_token` when X sends one, as many per page
    /// as the spec allows (`max_results`).
    ///
    /// # Errors
    ///
    /// As [`Client::space`], and [`Error::Decode`] for a listed subscription
    /// without an id.
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, Error> {
        let inner = &self.inner;
        let list = inner.operations.list;
        let max_results = list
            .param("max_results")
            .and_then(|param| param.rules.maximum)
            .and_then(|maximum| u32::try_from(maximum).ok())
            .and_then(NonZeroU32::new);
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        let mut tokens = HashSet::new();
        for _ in 0..MAX_PAGES {
            let call = ListPage { api: &inner.rest, max_results, token: token.as_deref() };
            let page = inner.client.call(list, None, &call, &Stop::default()).await?;
            all.extend(page.subscriptions);
            match page.next_token {
                // A token seen before would go round in circles.
                Some(next) if tokens.insert(next.clone()) => token = Some(next),
                _ => return Ok(all),
            }
        }
        Err(Error::Rejected {
            provider: inner.client.provider(),
            status: None,
            message: Excerpt::new(&format!("the subscription list goes on past {MAX_PAGES} pages")),
        })
    }

    /// Makes sure each of `user_ids` has a `spaces.start` and a
    /// `spaces.end` subscription tagged `tag`: lists the app's
    /// subscriptions, reuses those that match (event type, `filter.user_id`
    /// and tag), and creates only the missing ones, one at a time. Running
    /// it again creates nothing.
    ///
    /// A create is retried on a 429 or a 5xx, like any call, but after a
    /// 5xx the list is read first: a subscription X made before failing is
    /// found, not made twice. When a create fails, what was created before
    /// stays; running this again finds it.
    ///
    /// # Errors
    ///
    /// Before any request: [`Error::InvalidArgument`] for a user id the
    /// spec's pattern refuses (1–19 digits) or a tag outside its rules
    /// (1–200 characters). Then as [`Client::space`], for the list or the
    /// first create that fails.
    pub async fn ensure_subscriptions<I, S>(&self, user_ids: I, tag: &str) -> Result<Subscriptions, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let provider = self.inner.client.provider();
        wire::check_tag(tag)?;
        let mut users: Vec<String> = Vec::new();
        for id in user_ids.into_iter().map(Into::into) {
            provider.check_user_id(&id)?;
            if !users.contains(&id) {
                users.push(id);
            }
        }
        let mut found = Subscriptions::default();
        if users.is_empty() {
            return Ok(found);
        }
        let listed = self.subscriptions().await?;
        let mut missing = Vec::new();
        for user in &users {
            for kind in ActivityKind::ALL {
                let mut mine = listed.iter().filter(|subscription| subscription.is_for(kind, user, tag)).peekable();
                if mine.peek().is_none() {
                    missing.push((user.as_str(), kind));
                }
                found.existing.extend(mine.cloned());
                found.others.extend(
                    listed
                        .iter()
                        .filter(|subscription| {
                            subscription.kind() == Some(kind)
                                && subscription.user_id.as_deref() == Some(user)
                                && subscription.tag.as_deref() != Some(tag)
                        })
                        .cloned(),
                );
            }
        }
        let mut unnamed = Vec::new();
        for (user, kind) in missing {
            match self.create(kind, user, tag).await? {
                Some(subscription) => found.created.push(subscription),
                None => unnamed.push((user, kind)),
            }
        }
        if !unnamed.is_empty() {
            // Created, but the answer named no subscription: the list does.
            let listed = self.subscriptions().await?;
            for (user, kind) in unnamed {
                let subscription =
                    listed.iter().find(|subscription| subscription.is_for(kind, user, tag)).ok_or_else(|| {
                        Error::Rejected {
                            provider,
                            status: None,
                            message: Excerpt::new(&format!(
                                "the {kind} subscription of user {user} was created, but neither the answer nor the list shows it"
                            )),
                        }
                    })?;
                found.created.push(subscription.clone());
            }
        }
        Ok(found)
    }

    /// One create, retried on a 429 or a 5xx within the client's deadline;
    /// after a 5xx, the subscription is looked for before asking again.
    async fn create(&self, kind: ActivityKind, user_id: &str, tag: &str) -> Result<Option<Subscription>, Error> {
        let inner = &self.inner;
        let client = &inner.client;
        let body = wire::request(kind, user_id, tag)?;
        let call = Create { api: &inner.rest, body: &body };
        let deadline = Instant::now() + client.inner.deadline;
        let never = Stop::default();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let operation = inner.operations.create;
            let sent = client.attempt(operation, None, attempt, deadline, &call, &never);
            let error = match tokio::time::timeout_at(deadline, sent).await {
                Ok(Ok(created)) => return Ok(created),
                Ok(Err(error)) => error,
                Err(_) => return Err(Error::Timeout { provider: client.provider(), after: client.inner.deadline }),
            };
            if !error.is_retryable() || attempt >= client.inner.retry.max_attempts {
                return Err(error);
            }
            // A 5xx may come after X made the subscription: asking again would make a second.
            if matches!(error, Error::Upstream { .. })
                && let Some(made) =
                    self.subscriptions().await?.into_iter().find(|subscription| subscription.is_for(kind, user_id, tag))
            {
                return Ok(Some(made));
            }
            let wait = client.inner.retry.backoff(attempt, error.retry_after());
            if Instant::now() + wait >= deadline {
                return Err(error);
            }
            tracing::warn!(provider = %client.provider(), attempt, wait_ms = wait.as_millis() as u64, %error, "retrying a subscription");
            tokio::time::sleep(wait).await;
        }
    }

    /// Deletes one of the app's subscriptions: whether X says it did.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an id the spec's pattern refuses
    /// (1–19 digits), before anything is sent; then as [`Client::space`]
    /// ([`Error::NotFound`] names the subscription).
    pub async fn delete_subscription(&self, subscription_id: &str) -> Result<bool, Error> {
        let inner = &self.inner;
        let delete = inner.operations.delete;
        if let Some(param) = delete.id_param()
            && !param.rules.accepts(subscription_id)
        {
            return Err(Error::InvalidArgument {
                provider: inner.client.provider(),
                name: "subscription id",
                value: Excerpt::new(subscription_id),
                reason: param
                    .rules
                    .pattern
                    .map_or("refused by the spec".to_owned(), |pattern| format!("must match {pattern}")),
            });
        }
        let call = Delete { api: &inner.rest, id: subscription_id };
        inner.client.call(delete, None, &call, &Stop::default()).await
    }

    /// The app-wide stream, held open: each event of the caller's own
    /// subscriptions (`options`' tag, and its users if it names any), once,
    /// and what happens to the connection. See [`ActivityItem`].
    ///
    /// - Keep-alive lines and `{}` lines are skipped; other tools' events
    ///   (another tag, another user, another event type) are left out.
    /// - Both inner event types X documents are read (`start`/`end` and
    ///   `spaces_start`/`spaces_end`); a Space id is checked like any.
    /// - An event seen among the last [`EventOptions::recent_events`] (the
    ///   same `event_uuid`, or the same Space's same event) is dropped: X
    ///   may deliver twice, and backfill overlaps what was delivered.
    /// - A connection that sends nothing, not even a keep-alive, for
    ///   [`EventOptions::idle_timeout`] is dropped; so is one that ends, is
    ///   cut, or sends an in-stream error line (an operational disconnect).
    ///   Then it reconnects, at once if the connection had lasted, else
    ///   after a backoff with jitter as X advises (network failures: 250 ms
    ///   more each time, up to 16 s; HTTP errors: from 5 s, doubling, up to
    ///   320 s; a 429: from a minute, doubling, never before X's reset).
    ///   A reconnect asks `backfill_minutes`: the minutes since the last
    ///   byte came, rounded up, within the spec's range (at most 5); if X
    ///   refuses backfill (a 400 or 403), it is asked no more.
    /// - A refusal that trying again cannot fix (401, 403, 402, another
    ///   4xx) ends the stream with [`ActivityItem::Failed`].
    /// - [`EventOptions::stop_on`] ends it cleanly: any wait ends at once,
    ///   the connection is closed, and what was already read (at most one
    ///   chunk's items) is yielded before the end.
    ///
    /// Every text of every item has passed the client's redaction.
    pub fn events(&self, options: EventOptions) -> impl Stream<Item = ActivityItem> + Send + Unpin + 'static {
        let EventOptions { tag, user_ids, idle_timeout, connect_timeout, max_line_bytes, recent_events, signal } =
            options;
        let stop = if signal.is_some() { Stop::new() } else { Stop::default() };
        let client = &self.inner.client;
        let stream_op = self.inner.operations.stream;
        let backfill = stream_op.param("backfill_minutes").map(|param| param.rules);
        let run = Run {
            activity: self.clone(),
            tag,
            users: user_ids,
            idle: idle_timeout,
            connect_timeout: connect_timeout.unwrap_or(client.inner.timeout),
            max_line_bytes,
            backfill_range: backfill.and_then(|rules| {
                let max = u8::try_from(rules.maximum?).ok()?;
                let min = u8::try_from(rules.minimum.unwrap_or(0)).ok()?.max(1);
                (min <= max).then_some((min, max))
            }),
            stop: stop.clone(),
            connection: None,
            pending: VecDeque::new(),
            recent: Recent::new(recent_events),
            failures: 0,
            wait: Duration::ZERO,
            last_heard: None,
            backfill_refused: false,
            ended: false,
            attempts: 0,
        };
        let items = stream::unfold(run, |mut run| async move {
            let item = run.next().await?;
            Some((item, run))
        })
        .boxed();
        StopOn { inner: items, signal, stop }
    }
}

/// How [`Activity::events`] runs. Only the tag is required.
#[must_use]
pub struct EventOptions {
    tag: String,
    user_ids: Option<HashSet<String>>,
    idle_timeout: Duration,
    connect_timeout: Option<Duration>,
    max_line_bytes: usize,
    recent_events: usize,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl fmt::Debug for EventOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventOptions")
            .field("tag", &self.tag)
            .field("user_ids", &self.user_ids)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("recent_events", &self.recent_events)
            .field("stop_on", &self.signal.is_some())
            .finish()
    }
}

impl EventOptions {
    /// X's keep-alive period: "at least every 20 seconds" a `\r\n`, and
    /// "if no data is received for 20 seconds, trigger reconnection logic".
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(20);
    /// The longest line kept (1 MiB; a Spaces event is a few KiB). A longer
    /// one is dropped as it streams, and reported.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 1024 * 1024;
    /// How many recent events are remembered to drop repeats.
    pub const DEFAULT_RECENT_EVENTS: usize = 4_096;

    /// The events of the subscriptions tagged `tag` (as
    /// [`Activity::ensure_subscriptions`] made them), of any user.
    pub fn new(tag: impl Into<String>) -> Self {
        EventOptions {
            tag: tag.into(),
            user_ids: None,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            connect_timeout: None,
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
            recent_events: Self::DEFAULT_RECENT_EVENTS,
            signal: None,
        }
    }

    /// Only events whose subscription follows one of these users (its
    /// `filter.user_id`; an empty list keeps none). Default: any user,
    /// under the tag.
    pub fn user_ids<I, S>(mut self, user_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.user_ids = Some(user_ids.into_iter().map(Into::into).collect());
        self
    }

    /// How long a connection may send nothing at all (no event, no
    /// keep-alive) before it is taken for dead and replaced. Default
    /// [`DEFAULT_IDLE_TIMEOUT`](Self::DEFAULT_IDLE_TIMEOUT) (20 s, as X advises).
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// How long opening a connection may take, up to the answer's status.
    /// Default: the client's per-attempt timeout.
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = Some(connect_timeout);
        self
    }

    /// The longest line kept. Default [`DEFAULT_MAX_LINE_BYTES`](Self::DEFAULT_MAX_LINE_BYTES).
    pub fn max_line_bytes(mut self, max_line_bytes: usize) -> Self {
        self.max_line_bytes = max_line_bytes.max(1);
        self
    }

    /// How many recent events are remembered to drop repeats (0: none).
    /// Default [`DEFAULT_RECENT_EVENTS`](Self::DEFAULT_RECENT_EVENTS).
    pub fn recent_events(mut self, recent_events: usize) -> Self {
        self.recent_events = recent_events;
        self
    }

    /// Ends the stream cleanly when `signal` resolves (a Ctrl-C): a wait
    /// ends at once, the connection is closed, nothing more is read, and
    /// the items of what was already read come out before the end.
    pub fn stop_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }
}

/// What [`Activity::events`] yields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ActivityItem {
    /// A Space of a watched user started or ended (the caller's tag, the
    /// first delivery of it).
    Event(ActivityEvent),
    /// A connection was opened; `backfill_minutes` is what it asked for
    /// (0 on the first one, which asks none).
    Connected {
        /// The minutes of missed events asked for.
        backfill_minutes: u8,
    },
    /// The connection was lost or could not be opened; the stream tries
    /// again after `retry_in`.
    Disconnected {
        /// What happened: [`Error::Timeout`] when the stream went silent,
        /// [`Error::Transport`] when it ended or was cut, [`Error::Rejected`]
        /// for an in-stream error line, or the refusal of a connection.
        error: Error,
        /// How long the stream waits before connecting again.
        retry_in: Duration,
    },
    /// A line of the caller's own subscriptions that is no event: a Spaces
    /// event that does not fit ([`Error::Decode`] names the field), or a
    /// line over the cap ([`Error::BodyTooLarge`]). The stream goes on.
    Skipped(Error),
    /// The stream cannot go on (a refused token, a plan without access, a
    /// request X refuses): the last item.
    Failed(Error),
}

impl ActivityItem {
    /// The event, if this is one.
    pub fn event(&self) -> Option<&ActivityEvent> {
        match self {
            ActivityItem::Event(event) => Some(event),
            _ => None,
        }
    }

    fn redacted(self, redactor: &Redactor) -> ActivityItem {
        let text = |text: String| redactor.text(&text).into_owned();
        match self {
            ActivityItem::Event(event) => ActivityItem::Event(event.map_text(text)),
            ActivityItem::Disconnected { error, retry_in } => {
                ActivityItem::Disconnected { error: error.redacted(redactor), retry_in }
            }
            ActivityItem::Skipped(error) => ActivityItem::Skipped(error.redacted(redactor)),
            ActivityItem::Failed(error) => ActivityItem::Failed(error.redacted(redactor)),
            connected @ ActivityItem::Connected { .. } => connected,
        }
    }
}

/// X's reconnection advice (<https://docs.x.com/x-api/fundamentals/handling-disconnections>).
mod backoff {
    use std::time::Duration;

    /// Network failures: "Increase delay by 250ms each attempt", "Maximum delay: 16 seconds".
    pub const NETWORK_STEP: Duration = Duration::from_millis(250);
    pub const NETWORK_MAX: Duration = Duration::from_secs(16);
    /// HTTP errors: "Start with 5 second wait", "Double each attempt", "Maximum delay: 320 seconds".
    pub const HTTP_START: Duration = Duration::from_secs(5);
    pub const HTTP_MAX: Duration = Duration::from_secs(320);
    /// A 429: "Start with 1 minute wait", "Double each attempt".
    pub const RATE_LIMITED_START: Duration = Duration::from_secs(60);

    /// `start` doubled for each failure after the first.
    pub fn doubling(start: Duration, failures: u32) -> Duration {
        start.saturating_mul(1 << failures.saturating_sub(1).min(20))
    }

    /// Up to a quarter more, at random, so that many clients cut at once do
    /// not come back at once; never less than X's wait.
    pub fn jitter(wait: Duration) -> Duration {
        wait + wait.mul_f64(fastrand::f64() / 4.0)
    }
}

/// How long to wait before connecting again after the `failures`-th
/// failure in a row, `error`.
fn backoff_after(error: &Error, failures: u32) -> Duration {
    use backoff::*;
    let failures = failures.max(1);
    let wait = match error {
        Error::RateLimited { retry_after, .. } => {
            doubling(RATE_LIMITED_START, failures).min(MAX_RETRY_AFTER).max(retry_after.unwrap_or_default())
        }
        Error::Upstream { .. } => doubling(HTTP_START, failures).min(HTTP_MAX),
        _ => return network_backoff(failures),
    };
    jitter(wait)
}

/// The wait after the `failures`-th network failure in a row.
fn network_backoff(failures: u32) -> Duration {
    use backoff::*;
    jitter(NETWORK_STEP.saturating_mul(failures.max(1)).min(NETWORK_MAX))
}

/// Whether a refused connection will be refused again whatever the wait.
fn is_fatal(error: &Error) -> bool {
    match error {
        Error::Unauthorized { .. }
        | Error::PaymentRequired { .. }
        | Error::NotFound { .. }
        | Error::InvalidArgument { .. }
        | Error::Unsupported { .. }
        | Error::InvalidToken { .. }
        | Error::MissingToken { .. }
        | Error::RecordDir { .. } => true,
        Error::Rejected { status: Some(status), .. } => (400..500).contains(status) && *status != 408,
        _ => false,
    }
}

/// Whether a connection that asked for backfill may have been refused for
/// it (X says backfill is for Enterprise access on other streams).
fn may_refuse_backfill(error: &Error) -> bool {
    matches!(error, Error::Rejected { status: Some(400 | 403), .. } | Error::Unauthorized { status: Some(403), .. })
}

/// One run of [`Activity::events`].
struct Run {
    activity: Activity,
    tag: String,
    users: Option<HashSet<String>>,
    idle: Duration,
    connect_timeout: Duration,
    max_line_bytes: usize,
    /// The range of `backfill_minutes` a reconnect asks within (the spec's,
    /// at least 1); `None` when the spec states none.
    backfill_range: Option<(u8, u8)>,
    stop: Stop,
    connection: Option<Connection>,
    pending: VecDeque<ActivityItem>,
    recent: Recent,
    /// Connections in a row that failed or died young.
    failures: u32,
    /// Before the next connection.
    wait: Duration,
    /// When the last connection last sent anything (a keep-alive counts).
    last_heard: Option<Instant>,
    backfill_refused: bool,
    ended: bool,
    attempts: u32,
}

struct Connection {
    body: ByteStream,
    lines: Lines,
    opened: Instant,
}

impl Run {
    fn provider(&self) -> Provider {
        self.activity.inner.client.provider()
    }

    async fn next(&mut self) -> Option<ActivityItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.ended || self.stop.is_stopped() {
                return None;
            }
            if self.connection.is_some() {
                self.read().await?;
            } else {
                self.connect().await?;
            }
        }
    }

    fn push(&mut self, item: ActivityItem) {
        let item = item.redacted(&self.activity.inner.client.inner.redactor);
        match &item {
            ActivityItem::Connected { backfill_minutes } => {
                tracing::info!(provider = %self.provider(), backfill_minutes, "activity stream connected");
            }
            ActivityItem::Disconnected { error, retry_in } => {
                tracing::warn!(provider = %self.provider(), %error, retry_in_ms = retry_in.as_millis() as u64, "activity stream disconnected");
            }
            ActivityItem::Failed(error) => {
                tracing::error!(provider = %self.provider(), %error, "activity stream failed")
            }
            ActivityItem::Skipped(error) => {
                tracing::warn!(provider = %self.provider(), %error, "activity line skipped")
            }
            ActivityItem::Event(_) => {}
        }
        self.pending.push_back(item);
    }

    /// The `backfill_minutes` of the next connection: none on the first;
    /// then the minutes since the last one last sent anything, rounded up,
    /// within the spec's range.
    fn backfill_minutes(&self) -> Option<u8> {
        let (min, max) = self.backfill_range?;
        if self.backfill_refused {
            return None;
        }
        let silent = self.last_heard?.elapsed();
        let seconds = silent.as_secs() + u64::from(silent.subsec_nanos() > 0);
        let minutes = u8::try_from(seconds.div_ceil(60)).unwrap_or(max);
        Some(minutes.clamp(min, max))
    }

    /// Opens a connection (after the wait, if any). `None`: stopped.
    async fn connect(&mut self) -> Option<()> {
        if !self.wait.is_zero() {
            self.stop.unless_stopped(tokio::time::sleep(self.wait)).await?;
            self.wait = Duration::ZERO;
        }
        let backfill = self.backfill_minutes();
        self.attempts += 1;
        let inner = &self.activity.inner;
        let deadline = Instant::now() + self.connect_timeout;
        let call = Connect { api: &inner.stream, backfill };
        let opening = inner.client.attempt(inner.operations.stream, None, self.attempts, deadline, &call, &self.stop);
        let outcome = match tokio::time::timeout_at(deadline, opening).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout { provider: self.provider(), after: self.connect_timeout }),
        };
        match outcome {
            Ok(body) => {
                let now = Instant::now();
                self.connection = Some(Connection { body, lines: Lines::new(self.max_line_bytes), opened: now });
                self.last_heard = Some(now);
                self.push(ActivityItem::Connected { backfill_minutes: backfill.unwrap_or(0) });
            }
            Err(Error::Interrupted { .. }) => return None,
            Err(error) if backfill.is_some() && may_refuse_backfill(&error) => {
                // Tried again at once without backfill; a refusal of the
                // token itself comes back then, and ends the stream.
                self.backfill_refused = true;
                self.push(ActivityItem::Disconnected { error, retry_in: Duration::ZERO });
            }
            Err(error) if is_fatal(&error) => {
                self.ended = true;
                self.push(ActivityItem::Failed(error));
            }
            Err(error) => {
                self.failures += 1;
                self.wait = backoff_after(&error, self.failures);
                let retry_in = self.wait;
                self.push(ActivityItem::Disconnected { error, retry_in });
            }
        }
        Some(())
    }

    /// Reads what comes next on the connection, within the idle timeout.
    /// `None`: stopped.
    async fn read(&mut self) -> Option<()> {
        let provider = self.provider();
        let idle = self.idle;
        let connection = self.connection.as_mut()?;
        let next = tokio::time::timeout(idle, connection.body.next());
        let mut pieces = Vec::new();
        let lost = match self.stop.unless_stopped(next).await? {
            Err(_) => Some(Error::Timeout { provider, after: idle }),
            Ok(None) => Some(Error::Transport { provider, detail: "the server ended the stream".into() }),
            Ok(Some(Err(error))) => Some(cut(provider, error)),
            Ok(Some(Ok(chunk))) => {
                connection.lines.feed(&chunk, &mut pieces);
                None
            }
        };
        if lost.is_none() {
            self.last_heard = Some(Instant::now());
        }
        for piece in pieces {
            if let Some(error) = self.line(piece) {
                self.disconnected(error);
                return Some(());
            }
        }
        if let Some(error) = lost {
            self.disconnected(error);
        }
        Some(())
    }

    /// One piece of the stream; `Some`: an in-stream error, after which X
    /// closes the connection.
    fn line(&mut self, piece: Piece) -> Option<Error> {
        let line = match piece {
            Piece::TooLong => {
                let error = Error::BodyTooLarge { provider: self.provider(), limit: self.max_line_bytes };
                self.push(ActivityItem::Skipped(error));
                return None;
            }
            Piece::Line(line) => line,
        };
        let line = line.trim_ascii();
        if line.is_empty() {
            return None; // A keep-alive.
        }
        // The one redaction point of the stream: nothing of a line is read before it.
        let line = self.activity.inner.client.inner.redactor.bytes(line).into_owned();
        match wire::message(&line, Utc::now()) {
            Message::Empty => None,
            Message::Errors(error) => Some(error),
            Message::Other { event_type, tag } => {
                tracing::trace!(event_type, tag, "not a Spaces event");
                None
            }
            Message::Event { tag, user_id, event } => {
                if !self.is_own(tag.as_deref(), user_id.as_deref()) {
                    tracing::trace!(tag, user_id, "another subscription's event");
                    return None;
                }
                match event {
                    Ok(event) if self.recent.first_time(&event) => self.push(ActivityItem::Event(event)),
                    Ok(event) => {
                        tracing::debug!(space_id = event.space_id, kind = %event.kind, "a repeated delivery, dropped")
                    }
                    Err(error) => self.push(ActivityItem::Skipped(error)),
                }
                None
            }
        }
    }

    /// Whether an event's tag and filter are the caller's.
    fn is_own(&self, tag: Option<&str>, user_id: Option<&str>) -> bool {
        tag == Some(self.tag.as_str())
            && self.users.as_ref().is_none_or(|users| user_id.is_some_and(|user| users.contains(user)))
    }

    /// The connection is gone: reconnect at once if it had lasted (through
    /// an idle period), else after a network backoff.
    fn disconnected(&mut self, error: Error) {
        let lived = self.connection.take().map_or(Duration::ZERO, |connection| connection.opened.elapsed());
        if lived >= self.idle {
            self.failures = 0;
        }
        self.wait = if self.failures == 0 { Duration::ZERO } else { network_backoff(self.failures) };
        self.failures += 1;
        let retry_in = self.wait;
        self.push(ActivityItem::Disconnected { error, retry_in });
    }
}

/// A body error of the stream, in words, without the URL (its query).
fn cut(provider: Provider, error: reqwest::Error) -> Error {
    let error = error.without_url();
    let mut words = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !words.contains(&text) {
            words.push_str(": ");
            words.push_str(&text);
        }
        source = cause.source();
    }
    Error::Transport { provider, detail: Excerpt::new(&format!("the stream was cut: {words}")) }
}

/// A piece of the stream between newlines.
enum Piece {
    Line(Vec<u8>),
    /// A line longer than the cap (dropped as it came).
    TooLong,
}

/// Splits the stream into lines, none longer than `max` bytes kept.
struct Lines {
    buffer: Vec<u8>,
    /// Inside a line over the cap: dropped up to its end.
    discarding: bool,
    max: usize,
}

impl Lines {
    fn new(max: usize) -> Lines {
        Lines { buffer: Vec::new(), discarding: false, max }
    }

    fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<Piece>) {
        while !chunk.is_empty() {
            let (part, ended) = match chunk.iter().position(|&byte| byte == b'\n') {
                Some(at) => {
                    let part = &chunk[..at];
                    chunk = &chunk[at + 1..];
                    (part, true)
                }
                None => (std::mem::take(&mut chunk), false),
            };
            if self.discarding {
                self.discarding = !ended;
                continue;
            }
            if self.buffer.len() + part.len() > self.max {
                self.buffer = Vec::new();
                self.discarding = !ended;
                out.push(Piece::TooLong);
                continue;
            }
            self.buffer.extend_from_slice(part);
            if ended {
                out.push(Piece::Line(std::mem::take(&mut self.buffer)));
            }
        }
    }
}

/// What identifies a delivered event, to drop its repeats.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// X's id of the delivery.
    Uuid(String),
    /// The same Space's same event of the same user: a Space starts once and
    /// ends once, whatever id a repeated delivery carries.
    Event(ActivityKind, String, String),
}

/// The keys of the last events, at most `capacity` of them.
struct Recent {
    order: VecDeque<Key>,
    seen: HashSet<Key>,
    capacity: usize,
}

impl Recent {
    fn new(events: usize) -> Recent {
        Recent { order: VecDeque::new(), seen: HashSet::new(), capacity: events.saturating_mul(2) }
    }

    /// Whether `event` is new (then it is remembered).
    fn first_time(&mut self, event: &ActivityEvent) -> bool {
        if self.capacity == 0 {
            return true;
        }
        let keys = [
            event.event_uuid.clone().map(Key::Uuid),
            Some(Key::Event(event.kind, event.space_id.clone(), event.user_id.clone())),
        ];
        if keys.iter().flatten().any(|key| self.seen.contains(key)) {
            return false;
        }
        for key in keys.into_iter().flatten() {
            if self.order.len() >= self.capacity
                && let Some(oldest) = self.order.pop_front()
            {
                self.seen.remove(&oldest);
            }
            self.seen.insert(key.clone());
            self.order.push_back(key);
        }
        true
    }
}

/// One page of the subscription list.
struct ListPage<'x> {
    api: &'x Api,
    max_results: Option<NonZeroU32>,
    token: Option<&'x str>,
}

impl Call for ListPage<'_> {
    type Output = Page;
    fn run<'a>(&'a self, _: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Page> {
        self.api.list(self.max_results, self.token, interpreter)
    }
}

struct Create<'x> {
    api: &'x Api,
    body: &'x spaces_generated::x::types::ActivitySubscriptionRequest,
}

impl Call for Create<'_> {
    type Output = Option<Subscription>;
    fn run<'a>(&'a self, _: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Option<Subscription>> {
        self.api.create(self.body, interpreter)
    }
}

struct Delete<'x> {
    api: &'x Api,
    id: &'x str,
}

impl Call for Delete<'_> {
    type Output = bool;
    fn run<'a>(&'a self, _: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, bool> {
        self.api.delete(self.id, interpreter)
    }
}

/// Opening the stream, with the minutes of backfill to ask.
struct Connect<'x> {
    api: &'x Api,
    backfill: Option<u8>,
}

impl Call for Connect<'_> {
    type Output = ByteStream;
    fn run<'a>(&'a self, _: &'a dyn Fetch, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, ByteStream> {
        self.api.connect(self.backfill, interpreter)
    }
}

impl Redact for Page {
    fn redacted(outcome: Result<Page, Error>, redactor: &Redactor) -> Result<Page, Error> {
        let page = outcome.map_err(|error| error.redacted(redactor))?;
        let text = |text: String| redactor.text(&text).into_owned();
        Ok(Page {
            subscriptions: page.subscriptions.into_iter().map(|subscription| subscription.map_text(text)).collect(),
            next_token: page.next_token.map(text),
        })
    }
}

impl Redact for Option<Subscription> {
    fn redacted(outcome: Result<Self, Error>, redactor: &Redactor) -> Result<Self, Error> {
        let created = outcome.map_err(|error| error.redacted(redactor))?;
        Ok(created.map(|subscription| subscription.map_text(|text| redactor.text(&text).into_owned())))
    }
}

impl Redact for bool {
    fn redacted(outcome: Result<bool, Error>, redactor: &Redactor) -> Result<bool, Error> {
        outcome.map_err(|error| error.redacted(redactor))
    }
}

/// The stream's lines are redacted one by one as they are read ([`Run::line`]).
impl Redact for ByteStream {
    fn redacted(outcome: Result<ByteStream, Error>, redactor: &Redactor) -> Result<ByteStream, Error> {
        outcome.map_err(|error| error.redacted(redactor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(max: usize, chunks: &[&[u8]]) -> Vec<String> {
        let mut lines = Lines::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            lines.feed(chunk, &mut out);
        }
        out.into_iter()
            .map(|piece| match piece {
                Piece::Line(line) => String::from_utf8(line).expect("UTF-8"),
                Piece::TooLong => "<too long>".to_owned(),
            })
            .collect()
    }

    #[test]
    fn lines_are_split_across_chunks_and_held_to_the_cap() {
        assert_eq!(
            pieces(100, &[b"{\"a\":1}\r\n\r\n{\"b\"", b":2}\r\n", b"tail"]),
            ["{\"a\":1}\r", "\r", "{\"b\":2}\r"]
        );
        // A line over the cap is reported once, as soon as it is too long, and dropped to its end.
        assert_eq!(pieces(8, &[b"0123456", b"789abc", b"def\nok\n"]), ["<too long>", "ok"]);
        assert_eq!(pieces(4, &[b"12345\n", b"1234\n"]), ["<too long>", "1234"]);
    }

    #[test]
    fn a_repeat_is_known_by_its_uuid_or_by_its_space_and_event() {
        let event = |uuid: Option<&str>, kind, space: &str| ActivityEvent {
            kind,
            space_id: space.to_owned(),
            user_id: "1".to_owned(),
            tag: "t".to_owned(),
            event_uuid: uuid.map(str::to_owned),
            received_at: Utc::now(),
        };
        let mut recent = Recent::new(2);
        assert!(recent.first_time(&event(Some("-5"), ActivityKind::Start, "1jMJgLdenVjxL")));
        assert!(!recent.first_time(&event(Some("-5"), ActivityKind::Start, "1jMJgLdenVjxL")), "same uuid");
        assert!(!recent.first_time(&event(Some("7"), ActivityKind::Start, "1jMJgLdenVjxL")), "same Space's start");
        assert!(recent.first_time(&event(Some("8"), ActivityKind::End, "1jMJgLdenVjxL")));
        assert!(recent.first_time(&event(None, ActivityKind::Start, "1OdKrjgmNkeKX")));
        assert!(recent.first_time(&event(None, ActivityKind::End, "1OdKrjgmNkeKX")));
        // Bounded (two events' keys): the first event is forgotten by now.
        assert!(recent.first_time(&event(Some("-5"), ActivityKind::Start, "1jMJgLdenVjxL")));
        assert!(Recent::new(0).first_time(&event(None, ActivityKind::End, "1")));
    }

    #[test]
    fn backoff_follows_x_and_only_adds_jitter() {
        let transport = Error::Transport { provider: Provider::X, detail: "".into() };
        let upstream = Error::Upstream { provider: Provider::X, status: 503, body: "".into(), retry_after: None };
        let limited = |after: u64| Error::RateLimited {
            provider: Provider::X,
            retry_after: Some(Duration::from_secs(after)),
            retry_at: None,
        };
        let within = |wait: Duration, low: u64, high_ms: u64| {
            assert!(wait >= Duration::from_millis(low) && wait <= Duration::from_millis(high_ms), "{wait:?}");
        };
        within(backoff_after(&transport, 1), 250, 313);
        within(backoff_after(&transport, 3), 750, 938);
        within(backoff_after(&transport, 500), 16_000, 20_000);
        within(backoff_after(&upstream, 1), 5_000, 6_250);
        within(backoff_after(&upstream, 3), 20_000, 25_000);
        within(backoff_after(&upstream, 30), 320_000, 400_000);
        within(backoff_after(&limited(0), 1), 60_000, 75_000);
        within(backoff_after(&limited(600), 1), 600_000, 750_000);
        within(backoff_after(&limited(0), 40), 900_000, 1_125_000);
        assert!(is_fatal(&Error::Unauthorized { provider: Provider::X, status: Some(401), detail: None }));
        assert!(!is_fatal(&upstream) && !is_fatal(&limited(1)) && !is_fatal(&transport));
    }
}
