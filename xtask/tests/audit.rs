//! `cargo xtask audit`, run as a process: drift planted in real fixtures,
//! every kind of finding on a scratch spec, every kind of input, the `--json`
//! shape, `--fixtures`, and the exit statuses.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("audit")
        .args(args)
        .current_dir(xtask::project_root())
        .output()
        .expect("run xtask")
}

/// `xtask audit ARGS` with `input` on its stdin, written while it runs.
fn xtask_with_stdin(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("audit")
        .args(args)
        .current_dir(xtask::project_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xtask");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for xtask");
    writer.join().expect("writer thread").expect("write stdin");
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited")
}

/// `--json` output, parsed; panics with both streams when it is not JSON.
fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}\n{}", stdout(output), stderr(output)))
}

/// A real fixture, parsed (read at run time, so the test follows the fixture).
fn fixture(provider: &str, name: &str) -> Value {
    let path = xtask::project_root().join("tests/fixtures").join(provider).join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("fixture is JSON")
}

fn write(path: &Path, text: &str) -> String {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
    path.display().to_string()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("serialize")
}

/// The findings of a `--json` report as `path kind detail` lines.
fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            format!(
                "{} {} {}",
                finding["path"].as_str().unwrap(),
                finding["kind"].as_str().unwrap(),
                finding["detail"].as_str().unwrap()
            )
            .trim_end()
            .to_owned()
        })
        .collect()
}

fn finding<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|finding| finding["path"] == path)
        .unwrap_or_else(|| panic!("no finding at {path} in {}", pretty(report)))
}

const SCRATCH_SPEC: &str = r##"openapi: 3.0.3
info:
  title: Scratch
  version: "1"
paths:
  /things/{id}:
    get:
      operationId: get_thing
      responses:
        "200":
          description: One thing.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Thing"
              examples:
                good:
                  value: {id: "1", state: live, at: "2024-01-01T00:00:00Z"}
                placeholder:
                  summary: Placeholders, as a documentation page publishes them.
                  x-audit-expect: drift
                  value: {id: "1", state: "<string>"}
  /things:
    get:
      operationId: list_things
      responses:
        "200":
          description: Many things.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Things"
components:
  schemas:
    Things:
      type: object
      properties:
        data:
          type: array
          items:
            $ref: "#/components/schemas/Thing"
    Thing:
      type: object
      required: [id]
      properties:
        id:
          type: string
        state:
          type: string
          enum: [live, ended]
        at:
          type: string
          format: date-time
        note:
          type: string
          nullable: true
        count:
          type: integer
          format: int32
        label:
          type: object
        open:
          type: object
          additionalProperties: true
          properties:
            a:
              type: string
        code:
          type: string
          x-audit:
            pattern: "^[a-z]+$"
"##;

/// A directory holding `specs/scratch.yaml`; returns (the guard, `--specs`).
fn scratch_spec() -> (tempfile::TempDir, String) {
    let directory = tempfile::tempdir().expect("tempdir");
    write(&directory.path().join("specs/scratch.yaml"), SCRATCH_SPEC);
    let specs = directory.path().join("specs").display().to_string();
    (directory, specs)
}

/// Audits one body against the scratch spec's `get_thing`, as `--json`.
fn audit_scratch(body: Value) -> (i32, Value) {
    let (directory, specs) = scratch_spec();
    let file = write(&directory.path().join("body.json"), &pretty(&body));
    let output = xtask(&["--specs", &specs, "--provider", "scratch", "--json", &file]);
    (code(&output), json_of(&output))
}

#[test]
fn an_undeclared_field_planted_in_a_real_fixture_is_reported_by_path() {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut body = fixture("x", "ended-algorithm.json");
    body["data"]["replay_url"] = json!("https://x.com/i/spaces/1jMJgLdenVjxL/peek");
    let file = write(&directory.path().join("planted.json"), &pretty(&body));

    let output = xtask(&["--provider", "x", "--json", &file]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(findings(&report), ["data.replay_url undeclared"]);
    let replay = finding(&report, "data.replay_url");
    assert_eq!(replay["operation"], "find_space_by_id");
    assert_eq!(replay["example"], "\"https://x.com/i/spaces/1jMJgLdenVjxL/peek\"");
    // The line of the field in the pretty-printed file.
    let line = pretty(&body).lines().position(|line| line.contains("replay_url")).unwrap() + 1;
    assert_eq!(replay["locations"], json!([format!("{file}:{line}")]));

    // The table says the same.
    let output = xtask(&["--provider", "x", &file]);
    assert_eq!(code(&output), 1);
    let table = stdout(&output);
    assert!(table.contains("data.replay_url") && table.contains("undeclared"), "{table}");
}

#[test]
fn a_retyped_field_planted_in_a_real_fixture_is_reported_by_path() {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut body = fixture("x", "ended-algorithm.json");
    body["data"]["participant_count"] = json!("435271");
    body["includes"]["users"][1]["protected"] = json!("no");
    let file = write(&directory.path().join("retyped.json"), &pretty(&body));

    let output = xtask(&["--provider", "x", "--json", &file]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(
        findings(&report),
        [
            "data.participant_count type integer declared, string seen",
            "includes.users[].protected type boolean declared, string seen",
        ]
    );
    assert_eq!(finding(&report, "data.participant_count")["example"], "\"435271\"");
}

#[test]
fn a_missing_required_field_in_a_real_fixture_is_reported() {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut body = fixture("x", "ended-algorithm.json");
    body["data"].as_object_mut().unwrap().remove("state");
    let file = write(&directory.path().join("stateless.json"), &pretty(&body));
    let output = xtask(&["--provider", "x", "--json", &file]);
    assert_eq!(code(&output), 1);
    let report = json_of(&output);
    assert_eq!(findings(&report), ["data.state required required, absent"]);
    assert_eq!(finding(&report, "data.state")["example"], Value::Null);
}

#[test]
fn untouched_fixtures_conform_and_multi_fixtures_use_the_multi_space_operation() {
    let root = xtask::project_root().join("tests/fixtures/x");
    let single = root.join("ended-algorithm.json").display().to_string();
    let output = xtask(&["--provider", "x", &single]);
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains("audited 1 bodies in 1 files"), "{}", stdout(&output));

    // A multi-Space body is drift against the lookup, clean against its own operation.
    let multi = root.join("multi-default-fields.json").display().to_string();
    assert_eq!(code(&xtask(&["--provider", "x", &multi])), 1);
    let output = xtask(&["--provider", "x", "--operation", "find_spaces_by_ids", &multi]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn every_fixture_and_spec_example_is_clean_or_its_drift_intended() {
    let output = xtask(&["--fixtures"]);
    assert_eq!(
        code(&output),
        0,
        "`cargo xtask audit --fixtures` found drift the fixtures' names do not intend:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    let report = json_of(&xtask(&["--fixtures", "--json"]));
    let expectations = report["expectations"].as_array().expect("expectations");
    for provider in ["x", "socialdata", "aisa", "twitterapi"] {
        let fixtures = expectations
            .iter()
            .filter(|expectation| expectation["provider"] == provider && expectation["example"].is_null())
            .count();
        let examples = expectations
            .iter()
            .filter(|expectation| expectation["provider"] == provider && expectation["example"].is_string())
            .count();
        assert!(fixtures > 0 && examples > 0, "{provider}: {fixtures} fixtures, {examples} examples audited");
    }
    let multi = expectations
        .iter()
        .find(|expectation| expectation["source"] == "tests/fixtures/x/multi-partial-errors.json")
        .expect("multi fixture");
    assert_eq!(multi["operation"], "find_spaces_by_ids");
    let bad = expectations
        .iter()
        .find(|expectation| expectation["source"] == "tests/fixtures/x/bad-created-at.json")
        .expect("bad fixture");
    assert_eq!((bad["expect"].as_str(), bad["ok"].as_bool()), (Some("drift"), Some(true)));
}

#[test]
fn fixtures_mode_fails_on_unintended_drift_and_on_bad_fixtures_that_conform() {
    let (directory, specs) = scratch_spec();
    let fixtures = directory.path().join("fixtures/scratch");
    write(&fixtures.join("good.json"), r#"{"id": "1", "state": "live"}"#);
    write(&fixtures.join("drifted.json"), r#"{"id": "1", "state": "live", "new": true}"#);
    write(&fixtures.join("bad-state.json"), r#"{"id": "1", "state": "paused"}"#);
    write(&fixtures.join("bad-but-fine.json"), r#"{"id": "1"}"#);
    write(&fixtures.join("extra-fields.json"), r#"{"id": "1", "new": 1}"#);
    write(&fixtures.join("extra-and-wrong.json"), r#"{"id": 1, "new": 1}"#);
    let fixtures_dir = directory.path().join("fixtures").display().to_string();
    let output = xtask(&["--fixtures", "--specs", &specs, "--fixtures-dir", &fixtures_dir, "--json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["ok"], false);
    let verdicts: Vec<String> = report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|expectation| {
            let source = expectation["source"].as_str().unwrap();
            let name = expectation["example"].as_str().map_or_else(
                || Path::new(source).file_name().unwrap().to_string_lossy().into_owned(),
                |example| format!("example {example}"),
            );
            format!("{name} {} {}", expectation["expect"].as_str().unwrap(), expectation["ok"])
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "bad-but-fine.json drift false",
            "bad-state.json drift true",
            "drifted.json clean false",
            "extra-and-wrong.json undeclared-only false",
            "extra-fields.json undeclared-only true",
            "good.json clean true",
            "example good clean true",
            "example placeholder drift true",
        ]
    );
    let text = stdout(&xtask(&["--fixtures", "--specs", &specs, "--fixtures-dir", &fixtures_dir]));
    assert!(
        text.contains("FAIL  ") && text.contains("bad-but-fine.json") && text.contains("conforms to the spec"),
        "{text}"
    );
    assert!(text.contains("drifted.json (get_thing): expected clean"), "{text}");
}

#[test]
fn a_value_outside_an_enum_is_reported() {
    let (status, report) = audit_scratch(json!({"id": "1", "state": "paused"}));
    assert_eq!(status, 1);
    assert_eq!(findings(&report), [r#"state enum not one of "live", "ended""#]);
    assert_eq!(finding(&report, "state")["example"], "\"paused\"");
}

#[test]
fn a_missing_required_field_is_reported() {
    let (status, report) = audit_scratch(json!({"state": "live"}));
    assert_eq!(status, 1);
    assert_eq!(findings(&report), ["id required required, absent"]);
}

#[test]
fn date_times_formats_patterns_and_integer_ranges_are_checked() {
    let (status, report) =
        audit_scratch(json!({"id": "1", "at": "2021-7-14T04:35:55Z", "count": 3_000_000_000_u64, "code": "A1"}));
    assert_eq!(status, 1);
    assert_eq!(
        findings(&report),
        [
            "at format date-time declared",
            "code pattern pattern `^[a-z]+$` declared",
            "count format int32 declared, out of range"
        ]
    );
    let (status, _) = audit_scratch(json!({"id": "1", "at": "2023-03-31T18:38:03.093Z", "count": 7, "code": "abc"}));
    assert_eq!(status, 0);
}

#[test]
fn nullable_accepts_null_and_other_fields_do_not() {
    let (status, report) = audit_scratch(json!({"id": "1", "note": null}));
    assert_eq!(status, 0, "{}", pretty(&report));
    let (status, report) = audit_scratch(json!({"id": "1", "state": null, "note": 3}));
    assert_eq!(status, 1);
    assert_eq!(
        findings(&report),
        ["note type string or null declared, integer seen", "state type string declared, null seen"]
    );
}

#[test]
fn free_form_objects_are_not_reported() {
    let (status, report) =
        audit_scratch(json!({"id": "1", "label": {"anything": {"goes": [1]}}, "open": {"a": "x", "b": 2}}));
    assert_eq!(status, 0, "{}", pretty(&report));
    let (status, report) = audit_scratch(json!({"id": "1", "open": {"a": 1}}));
    assert_eq!(status, 1);
    assert_eq!(findings(&report), ["open.a type string declared, integer seen"]);
}

#[test]
fn ndjson_locations_name_the_lines() {
    let directory = tempfile::tempdir().expect("tempdir");
    let good = fixture("x", "minimal.json");
    let mut drifted = good.clone();
    drifted["data"]["mood"] = json!("calm");
    let lines = [good.to_string(), drifted.to_string(), String::new(), good.to_string(), drifted.to_string()];
    let file = write(&directory.path().join("bodies.ndjson"), &(lines.join("\n") + "\n"));
    let output = xtask(&["--provider", "x", "--json", &file]);
    assert_eq!(code(&output), 1);
    let report = json_of(&output);
    let mood = finding(&report, "data.mood");
    assert_eq!(mood["count"], 2);
    assert_eq!(mood["locations"], json!([format!("{file}:2"), format!("{file}:5")]));
    assert_eq!(report["summary"]["bodies"], 4);
    assert_eq!(report["summary"]["drift_bodies"], 2);
    assert_eq!(report["summary"]["clean_bodies"], 2);
}

fn capture(operation: &str, status: u16, body: &str) -> Value {
    json!({
        "spaces_capture": 1,
        "provider": "x",
        "operation": operation,
        "request": {"method": "GET", "path": "/2/spaces", "query": [["ids", "1wkNhFdnXsiVp"]]},
        "status": status,
        "headers": {"content-type": "application/json", "x-rate-limit-remaining": "299"},
        "received_at": "2026-11-22T23:00:00Z",
        "body": body,
    })
}

#[test]
fn capture_files_are_checked_against_their_own_operation() {
    let directory = tempfile::tempdir().expect("tempdir");
    let multi = fixture("x", "multi-partial-errors.json").to_string();
    let mut drifted: Value = fixture("x", "multi-partial-errors.json");
    drifted["data"][0]["replay"] = json!(true);
    let clean = write(&directory.path().join("a.capture.json"), &pretty(&capture("find_spaces_by_ids", 200, &multi)));
    let drift = write(
        &directory.path().join("b.capture.json"),
        &pretty(&capture("find_spaces_by_ids", 200, &drifted.to_string())),
    );
    let limited = write(
        &directory.path().join("c.capture.json"),
        &pretty(&capture("find_spaces_by_ids", 429, r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#)),
    );
    let mut encoded = capture("find_space_by_id", 200, "");
    encoded.as_object_mut().unwrap().remove("body");
    encoded["body_base64"] = json!("eyJkYXRhIjp7ImlkIjoiMSIsInN0YXRlIjoibGl2ZSJ9fQ=="); // {"data":{"id":"1","state":"live"}}
    let base64 = write(&directory.path().join("d.capture.json"), &pretty(&encoded));
    let html = write(
        &directory.path().join("e.capture.json"),
        &pretty(&capture("find_space_by_id", 200, "<html>busy</html>")),
    );

    // `--operation` names the lookup; captures keep their own operation.
    let output = xtask(&[
        "--provider",
        "x",
        "--operation",
        "find_space_by_id",
        "--json",
        &clean,
        &drift,
        &limited,
        &base64,
        &html,
    ]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(findings(&report), ["(root) not-json the body is not JSON", "data[].replay undeclared"]);
    let replay = finding(&report, "data[].replay");
    assert_eq!(replay["operation"], "find_spaces_by_ids");
    assert_eq!(replay["locations"], json!([format!("{drift}:1")]));
    assert_eq!(finding(&report, "(root)")["example"], "<html>busy</html>");
    assert_eq!(report["skipped"], json!([{"status": 429, "count": 1, "locations": [format!("{limited}:1")]}]));
    assert_eq!(report["summary"]["bodies"], 4);
    assert_eq!(report["summary"]["skipped"], 1);

    // Captures need no `--provider`; they name theirs.
    let output = xtask(&[&clean, &limited]);
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains("skipped: 1 capture(s) with status 429"), "{}", stdout(&output));
}

/// Captures are read by `spaces_capture`: what it refuses is unreadable
/// input, named with its reason; the rest of the input is still audited.
#[test]
fn a_capture_the_format_refuses_is_unreadable_input() {
    let directory = tempfile::tempdir().expect("tempdir");
    let good = fixture("x", "minimal.json").to_string();
    let mut nameless = capture("find_space_by_id", 200, &good);
    nameless.as_object_mut().unwrap().remove("provider");
    let nameless = write(&directory.path().join("a.capture.json"), &pretty(&nameless));
    let mut both = capture("find_space_by_id", 200, &good);
    both["body_base64"] = json!("e30=");
    let both = write(&directory.path().join("b.capture.json"), &pretty(&both));
    let mut garbled = capture("find_space_by_id", 200, "");
    garbled.as_object_mut().unwrap().remove("body");
    garbled["body_base64"] = json!("not base64!");
    let garbled = write(&directory.path().join("c.capture.json"), &pretty(&garbled));
    let clean = write(&directory.path().join("d.capture.json"), &pretty(&capture("find_space_by_id", 200, &good)));
    let output = xtask(&["--json", &nameless, &both, &garbled, &clean]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    for expected in [
        format!("{nameless}:1: not a valid version 1 capture: missing field `provider`"),
        format!("{both}:1: not a valid version 1 capture: both `body` and `body_base64`"),
        format!("{garbled}:1: not a valid version 1 capture: `body_base64` is not base64"),
    ] {
        assert!(stderr(&output).contains(&expected), "{expected}\n{}", stderr(&output));
    }
    let report = json_of(&output);
    assert_eq!(report["summary"]["errors"], 3);
    assert_eq!(report["summary"]["clean_bodies"], 1);
}

#[test]
fn directories_are_searched_recursively() {
    let directory = tempfile::tempdir().expect("tempdir");
    let good = fixture("x", "minimal.json");
    let mut drifted = good.clone();
    drifted["data"]["mood"] = json!("calm");
    write(&directory.path().join("one.json"), &pretty(&good));
    write(&directory.path().join("deeper/two.ndjson"), &format!("{good}\n{drifted}\n"));
    write(&directory.path().join("deeper/still/three.jsonl"), &format!("{drifted}\n"));
    write(
        &directory.path().join("deeper/four.capture.json"),
        &pretty(&capture("find_space_by_id", 200, &good.to_string())),
    );
    write(&directory.path().join("notes.txt"), "not audited");
    let root = directory.path().display().to_string();
    let output = xtask(&["--provider", "x", "--json", &root]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["summary"]["files"], 4);
    assert_eq!(report["summary"]["bodies"], 5);
    assert_eq!(
        finding(&report, "data.mood")["locations"],
        json!([format!("{root}/deeper/still/three.jsonl:1"), format!("{root}/deeper/two.ndjson:2")])
    );
}

#[test]
fn the_json_shape_is_stable() {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut body = fixture("x", "minimal.json");
    body["data"]["mood"] = json!("calm");
    let file = write(&directory.path().join("one.json"), &body.to_string());
    let report = json_of(&xtask(&["--provider", "x", "--json", &file]));
    let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&report), ["version", "ok", "summary", "findings", "findings_not_kept", "skipped", "errors"]);
    assert_eq!(report["version"], 1);
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["summary"],
        json!({"files": 1, "bytes": body.to_string().len(), "bodies": 1, "clean_bodies": 0, "drift_bodies": 1, "skipped": 0, "errors": 0})
    );
    assert_eq!(
        report["findings"],
        json!([{
            "provider": "x",
            "operation": "find_space_by_id",
            "path": "data.mood",
            "kind": "undeclared",
            "detail": "",
            "count": 1,
            "example": "\"calm\"",
            "locations": [format!("{file}:1")],
        }])
    );
    assert_eq!(
        (report["findings_not_kept"].clone(), report["skipped"].clone(), report["errors"].clone()),
        (json!(0), json!([]), json!([]))
    );
}

#[test]
fn unreadable_input_exits_2_naming_the_file_and_line() {
    let directory = tempfile::tempdir().expect("tempdir");
    let missing = directory.path().join("missing.json").display().to_string();
    let output = xtask(&["--provider", "x", &missing]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains(&format!("{missing}: cannot read")), "{}", stderr(&output));

    let broken = write(&directory.path().join("broken.json"), "{\n  \"data\": {\n    \"id\": ,\n  }\n}\n");
    let output = xtask(&["--provider", "x", &broken]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains(&format!("{broken}:3:")), "{}", stderr(&output));

    // A bad NDJSON line is named; the other lines are still audited.
    let good = fixture("x", "minimal.json").to_string();
    let lines = write(&directory.path().join("lines.ndjson"), &format!("{good}\n{good}\n{{\"data\": tru\n{good}\n"));
    let output = xtask(&["--provider", "x", "--json", &lines]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains(&format!("{lines}:3:")), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["summary"]["bodies"], 3);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);

    // A capture in a format version this audit does not read.
    let future = write(&directory.path().join("future.capture.json"), r#"{"spaces_capture": 2, "status": 200}"#);
    let output = xtask(&["--provider", "x", &future]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains(&format!("{future}:1: capture format version 2")), "{}", stderr(&output));

    // A raw body without `--provider`.
    let raw = write(&directory.path().join("raw.json"), &good);
    let output = xtask(&[&raw]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("needs `--provider`"), "{}", stderr(&output));
}

#[test]
fn usage_errors_exit_2() {
    let cases: [(&[&str], &str); 8] = [
        (&[], "nothing to audit"),
        (&["--provider"], "`--provider` needs a value"),
        (&["--frobnicate", "x.json"], "unknown flag `--frobnicate`"),
        (&["--operation", "find_space_by_id", "x.json"], "`--operation` needs `--provider`"),
        (&["--provider", "nosuch", "x.json"], "no spec for provider `nosuch`"),
        (
            &["--provider", "x", "--operation", "nosuch", "x.json"],
            "has no operation `nosuch`; it has: find_space_by_id",
        ),
        (&["--fixtures", "x.json"], "`--fixtures` takes no PATH"),
        (&["--fixtures", "--operation", "find_space_by_id", "--provider", "x"], "`--operation` is for PATHs"),
    ];
    for (args, message) in cases {
        let output = xtask(args);
        assert_eq!(code(&output), 2, "{args:?}");
        assert!(stderr(&output).contains(message), "{args:?}: {}", stderr(&output));
    }
    let help = xtask(&["--help"]);
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).contains("--fixtures"));
}

#[test]
fn many_distinct_drift_paths_are_each_counted_and_located() {
    // 20,000 undeclared fields in one pretty-printed body: each is a distinct
    // finding with its own line (locating them was once quadratic: 10,000 took 29 s).
    let (directory, specs) = scratch_spec();
    let mut body = serde_json::Map::new();
    body.insert("id".to_owned(), json!("1"));
    for index in 0..20_000 {
        body.insert(format!("f{index}"), json!(index));
    }
    let body = Value::Object(body);
    let file = write(&directory.path().join("wide.json"), &pretty(&body));
    let lines = write(&directory.path().join("wide.ndjson"), &format!("{body}\n"));

    let output = xtask(&["--specs", &specs, "--provider", "scratch", "--json", &file]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json_of(&output);
    // The first 10,000 distinct findings are kept, the rest counted.
    assert_eq!(report["findings"].as_array().unwrap().len(), 10_000);
    assert_eq!(report["findings_not_kept"], 10_000);
    assert_eq!(report["summary"]["bodies"], 1);
    assert_eq!(report["summary"]["drift_bodies"], 1);
    // `{` is line 1 and `"id"` line 2, so `f{index}` is on line index + 3.
    for index in [0, 1, 4_321, 9_999] {
        let found = finding(&report, &format!("f{index}"));
        assert_eq!(found["kind"], "undeclared");
        assert_eq!(found["example"], index.to_string());
        assert_eq!(found["locations"], json!([format!("{file}:{}", index + 3)]));
    }
    assert!(report["findings"].as_array().unwrap().iter().all(|found| found["path"] != "f10000"));

    // The same body as one NDJSON line.
    let report = json_of(&xtask(&["--specs", &specs, "--provider", "scratch", "--json", &lines]));
    assert_eq!(report["findings"].as_array().unwrap().len(), 10_000);
    assert_eq!(report["findings_not_kept"], 10_000);
    assert_eq!(finding(&report, "f9999")["locations"], json!([format!("{lines}:1")]));
}

/// A scratch body longer than the cap, on one line.
fn over_the_cap() -> String {
    json!({"id": "1", "note": "x".repeat(xtask::audit::MAX_BODY_BYTES)}).to_string()
}

#[test]
fn an_ndjson_line_over_the_cap_is_skipped_and_the_rest_audited() {
    let (directory, specs) = scratch_spec();
    let text = format!("{}\n{}\n{}\n", json!({"id": "1"}), over_the_cap(), json!({"id": "2", "new": true}));
    let file = write(&directory.path().join("bodies.ndjson"), &text);
    let output = xtask(&["--specs", &specs, "--provider", "scratch", "--json", &file]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let message = format!("{file}:2: longer than {} bytes; skipped", xtask::audit::MAX_BODY_BYTES);
    assert!(stderr(&output).contains(&message), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["errors"], json!([message]));
    assert_eq!(report["summary"]["bodies"], 2);
    assert_eq!(report["summary"]["bytes"], text.len());
    assert_eq!(finding(&report, "new")["locations"], json!([format!("{file}:3")]));
}

#[test]
fn a_file_over_the_cap_is_refused_without_being_read_whole() {
    let (directory, specs) = scratch_spec();
    let raw = write(&directory.path().join("big.json"), &over_the_cap());
    let mut capture = capture("find_space_by_id", 200, "{}");
    capture["body"] = json!(over_the_cap());
    let captured = write(&directory.path().join("big.capture.json"), &capture.to_string());
    let good = write(&directory.path().join("good.json"), r#"{"id": "1", "new": 1}"#);
    let mut args = vec!["--specs", &specs, "--provider", "scratch", "--json", &raw, &captured, &good];
    // A device that never ends, where there is one.
    if Path::new("/dev/zero").exists() {
        args.push("/dev/zero");
    }
    let output = xtask(&args);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    for file in &args[5..] {
        if *file != good {
            let message = format!("{file}: longer than {} bytes; skipped", xtask::audit::MAX_BODY_BYTES);
            assert!(stderr(&output).contains(&message), "{}", stderr(&output));
        }
    }
    let report = json_of(&output);
    assert_eq!(report["summary"]["bodies"], 1);
    assert_eq!(finding(&report, "new")["locations"], json!([format!("{good}:1")]));
}

#[test]
fn an_endless_line_on_stdin_is_read_in_bounded_memory() {
    // 64 MiB without a newline: skipped as it streams by, never held.
    let output = xtask_with_stdin(&["--provider", "x", "--json", "-"], vec![b'0'; 64 << 20]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let message = format!("<stdin>:1: longer than {} bytes; skipped", xtask::audit::MAX_BODY_BYTES);
    assert!(stderr(&output).contains(&message), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["summary"]["bytes"], 64 << 20);
    assert_eq!(report["summary"]["bodies"], 0);
}

#[test]
fn a_body_after_a_byte_order_mark_is_audited_as_without_it() {
    const BOM: &str = "\u{feff}";
    let directory = tempfile::tempdir().expect("tempdir");
    let good = fixture("x", "minimal.json");
    let mut drifted = good.clone();
    drifted["data"]["mood"] = json!("calm");
    drifted["data"]["participant_count"] = json!("many");
    // Each input with and without the mark: the reports must differ only in file names.
    let inputs = [
        ("raw.json", pretty(&drifted)),
        ("lines.ndjson", format!("{good}\n{drifted}\n")),
        ("body.capture.json", pretty(&capture("find_space_by_id", 200, &drifted.to_string()))),
        ("lines.capture.jsonl", format!("{}\n", capture("find_space_by_id", 200, &drifted.to_string()))),
    ];
    for (name, plain) in inputs {
        let marked = if name.contains("capture") {
            // The mark is on the captured body, not on the capture file.
            plain.replacen(r#""body": "{"#, &format!(r#""body": "{BOM}{{"#), 1).replacen(
                r#""body":"{"#,
                &format!(r#""body":"{BOM}{{"#),
                1,
            )
        } else if name.ends_with(".ndjson") {
            plain.lines().map(|line| format!("{BOM}{line}\n")).collect()
        } else {
            format!("{BOM}{plain}")
        };
        assert_ne!(marked, plain, "{name}: no mark added");
        let plain_file = write(&directory.path().join("plain").join(name), &plain);
        let marked_file = write(&directory.path().join("marked").join(name), &marked);
        let plain_output = xtask(&["--provider", "x", "--json", &plain_file]);
        let marked_output = xtask(&["--provider", "x", "--json", &marked_file]);
        assert_eq!(code(&marked_output), 1, "{name}: {}", stderr(&marked_output));
        assert_eq!(code(&plain_output), 1, "{name}: {}", stderr(&plain_output));
        let mut report = json_of(&marked_output);
        // Bytes differ by the marks; everything else is the same.
        let marks = (marked.len() - plain.len()) as u64;
        report["summary"]["bytes"] = json!(report["summary"]["bytes"].as_u64().unwrap() - marks);
        let report = report.to_string().replace("/marked/", "/plain/");
        assert_eq!(report, json_of(&plain_output).to_string(), "{name}");
    }

    // A capture's `body_base64` may start with the mark too.
    let mut encoded = capture("find_space_by_id", 200, "");
    encoded.as_object_mut().unwrap().remove("body");
    encoded["body_base64"] = json!("77u/eyJkYXRhIjp7ImlkIjoiMSIsInN0YXRlIjoibGl2ZSJ9fQ=="); // BOM + {"data":{"id":"1","state":"live"}}
    let file = write(&directory.path().join("encoded.capture.json"), &pretty(&encoded));
    let output = xtask(&["--json", &file]);
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    assert_eq!(json_of(&output)["summary"]["clean_bodies"], 1);
}
