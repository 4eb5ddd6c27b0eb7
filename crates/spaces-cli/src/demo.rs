//! `spaces demo`: the whole pipeline, with no network and no keys.
//!
//! Starts the mock providers on 127.0.0.1 (a random free port), points a real
//! client for each provider at it — the generated progenitor clients, over
//! real HTTP — and prints the comparison table for one recorded Space.

use std::process::ExitCode;

use spaces::{Client, Provider, Token};
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders};

use crate::compare::Comparison;
use crate::{Format, exit, table, write_stdout};

pub async fn run() -> ExitCode {
    let width = table::width();
    let mock = MockProviders::start().await;
    let mut clients = Vec::new();
    for &provider in Provider::ALL {
        let client = Client::builder(provider)
            .token(Token::new(DEMO_TOKEN))
            .base_url(mock.base_url(provider))
            .rate_limit(None)
            .build();
        match client {
            Ok(client) => clients.push(client),
            Err(error) => return exit::report(error),
        }
    }
    let titles: Vec<&str> = Provider::ALL.iter().map(|provider| provider.info().title).collect();
    let intro = format!(
        "Mock providers listening on {} (recorded responses; nothing leaves this machine).\n\
         Fetching Space {DEMO_SPACE_ID} from {} through the generated clients...\n",
        mock.server().uri(),
        titles.join(", ")
    );
    if let Err(failure) = write_stdout(&table::fill(&intro, width)) {
        return failure.report();
    }
    let comparison = Comparison::fetch(&clients, DEMO_SPACE_ID).await;
    let code = comparison.print(Format::Table, width);
    let next = format!(
        "\nNext: `spaces show {DEMO_SPACE_ID} --provider x --format table` with X_BEARER_TOKEN set, or `spaces --help`."
    );
    if let Err(failure) = write_stdout(&table::fill(&next, width)) {
        return failure.report();
    }
    code
}
