//! Fetches one Space and prints it as JSON.
//!
//! ```sh
//! X_BEARER_TOKEN=... cargo run -p spaces --example one_space -- 1jMJgLdenVjxL
//! SOCIALDATA_API_KEY=... cargo run -p spaces --example one_space -- 1jMJgLdenVjxL socialdata
//! ```
//!
//! The token comes from the provider's variable. `SPACES_BASE_URL_<PROVIDER>`
//! (e.g. `SPACES_BASE_URL_X`) points the client elsewhere: `spaces mock`
//! prints the ones to use, and the token its mock accepts.

use std::process::ExitCode;

use spaces::{Client, Error, Provider};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(id), provider) = (args.next(), args.next()) else {
        eprintln!("usage: one_space SPACE_ID [PROVIDER]");
        return ExitCode::from(2);
    };
    let provider = match provider.as_deref().unwrap_or("x").parse::<Provider>() {
        Ok(provider) => provider,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    match fetch(provider, &id).await {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn fetch(provider: Provider, id: &str) -> Result<String, Error> {
    let mut builder = Client::builder(provider);
    if let Ok(url) = std::env::var(format!("SPACES_BASE_URL_{}", provider.as_str().to_uppercase())) {
        builder = builder.base_url(url);
    }
    let space = builder.build()?.space(id).await?;
    Ok(serde_json::to_string_pretty(&space).unwrap_or_default())
}
