//! `cargo xtask regen` warm, on this workspace's specs, with nothing to
//! change (the common case: CI's `--check`, a maintainer re-running it).
//!
//! In the same run:
//! - `read-specs` (the floor): read and YAML-parse every spec, nothing else;
//! - `regen`: lint, generate with progenitor, format with prettyplease,
//!   compare with the checked-in file, write nothing (all unchanged);
//! - `regen-check`: the same in check mode (`cargo xtask regen --check`).
//!
//! Targets: under 1 s each (wall time per run is the figure; the ratio to
//! `read-specs` says what generation costs over reading the input).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use xtask::regen::{self, Outcome, RegenOptions};

fn bench(c: &mut Criterion) {
    let options = RegenOptions::for_workspace();
    let check = RegenOptions { check: true, ..options.clone() };
    // Benchmarks must not rewrite the tree: everything is expected to be fresh.
    let reports = regen::run(&check).expect("regen --check runs");
    assert!(reports.iter().all(|report| report.outcome == Outcome::Unchanged), "run `cargo xtask regen` first");

    let specs: Vec<_> = std::fs::read_dir(&options.specs_dir)
        .expect("specs/")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();

    let mut group = c.benchmark_group("regen");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("read-specs", |b| {
        b.iter(|| {
            for path in &specs {
                let text = std::fs::read_to_string(path).expect("spec");
                black_box(serde_yaml::from_str::<serde_json::Value>(&text).expect("YAML"));
            }
        })
    });
    group.bench_function("regen", |b| b.iter(|| black_box(regen::run(&options).expect("regen"))));
    group.bench_function("regen-check", |b| b.iter(|| black_box(regen::run(&check).expect("regen --check"))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
