//! The `spaces` binary against providers that answer wrongly on purpose:
//! what reaches stdout and stderr, line by line, and how the run ends.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, EXAMPLE_MISSING_ID, endpoint, json as answer, recorded_space};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::library::x_space;
use crate::cli::{run, spaces_bin, text};
use crate::support::{TEST_TOKEN, base_url, recorded_with, with_member};

/// Loopback servers on a runtime of their own, alive as long as this is.
struct Servers {
    runtime: tokio::runtime::Runtime,
}

impl Servers {
    fn new() -> Servers {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
        Servers { runtime: runtime.expect("a runtime") }
    }

    /// A server answering every lookup of `provider` with `response`.
    fn lookup(&self, provider: Provider, response: ResponseTemplate) -> String {
        self.runtime.block_on(async {
            let server = MockServer::start().await;
            endpoint(provider).respond_with(response).mount(&server).await;
            let url = base_url(&server, provider);
            std::mem::forget(server); // lives until the process ends; tests are short
            url
        })
    }

    /// A server answering every request to X's endpoint at `route` with `body`.
    fn x(&self, route: &str, body: &Value) -> String {
        self.runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path(route))
                .respond_with(answer(200, &body.to_string()))
                .mount(&server)
                .await;
            let url = base_url(&server, Provider::X);
            std::mem::forget(server);
            url
        })
    }
}

/// `spaces <args>` against `urls`, each provider with the test token.
fn spaces(args: &[&str], urls: &[(Provider, &str)]) -> Command {
    let mut command = spaces_bin();
    command.args(args).args(["--no-rate-limit", "--timeout", "5s"]);
    for (provider, url) in urls {
        command.arg("--base-url").arg(format!("{provider}={url}"));
        command.env(provider.info().env_var, TEST_TOKEN);
    }
    command
}

fn lines(bytes: &[u8]) -> Vec<String> {
    text(bytes).lines().map(str::to_owned).collect()
}

/// No byte that drives a terminal (ESC, other C0 controls but the newline,
/// C1, bidi overrides and isolates) in `output`.
fn assert_terminal_safe(output: &Output) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let shown = text(bytes);
        let unsafe_char = shown
            .chars()
            .find(|&c| (c.is_control() && c != '\n') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'));
        assert_eq!(unsafe_char, None, "{stream}:\n{shown}");
    }
}

// ---------------------------------------------------------------------------
// Identity

#[test]
fn show_refuses_another_space_in_every_mode() {
    let servers = Servers::new();
    let lying_x = servers.lookup(Provider::X, answer(200, recorded_space(Provider::X)));
    let honest = with_member(recorded_space(Provider::SocialData), "id", EXAMPLE_MISSING_ID);
    let socialdata = servers.lookup(Provider::SocialData, answer(200, &honest));

    let single = run(spaces(&["show", "--provider", "x", EXAMPLE_MISSING_ID], &[(Provider::X, &lying_x)]), b"");
    assert_eq!(single.status.code(), Some(1), "{}", text(&single.stderr));
    assert!(single.stdout.is_empty(), "never printed as the answer: {}", text(&single.stdout));
    let stderr = text(&single.stderr);
    assert!(stderr.contains(EXAMPLE_MISSING_ID) && stderr.contains(DEMO_SPACE_ID), "{stderr}");

    let no_batch = run(
        spaces(&["show", "--provider", "x", "--no-batch"], &[(Provider::X, &lying_x)]),
        format!("{DEMO_SPACE_ID}\n{EXAMPLE_MISSING_ID}\n").as_bytes(),
    );
    assert_eq!(no_batch.status.code(), Some(1));
    assert_eq!(lines(&no_batch.stdout).len(), 1, "only the asked Space: {}", text(&no_batch.stdout));
    let errors: Vec<String> = lines(&no_batch.stderr).into_iter().filter(|line| line.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with(&format!("error: {EXAMPLE_MISSING_ID}: x: asked for Space")), "{errors:?}");

    let both = [(Provider::X, lying_x.as_str()), (Provider::SocialData, socialdata.as_str())];
    for mode in ["--fallback", "--merge"] {
        let output = run(spaces(&["show", EXAMPLE_MISSING_ID, "--providers", "x,socialdata", mode], &both), b"");
        assert!(output.status.success(), "{mode}: {}", text(&output.stderr));
        let space: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(space["id"], EXAMPLE_MISSING_ID, "{mode}");
        assert_eq!(space["provider"], "socialdata", "{mode}: X's answer is another Space's");
        assert_eq!(space["lang"], Value::Null, "{mode}: nothing of X's");
        assert!(text(&output.stderr).contains("error: x: asked for Space"), "{mode}: {}", text(&output.stderr));
    }

    let compare =
        run(spaces(&["compare", EXAMPLE_MISSING_ID, "--providers", "x,socialdata", "--format", "json"], &both), b"");
    let compared: Value = serde_json::from_slice(&compare.stdout).expect("JSON");
    assert!(compared["errors"]["x"].as_str().is_some_and(|error| error.contains("asked for Space")), "{compared}");
}

// ---------------------------------------------------------------------------
// Secrets in what the CLI prints

#[test]
fn an_echoed_token_is_masked_in_every_line_and_value_printed() {
    let servers = Servers::new();
    let problem = |id: &str| {
        json!({"value": id, "resource_id": id, "resource_type": "space",
            "detail": format!("you sent Authorization: Bearer {TEST_TOKEN}"),
            "type": "https://api.x.com/2/problems/resource-not-found"})
    };
    let mut echoing = x_space("1FoundSpace00");
    echoing["title"] = json!(format!("title {TEST_TOKEN}"));
    let body = json!({"data": [echoing], "errors": [problem("1MissingSpace")], "meta": {"result_count": 1}});
    let batch = servers.x("/2/spaces", &body);
    let search = servers.x("/2/spaces/search", &body);
    let by_creator = servers.x("/2/spaces/by/creator_ids", &body);
    let outputs = [
        run(spaces(&["show", "--provider", "x"], &[(Provider::X, &batch)]), b"1FoundSpace00\n1MissingSpace\n"),
        run(spaces(&["search", "rust"], &[(Provider::X, &search)]), b""),
        run(spaces(&["by-creator", "2244994945"], &[(Provider::X, &by_creator)]), b""),
        run(spaces(&["search", "rust", "--format", "table"], &[(Provider::X, &search)]), b""),
    ];
    for output in &outputs {
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!all.contains(TEST_TOKEN), "{all}");
        assert!(all.contains("Bearer ***"), "the error line is there, masked: {all}");
        assert!(all.contains("title ***"), "the Space is there, masked: {all}");
    }
    // The debug log too.
    let mut logged = spaces(&["show", "--provider", "x"], &[(Provider::X, &batch)]);
    logged.env("RUST_LOG", "spaces=trace");
    let output = run(logged, b"1FoundSpace00\n1MissingSpace\n");
    assert!(!text(&output.stderr).contains(TEST_TOKEN), "{}", text(&output.stderr));
}

#[test]
fn tokens_are_cleaned_or_refused_with_the_variable_named() {
    let servers = Servers::new();
    let url = servers.lookup(Provider::SocialData, answer(200, recorded_space(Provider::SocialData)));
    let show = |token: &str| {
        let mut command = spaces_bin();
        command.args(["show", DEMO_SPACE_ID, "--provider", "socialdata", "--base-url", &url, "--no-rate-limit"]);
        command.env("SOCIALDATA_API_KEY", token);
        run(command, b"")
    };
    for unusable in ["abc12", "tökenwithumlaut"] {
        let output = show(unusable);
        assert_eq!(output.status.code(), Some(4), "{unusable}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains("SOCIALDATA_API_KEY"), "{}", text(&output.stderr));
        assert!(!text(&output.stderr).contains(unusable), "{}", text(&output.stderr));
    }
    // A token file as copied from a header, with a BOM and a trailing newline.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("\u{feff}Bearer {TEST_TOKEN}\n")).expect("token file");
    let strict = servers.runtime.block_on(async {
        let server = MockServer::start().await;
        endpoint(Provider::X)
            .and(spaces_mock::with_token(Provider::X, TEST_TOKEN))
            .respond_with(answer(200, recorded_space(Provider::X)))
            .mount(&server)
            .await;
        let url = base_url(&server, Provider::X);
        std::mem::forget(server);
        url
    });
    let mut command = spaces_bin();
    let token_file = format!("x={}", file.display());
    command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--base-url", &strict, "--token-file", &token_file]);
    let output = run(command, b"");
    assert!(output.status.success(), "the bare token is sent: {}", text(&output.stderr));
}

#[test]
fn a_base_url_with_a_query_is_a_usage_error() {
    for url in ["http://127.0.0.1:9/?a=b", "x=http://127.0.0.1:9/#frag"] {
        let mut command = spaces_bin();
        command.args(["show", DEMO_SPACE_ID, "--provider", "x", "--base-url", url]).env("X_BEARER_TOKEN", TEST_TOKEN);
        let output = run(command, b"");
        assert_eq!(output.status.code(), Some(2), "{url}: {}", text(&output.stderr));
    }
}

// ---------------------------------------------------------------------------
// Pipes

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    let servers = Servers::new();
    let batch = servers.runtime.block_on(async {
        let server = MockServer::start().await;
        spaces_mock::batch_endpoint().respond_with(spaces_mock::EveryIdFound).mount(&server).await;
        let url = base_url(&server, Provider::X);
        std::mem::forget(server);
        url
    });
    let ids: String = (0..5_000).map(|n| format!("1Id{n:010}\n")).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids).expect("ids");
    let mut command =
        spaces(&["show", "--provider", "x", "--ids-file", &ids_file.display().to_string()], &[(Provider::X, &batch)]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("one line"); // `| head -1`, then the pipe closes
    let output = child.wait_with_output().expect("ends");
    assert!(first.starts_with('{'), "{first}");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("Broken pipe"), "{}", text(&output.stderr));
    assert!(text(&output.stderr).is_empty(), "no message: {}", text(&output.stderr));
}

#[test]
fn a_closed_stderr_never_panics() {
    let servers = Servers::new();
    let url = servers.lookup(Provider::X, answer(200, recorded_space(Provider::X)));
    // `2>&-`: stderr closed, then every kind of stderr line is written.
    for args in [vec!["show", EXAMPLE_MISSING_ID, "--provider", "x"], vec!["show", "--provider", "x"]] {
        let mut command = Command::new("sh");
        command.arg("-c").arg(r#"exec "$@" 2>&-"#).arg("sh");
        let inner = spaces(&args, &[(Provider::X, &url)]);
        command.arg(inner.get_program()).args(inner.get_args());
        command.envs(inner.get_envs().filter_map(|(key, value)| value.map(|value| (key, value))));
        for (key, value) in inner.get_envs() {
            if value.is_none() {
                command.env_remove(key);
            }
        }
        let output = run(command, b"not an id!\n1jMJgLdenVjxL\n");
        assert_eq!(output.status.code(), Some(1), "{args:?}: a failure's exit code, not a panic's 101");
    }
}

// ---------------------------------------------------------------------------
// Injection: one outcome, one line; no terminal escapes

#[test]
fn provider_text_cannot_forge_lines_or_drive_the_terminal() {
    let servers = Servers::new();
    let forged = "1Forged\nerror: 1jMJgLdenVjxL: x: forged";
    let mut hostile = x_space("1HostileTitle");
    hostile["title"] = json!("\u{1b}[2J\u{1b}[31mred\u{202e}reversed\nsecond line");
    let body = json!({
        "data": [hostile],
        "errors": [{"value": forged, "resource_id": forged, "resource_type": "space",
            "detail": "gone\u{1b}[0m", "type": "https://api.x.com/2/problems/resource-not-found"}],
        "meta": {"result_count": 1}
    });
    let search = servers.x("/2/spaces/search", &body);
    let by_creator = servers.x("/2/spaces/by/creator_ids", &body);
    let lookup =
        servers.lookup(Provider::X, answer(200, &recorded_with(Provider::X, "title", "\u{1b}[31m\u{202e}evil")));
    let outputs = [
        run(spaces(&["search", "rust", "--format", "table"], &[(Provider::X, &search)]), b""),
        run(spaces(&["search", "rust"], &[(Provider::X, &search)]), b""),
        run(spaces(&["by-creator", "2244994945", "--format", "table"], &[(Provider::X, &by_creator)]), b""),
        run(spaces(&["show", DEMO_SPACE_ID, "--provider", "x", "--format", "table"], &[(Provider::X, &lookup)]), b""),
    ];
    for output in &outputs {
        assert_terminal_safe(output);
        let stderr = lines(&output.stderr);
        assert!(stderr.iter().all(|line| !line.starts_with("error: 1jMJgLdenVjxL")), "a forged line: {stderr:?}");
    }
    // NDJSON stays JSON, one Space per line, the title intact (escaped as `\uXXXX`).
    let ndjson = &outputs[1];
    let spaces: Vec<Value> =
        lines(&ndjson.stdout).iter().map(|line| serde_json::from_str(line).expect("one JSON per line")).collect();
    assert_eq!(spaces[0]["title"], "\u{1b}[2J\u{1b}[31mred\u{202e}reversed\nsecond line");
    // The raw body too, through `convert`.
    let mut convert = spaces_bin();
    convert.args(["convert", "--provider", "x"]);
    let output = run(convert, body.to_string().as_bytes());
    assert_terminal_safe(&output);
    assert_eq!(
        lines(&output.stderr).iter().filter(|line| line.starts_with("error:")).count(),
        1,
        "{}",
        text(&output.stderr)
    );
}
