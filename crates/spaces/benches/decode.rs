//! What normalization costs on top of plain deserialization.
//!
//! For each payload, three measurements in the same run:
//! - `generated`: serde_json into the generated response type, through the
//!   `decode` function the spec's own success example carries (the floor:
//!   no library can read the body for less; it reads from a `&str`, so it
//!   even skips the UTF-8 check `decode` does);
//! - `decode`: `spaces::decode`, bytes to a normalized `Space` (parse + convert);
//! - `value`: `serde_json::from_slice::<serde_json::Value>` (what a caller
//!   without typed clients would do).
//!
//! Read the results as ratios (`decode / generated`, `decode / value`), not
//! as absolute times; `BENCHMARKS.md` records them. Payloads: every
//! registered provider's recorded demo Space (the one its spec embeds and
//! the mock serves), one group each, named after the provider; and a large
//! X response (10 speakers, 100 invited users, topics) built here.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use spaces::Provider;
use spaces::spec::generated::Example;

/// An X response at the size of a busy Space: a creator, 10 speakers (2 of
/// them hosts), 100 invited users, all expanded with every user field, and 5 topics.
pub fn large_x_response() -> Vec<u8> {
    let user = |n: usize| {
        json!({
            "id": format!("{}", 1_000_000_000 + n),
            "name": format!("Listener {n}"),
            "username": format!("listener_{n}"),
            "created_at": "2015-03-09T11:02:44.000Z",
            "description": "Audio enthusiast. Opinions my own. Building things with Rust and coffee.",
            "location": "Berlin, Germany",
            "url": "https://t.co/abc123",
            "protected": false,
            "verified": n.is_multiple_of(3),
            "verified_type": if n.is_multiple_of(3) { "blue" } else { "none" },
            "profile_image_url": format!("https://pbs.twimg.com/profile_images/{n}/a_normal.jpg"),
            "public_metrics": {
                "followers_count": 48_213 + n, "following_count": 512, "tweet_count": 10_342,
                "listed_count": 311, "like_count": 22_001
            }
        })
    };
    let id = |n: usize| format!("{}", 1_000_000_000 + n);
    let speakers: Vec<String> = (0..10).map(id).collect();
    let invited: Vec<String> = (10..110).map(id).collect();
    let topics: Vec<Value> = (0..5)
        .map(|n| json!({"id": format!("84892037131100160{n}"), "name": format!("Topic {n}"), "description": "All things audio"}))
        .collect();
    let body = json!({
        "data": {
            "id": "1vOGwMdBqpaKB", "state": "live", "title": "Audio Nights #42: a long evening of talk",
            "lang": "en", "created_at": "2024-06-01T19:55:12.000Z", "updated_at": "2024-06-01T20:01:00.000Z",
            "started_at": "2024-06-01T20:00:03.000Z", "scheduled_start": "2024-06-01T20:00:00.000Z",
            "creator_id": id(0), "host_ids": [id(0), id(1)], "speaker_ids": speakers,
            "invited_user_ids": invited, "topic_ids": topics.iter().map(|topic| topic["id"].clone()).collect::<Vec<_>>(),
            "is_ticketed": false, "participant_count": 1250, "subscriber_count": 310
        },
        "includes": { "users": (0..110).map(user).collect::<Vec<_>>(), "topics": topics }
    });
    serde_json::to_vec_pretty(&body).expect("serializes")
}

/// The provider's spec example of its recorded Space: its `decode` reads
/// any success body into the generated response type.
fn recorded_example(provider: Provider) -> &'static Example {
    let recorded = spaces_mock::recorded_space(provider);
    provider
        .info()
        .lookup
        .examples
        .iter()
        .find(|example| example.is_success() && example.body == recorded)
        .unwrap_or_else(|| panic!("{provider}: the recorded Space is no success example of its spec"))
}

fn group(c: &mut Criterion, name: &str, provider: Provider, body: &[u8]) {
    // Fail loudly rather than benchmark an error path.
    spaces::decode(provider, body).unwrap_or_else(|error| panic!("{name}: {error}"));
    let generated = recorded_example(provider).decode;
    let text = std::str::from_utf8(body).expect("bodies are UTF-8");
    generated(text).unwrap_or_else(|error| panic!("{name}: the generated type refuses it: {error}"));
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    group.bench_function("generated", |b| b.iter(|| generated(black_box(text)).expect("decodes")));
    group.bench_function("decode", |b| b.iter(|| spaces::decode(provider, black_box(body)).expect("decodes")));
    group.bench_function("value", |b| b.iter(|| serde_json::from_slice::<Value>(black_box(body)).expect("decodes")));
    group.finish();
}

fn bench(c: &mut Criterion) {
    for &provider in Provider::ALL {
        group(c, provider.as_str(), provider, spaces_mock::recorded_space(provider).as_bytes());
    }
    // X resolves every user it lists; a busy Space is where that costs.
    group(c, "x-large", Provider::X, &large_x_response());
}

criterion_group!(benches, bench);
criterion_main!(benches);
