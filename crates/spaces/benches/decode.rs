//! What normalization costs on top of plain deserialization.
//!
//! For each provider's richest fixture, in the same run:
//! - `baseline`: `serde_json::from_slice` into the generated response type;
//! - `decode`: `spaces::decode` (path-tracking parse + conversion into `Space`).
//!
//! Read the result as the ratio decode / baseline, not as absolute times.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use spaces::Provider;
use spaces::generated::{aisa, socialdata, x};

fn fixture(provider: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/{provider}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn bench(c: &mut Criterion) {
    let x_body = fixture("x", "live-with-speakers-and-topics.json");
    let socialdata_body = fixture("socialdata", "doc-ended.json");
    let aisa_body = fixture("aisa", "ended-algorithm.json");

    let mut group = c.benchmark_group("x");
    group.bench_function("baseline", |b| {
        b.iter(|| serde_json::from_slice::<x::types::SpaceLookupResponse>(black_box(&x_body)).expect("decodes"))
    });
    group.bench_function("decode", |b| b.iter(|| spaces::decode(Provider::X, black_box(&x_body)).expect("decodes")));
    group.finish();

    let mut group = c.benchmark_group("socialdata");
    group.bench_function("baseline", |b| {
        b.iter(|| {
            serde_json::from_slice::<socialdata::types::SpaceShowResponse>(black_box(&socialdata_body))
                .expect("decodes")
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| spaces::decode(Provider::SocialData, black_box(&socialdata_body)).expect("decodes"))
    });
    group.finish();

    let mut group = c.benchmark_group("aisa");
    group.bench_function("baseline", |b| {
        b.iter(|| serde_json::from_slice::<aisa::types::SpaceDetailResponse>(black_box(&aisa_body)).expect("decodes"))
    });
    group.bench_function("decode", |b| {
        b.iter(|| spaces::decode(Provider::Aisa, black_box(&aisa_body)).expect("decodes"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
