//! `spaces demo`: the whole pipeline, with no network and no keys.
//!
//! Starts the mock providers on 127.0.0.1 (a random free port), points a real
//! client for each provider at it — the generated progenitor clients, over
//! real HTTP — and prints the comparison table for one recorded Space.

use std::process::ExitCode;

use spaces::{Client, Provider, Token};
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders};

use crate::Format;
use crate::compare::Comparison;
use crate::exit;

pub async fn run() -> ExitCode {
    let mock = MockProviders::start().await;
    println!("Mock providers listening on {} (recorded responses; nothing leaves this machine).", mock.server().uri());
    let mut clients = Vec::new();
    for provider in Provider::ALL {
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
    println!("Fetching Space {DEMO_SPACE_ID} from {} through the generated clients...\n", titles.join(", "));
    let comparison = Comparison::fetch(&clients, DEMO_SPACE_ID).await;
    let code = comparison.print(Format::Table);
    println!(
        "\nNext: `spaces show {DEMO_SPACE_ID} --provider x --format table` with X_BEARER_TOKEN set, or `spaces --help`."
    );
    code
}
