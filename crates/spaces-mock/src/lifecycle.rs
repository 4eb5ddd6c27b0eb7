//! X's Spaces over time: a scripted [`Timeline`] of users and Spaces that go
//! scheduled → live → ended, get canceled, rescheduled or disappear, served
//! on X's `GET /2/spaces/by/creator_ids` and `GET /2/spaces?ids=` as the
//! script says they are at the moment of each request, with X's rate-limit
//! headers and a budget that answers 429 when it is spent.
//!
//! It backs the watch mode: a watcher polls by-creator for its users,
//! confirms the Spaces that stop appearing with the batch lookup, and
//! records what happened; [`Timeline::expected_events`] says what a perfect
//! watcher records, so a test can compare.
//!
//! ```
//! use std::time::Duration;
//! use spaces::{Client, Provider, SpaceState, Token};
//! use spaces_mock::lifecycle::{EventKind, Lifecycle, MockClock, Timeline};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), spaces::Error> {
//! let clock = MockClock::manual(); // or MockClock::at_speed(10.0); real time by default
//! let lifecycle = Lifecycle::new(Timeline::demo()).with_clock(clock.clone());
//! let server = lifecycle.start().await; // or lifecycle.mount(mock.server()).await
//! let client = Client::builder(Provider::X)
//!     .token(Token::new(spaces_mock::DEMO_TOKEN))
//!     .base_url(server.uri())
//!     .build()?;
//!
//! clock.advance(Duration::from_secs(5)); // the demo's launch went live at 4 s
//! let watched = client.spaces_by_creators(Timeline::DEMO_USERS).await?;
//! let launch = watched.spaces.iter().find(|space| space.id == "1DemoLaunch01").expect("listed");
//! assert_eq!(launch.state, SpaceState::Live);
//!
//! clock.advance(Duration::from_secs(10)); // 15 s: ended at 14 s, no longer listed
//! let watched = client.spaces_by_creators(Timeline::DEMO_USERS).await?;
//! assert!(watched.spaces.iter().all(|space| space.id != "1DemoLaunch01"));
//! let confirmed = client.spaces(["1DemoLaunch01"]).await; // GET /2/spaces?ids=
//! assert_eq!(confirmed[0].result.as_ref().map(|space| space.state).ok(), Some(SpaceState::Ended));
//!
//! // What a perfect watcher has recorded by now.
//! let events = lifecycle.timeline().expected_events(clock.elapsed());
//! assert!(events.iter().any(|event| event.space_id == "1DemoLaunch01" && event.kind == EventKind::Ended));
//! assert_eq!(lifecycle.requests().len(), 3);
//! # Ok(()) }
//! ```
//!
//! # Time
//!
//! Every time in a script is an offset from *time zero*, the moment its
//! [`MockClock`] was made. The clock says how far the script has got
//! ([`MockClock::elapsed`]): real time by default, real time times a speed
//! factor ([`MockClock::at_speed`]: at 10.0 a ten-minute lifecycle plays in
//! one minute), or only what a test [`advance`](MockClock::advance)s
//! ([`MockClock::manual`]). An answer shows each Space as it is at the
//! clock's `elapsed()` when the request arrives.
//!
//! The timestamps in answers (`created_at`, `scheduled_start`,
//! `started_at`, `ended_at`, `updated_at`) are the clock's
//! [`epoch`](MockClock::epoch) (the wall-clock second at time zero, or the
//! one a manual clock was given) plus the offset, cut to the whole second
//! and written as X writes them (`2024-05-17T23:00:02.000Z`). On a fast
//! clock they run ahead of the wall clock, as the script does.
//!
//! The rate-limit windows run on *budget time*: real time times the clock's
//! speed (a manual clock's budget time is real time, so that a watcher
//! polling in real time is limited as on X however the test steps the
//! script). A fast clock therefore scales X's budget with it: at speed 60,
//! X's 300 requests per 15 minutes are 300 per 15 real seconds. The other way
//! to a fast budget is a scaled [`XBudget`] on a real clock.
//! `x-rate-limit-reset` is always the real Unix second the window ends, so
//! that a client can wait for it.
//!
//! # What is served
//!
//! Mounted ([`Lifecycle::mount`], [`Lifecycle::start`]) at priority 1 on
//! the two paths, the lifecycle takes them over: recorded answers
//! ([`x_multi`]) no longer come from them.
//! - `GET /2/spaces/by/creator_ids?user_ids=`: the live and scheduled
//!   Spaces of the requested users (a user the script does not know has
//!   none), in request order, then script order; `meta.result_count`; no
//!   `data` key when there is none.
//! - `GET /2/spaces?ids=`: each requested id (a repeated one once) that
//!   exists at that moment, scheduled, live, ended or canceled, in request
//!   order; an id that does not exist yet, has disappeared
//!   ([`Phase::Gone`]) or that the script does not know gets X's
//!   resource-not-found Problem in `errors`. No `meta`.
//!
//! As on X, a Space has only `id` and `state` unless `space.fields` asks for
//! more, and `includes.users` (each user once: `id`, `name`, `username`, the
//! only user fields the script knows) only for the id fields `expansions`
//! names. A field without a value is left out, never `null`. An ended or
//! canceled Space carries `ended_at` (the moment it ended or was canceled);
//! a scheduled one `participant_count: 0`. Unknown field names are ignored.
//!
//! The requests are checked as [`x_multi`] checks them (the
//! spec's rules: 1 to 100 ids, each matching the pattern, else X's 400), and
//! need [`DEMO_TOKEN`] (else X's 401).
//!
//! # Budget
//!
//! Each endpoint counts its requests in fixed windows of the
//! [`XBudget::per_endpoint`] length, from time zero, and every answer carries
//! `x-rate-limit-limit`, `x-rate-limit-remaining` (what is left after this
//! request) and `x-rate-limit-reset`. Past the budget, a request gets X v2's
//! 429 Problem (the spec's `rate_limited` example) with
//! `x-rate-limit-remaining: 0` until the window ends. A budget of one
//! operation ([`XBudget::per_operation`]: X's 1 request per second on
//! by-creator) is a sliding window with 25 % slack (with 1 per second, a
//! request less than 0.75 s after the one before is refused: a client that
//! paces itself is not refused for a late answer, one that does not is
//! caught); its 429 says
//! when to come back in `retry-after` (seconds), which X does not document
//! (the mock's choice, so that a client is not sent to the end of the
//! 15-minute window). Every answer counts, 400 and 401 included, except a
//! 429. [`Lifecycle::requests`] lists every request, 429s included, with
//! when it came.

use std::collections::{HashMap, HashSet, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use spaces::spec::Budget;
use spaces::{Provider, RateLimit, SpaceState};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::DEMO_TOKEN;
use crate::x_multi::{self, BATCH, BY_CREATOR};

// ---------------------------------------------------------------------------
// The clock

/// How far a [`Timeline`] has got: real time, real time at a speed, or a
/// manual clock a test advances (see the [module docs](self#time)). Cheap
/// to clone: clones share the clock.
#[derive(Clone, Debug)]
pub struct MockClock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    /// Time zero: set when the clock is made, or at its first use.
    origin: OnceLock<Origin>,
    /// A manual clock's fixed epoch, if it has one.
    fixed_epoch: Option<DateTime<Utc>>,
    /// `None`: a manual clock.
    speed: Option<f64>,
    /// What [`MockClock::advance`] added.
    advanced: Mutex<Duration>,
}

#[derive(Debug)]
struct Origin {
    /// The wall-clock second of time zero (what answers' timestamps count from).
    epoch: DateTime<Utc>,
    /// Time zero, for real elapsed time.
    started: Instant,
    /// Time zero on the wall clock, for `x-rate-limit-reset`.
    started_wall: SystemTime,
}

impl MockClock {
    /// Real time: one second of script per second.
    pub fn real() -> MockClock {
        MockClock::at_speed(1.0)
    }

    /// Real time times `speed`: at 10.0, ten seconds of script per second.
    ///
    /// # Panics
    ///
    /// When `speed` is not a finite number above 0.
    pub fn at_speed(speed: f64) -> MockClock {
        assert!(speed.is_finite() && speed > 0.0, "a clock's speed is a finite number above 0, not {speed}");
        MockClock::make(Some(speed), Utc::now())
    }

    /// A clock that stands still until [`advance`](Self::advance)d; its
    /// epoch is the wall-clock second it was made.
    pub fn manual() -> MockClock {
        MockClock::make(None, Utc::now())
    }

    /// A manual clock whose time zero is `epoch` (cut to the whole second),
    /// so that answers' timestamps are the same on every run.
    pub fn manual_from(epoch: DateTime<Utc>) -> MockClock {
        MockClock::make(None, epoch)
    }

    /// Real time times `speed`, from its first use: time zero is the first
    /// time anything asks the clock (a served request, usually), so a mock
    /// that waits for its first client plays the whole script to it.
    ///
    /// # Panics
    ///
    /// When `speed` is not a finite number above 0.
    pub fn at_speed_from_first_use(speed: f64) -> MockClock {
        assert!(speed.is_finite() && speed > 0.0, "a clock's speed is a finite number above 0, not {speed}");
        MockClock {
            inner: Arc::new(ClockInner {
                origin: OnceLock::new(),
                fixed_epoch: None,
                speed: Some(speed),
                advanced: Mutex::default(),
            }),
        }
    }

    fn make(speed: Option<f64>, epoch: DateTime<Utc>) -> MockClock {
        let clock = MockClock {
            inner: Arc::new(ClockInner {
                origin: OnceLock::new(),
                fixed_epoch: Some(epoch),
                speed,
                advanced: Mutex::default(),
            }),
        };
        clock.origin();
        clock
    }

    /// Time zero, set now if this is the clock's first use.
    fn origin(&self) -> &Origin {
        self.inner.origin.get_or_init(|| {
            let epoch = self.inner.fixed_epoch.unwrap_or_else(Utc::now);
            Origin {
                epoch: DateTime::from_timestamp(epoch.timestamp(), 0).unwrap_or(epoch),
                started: Instant::now(),
                started_wall: SystemTime::now(),
            }
        })
    }

    /// The speed of a real clock; `None` for a manual one.
    pub fn speed(&self) -> Option<f64> {
        self.inner.speed
    }

    fn advanced(&self) -> Duration {
        *self.inner.advanced.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How far the script has got: real time since time zero times the
    /// speed, plus every [`advance`](Self::advance); on a manual clock, only
    /// the advances.
    pub fn elapsed(&self) -> Duration {
        let advanced = self.advanced();
        match self.inner.speed {
            Some(speed) => self.origin().started.elapsed().mul_f64(speed) + advanced,
            None => advanced,
        }
    }

    /// Moves the script on by `by` (on a real clock, a jump ahead; time
    /// keeps running from there).
    pub fn advance(&self, by: Duration) {
        *self.inner.advanced.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }

    /// Moves the script on to `at`, if it is not there yet (a clock never
    /// goes back).
    pub fn advance_to(&self, at: Duration) {
        let mut advanced = self.inner.advanced.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = match self.inner.speed {
            Some(speed) => self.origin().started.elapsed().mul_f64(speed) + *advanced,
            None => *advanced,
        };
        *advanced += at.saturating_sub(elapsed);
    }

    /// The wall-clock second of time zero.
    pub fn epoch(&self) -> DateTime<Utc> {
        self.origin().epoch
    }

    /// The moment `at` after time zero, as answers give it (before the cut
    /// to the second).
    pub fn time_at(&self, at: Duration) -> DateTime<Utc> {
        chrono::Duration::from_std(at)
            .ok()
            .and_then(|at| self.origin().epoch.checked_add_signed(at))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The script's present moment: [`time_at`](Self::time_at)`(elapsed())`.
    pub fn now(&self) -> DateTime<Utc> {
        self.time_at(self.elapsed())
    }

    /// Budget time: real time since time zero times the speed (1 for a manual clock).
    pub fn budget_elapsed(&self) -> Duration {
        self.origin().started.elapsed().mul_f64(self.inner.speed.unwrap_or(1.0))
    }

    /// The real duration of `budget` of budget time.
    fn real_duration(&self, budget: Duration) -> Duration {
        budget.div_f64(self.inner.speed.unwrap_or(1.0))
    }

    /// The real Unix second (rounded up) at which budget time reaches `budget_at`.
    fn unix_seconds_at(&self, budget_at: Duration) -> u64 {
        let at = self.origin().started_wall + self.real_duration(budget_at);
        let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        since.as_secs() + u64::from(since.subsec_nanos() > 0)
    }
}

/// `time` as X writes timestamps: whole seconds, `.000Z`.
fn x_timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

// ---------------------------------------------------------------------------
// The script

/// A user of the script: a creator, a speaker, someone a watcher watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptedUser {
    /// X's user id (digits).
    pub id: String,
    /// The handle, without `@`.
    pub username: String,
    /// The display name.
    pub name: String,
}

/// Who is in a live Space at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audience {
    /// `participant_count`: listeners, hosts and speakers.
    pub participants: u32,
    /// `subscriber_count`: people who set a reminder.
    pub subscribers: u32,
    /// `speaker_ids`, in order (users the script does not know are sent
    /// as ids, without an include).
    pub speakers: Vec<String>,
}

impl Audience {
    /// An audience of `participants`, `subscribers` and these speakers.
    pub fn new(participants: u32, subscribers: u32, speakers: &[&str]) -> Audience {
        Audience { participants, subscribers, speakers: speakers.iter().map(|&id| id.to_owned()).collect() }
    }
}

/// What a Space becomes at one step of its script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Scheduled to start `starts` after time zero. Again after a
    /// `Scheduled` with another `starts`: rescheduled.
    Scheduled {
        /// `scheduled_start`, as an offset from time zero.
        starts: Duration,
        /// `subscriber_count`.
        subscribers: u32,
    },
    /// Live (started at its first `Live` step); a later `Live` step
    /// changes only the audience (a sample, not an event).
    Live(Audience),
    /// Over; looked up, `ended` with `ended_at`. Only after `Live`.
    Ended,
    /// Called off before it started; looked up, `canceled` with `ended_at`.
    /// Only after `Scheduled`.
    Canceled,
    /// Not found any more, whatever it was (the lookup's resource-not-found).
    Gone,
}

/// One step of a Space's script: from `at` on, the Space is `phase`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// When, as an offset from time zero.
    pub at: Duration,
    /// What it becomes.
    pub phase: Phase,
}

/// One Space's script: its creator, its title and its steps, in time order.
/// Before its first step the Space does not exist (not found).
///
/// ```
/// use std::time::Duration;
/// use spaces_mock::lifecycle::{Audience, SpaceScript};
///
/// let s = Duration::from_secs;
/// let space = SpaceScript::new("1LaunchParty1", "1790000000000000001", "Launch party")
///     .scheduled(s(0), s(30)) // announced at once, to start 30 s in
///     .scheduled(s(10), s(45)) // rescheduled
///     .live(s(46), Audience::new(10, 4, &["1790000000000000001"]))
///     .live(s(60), Audience::new(80, 4, &["1790000000000000001", "783214"])) // a sample
///     .ended(s(90));
/// assert_eq!(space.steps().len(), 5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpaceScript {
    id: String,
    creator: String,
    title: String,
    steps: Vec<Step>,
}

impl SpaceScript {
    /// A Space with no step yet. [`Timeline::space`] checks the script.
    pub fn new(id: impl Into<String>, creator: impl Into<String>, title: impl Into<String>) -> SpaceScript {
        SpaceScript { id: id.into(), creator: creator.into(), title: title.into(), steps: Vec::new() }
    }

    /// Adds a step: from `at` on, the Space is `phase`.
    pub fn then(mut self, at: Duration, phase: Phase) -> SpaceScript {
        self.steps.push(Step { at, phase });
        self
    }

    /// From `at` on, scheduled to start at `starts` (no subscribers).
    pub fn scheduled(self, at: Duration, starts: Duration) -> SpaceScript {
        self.then(at, Phase::Scheduled { starts, subscribers: 0 })
    }

    /// From `at` on, live with `audience`.
    pub fn live(self, at: Duration, audience: Audience) -> SpaceScript {
        self.then(at, Phase::Live(audience))
    }

    /// Ended at `at`.
    pub fn ended(self, at: Duration) -> SpaceScript {
        self.then(at, Phase::Ended)
    }

    /// Canceled at `at`.
    pub fn canceled(self, at: Duration) -> SpaceScript {
        self.then(at, Phase::Canceled)
    }

    /// Not found from `at` on.
    pub fn gone(self, at: Duration) -> SpaceScript {
        self.then(at, Phase::Gone)
    }

    /// The Space id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The creator's user id.
    pub fn creator(&self) -> &str {
        &self.creator
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The steps, in time order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Why the script cannot be played, if it cannot.
    fn problem(&self) -> Option<String> {
        let Some(first) = self.steps.first() else { return Some("it has no step".to_owned()) };
        if !matches!(first.phase, Phase::Scheduled { .. } | Phase::Live(_)) {
            return Some(format!("its first step is {:?}, not Scheduled or Live", first.phase));
        }
        for pair in self.steps.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            if after.at <= before.at {
                return Some(format!("its steps are not in time order ({:?} then {:?})", before.at, after.at));
            }
            let allowed = match (&before.phase, &after.phase) {
                (Phase::Scheduled { .. }, next) => !matches!(next, Phase::Ended),
                (Phase::Live(_), next) => matches!(next, Phase::Live(_) | Phase::Ended | Phase::Gone),
                (Phase::Ended | Phase::Canceled, next) => matches!(next, Phase::Gone),
                (Phase::Gone, _) => false,
            };
            if !allowed {
                return Some(format!("{:?} cannot follow {:?}", after.phase, before.phase));
            }
        }
        None
    }
}

/// A Space as the script has it at one moment (what an answer shows), from
/// [`Timeline::space_at`]. Times are offsets from time zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot<'a> {
    /// The Space's script.
    pub script: &'a SpaceScript,
    /// `scheduled`, `live`, `ended` or `canceled`.
    pub state: SpaceState,
    /// Its first step.
    pub created_at: Duration,
    /// Its latest step.
    pub updated_at: Duration,
    /// The latest `scheduled_start`, if it was ever scheduled.
    pub scheduled_start: Option<Duration>,
    /// Its first `Live` step.
    pub started_at: Option<Duration>,
    /// When it ended or was canceled.
    pub ended_at: Option<Duration>,
    /// `participant_count` (0 before it is live; the last audience's after).
    pub participants: u32,
    /// `subscriber_count`.
    pub subscribers: u32,
    /// `speaker_ids` (none before it is live; the last audience's after).
    pub speakers: &'a [String],
}

/// What a watcher records: the library's lifecycle events.
pub use spaces::watch::lifecycle::EventKind;

/// One lifecycle transition the script implies ([`Timeline::expected_events`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpectedEvent {
    /// The Space.
    pub space_id: String,
    /// Its creator.
    pub user_id: String,
    /// What happened.
    pub kind: EventKind,
    /// When, as an offset from time zero ([`MockClock::time_at`] gives the timestamp).
    pub at: Duration,
}

/// The script of a watch: users, and Spaces that each follow their steps.
///
/// Answers are computed from it at each request (nothing is rendered
/// ahead), so a timeline of 10,000 users costs a few megabytes.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    users: Vec<ScriptedUser>,
    user_index: HashMap<String, usize>,
    /// Per user (same index), the indices of the Spaces they created.
    created: Vec<Vec<usize>>,
    spaces: Vec<SpaceScript>,
    space_index: HashMap<String, usize>,
}

/// The user ids X accepts in `user_ids`: the spec's rules.
fn accepts_user_id(id: &str) -> bool {
    x_multi::param(BY_CREATOR, "user_ids").rules.accepts(id)
}

/// The Space ids X accepts: the lookup's `id` rules in the spec.
fn accepts_space_id(id: &str) -> bool {
    Provider::X.info().lookup.id_param().is_none_or(|param| param.rules.accepts(id))
}

impl Timeline {
    /// The demo's users: ada, bruno, chen, dana (see [`demo`](Self::demo)).
    pub const DEMO_USERS: [&'static str; 4] =
        ["1790000000000000001", "1790000000000000002", "1790000000000000003", "1790000000000000004"];

    /// A timeline with no user and no Space.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Adds a user.
    ///
    /// # Panics
    ///
    /// When X would refuse the id (1 to 19 digits, the spec's rule) or the
    /// script has it already.
    pub fn user(mut self, id: impl Into<String>, username: impl Into<String>, name: impl Into<String>) -> Timeline {
        let id = id.into();
        assert!(accepts_user_id(&id), "user id {id:?} is not one X accepts");
        assert!(!self.user_index.contains_key(&id), "user {id} is in the script twice");
        self.user_index.insert(id.clone(), self.users.len());
        self.users.push(ScriptedUser { id, username: username.into(), name: name.into() });
        self.created.push(Vec::new());
        self
    }

    /// Adds a Space.
    ///
    /// # Panics
    ///
    /// When X would refuse its id (the spec's pattern), the script has it
    /// already, its creator is not a user of the script, or its steps
    /// cannot be played: none; the first not `Scheduled` or `Live`; two not
    /// in strictly increasing time; a step that cannot follow the one
    /// before (`Ended` only after `Live`, `Canceled` only after `Scheduled`,
    /// nothing but `Gone` after those, nothing after `Gone`, never
    /// `Scheduled` again after `Live`).
    pub fn space(mut self, script: SpaceScript) -> Timeline {
        let id = script.id.clone();
        assert!(accepts_space_id(&id), "Space id {id:?} is not one X accepts");
        assert!(!self.space_index.contains_key(&id), "Space {id} is in the script twice");
        let Some(&creator) = self.user_index.get(&script.creator) else {
            panic!("Space {id}: its creator {} is not a user of the script (add it first)", script.creator)
        };
        if let Some(problem) = script.problem() {
            panic!("Space {id}: {problem}");
        }
        self.space_index.insert(id, self.spaces.len());
        self.created[creator].push(self.spaces.len());
        self.spaces.push(script);
        self
    }

    /// A short watch of four users ([`DEMO_USERS`](Self::DEMO_USERS)), over 18 s:
    ///
    /// | Space | creator | script |
    /// |---|---|---|
    /// | `1DemoLaunch01` | ada | scheduled at 0 for 4 s; live at 4 s (25 people); 80 people and a second speaker at 9 s; ended at 14 s |
    /// | `1DemoCancel01` | bruno | scheduled at 0 for 60 s; canceled at 6 s |
    /// | `1DemoResched1` | chen | scheduled at 0 for 8 s; rescheduled at 3 s for 12 s; live at 12 s; ended at 18 s |
    /// | `1DemoVanish01` | dana | live at 2 s (first seen live); gone at 10 s |
    pub fn demo() -> Timeline {
        let s = Duration::from_secs;
        let [ada, bruno, chen, dana] = Timeline::DEMO_USERS;
        Timeline::new()
            .user(ada, "ada_builds", "Ada Okafor")
            .user(bruno, "bruno_hours", "Bruno Costa")
            .user(chen, "chen_ships", "Chen Wei")
            .user(dana, "dana_radio", "Dana Levi")
            .space(
                SpaceScript::new("1DemoLaunch01", ada, "Launch day, live")
                    .then(s(0), Phase::Scheduled { starts: s(4), subscribers: 12 })
                    .live(s(4), Audience::new(25, 12, &[ada]))
                    .live(s(9), Audience::new(80, 12, &[ada, bruno]))
                    .ended(s(14)),
            )
            .space(
                SpaceScript::new("1DemoCancel01", bruno, "Weekly office hours")
                    .then(s(0), Phase::Scheduled { starts: s(60), subscribers: 3 })
                    .canceled(s(6)),
            )
            .space(
                SpaceScript::new("1DemoResched1", chen, "Release retro")
                    .scheduled(s(0), s(8))
                    .scheduled(s(3), s(12))
                    .live(s(12), Audience::new(9, 0, &[chen]))
                    .ended(s(18)),
            )
            .space(
                SpaceScript::new("1DemoVanish01", dana, "Late night radio")
                    .live(s(2), Audience::new(40, 0, &[dana]))
                    .gone(s(10)),
            )
    }

    /// `users` users with `spaces_per_user` Spaces each, for benchmarks:
    /// every lifecycle happens within `span` (at least 100 ms), spread over
    /// it the same way on every run. User `n` (from 0) is
    /// [`scaled_user_id`](Self::scaled_user_id)`(n)`, `@watched{n}`; Space
    /// `k` is `1S` and `k` in 11 digits. Of every ten Spaces, about five go
    /// scheduled → live (with a second sample) → ended, one is canceled,
    /// one rescheduled then live then ended, one first seen live then
    /// ended, one disappears while scheduled and one while live.
    ///
    /// # Panics
    ///
    /// With 10^11 Spaces or more (the ids would not fit 13 characters).
    pub fn scaled(users: usize, spaces_per_user: usize, span: Duration) -> Timeline {
        let total = users.saturating_mul(spaces_per_user);
        assert!(total < 100_000_000_000, "{total} Spaces do not fit 13-character ids");
        let span_ms = u64::try_from(span.as_millis()).unwrap_or(u64::MAX).max(100);
        let ms = Duration::from_millis;
        let mut timeline = Timeline {
            users: Vec::with_capacity(users),
            user_index: HashMap::with_capacity(users),
            created: Vec::with_capacity(users),
            spaces: Vec::with_capacity(total),
            space_index: HashMap::with_capacity(total),
        };
        for n in 0..users {
            timeline = timeline.user(Timeline::scaled_user_id(n), format!("watched{n}"), format!("Watched user {n}"));
        }
        for n in 0..users {
            let creator = Timeline::scaled_user_id(n);
            let other = Timeline::scaled_user_id((n + 1) % users);
            for j in 0..spaces_per_user {
                let k = n * spaces_per_user + j;
                let mut random = SplitMix(k as u64);
                let appear = random.below(span_ms * 4 / 10);
                let lead = span_ms / 10 + random.below(span_ms / 10);
                let length = span_ms / 10 + random.below(span_ms / 5);
                let kind = random.below(10);
                let mut count = |below: u64| u32::try_from(random.below(below)).unwrap_or(0);
                let opening =
                    Audience { participants: 1 + count(500), subscribers: count(50), speakers: vec![creator.clone()] };
                let audience = |sample: u32| match sample {
                    0 => opening.clone(),
                    _ => Audience {
                        participants: opening.participants * 3,
                        speakers: vec![creator.clone(), other.clone()],
                        ..opening.clone()
                    },
                };
                let script = SpaceScript::new(format!("1S{k:011}"), creator.clone(), format!("Scaled Space {k}"));
                let (start, end) = (appear + lead, appear + lead + length);
                let script = match kind {
                    0..=4 => script
                        .scheduled(ms(appear), ms(start))
                        .live(ms(start), audience(0))
                        .live(ms(start + length / 2), audience(1))
                        .ended(ms(end)),
                    5 => script.scheduled(ms(appear), ms(start)).canceled(ms(appear + lead / 2)),
                    6 => script
                        .scheduled(ms(appear), ms(appear + lead / 2))
                        .scheduled(ms(appear + lead / 4), ms(start))
                        .live(ms(start), audience(0))
                        .ended(ms(end)),
                    7 => script
                        .live(ms(appear), audience(0))
                        .live(ms(appear + length / 2), audience(1))
                        .ended(ms(appear + length)),
                    8 => script.scheduled(ms(appear), ms(start)).gone(ms(appear + lead / 2)),
                    _ => script.live(ms(appear), audience(0)).gone(ms(appear + length)),
                };
                timeline = timeline.space(script);
            }
        }
        timeline
    }

    /// The id of user `n` of [`scaled`](Self::scaled): 1,000,000,000,000 + `n`.
    pub fn scaled_user_id(n: usize) -> String {
        (1_000_000_000_000_u64 + n as u64).to_string()
    }

    /// The users, in the order they were added.
    pub fn users(&self) -> &[ScriptedUser] {
        &self.users
    }

    /// The user with this id.
    pub fn find_user(&self, id: &str) -> Option<&ScriptedUser> {
        self.user_index.get(id).map(|&index| &self.users[index])
    }

    /// The Spaces, in the order they were added.
    pub fn spaces(&self) -> &[SpaceScript] {
        &self.spaces
    }

    /// The Space with this id.
    pub fn find_space(&self, id: &str) -> Option<&SpaceScript> {
        self.space_index.get(id).map(|&index| &self.spaces[index])
    }

    /// The Spaces `user_id` created, in script order.
    pub fn spaces_of(&self, user_id: &str) -> impl Iterator<Item = &SpaceScript> {
        let created = self.user_index.get(user_id).map(|&index| self.created[index].as_slice()).unwrap_or_default();
        created.iter().map(|&index| &self.spaces[index])
    }

    /// The last step of any Space: from then on nothing changes.
    pub fn last_change(&self) -> Duration {
        self.spaces.iter().filter_map(|space| space.steps.last()).map(|step| step.at).max().unwrap_or_default()
    }

    /// The Space `id` as it is `at` after time zero; `None` when the script
    /// does not know it, it does not exist yet, or it is gone.
    pub fn space_at(&self, id: &str, at: Duration) -> Option<Snapshot<'_>> {
        snapshot(self.find_space(id)?, at)
    }

    /// Every transition a perfect watcher (one that saw every answer at every
    /// moment) records by `until` (inclusive), in time order (script order
    /// within the same moment): first seen `Scheduled` or `Started`;
    /// `Rescheduled` when `scheduled_start` changes; `Started` when a
    /// scheduled Space goes live; `Ended`, `Canceled`; `Gone` when a
    /// scheduled or live Space stops being found. A Space that ended or was
    /// canceled has nothing after that (it disappearing later is not an
    /// event: the watcher has confirmed it already). Audience changes are
    /// samples, not events.
    pub fn expected_events(&self, until: Duration) -> Vec<ExpectedEvent> {
        let mut events: Vec<(usize, ExpectedEvent)> = Vec::new();
        for (index, space) in self.spaces.iter().enumerate() {
            let mut before: Option<&Phase> = None;
            for step in space.steps.iter().take_while(|step| step.at <= until) {
                let kind = match (before, &step.phase) {
                    (None, Phase::Scheduled { .. }) => Some(EventKind::Scheduled),
                    (Some(Phase::Scheduled { starts: was, .. }), Phase::Scheduled { starts, .. }) => {
                        (was != starts).then_some(EventKind::Rescheduled)
                    }
                    (None | Some(Phase::Scheduled { .. }), Phase::Live(_)) => Some(EventKind::Started),
                    (Some(Phase::Live(_)), Phase::Ended) => Some(EventKind::Ended),
                    (Some(Phase::Scheduled { .. }), Phase::Canceled) => Some(EventKind::Canceled),
                    (Some(Phase::Scheduled { .. } | Phase::Live(_)), Phase::Gone) => Some(EventKind::Gone),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let event =
                        ExpectedEvent { space_id: space.id.clone(), user_id: space.creator.clone(), kind, at: step.at };
                    events.push((index, event));
                }
                before = Some(&step.phase);
            }
        }
        events.sort_by_key(|(index, event)| (event.at, *index));
        events.into_iter().map(|(_, event)| event).collect()
    }
}

/// `space` as it is `at` (see [`Timeline::space_at`]).
fn snapshot(space: &SpaceScript, at: Duration) -> Option<Snapshot<'_>> {
    let first = space.steps.first().filter(|first| first.at <= at)?;
    let mut snap = Snapshot {
        script: space,
        state: SpaceState::Scheduled,
        created_at: first.at,
        updated_at: first.at,
        scheduled_start: None,
        started_at: None,
        ended_at: None,
        participants: 0,
        subscribers: 0,
        speakers: &[],
    };
    for step in space.steps.iter().take_while(|step| step.at <= at) {
        snap.updated_at = step.at;
        match &step.phase {
            Phase::Scheduled { starts, subscribers } => {
                snap.state = SpaceState::Scheduled;
                snap.scheduled_start = Some(*starts);
                snap.subscribers = *subscribers;
            }
            Phase::Live(audience) => {
                snap.state = SpaceState::Live;
                snap.started_at = snap.started_at.or(Some(step.at));
                snap.participants = audience.participants;
                snap.subscribers = audience.subscribers;
                snap.speakers = &audience.speakers;
            }
            Phase::Ended => {
                snap.state = SpaceState::Ended;
                snap.ended_at = Some(step.at);
            }
            Phase::Canceled => {
                snap.state = SpaceState::Canceled;
                snap.ended_at = Some(step.at);
            }
            Phase::Gone => return None,
        }
    }
    Some(snap)
}

/// A small deterministic generator (SplitMix64), so that a scaled timeline
/// is the same on every run without a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next().checked_rem(bound).unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------
// The budget

/// The request budgets the lifecycle keeps for X (see the [module docs](self#budget)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XBudget {
    /// Each endpoint's window (X: 300 requests per 15 minutes), with the
    /// `x-rate-limit-*` headers.
    pub per_endpoint: RateLimit,
    /// Further budgets of single operations, by `operationId` (X: 1 request
    /// per second on [`BY_CREATOR`]).
    pub per_operation: Vec<(&'static str, RateLimit)>,
}

impl XBudget {
    /// X's documented budgets, as the library states them
    /// ([`spaces::spec::ProviderInfo::budgets`]).
    pub fn documented() -> XBudget {
        let mut budget = XBudget { per_endpoint: crate::rate_limit::budget(), per_operation: Vec::new() };
        for documented in Provider::X.info().budgets {
            if let Budget::Operation(operation_id, limit) = *documented {
                budget.per_operation.push((operation_id, limit));
            }
        }
        budget
    }

    /// `requests` per `per` on each endpoint, and no budget of a single operation.
    ///
    /// # Panics
    ///
    /// When `requests` is 0 or `per` is zero.
    pub fn per_endpoint(requests: u32, per: Duration) -> XBudget {
        let requests = NonZeroU32::new(requests).expect("a budget allows at least one request");
        assert!(!per.is_zero(), "a budget's window is longer than zero");
        XBudget { per_endpoint: RateLimit { requests, per }, per_operation: Vec::new() }
    }

    /// Every window `factor` times shorter: `XBudget::documented().faster(60.0)`
    /// is 300 requests per 15 s on each endpoint and 60 per second on by-creator.
    ///
    /// # Panics
    ///
    /// When `factor` is not a finite number above 0.
    pub fn faster(mut self, factor: f64) -> XBudget {
        assert!(factor.is_finite() && factor > 0.0, "a factor is a finite number above 0, not {factor}");
        let shorter =
            |limit: RateLimit| RateLimit { per: limit.per.div_f64(factor).max(Duration::from_nanos(1)), ..limit };
        self.per_endpoint = shorter(self.per_endpoint);
        for (_, limit) in &mut self.per_operation {
            *limit = shorter(*limit);
        }
        self
    }
}

impl Default for XBudget {
    fn default() -> XBudget {
        XBudget::documented()
    }
}

/// How much sooner than its window a request of an operation budget may
/// come (a quarter: with 1 per second, 0.75 s after the one before). A
/// client spaces its requests when it sends them; on a loaded machine one
/// may be answered late and the next on time, and that is no overrun.
const OPERATION_SLACK: f64 = 0.25;

/// One request the lifecycle answered ([`Lifecycle::requests`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// The endpoint: [`BY_CREATOR`] or [`BATCH`].
    pub operation_id: &'static str,
    /// The status answered (429 when the budget refused it).
    pub status: u16,
    /// Script time (the clock's [`elapsed`](MockClock::elapsed)) when it came.
    pub at: Duration,
    /// Budget time ([`MockClock::budget_elapsed`]) when it came.
    pub budget_at: Duration,
}

/// What the lifecycle counted: per endpoint, the window it counts in and
/// how many it counted there; per operation budget, the budget times of
/// its latest requests; and every request.
#[derive(Debug, Default)]
struct Ledger {
    windows: HashMap<&'static str, (u128, u32)>,
    /// Per operation budget (its index in [`XBudget::per_operation`]).
    recent: HashMap<usize, VecDeque<Duration>>,
    requests: Vec<RequestRecord>,
}

/// What the budget says about one request.
enum Verdict {
    /// Counted: the remaining requests and the reset (Unix seconds).
    Counted { remaining: u32, reset: u64 },
    /// Refused: the window's remaining requests and reset, and `retry-after`
    /// seconds when an operation's budget refused it.
    Refused { remaining: u32, reset: u64, retry_after: Option<u64> },
}

// ---------------------------------------------------------------------------
// Serving

/// A [`Timeline`] served on X's by-creator and batch lookup endpoints, on a
/// [`MockClock`], within an [`XBudget`] (see the [module docs](self)).
/// Cheap to clone: clones share the clock and the counts.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    timeline: Arc<Timeline>,
    clock: MockClock,
    budget: Arc<XBudget>,
    ledger: Arc<Mutex<Ledger>>,
}

impl Lifecycle {
    /// `timeline` on a real clock that starts now, within X's documented budget.
    pub fn new(timeline: Timeline) -> Lifecycle {
        Lifecycle {
            timeline: Arc::new(timeline),
            clock: MockClock::real(),
            budget: Arc::new(XBudget::documented()),
            ledger: Arc::default(),
        }
    }

    /// The same lifecycle on `clock` (time zero is when `clock` was made).
    pub fn with_clock(mut self, clock: MockClock) -> Lifecycle {
        self.clock = clock;
        self
    }

    /// The same lifecycle on a clock that starts now at `speed` ([`MockClock::at_speed`]).
    pub fn at_speed(self, speed: f64) -> Lifecycle {
        self.with_clock(MockClock::at_speed(speed))
    }

    /// The same lifecycle within `budget`.
    pub fn with_budget(mut self, budget: XBudget) -> Lifecycle {
        self.budget = Arc::new(budget);
        self
    }

    /// The script.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The clock.
    pub fn clock(&self) -> &MockClock {
        &self.clock
    }

    /// The budget.
    pub fn budget(&self) -> &XBudget {
        &self.budget
    }

    /// Mounts both endpoints on `server` at priority 1, taking them over
    /// (on [`MockProviders::server`](crate::MockProviders::server) too: the
    /// recorded answers there wait at priority 2).
    pub async fn mount(&self, server: &MockServer) {
        self.mount_under(server, "").await;
    }

    /// Mounts both endpoints on `server` under `prefix` (`/watch`: X's API
    /// root for the lifecycle is then `{server}/watch`), beside what else
    /// the server serves for X at its own root.
    pub async fn mount_under(&self, server: &MockServer, prefix: &str) {
        for operation_id in [BY_CREATOR, BATCH] {
            x_multi::operation_endpoint_under(prefix, operation_id)
                .respond_with(Serve { lifecycle: self.clone(), operation_id })
                .with_priority(1)
                .mount(server)
                .await;
        }
    }

    /// A fresh server on 127.0.0.1 (a random free port) with both endpoints
    /// mounted; its `uri()` is the base URL to give a client for X. It keeps
    /// no server-wide log of the requests it receives:
    /// [`requests`](Self::requests) says what came. (wiremock 0.6.5 still
    /// keeps each request with the mock that matched it, so a long run grows
    /// by about a request's size per request.) For wiremock's own record,
    /// [`mount`](Self::mount) on a server of yours.
    pub async fn start(&self) -> MockServer {
        let server = MockServer::builder().disable_request_recording().start().await;
        self.mount(&server).await;
        server
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every request answered so far, in the order they were answered.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.ledger().requests.clone()
    }

    /// How many requests of `operation_id` (429s included: what a client
    /// sent) came within one `window` of budget time, at most: "requests per
    /// 15 minutes" for a benchmark, to compare with the budget.
    pub fn busiest_window(&self, operation_id: &str, window: Duration) -> usize {
        let mut times: Vec<Duration> = self
            .ledger()
            .requests
            .iter()
            .filter(|request| request.operation_id == operation_id)
            .map(|request| request.budget_at)
            .collect();
        times.sort_unstable();
        let mut busiest = 0;
        let mut first = 0;
        for (last, &at) in times.iter().enumerate() {
            while first <= last && at - times[first] >= window {
                first += 1;
            }
            busiest = busiest.max(last + 1 - first);
        }
        busiest
    }

    /// Counts a request of `operation_id` at budget time `now`, or refuses it.
    fn judge(&self, ledger: &mut Ledger, operation_id: &'static str, now: Duration) -> Verdict {
        let RateLimit { requests, per } = self.budget.per_endpoint;
        let window_limit = requests.get();
        let per_nanos = per.as_nanos().max(1);
        let window = now.as_nanos() / per_nanos;
        let window_end = Duration::from_nanos(u64::try_from((window + 1) * per_nanos).unwrap_or(u64::MAX));
        let reset = self.clock.unix_seconds_at(window_end);
        let counted = ledger.windows.entry(operation_id).or_insert((window, 0));
        if counted.0 != window {
            *counted = (window, 0);
        }
        let used = counted.1;
        if used >= window_limit {
            return Verdict::Refused { remaining: 0, reset, retry_after: None };
        }
        // The operation's own budgets, each a sliding window with slack.
        let budgets = || {
            let all = self.budget.per_operation.iter().enumerate();
            all.filter(move |(_, (id, _))| *id == operation_id).map(|(index, &(_, limit))| (index, limit))
        };
        for (index, limit) in budgets() {
            let recent = ledger.recent.entry(index).or_default();
            let span = limit.per.mul_f64(1.0 - OPERATION_SLACK);
            while recent.front().is_some_and(|&earlier| now.saturating_sub(earlier) >= span) {
                recent.pop_front();
            }
            if recent.len() >= usize::try_from(limit.requests.get()).unwrap_or(usize::MAX) {
                let free_at = recent.front().map_or(now, |&earliest| earliest + span);
                let wait = self.clock.real_duration(free_at.saturating_sub(now));
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                // Not counted: the window's remaining stays what it was.
                return Verdict::Refused { remaining: window_limit - used, reset, retry_after: Some(seconds.max(1)) };
            }
        }
        for (index, _) in budgets() {
            ledger.recent.entry(index).or_default().push_back(now);
        }
        if let Some(counted) = ledger.windows.get_mut(operation_id) {
            counted.1 = used + 1;
        }
        Verdict::Counted { remaining: window_limit - used - 1, reset }
    }

    /// The whole answer to one request of `operation_id`, recorded.
    fn answer(&self, operation_id: &'static str, request: &Request) -> ResponseTemplate {
        let at = self.clock.elapsed();
        let budget_at = self.clock.budget_elapsed();
        let verdict = self.judge(&mut self.ledger(), operation_id, budget_at);
        let limit = self.budget.per_endpoint.requests.get();
        let (status, response) = match verdict {
            Verdict::Refused { remaining, reset, retry_after } => {
                let example = x_multi::operation(operation_id)
                    .example("rate_limited")
                    .expect("specs/x.yaml's shared error response has `rate_limited`");
                let status = example.status(429).unwrap_or(429);
                let response = rate_headers(crate::json(status, example.body), limit, remaining, reset);
                let response = match retry_after {
                    Some(seconds) => response.insert_header("retry-after", seconds.to_string().as_str()),
                    None => response,
                };
                (status, response)
            }
            Verdict::Counted { remaining, reset } => {
                let (status, response) = self.body(operation_id, request, at);
                (status, rate_headers(response, limit, remaining, reset))
            }
        };
        self.ledger().requests.push(RequestRecord { operation_id, status, at, budget_at });
        response
    }

    /// The answer the budget let through, and its status: 401, 400 or the script's 200.
    fn body(&self, operation_id: &'static str, request: &Request, at: Duration) -> (u16, ResponseTemplate) {
        if !has_demo_token(request) {
            // The spec's `unauthorized` example, declared under 401.
            return (401, crate::unauthorized(Provider::X));
        }
        let ids = match x_multi::id_list(request, operation_id) {
            Ok(ids) => ids,
            // The spec's `invalid_request` example, declared under 400.
            Err(bad_request) => return (400, *bad_request),
        };
        let fields = Fields::from_request(request);
        let ids = ids.iter().map(String::as_str);
        let body = if operation_id == BATCH {
            batch_body(&self.timeline, &self.clock, at, ids, &fields)
        } else {
            by_creator_body(&self.timeline, &self.clock, at, ids, &fields)
        };
        (200, crate::json(200, &body.to_string()))
    }
}

fn has_demo_token(request: &Request) -> bool {
    let expected = format!("Bearer {DEMO_TOKEN}");
    request.headers.get("authorization").and_then(|value| value.to_str().ok()) == Some(expected.as_str())
}

fn rate_headers(response: ResponseTemplate, limit: u32, remaining: u32, reset: u64) -> ResponseTemplate {
    response
        .insert_header("x-rate-limit-limit", limit.to_string().as_str())
        .insert_header("x-rate-limit-remaining", remaining.to_string().as_str())
        .insert_header("x-rate-limit-reset", reset.to_string().as_str())
}

/// The responder of one endpoint.
struct Serve {
    lifecycle: Lifecycle,
    operation_id: &'static str,
}

impl Respond for Serve {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.lifecycle.answer(self.operation_id, request)
    }
}

/// What a request asks for: `space.fields` (`None`: X's default, `id` and
/// `state`) and the id fields `expansions` names.
struct Fields {
    space: Option<HashSet<String>>,
    expansions: HashSet<String>,
}

impl Fields {
    fn from_request(request: &Request) -> Fields {
        let list = |name: &str| x_multi::query_list(request, name);
        let asked = request.url.query_pairs().any(|(key, _)| key == "space.fields");
        Fields {
            space: asked.then(|| list("space.fields").into_iter().collect()),
            expansions: list("expansions").into_iter().collect(),
        }
    }

    fn wants(&self, field: &str) -> bool {
        matches!(field, "id" | "state") || self.space.as_ref().is_some_and(|fields| fields.contains(field))
    }
}

/// One Space of an answer: the requested fields that have a value, in the
/// order X's examples use.
fn render(snap: &Snapshot<'_>, clock: &MockClock, fields: &Fields) -> Value {
    let space = snap.script;
    let time = |at: Duration| Value::String(x_timestamp(clock.time_at(at)));
    let ids = |ids: &[String]| Value::Array(ids.iter().map(|id| Value::String(id.clone())).collect());
    let mut map = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value.filter(|_| fields.wants(name)) {
            map.insert(name.to_owned(), value);
        }
    };
    put("id", Some(json!(space.id)));
    // The normalized names of these four states are X's words.
    put("state", Some(json!(snap.state.as_str())));
    put("title", Some(json!(space.title)));
    put("lang", Some(json!("en")));
    put("created_at", Some(time(snap.created_at)));
    put("scheduled_start", snap.scheduled_start.map(time));
    put("started_at", snap.started_at.map(time));
    put("ended_at", snap.ended_at.map(time));
    put("updated_at", Some(time(snap.updated_at)));
    put("creator_id", Some(json!(space.creator)));
    put("host_ids", Some(ids(std::slice::from_ref(&space.creator))));
    put("speaker_ids", (!snap.speakers.is_empty()).then(|| ids(snap.speakers)));
    put("is_ticketed", Some(json!(false)));
    put("participant_count", Some(json!(snap.participants)));
    put("subscriber_count", Some(json!(snap.subscribers)));
    Value::Object(map)
}

/// `includes.users` for `spaces`: the known users their expanded id fields
/// name, each once, in order; `None` when there is none.
fn includes(timeline: &Timeline, spaces: &[Snapshot<'_>], fields: &Fields) -> Option<Value> {
    let mut seen = HashSet::new();
    let mut users = Vec::new();
    for snap in spaces {
        let creator = std::slice::from_ref(&snap.script.creator);
        let named = [("creator_id", creator), ("host_ids", creator), ("speaker_ids", snap.speakers)];
        for (expansion, ids) in named {
            if !fields.expansions.contains(expansion) {
                continue;
            }
            for id in ids {
                if let Some(user) = timeline.find_user(id).filter(|_| seen.insert(id.as_str())) {
                    users.push(json!({ "id": user.id, "name": user.name, "username": user.username }));
                }
            }
        }
    }
    (!users.is_empty()).then(|| json!({ "users": users }))
}

/// The by-creator body for `user_ids` at script time `at` (see the module docs).
fn by_creator_body<'a>(
    timeline: &Timeline,
    clock: &MockClock,
    at: Duration,
    user_ids: impl Iterator<Item = &'a str>,
    fields: &Fields,
) -> Value {
    let spaces: Vec<Snapshot<'_>> = user_ids
        .flat_map(|user| timeline.spaces_of(user))
        .filter_map(|space| snapshot(space, at))
        .filter(|snap| matches!(snap.state, SpaceState::Scheduled | SpaceState::Live))
        .collect();
    let mut body = Map::new();
    if !spaces.is_empty() {
        body.insert("data".to_owned(), spaces.iter().map(|snap| render(snap, clock, fields)).collect());
    }
    if let Some(includes) = includes(timeline, &spaces, fields) {
        body.insert("includes".to_owned(), includes);
    }
    body.insert("meta".to_owned(), json!({ "result_count": spaces.len() }));
    Value::Object(body)
}

/// The batch body for `ids` at script time `at` (see the module docs).
fn batch_body<'a>(
    timeline: &Timeline,
    clock: &MockClock,
    at: Duration,
    ids: impl Iterator<Item = &'a str>,
    fields: &Fields,
) -> Value {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for id in ids.filter(|id| seen.insert(*id)) {
        match timeline.space_at(id, at) {
            Some(snap) => found.push(snap),
            None => errors.push(x_multi::not_found_problem(id)),
        }
    }
    let mut body = Map::new();
    if !found.is_empty() {
        body.insert("data".to_owned(), found.iter().map(|snap| render(snap, clock, fields)).collect());
    }
    if !errors.is_empty() {
        body.insert("errors".to_owned(), Value::Array(errors));
    }
    if let Some(includes) = includes(timeline, &found, fields) {
        body.insert("includes".to_owned(), includes);
    }
    Value::Object(body)
}
