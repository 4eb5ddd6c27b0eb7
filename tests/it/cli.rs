//! The `spaces` binary, run as a process: `convert`, `show` against a
//! loopback mock, `compare`, `demo`, exit codes, and no token in any output.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, LIVE_SPACE_ID, MockProviders};

use crate::support::{recorded_with, with_member, workspace_root};

/// The `spaces` binary, built once per test run.
pub fn spaces_bin() -> Command {
    static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
    let path = BIN.get_or_init(|| {
        let build = escargot::CargoBuild::new()
            .manifest_path(workspace_root().join("Cargo.toml"))
            .package("spaces-cli")
            .bin("spaces")
            .current_release();
        // `spaces demo` and `spaces mock` are tested: the mock is built in.
        let build = build.features("mock");
        // The tests' `parquet` feature tests the binary's too.
        #[cfg(feature = "parquet")]
        let build = build.features("parquet");
        build.run().expect("cargo builds the spaces binary").path().to_path_buf()
    });
    let mut command = Command::new(path);
    // Tests decide which tokens exist, and how wide the output may be (80 without COLUMNS: stdout is a pipe).
    for provider in Provider::ALL {
        command.env_remove(provider.info().env_var);
    }
    command.env_remove("RUST_LOG").env_remove("COLUMNS");
    command
}

pub fn run(mut command: Command, stdin: &[u8]) -> Output {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn spaces");
    let input = child.stdin.take();
    // stdin is fed from its own thread while stdout and stderr are drained:
    // with megabytes each way, writing first would fill both pipes and wait forever.
    std::thread::scope(|scope| {
        if let Some(mut input) = input {
            scope.spawn(move || {
                // The command may stop reading early (it failed): that is its outcome to report.
                let _ = input.write_all(stdin);
            });
        }
        child.wait_with_output().expect("spaces runs")
    })
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(provider: &str, name: &str) -> String {
    workspace_root().join("tests/fixtures").join(provider).join(name).display().to_string()
}

#[test]
fn convert_prints_the_normalized_space() {
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "socialdata", &fixture("socialdata", "doc-ended.json")]);
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let space: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(space["provider"], "socialdata");
    assert_eq!(space["state"], "ended");
    assert_eq!(space["ended_at"], "2023-03-31T20:11:17.270Z");
    assert_eq!(space["creator"]["username"], "XEng");
}

#[test]
fn convert_reports_bad_input_on_one_line_with_a_non_zero_exit() {
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "aisa", "-"]);
    let output = run(command, b"<html><body>502 Bad Gateway</body></html>");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: aisa: cannot decode `body`"), "{stderr}");
    assert!(output.stdout.is_empty());

    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", &fixture("x", "err-not-found.json")]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(3), "not found has its own exit code: {}", text(&output.stderr));
}

#[test]
fn convert_ndjson_streams_lines_and_reports_bad_ones_by_number() {
    let good = std::fs::read_to_string(fixture("x", "canceled.json")).expect("fixture");
    let good: serde_json::Value = serde_json::from_str(&good).expect("json");
    let input = format!(
        "{good}\nnot json\n\n{good}\n{{\"errors\":[{{\"type\":\"https://api.x.com/2/problems/resource-not-found\",\"resource_id\":\"1OdKrjgmNkeKX\"}}]}}\n"
    );
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", "--ndjson"]);
    let output = run(command, input.as_bytes());
    assert_eq!(output.status.code(), Some(1), "a line failed");
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 2, "two Spaces: {stdout}");
    for line in stdout.lines() {
        let space: serde_json::Value = serde_json::from_str(line).expect("one Space per line");
        assert_eq!(space["state"], "canceled");
    }
    let stderr = text(&output.stderr);
    assert!(stderr.contains("error: line 2: x: cannot decode"), "{stderr}");
    assert!(stderr.contains("error: line 5: x: Space 1OdKrjgmNkeKX not found"), "{stderr}");
    assert!(!stderr.contains("line 3"), "blank lines are skipped: {stderr}");
}

/// Runs the mock providers on a background runtime for the life of the test.
pub struct Mock {
    pub mock: MockProviders,
    _runtime: tokio::runtime::Runtime,
}

pub fn mock() -> Mock {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let mock = runtime.block_on(MockProviders::start());
    Mock { mock, _runtime: runtime }
}

fn show(mock: &Mock, provider: Provider, args: &[&str], token: Option<&str>) -> Output {
    let mut command = spaces_bin();
    command.args([
        "show",
        "--provider",
        provider.as_str(),
        "--base-url",
        &mock.mock.base_url(provider),
        "--timeout",
        "5",
    ]);
    command.args(args);
    if let Some(token) = token {
        command.env(provider.info().env_var, token);
    }
    run(command, b"")
}

#[test]
fn show_prints_json_or_a_table_for_every_provider() {
    let mock = mock();
    for &provider in Provider::ALL {
        let output = show(&mock, provider, &[DEMO_SPACE_ID], Some(DEMO_TOKEN));
        assert!(output.status.success(), "{provider}: {}", text(&output.stderr));
        let space: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(space["provider"], provider.as_str());
        assert_eq!(space["title"], "The Algorithm goes open source");

        let output = show(&mock, provider, &[DEMO_SPACE_ID, "--format", "table"], Some(DEMO_TOKEN));
        let table = text(&output.stdout);
        assert!(table.contains("The Algorithm goes open source") && table.contains("@XEng"), "{provider}:\n{table}");
        assert!(table.contains("UTC"), "times in UTC:\n{table}");
    }
}

#[test]
fn show_exit_codes_say_what_went_wrong() {
    let mock = mock();
    let not_found = show(&mock, Provider::X, &["1OdKrjgmNkeKX"], Some(DEMO_TOKEN));
    assert_eq!(not_found.status.code(), Some(3), "{}", text(&not_found.stderr));

    let refused = show(&mock, Provider::SocialData, &[DEMO_SPACE_ID], Some("wrong-token-value"));
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
    assert!(!text(&refused.stderr).contains("wrong-token-value"));

    // twitterapi.io: not found inside a 200, and a wrong key in `x-api-key`.
    let not_found = show(&mock, Provider::TwitterApi, &["1OdKrjgmNkeKX"], Some(DEMO_TOKEN));
    assert_eq!(not_found.status.code(), Some(3), "{}", text(&not_found.stderr));
    let refused = show(&mock, Provider::TwitterApi, &[DEMO_SPACE_ID], Some("wrong-token-value"));
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));

    let no_token = show(&mock, Provider::Aisa, &[DEMO_SPACE_ID], None);
    assert_eq!(no_token.status.code(), Some(4));
    assert!(text(&no_token.stderr).contains("AISA_API_KEY"), "names the variable: {}", text(&no_token.stderr));

    let bad_id = show(&mock, Provider::X, &["not/an/id"], Some(DEMO_TOKEN));
    assert_eq!(bad_id.status.code(), Some(1));
    assert!(text(&bad_id.stderr).contains("invalid Space id"), "{}", text(&bad_id.stderr));
}

#[test]
fn show_bulk_gives_every_id_exactly_one_line() {
    let mock = mock();
    let ids = format!("{DEMO_SPACE_ID}\n1OdKrjgmNkeKX\nbad id!\n\n{DEMO_SPACE_ID}\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let ids_file = dir.path().join("ids.txt");
    // A line that is not UTF-8 fails on its own line like any invalid id.
    std::fs::write(&ids_file, [ids.as_bytes(), b"\xff\xfe\n"].concat()).expect("ids file");
    let ids_path = ids_file.display().to_string();
    let output = show(&mock, Provider::X, &["--ids-file", &ids_path, "--concurrency", "2"], Some(DEMO_TOKEN));
    assert_eq!(output.status.code(), Some(1), "some ids failed");
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().filter(|line| line.starts_with("error: ")).count(), 3, "{stderr}");
    assert_eq!(stderr.lines().filter(|line| line.contains("invalid Space id")).count(), 2, "{stderr}");
    assert!(stderr.contains("error: 1OdKrjgmNkeKX: x: Space 1OdKrjgmNkeKX not found"), "{stderr}");
    assert!(stderr.contains("error: bad id!: x: invalid Space id"), "{stderr}");
}

#[test]
fn demo_shows_every_provider_without_network_or_keys() {
    let mut command = spaces_bin();
    // Wide enough for the title to stay on one line (cells wrap to the width).
    command.arg("demo").env("COLUMNS", "250");
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let header = stdout.lines().find(|line| line.trim_start().starts_with("field ")).expect("a table header");
    for provider in Provider::ALL {
        assert!(header.contains(provider.as_str()), "{header}");
    }
    // The live Space: only the fields the providers answer differently.
    assert!(stdout.contains(&format!("Space {LIVE_SPACE_ID} from x, socialdata, aisa, twitterapi")), "{stdout}");
    let counts = stdout.lines().find(|line| line.starts_with("  participant_count ")).expect("a differing row");
    let cells: Vec<&str> = counts.split_whitespace().collect();
    assert_eq!(cells, ["participant_count", "64", "—", "66", "67"], "{counts}");
    assert!(!stdout.lines().any(|line| line.starts_with("  title ")), "an agreed field is not a row:\n{stdout}");
    assert!(stdout.contains("127.0.0.1"), "{stdout}");
}

#[test]
fn tokens_are_not_accepted_as_arguments() {
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--token", "abc"]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(2), "no --token flag exists");
}

#[test]
fn compare_json_gives_the_same_rows_as_data() {
    let mock = mock();
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--providers", "x,socialdata", "--format", "json"]);
    for provider in [Provider::X, Provider::SocialData] {
        command.arg("--base-url").arg(format!("{provider}={}", mock.mock.base_url(provider)));
        command.env(provider.info().env_var, DEMO_TOKEN);
    }
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(comparison["providers"], serde_json::json!(["x", "socialdata"]));
    let fields = comparison["fields"].as_array().expect("fields");
    let row = |name: &str| fields.iter().find(|row| row["field"] == name).unwrap_or_else(|| panic!("row {name}"));
    assert_eq!(row("title")["differs"], false);
    assert_eq!(row("title")["values"]["x"], "The Algorithm goes open source");
    // x says `ended`, SocialData `Ended`: both are kept, but a case-only
    // difference is no disagreement (as for a merge's conflicts).
    assert_eq!(row("state_raw")["values"]["x"], "ended");
    assert_eq!(row("state_raw")["values"]["socialdata"], "Ended");
    assert_eq!(row("state_raw")["differs"], false);
    assert_eq!(row("lang")["values"]["socialdata"], serde_json::Value::Null, "not provided is null");
}

#[test]
fn compare_without_any_token_names_the_variables() {
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("X_BEARER_TOKEN") && stderr.contains("SOCIALDATA_API_KEY") && stderr.contains("AISA_API_KEY"),
        "{stderr}"
    );
}

/// Writes `token` to a file in `dir` and returns its path.
fn token_file(dir: &tempfile::TempDir, name: &str, token: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{token}\n")).expect("token file");
    path.display().to_string()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn compare_takes_the_connection_options_of_show() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let x_token = token_file(&dir, "x-token", DEMO_TOKEN);

    // No environment token at all: `--token-file x=FILE` is what makes x available,
    // so without --providers x alone is asked.
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--format", "json", "--no-rate-limit", "--timeout", "5s"]);
    command.arg("--base-url").arg(format!("x={}", mock.mock.base_url(Provider::X)));
    command.arg("--token-file").arg(format!("x={x_token}"));
    let comparison = json(&run(command, b""));
    assert_eq!(comparison["providers"], serde_json::json!(["x"]));
    assert_eq!(comparison["errors"], serde_json::json!({}));

    // A token file for one provider, the environment for another, each its own base URL.
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--format", "json", "--no-rate-limit"]);
    for provider in [Provider::X, Provider::SocialData] {
        command.arg("--base-url").arg(format!("{provider}={}", mock.mock.base_url(provider)));
    }
    command.arg("--token-file").arg(format!("x={x_token}"));
    command.env(Provider::SocialData.info().env_var, DEMO_TOKEN);
    let comparison = json(&run(command, b""));
    assert_eq!(comparison["providers"], serde_json::json!(["x", "socialdata"]));
    assert_eq!(comparison["errors"], serde_json::json!({}));
}

#[test]
fn token_files_are_never_echoed_and_failures_name_the_provider_and_path() {
    let mock = mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "tok-from-a-file-SECRET-77";
    let wrong = token_file(&dir, "wrong-token", secret);
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--providers", "socialdata"]);
    command.arg("--base-url").arg(mock.mock.base_url(Provider::SocialData));
    command.arg("--token-file").arg(format!("socialdata={wrong}"));
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4), "refused token: {}", text(&output.stderr));
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(!all.contains(secret), "{all}");

    let missing = dir.path().join("no-such-file").display().to_string();
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--provider", "aisa", "--token-file", &missing]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: aisa: cannot read token file") && stderr.contains(&missing), "{stderr}");
}

#[test]
fn base_urls_apply_to_every_provider_asked_or_to_the_one_named() {
    let mock = mock();
    let url = mock.mock.base_url(Provider::X);
    // `show` asks one provider: a plain URL and `x=URL` are the same thing.
    for base_url in [url.clone(), format!("x={url}"), format!("X={url}")] {
        let mut command = spaces_bin();
        command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--base-url", &base_url]);
        command.env("X_BEARER_TOKEN", DEMO_TOKEN);
        assert_eq!(json(&run(command, b""))["provider"], "x", "--base-url {base_url}");
    }
    // A value naming a provider the command does not ask would be silently ignored
    // (and the real API asked instead): refused as a usage error.
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--base-url", &format!("socialdata={url}")]);
    command.env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("socialdata"), "{}", text(&output.stderr));
    // Ambiguous: two plain values.
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--base-url", &url, "--base-url", &url]);
    command.env("X_BEARER_TOKEN", DEMO_TOKEN);
    assert_eq!(run(command, b"").status.code(), Some(2));
    // Not a URL, and not PROVIDER=URL either.
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--base-url", "nope=http://127.0.0.1:1"]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("'nope=http://127.0.0.1:1'"), "{}", text(&output.stderr));
}

#[test]
fn one_token_file_is_never_sent_to_several_providers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = token_file(&dir, "token", DEMO_TOKEN);
    for providers in [None, Some("x,socialdata")] {
        let mut command = spaces_bin();
        command.args(["compare", DEMO_SPACE_ID, "--token-file", &file]);
        if let Some(providers) = providers {
            command.args(["--providers", providers]);
        }
        command.env("X_BEARER_TOKEN", DEMO_TOKEN);
        let output = run(command, b"");
        assert_eq!(output.status.code(), Some(2), "{providers:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains("PROVIDER=FILE"), "{}", text(&output.stderr));
    }
}

#[test]
fn timeouts_are_durations_and_bad_ones_are_usage_errors() {
    let mock = mock();
    for bad in ["0", "soon", "2h", "-3", "inf", "0ms"] {
        for args in [["show", DEMO_SPACE_ID, "--provider", "x"], ["compare", DEMO_SPACE_ID, "--providers", "x"]] {
            let mut command = spaces_bin();
            command.args(args).arg(format!("--timeout={bad}"));
            let output = run(command, b"");
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{} --timeout {bad}: {stderr}", args[0]);
            assert!(stderr.contains(&format!("'{bad}'")), "names the value {bad}: {stderr}");
        }
    }
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--timeout", "1500ms", "--base-url"]);
    command.arg(mock.mock.base_url(Provider::X)).env("X_BEARER_TOKEN", DEMO_TOKEN);
    assert_eq!(json(&run(command, b""))["id"], DEMO_SPACE_ID);
}

/// The rows of `compare --format json` for every provider against the mock.
fn every_field(mock: &Mock) -> Vec<String> {
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--format", "json", "--no-rate-limit"]);
    for &provider in Provider::ALL {
        command.arg("--base-url").arg(format!("{provider}={}", mock.mock.base_url(provider)));
        command.env(provider.info().env_var, DEMO_TOKEN);
    }
    let comparison = json(&run(command, b""));
    assert_eq!(comparison["providers"].as_array().map(Vec::len), Some(Provider::ALL.len()));
    let fields = comparison["fields"].as_array().expect("fields");
    fields.iter().map(|row| row["field"].as_str().expect("field name").to_owned()).collect()
}

/// Every line fits `width` characters, and each field starts a row of a
/// table (after the `* ` marker column) or a block (`-[ field ]`).
fn assert_fits(output: &Output, width: usize, fields: &[String]) {
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for line in stdout.lines() {
        assert!(line.chars().count() <= width, "{} chars > {width}: {line:?}\n{stdout}", line.chars().count());
    }
    for field in fields {
        let starts_row = |line: &str| {
            line.get(2..).is_some_and(|rest| rest.starts_with(&format!("{field} ")) || rest == field)
                || line.contains(&format!("-[ {field} ]"))
        };
        assert!(stdout.lines().any(starts_row), "no row starts with {field}:\n{stdout}");
    }
}

#[test]
fn tables_fit_80_columns_and_keep_every_field_with_all() {
    let mock = mock();
    let fields = every_field(&mock);
    assert!(fields.iter().any(|field| field == "settings.narrow_cast_space_type"), "{fields:?}");

    let mut command = spaces_bin();
    command.arg("demo").env("COLUMNS", "80");
    assert_fits(&run(command, b""), 80, &[]);

    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--all", "--format", "table", "--no-rate-limit"]);
    for &provider in Provider::ALL {
        command.arg("--base-url").arg(format!("{provider}={}", mock.mock.base_url(provider)));
        command.env(provider.info().env_var, DEMO_TOKEN);
    }
    command.env("COLUMNS", "80");
    assert_fits(&run(command, b""), 80, &fields);
}

#[test]
fn completions_come_from_the_same_command_line() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let mut command = spaces_bin();
        command.args(["completions", shell]);
        let output = run(command, b"");
        assert_eq!(output.status.code(), Some(0), "{shell}: {}", text(&output.stderr));
        let script = text(&output.stdout);
        assert!(script.contains("spaces") && script.contains("compare"), "{shell}:\n{script}");
        assert!(script.contains("token-file") && script.contains("timeout"), "{shell}:\n{script}");
    }
    let mut command = spaces_bin();
    command.args(["completions", "tcsh"]);
    assert_eq!(run(command, b"").status.code(), Some(2));
}

#[test]
fn help_lists_the_exit_codes() {
    let mut command = spaces_bin();
    command.arg("--help");
    let output = run(command, b"");
    assert!(output.status.success());
    let help = text(&output.stdout);
    for line in ["  0  success", "  2  usage error", "  3  Space not found", "  4  not authorized", "  5  rate limited"]
    {
        assert!(help.contains(line), "{line}:\n{help}");
    }
}

#[test]
fn compare_exit_codes_follow_the_answers() {
    let mock = mock();
    // Every provider asked says not found: 3.
    let mut command = spaces_bin();
    command.args(["compare", "1OdKrjgmNkeKX", "--providers", "x", "--format", "json"]);
    command.arg("--base-url").arg(mock.mock.base_url(Provider::X)).env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    // A provider asked by name without a token: 4, naming its variable.
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--providers", "x,aisa"]).env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("AISA_API_KEY"), "{}", text(&output.stderr));
    // Without --providers, a base URL for a provider that has no token: 4, naming its variable.
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--base-url", "aisa=http://127.0.0.1:9"]).env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("AISA_API_KEY"), "{}", text(&output.stderr));
}

// ---------------------------------------------------------------------------
// X's multi-Space endpoints: bulk `show` in batches, `search`, `by-creator`,
// and `convert` of multi-Space bodies.

/// X's `resource-not-found` problem for one id of a batch, as X words it.
fn x_not_found_problem(id: &str) -> serde_json::Value {
    serde_json::json!({
        "value": id,
        "detail": format!("Could not find space with ids: [{id}]."),
        "title": "Not Found Error",
        "resource_type": "space",
        "parameter": "ids",
        "resource_id": id,
        "type": "https://api.twitter.com/2/problems/resource-not-found"
    })
}

/// The body X gives `GET /2/spaces?ids=`: the recorded Space (with its
/// `includes`) once per id `found` says yes to, under that id, in order; a
/// not-found problem for every other id.
pub fn x_batch_body(ids: &[String], found: impl Fn(&str) -> bool) -> String {
    let recorded: serde_json::Value = serde_json::from_str(spaces_mock::recorded_space(Provider::X)).expect("JSON");
    let data: Vec<serde_json::Value> = ids
        .iter()
        .filter(|id| found(id))
        .map(|id| {
            let mut space = recorded["data"].clone();
            space["id"] = serde_json::json!(id);
            space
        })
        .collect();
    let errors: Vec<serde_json::Value> = ids.iter().filter(|id| !found(id)).map(|id| x_not_found_problem(id)).collect();
    let mut body = serde_json::Map::new();
    if !data.is_empty() {
        body.insert("data".into(), data.into());
        body.insert("includes".into(), recorded["includes"].clone());
    }
    if !errors.is_empty() {
        body.insert("errors".into(), errors.into());
    }
    serde_json::Value::Object(body).to_string()
}

/// Answers X's batch lookup: ids starting with `ok` found, the others not.
pub struct OkFound;

impl wiremock::Respond for OkFound {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let ids = spaces_mock::requested_ids(request);
        spaces_mock::json(200, &x_batch_body(&ids, |id| id.starts_with("ok")))
    }
}

/// The requests `server` received, as (path, `ids` of each batch request).
fn received(mock: &Mock, server: &wiremock::MockServer) -> Vec<(String, Vec<String>)> {
    let requests = mock._runtime.block_on(server.received_requests()).expect("the server records requests");
    requests.iter().map(|request| (request.url.path().to_owned(), spaces_mock::requested_ids(request))).collect()
}

/// Runs `spaces` with these arguments (plus `--timeout 5`) and stdin, X's token set.
fn spaces_x(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = spaces_bin();
    command.args(args).args(["--timeout", "5"]).env("X_BEARER_TOKEN", DEMO_TOKEN);
    run(command, stdin)
}

/// How many lines each id got: the `id` of every NDJSON Space on stdout,
/// and the `<id>` of every `error: <id>: ...` line on stderr among `ids`.
fn lines_per_id(output: &Output, ids: &[String]) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for line in text(&output.stdout).lines() {
        let space: serde_json::Value = serde_json::from_str(line).expect("one Space per stdout line");
        *seen.entry(space["id"].as_str().expect("id").to_owned()).or_default() += 1;
    }
    for line in text(&output.stderr).lines().filter(|line| line.starts_with("error: ")) {
        let id = ids.iter().find(|id| line.starts_with(&format!("error: {id}: "))).unwrap_or_else(|| panic!("{line}"));
        *seen.entry(id.clone()).or_default() += 1;
    }
    seen
}

#[test]
fn bulk_show_on_x_asks_100_ids_per_request_and_answers_every_line_once() {
    let mock = mock();
    // 250 distinct valid ids: the recorded demo Space and 249 the mock has no recording of.
    let mut distinct: Vec<String> = vec![DEMO_SPACE_ID.to_owned()];
    distinct.extend((1..250).map(|n| format!("nf{n:011}")));
    // Then an invalid id, and two duplicates, among them.
    let mut lines: Vec<String> = distinct.clone();
    lines.insert(17, "bad id!".to_owned());
    lines.insert(120, DEMO_SPACE_ID.to_owned());
    lines.push(distinct[42].clone());
    let input = lines.join("\n") + "\n\n";
    let base_url = mock.mock.base_url(Provider::X);
    let output = spaces_x(&["show", "--provider", "x", "--base-url", &base_url, "--ids-file", "-"], input.as_bytes());
    assert_eq!(output.status.code(), Some(1), "some ids failed: {}", text(&output.stderr));

    // Every input line has exactly one outcome line, in input order on each stream.
    let mut expected: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for line in &lines {
        *expected.entry(line.clone()).or_default() += 1;
    }
    assert_eq!(lines_per_id(&output, &lines), expected);
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 2, "the demo Space, twice: {stdout}");
    let stderr = text(&output.stderr);
    let failed: Vec<&str> = stderr.lines().filter_map(|line| line.strip_prefix("error: ")?.split(':').next()).collect();
    let expected_failed: Vec<&str> = lines.iter().map(String::as_str).filter(|id| *id != DEMO_SPACE_ID).collect();
    assert_eq!(failed, expected_failed, "errors in input order");
    assert!(stderr.contains("error: nf00000000042: x: Space nf00000000042 not found"), "{stderr}");
    assert!(stderr.contains("error: bad id!: x: invalid Space id"), "{stderr}");
    assert!(stderr.ends_with("x: 2 found, 251 failed\n"), "{stderr}");

    // 250 distinct valid ids: 3 requests to the batch endpoint, none to the single one,
    // each id asked exactly once.
    let requests = received(&mock, mock.mock.server());
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(requests.iter().all(|(path, ids)| path == "/2/spaces" && ids.len() <= 100), "{requests:?}");
    let mut asked: Vec<String> = requests.into_iter().flat_map(|(_, ids)| ids).collect();
    asked.sort();
    let mut want = distinct.clone();
    want.sort();
    assert_eq!(asked, want);
}

#[test]
fn bulk_show_retries_a_failed_batch_without_losing_or_repeating_an_id() {
    let mock = mock();
    let server = mock._runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        spaces_mock::batch_endpoint()
            .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("over capacity"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        spaces_mock::batch_endpoint().respond_with(OkFound).with_priority(2).mount(&server).await;
        server
    });
    let ids: Vec<String> = (0..250).map(|n| format!("ok{n:011}")).collect();
    let output = spaces_x(
        &["show", "--provider", "x", "--base-url", &server.uri(), "--no-rate-limit", "--concurrency", "2"],
        (ids.join("\n") + "\n").as_bytes(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let once: std::collections::BTreeMap<String, usize> = ids.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(lines_per_id(&output, &ids), once, "every id exactly once");
    let printed: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("JSON")["id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(printed, ids, "in input order");

    // 3 batches and one retry of the batch that got the 503: 4 requests,
    // the retried one asking again for exactly the ids of the failed one.
    let requests = received(&mock, &server);
    assert_eq!(requests.len(), 4, "{requests:?}");
    let mut asked: Vec<String> = requests.iter().flat_map(|(_, ids)| ids.clone()).collect();
    asked.sort();
    let retried = requests.iter().filter(|(_, ids)| requests.iter().filter(|(_, other)| other == ids).count() == 2);
    assert_eq!(retried.count(), 2, "one batch asked twice: {requests:?}");
    asked.dedup();
    assert_eq!(asked, ids, "no id lost");
}

#[test]
fn bulk_show_with_no_batch_asks_one_id_per_request() {
    let mock = mock();
    let ids = [DEMO_SPACE_ID, "1OdKrjgmNkeKX", "nf00000000001", DEMO_SPACE_ID];
    let base_url = mock.mock.base_url(Provider::X);
    let output = spaces_x(
        &["show", "--provider", "x", "--base-url", &base_url, "--no-batch", "--concurrency", "3"],
        ids.join("\n").as_bytes(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 2);
    assert_eq!(text(&output.stderr).lines().filter(|line| line.starts_with("error: ")).count(), 2);
    let requests = received(&mock, mock.mock.server());
    let mut paths: Vec<String> = requests.into_iter().map(|(path, _)| path).collect();
    paths.sort();
    let mut want: Vec<String> = ids[..3].iter().map(|id| format!("/2/spaces/{id}")).collect();
    want.sort();
    assert_eq!(paths, want, "one single-Space request per distinct id; the repeat is answered from the first");
}

#[test]
fn search_prints_ndjson_or_a_table_and_sends_its_options() {
    let mock = mock();
    let base_url = mock.mock.base_url(Provider::X);
    let output = spaces_x(
        &["search", "radio", "--state", "live", "--max-results", "1", "--base-url", &base_url, "--no-rate-limit"],
        b"",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let space: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one Space per line");
    assert_eq!((space["provider"].as_str(), space["state"].as_str()), (Some("x"), Some("live")));
    assert_eq!(text(&output.stderr), "x: 1 Space, 0 errors\n");
    let requests = mock._runtime.block_on(mock.mock.server().received_requests()).expect("recorded");
    let request = requests.last().expect("one request");
    assert_eq!(request.url.path(), "/2/spaces/search");
    let query: std::collections::HashMap<String, String> = request.url.query_pairs().into_owned().collect();
    assert_eq!(query.get("query").map(String::as_str), Some("radio"));
    assert_eq!(query.get("state").map(String::as_str), Some("live"));
    assert_eq!(query.get("max_results").map(String::as_str), Some("1"));

    // The table: one row per Space within the width, and the default state `all` on the wire.
    let mut command = spaces_bin();
    command.args(["search", "radio", "--format", "table", "--base-url", &base_url, "--no-rate-limit"]);
    command.env("X_BEARER_TOKEN", DEMO_TOKEN).env("COLUMNS", "72");
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(table.lines().all(|line| line.chars().count() <= 72), "{table}");
    assert!(table.starts_with("3 Spaces matching \"radio\" (state: all), from X API v2."), "{table}");
    let header = table.lines().position(|line| line.starts_with("  id ")).expect("a header row");
    let rows = table.lines().skip(header + 1).filter(|line| !line.starts_with("   ")).count();
    assert_eq!(rows, 3, "one row per Space:\n{table}");
    assert!(table.contains("@oss_hour") && table.contains("(scheduled)"), "{table}");
    let requests = mock._runtime.block_on(mock.mock.server().received_requests()).expect("recorded");
    let query: Vec<(String, String)> = requests.last().expect("a request").url.query_pairs().into_owned().collect();
    assert!(query.contains(&("state".to_owned(), "all".to_owned())), "{query:?}");
}

#[test]
fn by_creator_lists_the_spaces_of_the_users_given() {
    let mock = mock();
    let base_url = mock.mock.base_url(Provider::X);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("users.txt");
    std::fs::write(&file, "1402877316125298688\n\n2244994945\n14402761\n").expect("user ids file");
    let file = file.display().to_string();
    let output = spaces_x(
        &["by-creator", "14402761", "--user-ids-file", &file, "--base-url", &base_url, "--no-rate-limit"],
        b"",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.lines().count() >= 1, "{stdout}");
    for line in stdout.lines() {
        let space: serde_json::Value = serde_json::from_str(line).expect("one Space per line");
        assert!(space["creator_id"].is_string(), "{line}");
    }
    let requests = received(&mock, mock.mock.server());
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = mock._runtime.block_on(mock.mock.server().received_requests()).expect("recorded").remove(0);
    assert_eq!(request.url.path(), "/2/spaces/by/creator_ids");
    let user_ids = request.url.query_pairs().find(|(key, _)| key == "user_ids").map(|(_, value)| value.into_owned());
    assert_eq!(user_ids.as_deref(), Some("14402761,1402877316125298688,2244994945"), "each user once, in order");

    let mut command = spaces_bin();
    command.args(["by-creator", "14402761", "--format", "table", "--base-url", &base_url, "--no-rate-limit"]);
    command.env("X_BEARER_TOKEN", DEMO_TOKEN).env("COLUMNS", "80");
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(table.contains("by 1 creator, from X API v2"), "{table}");
    assert!(table.lines().all(|line| line.chars().count() <= 80), "{table}");
    for line in stdout.lines() {
        let id = serde_json::from_str::<serde_json::Value>(line).expect("JSON")["id"].as_str().expect("id").to_owned();
        assert!(table.lines().any(|row| row.starts_with(&format!("  {id} "))), "{id} has a row:\n{table}");
    }
}

#[test]
fn list_commands_refuse_providers_without_them_and_bad_arguments() {
    // Before any token is needed: no token is set here.
    for (args, operation) in [
        (vec!["search", "radio", "--provider", "socialdata"], "search"),
        (vec!["by-creator", "2244994945", "--provider", "aisa"], "Spaces by creator"),
        (vec!["by-creator", "2244994945", "-p", "twitterapi"], "Spaces by creator"),
    ] {
        let mut command = spaces_bin();
        command.args(&args);
        let output = run(command, b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[3]) && stderr.contains(operation) && stderr.contains("--provider x"), "{stderr}");
    }
    for args in [
        vec!["search", "radio", "--max-results", "0"],
        vec!["search", "radio", "--max-results", "101"],
        vec!["search", "radio", "--state", "ended"],
        vec!["search", ""],
        vec!["by-creator"],
        vec!["by-creator", "@XEng"],
        vec!["by-creator", "12345678901234567890"],
    ] {
        let mut command = spaces_bin();
        command.args(&args).env("X_BEARER_TOKEN", DEMO_TOKEN).args(["--base-url", "http://127.0.0.1:9"]);
        let output = run(command, b"");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
    }
    // A bad id in the file names the file and the line.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("users.txt");
    std::fs::write(&file, "2244994945\nXEng\n").expect("file");
    let mut command = spaces_bin();
    command.args(["by-creator", "--user-ids-file"]).arg(&file).env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("line 2: x: invalid user id `XEng`"), "{}", text(&output.stderr));
}

#[test]
fn convert_prints_a_multi_space_body_one_space_per_line_with_errors_by_id() {
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", &fixture("x", "multi-partial-errors.json")]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(1), "a partial error was reported");
    let ids: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON line")["id"].to_string())
        .collect();
    assert_eq!(ids, ["\"1wkNhFdnXsiVp\"", "\"1zz63FfkCzJr4\""]);
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: 1i0B3JrTAwR4y: x: Space 1i0B3JrTAwR4y not found"), "{stderr}");

    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", &fixture("x", "multi-search-meta.json")]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 2);
    assert!(output.stderr.is_empty());

    // A single-Space body prints as before: one pretty JSON object.
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", &fixture("x", "ended-algorithm.json")]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("{\n  \"provider\": \"x\",\n"), "{stdout}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout).expect("one JSON value")["id"], DEMO_SPACE_ID);
}

#[test]
fn convert_ndjson_takes_multi_space_lines_too() {
    let compact = |name: &str| {
        let body = std::fs::read_to_string(fixture("x", name)).expect("fixture");
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON").to_string()
    };
    let input = [
        compact("canceled.json"),
        compact("multi-partial-errors.json"),
        "{oops".to_owned(),
        compact("multi-search-meta.json"),
    ]
    .join("\n");
    let mut command = spaces_bin();
    command.args(["convert", "--provider", "x", "--ndjson"]);
    let output = run(command, input.as_bytes());
    assert_eq!(output.status.code(), Some(1));
    let states: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("JSON line")["id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(states.len(), 5, "1 + 2 + 2 Spaces, in input order: {states:?}");
    assert_eq!(&states[1..3], ["1wkNhFdnXsiVp", "1zz63FfkCzJr4"]);
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(errors[0].starts_with("error: line 2: 1i0B3JrTAwR4y: x: Space 1i0B3JrTAwR4y not found"), "{stderr}");
    assert!(errors[1].starts_with("error: line 3: x: cannot decode"), "{stderr}");
    assert!(stderr.ends_with("x: 5 converted, 2 failed\n"), "{stderr}");
}

#[test]
fn demo_shows_a_batch_lookup_and_a_search_after_the_comparison() {
    let mut command = spaces_bin();
    command.arg("demo").env("COLUMNS", "120");
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let comparison = stdout.find("  field ").expect("the comparison");
    let batch = stdout.find("one request:").expect("the batch lookup");
    assert!(comparison < batch, "{stdout}");
    assert!(stdout.contains(&format!("  {DEMO_SPACE_ID}  found: \"The Algorithm goes open source\"")), "{stdout}");
    assert!(stdout.contains("1OdKrjgmNkeKX  x: Space 1OdKrjgmNkeKX not found"), "{stdout}");
    assert!(stdout.contains("`spaces search radio`"), "{stdout}");
}

// ---------------------------------------------------------------------------
// Several providers (issue 13): `show --providers … --merge | --fallback`.

/// A valid id the mock has no recording of (every provider says not found).
const MISSING: &str = "1OdKrjgmNkeKX";

/// `spaces show <args> --providers <order> --merge|--fallback`, each provider at
/// its own base URL (the mock's unless `urls` names another) with the demo token,
/// `--timeout 5s`, no rate limit.
fn show_several(mock: &Mock, order: &[Provider], mode: &str, args: &[&str], urls: &[(Provider, String)]) -> Command {
    let mut command = spaces_bin();
    let names: Vec<&str> = order.iter().map(|provider| provider.as_str()).collect();
    command.arg("show").args(args).args(["--providers", &names.join(","), mode, "--no-rate-limit"]);
    for &provider in order {
        let url = urls
            .iter()
            .find(|(target, _)| *target == provider)
            .map_or_else(|| mock.mock.base_url(provider), |(_, url)| url.clone());
        command.arg("--base-url").arg(format!("{provider}={url}"));
        command.env(provider.info().env_var, DEMO_TOKEN);
    }
    if !args.contains(&"--timeout") {
        command.args(["--timeout", "5s"]);
    }
    command
}

/// A wiremock server (on the mock's runtime) giving `answer` to every request for `provider`'s endpoint.
fn serving(mock: &Mock, provider: Provider, answer: wiremock::ResponseTemplate) -> (wiremock::MockServer, String) {
    let server = mock._runtime.block_on(crate::support::serve(provider, answer));
    let url = crate::support::base_url(&server, provider);
    (server, url)
}

/// Neither the demo token nor `secret` appears in any output.
fn assert_no_token(outputs: &[&Output], secret: &str) {
    for output in outputs {
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!all.contains(DEMO_TOKEN) && !all.contains(secret), "a token leaked:\n{all}");
    }
}

/// The model fields a Space has values for: top-level keys, and `creator.*`
/// and `settings.*` member by member (as `sources` names them).
fn fields_with_values(space: &serde_json::Value) -> Vec<String> {
    let mut fields = Vec::new();
    for (key, value) in space.as_object().expect("a Space object") {
        match (key.as_str(), value) {
            ("provider", _) | (_, serde_json::Value::Null) => {}
            ("creator" | "settings", serde_json::Value::Object(members)) => fields.extend(
                members.iter().filter(|(_, value)| !value.is_null()).map(|(member, _)| format!("{key}.{member}")),
            ),
            _ => fields.push(key.clone()),
        }
    }
    fields
}

#[test]
fn show_merge_fills_every_field_any_provider_has_and_names_its_source() {
    let mock = mock();
    let every: Vec<Provider> = vec![Provider::X, Provider::SocialData, Provider::Aisa, Provider::TwitterApi];
    let output = run(show_several(&mock, &every, "--merge", &[DEMO_SPACE_ID], &[]), b"");
    let merged = json(&output);
    assert!(output.stderr.is_empty(), "every provider answered: {}", text(&output.stderr));
    assert_no_token(&[&output], DEMO_TOKEN);

    let answers: Vec<serde_json::Value> = every
        .iter()
        .map(|&provider| {
            let space = spaces::decode(provider, spaces_mock::recorded_space(provider).as_bytes()).expect("recorded");
            serde_json::to_value(space).expect("JSON")
        })
        .collect();
    let sources = merged["sources"].as_object().expect("sources is an object");
    let mut checked = 0;
    // The creator is a user, taken whole from the first answer that has it (X's).
    assert_eq!(merged["creator"], answers[0]["creator"]);
    for field in answers.iter().flat_map(fields_with_values).filter(|field| !field.starts_with("creator.")) {
        let pointer = format!("/{}", field.replace('.', "/"));
        let value = merged.pointer(&pointer).unwrap_or(&serde_json::Value::Null);
        assert!(!value.is_null(), "{field}: some provider has it, the merge must too:\n{merged:#}");
        let source = sources.get(&field).and_then(serde_json::Value::as_str);
        assert!(every.iter().any(|provider| Some(provider.as_str()) == source), "{field}: source {source:?}");
        checked += 1;
    }
    assert!(checked > 30, "{checked} fields");
    // Sources are in the model's order, and only name fields that have a value.
    let order: Vec<&String> = sources.keys().collect();
    assert_eq!(order.first().map(|field| field.as_str()), Some("id"), "{order:?}");
    assert_eq!(merged["provider"], "x", "the first answer's");
    assert_eq!(merged["sources"]["lang"], "x");
    assert_eq!(merged["sources"]["media_key"], "socialdata", "the first non-X provider in the order given");
    // Each field from the first provider, in the order given, that has it (state aside: the most advanced wins).
    for (field, source) in sources.iter().filter(|(field, _)| !field.starts_with("state")) {
        let pointer = format!("/{}", field.replace('.', "/"));
        let first =
            every.iter().zip(&answers).find(|(_, answer)| answer.pointer(&pointer).is_some_and(|v| !v.is_null()));
        assert_eq!(first.map(|(provider, _)| provider.as_str()), source.as_str(), "{field}");
    }
    let settings: Vec<(&String, &serde_json::Value)> =
        sources.iter().filter(|(field, _)| field.starts_with("settings.")).collect();
    assert!(settings.len() > 5, "{sources:?}");
    assert!(settings.iter().all(|(_, source)| *source == "socialdata" || *source == "aisa"), "{settings:?}");
    assert_eq!(merged["sources"]["settings.is_locked"], "socialdata");
    assert!(merged["conflicts"].is_array(), "{merged:#}");

    // Another order: AIsa before SocialData gives AIsa's media key and settings.
    let order = [Provider::X, Provider::Aisa, Provider::SocialData];
    let merged = json(&run(show_several(&mock, &order, "--merge", &[DEMO_SPACE_ID], &[]), b""));
    assert_eq!(merged["sources"]["media_key"], "aisa");
    assert_eq!(merged["sources"]["lang"], "x");
    let sources = merged["sources"].as_object().expect("sources");
    assert!(sources.iter().filter(|(field, _)| field.starts_with("settings.")).all(|(_, source)| source == "aisa"));
}

#[test]
fn show_merge_reports_conflicts_with_every_value_and_resolves_them_by_the_rules() {
    let mock = mock();
    // Another Space, which X still says is live under the demo title, and
    // SocialData says has ended, under another title.
    const OTHER: &str = "1vOxwjaWEbdJB";
    let x_body = with_member(&recorded_with(Provider::X, "id", OTHER), "state", "live");
    let socialdata_body = with_member(&recorded_with(Provider::SocialData, "id", OTHER), "title", "A different title");
    let server = mock._runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        for (provider, body) in [(Provider::X, &x_body), (Provider::SocialData, &socialdata_body)] {
            spaces_mock::endpoint_for(provider, OTHER).respond_with(spaces_mock::json(200, body)).mount(&server).await;
        }
        server
    });
    let urls: Vec<(Provider, String)> = [Provider::X, Provider::SocialData]
        .into_iter()
        .map(|provider| (provider, crate::support::base_url(&server, provider)))
        .collect();
    let conflict = |merged: &serde_json::Value, field: &str| -> serde_json::Value {
        let conflicts = merged["conflicts"].as_array().expect("conflicts");
        conflicts.iter().find(|conflict| conflict["field"] == field).cloned().unwrap_or_else(|| {
            panic!("no conflict on {field}: {conflicts:?}");
        })
    };

    let order = [Provider::X, Provider::SocialData];
    let merged = json(&run(show_several(&mock, &order, "--merge", &[OTHER], &urls), b""));
    // Title: the first in order.
    assert_eq!(merged["title"], "The Algorithm goes open source");
    assert_eq!(merged["sources"]["title"], "x");
    let title = conflict(&merged, "title");
    assert_eq!(
        title["values"],
        serde_json::json!({ "x": "The Algorithm goes open source", "socialdata": "A different title" })
    );
    assert_eq!(title["chosen"], "x");
    // State: the most advanced wins, whatever the order.
    assert_eq!(merged["state"], "ended");
    assert_eq!(merged["sources"]["state"], "socialdata");
    let state = conflict(&merged, "state");
    assert_eq!(state["values"], serde_json::json!({ "x": "live", "socialdata": "ended" }));
    assert_eq!(state["chosen"], "socialdata");

    // The other order: SocialData's title, and still its state.
    let order = [Provider::SocialData, Provider::X];
    let merged = json(&run(show_several(&mock, &order, "--merge", &[OTHER], &urls), b""));
    assert_eq!((merged["title"].as_str(), merged["state"].as_str()), (Some("A different title"), Some("ended")));
    assert_eq!(conflict(&merged, "title")["chosen"], "socialdata");
    assert_eq!(merged["sources"]["lang"], "x", "fields only X has still come from X");

    // The table marks both and lists them below.
    let mut command = show_several(&mock, &[Provider::X, Provider::SocialData], "--merge", &[OTHER], &urls);
    command.args(["--format", "table"]).env("COLUMNS", "100");
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(table.lines().any(|line| line.starts_with("* title ") && line.ends_with(" x")), "{table}");
    assert!(table.lines().any(|line| line.starts_with("* state ") && line.ends_with(" socialdata")), "{table}");
    assert!(table.contains("title: x \"The Algorithm goes open source\", socialdata \"A different title\"; chosen: x"));
}

#[test]
fn show_merge_table_names_the_source_of_each_field_within_the_width() {
    let mock = mock();
    for width in [80, 120] {
        let order = [Provider::X, Provider::SocialData, Provider::Aisa];
        let mut command = show_several(&mock, &order, "--merge", &[DEMO_SPACE_ID, "--format", "table"], &[]);
        command.env("COLUMNS", width.to_string());
        let output = run(command, b"");
        assert!(output.status.success(), "{}", text(&output.stderr));
        let table = text(&output.stdout);
        for line in table.lines() {
            assert!(line.chars().count() <= width, "{} > {width}: {line}\n{table}", line.chars().count());
        }
        let header = table.lines().find(|line| line.starts_with("  field ")).expect("a header");
        assert!(header.trim_end().ends_with("source") && header.contains("value"), "{header}");
        let row = |field: &str| {
            table.lines().find(|line| line.get(2..).is_some_and(|rest| rest.starts_with(&format!("{field} "))))
        };
        assert!(row("lang").is_some_and(|line| line.ends_with(" x")), "{table}");
        assert!(row("media_key").is_some_and(|line| line.ends_with(" socialdata")), "{table}");
        assert!(row("settings.is_locked").is_some_and(|line| line.ends_with(" socialdata")), "{table}");
        assert!(row("ended_at").is_some(), "{table}");
        assert!(table.contains("merged from x, socialdata, aisa"), "{table}");
    }
}

#[test]
fn show_fallback_moves_past_each_failure_and_says_which_provider_answered() {
    let mock = mock();
    let (_x, x_not_found) = serving(&mock, Provider::X, spaces_mock::not_found(Provider::X, DEMO_SPACE_ID));
    let (_sd, sd_402) = serving(&mock, Provider::SocialData, crate::support::error_body(Provider::SocialData, 402));
    let mut outputs = Vec::new();

    // X says not found: SocialData answers.
    let order = [Provider::X, Provider::SocialData];
    let output = run(show_several(&mock, &order, "--fallback", &[DEMO_SPACE_ID], &[(Provider::X, x_not_found)]), b"");
    assert_eq!(json(&output)["provider"], "socialdata");
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with(&format!("error: x: Space {DEMO_SPACE_ID} not found")), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    outputs.push(output);

    // SocialData is out of credits: X answers.
    let order = [Provider::SocialData, Provider::X];
    let urls = [(Provider::SocialData, sd_402.clone())];
    let output = run(show_several(&mock, &order, "--fallback", &[DEMO_SPACE_ID], &urls), b"");
    let space = json(&output);
    assert_eq!(space["provider"], "x");
    assert_eq!(space["lang"], "en", "X's own Space, nothing merged in");
    assert_eq!(space.get("sources"), None);
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: socialdata: payment required"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    outputs.push(output);

    // The first that answers is the answer: nothing after it is asked.
    let order = [Provider::X, Provider::SocialData];
    let output = run(show_several(&mock, &order, "--fallback", &[DEMO_SPACE_ID, "--format", "table"], &urls), b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("(from x)"), "{}", text(&output.stdout));
    assert!(output.stderr.is_empty(), "SocialData was not asked: {}", text(&output.stderr));

    // A refused token is a failure like any other, and never printed.
    let secret = "tok-SECRET-wrong-4242";
    let mut command = show_several(&mock, &order, "--fallback", &[DEMO_SPACE_ID], &[]);
    command.env(Provider::X.info().env_var, secret);
    let output = run(command, b"");
    assert_eq!(json(&output)["provider"], "socialdata");
    assert!(text(&output.stderr).starts_with("error: x: not authorized"), "{}", text(&output.stderr));
    outputs.push(output);
    assert_no_token(&outputs.iter().collect::<Vec<_>>(), secret);
}

#[test]
fn when_every_provider_fails_the_exit_code_is_the_most_actionable_failure() {
    let mock = mock();
    let (_sd, sd_402) = serving(&mock, Provider::SocialData, crate::support::error_body(Provider::SocialData, 402));
    for mode in ["--fallback", "--merge"] {
        // Every provider says not found: 3.
        let order = [Provider::X, Provider::SocialData, Provider::TwitterApi];
        let output = run(show_several(&mock, &order, mode, &[MISSING], &[]), b"");
        assert_eq!(output.status.code(), Some(3), "{mode}: {}", text(&output.stderr));
        assert!(output.stdout.is_empty());
        let stderr = text(&output.stderr);
        for provider in order {
            let line = stderr.lines().find(|line| line.starts_with(&format!("error: {provider}: ")));
            assert!(line.is_some_and(|line| line.contains("not found")), "{mode}: {provider}: {stderr}");
        }
        assert!(
            stderr
                .lines()
                .last()
                .unwrap_or_default()
                .starts_with(&format!("error: every provider failed: x: Space {MISSING} not found")),
            "{mode}: {stderr}"
        );

        // Not found and out of credits: out of credits is what to act on, 4.
        let order = [Provider::X, Provider::SocialData];
        let output = run(show_several(&mock, &order, mode, &[MISSING], &[(Provider::SocialData, sd_402.clone())]), b"");
        assert_eq!(output.status.code(), Some(4), "{mode}: {}", text(&output.stderr));
        let stderr = text(&output.stderr);
        assert!(stderr.contains(&format!("error: x: Space {MISSING} not found")), "{mode}: {stderr}");
        assert!(stderr.contains("error: socialdata: payment required"), "{mode}: {stderr}");
        assert!(stderr.contains("error: every provider failed: socialdata: payment required"), "{mode}: {stderr}");

        // A bad id fails once, before anything is sent: 1, as with one provider.
        let output = run(show_several(&mock, &order, mode, &["not/an/id"], &[]), b"");
        assert_eq!(output.status.code(), Some(1), "{mode}: {}", text(&output.stderr));
        assert_eq!(text(&output.stderr).lines().count(), 1, "{}", text(&output.stderr));
    }
}

#[test]
fn a_provider_that_hangs_does_not_hold_the_merge() {
    let mock = mock();
    let hang = wiremock::ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(60));
    let (_server, hung) = serving(&mock, Provider::TwitterApi, hang);
    let order = [Provider::X, Provider::TwitterApi, Provider::SocialData];
    let args = [DEMO_SPACE_ID, "--timeout", "500ms"];
    // Built (the binary too, on a first call) before the clock starts.
    let command = show_several(&mock, &order, "--merge", &args, &[(Provider::TwitterApi, hung)]);
    let started = std::time::Instant::now();
    let output = run(command, b"");
    let elapsed = started.elapsed();
    // The hung provider would answer after 60 s; a few seconds leave room for a loaded machine.
    assert!(elapsed < std::time::Duration::from_secs(8), "took {elapsed:?}");
    let merged = json(&output);
    assert_eq!(merged["sources"]["media_key"], "socialdata", "the others are merged: {merged:#}");
    assert!(merged["sources"].as_object().expect("sources").values().all(|source| source != "twitterapi"));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: twitterapi: timed out after 0.5s"), "{stderr}");
}

#[test]
fn providers_without_a_token_are_skipped_with_a_note() {
    let mock = mock();
    let order = [Provider::X, Provider::Aisa, Provider::SocialData];
    let mut command = show_several(&mock, &order, "--merge", &[DEMO_SPACE_ID], &[]);
    command.env_remove(Provider::Aisa.info().env_var);
    let output = run(command, b"");
    let merged = json(&output);
    assert_eq!(merged["sources"]["media_key"], "socialdata");
    assert_eq!(
        text(&output.stderr),
        "note: aisa: skipped, no token; set AISA_API_KEY or give --token-file aisa=FILE\n"
    );

    // None left: 4, naming every variable.
    let mut command = show_several(&mock, &[Provider::Aisa, Provider::TwitterApi], "--fallback", &[DEMO_SPACE_ID], &[]);
    command.env_remove("AISA_API_KEY").env_remove("TWITTERAPI_API_KEY");
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("AISA_API_KEY") && stderr.contains("TWITTERAPI_API_KEY"), "{stderr}");

    // Without --providers: every provider with a token (here only X, through a token file).
    let dir = tempfile::tempdir().expect("temp dir");
    let x_token = token_file(&dir, "x-token", DEMO_TOKEN);
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--merge", "--no-rate-limit", "--timeout", "5s"]);
    command.arg("--base-url").arg(format!("x={}", mock.mock.base_url(Provider::X)));
    command.arg("--token-file").arg(format!("x={x_token}"));
    let output = run(command, b"");
    let merged = json(&output);
    assert!(merged["sources"].as_object().expect("sources").values().all(|source| source == "x"), "{merged:#}");
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    assert_no_token(&[&output], DEMO_TOKEN);

    // ... and with no token at all: 4, naming the variables.
    let mut command = spaces_bin();
    command.args(["show", DEMO_SPACE_ID, "--fallback"]);
    let output = run(command, b"");
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("X_BEARER_TOKEN"), "{}", text(&output.stderr));
}

#[test]
fn several_providers_need_a_mode_and_exclude_one_provider() {
    for (args, says) in [
        (vec!["--providers", "x,socialdata"], vec!["--merge", "--fallback"]),
        (vec!["--provider", "x", "--providers", "socialdata", "--merge"], vec!["--provider", "--providers"]),
        (vec!["--provider", "x", "--merge"], vec!["--provider", "--merge"]),
        (vec!["--providers", "x,socialdata", "--merge", "--fallback"], vec!["--merge", "--fallback"]),
        (vec!["--providers", "x,nope", "--merge"], vec!["nope"]),
        // No provider at all is not here: --provider defaults to x (tests/it/formats.rs).
    ] {
        let mut command = spaces_bin();
        command.args(["show", DEMO_SPACE_ID]).args(&args).env("X_BEARER_TOKEN", DEMO_TOKEN);
        let output = run(command, b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(says.iter().all(|word| stderr.contains(word)), "{args:?} must name {says:?}: {stderr}");
    }
}

/// SocialData for any id: its recorded Space under that id, or not found for ids starting with `zz`.
struct SocialDataAny;

impl wiremock::Respond for SocialDataAny {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let id = spaces_mock::requested_id(Provider::SocialData, request);
        if id.starts_with("zz") {
            return spaces_mock::not_found(Provider::SocialData, &id);
        }
        spaces_mock::json(200, &recorded_with(Provider::SocialData, "id", id))
    }
}

#[test]
fn bulk_merge_and_fallback_give_each_id_one_outcome_line() {
    let mock = mock();
    let server = mock._runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        spaces_mock::batch_endpoint().respond_with(OkFound).mount(&server).await;
        spaces_mock::endpoint(Provider::SocialData).respond_with(SocialDataAny).mount(&server).await;
        server
    });
    let urls: Vec<(Provider, String)> = [Provider::X, Provider::SocialData]
        .into_iter()
        .map(|provider| (provider, crate::support::base_url(&server, provider)))
        .collect();
    let order = [Provider::X, Provider::SocialData];
    let ids_of = |output: &Output| -> Vec<(String, String)> {
        text(&output.stdout)
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
                (value["id"].as_str().expect("id").to_owned(), value["provider"].as_str().expect("provider").to_owned())
            })
            .collect()
    };

    // Three ids both providers have: three merged lines, in input order.
    let ids = ["ok00000000001", "ok00000000002", "ok00000000003"];
    let output = run(show_several(&mock, &order, "--merge", &[], &urls), (ids.join("\n") + "\n").as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    for (line, id) in stdout.lines().zip(ids) {
        let merged: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(merged["id"], id);
        assert_eq!(
            (merged["sources"]["lang"].as_str(), merged["sources"]["media_key"].as_str()),
            (Some("x"), Some("socialdata"))
        );
        assert!(merged["conflicts"].is_array());
    }
    assert_eq!(text(&output.stderr), "merge of x, socialdata: 3 found, 0 failed\n");
    // X was asked once, for all three, through its batch endpoint.
    let x_requests: Vec<(String, Vec<String>)> =
        received(&mock, &server).into_iter().filter(|(path, _)| path == "/2/spaces").collect();
    assert_eq!(x_requests, [("/2/spaces".to_owned(), ids.map(str::to_owned).to_vec())]);

    // Found by one, by the other, by none, and not an id.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ids.txt");
    std::fs::write(&file, "ok00000000001\nnf00000000002\nzz00000000003\nbad id!\n").expect("ids file");
    let file = file.display().to_string();
    for mode in ["--merge", "--fallback"] {
        let output = run(show_several(&mock, &order, mode, &["--ids-file", &file], &urls), b"");
        assert_eq!(output.status.code(), Some(1), "{mode}: an id got no answer: {}", text(&output.stderr));
        let want: Vec<(String, String)> = [("ok00000000001", "x"), ("nf00000000002", "socialdata")]
            .map(|(id, by)| (id.to_owned(), by.to_owned()))
            .to_vec();
        assert_eq!(ids_of(&output), want, "{mode}");
        let stderr = text(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
        let starts = [
            "error: nf00000000002: x: Space nf00000000002 not found",
            "error: zz00000000003: x: Space zz00000000003 not found",
            "error: zz00000000003: socialdata: Space zz00000000003 not found",
            "error: zz00000000003: every provider failed: x: Space zz00000000003 not found",
            "error: bad id!: x: invalid Space id",
        ];
        for (line, start) in errors.iter().zip(starts) {
            assert!(line.starts_with(start), "{mode}: {start}: {stderr}");
        }
        assert_eq!(errors.len(), 5, "{mode}: {stderr}");
        assert!(stderr.ends_with(&format!("{} of x, socialdata: 2 found, 2 failed\n", &mode[2..])), "{stderr}");
    }
    assert_no_token(&[&output], DEMO_TOKEN);
}

#[test]
fn a_space_url_stands_for_its_id_and_comment_lines_are_skipped() {
    let mock = mock();
    for url in [
        format!("https://x.com/i/spaces/{DEMO_SPACE_ID}"),
        format!("https://twitter.com/i/spaces/{DEMO_SPACE_ID}/peek?s=20"),
    ] {
        let output = show(&mock, Provider::X, &[&url], Some(DEMO_TOKEN));
        let space = json(&output);
        assert_eq!(space["id"], DEMO_SPACE_ID, "{url}");
    }
    let ids = format!(
        "# the Spaces of the launch\n\nhttps://x.com/i/spaces/{DEMO_SPACE_ID}  # the keynote\n   # indented note\n1OdKrjgmNkeKX\n"
    );
    let mut command = spaces_bin();
    command
        .args(["show", "--provider", "x", "--base-url", &mock.mock.base_url(Provider::X), "--timeout", "5"])
        .env("X_BEARER_TOKEN", DEMO_TOKEN);
    let output = run(command, ids.as_bytes());
    assert_eq!(output.status.code(), Some(1), "one id is not found: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "comments and blank lines are no ids: {stderr}");
    assert!(errors[0].starts_with("error: 1OdKrjgmNkeKX: x: Space 1OdKrjgmNkeKX not found"), "{stderr}");
}
