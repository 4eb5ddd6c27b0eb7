//! The CLI under pressure: bulk modes never lose or duplicate an id or a
//! line, and no token reaches stdout or stderr, logs included.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use spaces::Provider;
use spaces_mock::{batch_endpoint, endpoint, json, not_found, requested_id, requested_ids};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::cli::{run, spaces_bin, text, x_batch_body};
use crate::support::{TEST_TOKEN, recorded_with};

/// X-shaped answers by id prefix: `ok…` found, `nf…` not found; and every
/// third request overall fails with a 500, so retries are exercised. Both
/// X's single lookup and its batch lookup (`GET /2/spaces?ids=`).
struct Flaky {
    requests: AtomicUsize,
}

impl Respond for Flaky {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if self.requests.fetch_add(1, Ordering::SeqCst) % 3 == 2 {
            return ResponseTemplate::new(500).set_body_string("flaky upstream");
        }
        if request.url.path() == "/2/spaces" {
            let ids = requested_ids(request);
            return json(200, &x_batch_body(&ids, |id| id.starts_with("ok")));
        }
        let id = requested_id(Provider::X, request);
        if id.starts_with("nf") {
            return not_found(Provider::X, &id);
        }
        json(200, &recorded_with(Provider::X, "id", id))
    }
}

fn flaky_runtime() -> (tokio::runtime::Runtime, MockServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        let flaky = Arc::new(Flaky { requests: AtomicUsize::new(0) });
        endpoint(Provider::X).respond_with(Shared(flaky.clone())).mount(&server).await;
        batch_endpoint().respond_with(Shared(flaky)).mount(&server).await;
        server
    });
    (runtime, server)
}

/// One responder behind two mounts.
struct Shared<R>(Arc<R>);

impl<R: Respond> Respond for Shared<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

#[test]
fn bulk_show_gives_every_id_exactly_one_line_through_a_flaky_server() {
    // Batched (360 valid ids: 4 requests of up to 100, the third of which
    // fails and is retried; well within X's budget, limiter on) and one
    // request per id (about 45 with the retries: over the limiter's burst of
    // 30, after which it spaces requests 3 s apart, so it is off).
    for (batching, copies) in [(&[][..], 12), (&["--no-batch", "--no-rate-limit"][..], 1)] {
        let (_runtime, server) = flaky_runtime();
        let good: Vec<String> = (0..24 * copies).map(|n| format!("ok{n:03}AAAA")).collect();
        let missing: Vec<String> = (0..6 * copies).map(|n| format!("nf{n:03}BBBB")).collect();
        let invalid = ["bad id!", "ñandú", "waytoolongtobeanid"];
        let mut ids: Vec<String> = good.iter().chain(&missing).cloned().collect();
        ids.extend(invalid.iter().map(|id| (*id).to_owned()));
        ids.sort_by_key(|id| id.chars().rev().collect::<String>()); // interleave the kinds

        let mut command = spaces_bin();
        command.args(["show", "--provider", "x", "--base-url", &server.uri(), "--concurrency", "4", "--timeout", "5"]);
        command.args(batching).env("X_BEARER_TOKEN", TEST_TOKEN);
        let output = run(command, (ids.join("\n") + "\n").as_bytes());
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));

        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for line in stdout.lines() {
            let space: serde_json::Value = serde_json::from_str(line).expect("one Space per stdout line");
            *seen.entry(space["id"].as_str().expect("id").to_owned()).or_default() += 1;
        }
        let found: Vec<String> = seen.keys().cloned().collect();
        for line in stderr.lines().filter(|line| line.starts_with("error: ")) {
            let id = ids
                .iter()
                .find(|id| line.starts_with(&format!("error: {id}: ")))
                .unwrap_or_else(|| panic!("unknown id in {line}"));
            *seen.entry(id.clone()).or_default() += 1;
            if good.contains(id) {
                assert!(
                    line.contains("HTTP 500"),
                    "a good id only fails when the flakiness outlasts the retries: {line}"
                );
            }
        }
        for id in &ids {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "{batching:?}: {id} must have exactly one line\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
        }
        assert!(found.iter().all(|id| good.contains(id)), "only good ids succeed: {found:?}");
        // A batch that fails all its attempts fails every id it carried.
        let rescued = if batching.is_empty() { good.len().saturating_sub(100) } else { good.len() - 2 };
        assert!(found.len() >= rescued, "retries rescue the flaky answers: {} of {}", found.len(), good.len());
        assert_eq!(output.status.code(), Some(1), "failures make the exit code non-zero");
        assert!(stderr.contains(&format!("{} found", found.len())), "{stderr}");
    }
}

#[test]
fn ndjson_convert_gives_every_line_exactly_one_outcome() {
    let good = r#"{"data":{"id":"1SLjjRYNejbKM","state":"live"}}"#;
    let not_found =
        r#"{"errors":[{"type":"https://api.x.com/2/problems/resource-not-found","resource_id":"1OdKrjgmNkeKX"}]}"#;
    let mut lines = Vec::new();
    for n in 0..300 {
        lines.push(match n % 5 {
            0 | 1 => good.to_owned(),
            2 => not_found.to_owned(),
            3 => format!(r#"{{"data":{{"id":"1SLjjRYNejbKM","state":"live","participant_count":"{n}"}}}}"#),
            _ => "{truncated".to_owned(),
        });
    }
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", "--ndjson"]);
    let output = run(command, (lines.join("\n") + "\n").as_bytes());
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(stdout.lines().count(), 120, "two in five lines are good");
    let error_lines: Vec<usize> =
        stderr.lines().filter_map(|line| line.strip_prefix("error: line ")?.split(':').next()?.parse().ok()).collect();
    let expected: Vec<usize> = (1..=300).filter(|n| (n - 1) % 5 >= 2).collect();
    assert_eq!(error_lines, expected, "every bad line is reported once, by number, in order");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn ndjson_convert_keeps_input_order_across_parallel_batches() {
    // ~8 MB of input: dozens of batches, decoded on several threads; the
    // output must still follow the input, line for line.
    let padding = "x".repeat(2_000);
    let mut lines = Vec::new();
    for n in 0..4_000 {
        lines.push(if n % 97 == 13 {
            "{truncated".to_owned()
        } else {
            format!(r#"{{"data":{{"id":"1SLjjRYNejbKM","state":"live","participant_count":{n},"title":"{padding}"}}}}"#)
        });
    }
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", "--ndjson"]);
    let output = run(command, (lines.join("\n") + "\n").as_bytes());
    let counts: Vec<u64> = text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("JSON line")["participant_count"]
                .as_u64()
                .expect("count")
        })
        .collect();
    let expected: Vec<u64> = (0..4_000u64).filter(|n| n % 97 != 13).collect();
    assert_eq!(counts, expected, "Spaces come out in input order, none lost or repeated");
    let stderr = text(&output.stderr);
    let error_lines: Vec<usize> =
        stderr.lines().filter_map(|line| line.strip_prefix("error: line ")?.split(':').next()?.parse().ok()).collect();
    let expected_errors: Vec<usize> = (0..4_000).filter(|n| n % 97 == 13).map(|n| n + 1).collect();
    assert_eq!(error_lines, expected_errors, "failures reported by line number, in order");
    assert!(
        stderr.ends_with(&format!("x: {} converted, {} failed\n", expected.len(), expected_errors.len())),
        "{stderr}"
    );
}

/// Echoes the request's Authorization header back in the body: a hostile server.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request.headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or_default();
        ResponseTemplate::new(self.0).set_body_string(format!("you sent: {auth}"))
    }
}

#[test]
fn no_cli_output_ever_shows_the_token() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let servers: Vec<MockServer> = runtime.block_on(async {
        let mut servers = Vec::new();
        for status in [401, 403, 418, 500] {
            let server = MockServer::start().await;
            endpoint(Provider::X).respond_with(Echo(status)).mount(&server).await;
            batch_endpoint().respond_with(Echo(status)).mount(&server).await;
            servers.push(server);
        }
        servers
    });
    let mut outputs = Vec::new();
    for server in &servers {
        for args in [
            vec!["show", "1jMJgLdenVjxL"],
            vec!["show", "1jMJgLdenVjxL", "--format", "table"],
            vec!["show", "--ids-file", "-"],
            vec!["show", "--ids-file", "-", "--no-batch"],
            vec!["search", "radio"],
            vec!["by-creator", "2244994945"],
        ] {
            let mut command = spaces_bin();
            command.args(&args).args(["--provider", "x", "--base-url", &server.uri(), "--timeout", "5"]);
            command.env("X_BEARER_TOKEN", TEST_TOKEN).env("RUST_LOG", "spaces=trace");
            outputs.push(run(command, b"1jMJgLdenVjxL\nnot valid!\n"));
        }
        let mut command = spaces_bin();
        command.args(["compare", "1jMJgLdenVjxL", "--providers", "x", "--base-url", &format!("x={}", server.uri())]);
        command.env("X_BEARER_TOKEN", TEST_TOKEN).env("RUST_LOG", "spaces=trace");
        outputs.push(run(command, b""));
    }
    let mut echoed = 0;
    for output in &outputs {
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!all.contains(TEST_TOKEN), "token leaked:\n{all}");
        echoed += usize::from(all.contains("Bearer ***"));
        assert!(!output.status.success());
    }
    assert!(echoed > 0, "the echoed token shows as *** (so the test saw it)");
}
