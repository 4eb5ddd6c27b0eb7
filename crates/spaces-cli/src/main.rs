//! `spaces`: X/Twitter Space details from any provider, normalized.

mod convert;
mod exit;
mod lines;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use spaces::Provider;

/// X/Twitter Space details from the X API v2, SocialData or AIsa, as one normalized model.
#[derive(Debug, Parser)]
#[command(name = "spaces", version, about, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Normalize raw provider response bodies (a file or stdin) into Space JSON.
    Convert {
        /// The provider that produced the body.
        #[arg(long, short)]
        provider: ProviderArg,
        /// Input is one raw response per line; output is one Space per line.
        /// A bad line is reported on stderr with its number and the rest go on.
        #[arg(long)]
        ndjson: bool,
        /// The input file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
    },
}

/// A provider name on the command line (clap lists the choices in `--help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProviderArg {
    X,
    Socialdata,
    Aisa,
}

impl From<ProviderArg> for Provider {
    fn from(arg: ProviderArg) -> Provider {
        match arg {
            ProviderArg::X => Provider::X,
            ProviderArg::Socialdata => Provider::SocialData,
            ProviderArg::Aisa => Provider::Aisa,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Convert { provider, ndjson, file } => convert::run(provider.into(), ndjson, file.as_deref()),
    }
}
