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
use spaces_mock::lifecycle::{Lifecycle, Timeline, XBudget};
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
    // Killed once it has stored something (a loaded machine may take a while
    // to start it), and at least 3.5 s in: mid-script.
    let mut first_lines = vec![lines.recv_timeout(Duration::from_secs(60)).expect("the first run stores an event")];
    std::thread::sleep(Duration::from_millis(3_500).saturating_sub(started.elapsed()));
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    reader.join().expect("the reader");
    first_lines.extend(lines.try_iter());

    // Down for a while: transitions happen meanwhile.
    std::thread::sleep(Duration::from_millis(1_500));

    // The second runs until the script is over, then gets a SIGINT: exit 0.
    let mut second = watch_command(&url, &store).spawn().expect("spawn the watcher again");
    let second_lines = collect_lines(&mut second);
    let script = served.lifecycle.timeline().last_change().div_f64(2.0);
    let until = script.saturating_sub(started.elapsed()) + Duration::from_secs(2);
    std::thread::sleep(until);
    let killed = Command::new("kill").args(["-INT", &second.id().to_string()]).status().expect("kill -INT");
    assert!(killed.success());
    let status = second.wait().expect("the second run ends");
    let stderr = second.stderr.take().map(|mut stderr| {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    assert_eq!(status.code(), Some(0), "{stderr:?}");
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
