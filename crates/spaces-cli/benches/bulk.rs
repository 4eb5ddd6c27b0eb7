//! `spaces show --ids-file` at scale, against the local mock server, rate
//! limiter off, in two parts:
//!
//! 1. **X, batched vs one request per id.** 10,000 distinct X ids, every one
//!    found, through X's batch lookup (`GET /2/spaces?ids=`, 100 ids per
//!    request: the default) and with `--no-batch` (`GET /2/spaces/{id}`,
//!    one request per id), same concurrency, same run. The requests are
//!    counted on the server side, and each side's output is checked: every
//!    id answered exactly once, and asked exactly once.
//! 2. **SocialData (no batch endpoint) vs bare reqwest** doing the same
//!    requests at the same concurrency: the cost of the CLI over the floor.
//!
//! ```sh
//! cargo bench -p spaces-cli --bench bulk
//! SPACES_BENCH_BULK_IDS=1000 cargo bench -p spaces-cli --bench bulk
//! ```
//!
//! Everything asks one `spaces-mock` server (wiremock, in this process, on
//! 127.0.0.1), 32 requests in flight. X's answers carry the mock's
//! `x-rate-limit-*` headers (300 per 15 minutes per endpoint, never spent).
//! The measured side is always the real binary (ids read as they go, the
//! client, conversion, one NDJSON line per id). Peak memory is taken at two
//! id counts, to show it does not grow with them (for X, twice the ids: a
//! run of fewer ids than one window, 3,200 at 32 requests of 100, would
//! show less than the ceiling).

#[path = "measure.rs"]
mod measure;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, EveryIdFound, MockProviders, batch_endpoint, endpoint, requested_ids};
use wiremock::{Request, Respond, ResponseTemplate};

const CONCURRENCY: usize = 32;

/// X's documented budget for each Space endpoint: 300 requests per 15 minutes.
const X_BUDGET: (f64, f64) = (300.0, 15.0 * 60.0);

/// Counts the requests it answers and the ids they ask for, then answers as `inner`.
struct Counted<R> {
    inner: R,
    requests: Arc<AtomicUsize>,
    asked: Arc<Mutex<Vec<String>>>,
    ids: fn(&Request) -> Vec<String>,
}

impl<R: Respond> Respond for Counted<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let ids = (self.ids)(request);
        self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(ids);
        self.inner.respond(request)
    }
}

/// X's single lookup with every id found: the recorded demo Space under the requested id.
struct EverySingleFound {
    recorded: serde_json::Value,
}

impl Respond for EverySingleFound {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut body = self.recorded.clone();
        body["data"]["id"] = serde_json::Value::String(spaces_mock::requested_id(Provider::X, request));
        spaces_mock::json(200, &body.to_string())
    }
}

/// One side's server-side tally.
#[derive(Default)]
struct Tally {
    requests: Arc<AtomicUsize>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Tally {
    /// Requests so far and the ids they asked for, resetting both.
    fn take(&self) -> (usize, Vec<String>) {
        let asked = std::mem::take(&mut *self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        (self.requests.swap(0, Ordering::SeqCst), asked)
    }
}

/// Mounts the counting, every-id-found answers for X's batch and single
/// lookups on the mock, ahead of its recordings. Returns (batch, single) tallies.
fn mount_x(runtime: &tokio::runtime::Runtime, mock: &MockProviders) -> (Tally, Tally) {
    let (batch, single) = (Tally::default(), Tally::default());
    let recorded: serde_json::Value =
        serde_json::from_str(spaces_mock::recorded_space(Provider::X)).expect("the recorded X Space is JSON");
    runtime.block_on(async {
        let batch_answer = Counted {
            inner: mock.x_rate_limited(spaces_mock::x_multi::BATCH, EveryIdFound),
            requests: batch.requests.clone(),
            asked: batch.asked.clone(),
            ids: requested_ids,
        };
        batch_endpoint().respond_with(batch_answer).with_priority(1).mount(mock.server()).await;
        let single_answer = Counted {
            inner: mock.x_rate_limited(Provider::X.info().lookup.operation_id, EverySingleFound { recorded }),
            requests: single.requests.clone(),
            asked: single.asked.clone(),
            ids: |request| vec![spaces_mock::requested_id(Provider::X, request)],
        };
        endpoint(Provider::X).respond_with(single_answer).with_priority(1).mount(mock.server()).await;
    });
    (batch, single)
}

fn write_ids(path: &Path, ids: impl Iterator<Item = String>) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create ids file"));
    for id in ids {
        writeln!(file, "{id}").expect("write ids");
    }
    file.flush().expect("flush ids");
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("spaces-bench-{}-{name}", std::process::id()))
}

/// `spaces show --provider x --ids-file` over `ids` distinct ids (`extra`
/// arguments such as `--no-batch`), output to a file: the run, and how many
/// times each id has a line on stdout.
fn show_x(mock: &MockProviders, ids: &[String], extra: &[&str]) -> (measure::Run, HashMap<String, usize>) {
    let (ids_path, out_path) = (temp_path("x-ids.txt"), temp_path("x-out.ndjson"));
    write_ids(&ids_path, ids.iter().cloned());
    let out = std::fs::File::create(&out_path).expect("create output file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_spaces"));
    command
        .args(["show", "--provider", "x", "--no-rate-limit", "--base-url"])
        .arg(mock.base_url(Provider::X))
        .args(["--concurrency", &CONCURRENCY.to_string(), "--ids-file"])
        .arg(&ids_path)
        .args(extra)
        .env(Provider::X.info().env_var, DEMO_TOKEN);
    let run = measure::run_to(command, Stdio::from(out));
    let mut lines: HashMap<String, usize> = HashMap::new();
    let output = std::io::BufReader::new(std::fs::File::open(&out_path).expect("open output"));
    for line in output.lines() {
        let line = line.expect("read output");
        let space: serde_json::Value = serde_json::from_str(&line).expect("one Space per line");
        *lines.entry(space["id"].as_str().expect("an id").to_owned()).or_default() += 1;
    }
    let _ = std::fs::remove_file(&ids_path);
    let _ = std::fs::remove_file(&out_path);
    assert_eq!(run.exit_code, 0, "spaces show {extra:?} failed:\n{}", run.stderr);
    assert!(run.stderr.ends_with(&format!("x: {} found, 0 failed\n", ids.len())), "{extra:?}: {}", run.stderr);
    (run, lines)
}

/// Every id exactly once, nothing else.
fn assert_each_once(what: &str, ids: &[String], mut counts: HashMap<String, usize>) {
    for id in ids {
        assert_eq!(counts.remove(id), Some(1), "{what}: {id} must appear exactly once");
    }
    assert!(counts.is_empty(), "{what}: ids never asked for: {:?}", counts.keys().take(5).collect::<Vec<_>>());
}

fn tally_counts(asked: Vec<String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for id in asked {
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// What `requests` mean against X's documented budget: within one window,
/// or how many windows (and hours) they take at its rate.
fn budget(requests: usize) -> String {
    let (per_window, window_seconds) = X_BUDGET;
    let windows = requests as f64 / per_window;
    if windows <= 1.0 {
        "fit in one 15-minute window".to_owned()
    } else {
        format!("take {windows:.1} windows of 15 minutes, {:.1} h", windows * window_seconds / 3600.0)
    }
}

fn x_part(runtime: &tokio::runtime::Runtime, mock: &MockProviders, count: usize) {
    let (batch, single) = mount_x(runtime, mock);
    let ids: Vec<String> = (0..count).map(|n| format!("b{n:012}")).collect();
    assert!(!ids.iter().any(|id| id == DEMO_SPACE_ID));

    let (batched, lines) = show_x(mock, &ids, &[]);
    assert_each_once("batched output", &ids, lines);
    let (batched_requests, asked) = batch.take();
    assert_each_once("batched requests", &ids, tally_counts(asked));
    assert_eq!(single.take().0, 0, "batched: no single-Space request");

    let (unbatched, lines) = show_x(mock, &ids, &["--no-batch"]);
    assert_each_once("--no-batch output", &ids, lines);
    let (single_requests, asked) = single.take();
    assert_each_once("--no-batch requests", &ids, tally_counts(asked));
    assert_eq!(batch.take().0, 0, "--no-batch: no batch request");

    // Memory is bounded by the window (ids answered at a time: 100 per
    // request × --concurrency, so 3,200 here), not by the input: twice the
    // ids, the same peak.
    let double: Vec<String> = (0..count * 2).map(|n| format!("b{n:012}")).collect();
    let (double_run, lines) = show_x(mock, &double, &[]);
    assert_each_once("batched output (twice the ids)", &double, lines);
    batch.take();

    let per_second = |run: &measure::Run| count as f64 / run.wall.as_secs_f64();
    println!(
        "X: {count} distinct ids, all found, {CONCURRENCY} requests in flight, mock on 127.0.0.1, rate limiter off"
    );
    println!(
        "  batched (GET /2/spaces?ids=)       {batched_requests:>6} requests  {:>6.2} s  {:>7.0} ids/s  peak RSS {:.1} MiB ({} ids: {:.1} MiB)",
        batched.wall.as_secs_f64(),
        per_second(&batched),
        batched.peak_rss_mib,
        double.len(),
        double_run.peak_rss_mib
    );
    println!(
        "  --no-batch (GET /2/spaces/{{id}})    {single_requests:>6} requests  {:>6.2} s  {:>7.0} ids/s  peak RSS {:.1} MiB",
        unbatched.wall.as_secs_f64(),
        per_second(&unbatched),
        unbatched.peak_rss_mib
    );
    println!(
        "  every id answered exactly once and asked exactly once, both ways; requests {:.0}x fewer, wall time --no-batch / batched: {:.2}x",
        single_requests as f64 / batched_requests.max(1) as f64,
        measure::ratio(unbatched.wall, batched.wall)
    );
    println!(
        "  X's budget, 300 requests / 15 min per endpoint: batched, {batched_requests} requests {}; --no-batch, {single_requests} requests {}",
        budget(batched_requests),
        budget(single_requests)
    );
}

fn socialdata_part(runtime: &tokio::runtime::Runtime, mock: &MockProviders, ids: usize) {
    // The floor: the same GETs, bodies read and dropped, same concurrency.
    let url = format!("{}/twitter/space/{DEMO_SPACE_ID}", mock.base_url(Provider::SocialData));
    let bare = reqwest::Client::new();
    let started = Instant::now();
    let ok = runtime.block_on(
        futures_util::stream::iter(0..ids)
            .map(|_| {
                let request = bare.get(&url).bearer_auth(DEMO_TOKEN);
                async move { request.send().await.ok()?.bytes().await.ok() }
            })
            .buffer_unordered(CONCURRENCY)
            .filter(|body| std::future::ready(body.is_some()))
            .count(),
    );
    let baseline = started.elapsed();
    assert_eq!(ok, ids, "the mock answered every bare request");

    let small = show_socialdata(mock, ids / 10);
    let run = show_socialdata(mock, ids);
    let per_second = |seconds: f64| ids as f64 / seconds;
    println!("SocialData: {ids} ids, {CONCURRENCY} in flight, mock on 127.0.0.1, rate limiter off");
    println!(
        "  bare reqwest GETs:     {:>6.2} s  {:>7.0} ids/s",
        baseline.as_secs_f64(),
        per_second(baseline.as_secs_f64())
    );
    println!(
        "  spaces show --ids-file {:>6.2} s  {:>7.0} ids/s  peak RSS {:.1} MiB ({} ids: {:.1} MiB)",
        run.wall.as_secs_f64(),
        per_second(run.wall.as_secs_f64()),
        run.peak_rss_mib,
        ids / 10,
        small.peak_rss_mib
    );
    println!("  ratio show / bare: {:.2}x", measure::ratio(run.wall, baseline));
}

fn show_socialdata(mock: &MockProviders, ids: usize) -> measure::Run {
    let path = temp_path(&format!("socialdata-ids-{ids}.txt"));
    write_ids(&path, (0..ids).map(|_| DEMO_SPACE_ID.to_owned()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_spaces"));
    command
        .args(["show", "--provider", "socialdata", "--no-rate-limit", "--base-url"])
        .arg(mock.base_url(Provider::SocialData))
        .args(["--concurrency", &CONCURRENCY.to_string(), "--ids-file"])
        .arg(&path)
        .env(Provider::SocialData.info().env_var, DEMO_TOKEN);
    let run = measure::run(command);
    let _ = std::fs::remove_file(&path);
    assert_eq!(run.exit_code, 0, "spaces show failed:\n{}", run.stderr);
    assert!(run.stderr.contains(&format!("socialdata: {ids} found, 0 failed")), "every id answered: {}", run.stderr);
    run
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let ids: usize = std::env::var("SPACES_BENCH_BULK_IDS").ok().and_then(|value| value.parse().ok()).unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mock = runtime.block_on(MockProviders::start());
    x_part(&runtime, &mock, ids);
    socialdata_part(&runtime, &mock, ids);
}
