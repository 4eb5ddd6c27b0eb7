//! What the client costs on top of a bare HTTP request.
//!
//! Against one in-process HTTP/1.1 server on 127.0.0.1 that answers every
//! request with the same recorded body, in the same run:
//! - `bare`: a `reqwest::Client` GET of the endpoint URL, the body read, and
//!   `serde_json::from_slice` into the generated response type (the floor);
//! - `generated`: the progenitor-generated client's `get_space(id)` alone,
//!   on the same `reqwest::Client` (request building, query encoding,
//!   `ResponseValue` decoding): what the schema-first layer itself costs;
//! - `client`: `spaces::Client::space(id)` (id check, generated client, hooks
//!   with body cap, retry loop, tracing span, interpretation, conversion),
//!   rate limiter off.
//!
//! Each at 1 request at a time and at 64 concurrent requests. Read the
//! results as ratios `client / bare`; `BENCHMARKS.md` records them.
//!
//! The server is a few lines over tokio rather than wiremock: wiremock's
//! request matching and recording would dominate both sides and hide the
//! difference being measured.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use spaces::spec::generated::socialdata;
use spaces::{Client, Provider, RetryPolicy, Token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ID: &str = "1jMJgLdenVjxL";

/// Serves `body` with a 200 to every request, keeping connections alive.
async fn serve_forever(listener: TcpListener, body: &'static [u8]) {
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
    let response: &'static [u8] = [head.as_bytes(), body].concat().leak();
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 16 * 1024];
            let mut filled = 0;
            loop {
                // A GET has no body: a request is complete at the blank line.
                match stream.read(&mut buffer[filled..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => filled += read,
                }
                while let Some(end) = buffer[..filled].windows(4).position(|window| window == b"\r\n\r\n") {
                    if stream.write_all(response).await.is_err() {
                        return;
                    }
                    buffer.copy_within(end + 4..filled, 0);
                    filled -= end + 4;
                }
                if filled == buffer.len() {
                    return; // not HTTP we understand
                }
            }
        });
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let path = format!("{}/../../tests/fixtures/socialdata/doc-ended.json", env!("CARGO_MANIFEST_DIR"));
    let body: &'static [u8] = std::fs::read(&path).expect("fixture").leak();
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    runtime.spawn(serve_forever(listener, body));

    let client = Client::builder(Provider::SocialData)
        .token(Token::new("bench-token"))
        .base_url(&base_url)
        .retry(RetryPolicy::none())
        .rate_limiting(spaces::RateLimiting::Off)
        .build()
        .expect("client");
    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client");
    let url = format!("{base_url}/twitter/space/{ID}");
    let bare_get = |bare: reqwest::Client, url: String| async move {
        let response = bare.get(&url).bearer_auth("bench-token").send().await.expect("response");
        let bytes = response.bytes().await.expect("body");
        serde_json::from_slice::<socialdata::types::SpaceShowResponse>(&bytes).expect("decodes")
    };
    let generated = socialdata::Client::new_with_client(&base_url, bare.clone());
    // Every side must succeed before it is timed.
    runtime.block_on(client.space(ID)).expect("client works");
    runtime.block_on(generated.get_space(ID)).expect("generated client works");
    runtime.block_on(bare_get(bare.clone(), url.clone()));

    for concurrency in [1usize, 64] {
        let mut group = c.benchmark_group(format!("round-trip-{concurrency}"));
        group.measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
        group.bench_function("bare", |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let requests = (0..concurrency).map(|_| bare_get(bare.clone(), url.clone()));
                    black_box(join_all(requests).await)
                })
            })
        });
        group.bench_function("generated", |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let requests = (0..concurrency).map(|_| generated.get_space(ID));
                    let spaces = join_all(requests).await;
                    assert_eq!(black_box(spaces.into_iter().filter(Result::is_ok).count()), concurrency)
                })
            })
        });
        group.bench_function("client", |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let requests = (0..concurrency).map(|_| client.space(ID));
                    let spaces = join_all(requests).await;
                    assert_eq!(black_box(spaces.into_iter().filter(Result::is_ok).count()), concurrency)
                })
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
