//! Asks every provider with a token for one Space and prints the merged
//! Space, with the provider of each field (`sources`) and where they
//! disagree (`conflicts`).
//!
//! ```sh
//! X_BEARER_TOKEN=... SOCIALDATA_API_KEY=... cargo run -p spaces --example merge -- 1jMJgLdenVjxL
//! ```
//!
//! `SPACES_BASE_URL_<PROVIDER>` points a provider elsewhere (`spaces mock`
//! prints them).

use std::process::ExitCode;

use spaces::{Client, Provider, Providers};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(id) = std::env::args().nth(1) else {
        eprintln!("usage: merge SPACE_ID");
        return ExitCode::from(2);
    };
    // Every provider whose token is set, in the crate's order.
    let clients: Vec<Client> = Provider::ALL
        .iter()
        .filter_map(|&provider| {
            let mut builder = Client::builder(provider);
            if let Ok(url) = std::env::var(format!("SPACES_BASE_URL_{}", provider.as_str().to_uppercase())) {
                builder = builder.base_url(url);
            }
            builder.build().ok()
        })
        .collect();
    if clients.is_empty() {
        eprintln!(
            "no provider has a token: set X_BEARER_TOKEN, SOCIALDATA_API_KEY, AISA_API_KEY or TWITTERAPI_API_KEY"
        );
        return ExitCode::from(4);
    }
    match Providers::new(clients).merge(&id).await {
        Ok(answer) => {
            for attempt in &answer.attempts {
                if let Some(error) = &attempt.error {
                    eprintln!("{error}");
                }
            }
            println!("{}", serde_json::to_string_pretty(&answer.value).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(all) => {
            eprintln!("{all}");
            ExitCode::FAILURE
        }
    }
}
