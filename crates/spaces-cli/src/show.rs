//! `spaces show`: one Space, or many (`--ids-file`, or ids on stdin) as NDJSON.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use futures_util::StreamExt;
use spaces::{Client, Provider, Space};

use crate::connect::ConnectArgs;
use crate::exit::{self, Exit, Failure};
use crate::{Format, provider_parser, summary, write_stdout};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The Space id. Without it (and without --ids-file), ids are read from stdin, one per line.
    pub id: Option<String>,
    /// The provider to ask; its token comes from its environment variable or --token-file.
    #[arg(long, short, value_parser = provider_parser())]
    pub provider: Provider,
    /// Output format for a single Space. Bulk output is always NDJSON.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Bulk: read ids from this file (one per line; `-` is stdin) and print one NDJSON line per Space.
    #[arg(long, value_name = "FILE", conflicts_with = "id")]
    pub ids_file: Option<PathBuf>,
    /// Bulk: requests in flight at once (the provider's rate limit still applies).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: ShowArgs) -> ExitCode {
    let client = match args.connect.check(&[args.provider]).and_then(|()| args.connect.client(args.provider)) {
        Ok(client) => client,
        Err(failure) => return failure.report(),
    };
    match (&args.id, &args.ids_file) {
        (Some(id), _) => show_one(&client, id, args.format).await,
        (None, Some(path)) if path.as_os_str() != "-" => match std::fs::File::open(path) {
            Ok(file) => show_many(&client, io::BufReader::new(file), args.concurrency).await,
            Err(error) => Failure::new(Exit::Failure, format!("cannot read {}: {error}", path.display())).report(),
        },
        (None, _) => show_many(&client, io::stdin().lock(), args.concurrency).await,
    }
}

async fn show_one(client: &Client, id: &str, format: Format) -> ExitCode {
    match client.space(id).await {
        Ok(space) => print(&space, format),
        Err(error) => exit::report(error),
    }
}

fn print(space: &Space, format: Format) -> ExitCode {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(space).map(|json| json + "\n"),
        Format::Table => Ok(summary::render(space)),
    };
    let written = text
        .map_err(|error| Failure::new(Exit::Failure, format!("cannot serialize the Space: {error}")))
        .and_then(|text| write_stdout(&text));
    match written {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}

/// Every id gets exactly one line: its Space as JSON on stdout, or
/// `error: <id>: <cause>` on stderr. Requests run `concurrency` at a time,
/// under the client's rate limiter; a failure does not stop the rest.
async fn show_many(client: &Client, input: impl BufRead, concurrency: u16) -> ExitCode {
    // Ids are read as the requests go out, not all up front, so memory stays
    // flat however many there are. A read error ends the input, reported below.
    let mut read_error = None;
    let ids = input
        .split(b'\n')
        .map_while(|line| line.map_err(|error| read_error = Some(error)).ok())
        // A line that is not UTF-8 is kept (lossily), to fail as an invalid id on its own line.
        .map(|line| String::from_utf8_lossy(&line).trim().to_owned())
        // Blank lines carry no id: skipped.
        .filter(|id| !id.is_empty());
    let progress = progress_bar();
    let mut results = futures_util::stream::iter(ids)
        .map(|id| async move {
            let result = client.space(&id).await;
            (id, result)
        })
        .buffer_unordered(usize::from(concurrency));
    let mut stdout = io::stdout().lock();
    let (mut succeeded, mut failed) = (0usize, 0usize);
    while let Some((id, result)) = results.next().await {
        let line = result
            .map_err(|error| error.to_string())
            .and_then(|space| serde_json::to_string(&space).map_err(|error| error.to_string()));
        match line {
            Ok(json) => {
                if let Err(error) = writeln!(stdout, "{json}") {
                    return Failure::new(Exit::Failure, format!("cannot write output: {error}")).report();
                }
                succeeded += 1;
            }
            Err(message) => {
                progress.suspend(|| eprintln!("error: {id}: {message}"));
                failed += 1;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    drop(results);
    if let Some(error) = read_error {
        eprintln!("error: cannot read ids: {error}");
        failed += 1;
    }
    eprintln!("{}: {succeeded} found, {failed} failed", client.provider());
    if failed > 0 { Exit::Failure.into() } else { Exit::Success.into() }
}

/// A progress line on stderr, only when stderr is a terminal. The total is
/// unknown (ids stream in), so it counts Spaces done and their rate.
fn progress_bar() -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos} Spaces ({per_sec}, {elapsed})") {
        bar.set_style(style);
    }
    bar
}
