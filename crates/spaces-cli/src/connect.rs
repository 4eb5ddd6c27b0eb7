//! Building a client from command-line options and the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use spaces::{Client, Provider, Token};

use crate::exit::{AUTH, Failure};

/// Options every command that talks to a provider shares.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// The API root (e.g. a local mock server). Default: the provider's production API.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Seconds one attempt may take, connect to last byte.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Read the token from this file instead of the provider's environment variable.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Turn off the client's rate limiter (the provider's documented budget),
    /// e.g. against a local mock or with a raised quota.
    #[arg(long)]
    pub no_rate_limit: bool,
}

impl ConnectArgs {
    pub fn client(&self, provider: Provider) -> Result<Client, Failure> {
        let token = match &self.token_file {
            Some(path) => read_token_file(provider, path)?,
            None => Token::from_env(provider)?,
        };
        let mut builder = Client::builder(provider).token(token);
        if let Some(base_url) = &self.base_url {
            builder = builder.base_url(base_url.clone());
        }
        if self.no_rate_limit {
            builder = builder.rate_limit(None);
        }
        if self.timeout.is_finite() && self.timeout > 0.0 {
            builder = builder.timeout(Duration::from_secs_f64(self.timeout.min(3600.0)));
        }
        Ok(builder.build()?)
    }
}

/// Reads a token file. Its content is never echoed: it is a secret.
fn read_token_file(provider: Provider, path: &Path) -> Result<Token, Failure> {
    let message = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Token::new(text)),
        Ok(_) => format!("{provider}: token file {} is empty", path.display()),
        Err(error) => format!("{provider}: cannot read token file {}: {error}", path.display()),
    };
    Err(Failure { message, code: AUTH })
}
