//! `spaces show --ids-file` at scale, against the local mock server
//! answering each request after a set latency (50 ms by default, about a
//! real provider's), rate limiter off, in two parts:
//!
//! 1. **X, batched vs one request per id.** 10,000 distinct X ids, every one
//!    found, through X's batch lookup (`GET /2/spaces?ids=`, 100 ids per
//!    request: the default) and with `--no-batch` (`GET /2/spaces/{id}`,
//!    one request per id), same concurrency, same run.
//! 2. **SocialData (no batch endpoint) vs bare reqwest** doing the same
//!    requests (the same distinct ids) at the same concurrency: the cost of
//!    the CLI over the floor.
//!
//! For each run of the CLI: the requests it sent (counted on the server
//! side), the time from spawn to its first line on stdout (the first Space:
//! what a reader waits before it has anything), the total time, the first
//! line as a share of the total, and peak memory. Each run's output is
//! checked: one line per id, in input order, nothing else; and each id was
//! asked in exactly one request.
//!
//! ```sh
//! cargo bench -p spaces-cli --bench bulk
//! SPACES_BENCH_BULK_IDS=1000 cargo bench -p spaces-cli --bench bulk
//! SPACES_BENCH_BULK_LATENCY_MS=0 cargo bench -p spaces-cli --bench bulk   # what the CLI costs, latency aside
//! ```
//!
//! Everything asks one `spaces-mock` server (wiremock, in this process, on
//! 127.0.0.1), 32 requests in flight; every answer this bench mounts waits
//! `SPACES_BENCH_BULK_LATENCY_MS` before it is sent. X's answers carry the
//! mock's `x-rate-limit-*` headers (300 per 15 minutes per endpoint, never
//! spent). The measured side is always the real binary (ids read as they
//! go, the client, conversion, one NDJSON line per id), its stdout read
//! through a pipe. Peak memory is taken at two id counts, to show it does
//! not grow with them.

#[path = "measure.rs"]
mod measure;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, EveryIdFound, MockProviders, batch_endpoint, endpoint, requested_ids};
use wiremock::{Request, Respond, ResponseTemplate};

const CONCURRENCY: usize = 32;

/// How long the mock takes to answer each request, unless
/// `SPACES_BENCH_BULK_LATENCY_MS` says otherwise.
const LATENCY_MS: u64 = 50;

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

/// Answers as `inner`, `latency` later (wiremock waits without holding a thread).
struct Delayed<R> {
    inner: R,
    latency: Duration,
}

impl<R: Respond> Respond for Delayed<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.inner.respond(request).set_delay(self.latency)
    }
}

/// A single lookup with every id found: the provider's recorded demo Space
/// under the requested id (at `id_at`, a JSON pointer into the body).
struct EverySingleFound {
    provider: Provider,
    recorded: serde_json::Value,
    id_at: &'static str,
}

impl EverySingleFound {
    fn new(provider: Provider, id_at: &'static str) -> EverySingleFound {
        let recorded: serde_json::Value =
            serde_json::from_str(spaces_mock::recorded_space(provider)).expect("the recorded Space is JSON");
        assert_eq!(recorded.pointer(id_at), Some(&DEMO_SPACE_ID.into()), "{provider}: the id is at {id_at}");
        EverySingleFound { provider, recorded, id_at }
    }
}

impl Respond for EverySingleFound {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut body = self.recorded.clone();
        if let Some(id) = body.pointer_mut(self.id_at) {
            *id = serde_json::Value::String(spaces_mock::requested_id(self.provider, request));
        }
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

    /// `inner`, counted here, answering after the latency.
    fn counting<R: Respond>(&self, inner: R, ids: fn(&Request) -> Vec<String>) -> Counted<Delayed<R>> {
        Counted {
            inner: Delayed { inner, latency: latency() },
            requests: self.requests.clone(),
            asked: self.asked.clone(),
            ids,
        }
    }
}

/// The mock's latency, from `SPACES_BENCH_BULK_LATENCY_MS`.
fn latency() -> Duration {
    static LATENCY: OnceLock<Duration> = OnceLock::new();
    *LATENCY.get_or_init(|| Duration::from_millis(env_number("SPACES_BENCH_BULK_LATENCY_MS", LATENCY_MS)))
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// Mounts the counting, every-id-found, delayed answers for X's batch and
/// single lookups on the mock, ahead of its recordings. Returns (batch, single) tallies.
fn mount_x(runtime: &tokio::runtime::Runtime, mock: &MockProviders) -> (Tally, Tally) {
    let (batch, single) = (Tally::default(), Tally::default());
    runtime.block_on(async {
        let batch_answer =
            batch.counting(mock.x_rate_limited(spaces_mock::x_multi::BATCH, EveryIdFound), requested_ids);
        batch_endpoint().respond_with(batch_answer).with_priority(1).mount(mock.server()).await;
        let found = EverySingleFound::new(Provider::X, "/data/id");
        let single_answer = single
            .counting(mock.x_rate_limited(Provider::X.info().lookup.operation_id, found), |request| {
                vec![spaces_mock::requested_id(Provider::X, request)]
            });
        endpoint(Provider::X).respond_with(single_answer).with_priority(1).mount(mock.server()).await;
    });
    (batch, single)
}

/// Mounts the counting, every-id-found, delayed answer for SocialData's
/// lookup on the mock, ahead of its recordings.
fn mount_socialdata(runtime: &tokio::runtime::Runtime, mock: &MockProviders) -> Tally {
    let tally = Tally::default();
    let answer = tally.counting(EverySingleFound::new(Provider::SocialData, "/id"), |request| {
        vec![spaces_mock::requested_id(Provider::SocialData, request)]
    });
    runtime.block_on(endpoint(Provider::SocialData).respond_with(answer).with_priority(1).mount(mock.server()));
    tally
}

fn write_ids(path: &Path, ids: &[String]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create ids file"));
    for id in ids {
        writeln!(file, "{id}").expect("write ids");
    }
    file.flush().expect("flush ids");
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("spaces-bench-{}-{name}", std::process::id()))
}

/// Distinct, valid Space ids (13 characters), none of them the demo Space.
fn distinct_ids(count: usize) -> Vec<String> {
    let ids: Vec<String> = (0..count).map(|n| format!("b{n:012}")).collect();
    assert!(!ids.iter().any(|id| id == DEMO_SPACE_ID));
    ids
}

/// `spaces show --provider P --ids-file` over `ids` (`extra` arguments
/// such as `--no-batch`), its stdout read as it comes: the run, after
/// checking that it printed one line per id, in input order, and nothing else.
fn show(provider: Provider, mock: &MockProviders, ids: &[String], extra: &[&str]) -> measure::Run {
    let ids_path = temp_path(&format!("{provider}-ids.txt"));
    write_ids(&ids_path, ids);
    let mut command = Command::new(env!("CARGO_BIN_EXE_spaces"));
    command
        .args(["show", "--provider", provider.as_str(), "--no-rate-limit", "--base-url"])
        .arg(mock.base_url(provider))
        .args(["--concurrency", &CONCURRENCY.to_string(), "--ids-file"])
        .arg(&ids_path)
        .args(extra)
        .env(provider.info().env_var, DEMO_TOKEN);
    let (run, output) = measure::run_reading(command, Vec::new());
    let _ = std::fs::remove_file(&ids_path);
    let what = format!("{provider} {extra:?}");
    assert_eq!(run.exit_code, 0, "{what}: spaces show failed:\n{}", run.stderr);
    let summary = format!("{provider}: {} found, 0 failed\n", ids.len());
    assert!(run.stderr.ends_with(&summary), "{what}: every id answered: {}", run.stderr);
    let output = String::from_utf8(output).expect("UTF-8 output");
    let mut printed = 0;
    for (index, line) in output.lines().enumerate() {
        let space: serde_json::Value = serde_json::from_str(line).expect("one Space per line");
        let id = space["id"].as_str().expect("an id");
        assert_eq!(Some(id), ids.get(index).map(String::as_str), "{what}: line {} is not the input's", index + 1);
        printed += 1;
    }
    assert_eq!(printed, ids.len(), "{what}: one line per id");
    assert!(run.first_line.is_some());
    run
}

/// Every id exactly once, nothing else.
fn assert_each_once(what: &str, ids: &[String], asked: Vec<String>) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for id in asked {
        *counts.entry(id).or_default() += 1;
    }
    for id in ids {
        assert_eq!(counts.remove(id), Some(1), "{what}: {id} must be asked exactly once");
    }
    assert!(counts.is_empty(), "{what}: ids never asked for: {:?}", counts.keys().take(5).collect::<Vec<_>>());
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

const HEADER: &str = "requests  first line      total  first/total    ids/s  peak RSS";

/// One run's line: requests, time to the first line, total, their ratio, throughput, peak memory.
fn row(label: &str, requests: usize, ids: usize, run: &measure::Run) -> String {
    let first = run.first_line.unwrap_or_default();
    format!(
        "  {label:<34} {requests:>8}  {:>8.3} s  {:>7.2} s  {:>11.3}  {:>7.0}  {:.1} MiB",
        first.as_secs_f64(),
        run.wall.as_secs_f64(),
        measure::ratio(first, run.wall),
        ids as f64 / run.wall.as_secs_f64(),
        run.peak_rss_mib
    )
}

fn conditions() -> String {
    format!(
        "{CONCURRENCY} requests in flight, each answered after {} ms, mock on 127.0.0.1, rate limiter off",
        latency().as_millis()
    )
}

fn x_part(runtime: &tokio::runtime::Runtime, mock: &MockProviders, count: usize) {
    let (batch, single) = mount_x(runtime, mock);
    let ids = distinct_ids(count);

    let batched = show(Provider::X, mock, &ids, &[]);
    let (batched_requests, asked) = batch.take();
    assert_each_once("batched requests", &ids, asked);
    assert_eq!(single.take().0, 0, "batched: no single-Space request");

    let unbatched = show(Provider::X, mock, &ids, &["--no-batch"]);
    let (single_requests, asked) = single.take();
    assert_each_once("--no-batch requests", &ids, asked);
    assert_eq!(batch.take().0, 0, "--no-batch: no batch request");

    // Memory is bounded by the requests in flight (32 of 100 ids, and the
    // outcomes waiting for the requests before them), not by the input:
    // twice the ids, the same peak.
    let double = distinct_ids(count * 2);
    let double_run = show(Provider::X, mock, &double, &[]);
    let (double_requests, asked) = batch.take();
    assert_each_once("batched requests (twice the ids)", &double, asked);

    println!("X: {count} distinct ids, all found, {}", conditions());
    println!("  {:<34} {HEADER}", "");
    println!("{}", row("batched (GET /2/spaces?ids=)", batched_requests, count, &batched));
    println!("{}", row("--no-batch (GET /2/spaces/{id})", single_requests, count, &unbatched));
    println!("{}", row(&format!("batched, {} ids", double.len()), double_requests, double.len(), &double_run));
    println!(
        "  every id on one line, in input order, and asked exactly once, every way; requests {:.0}x fewer, \
         total --no-batch / batched: {:.2}x, first line --no-batch / batched: {:.2}x",
        single_requests as f64 / batched_requests.max(1) as f64,
        measure::ratio(unbatched.wall, batched.wall),
        measure::ratio(unbatched.first_line.unwrap_or_default(), batched.first_line.unwrap_or_default()),
    );
    println!(
        "  X's budget, 300 requests / 15 min per endpoint: batched, {batched_requests} requests {}; --no-batch, {single_requests} requests {}",
        budget(batched_requests),
        budget(single_requests)
    );
}

fn socialdata_part(runtime: &tokio::runtime::Runtime, mock: &MockProviders, count: usize) {
    let tally = mount_socialdata(runtime, mock);
    let ids = distinct_ids(count);

    // The floor: the same GETs, bodies read and dropped, same concurrency.
    let base = format!("{}/twitter/space", mock.base_url(Provider::SocialData));
    let bare = reqwest::Client::new();
    let started = Instant::now();
    let first_body: OnceLock<Duration> = OnceLock::new();
    let ok = runtime.block_on(
        futures_util::stream::iter(&ids)
            .map(|id| {
                let request = bare.get(format!("{base}/{id}")).bearer_auth(DEMO_TOKEN);
                async move { request.send().await.ok()?.error_for_status().ok()?.bytes().await.ok() }
            })
            .buffer_unordered(CONCURRENCY)
            .filter(|body| {
                if body.is_some() {
                    first_body.get_or_init(|| started.elapsed());
                }
                std::future::ready(body.is_some())
            })
            .count(),
    );
    let baseline = started.elapsed();
    let first_body = first_body.get().copied().unwrap_or_default();
    assert_eq!(ok, count, "the mock answered every bare request");
    let (bare_requests, asked) = tally.take();
    assert_each_once("bare requests", &ids, asked);

    let small_ids = &ids[..count / 10];
    let small = show(Provider::SocialData, mock, small_ids, &[]);
    let (small_requests, asked) = tally.take();
    assert_each_once("spaces show requests (a tenth of the ids)", small_ids, asked);
    let run = show(Provider::SocialData, mock, &ids, &[]);
    let (requests, asked) = tally.take();
    assert_each_once("spaces show requests", &ids, asked);

    println!("SocialData: {count} distinct ids, all found, {}", conditions());
    println!("  {:<34} {HEADER}", "");
    println!(
        "  {:<34} {bare_requests:>8}  {:>8.3} s  {:>7.2} s  {:>11.3}  {:>7.0}  (first line: the first body read)",
        "bare reqwest GETs (bodies read)",
        first_body.as_secs_f64(),
        baseline.as_secs_f64(),
        measure::ratio(first_body, baseline),
        count as f64 / baseline.as_secs_f64()
    );
    println!("{}", row("spaces show --ids-file", requests, count, &run));
    println!(
        "{}",
        row(&format!("spaces show --ids-file, {} ids", small_ids.len()), small_requests, small_ids.len(), &small)
    );
    println!(
        "  every id on one line, in input order, and asked exactly once; total show / bare: {:.2}x, \
         first line show / bare's first body: {:.2}x",
        measure::ratio(run.wall, baseline),
        measure::ratio(run.first_line.unwrap_or_default(), first_body)
    );
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let ids: usize = env_number("SPACES_BENCH_BULK_IDS", 10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mock = runtime.block_on(MockProviders::start());
    x_part(&runtime, &mock, ids);
    socialdata_part(&runtime, &mock, ids);
}
