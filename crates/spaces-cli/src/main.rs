//! `spaces`: X/Twitter Space details from any provider, normalized.

#![deny(missing_docs)]

mod args;
mod compare;
mod connect;
mod convert;
#[cfg(feature = "mock")]
mod demo;
mod events;
mod exit;
mod export;
mod forget;
mod format;
mod help;
mod ids;
mod interrupt;
mod lines;
mod list;
mod mock;
mod output;
mod show;
mod stderr;
mod summary;
mod table;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;
use spaces::Provider;

use crate::args::provider_parser;
use crate::exit::{Exit, Failure};

/// X/Twitter Spaces from any provider, as one normalized model. (The
/// one-line summary, naming every command, is built by `help::with_examples`.)
///
/// Tokens come from each provider's environment variable (listed below) or a
/// file given with --token-file [PROVIDER=]FILE; never from a command-line
/// argument, so they never show in process listings. A byte-order mark,
/// surrounding whitespace and a leading `Bearer ` are stripped from either.
/// Set RUST_LOG=spaces=debug to trace requests.
#[derive(Debug, Parser)]
#[command(name = "spaces", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch one Space (or many: --ids-file, or ids on stdin; on X, 100 ids per request) from a provider,
    /// or from several: merged (--merge) or the first that answers (--fallback).
    Show(show::ShowArgs),
    /// Search live and scheduled Spaces by title (X's GET /2/spaces/search).
    Search(list::SearchArgs),
    /// List the live and scheduled Spaces of given creators (X's GET /2/spaces/by/creator_ids).
    ByCreator(list::ByCreatorArgs),
    /// Fetch one Space from several providers and compare them field by field.
    Compare(compare::CompareArgs),
    /// Watch users' Spaces over time (X): poll them at the pace X's budget
    /// allows, keep what is seen in a store (SQLite), and print each
    /// lifecycle event (scheduled, started, rescheduled, ended, canceled,
    /// gone) as one NDJSON line once it is stored.
    Watch(watch::WatchArgs),
    /// See the whole pipeline work: no network, no keys (a mock server on 127.0.0.1).
    ///
    /// Needs a binary built with the cargo feature `mock`, as `cargo run -p spaces-cli --features mock -- demo` does.
    Demo,
    /// Run the mock of every provider on 127.0.0.1 until Ctrl-C, and print the
    /// base URL and token for each, with commands to paste: try show, bulk,
    /// search, by-creator, compare, merge and watch without keys.
    ///
    /// Needs a binary built with the cargo feature `mock`.
    Mock(mock::MockArgs),
    /// Normalize raw provider response bodies (a file or stdin) into Space JSON.
    ///
    /// A body with one Space prints it as JSON. A multi-Space body (X's batch
    /// lookup, search, by-creator) prints one Space per line, and each of its
    /// partial errors on stderr as `error: <id or ->: <cause>`, with exit code 1.
    Convert {
        /// The provider that produced the body.
        #[arg(long, short, value_parser = provider_parser())]
        provider: Provider,
        /// Input is one raw response per line; output is one Space per line
        /// (several for a multi-Space line). A bad line is reported on stderr
        /// as `error: line <n>: <cause>`, a multi-Space line's partial error as
        /// `error: line <n>: <id or ->: <cause>`, and the rest go on.
        #[arg(long)]
        ndjson: bool,
        /// The input file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
    },
    /// Print the watch store's event log as NDJSON, one event per line in order;
    /// --follow goes on printing each new event as a watcher commits it.
    Events(events::EventsArgs),
    /// Write a table of the watch store (spaces, events, samples) in flat columns,
    /// as CSV, NDJSON or Parquet, to stdout or a file.
    Export(export::ExportArgs),
    /// Drop what the watch store still keeps of Spaces that are gone: the Space
    /// their earlier events carried, and their samples.
    ForgetGone(forget::ForgetGoneArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Write the man pages (spaces.1, spaces-show.1, ...) into a directory:
    /// what `cargo xtask man` runs. Hidden: installed users get the pages, not the task.
    #[command(hide = true)]
    Man {
        /// The directory to write them into; it is created if missing.
        out: PathBuf,
    },
}

/// The `--help` epilogue: each provider's token variable, then the exit codes.
fn after_help() -> String {
    let tokens: String = Provider::ALL
        .iter()
        .map(|provider| {
            format!("\n  {:<12}{:<22}{}", provider.as_str(), provider.info().env_var, provider.info().title)
        })
        .collect();
    format!("Providers and their token variables:{tokens}\n\n{}", Exit::help())
}

/// The command line as parsed, `--help` and completions all come from.
fn cli_command() -> clap::Command {
    help::with_examples(Cli::command().after_help(after_help()))
}

fn main() -> ExitCode {
    let matches = cli_command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_tracing();
    let command = match cli.command {
        Command::Convert { provider, ndjson, file } => return convert::run(provider, ndjson, file.as_deref()),
        Command::Completions { shell } => return completions(shell),
        Command::Man { out } => return man_pages(&out),
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return Failure::new(Exit::Failure, format!("cannot start the async runtime: {error}")).report(),
    };
    runtime.block_on(async {
        match command {
            Command::Show(args) => show::run(args).await,
            Command::Search(args) => list::search(args).await,
            Command::ByCreator(args) => list::by_creator(args).await,
            Command::Compare(args) => compare::run(args).await,
            Command::Watch(args) => watch::run(args).await,
            #[cfg(feature = "mock")]
            Command::Demo => demo::run().await,
            #[cfg(feature = "mock")]
            Command::Mock(args) => mock::run(args).await,
            #[cfg(not(feature = "mock"))]
            Command::Demo => mock::not_built_in("demo"),
            #[cfg(not(feature = "mock"))]
            Command::Mock(_) => mock::not_built_in("mock"),
            Command::Events(args) => events::run(args).await,
            Command::Export(args) => export::run(args),
            Command::ForgetGone(args) => forget::run(args),
            Command::Convert { .. } | Command::Completions { .. } | Command::Man { .. } => {
                unreachable!("handled above, without a runtime")
            }
        }
    })
}

/// Prints the completion script for `shell`, generated from the same
/// command the arguments are parsed with.
fn completions(shell: Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli_command(), "spaces", &mut script);
    match output::write_stdout_bytes(&script) {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}

/// Writes one man page per command into `out`, from the same command line
/// `--help` is rendered from.
fn man_pages(out: &std::path::Path) -> ExitCode {
    let written = std::fs::create_dir_all(out).and_then(|()| clap_mangen::generate_to(cli_command(), out));
    match written {
        Ok(()) => Exit::Success.into(),
        Err(error) => {
            Failure::new(Exit::Failure, format!("cannot write man pages into {}: {error}", out.display())).report()
        }
    }
}

/// Request spans and retries go to stderr when `RUST_LOG` asks for them.
/// They carry provider, id, attempt, status and timing, never a token.
fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(stderr::colour())
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    // The examples of help.rs, checked here: only main.rs builds the whole command line.
    #[test]
    fn every_command_has_an_example() {
        let mut command = super::cli_command();
        for sub in command.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(help.contains("Example"), "`spaces {}` has no example:\n{help}", sub.get_name());
        }
    }

    #[test]
    fn the_summary_names_every_command() {
        let command = super::cli_command();
        let about = command.get_about().map(ToString::to_string).unwrap_or_default();
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            assert!(about.contains(sub.get_name()), "{} is missing from: {about}", sub.get_name());
        }
        assert!(
            crate::help::EXAMPLES.iter().all(|(name, _)| command.find_subcommand(name).is_some()),
            "no such command"
        );
    }

    #[test]
    fn the_command_line_is_well_formed() {
        super::cli_command().debug_assert();
    }

    #[test]
    fn help_lists_every_provider_and_exit_code() {
        let help = super::cli_command().render_long_help().to_string();
        for &provider in spaces::Provider::ALL {
            assert!(help.contains(provider.info().env_var), "{help}");
        }
        assert!(help.contains(&super::Exit::help()), "{help}");
    }
}
