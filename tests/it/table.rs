//! `spaces compare`'s table as people read it: at 40, 80 and 200 columns
//! (snapshots), what differs first, a value the providers agree on once,
//! no id or timestamp ever split, blocks when the terminal is too narrow,
//! and no wrapping at all when the output is not a terminal.

use std::process::Output;

use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders, json};
use wiremock::MockServer;

use crate::cli::{run, spaces_bin, text};
use crate::support::{base_url, recorded_with, serve};

/// The snapshots this module writes (the snapshot check in `fixtures.rs` knows them).
pub const SNAPSHOTS: [&str; 3] =
    ["it__table__compare_at_40.snap", "it__table__compare_at_80.snap", "it__table__compare_at_200.snap"];

/// X's recorded answer of the demo Space, and SocialData and AIsa
/// answering it a little differently (another title, more listeners), each
/// provider's base URL, on a runtime of its own.
struct Differing {
    _runtime: tokio::runtime::Runtime,
    _servers: (MockProviders, MockServer, MockServer),
    urls: Vec<(Provider, String)>,
}

fn differing_mock() -> Differing {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (servers, urls) = runtime.block_on(async {
        let mock = MockProviders::start().await;
        let socialdata = recorded_with(Provider::SocialData, "title", "The Algorithm goes open source (replay)");
        let socialdata = serve(Provider::SocialData, json(200, &socialdata)).await;
        let aisa =
            serve(Provider::Aisa, json(200, &recorded_with(Provider::Aisa, "total_live_listeners", 435_999))).await;
        let urls = vec![
            (Provider::X, mock.base_url(Provider::X)),
            (Provider::SocialData, base_url(&socialdata, Provider::SocialData)),
            (Provider::Aisa, base_url(&aisa, Provider::Aisa)),
        ];
        ((mock, socialdata, aisa), urls)
    });
    Differing { _runtime: runtime, _servers: servers, urls }
}

fn compare(mock: &Differing, columns: Option<usize>, extra: &[&str]) -> Output {
    let mut command = spaces_bin();
    command.args(["compare", DEMO_SPACE_ID, "--providers", "x,socialdata,aisa", "--no-rate-limit"]).args(extra);
    for (provider, url) in &mock.urls {
        command.arg("--base-url").arg(format!("{provider}={url}"));
        command.env(provider.info().env_var, DEMO_TOKEN);
    }
    if let Some(columns) = columns {
        command.env("COLUMNS", columns.to_string());
    }
    run(command, b"")
}

/// The timestamps and ids a table shows, each of which must be on one line.
const WHOLE: [&str; 3] = [DEMO_SPACE_ID, "2023-03-31 18:38:03", "2023-03-31 20:11:17"];

#[test]
fn the_table_at_40_80_and_200_columns() {
    let mock = differing_mock();
    for columns in [40, 80, 200] {
        let output = compare(&mock, Some(columns), &[]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let table = text(&output.stdout);
        for line in table.lines() {
            assert!(line.chars().count() <= columns, "{columns}: {line}\n{table}");
        }
        // What differs is there; what every provider agrees on is not (only counted).
        assert!(table.contains("title") && table.contains("total_live_listeners"), "{columns}:\n{table}");
        assert!(table.contains("2 of "), "{columns}: the count of differing fields\n{table}");
        assert!(!table.lines().any(|line| line.trim_start().starts_with("lang ")), "{columns}:\n{table}");
        insta::assert_snapshot!(format!("compare_at_{columns}"), table);
    }
}

#[test]
fn every_field_with_all_each_agreed_value_once_and_nothing_split() {
    let mock = differing_mock();
    for columns in [40, 80, 200] {
        let output = compare(&mock, Some(columns), &["--all"]);
        let table = text(&output.stdout);
        for whole in WHOLE {
            assert!(table.contains(whole), "{columns}: {whole} is shown whole\n{table}");
        }
        // X's language, which only X has, is shown once, with who has it.
        let lang: Vec<&str> = table.lines().filter(|line| line.contains(" en")).collect();
        assert!(!lang.is_empty(), "{columns}:\n{table}");
        assert!(table.contains("state_raw"), "{columns}: every field\n{table}");
    }
}

#[test]
fn piped_output_is_never_wrapped() {
    let mock = differing_mock();
    // No COLUMNS, stdout a pipe: lines as long as their content.
    let output = compare(&mock, None, &["--all"]);
    let table = text(&output.stdout);
    assert!(table.lines().any(|line| line.chars().count() > 80), "{table}");
    assert!(
        table.lines().any(|line| line.contains("The Algorithm goes open source (replay)")),
        "a long value on one line:\n{table}"
    );
}
