//! The watcher against the mock's scripted lifecycle (`spaces_mock::lifecycle`):
//! every transition exactly once, in the store and on stdout, across a
//! SIGKILL and a restart; the budget kept in every window; resuming a
//! store; a second watcher refused; and every provider but X refused.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spaces::watch::lifecycle::EventKind;
use spaces::watch::{Happening, Store, WatchOptions, Watcher};
use spaces::{Provider, RateLimit};
use spaces_mock::DEMO_TOKEN;
use spaces_mock::activity::{ActivityMock, StreamEvent};
use spaces_mock::lifecycle::{Audience, Lifecycle, MockClock, SpaceScript, Timeline, XBudget};
use wiremock::MockServer;

use crate::cli::{spaces_bin, text};
use crate::support::{build, test_builder};

/// The demo timeline served at `speed`, on a runtime of its own.
struct Served {
    runtime: tokio::runtime::Runtime,
    lifecycle: Lifecycle,
    server: MockServer,
}

impl Served {
    fn demo(speed: f64, budget: XBudget) -> Served {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let lifecycle = Lifecycle::new(Timeline::demo()).at_speed(speed).with_budget(budget);
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            lifecycle.mount(&server).await;
            server
        });
        Served { runtime, lifecycle, server }
    }

    /// Each Space's event kinds, in order, that the script implies by now.
    fn expected(&self) -> BTreeMap<String, Vec<EventKind>> {
        let mut expected: BTreeMap<String, Vec<EventKind>> = BTreeMap::new();
        for event in self.lifecycle.timeline().expected_events(self.lifecycle.timeline().last_change()) {
            expected.entry(event.space_id).or_default().push(event.kind);
        }
        expected
    }
}

fn budget(requests: u32, per: Duration) -> RateLimit {
    RateLimit { requests: NonZeroU32::new(requests).expect("non-zero"), per }
}

/// `spaces watch` on the demo's users, against `url`, with a budget of
/// 240 requests per 30 s (a poll every 126 ms, the demo's users in one).
fn watch_command(url: &str, store: &std::path::Path) -> Command {
    let mut command = spaces_bin();
    command.arg("watch").args(Timeline::DEMO_USERS).args(["--store"]).arg(store);
    command
        .args(["--base-url", &format!("x={url}"), "--budget", "240/30s", "--timeout", "5s"])
        .env("X_BEARER_TOKEN", DEMO_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads `child`'s stdout lines on a thread, so the test can kill it at any time.
fn collect_lines(child: &mut Child) -> std::thread::JoinHandle<Vec<String>> {
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect())
}

/// Reads `child`'s stderr on a thread (a full pipe would stall it), to show when a test fails.
fn drain_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    })
}

/// Each Space's event kinds, in order, from NDJSON event lines.
fn kinds_of(lines: &[String]) -> BTreeMap<String, Vec<EventKind>> {
    let mut kinds: BTreeMap<String, Vec<EventKind>> = BTreeMap::new();
    for line in lines {
        let event: spaces::watch::Event = serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"));
        kinds.entry(event.space_id).or_default().push(event.kind);
    }
    kinds
}

#[test]
fn every_transition_exactly_once_across_a_sigkill_and_a_restart() {
    // The demo's 18 s at speed 2: 9 s of script.
    let served = Served::demo(2.0, XBudget::per_endpoint(240, Duration::from_secs(30)));
    let url = served.server.uri();
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = dir.path().join("spaces.db");
    let started = Instant::now();

    // The first watcher is killed with SIGKILL a few seconds in, mid-run.
    let mut first = watch_command(&url, &store).spawn().expect("spawn the watcher");
    let stdout = first.stdout.take().expect("stdout");
    let (sender, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let stderr = drain_stderr(&mut first);
    // Killed once it has stored something (a loaded machine may take a while
    // to start it), and at least 3.5 s in: mid-script.
    let Ok(first_line) = lines.recv_timeout(Duration::from_secs(60)) else {
        let _ = first.kill();
        let _ = first.wait();
        panic!("the first run stored no event in 60 s:\n{}", stderr.join().unwrap_or_default());
    };
    let mut first_lines = vec![first_line];
    std::thread::sleep(Duration::from_millis(3_500).saturating_sub(started.elapsed()));
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    reader.join().expect("the reader");
    let _ = stderr.join();
    first_lines.extend(lines.try_iter());

    // Down for a while: transitions happen meanwhile.
    std::thread::sleep(Duration::from_millis(1_500));

    // The second runs until the script is over, then gets a SIGINT: exit 0.
    let mut second = watch_command(&url, &store).spawn().expect("spawn the watcher again");
    let second_lines = collect_lines(&mut second);
    let stderr = drain_stderr(&mut second);
    let script = served.lifecycle.timeline().last_change().div_f64(2.0);
    let until = script.saturating_sub(started.elapsed()) + Duration::from_secs(2);
    std::thread::sleep(until);
    let killed = Command::new("kill").args(["-INT", &second.id().to_string()]).status().expect("kill -INT");
    assert!(killed.success());
    let status = second.wait().expect("the second run ends");
    assert_eq!(status.code(), Some(0), "{}", stderr.join().unwrap_or_default());
    let second_lines = second_lines.join().expect("the reader");

    // On stdout, across both runs: each transition once, none repeated.
    let printed: Vec<String> = first_lines.iter().chain(&second_lines).cloned().collect();
    let seqs: Vec<u64> = printed
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON")["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "seq increases, no event twice: {seqs:?}");
    assert_eq!(kinds_of(&printed), served.expected(), "stdout across both runs");

    // In the store: the same events, each once.
    let stored = Store::open_existing(&store).expect("the store").events_after(0, 1_000).expect("events");
    assert_eq!(stored.iter().map(|event| event.seq).collect::<Vec<_>>(), seqs, "what was printed is what was stored");
    let gone: Vec<&spaces::watch::Event> = stored.iter().filter(|event| event.kind == EventKind::Gone).collect();
    assert!(gone.iter().all(|event| event.space.is_none()), "a gone Space's content is not kept");
    let _ = &served.runtime;
}

#[tokio::test]
async fn the_watcher_keeps_to_its_budget_in_every_window() {
    // A budget of 60 requests per 2 s: a poll every 2 s / 59.
    let window = Duration::from_secs(2);
    let lifecycle = Lifecycle::new(Timeline::scaled(250, 1, Duration::from_secs(60)))
        .with_budget(XBudget::per_endpoint(60, window));
    let server = MockServer::start().await;
    lifecycle.mount(&server).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let users: Vec<String> = (0..250).map(Timeline::scaled_user_id).collect();
    let client = build(test_builder(Provider::X, server.uri()).token(spaces::Token::new(DEMO_TOKEN)));
    let options = WatchOptions::default().budget(budget(60, window));
    let mut watcher = Watcher::open(client, dir.path().join("spaces.db"), users, options).expect("a watcher");
    assert_eq!(watcher.cycle(), watcher.pace() * 3, "250 users: 3 requests a cycle");
    let mut problems = Vec::new();
    let stop = tokio::time::sleep(window * 3);
    watcher
        .run(stop, |happening| {
            if let Happening::Problem(error) = happening {
                problems.push(error.to_string());
            }
        })
        .await
        .expect("the watch runs");
    let requests = lifecycle.requests();
    let refused = requests.iter().filter(|request| request.status == 429).count();
    assert_eq!(refused, 0, "never refused: {problems:?}");
    let busiest = lifecycle.busiest_window("find_spaces_by_creator_ids", window);
    assert!(busiest <= 60, "{busiest} requests in one window of 60");
    assert!(busiest >= 40, "{busiest} requests in the busiest window: far below the budget");
}

#[tokio::test]
async fn a_restarted_watcher_resumes_and_repeats_nothing() {
    let lifecycle =
        Lifecycle::new(Timeline::demo()).at_speed(4.0).with_budget(XBudget::per_endpoint(600, Duration::from_secs(30)));
    let server = MockServer::start().await;
    lifecycle.mount(&server).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = dir.path().join("spaces.db");
    let users: Vec<String> = Timeline::DEMO_USERS.iter().map(|user| (*user).to_owned()).collect();
    let options = || WatchOptions::default().budget(budget(600, Duration::from_secs(30)));
    let client = || build(test_builder(Provider::X, server.uri()).token(spaces::Token::new(DEMO_TOKEN)));
    let mut seen: Vec<spaces::watch::Event> = Vec::new();
    for run in 0..3 {
        let mut watcher = Watcher::open(client(), &store, users.clone(), options()).expect("a watcher");
        // The second watcher on the same store is refused while this one runs.
        let again = Watcher::open(client(), &store, users.clone(), options());
        assert!(
            matches!(&again, Err(spaces::watch::WatchError::Store(spaces::watch::StoreError::Locked { .. }))),
            "run {run}"
        );
        watcher
            .run(tokio::time::sleep(Duration::from_millis(1_800)), |happening| {
                if let Happening::Event(event) = happening {
                    seen.push(event.clone());
                }
            })
            .await
            .expect("the watch runs");
    }
    let mut kinds: BTreeMap<String, Vec<EventKind>> = BTreeMap::new();
    for event in &seen {
        kinds.entry(event.space_id.clone()).or_default().push(event.kind);
    }
    let mut expected: BTreeMap<String, Vec<EventKind>> = BTreeMap::new();
    for event in lifecycle.timeline().expected_events(lifecycle.timeline().last_change()) {
        expected.entry(event.space_id).or_default().push(event.kind);
    }
    assert_eq!(kinds, expected, "three runs, each transition once");
}

#[test]
fn only_x_can_be_watched_and_a_second_watcher_names_the_lock() {
    let mut command = spaces_bin();
    command.args(["watch", "2244994945", "--provider", "socialdata"]).env("SOCIALDATA_API_KEY", DEMO_TOKEN);
    let output = crate::cli::run(command, b"");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("socialdata"), "{}", text(&output.stderr));

    let dir = tempfile::tempdir().expect("a temp dir");
    let store = dir.path().join("spaces.db");
    let _held = Store::lock_for_watch(&store).expect("the lock");
    let mut command = spaces_bin();
    command.args(["watch", "2244994945", "--store"]).arg(&store).env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = crate::cli::run(command, b"");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("spaces.db.lock"), "names the file: {}", text(&output.stderr));
}

/// One user's Space, scheduled at 0 to start at 60 s, live at 60 s, ended
/// at 120 s, on a clock that moves only when told; the watcher polls once
/// an hour, so only a push tells it of the start or the end within the test.
struct Pushed {
    lifecycle: Lifecycle,
    _server: MockServer,
    activity: ActivityMock,
}

const PUSH_USER: &str = "1001";
const PUSH_SPACE: &str = "1PushSpace001";

impl Pushed {
    async fn start() -> Pushed {
        let timeline = Timeline::new().user(PUSH_USER, "pusher", "Push Radio").space(
            SpaceScript::new(PUSH_SPACE, PUSH_USER, "Pushed live")
                .scheduled(Duration::ZERO, Duration::from_secs(60))
                .live(Duration::from_secs(60), Audience::new(10, 0, &[PUSH_USER]))
                .ended(Duration::from_secs(120)),
        );
        let lifecycle = Lifecycle::new(timeline)
            .with_clock(MockClock::manual())
            .with_budget(XBudget::per_endpoint(600, Duration::from_secs(30)));
        let server = MockServer::start().await;
        lifecycle.mount(&server).await;
        let activity = ActivityMock::start_in_front_of_server(&server).await;
        Pushed { lifecycle, _server: server, activity }
    }

    fn watcher(&self, store: &std::path::Path) -> Watcher {
        let client = build(test_builder(Provider::X, self.activity.base_url()).token(spaces::Token::new(DEMO_TOKEN)));
        let options = WatchOptions::default()
            .budget(budget(600, Duration::from_secs(30)))
            .interval(Duration::from_secs(3_600))
            .activity(Watcher::ACTIVITY_TAG);
        Watcher::open(client, store, [PUSH_USER.to_owned()], options).expect("a watcher")
    }

    fn lookups(&self) -> usize {
        self.lifecycle.requests().iter().filter(|request| request.operation_id == spaces_mock::x_multi::BATCH).count()
    }
}

/// What a watcher run reported: its events, and the subscriptions it made.
#[derive(Default)]
struct Reported {
    created: usize,
    reused: usize,
}

/// Runs `watcher` while `script` plays (given a receiver of the run's
/// committed events), then stops it; returns what it reported.
async fn run_while<F>(
    watcher: &mut Watcher,
    script: impl FnOnce(tokio::sync::mpsc::UnboundedReceiver<spaces::watch::Event>) -> F,
) -> Reported
where
    F: std::future::Future<Output = ()>,
{
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut reported = Reported::default();
    let run = watcher.run(
        async move {
            let _ = stopped.await;
        },
        |happening| match happening {
            Happening::Event(event) => {
                let _ = events.send(event.clone());
            }
            Happening::Subscribed(made) => {
                reported.created += made.created.len();
                reported.reused += made.existing.len();
            }
            _ => {}
        },
    );
    let script = async move {
        script(received).await;
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(run, script);
    ran.expect("the watch runs");
    reported
}

/// The next committed event, within 20 s (the watcher polls once an hour).
async fn next_event(received: &mut tokio::sync::mpsc::UnboundedReceiver<spaces::watch::Event>) -> EventKind {
    let event = tokio::time::timeout(Duration::from_secs(20), received.recv()).await;
    event.expect("an event within seconds, long before the next poll").expect("the watcher runs").kind
}

#[tokio::test]
async fn pushed_events_are_looked_up_at_once_and_a_repeat_changes_nothing() {
    let pushed = &Pushed::start().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = dir.path().join("spaces.db");

    // First run: subscribes (start and end), sees the Space scheduled at
    // its first poll, then is told of the start by a push.
    let mut watcher = pushed.watcher(&store);
    let first = run_while(&mut watcher, |mut received| async move {
        assert_eq!(next_event(&mut received).await, EventKind::Scheduled);
        pushed.activity.wait_for_connections(1).await;
        pushed.lifecycle.clock().advance_to(Duration::from_secs(61));
        // Another tool's event, and another user's, on the same app-wide stream: not ours.
        pushed.activity.send_event(&StreamEvent::start(PUSH_USER, "1OtherTool001").tag("another-tool"));
        pushed.activity.send_event(&StreamEvent::start("2002", "1OtherUser001").tag(Watcher::ACTIVITY_TAG));
        pushed.activity.send_keep_alive();
        pushed.activity.send_event(&StreamEvent::start(PUSH_USER, PUSH_SPACE).tag(Watcher::ACTIVITY_TAG));
        assert_eq!(next_event(&mut received).await, EventKind::Started);
    })
    .await;
    assert_eq!((first.created, first.reused), (2, 0), "spaces.start and spaces.end, made once");
    drop(watcher);

    // Second run on the same store (a new stream, which remembers no event):
    // the same start delivered again is looked up and changes nothing; the
    // end is reported once.
    let mut watcher = pushed.watcher(&store);
    let second = run_while(&mut watcher, |mut received| async move {
        pushed.activity.wait_for_connections(2).await;
        let lookups = pushed.lookups();
        pushed.activity.send_event(&StreamEvent::start(PUSH_USER, PUSH_SPACE).tag(Watcher::ACTIVITY_TAG));
        let looked_up = async {
            while pushed.lookups() == lookups {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), looked_up).await.expect("the repeat is looked up");
        pushed.lifecycle.clock().advance_to(Duration::from_secs(121));
        pushed.activity.send_event(&StreamEvent::end(PUSH_USER, PUSH_SPACE).tag(Watcher::ACTIVITY_TAG));
        assert_eq!(next_event(&mut received).await, EventKind::Ended, "the repeated start made no event");
    })
    .await;
    assert_eq!((second.created, second.reused), (0, 2), "the subscriptions are reused, never made twice");
    drop(watcher);

    // Third run: the end delivered again is about a Space the store knows is over: not even looked up.
    let mut watcher = pushed.watcher(&store);
    let lookups = pushed.lookups();
    run_while(&mut watcher, |mut received| async move {
        pushed.activity.wait_for_connections(3).await;
        pushed.activity.send_event(&StreamEvent::end(PUSH_USER, PUSH_SPACE).tag(Watcher::ACTIVITY_TAG));
        let nothing = tokio::time::timeout(Duration::from_millis(1_500), received.recv()).await;
        assert!(nothing.is_err(), "no event for a repeat about a Space that is over: {nothing:?}");
    })
    .await;
    assert_eq!(pushed.lookups(), lookups, "no lookup of a Space the store knows is over");
    assert_eq!(pushed.activity.subscriptions().len(), 2, "two subscriptions, after three runs");
    let store = Store::open(&store).expect("the store");
    let kinds: Vec<EventKind> =
        store.events_after(0, 100).expect("the events").into_iter().map(|event| event.kind).collect();
    assert_eq!(kinds, [EventKind::Scheduled, EventKind::Started, EventKind::Ended], "each transition once");
}

#[test]
fn watch_activity_subscribes_connects_and_says_so() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let pushed = runtime.block_on(Pushed::start());
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut command = spaces_bin();
    command
        .args(["watch", PUSH_USER, "--activity", "--for", "2s", "--budget", "600/30s", "--store"])
        .arg(dir.path().join("spaces.db"))
        .args(["--base-url", &format!("x={}", pushed.activity.base_url())])
        .env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = crate::cli::run(command, b"");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("activity: 0 subscriptions reused, 2 made (tag `spaces-watch`)"), "{stderr}");
    assert!(stderr.contains("activity: stream connected"), "{stderr}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains(r#""type":"scheduled""#) && stdout.contains(PUSH_SPACE), "{stdout}");
    assert_eq!(pushed.activity.subscriptions().len(), 2);
}
