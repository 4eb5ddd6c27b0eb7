//! Bulk work streamed by the library: each outcome as soon as its request
//! is answered, in input order; several providers as streams too; a stop
//! that sends nothing more and keeps what was answered; and the same
//! through the binary, down to a SIGINT in the middle of a run.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use spaces::{Error, Provider, Providers};
use spaces_mock::{EveryIdFound, batch_endpoint, endpoint, json, not_found, recorded_space, requested_id};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::cli::{spaces_bin, text};
use crate::support::{TEST_TOKEN, base_url, build, test_builder, test_client, with_member};

/// X's batch endpoint answering every id found: the request holding the
/// input's first id at once, every other one after `later` (whichever
/// reaches the server first: with two in flight, either may); it counts the
/// requests it answered.
struct FirstFast {
    later: Duration,
    answered: Arc<AtomicUsize>,
}

impl Respond for FirstFast {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.answered.fetch_add(1, Ordering::SeqCst);
        let first = spaces_mock::requested_ids(request).iter().any(|id| *id == ids(1)[0]);
        let answer = EveryIdFound.respond(request);
        if first { answer } else { answer.set_delay(self.later) }
    }
}

async fn first_fast(later: Duration) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let answered = Arc::new(AtomicUsize::new(0));
    batch_endpoint().respond_with(FirstFast { later, answered: answered.clone() }).mount(&server).await;
    (server, answered)
}

fn ids(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("1Id{n:010}")).collect()
}

#[tokio::test]
async fn the_first_outcome_comes_before_the_last_request_is_answered() {
    // The later requests take 3 s: an outcome within 2.5 s came from the first.
    let (server, _) = first_fast(Duration::from_secs(3)).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).concurrency(2));
    let started = Instant::now();
    let mut outcomes = client.lookup(ids(300)).stream();
    let first = outcomes.next().await.expect("an outcome");
    let first_at = started.elapsed();
    assert_eq!(first.id, "1Id0000000000");
    assert!(first.result.is_ok(), "{first:?}");
    assert!(first_at < Duration::from_millis(2500), "the first request's outcomes came after {first_at:?}");
    // The rest of the first request comes at once; then the two slow requests.
    let mut seen = vec![first.id];
    while let Some(outcome) = outcomes.next().await {
        seen.push(outcome.id);
    }
    assert!(started.elapsed() >= Duration::from_secs(3), "two more requests, at once");
    assert_eq!(seen, ids(300), "one outcome per id, in input order");
    assert_eq!(server.received_requests().await.map(|requests| requests.len()), Some(3), "100 ids per request");
}

#[tokio::test]
async fn one_by_one_streams_too_and_asks_each_id_alone() {
    let server = MockServer::start().await;
    endpoint(Provider::X)
        .respond_with(|request: &Request| {
            let id = requested_id(Provider::X, request);
            json(200, &with_member(recorded_space(Provider::X), "id", id.as_str()))
        })
        .mount(&server)
        .await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    let outcomes = client.lookup(ids(7)).one_by_one(true).collect().await;
    assert!(outcomes.iter().all(|outcome| outcome.result.is_ok()), "{outcomes:?}");
    let asked: Vec<String> = outcomes.into_iter().map(|outcome| outcome.id).collect();
    assert_eq!(asked, ids(7));
    assert_eq!(server.received_requests().await.map(|requests| requests.len()), Some(7));
}

#[tokio::test]
async fn a_stop_sends_nothing_more_and_keeps_what_was_answered() {
    let (server, answered) = first_fast(Duration::from_millis(400)).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).concurrency(2));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let lookup = client.lookup(ids(2_000)).stop_on(async move {
        let _ = stopped.await;
    });
    let mut outcomes = lookup.stream();
    // Stop as soon as the first answer is in: the second request is in flight by then.
    let first = outcomes.next().await.expect("an outcome");
    assert!(first.result.is_ok());
    let _ = stop.send(());
    let (mut found, mut not_sent) = (1, 0);
    while let Some(outcome) = outcomes.next().await {
        match outcome.result {
            Ok(_) => found += 1,
            Err(Error::Interrupted { provider: Provider::X }) => not_sent += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    let requests = server.received_requests().await.map_or(0, |requests| requests.len());
    assert_eq!(found, 100 * requests, "every request sent was answered and kept");
    assert!(requests < 20, "{requests} requests: the run stopped early");
    assert_eq!(answered.load(Ordering::SeqCst), requests);
    // Ids read for a request that had not been sent when the stop came are
    // `Interrupted`; those never read get nothing.
    assert!(found + not_sent < 2_000, "{found} found, {not_sent} read but not sent");
}

#[tokio::test]
async fn fallback_streams_ask_each_provider_only_for_what_the_ones_before_failed_on() {
    // X finds the even ids only; SocialData finds everything it is asked.
    let x = MockServer::start().await;
    batch_endpoint()
        .respond_with(|request: &Request| {
            let ids = spaces_mock::requested_ids(request);
            let found: Vec<serde_json::Value> = ids
                .iter()
                .filter(|id| id.ends_with(['0', '2', '4', '6', '8']))
                .map(|id| serde_json::json!({"id": id, "state": "live"}))
                .collect();
            json(200, &serde_json::json!({"data": found}).to_string())
        })
        .mount(&x)
        .await;
    let socialdata = MockServer::start().await;
    endpoint(Provider::SocialData)
        .respond_with(|request: &Request| {
            let id = requested_id(Provider::SocialData, request);
            json(200, &with_member(recorded_space(Provider::SocialData), "id", id.as_str()))
        })
        .mount(&socialdata)
        .await;
    let providers = Providers::new([
        test_client(Provider::X, base_url(&x, Provider::X)),
        test_client(Provider::SocialData, base_url(&socialdata, Provider::SocialData)),
    ]);
    let asked = ids(150);
    let outcomes: Vec<_> = providers.lookup(asked.clone()).fallback().collect().await;
    assert_eq!(outcomes.iter().map(|outcome| outcome.id.clone()).collect::<Vec<_>>(), asked);
    for outcome in &outcomes {
        let answer = outcome.result.as_ref().expect("one of them has it");
        let even = outcome.id.ends_with(['0', '2', '4', '6', '8']);
        let expected = if even { Provider::X } else { Provider::SocialData };
        assert_eq!(answer.value.provider, expected, "{}", outcome.id);
        assert_eq!(answer.attempts.len(), if even { 1 } else { 2 });
    }
    assert_eq!(x.received_requests().await.map(|requests| requests.len()), Some(2), "X through its batch endpoint");
    let socialdata_asked = socialdata.received_requests().await.map_or(0, |requests| requests.len());
    assert_eq!(socialdata_asked, 75, "SocialData only for the odd ids X did not have");
}

#[tokio::test]
async fn merge_streams_give_each_id_every_providers_answer_merged() {
    let x = MockServer::start().await;
    batch_endpoint().respond_with(EveryIdFound).mount(&x).await;
    let socialdata = MockServer::start().await;
    endpoint(Provider::SocialData).respond_with(not_found(Provider::SocialData, "-")).mount(&socialdata).await;
    let providers = Providers::new([
        test_client(Provider::X, base_url(&x, Provider::X)),
        test_client(Provider::SocialData, base_url(&socialdata, Provider::SocialData)),
    ]);
    let outcomes: Vec<_> = providers.lookup(ids(3)).merge().collect().await;
    for outcome in outcomes {
        let answer = outcome.result.expect("X answers");
        assert_eq!(answer.value.space.id, outcome.id);
        assert!(matches!(answer.attempts[1].error, Some(Error::NotFound { .. })), "{:?}", answer.attempts);
    }
}

// ---------------------------------------------------------------------------
// The binary

/// A loopback X batch endpoint on a runtime of its own, answering the first
/// request at once and each later one after `later`.
fn slow_x(later: Duration) -> (tokio::runtime::Runtime, MockServer, Arc<AtomicUsize>, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (server, answered) = runtime.block_on(first_fast(later));
    let url = base_url(&server, Provider::X);
    (runtime, server, answered, url)
}

fn ids_file(count: usize) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), ids(count).join("\n")).expect("ids");
    file
}

fn bulk_show(url: &str, ids: &tempfile::NamedTempFile) -> std::process::Command {
    // Built (the first call compiles the binary) before any clock starts.
    let mut command = spaces_bin();
    command
        .args(["show", "--provider", "x", "--concurrency", "2", "--no-rate-limit", "--base-url", url, "--ids-file"])
        .arg(ids.path())
        .env("X_BEARER_TOKEN", TEST_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn bulk_show_prints_its_first_line_within_one_requests_time() {
    // The later requests take 5 s: a line within 3 s came from the first.
    let (_runtime, _server, _, url) = slow_x(Duration::from_secs(5));
    let file = ids_file(1_000);
    let mut command = bulk_show(&url, &file);
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn spaces");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a line");
    let first_at = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("1Id0000000000"), "{first}");
    assert!(first_at < Duration::from_secs(3), "the first line came after {first_at:?}, not with the first answer");
}

#[test]
fn sigint_stops_sending_and_writes_every_answered_id() {
    let (runtime, server, answered, url) = slow_x(Duration::from_millis(300));
    let file = ids_file(3_000);
    let mut child = bulk_show(&url, &file).spawn().expect("spawn spaces");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the first line");
    lines.push(std::mem::take(&mut line));
    // The first request is answered: interrupt while the next ones are on their way.
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    while stdout.read_line(&mut line).expect("read") > 0 {
        lines.push(std::mem::take(&mut line));
    }
    let output = child.wait_with_output().expect("the run ends");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let requests = runtime.block_on(server.received_requests()).map_or(0, |requests| requests.len());
    assert_eq!(answered.load(Ordering::SeqCst), requests);
    assert!(requests < 30, "{requests} of 30 requests: sending stopped");
    assert_eq!(lines.len(), 100 * requests, "one line per id of every request answered\n{stderr}");
    assert!(stderr.contains("not sent (interrupted)"), "{stderr}");
    let summary = stderr.lines().last().unwrap_or_default();
    assert!(summary.starts_with(&format!("x: {} found, 0 failed", lines.len())), "{summary}");
}
