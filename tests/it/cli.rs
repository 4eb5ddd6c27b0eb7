//! The `spaces` binary, run as a process: `convert`, `show` against a
//! loopback mock, `compare`, `demo`, exit codes, and no token in any output.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders};

use crate::support::workspace_root;

/// The `spaces` binary, built once per test run.
pub fn spaces_bin() -> Command {
    static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
    let path = BIN.get_or_init(|| {
        escargot::CargoBuild::new()
            .manifest_path(workspace_root().join("Cargo.toml"))
            .package("spaces-cli")
            .bin("spaces")
            .current_release()
            .run()
            .expect("cargo builds the spaces binary")
            .path()
            .to_path_buf()
    });
    let mut command = Command::new(path);
    // Tests decide which tokens exist.
    for provider in Provider::ALL {
        command.env_remove(spaces::Token::env_var(provider));
    }
    command.env_remove("RUST_LOG");
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
struct Mock {
    mock: MockProviders,
    _runtime: tokio::runtime::Runtime,
}

fn mock() -> Mock {
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
        command.env(spaces::Token::env_var(provider), token);
    }
    run(command, b"")
}

#[test]
fn show_prints_json_or_a_table_for_every_provider() {
    let mock = mock();
    for provider in Provider::ALL {
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
    command.arg("demo");
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let header = stdout.lines().find(|line| line.trim_start().starts_with("field ")).expect("a table header");
    for provider in Provider::ALL {
        assert!(header.contains(provider.as_str()), "{header}");
    }
    assert!(stdout.contains("The Algorithm goes open source"), "{stdout}");
    assert!(stdout.lines().any(|line| line.starts_with("* ")), "differing fields are marked:\n{stdout}");
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
        command.env(spaces::Token::env_var(provider), DEMO_TOKEN);
    }
    let output = run(command, b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(comparison["providers"], serde_json::json!(["x", "socialdata"]));
    let fields = comparison["fields"].as_array().expect("fields");
    let row = |name: &str| fields.iter().find(|row| row["field"] == name).unwrap_or_else(|| panic!("row {name}"));
    assert_eq!(row("title")["differs"], false);
    assert_eq!(row("title")["values"]["x"], "The Algorithm goes open source");
    assert_eq!(row("state_raw")["differs"], true, "x says `ended`, SocialData `Ended`");
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
