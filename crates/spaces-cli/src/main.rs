//! `spaces`: X/Twitter Space details from any provider, normalized.

#![deny(missing_docs)]

mod compare;
mod connect;
mod convert;
mod demo;
mod exit;
mod lines;
mod show;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::TypedValueParser;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use spaces::Provider;

/// X/Twitter Space details from any supported provider, as one normalized model.
///
/// Tokens come from each provider's environment variable (listed below) or a
/// file given with --token-file; never from a command-line argument, so they
/// never show in process listings. Set RUST_LOG=spaces=debug to trace requests.
#[derive(Debug, Parser)]
#[command(name = "spaces", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch one Space (or many: --ids-file, or ids on stdin) from a provider.
    Show(show::ShowArgs),
    /// Fetch one Space from several providers and compare them field by field.
    Compare(compare::CompareArgs),
    /// See the whole pipeline work: no network, no keys (a mock server on 127.0.0.1).
    Demo,
    /// Normalize raw provider response bodies (a file or stdin) into Space JSON.
    Convert {
        /// The provider that produced the body.
        #[arg(long, short, value_parser = provider_parser())]
        provider: Provider,
        /// Input is one raw response per line; output is one Space per line.
        /// A bad line is reported on stderr with its number and the rest go on.
        #[arg(long)]
        ndjson: bool,
        /// The input file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
    },
}

/// Parses a provider name; the choices shown in `--help` are every
/// registered provider, so a new provider needs no change here.
pub fn provider_parser() -> impl TypedValueParser<Value = Provider> {
    clap::builder::PossibleValuesParser::new(Provider::ALL.map(Provider::as_str))
        .try_map(|name| name.parse::<Provider>())
}

/// The `--help` epilogue: each provider's token variable, then the exit codes.
fn after_help() -> String {
    let tokens: String = Provider::ALL
        .into_iter()
        .map(|provider| {
            format!("\n  {:<12}{:<22}{}", provider.as_str(), provider.info().env_var, provider.info().title)
        })
        .collect();
    format!("Providers and their token variables:{tokens}\n\n{}", exit::EXIT_CODES_HELP)
}

/// How to print a Space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The normalized Space JSON (as `spaces convert` prints it).
    #[default]
    Json,
    /// A readable summary.
    Table,
}

fn main() -> ExitCode {
    let matches = Cli::command().after_help(after_help()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_tracing();
    if let Command::Convert { provider, ndjson, file } = cli.command {
        return convert::run(provider, ndjson, file.as_deref());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Show(args) => show::run(args).await,
            Command::Compare(args) => compare::run(args).await,
            Command::Demo => demo::run().await,
            Command::Convert { .. } => unreachable!("handled above, without a runtime"),
        }
    })
}

/// Request spans and retries go to stderr when `RUST_LOG` asks for them.
/// They carry provider, id, attempt, status and timing, never a token.
fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
}
