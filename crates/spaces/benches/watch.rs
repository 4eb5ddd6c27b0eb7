//! The watch mode at scale: the requests a [`Watcher`] sends and how soon
//! it reports what happened, for 10, 1,000 and 10,000 watched users against
//! the mock's scripted lifecycle; and what its SQLite store commits per
//! second, against bare rusqlite doing the same inserts.
//!
//! ```sh
//! cargo bench -p spaces --bench watch
//! SPACES_BENCH_WATCH_USERS=10000 cargo bench -p spaces --bench watch   # one size (and the store)
//! SPACES_BENCH_WATCH_SPEED=100 cargo bench -p spaces --bench watch   # a slower clock, for a loaded machine (longer)
//! SPACES_BENCH_WATCH_POLLS=500 cargo bench -p spaces --bench watch     # fewer store polls (default 2,000)
//! ```
//!
//! **Requests and latency.** For each size, this process serves a
//! `spaces_mock::lifecycle::Timeline::scaled` script (10 users with 5
//! Spaces each, or one Space per user) at a clock speed-up (at most
//! `SPACES_BENCH_WATCH_SPEED`, default 200, so that a cycle is never under
//! 50 ms of real time), within X's budget of 300 requests per 15 minutes
//! per endpoint, scaled with the clock (not X's 1 per second on
//! by-creator: see `watch_size`); a child process (this binary again) runs the watcher, paced to
//! the same budget scaled the same way, so that its peak memory is its own
//! (wiremock keeps every request it matched). The script is stretched so
//! that two transitions of one Space are always at least 1.2 cycles apart
//! (a watcher that polls each user once a cycle can see each of them), and
//! the watcher runs until two cycles after its last change. Each run
//! checks, and fails loudly otherwise:
//! - every event the script implies was emitted exactly once (and nothing
//!   else), and the store holds the same events;
//! - no request was refused (429) and no problem was reported;
//! - the busiest 15 minutes (budget time, sliding) of
//!   `GET /2/spaces/by/creator_ids` hold between 95 % and 100 % of the
//!   budget, and a cycle is ⌈N/100⌉ requests;
//! - each event came from the first poll of its user's 100 after the
//!   script made the change (for an end, a cancelation or a
//!   disappearance: the first poll that no longer listed it, then the
//!   lookup that confirmed it): "within one cycle", whatever the speed.
//!
//! Latency is given in cycles of the budget-optimal interval (one request
//! per pace for each 100 users): from the change to the arrival of that
//! poll at the mock. On a fast clock the gap between two polls of the same
//! users can exceed a cycle by a few milliseconds of real time (a late
//! tick), which is `speed` times more in script time; the count of events
//! over one cycle says how often. The time from that poll to the event
//! handed to the caller (the answer, any lookup, decoding, the commit) is
//! given apart, in real milliseconds, for the same reason. Memory is the
//! child's resident set after opening the watcher, at the middle of the
//! watch, and its peak (`VmHWM`).
//!
//! **The store.** `Store::commit` of polls like a watcher's (the Spaces of
//! 100 users from the same mock, at the middle of a scaled script):
//! upserts and samples (a steady poll), then upserts and an event per
//! Space (every Space changing), against bare rusqlite with the same
//! schema, pragmas and rows in one transaction per poll (its JSON and
//! timestamps made beforehand: the floor). The store's size per million
//! samples is extrapolated from the growth between two sizes.

use std::collections::HashMap;
use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use spaces::watch::lifecycle::{EventKind, Known, Phase};
use spaces::watch::{Event, Happening, Poll, Sample, Store, Tracked, WatchOptions, Watcher};
use spaces::{Client, Provider, RateLimit, Space, SpaceState, Token};
use spaces_mock::DEMO_TOKEN;
use spaces_mock::lifecycle::{Lifecycle, MockClock, Timeline, XBudget};
use spaces_mock::x_multi::{BATCH, BY_CREATOR};

/// X's documented budget for each Space endpoint.
const X_REQUESTS: u32 = 300;
const X_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Users per by-creator request.
const PER_REQUEST: usize = 100;
/// The least real time of a cycle: timer jitter stays small against it.
const LEAST_CYCLE: Duration = Duration::from_millis(50);
const SIZES: [usize; 3] = [10, 1_000, 10_000];

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("spaces-bench-watch-{}-{name}", std::process::id()))
}

fn remove_store(path: &Path) {
    for file in Store::files(path) {
        let _ = std::fs::remove_file(file);
    }
}

/// The store's bytes on disk: the file and its write-ahead log.
fn store_bytes(path: &Path) -> u64 {
    let [database, wal, ..] = Store::files(path);
    [database, wal].iter().map(|file| std::fs::metadata(file).map_or(0, |m| m.len())).sum()
}

/// A `/proc/self/status` figure (`VmRSS`, `VmHWM`), in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

// ---------------------------------------------------------------------------
// Requests and latency: one size, in a child process

/// The pace the watcher keeps to a budget of 300 requests per `per`: one
/// request of headroom per window (as `Watcher::pace` says).
fn pace_of(per: Duration) -> Duration {
    per / (X_REQUESTS - 1)
}

/// One size's cycle and clock, the same in the parent and the child.
struct Plan {
    requests_per_cycle: usize,
    /// A cycle, in script time.
    cycle: Duration,
    speed: f64,
}

impl Plan {
    fn new(users: usize, most_speed: f64) -> Plan {
        let requests_per_cycle = users.div_ceil(PER_REQUEST);
        let cycle = pace_of(X_WINDOW) * u32::try_from(requests_per_cycle).expect("small");
        let speed = most_speed.min(cycle.as_secs_f64() / LEAST_CYCLE.as_secs_f64());
        Plan { requests_per_cycle, cycle, speed }
    }

    /// The script (built in the parent only: in the child it would count
    /// as the watcher's memory).
    fn timeline(&self, users: usize) -> Timeline {
        let per_user = if users < 100 { 5 } else { 1 };
        // The scaled script's closest transitions of one Space are span / 40
        // apart: 1.2 cycles at least; and at least one full window of polling.
        let span = self.cycle.mul_f64(48.0).max(Duration::from_secs(1_100));
        Timeline::scaled(users, per_user, span)
    }
}

/// The watcher's side, in a process of its own (its memory is its own: the
/// mock, in the parent, keeps every request it matched): watches the
/// parent's mock until two cycles after the script's last change, checks
/// its store, and prints one `WATCH-RESULT {json}` line.
fn watch_child(users: usize, most_speed: f64) {
    let plan = Plan::new(users, most_speed);
    let speed = plan.speed;
    // Two cycles after the script's last change, in script time.
    let until: u64 = std::env::var("SPACES_BENCH_WATCH_UNTIL").expect("the end").parse().expect("nanoseconds");
    let until = Duration::from_nanos(until);
    let uri = std::env::var("SPACES_BENCH_WATCH_URI").expect("the mock's address");
    let zero_ns: i64 = std::env::var("SPACES_BENCH_WATCH_ZERO").expect("time zero").parse().expect("nanoseconds");
    let wall_zero = DateTime::from_timestamp_nanos(zero_ns);
    // Script time, from the wall clock (the parent's mock clock started at `wall_zero`).
    let script = |at: DateTime<Utc>| (at - wall_zero).to_std().expect("after time zero").mul_f64(speed);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let client = Client::builder(Provider::X).token(Token::new(DEMO_TOKEN)).base_url(uri).build().expect("a client");
    let store = temp_path(&format!("watch-{users}.db"));
    remove_store(&store);
    let real_window = X_WINDOW.div_f64(speed);
    let budget = RateLimit { requests: NonZeroU32::new(X_REQUESTS).expect("non-zero"), per: real_window };
    let user_ids: Vec<String> = (0..users).map(Timeline::scaled_user_id).collect();
    let mut watcher =
        Watcher::open(client, &store, user_ids, WatchOptions::default().budget(budget)).expect("a watcher");
    assert_eq!(watcher.pace(), pace_of(real_window), "{users} users: the pace of X's budget");
    assert_eq!(
        watcher.cycle(),
        watcher.pace() * u32::try_from(plan.requests_per_cycle).expect("small"),
        "{users} users: a cycle is ⌈N/100⌉ requests"
    );
    let rss_before = status_mib("VmRSS:");

    // Each event as emitted, without its Space, one JSON line each in the
    // parent's file (not kept here: this process's memory is the
    // watcher's): [seq, kind, Space, user, observed (its answer came),
    // emitted (handed over)], in script seconds.
    let events = std::env::var("SPACES_BENCH_WATCH_EVENTS").expect("the events file");
    let mut lines = std::io::BufWriter::new(std::fs::File::create(events).expect("the events file"));
    let mut seqs: Vec<u64> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    // The resident memory at the middle of the watch (against the peak: flat or growing).
    let run_real = until.saturating_sub(script(Utc::now())).div_f64(speed);
    let mid = std::thread::spawn(move || {
        std::thread::sleep(run_real / 2);
        status_mib("VmRSS:")
    });
    let started = Instant::now();
    let _entered = runtime.enter();
    let stop = tokio::time::sleep(run_real);
    runtime
        .block_on(watcher.run(stop, |happening| match happening {
            Happening::Event(event) => {
                let line = json!([
                    event.seq,
                    event.kind.as_str(),
                    event.space_id,
                    event.user_id,
                    script(event.at).as_secs_f64(),
                    script(Utc::now()).as_secs_f64(),
                ]);
                writeln!(lines, "{line}").expect("write an event");
                seqs.push(event.seq);
            }
            Happening::Problem(error) => problems.push(error.to_string()),
            _ => {}
        }))
        .expect("the watch runs");
    let wall = started.elapsed();
    let rss_peak = status_mib("VmHWM:");
    let rss_mid = mid.join().expect("the sampler");
    assert!(problems.is_empty(), "{users} users: problems reported: {:?}", &problems[..problems.len().min(5)]);
    // Read a page at a time: only the sequence numbers are kept.
    let stored: Vec<u64> = watcher.store().event_rows(0).map(|event| event.expect("a stored event").seq).collect();
    lines.flush().expect("write the events");
    assert_eq!(stored, seqs, "{users} users: what was emitted is what was stored, each once");
    let samples = watcher.store().sample_rows().count();
    drop(watcher);
    let store_size = store_bytes(&store);
    remove_store(&store);
    let result = json!({
        "wall_s": wall.as_secs_f64(),
        "samples": samples,
        "rss_before_mib": rss_before,
        "rss_peak_mib": rss_peak,
        "rss_mid_mib": rss_mid,
        "store_bytes": store_size,
    });
    println!("WATCH-RESULT {result}");
}

/// One size: the mock here, the watcher in a child process; checks what
/// it did, and returns the figures.
fn watch_size(users: usize, most_speed: f64) -> Value {
    let plan = Plan::new(users, most_speed);
    let (speed, cycle) = (plan.speed, plan.cycle);
    let timeline = plan.timeline(users);
    let until = timeline.last_change() + cycle * 2;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let wall_zero = Utc::now();
    let clock = MockClock::at_speed(speed);
    // X's 300 requests per 15 minutes per endpoint, in budget time: the
    // fast clock scales it. Not X's 1 per second on by-creator (3 times
    // looser than the watcher's pace): the mock allows it 25 % early, which
    // at this speed is a few milliseconds of real time, and a loaded 2-core
    // machine delays the mock's answers by more than that (a run with it
    // had 3 requests refused, each retried by the client after the mock's
    // `retry-after`, at least a second: 200 s of script with no poll).
    let lifecycle = Lifecycle::new(timeline).with_clock(clock).with_budget(XBudget::per_endpoint(X_REQUESTS, X_WINDOW));
    let server = runtime.block_on(lifecycle.start());
    let events = temp_path(&format!("events-{users}.ndjson"));
    let output = std::process::Command::new(std::env::current_exe().expect("this bench"))
        .arg("--bench")
        .env("SPACES_BENCH_WATCH_CHILD", users.to_string())
        .env("SPACES_BENCH_WATCH_SPEED", most_speed.to_string())
        .env("SPACES_BENCH_WATCH_URI", server.uri())
        .env("SPACES_BENCH_WATCH_EVENTS", &events)
        .env("SPACES_BENCH_WATCH_UNTIL", until.as_nanos().to_string())
        .env("SPACES_BENCH_WATCH_ZERO", wall_zero.timestamp_nanos_opt().expect("in range").to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{users} users: the watch failed (its panic is above)");
    let line = stdout.lines().find_map(|line| line.strip_prefix("WATCH-RESULT ")).expect("a result line");
    let mut child: Value = serde_json::from_str(line).expect("a JSON result");
    let emitted: Vec<Value> = std::fs::read_to_string(&events)
        .expect("the events file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("an event line"))
        .collect();
    let _ = std::fs::remove_file(&events);

    let mut failures: Vec<String> = Vec::new();
    // Every expected event exactly once, and nothing else.
    let expected = lifecycle.timeline().expected_events(until);
    let mut wanted: HashMap<(String, EventKind), Duration> = HashMap::new();
    for event in &expected {
        let again = wanted.insert((event.space_id.clone(), event.kind), event.at);
        assert!(again.is_none(), "{users} users: the script has {} {:?} twice", event.space_id, event.kind);
    }
    // The budget: no 429, and the busiest 15 minutes within 95-100 % of it.
    let requests = lifecycle.requests();
    let refused: Vec<_> = requests.iter().filter(|request| request.status == 429).collect();
    assert!(refused.is_empty(), "{users} users: requests refused: {refused:?}");
    assert!(requests.iter().all(|request| request.status == 200), "{users} users: a request was not answered 200");
    let busiest = lifecycle.busiest_window(BY_CREATOR, X_WINDOW);
    let busiest_batch = lifecycle.busiest_window(BATCH, X_WINDOW);
    let share = busiest as f64 / f64::from(X_REQUESTS);
    if !(0.95..=1.0).contains(&share) {
        failures.push(format!("{busiest} by-creator requests in the busiest 15 minutes, not 285 to 300"));
    }
    assert!(busiest_batch <= X_REQUESTS as usize, "{users} users: {busiest_batch} lookups in 15 minutes");
    let by_creator = requests.iter().filter(|request| request.operation_id == BY_CREATOR).count();
    let lookups = requests.len() - by_creator;

    // Latency. The k-th by-creator request polls the (k mod chunks)-th 100
    // users (every request was answered, so none was asked again), and
    // user n is in chunk n / 100. Each event must come from the first poll
    // of its user's chunk after the transition (for an end, a cancelation
    // or a disappearance: the poll that no longer listed it, confirmed by
    // the lookup after it): that is "within one cycle", whatever the
    // clock's speed. Its lag is that poll's arrival minus the transition,
    // in cycles; the rest (the answer, any lookup, decoding, the commit)
    // is real milliseconds.
    let polled: Vec<Duration> =
        requests.iter().filter(|request| request.operation_id == BY_CREATOR).map(|request| request.at).collect();
    let chunks = plan.requests_per_cycle;
    let (mut lags, mut totals, mut processing) = (Vec::new(), Vec::new(), Vec::new());
    let mut late = 0;
    for event in &emitted {
        let kind: EventKind = event[1].as_str().and_then(|kind| kind.parse().ok()).expect("a kind");
        let space_id = event[2].as_str().expect("a Space").to_owned();
        let Some(transition) = wanted.remove(&(space_id.clone(), kind)) else {
            panic!("{users} users: {space_id} {kind:?} was not expected, or came twice")
        };
        let user: u64 = event[3].as_str().and_then(|user| user.parse().ok()).expect("a creator");
        let chunk = usize::try_from(user - 1_000_000_000_000).expect("small") / PER_REQUEST;
        let observed = Duration::from_secs_f64(event[4].as_f64().expect("observed"));
        let emitted_at = Duration::from_secs_f64(event[5].as_f64().expect("emitted"));
        let of_chunk = |k: &usize| k % chunks == chunk;
        let first = (0..polled.len()).filter(of_chunk).find(|&k| polled[k] >= transition);
        let last = (0..polled.len()).filter(of_chunk).take_while(|&k| polled[k] <= observed).last();
        let (Some(first), Some(last)) = (first, last) else {
            panic!("{users} users: {space_id} {kind:?}: no poll of its users after it happened")
        };
        if first != last {
            late += 1;
            if late <= 5 {
                failures.push(format!(
                    "{space_id} {kind:?} came from the {}-th poll of its users after it happened, not the first",
                    (last - first) / chunks + 1
                ));
            }
        }
        lags.push((polled[first] - transition).as_secs_f64() / cycle.as_secs_f64());
        totals.push(emitted_at.saturating_sub(transition).as_secs_f64() / cycle.as_secs_f64());
        processing.push(emitted_at.saturating_sub(polled[first]).as_secs_f64() / speed * 1000.0);
    }
    if late > 0 {
        failures.push(format!("{late} events not from the first poll of their users after the change"));
    }
    if !wanted.is_empty() {
        let mut missing: Vec<_> = wanted.iter().collect();
        missing.sort_by_key(|(_, at)| **at);
        let mut kinds: HashMap<EventKind, usize> = HashMap::new();
        for ((_, kind), _) in &missing {
            *kinds.entry(*kind).or_default() += 1;
        }
        let first: Vec<String> = missing
            .iter()
            .take(5)
            .map(|((space, kind), at)| format!("{space} {kind:?} at {:.0} s", at.as_secs_f64()))
            .collect();
        failures.push(format!(
            "{} expected events never came (of {}; by kind {kinds:?}; the first: {}; the watch ran to {:.0} s)",
            missing.len(),
            expected.len(),
            first.join(", "),
            until.as_secs_f64()
        ));
    }
    for list in [&mut lags, &mut totals, &mut processing] {
        list.sort_by(f64::total_cmp);
    }
    let over_one = lags.iter().filter(|&&lag| lag > 1.0).count();
    let mut result = json!({
        "users": users,
        "spaces": lifecycle.timeline().spaces().len(),
        "speed": speed,
        "script_s": until.as_secs_f64(),
        "cycle_s": cycle.as_secs_f64(),
        "requests_per_cycle": plan.requests_per_cycle,
        "by_creator": by_creator,
        "lookups": lookups,
        "busiest": busiest,
        "busiest_batch": busiest_batch,
        "events": emitted.len(),
        "lag_p50": percentile(&lags, 0.5),
        "lag_p99": percentile(&lags, 0.99),
        "lag_max": percentile(&lags, 1.0),
        "over_one": over_one,
        "total_max": percentile(&totals, 1.0),
        "processing_p50_ms": percentile(&processing, 0.5),
        "processing_max_ms": percentile(&processing, 1.0),
    });
    for key in ["wall_s", "samples", "rss_before_mib", "rss_mid_mib", "rss_peak_mib", "store_bytes"] {
        result[key] = child[key].take();
    }
    assert!(failures.is_empty(), "{users} users: {result}\n  {}", failures.join("\n  "));
    result
}

fn watch_part(speed: f64) {
    let sizes: Vec<usize> = match std::env::var("SPACES_BENCH_WATCH_USERS") {
        Ok(list) => list.split(',').map(|users| users.trim().parse().expect("a user count")).collect(),
        Err(_) => SIZES.to_vec(),
    };
    let results: Vec<Value> = sizes.iter().map(|&users| watch_size(users, speed)).collect();
    let number = |result: &Value, key: &str| result[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "Watch: X's budget (300 requests / 15 min per endpoint), on a fast clock; \
         latency in cycles of the budget-optimal interval"
    );
    println!(
        "  {:>6} {:>6} {:>5} {:>8} {:>7} {:>12} {:>7} {:>6} {:>7} {:>14} {:>7} {:>6} {:>11} {:>21}",
        "users",
        "Spaces",
        "speed",
        "cycle",
        "req/cyc",
        "busiest 15m",
        "lookups",
        "events",
        "lag p50",
        "lag p99 / max",
        ">1 cyc",
        "total",
        "process max",
        "RSS start/mid/peak"
    );
    for result in &results {
        println!(
            "  {:>6.0} {:>6.0} {:>5.0} {:>6.1} s {:>7.0} {:>5.0} ({:>3.0}%) {:>7.0} {:>6.0} {:>7.2} {:>6.2} / {:>5.2} {:>7.0} {:>6.2} {:>8.1} ms {:>5.1}/{:>5.1}/{:>5.1} MiB",
            number(result, "users"),
            number(result, "spaces"),
            number(result, "speed"),
            number(result, "cycle_s"),
            number(result, "requests_per_cycle"),
            number(result, "busiest"),
            number(result, "busiest") / f64::from(X_REQUESTS) * 100.0,
            number(result, "busiest_batch"),
            number(result, "events"),
            number(result, "lag_p50"),
            number(result, "lag_p99"),
            number(result, "lag_max"),
            number(result, "over_one"),
            number(result, "total_max"),
            number(result, "processing_max_ms"),
            number(result, "rss_before_mib"),
            number(result, "rss_mid_mib"),
            number(result, "rss_peak_mib"),
        );
    }
    for result in &results {
        println!(
            "  {} users: {:.0} s of script in {:.1} s; {} by-creator requests, {} lookups; {} events, {} samples, \
             store {:.1} MiB; processing p50 {:.1} ms",
            result["users"],
            number(result, "script_s"),
            number(result, "wall_s"),
            result["by_creator"],
            result["lookups"],
            result["events"],
            result["samples"],
            number(result, "store_bytes") / 1024.0 / 1024.0,
            number(result, "processing_p50_ms"),
        );
    }
    let [_, small, large] = results.as_slice() else { return };
    println!(
        "  every event exactly once, no 429, busiest 15 min within 95-100 % of 300; peak RSS 10,000 / 1,000 users: {:.2}x",
        number(large, "rss_peak_mib") / number(small, "rss_peak_mib")
    );
}

// ---------------------------------------------------------------------------
// The store

/// The store's schema (`store.rs`'s first migration), for the bare side.
const SCHEMA: &str = "
    CREATE TABLE spaces (
        space_id TEXT PRIMARY KEY, user_id TEXT, phase TEXT NOT NULL, scheduled_start TEXT,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, provider TEXT NOT NULL,
        retrieved_at TEXT NOT NULL, space TEXT
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, space_id TEXT NOT NULL,
        user_id TEXT, at TEXT NOT NULL, space TEXT
    );
    CREATE INDEX events_by_space ON events (space_id, seq);
    CREATE TABLE samples (
        space_id TEXT NOT NULL, at TEXT NOT NULL, participant_count INTEGER,
        subscriber_count INTEGER, speakers INTEGER
    );
    CREATE INDEX samples_by_space ON samples (space_id, at);
";

const UPSERT: &str = "INSERT INTO spaces (space_id, user_id, phase, scheduled_start, first_seen, last_seen, provider, retrieved_at, space)
     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?5, ?7)
     ON CONFLICT (space_id) DO UPDATE SET
        user_id = COALESCE(excluded.user_id, user_id), phase = excluded.phase,
        scheduled_start = excluded.scheduled_start, last_seen = excluded.last_seen,
        provider = excluded.provider, retrieved_at = excluded.retrieved_at, space = excluded.space";

/// The Spaces of 100 users of a scaled script, at a moment when many are
/// live, as the client decodes them from the mock.
fn poll_spaces() -> Vec<Space> {
    let span = Duration::from_secs(1_000);
    let clock = MockClock::manual();
    let lifecycle = Lifecycle::new(Timeline::scaled(PER_REQUEST, 1, span)).with_clock(clock.clone());
    clock.advance_to(span / 2);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let list = runtime.block_on(async {
        let server = lifecycle.start().await;
        let client = Client::builder(Provider::X)
            .token(Token::new(DEMO_TOKEN))
            .base_url(server.uri())
            .build()
            .expect("a client");
        client.spaces_by_creators((0..PER_REQUEST).map(Timeline::scaled_user_id)).await.expect("the Spaces")
    });
    list.spaces
}

fn phase_of(space: &Space) -> Phase {
    if space.state == SpaceState::Live { Phase::Live } else { Phase::Scheduled }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One poll's rows as the store is given them: every Space upserted, a
/// sample of each live one, and (with `events`) an event for each Space.
fn poll_of(spaces: &[Space], at: DateTime<Utc>, events: bool) -> Poll {
    let mut poll = Poll { at, ..Poll::default() };
    for space in spaces {
        let tracked = Tracked {
            user_id: space.creator_id.clone(),
            known: Known { phase: phase_of(space), scheduled_start: space.scheduled_start },
        };
        if space.state == SpaceState::Live {
            poll.samples.push(Sample::of(space, at));
        }
        if events {
            let kind = if space.state == SpaceState::Live { EventKind::Started } else { EventKind::Scheduled };
            poll.events.push(Event {
                seq: 0,
                kind,
                space_id: space.id.clone(),
                user_id: space.creator_id.clone(),
                at,
                space: Some(space.clone()),
            });
        }
        poll.spaces.push((space.clone(), tracked));
    }
    poll
}

/// A Space's row: id, creator, phase, scheduled start, JSON.
type SpaceRow = (String, Option<String>, &'static str, Option<String>, String);
/// A sample's row: Space id, participants, subscribers, speakers.
type SampleRow = (String, Option<i64>, Option<i64>, Option<i64>);

/// The same rows, made ready for SQL beforehand: the bare side's input.
struct BareRows {
    upserts: Vec<SpaceRow>,
    samples: Vec<SampleRow>,
    events: Vec<(&'static str, String, Option<String>, String)>,
}

fn bare_rows(spaces: &[Space], events: bool) -> BareRows {
    let poll = poll_of(spaces, Utc::now(), events);
    let count = |count: Option<u64>| count.and_then(|count| i64::try_from(count).ok());
    BareRows {
        upserts: poll
            .spaces
            .iter()
            .map(|(space, tracked)| {
                (
                    space.id.clone(),
                    tracked.user_id.clone(),
                    tracked.known.phase.as_str(),
                    tracked.known.scheduled_start.map(time),
                    serde_json::to_string(space).expect("JSON"),
                )
            })
            .collect(),
        samples: poll
            .samples
            .iter()
            .map(|sample| {
                (
                    sample.space_id.clone(),
                    count(sample.participant_count),
                    count(sample.subscriber_count),
                    count(sample.speakers),
                )
            })
            .collect(),
        events: poll
            .events
            .iter()
            .map(|event| {
                let json = event.space.as_ref().map(|space| serde_json::to_string(space).expect("JSON"));
                (event.kind.as_str(), event.space_id.clone(), event.user_id.clone(), json.unwrap_or_default())
            })
            .collect(),
    }
}

fn bare_open(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("open");
    connection
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;")
        .expect("pragmas");
    connection.execute_batch(SCHEMA).expect("schema");
    connection
}

/// One poll's rows in one transaction, statements cached.
fn bare_commit(connection: &mut Connection, rows: &BareRows, at: &str) {
    let transaction = connection.transaction().expect("begin");
    {
        let mut upsert = transaction.prepare_cached(UPSERT).expect("prepare");
        for (id, user, phase, scheduled, json) in &rows.upserts {
            upsert.execute(params![id, user, phase, scheduled, at, "x", json]).expect("upsert");
        }
        let mut event = transaction
            .prepare_cached("INSERT INTO events (type, space_id, user_id, at, space) VALUES (?1, ?2, ?3, ?4, ?5)")
            .expect("prepare");
        for (kind, id, user, json) in &rows.events {
            event.execute(params![kind, id, user, at, json]).expect("event");
        }
        let mut sample = transaction
            .prepare_cached(
                "INSERT INTO samples (space_id, at, participant_count, subscriber_count, speakers) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .expect("prepare");
        for (id, participants, subscribers, speakers) in &rows.samples {
            sample.execute(params![id, at, participants, subscribers, speakers]).expect("sample");
        }
    }
    transaction.commit().expect("commit");
}

/// What one side committed in `polls` polls: its wall time.
struct Committed {
    wall: Duration,
}

fn store_side(path: &Path, spaces: &[Space], polls: usize, events: bool) -> Committed {
    remove_store(path);
    let mut store = Store::open(path).expect("the store");
    let start = Utc::now();
    let made: Vec<Poll> = (0..polls)
        .map(|n| poll_of(spaces, start + chrono::Duration::milliseconds(i64::try_from(n).expect("small")), events))
        .collect();
    let started = Instant::now();
    let mut committed = 0;
    for poll in made {
        committed += store.commit(poll).expect("commit").len();
    }
    let wall = started.elapsed();
    let expected_events = if events { polls * spaces.len() } else { 0 };
    assert_eq!(committed, expected_events, "the store committed every event");
    Committed { wall }
}

fn bare_side(path: &Path, spaces: &[Space], polls: usize, events: bool) -> Committed {
    remove_store(path);
    let mut connection = bare_open(path);
    let rows = bare_rows(spaces, events);
    let start = Utc::now();
    let ats: Vec<String> =
        (0..polls).map(|n| time(start + chrono::Duration::milliseconds(i64::try_from(n).expect("small")))).collect();
    let started = Instant::now();
    for at in &ats {
        bare_commit(&mut connection, &rows, at);
    }
    let wall = started.elapsed();
    let count = |table: &str| -> usize {
        let rows: i64 =
            connection.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).expect("count");
        usize::try_from(rows).expect("a count")
    };
    assert_eq!(count("samples"), polls * rows.samples.len(), "bare: every sample");
    assert_eq!(count("events"), polls * rows.events.len(), "bare: every event");
    Committed { wall }
}

/// Empties the write-ahead log into the file (from a second connection, as a reader could).
fn checkpoint(path: &Path) {
    let connection = Connection::open(path).expect("open");
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
}

fn store_part() {
    let spaces = poll_spaces();
    let live = spaces.iter().filter(|space| space.state == SpaceState::Live).count();
    assert!(live > 0 && live < spaces.len(), "a poll of live and scheduled Spaces: {live} live of {}", spaces.len());
    let polls: usize = env_number("SPACES_BENCH_WATCH_POLLS", 2_000);
    let store_path = temp_path("store.db");
    let bare_path = temp_path("bare.db");
    let json = {
        let started = Instant::now();
        for _ in 0..polls / 10 {
            for space in &spaces {
                std::hint::black_box(serde_json::to_string(space).expect("JSON"));
            }
        }
        started.elapsed().mul_f64(10.0) / u32::try_from(polls * spaces.len()).expect("small")
    };

    println!(
        "\nStore: {polls} polls of {} Spaces of 100 users ({live} live), one transaction per poll; \
         bare rusqlite: same schema, pragmas and rows, JSON made beforehand",
        spaces.len()
    );
    println!(
        "  {:<40} {:>9} {:>10} {:>12} {:>12} {:>14}",
        "", "store", "bare", "store/bare", "store rows/s", "bare rows/s"
    );
    for (label, events) in
        [("upserts + samples (steady poll)", false), ("upserts + events + samples (all change)", true)]
    {
        // Alternated, twice each: the median would need more time than this is worth; the best is kept.
        let mut store_best = Duration::MAX;
        let mut bare_best = Duration::MAX;
        for _ in 0..2 {
            store_best = store_best.min(store_side(&store_path, &spaces, polls, events).wall);
            bare_best = bare_best.min(bare_side(&bare_path, &spaces, polls, events).wall);
        }
        // The rows each side is measured by: samples in a steady poll, events when all change.
        let (what, rows) = if events { ("events", polls * spaces.len()) } else { ("samples", polls * live) };
        println!(
            "  {label:<40} {:>7.2} s {:>8.2} s {:>12.2} {:>8.0} {what:<3} {:>10.0}",
            store_best.as_secs_f64(),
            bare_best.as_secs_f64(),
            store_best.as_secs_f64() / bare_best.as_secs_f64(),
            rows as f64 / store_best.as_secs_f64(),
            rows as f64 / bare_best.as_secs_f64(),
        );
        println!(
            "  {:<40} polls/s: store {:.0}, bare {:.0}; serde_json of a Space: {:.1} µs ({:.0} % of the store's time)",
            "",
            polls as f64 / store_best.as_secs_f64(),
            polls as f64 / bare_best.as_secs_f64(),
            json.as_secs_f64() * 1e6,
            json.as_secs_f64() * (polls * if events { 2 * spaces.len() } else { spaces.len() }) as f64
                / store_best.as_secs_f64()
                * 100.0
        );
    }

    // Size per sample: the growth from one count of samples to twice as many.
    let size_at = |polls: usize| {
        store_side(&store_path, &spaces, polls, false);
        checkpoint(&store_path);
        let bytes = store_bytes(&store_path);
        let samples = Store::open_existing(&store_path).expect("the store").sample_rows().count();
        assert_eq!(samples, polls * live, "every sample stored");
        (samples, bytes)
    };
    let (few, few_bytes) = size_at(polls);
    let (many, many_bytes) = size_at(polls * 2);
    let per_sample = (many_bytes - few_bytes) as f64 / (many - few) as f64;
    println!(
        "  size: {few} samples {:.2} MiB, {many} samples {:.2} MiB: {per_sample:.1} bytes per sample, \
         {:.0} MiB per million samples (extrapolated)",
        few_bytes as f64 / 1024.0 / 1024.0,
        many_bytes as f64 / 1024.0 / 1024.0,
        per_sample * 1e6 / 1024.0 / 1024.0
    );
    remove_store(&store_path);
    remove_store(&bare_path);
}

fn main() {
    if let Ok(users) = std::env::var("SPACES_BENCH_WATCH_CHILD") {
        watch_child(users.parse().expect("a user count"), env_number("SPACES_BENCH_WATCH_SPEED", 200.0));
        return;
    }
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let speed: f64 = env_number("SPACES_BENCH_WATCH_SPEED", 200.0);
    let started = Instant::now();
    watch_part(speed);
    store_part();
    println!("\n(the whole bench: {:.0} s)", started.elapsed().as_secs_f64());
}
