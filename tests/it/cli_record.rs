//! `--record DIR` on the command line: one capture per provider response,
//! no token anywhere in DIR, and an unusable DIR refused before any request.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN};

use crate::cli::{Mock, mock, run, spaces_bin, text};

fn spaces(mock: &Mock, args: &[&str], record: &Path) -> Output {
    let mut command = spaces_bin();
    command
        .args(args)
        .args(["--base-url", &mock.mock.base_url(Provider::X), "--timeout", "5", "--record"])
        .arg(record)
        .env("X_BEARER_TOKEN", DEMO_TOKEN);
    run(command, b"")
}

/// The captures in `dir`; fails on any other file.
fn captures(dir: &Path) -> Vec<Value> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("the record dir").map(|entry| entry.expect("entry").path()).collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).expect("UTF-8 name");
            assert!(name.ends_with(".capture.json") && !name.starts_with('.'), "not a capture: {name}");
            let bytes = std::fs::read(path).expect("readable");
            assert!(!String::from_utf8_lossy(&bytes).contains(DEMO_TOKEN), "{name} holds the token");
            serde_json::from_slice(&bytes).expect("a capture is JSON")
        })
        .collect()
}

#[test]
fn show_records_one_capture_without_the_token() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("captures");
    let output = spaces(&mock, &["show", DEMO_SPACE_ID, "--provider", "x"], &record);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let space: Value = serde_json::from_slice(&output.stdout).expect("the Space on stdout");
    assert_eq!(space["id"], DEMO_SPACE_ID);
    let captures = captures(&record);
    assert_eq!(captures.len(), 1, "{captures:#?}");
    assert_eq!(captures[0]["provider"], "x");
    assert_eq!(captures[0]["operation"], "find_space_by_id");
    assert_eq!(captures[0]["status"], 200);
    assert_eq!(captures[0]["request"]["path"], format!("/2/spaces/{DEMO_SPACE_ID}"));
    assert!(captures[0]["body"].as_str().is_some_and(|body| body.contains(DEMO_SPACE_ID)));
}

#[test]
fn search_and_by_creator_record_too() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let output = spaces(&mock, &["search", "rust"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = spaces(&mock, &["by-creator", "2244994945"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut operations: Vec<String> = captures(dir.path())
        .iter()
        .map(|capture| capture["operation"].as_str().expect("operation").to_owned())
        .collect();
    operations.sort();
    assert_eq!(operations, ["find_spaces_by_creator_ids", "search_spaces"]);
}

#[test]
fn an_unusable_record_dir_is_a_usage_error_before_any_request() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");
    let output = spaces(&mock, &["show", DEMO_SPACE_ID, "--provider", "x"], &file);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot record captures in") && stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(output.stdout.is_empty());
}
