//! `spaces show --ids-file` at scale: 10,000 ids against the local mock
//! server, rate limiter off, against bare reqwest doing the same requests at
//! the same concurrency in the same run.
//!
//! ```sh
//! cargo bench -p spaces-cli --bench bulk
//! SPACES_BENCH_BULK_IDS=1000 cargo bench -p spaces-cli --bench bulk
//! ```
//!
//! Both sides ask the same `spaces-mock` server (wiremock, in this process,
//! on 127.0.0.1) for the recorded Space, 32 requests in flight. The bare side
//! only GETs and reads each body; the measured side is the real binary
//! (ids read as they go, the client, conversion, one NDJSON line per id).
//! Peak memory is taken at two id counts, to show it does not grow with them.

#[path = "measure.rs"]
mod measure;

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use futures_util::StreamExt;
use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders};

const CONCURRENCY: usize = 32;

fn show_bulk(mock: &MockProviders, ids: usize) -> measure::Run {
    let path = std::env::temp_dir().join(format!("spaces-bench-ids-{}-{ids}.txt", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create ids file"));
    for _ in 0..ids {
        writeln!(file, "{DEMO_SPACE_ID}").expect("write ids");
    }
    file.flush().expect("flush ids");
    drop(file);
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

    // The floor: the same GETs, bodies read and dropped, same concurrency.
    let url = format!("{}/twitter/spaces/show?id={DEMO_SPACE_ID}", mock.base_url(Provider::SocialData));
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

    let small = show_bulk(&mock, ids / 10);
    let run = show_bulk(&mock, ids);
    let per_second = |seconds: f64| ids as f64 / seconds;
    println!("{ids} ids, {CONCURRENCY} in flight, mock on 127.0.0.1, rate limiter off");
    println!(
        "bare reqwest GETs:     {:>6.2} s  {:>7.0} ids/s",
        baseline.as_secs_f64(),
        per_second(baseline.as_secs_f64())
    );
    println!(
        "spaces show --ids-file {:>6.2} s  {:>7.0} ids/s  peak RSS {:.1} MiB ({} ids: {:.1} MiB)",
        run.wall.as_secs_f64(),
        per_second(run.wall.as_secs_f64()),
        run.peak_rss_mib,
        ids / 10,
        small.peak_rss_mib
    );
    println!("ratio show / bare: {:.2}x", measure::ratio(run.wall, baseline));
}
