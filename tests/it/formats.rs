//! One output vocabulary: every command that prints Spaces, in every
//! `--format`, against the loopback mock. Each output must parse as its
//! format and hold the key fields (id, title, state); a format a command
//! cannot print, or `--fields` where it cannot apply, is a usage error
//! (exit 2) naming both.

use std::process::{Command, Output};

use serde_json::Value;
use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, LIVE_SPACE_ID};

use crate::cli::{Mock, mock, run, spaces_bin, text};

const FORMATS: [&str; 4] = ["json", "ndjson", "table", "csv"];

/// Each command that prints Spaces, by name, with the arguments that make
/// it ask the mock (X and SocialData have tokens), and whether it prints
/// one Space or a list.
struct Case {
    name: &'static str,
    args: Vec<String>,
    many: bool,
}

fn cases(mock: &Mock, ids_file: &str) -> Vec<Case> {
    let url = |provider: Provider| format!("{provider}={}", mock.mock.base_url(provider));
    let x = url(Provider::X);
    let both = |extra: &[&str]| {
        let mut args: Vec<String> = extra.iter().map(|arg| (*arg).to_owned()).collect();
        args.extend(
            ["--providers", "x,socialdata", "--base-url", &x, "--base-url", &url(Provider::SocialData)]
                .map(String::from),
        );
        args
    };
    let strings = |args: &[&str]| args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
    vec![
        // No --provider: x is the default.
        Case { name: "show", args: strings(&["show", DEMO_SPACE_ID, "--base-url", &x]), many: false },
        Case {
            name: "show --ids-file",
            args: strings(&["show", "--ids-file", ids_file, "--base-url", &x]),
            many: true,
        },
        Case { name: "show --merge", args: both(&["show", DEMO_SPACE_ID, "--merge"]), many: false },
        Case { name: "show --fallback", args: both(&["show", DEMO_SPACE_ID, "--fallback"]), many: false },
        Case { name: "show --merge --ids-file", args: both(&["show", "--ids-file", ids_file, "--merge"]), many: true },
        Case { name: "search", args: strings(&["search", "radio", "--base-url", &x]), many: true },
        Case { name: "by-creator", args: strings(&["by-creator", "2244994945", "--base-url", &x]), many: true },
        Case { name: "compare", args: both(&["compare", DEMO_SPACE_ID]), many: true },
    ]
}

/// A file of these ids, one per line, in `dir`.
fn ids_file(dir: &tempfile::TempDir, ids: &[&str]) -> String {
    let path = dir.path().join("ids.txt");
    std::fs::write(&path, ids.iter().map(|id| format!("{id}\n")).collect::<String>()).expect("ids file");
    path.display().to_string()
}

fn spaces(case: &Case, extra: &[&str]) -> Output {
    let mut command: Command = spaces_bin();
    command.args(&case.args).args(extra).args(["--no-rate-limit", "--timeout", "5"]);
    command.env("X_BEARER_TOKEN", DEMO_TOKEN).env("SOCIALDATA_API_KEY", DEMO_TOKEN).env("COLUMNS", "200");
    run(command, b"")
}

/// A Space as JSON holds its id and state, and a title (every Space the mock answers has one).
fn assert_space(value: &Value, what: &str) {
    assert!(value["id"].as_str().is_some_and(|id| !id.is_empty()), "{what}: no id in {value}");
    assert!(value["state"].is_string(), "{what}: no state in {value}");
    assert!(value["title"].is_string(), "{what}: no title in {value}");
}

#[test]
fn every_command_prints_every_format_it_takes() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let ids_file = ids_file(&dir, &[DEMO_SPACE_ID, LIVE_SPACE_ID]);
    for case in cases(&mock, &ids_file) {
        for format in FORMATS {
            let what = format!("spaces {} --format {format}", case.name);
            let bulk_table = format == "table" && case.name.contains("--ids-file");
            let output = spaces(&case, &["--format", format]);
            let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
            if bulk_table {
                assert_eq!(output.status.code(), Some(2), "{what}: a bulk run has no table\n{stderr}");
                assert!(stdout.is_empty(), "{what}: nothing printed: {stdout}");
                assert!(stderr.contains("--format table") && stderr.contains("spaces show"), "{what}: {stderr}");
                continue;
            }
            assert_eq!(output.status.code(), Some(0), "{what}\n{stderr}");
            match format {
                "json" => {
                    let value: Value =
                        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{what}: {error}\n{stdout}"));
                    match (&value, case.name) {
                        (_, "compare") => {
                            assert_eq!(value["id"], DEMO_SPACE_ID, "{what}");
                            let fields: Vec<&str> = value["fields"]
                                .as_array()
                                .map(|fields| fields.iter().filter_map(|field| field["field"].as_str()).collect())
                                .unwrap_or_default();
                            assert!(fields.contains(&"title") && fields.contains(&"state"), "{what}: {fields:?}");
                        }
                        (Value::Array(spaces), _) => {
                            assert!(case.many, "{what}: one Space is one object");
                            assert!(!spaces.is_empty(), "{what}: {stdout}");
                            spaces.iter().for_each(|space| assert_space(space, &what));
                        }
                        (object, _) => {
                            assert!(!case.many, "{what}: a list is one array: {stdout}");
                            assert_space(object, &what);
                        }
                    }
                }
                "ndjson" => {
                    assert!(!stdout.is_empty(), "{what}");
                    for line in stdout.lines() {
                        let value: Value =
                            serde_json::from_str(line).unwrap_or_else(|error| panic!("{what}: {error}\n{line}"));
                        assert_space(&value, &what);
                    }
                    if !case.many {
                        assert_eq!(stdout.lines().count(), 1, "{what}: one Space, one line");
                    }
                }
                "csv" => {
                    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
                    let header = reader.headers().expect("a header row").clone();
                    let column = |name: &str| header.iter().position(|column| column == name);
                    let (id, title, state) = (column("id"), column("title"), column("state"));
                    assert!(id.is_some() && title.is_some() && state.is_some(), "{what}: {header:?}");
                    assert!(column("creator.username").is_some(), "{what}: dotted names: {header:?}");
                    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("a CSV row")).collect();
                    assert!(!rows.is_empty(), "{what}: {stdout}");
                    for row in &rows {
                        assert_eq!(row.len(), header.len(), "{what}: {row:?}");
                        for index in [id, title, state].into_iter().flatten() {
                            assert!(!row[index].is_empty(), "{what}: {} is empty in {row:?}", &header[index]);
                        }
                    }
                }
                _ => {
                    assert!(!stdout.starts_with(['{', '[']), "{what}: a table, not JSON: {stdout}");
                    assert!(stdout.contains(DEMO_SPACE_ID) || case.name != "show", "{what}: {stdout}");
                    assert!(stdout.lines().count() > 1, "{what}: {stdout}");
                }
            }
        }
    }
}

#[test]
fn fields_pick_the_columns_of_tables_and_csv() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let ids_file = ids_file(&dir, &[DEMO_SPACE_ID]);
    for case in cases(&mock, &ids_file) {
        let what = format!("spaces {}", case.name);
        let output = spaces(&case, &["--format", "csv", "--fields", "id,state,creator.username"]);
        assert_eq!(output.status.code(), Some(0), "{what}: {}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert_eq!(stdout.lines().next(), Some("id,state,creator.username"), "{what}: {stdout}");

        if !case.name.contains("--ids-file") {
            let output = spaces(&case, &["--format", "table", "--fields", "title,state"]);
            assert_eq!(output.status.code(), Some(0), "{what}: {}", text(&output.stderr));
            let table = text(&output.stdout);
            assert!(table.contains("title") && table.contains("state"), "{what}: {table}");
            assert!(!table.contains("creator.username"), "{what}: only the fields asked: {table}");
        }

        // A field that does not exist: the valid names are listed.
        let output = spaces(&case, &["--format", "csv", "--fields", "id,nope"]);
        assert_eq!(output.status.code(), Some(2), "{what}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("--fields") && stderr.contains("`nope`"), "{what}: {stderr}");
        assert!(stderr.contains("participant_count") && stderr.contains("settings.is_locked"), "{what}: {stderr}");
        assert!(output.stdout.is_empty(), "{what}: nothing printed");

        // --fields with JSON or NDJSON (given, or the default) cannot apply.
        for format in ["json", "ndjson"] {
            let output = spaces(&case, &["--format", format, "--fields", "id"]);
            assert_eq!(output.status.code(), Some(2), "{what} --format {format}");
            let stderr = text(&output.stderr);
            assert!(stderr.contains("--fields") && stderr.contains(format), "{what}: {stderr}");
            assert!(
                stderr.contains(&format!("spaces {}", case.name.split(' ').next().unwrap_or_default())),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_json_list_is_one_array_even_when_an_id_fails() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let ids_file = ids_file(&dir, &[DEMO_SPACE_ID, "not an id", "1OdKrjgmNkeKX"]);
    let case = Case {
        name: "show --ids-file",
        args: ["show", "--ids-file", &ids_file, "--base-url", &mock.mock.base_url(Provider::X)]
            .map(String::from)
            .to_vec(),
        many: true,
    };
    let output = spaces(&case, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "some ids failed: {}", text(&output.stderr));
    let value: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(value.as_array().map(Vec::len), Some(1), "{value}");
}

#[test]
fn tracing_on_a_pipe_has_no_colour() {
    let mock = mock();
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--base-url", &mock.mock.base_url(Provider::X), "--timeout", "5"]);
    command.env("X_BEARER_TOKEN", DEMO_TOKEN).env("RUST_LOG", "spaces=debug").env_remove("NO_COLOR");
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(!stderr.is_empty(), "RUST_LOG traces requests");
    assert!(!stderr.contains("\u{1b}["), "stderr is a pipe: no escape sequences\n{stderr}");
}

#[test]
fn a_search_that_fails_prints_nothing_not_half_an_array() {
    let mock = mock();
    let mut command = spaces_bin();
    command.args(["search", "radio", "--format", "json", "--base-url", &mock.mock.base_url(Provider::X)]);
    command.args(["--no-rate-limit", "--timeout", "5"]).env("X_BEARER_TOKEN", "wrong-token-value");
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4), "refused: {}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
}

#[test]
fn compare_all_is_for_the_table_only() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let ids_file = ids_file(&dir, &[DEMO_SPACE_ID]);
    let compare = cases(&mock, &ids_file).into_iter().find(|case| case.name == "compare").expect("compare");
    let output = spaces(&compare, &["--all"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for format in ["json", "ndjson", "csv"] {
        let output = spaces(&compare, &["--all", "--format", format]);
        assert_eq!(output.status.code(), Some(2), "--all --format {format}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("--all") && stderr.contains(&format!("--format {format}")), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing printed with --format {format}");
    }
}
