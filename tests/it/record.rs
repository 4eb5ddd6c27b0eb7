//! `ClientBuilder::record(dir)`: every provider response written to `dir`
//! as one capture file, with no secret in it, whatever the server sends.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use spaces::{Client, Error, Provider, RetryPolicy, SearchState, Token};
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders, unauthorized};
use wiremock::ResponseTemplate;

use crate::support::{TEST_TOKEN, base_url, build, recorded_with, serve, test_builder, workspace_root};

/// Every file in `dir`, sorted by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("the record dir").map(|entry| entry.expect("entry").path()).collect();
    files.sort();
    files
}

/// The captures in `dir`, parsed; fails on any other file (a temporary one left behind).
fn captures(dir: &Path) -> Vec<Value> {
    files(dir)
        .iter()
        .map(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).expect("a UTF-8 name");
            assert!(name.ends_with(spaces::CAPTURE_SUFFIX), "not a capture: {name}");
            assert!(!name.starts_with('.'), "a temporary file was left behind: {name}");
            let capture: Value = serde_json::from_slice(&std::fs::read(path).expect("readable")).expect("JSON");
            let operation = capture["operation"].as_str().expect("operation");
            let provider = capture["provider"].as_str().expect("provider");
            assert!(name.contains(&format!("-{provider}-{operation}-")), "{name}");
            capture
        })
        .collect()
}

/// Fails if `secret` appears in any file of `dir`.
fn assert_nowhere(dir: &Path, secret: &str) {
    for path in files(dir) {
        let bytes = std::fs::read(&path).expect("readable");
        assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{} holds the secret", path.display());
    }
}

/// Only the headers that matter are kept.
fn assert_headers_filtered(capture: &Value) {
    let headers = capture["headers"].as_object().expect("headers");
    for name in headers.keys() {
        assert!(
            name == "content-type" || name == "retry-after" || name.starts_with("x-rate-limit-"),
            "header `{name}` should not be recorded"
        );
    }
}

fn echoing(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-rate-limit-remaining", "299")
        .insert_header("set-cookie", "session=abc123; HttpOnly")
        .insert_header("authorization", format!("Bearer {TEST_TOKEN}").as_str())
        .insert_header("x-api-key", TEST_TOKEN)
        .set_body_raw(body.into_bytes(), "application/json")
}

#[tokio::test]
async fn a_success_is_recorded_whole_redacted_and_filtered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("captures/new");
    let body = recorded_with(Provider::X, "title", format!("echo {TEST_TOKEN} echo"));
    let server = serve(Provider::X, echoing(200, body.clone())).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).record(&record));
    assert_eq!(client.record_dir(), Some(record.as_path()));

    let space = client.space(DEMO_SPACE_ID).await.expect("a Space");
    assert_eq!(space.title.as_deref(), Some("echo *** echo"), "the caller's result is redacted as the capture is");

    let captures = captures(&record);
    assert_eq!(captures.len(), 1, "{captures:#?}");
    let capture = &captures[0];
    assert_eq!(capture["spaces_capture"], 1);
    assert_eq!(capture["provider"], "x");
    assert_eq!(capture["operation"], "find_space_by_id");
    assert_eq!(capture["request"]["method"], "GET");
    assert_eq!(capture["request"]["path"], format!("/2/spaces/{DEMO_SPACE_ID}"));
    let query = capture["request"]["query"].as_array().expect("query pairs");
    assert!(
        query.iter().any(|pair| pair[0] == "space.fields" && pair[1].as_str().is_some_and(|v| v.contains("title")))
    );
    assert_eq!(capture["status"], 200);
    assert_eq!(capture["headers"]["content-type"], "application/json");
    assert_eq!(capture["headers"]["x-rate-limit-remaining"], "299");
    assert_headers_filtered(capture);
    let received_at = capture["received_at"].as_str().expect("received_at");
    assert!(
        received_at.parse::<chrono::DateTime<chrono::Utc>>().is_ok() && received_at.ends_with('Z'),
        "{received_at}"
    );
    assert_eq!(capture["body"], body.replace(TEST_TOKEN, "***"), "the body as received, token redacted");
    assert!(capture.get("body_base64").is_none());
    assert_nowhere(&record, TEST_TOKEN);
    assert_nowhere(&record, "abc123");
    assert!(client.record_failures().is_empty());
    assert_eq!(client.record_failure_count(), 0);
}

#[tokio::test]
async fn error_responses_are_recorded_with_their_status_once_per_attempt() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A documented error (decoded by progenitor) and an undocumented text body (read by the interpreter).
    let server = serve(Provider::X, unauthorized(Provider::X)).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).record(dir.path()));
    let error = client.space(DEMO_SPACE_ID).await.expect_err("unauthorized");
    assert!(matches!(error, Error::Unauthorized { .. }), "{error}");

    let limited = ResponseTemplate::new(429)
        .insert_header("content-type", "text/plain")
        .insert_header("retry-after", "0")
        .insert_header("set-cookie", "session=abc123")
        .set_body_string(format!("slow down, {TEST_TOKEN}"));
    let server = serve(Provider::X, limited).await;
    let retries = RetryPolicy { max_attempts: 2, initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() };
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).retry(retries).record(dir.path()));
    let error = client.space(DEMO_SPACE_ID).await.expect_err("rate limited");
    assert!(matches!(error, Error::RateLimited { .. }), "{error}");

    let captures = captures(dir.path());
    let statuses: Vec<u64> = {
        let mut statuses: Vec<u64> =
            captures.iter().map(|capture| capture["status"].as_u64().expect("status")).collect();
        statuses.sort_unstable();
        statuses
    };
    assert_eq!(statuses, [401, 429, 429], "one capture per attempt");
    for capture in &captures {
        assert_headers_filtered(capture);
        if capture["status"] == 429 {
            assert_eq!(capture["body"], "slow down, ***");
            assert_eq!(capture["headers"]["retry-after"], "0");
            assert_eq!(capture["headers"]["content-type"], "text/plain");
        }
    }
    assert_nowhere(dir.path(), TEST_TOKEN);
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_recorded_as_base64() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut body = b"\xff\xfe".to_vec();
    body.extend_from_slice(TEST_TOKEN.as_bytes());
    let server = serve(Provider::X, ResponseTemplate::new(502).set_body_bytes(body)).await;
    let client =
        build(test_builder(Provider::X, base_url(&server, Provider::X)).retry(RetryPolicy::none()).record(dir.path()));
    client.space(DEMO_SPACE_ID).await.expect_err("a 502");
    let captures = captures(dir.path());
    assert_eq!(captures.len(), 1);
    assert!(captures[0].get("body").is_none());
    // 0xff 0xfe then `***`.
    assert_eq!(captures[0]["body_base64"], "//4qKio=");
}

#[tokio::test]
async fn batch_search_and_by_creator_captures_name_their_operation() {
    let mock = MockProviders::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let client = Client::builder(Provider::X)
        .token(Token::new(DEMO_TOKEN))
        .base_url(mock.base_url(Provider::X))
        .rate_limiting(spaces::RateLimiting::Off)
        .record(dir.path())
        .build()
        .expect("client");
    let outcomes = client.spaces([DEMO_SPACE_ID]).await;
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    client.search(&crate::support::search("rust", SearchState::All, Some(10))).await.expect("search");
    client.spaces_by_creators(["2244994945"]).await.expect("by creator");

    let mut operations: Vec<String> = captures(dir.path())
        .iter()
        .map(|capture| capture["operation"].as_str().expect("operation").to_owned())
        .collect();
    operations.sort();
    assert_eq!(operations, ["find_spaces_by_creator_ids", "find_spaces_by_ids", "search_spaces"]);
    for capture in captures(dir.path()) {
        assert_eq!(capture["status"], 200, "{capture}");
        match capture["operation"].as_str() {
            Some("find_spaces_by_ids") => {
                assert_eq!(capture["request"]["path"], "/2/spaces");
                let query = capture["request"]["query"].as_array().expect("query");
                assert!(query.iter().any(|pair| pair[0] == "ids" && pair[1] == DEMO_SPACE_ID), "{query:?}");
            }
            Some("search_spaces") => assert_eq!(capture["request"]["path"], "/2/spaces/search"),
            _ => assert_eq!(capture["request"]["path"], "/2/spaces/by/creator_ids"),
        }
    }
    assert_nowhere(dir.path(), DEMO_TOKEN);
}

#[test]
fn an_unusable_record_dir_fails_the_build_naming_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");
    for record in [file.clone(), file.join("below")] {
        let error = test_builder(Provider::X, "http://127.0.0.1:9").record(&record).build().expect_err("unusable");
        assert!(
            matches!(&error, Error::RecordDir { provider: Provider::X, path, .. } if *path == record.display().to_string()),
            "{error:?}"
        );
        assert!(error.to_string().contains(&record.display().to_string()), "{error}");
    }
    // A missing directory is created, with its parents; the probe leaves nothing behind.
    let missing = dir.path().join("a/b/c");
    let client = test_builder(Provider::X, "http://127.0.0.1:9").record(&missing).build().expect("created");
    assert!(missing.is_dir() && files(&missing).is_empty());
    drop(client);
}

#[tokio::test]
async fn a_capture_that_cannot_be_written_fails_nothing_and_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("gone");
    let body = recorded_with(Provider::X, "title", "fine");
    let server = serve(Provider::X, echoing(200, body)).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).record(&record));
    // The directory disappears after build (and a file takes its place).
    std::fs::remove_dir(&record).expect("remove");
    std::fs::write(&record, "in the way").expect("write");

    client.space(DEMO_SPACE_ID).await.expect("the request still succeeds");
    client.space(DEMO_SPACE_ID).await.expect("and again");
    assert_eq!(client.record_failure_count(), 2);
    let failures = client.record_failures();
    assert_eq!(failures.len(), 2);
    assert!(failures[0].contains(&record.display().to_string()), "{failures:?}");
    assert!(!failures.concat().contains(TEST_TOKEN));
}

/// The xtask binary, built once.
fn xtask_bin() -> std::process::Command {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    let path = BIN.get_or_init(|| {
        escargot::CargoBuild::new()
            .manifest_path(workspace_root().join("Cargo.toml"))
            .package("xtask")
            .bin("xtask")
            .current_release()
            .run()
            .expect("cargo builds xtask")
            .path()
            .to_path_buf()
    });
    std::process::Command::new(path)
}

#[tokio::test]
async fn recorded_mock_traffic_passes_the_audit() {
    let mock = MockProviders::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let client = Client::builder(Provider::X)
        .token(Token::new(DEMO_TOKEN))
        .base_url(mock.base_url(Provider::X))
        .rate_limiting(spaces::RateLimiting::Off)
        .record(dir.path())
        .build()
        .expect("client");
    client.space(DEMO_SPACE_ID).await.expect("lookup");
    client.spaces([DEMO_SPACE_ID]).await;
    client.search(&crate::support::search("rust", SearchState::Live, None)).await.expect("search");
    assert_eq!(captures(dir.path()).len(), 3);
    assert_nowhere(dir.path(), DEMO_TOKEN);

    let output = xtask_bin()
        .args(["audit", "--provider", "x"])
        .arg(dir.path())
        .current_dir(workspace_root())
        .output()
        .expect("xtask runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
