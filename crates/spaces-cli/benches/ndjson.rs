//! `spaces convert --ndjson` at scale: throughput and peak memory on a large
//! file of X responses, against a plain serde_json NDJSON pass over the same
//! file in the same run.
//!
//! ```sh
//! cargo bench -p spaces-cli --bench ndjson                       # 1 GiB
//! SPACES_BENCH_NDJSON_MIB=64 cargo bench -p spaces-cli --bench ndjson
//! ```
//!
//! The baseline parses each line into `serde_json::Value` and writes it
//! back out (one thread, output to `io::sink()`): the least any NDJSON
//! pipeline does with serde_json. The measured side is the real binary,
//! output to /dev/null, so its figure includes reading, decoding,
//! converting, serializing and writing. The file is generated into the temp
//! directory and deleted afterwards.

#[path = "measure.rs"]
mod measure;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Every X fixture of a single lookup that decodes to a Space, as one
/// compact line each (multi-Space bodies, `multi-*`, are left out: each
/// input line stays one Space, as in the figures measured before them).
fn response_lines() -> Vec<Vec<u8>> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/x");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| ["err-", "bad-", "multi-"].iter().all(|prefix| !name.starts_with(prefix)))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
            serde_json::to_vec(&value).expect("serialize")
        })
        .collect()
}

fn write_input(path: &Path, target_bytes: u64) -> (u64, u64) {
    let lines = response_lines();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).expect("create input"));
    let (mut written, mut count) = (0u64, 0u64);
    while written < target_bytes {
        for line in &lines {
            out.write_all(line).and_then(|()| out.write_all(b"\n")).expect("write input");
            written += line.len() as u64 + 1;
            count += 1;
        }
    }
    out.flush().expect("flush input");
    (written, count)
}

/// The floor: read lines, parse each into `Value`, write it back out.
fn plain_serde_json_pass(path: &Path) -> u64 {
    let mut input = BufReader::with_capacity(256 * 1024, File::open(path).expect("open input"));
    let mut out = BufWriter::new(std::io::sink());
    let (mut line, mut count) = (Vec::new(), 0u64);
    while input.read_until(b'\n', &mut line).expect("read") > 0 {
        let value: serde_json::Value = serde_json::from_slice(&line).expect("a JSON line");
        serde_json::to_writer(&mut out, &value).expect("write");
        out.write_all(b"\n").expect("write");
        line.clear();
        count += 1;
    }
    count
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only for real.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let mib: u64 = std::env::var("SPACES_BENCH_NDJSON_MIB").ok().and_then(|value| value.parse().ok()).unwrap_or(1024);
    let path = std::env::temp_dir().join(format!("spaces-bench-{}.ndjson", std::process::id()));
    let (bytes, lines) = write_input(&path, mib << 20);
    let size_mib = bytes as f64 / (1 << 20) as f64;
    println!("input: {size_mib:.0} MiB, {lines} X responses ({})", path.display());

    let started = Instant::now();
    let parsed = plain_serde_json_pass(&path);
    let baseline = started.elapsed();
    assert_eq!(parsed, lines);

    let mut command = Command::new(env!("CARGO_BIN_EXE_spaces"));
    command.args(["convert", "--provider", "x", "--ndjson"]).arg(&path);
    let run = measure::run(command);
    let _ = std::fs::remove_file(&path);
    assert_eq!(run.exit_code, 0, "spaces convert failed:\n{}", run.stderr);
    assert!(run.stderr.contains(&format!("x: {lines} converted, 0 failed")), "{}", run.stderr);

    let throughput = |seconds: f64| size_mib / seconds;
    println!(
        "plain serde_json pass (Value, 1 thread): {:>7.2} s  {:>6.1} MiB/s",
        baseline.as_secs_f64(),
        throughput(baseline.as_secs_f64())
    );
    println!(
        "spaces convert --ndjson:                 {:>7.2} s  {:>6.1} MiB/s  peak RSS {:.1} MiB",
        run.wall.as_secs_f64(),
        throughput(run.wall.as_secs_f64()),
        run.peak_rss_mib
    );
    println!("ratio convert / plain pass: {:.2}x (target: at most 2x)", measure::ratio(run.wall, baseline));
    println!("peak RSS target: under 64 MiB: {}", if run.peak_rss_mib < 64.0 { "met" } else { "NOT met" });
}
