//! `cargo xtask fixture add`: a capture file becomes a fixture, never over
//! an existing one, and an unusable capture is a usage error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The body of a real fixture, in the capture's own shape.
fn lookup_body() -> String {
    std::fs::read_to_string(workspace_root().join("tests/fixtures/x/minimal.json")).expect("the x/minimal fixture")
}

fn capture(dir: &Path, name: &str, value: serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).expect("json")).expect("write capture");
    path
}

fn lookup_capture(dir: &Path) -> PathBuf {
    capture(
        dir,
        "20261122T230000Z-x-find_space_by_id-000000000001.capture.json",
        json!({
            "spaces_capture": 1, "provider": "x", "operation": "find_space_by_id",
            "request": {"method": "GET", "path": "/2/spaces/1jMJgLdenVjxL", "query": [["space.fields", "id,state"]]},
            "status": 200, "headers": {"content-type": "application/json"},
            "received_at": "2026-11-22T23:00:00Z", "body": lookup_body()
        }),
    )
}

fn add(fixtures: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["fixture", "add", "--fixtures-dir"])
        .arg(fixtures)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("xtask runs")
}

fn text(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn adds_the_body_audits_it_and_asks_for_a_snapshot_review() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = dir.path().join("fixtures");
    let capture = lookup_capture(dir.path());
    let output = add(&fixtures, &[capture.to_str().expect("utf-8"), "--name", "recorded-minimal"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let written = fixtures.join("x/recorded-minimal.json");
    assert_eq!(std::fs::read_to_string(&written).expect("the fixture"), lookup_body(), "the body, byte for byte");
    let shown = text(&output);
    assert!(shown.contains("conforms to specs/x.yaml"), "{shown}");
    assert!(shown.contains("cargo test -p spaces-tests") && shown.contains("cargo insta review"), "{shown}");

    // Again: refused, the file untouched.
    std::fs::write(&written, "{\"kept\": true}").expect("edit");
    let output =
        add(&fixtures, &["--provider", "x", capture.to_str().expect("utf-8"), "--name", "recorded-minimal.json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("not overwritten"), "{}", text(&output));
    assert_eq!(std::fs::read_to_string(&written).expect("the fixture"), "{\"kept\": true}");
}

#[test]
fn drift_is_reported_but_the_fixture_is_added() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = dir.path().join("fixtures");
    let body = lookup_body().replacen('{', "{\"brand_new_field\": 1, ", 1);
    let capture = capture(
        dir.path(),
        "drift.capture.json",
        json!({"spaces_capture": 1, "provider": "x", "operation": "find_space_by_id", "status": 200,
               "headers": {}, "received_at": "2026-11-22T23:00:00Z", "body": body,
               "request": {"method": "GET", "path": "/2/spaces/1jMJgLdenVjxL", "query": []}}),
    );
    let output = add(&fixtures, &[capture.to_str().expect("utf-8"), "--name", "extra-new-field"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("brand_new_field"), "{}", text(&output));
    assert!(text(&output).contains("drifts from specs/x.yaml"), "{}", text(&output));
    assert!(fixtures.join("x/extra-new-field.json").is_file());
}

#[test]
fn unusable_captures_and_bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = dir.path().join("fixtures");
    let good = lookup_capture(dir.path());
    let good = good.to_str().expect("utf-8");
    let base = json!({"spaces_capture": 1, "provider": "x", "operation": "find_space_by_id", "status": 200,
                      "headers": {}, "received_at": "2026-11-22T23:00:00Z", "body": lookup_body(),
                      "request": {"method": "GET", "path": "/2/spaces/1jMJgLdenVjxL", "query": []}});
    let with = |key: &str, value: serde_json::Value| {
        let mut capture = base.clone();
        match value {
            serde_json::Value::Null => capture.as_object_mut().expect("object").remove(key),
            value => capture.as_object_mut().expect("object").insert(key.to_owned(), value),
        };
        capture
    };
    std::fs::write(dir.path().join("not-json.capture.json"), "{ nope").expect("write");
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.path().join("missing.capture.json"), "cannot read"),
        (dir.path().join("not-json.capture.json"), "not JSON"),
        (capture(dir.path(), "a.capture.json", with("spaces_capture", serde_json::Value::Null)), "not a capture"),
        (capture(dir.path(), "b.capture.json", with("spaces_capture", json!(2))), "version 2"),
        (capture(dir.path(), "c.capture.json", with("status", json!(404))), "status 404"),
        (capture(dir.path(), "d.capture.json", with("body", json!("<html>"))), "not JSON"),
        (capture(dir.path(), "e.capture.json", with("body", serde_json::Value::Null)), "no string `body`"),
        (capture(dir.path(), "f.capture.json", with("provider", json!("nowhere"))), "no usable spec"),
        (capture(dir.path(), "g.capture.json", with("operation", json!("search_spaces"))), "multi-*"),
        (capture(dir.path(), "i.capture.json", with("operation", json!("find_nothing"))), "does not declare"),
        (capture(dir.path(), "j.capture.json", with("provider", json!("../x"))), "not a provider name"),
        (capture(dir.path(), "k.capture.json", with("body", json!(" ".repeat(4 << 20)))), "longer than 4194304"),
    ];
    for (capture, expected) in &cases {
        let output = add(&fixtures, &[capture.to_str().expect("utf-8"), "--name", "new"]);
        assert_eq!(output.status.code(), Some(2), "{}: {}", capture.display(), text(&output));
        assert!(text(&output).contains(expected), "{}: expected `{expected}` in {}", capture.display(), text(&output));
    }
    let base64 = {
        let mut capture = with("body", serde_json::Value::Null);
        capture["body_base64"] = json!("//4A");
        capture
    };
    let base64 = capture(dir.path(), "h.capture.json", base64);
    let argument_cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![good], "--name"),
        (vec!["--name", "x"], "no CAPTURE"),
        (vec![good, "--name", "../escape"], "not a fixture name"),
        (vec![good, "--name", "multi-one"], "only multi-Space bodies"),
        (vec![good, "--name", "ok", "--provider", "socialdata"], "`x` capture"),
        (vec![good, "--name", "ok", "--bogus"], "unknown flag"),
        (vec![base64.to_str().expect("utf-8"), "--name", "ok"], "not UTF-8"),
    ];
    for (args, expected) in &argument_cases {
        let output = add(&fixtures, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(expected), "{args:?}: expected `{expected}` in {}", text(&output));
    }
    // Nothing was written by any of them.
    assert!(!fixtures.join("x").exists() || std::fs::read_dir(fixtures.join("x")).expect("dir").next().is_none());
}

#[test]
fn a_byte_order_mark_before_the_body_is_not_copied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = dir.path().join("fixtures");
    let capture = capture(
        dir.path(),
        "bom.capture.json",
        json!({"spaces_capture": 1, "provider": "x", "operation": "find_space_by_id", "status": 200,
               "headers": {}, "received_at": "2026-11-22T23:00:00Z", "body": format!("\u{feff}{}", lookup_body()),
               "request": {"method": "GET", "path": "/2/spaces/1jMJgLdenVjxL", "query": []}}),
    );
    let output = add(&fixtures, &[capture.to_str().expect("utf-8"), "--name", "recorded-bom"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let written = std::fs::read_to_string(fixtures.join("x/recorded-bom.json")).expect("the fixture");
    assert_eq!(written, lookup_body(), "the body without its mark");
    assert!(text(&output).contains("conforms to specs/x.yaml"), "{}", text(&output));
}

/// The lookup is the first operation of the parsed spec, not the first
/// line reading `operationId:` in its text (here, in a text above every operation).
#[test]
fn the_lookup_operation_comes_from_the_parsed_spec() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = dir.path().join("fixtures");
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).expect("specs dir");
    let spec = std::fs::read_to_string(workspace_root().join("specs/x.yaml")).expect("the x spec");
    std::fs::write(specs.join("x.yaml"), format!("x-note: |\n  operationId: search_spaces\n{spec}"))
        .expect("write spec");
    let capture = lookup_capture(dir.path());
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["fixture", "add", "--fixtures-dir"])
        .arg(&fixtures)
        .arg("--specs")
        .arg(&specs)
        .args([capture.to_str().expect("utf-8"), "--name", "recorded-lookup"])
        .current_dir(workspace_root())
        .output()
        .expect("xtask runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(fixtures.join("x/recorded-lookup.json").is_file());
}
