//! `spaces show`: one Space, or many (`--ids-file`, or ids on stdin) as NDJSON.
//!
//! Many ids are read and answered in windows of about a thousand, so memory
//! stays flat however long the input is, and each window's outcomes are
//! printed in input order. On a provider with a batch endpoint (X's
//! `GET /2/spaces?ids=`) a window goes through [`Client::spaces`], 100 ids
//! per request; otherwise (or with `--no-batch`) each id is one request to
//! the single-Space endpoint.
//!
//! With `--providers` and `--merge` or `--fallback`, several providers are
//! asked ([`crate::several`]); bulk runs go through the same windows, one
//! outcome per id.

use std::io::{self, BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use futures_util::StreamExt;
use spaces::{Client, Provider, Space};

use crate::connect::{self, ConnectArgs};
use crate::exit::{self, Exit, Failure};
use crate::lines::{Line, read_capped_line};
use crate::output::{note, shown, write_stdout};
use crate::{Format, provider_parser, several, summary};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The Space id. Without it (and without --ids-file), ids are read from stdin, one per line.
    pub id: Option<String>,
    /// The provider to ask; its token comes from its environment variable or --token-file.
    /// (For several: --providers with --merge or --fallback.)
    #[arg(
        long,
        short,
        value_parser = provider_parser(),
        required_unless_present_any = ["providers", "merge", "fallback"],
        conflicts_with_all = ["providers", "merge", "fallback"]
    )]
    pub provider: Option<Provider>,
    /// Several providers, in order of preference (comma-separated), with --merge
    /// or --fallback. A provider without a token is skipped with a note. With
    /// --merge or --fallback but without --providers: every provider with a token.
    #[arg(long, value_delimiter = ',', value_name = "PROVIDERS", value_parser = provider_parser())]
    pub providers: Vec<Provider>,
    /// Ask every provider at once and merge their answers into one Space: each
    /// field from the first provider (in order) that has it, the most advanced
    /// state; the output adds `sources` (field → provider) and `conflicts`.
    #[arg(long, conflicts_with = "fallback")]
    pub merge: bool,
    /// Ask the providers in order and print the first answer (its `provider`
    /// says which); each provider that failed before it is reported on stderr.
    #[arg(long)]
    pub fallback: bool,
    /// Output format for a single Space (with --merge, `table` has a column
    /// naming each field's source). Bulk output is always NDJSON.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Bulk: read ids from this file (one per line; `-` is stdin) and print one NDJSON line per Space.
    #[arg(long, value_name = "FILE", conflicts_with = "id")]
    pub ids_file: Option<PathBuf>,
    /// Bulk: requests in flight at once, per provider (its rate limit still applies).
    /// On X each request carries up to 100 ids, unless --no-batch.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Bulk: one request per id, through the single-Space endpoint (X's
    /// `GET /2/spaces/{id}`), instead of up to 100 ids per request (X's
    /// `GET /2/spaces?ids=`). Costs 100 times the requests on X, whose budget
    /// is 300 requests per 15 minutes per endpoint. Providers without a batch
    /// endpoint always look ids up one by one.
    #[arg(long)]
    pub no_batch: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: ShowArgs) -> ExitCode {
    if args.merge || args.fallback {
        return several::run(args).await;
    }
    let Some(provider) = args.provider else {
        let message = if args.providers.is_empty() {
            "name the provider to ask with --provider (or several with --providers and --merge or --fallback)"
        } else {
            "--providers asks several providers: add --merge (ask them all at once and merge their answers) \
             or --fallback (ask them in order and print the first answer)"
        };
        return Failure::new(Exit::Usage, message).report();
    };
    let built = args
        .connect
        .check(&[provider])
        .and_then(|()| args.connect.builder(provider))
        .and_then(|builder| connect::build(builder.concurrency(usize::from(args.concurrency))));
    let client = match built {
        Ok(client) => client,
        Err(failure) => return failure.report(),
    };
    match &args.id {
        Some(id) => show_one(&client, id, args.format).await,
        None => {
            let bulk = One { client: &client, lookup: Lookup::new(&client, args.no_batch, args.concurrency) };
            match bulk_input(args.ids_file.as_deref()) {
                Ok(input) => show_many(&bulk, input).await,
                Err(failure) => failure.report(),
            }
        }
    }
}

/// The id input of a bulk run: the `--ids-file`, or stdin (no file, or `-`).
pub fn bulk_input(ids_file: Option<&Path>) -> Result<Box<dyn BufRead>, Failure> {
    match ids_file {
        Some(path) if path.as_os_str() != "-" => match std::fs::File::open(path) {
            Ok(file) => Ok(Box::new(io::BufReader::new(file))),
            Err(error) => Err(Failure::new(Exit::Failure, format!("cannot read {}: {error}", path.display()))),
        },
        _ => Ok(Box::new(io::stdin().lock())),
    }
}

async fn show_one(client: &Client, id: &str, format: Format) -> ExitCode {
    match client.space(id).await {
        Ok(space) => print(&space, format),
        Err(error) => exit::report(error),
    }
}

/// Prints one Space as pretty JSON or the table summary.
pub fn print(space: &Space, format: Format) -> ExitCode {
    let text = match format {
        Format::Json => crate::output::json_pretty(space),
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

/// About this many ids are read and answered at a time (rounded up to a
/// whole number of rounds of requests, so that no round of a window runs
/// with slots idle but the last window's).
const WINDOW_IDS: usize = 1_000;

/// The longest id line read; an id is at most 13 characters, so a longer
/// line is reported as not an id, without being buffered.
const MAX_ID_LINE: usize = 1_024;

/// How a bulk run looks ids up on one provider.
#[derive(Clone, Copy, Debug)]
pub struct Lookup {
    /// Through [`Client::spaces`] and the provider's batch endpoint.
    batched: bool,
    /// Ids per request: the batch endpoint's maximum, or 1.
    per_request: usize,
    /// Requests in flight.
    concurrency: usize,
}

impl Lookup {
    pub fn new(client: &Client, no_batch: bool, concurrency: u16) -> Lookup {
        let batch = client.provider().info().batch_lookup.filter(|_| !no_batch);
        Lookup {
            batched: batch.is_some(),
            per_request: batch.map_or(1, |batch| batch.max_ids.max(1)),
            concurrency: usize::from(concurrency).max(1),
        }
    }

    /// Ids per window: [`WINDOW_IDS`], rounded up to whole rounds of
    /// `concurrency` requests of `per_request` ids (at most 6,400 ids, with
    /// X's 100 per request and the largest `--concurrency`).
    pub fn window(self) -> usize {
        let round = self.per_request * self.concurrency;
        WINDOW_IDS.div_ceil(round) * round
    }

    /// One outcome per id, in the order of `ids`.
    pub async fn answer(self, client: &Client, ids: Vec<String>) -> Vec<spaces::Outcome> {
        if self.batched {
            return client.spaces(ids).await;
        }
        let mut answers: Vec<(usize, spaces::Outcome)> = futures_util::stream::iter(ids.into_iter().enumerate())
            .map(|(index, id)| async move {
                let result = client.space(&id).await;
                (index, spaces::Outcome { id, result, warnings: Vec::new() })
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        answers.sort_unstable_by_key(|(index, _)| *index);
        answers.into_iter().map(|(_, outcome)| outcome).collect()
    }
}

/// One line of the id input.
enum Item {
    Id(String),
    /// A line longer than [`MAX_ID_LINE`], by its number.
    TooLong(usize),
}

/// The id input, read a window at a time.
struct IdReader<R> {
    input: R,
    buf: Vec<u8>,
    line: usize,
    done: bool,
    /// A read error ends the input; it is reported at the end.
    error: Option<io::Error>,
}

impl<R: BufRead> IdReader<R> {
    fn new(input: R) -> Self {
        IdReader { input, buf: Vec::new(), line: 0, done: false, error: None }
    }

    /// Up to `size` items; none once the input is exhausted.
    fn next_window(&mut self, size: usize) -> Vec<Item> {
        let mut items = Vec::new();
        while items.len() < size && !self.done {
            match read_capped_line(&mut self.input, &mut self.buf, MAX_ID_LINE) {
                Ok(None) => self.done = true,
                Ok(Some(Line::TooLong)) => {
                    self.line += 1;
                    items.push(Item::TooLong(self.line));
                }
                Ok(Some(Line::Complete)) => {
                    self.line += 1;
                    // A line that is not UTF-8 is kept (lossily), to fail as an
                    // invalid id on its own line. Blank lines carry no id: skipped.
                    let id = String::from_utf8_lossy(&self.buf).trim().to_owned();
                    if !id.is_empty() {
                        items.push(Item::Id(id));
                    }
                }
                Err(error) => {
                    self.error = Some(error);
                    self.done = true;
                }
            }
        }
        items
    }
}

/// What a bulk run prints for one id.
pub struct Outcome {
    /// `<provider>: <cause>` of each provider that failed on the way (with
    /// several providers), each printed as `error: <id>: <provider>: <cause>`.
    pub failures: Vec<String>,
    /// What was odd about the answers, each printed as `warning: <id>: <warning>`.
    pub warnings: Vec<String>,
    /// The JSON line (without its newline), or the cause printed as
    /// `error: <id>: <cause>`: the id got no answer.
    pub result: Result<Vec<u8>, String>,
}

impl Outcome {
    /// The outcome of a JSON value, or of the error that stood in its way.
    pub fn of<T: serde::Serialize>(answer: Result<T, String>) -> Outcome {
        let result = answer.and_then(|value| {
            let mut line = Vec::new();
            crate::output::json_line(&mut line, &value).map(|()| line).map_err(|error| error.to_string())
        });
        Outcome { failures: Vec::new(), warnings: Vec::new(), result }
    }
}

/// How a bulk run answers its ids: one provider ([`One`]), or several
/// merged or in fallback order ([`crate::several`]).
pub(crate) trait Bulk {
    /// Ids read and answered at a time.
    fn window(&self) -> usize;
    /// One outcome per id, in the order of `ids`.
    async fn answer(&self, ids: Vec<String>) -> Vec<Outcome>;
    /// Who answered, for the closing count (`x`, `merge of x, socialdata`).
    fn label(&self) -> String;
}

/// A bulk run on one provider.
struct One<'a> {
    client: &'a Client,
    lookup: Lookup,
}

impl Bulk for One<'_> {
    fn window(&self) -> usize {
        self.lookup.window()
    }

    async fn answer(&self, ids: Vec<String>) -> Vec<Outcome> {
        let answers = self.lookup.answer(self.client, ids).await;
        answers
            .into_iter()
            .map(|answer| Outcome {
                warnings: answer.warnings.iter().map(ToString::to_string).collect(),
                ..Outcome::of(answer.result.map_err(|error| error.to_string()))
            })
            .collect()
    }

    fn label(&self) -> String {
        self.client.provider().to_string()
    }
}

/// Every id gets exactly one outcome line: its JSON on stdout, or
/// `error: <id>: <cause>` on stderr, in input order within each stream
/// (after any `error: <id>: <provider>: <cause>` of providers that failed
/// on the way). Requests run `concurrency` at a time per provider, under
/// each client's rate limiter; a failure does not stop the rest.
pub(crate) async fn show_many(bulk: &impl Bulk, input: impl BufRead) -> ExitCode {
    let mut reader = IdReader::new(input);
    let progress = progress_bar();
    let (mut succeeded, mut failed) = (0usize, 0usize);
    loop {
        // Reading blocks; no request of this command is in flight meanwhile.
        let items = tokio::task::block_in_place(|| reader.next_window(bulk.window()));
        if items.is_empty() {
            break;
        }
        let ids: Vec<String> = items
            .iter()
            .filter_map(|item| match item {
                Item::Id(id) => Some(id.clone()),
                Item::TooLong(_) => None,
            })
            .collect();
        let mut answers = ids.iter().zip(bulk.answer(ids.clone()).await);
        let mut output = Vec::new();
        for item in &items {
            let (id, outcome) = match item {
                Item::Id(_) => match answers.next() {
                    Some(answer) => answer,
                    None => break, // one outcome per id: cannot happen
                },
                Item::TooLong(line) => {
                    progress.suspend(|| note!("error: line {line}: longer than {MAX_ID_LINE} bytes; not a Space id"));
                    failed += 1;
                    continue;
                }
            };
            // The id as read from the input, which may hold anything.
            let id = shown(id);
            for warning in &outcome.warnings {
                progress.suspend(|| note!("warning: {id}: {warning}"));
            }
            for failure in &outcome.failures {
                progress.suspend(|| note!("error: {id}: {failure}"));
            }
            match outcome.result {
                Ok(json) => {
                    output.extend_from_slice(&json);
                    output.push(b'\n');
                    succeeded += 1;
                }
                Err(message) => {
                    progress.suspend(|| note!("error: {id}: {message}"));
                    failed += 1;
                }
            }
        }
        if let Err(failure) = crate::output::write_stdout_bytes(&output) {
            progress.finish_and_clear();
            return failure.report();
        }
        progress.inc(items.len() as u64);
    }
    progress.finish_and_clear();
    if let Some(error) = reader.error {
        note!("error: cannot read ids: {error}");
        failed += 1;
    }
    note!("{}: {succeeded} found, {failed} failed", bulk.label());
    if failed > 0 { Exit::Failure.into() } else { Exit::Success.into() }
}

/// A progress line on stderr, only when stderr is a terminal. The total is
/// unknown (ids stream in), so it counts Spaces done (ids answered) and their rate.
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

#[cfg(test)]
mod tests {
    use super::{IdReader, Item, Lookup};

    #[test]
    fn windows_are_whole_rounds_of_requests() {
        let lookup = |per_request, concurrency| Lookup { batched: per_request > 1, per_request, concurrency };
        assert_eq!(lookup(100, 4).window(), 1_200);
        assert_eq!(lookup(100, 32).window(), 3_200);
        assert_eq!(lookup(100, 64).window(), 6_400);
        assert_eq!(lookup(1, 4).window(), 1_000);
        assert_eq!(lookup(1, 32).window(), 1_024);
    }

    #[test]
    fn ids_are_read_a_window_at_a_time() {
        let long = "a".repeat(5_000);
        let input = format!("a\n\n  b \r\n{long}\nc\nd");
        let mut reader = IdReader::new(std::io::BufReader::with_capacity(16, input.as_bytes()));
        let show = |items: Vec<Item>| -> Vec<String> {
            items
                .into_iter()
                .map(|item| match item {
                    Item::Id(id) => id,
                    Item::TooLong(line) => format!("line {line}"),
                })
                .collect()
        };
        assert_eq!(show(reader.next_window(2)), ["a", "b"]);
        assert_eq!(show(reader.next_window(2)), ["line 4", "c"]);
        assert_eq!(show(reader.next_window(2)), ["d"]);
        assert!(reader.next_window(2).is_empty());
        assert!(reader.error.is_none());
    }
}
