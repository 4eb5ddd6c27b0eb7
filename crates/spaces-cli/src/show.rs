//! `spaces show`: one Space, or many (`--ids-file`, or ids on stdin),
//! streamed in the `--format` asked, from one provider or from several (`--merge`, `--fallback`).
//!
//! The library does the work (batching, concurrency, fallback, merge, in
//! input order); this module only chooses what to ask and prints each
//! outcome as the library yields it, flushing as it goes, so that a run cut
//! short keeps every answer received.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use futures_util::stream::{BoxStream, StreamExt};
use spaces::{AllFailed, Answer, Client, Error, Merged, Outcome, Provider, Providers, Space, Warning};

use crate::args::{Format, OutputArgs, provider_parser};
use crate::connect::{self, ConnectArgs};
use crate::exit::{self, Exit, Failure};
use crate::format::{Item, Output, Writer};
use crate::ids::Input;
use crate::interrupt;
use crate::output::{json_pretty, shown, write_stdout};
use crate::stderr::note;
use crate::{summary, table};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The Space id, or its URL (https://x.com/i/spaces/…). Without it (and
    /// without --ids-file), ids are read from stdin, one per line (`#` starts a comment).
    pub id: Option<String>,
    /// The provider to ask (default: x); its token comes from its environment variable or
    /// --token-file. (For several: --providers with --merge or --fallback.)
    #[arg(long, short, value_parser = provider_parser(), conflicts_with_all = ["providers", "merge", "fallback"])]
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
    #[command(flatten)]
    pub output: OutputArgs,
    /// Bulk: read ids from this file (one per line; `-` is stdin) and print each Space as it comes.
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

/// Who is asked.
enum Asked {
    One(Client),
    Fallback(Providers),
    Merge(Providers),
}

/// Bulk output cannot be a table: a table sizes its columns to every row,
/// and a bulk run prints each Space as it comes (a run cut short keeps
/// them all), over any number of ids.
const BULK_TABLE: &str = "a table needs every row before it can size its columns, and a bulk run prints \
                          each Space as it arrives; use --format csv (with --fields to pick columns) or ndjson";

/// The format of a run: of one Space, or of several (bulk).
fn output(args: &ShowArgs) -> Result<Output, Failure> {
    match args.id {
        Some(_) => args.output.resolve("`spaces show ID`", Format::Json, &[]),
        None => args.output.resolve(
            "`spaces show` with several ids (--ids-file or ids on stdin)",
            Format::Ndjson,
            &[(Format::Table, BULK_TABLE)],
        ),
    }
}

pub async fn run(args: ShowArgs) -> ExitCode {
    let checked = output(&args).and_then(|output| Ok((output, asked(&args)?)));
    let (output, (asked, clients)) = match checked {
        Ok(checked) => checked,
        Err(failure) => return failure.report(),
    };
    let exit = match &args.id {
        // A Space URL, as people share them, stands for its id.
        Some(id) => show_one(&asked, spaces::space_id_of(id), &output).await,
        None => match Input::open(args.ids_file.as_deref()) {
            Ok(input) => show_many(&asked, input, args.no_batch, &output).await,
            Err(failure) => failure.report(),
        },
    };
    connect::report_recording(&clients, exit)
}

/// The clients to ask, from the options: one provider, or several.
fn asked(args: &ShowArgs) -> Result<(Asked, Vec<Client>), Failure> {
    let concurrency = usize::from(args.concurrency);
    if args.merge || args.fallback {
        let clients = args.connect.several_with_tokens(&args.providers, concurrency)?;
        let providers = Providers::new(clients.clone());
        let asked = if args.merge { Asked::Merge(providers) } else { Asked::Fallback(providers) };
        return Ok((asked, clients));
    }
    if !args.providers.is_empty() {
        let message = "--providers asks several providers: add --merge (ask them all at once and merge their answers) \
                       or --fallback (ask them in order and print the first answer)";
        return Err(Failure::new(Exit::Usage, message));
    }
    let provider = args.provider.unwrap_or(Provider::X);
    args.connect.check(&[provider])?;
    let client = args.connect.builder(provider)?.concurrency(concurrency).build()?;
    Ok((Asked::One(client.clone()), vec![client]))
}

async fn show_one(asked: &Asked, id: &str, format: &Output) -> ExitCode {
    let providers = match asked {
        Asked::One(client) => {
            return match client.space(id).await {
                Ok(space) => print_space(&space, format),
                Err(error) => exit::report(error),
            };
        }
        Asked::Fallback(providers) | Asked::Merge(providers) => providers,
    };
    // A bad id is the same for every provider: one line, nothing sent.
    if let Some(&first) = providers.providers().first()
        && let Err(error) = first.check_id(id)
    {
        return exit::report(error);
    }
    let (attempts, printed) = match asked {
        Asked::Merge(providers) => match providers.merge(id).await {
            Ok(answer) => {
                let answered = answered(&answer.attempts);
                let printed = print_merged(&answer.value, &answered, &providers.providers(), format);
                (answer.attempts, Ok(printed))
            }
            Err(all) => (Vec::new(), Err(all)),
        },
        _ => match providers.fallback(id).await {
            Ok(answer) => (answer.attempts, Ok(print_space(&answer.value, format))),
            Err(all) => (Vec::new(), Err(all)),
        },
    };
    match printed {
        Ok(exit) => {
            for error in attempts.iter().filter_map(|attempt| attempt.error.as_ref()) {
                note!("error: {error}");
            }
            exit
        }
        Err(all) => {
            for (_, error) in &all.errors {
                note!("error: {error}");
            }
            note!("error: {}", every_provider_failed(&all));
            all.error().map_or(Exit::Failure, Exit::for_error).into()
        }
    }
}

/// The providers that answered.
fn answered(attempts: &[spaces::Attempt]) -> Vec<Provider> {
    attempts.iter().filter(|attempt| attempt.error.is_none()).map(|attempt| attempt.provider).collect()
}

/// Prints one Space: pretty JSON, one line, the table summary (or the
/// columns `--fields` picked), or a CSV header and row.
pub fn print_space(space: &Space, output: &Output) -> ExitCode {
    match output.format {
        Format::Json => print_text(json_pretty(space).map_err(|error| error.to_string())),
        Format::Table => {
            print_text(Ok(output.picked_table(&[space], table::width()).unwrap_or_else(|| summary::render(space))))
        }
        Format::Ndjson | Format::Csv => print_one_item(space, output),
    }
}

fn print_merged(merged: &Merged, answered: &[Provider], asked: &[Provider], output: &Output) -> ExitCode {
    match output.format {
        Format::Json => print_text(json_pretty(merged).map_err(|error| error.to_string())),
        Format::Table => print_text(Ok(output
            .picked_table(&[&merged.space], table::width())
            .unwrap_or_else(|| summary::merged_table(merged, answered, asked, table::width())))),
        Format::Ndjson | Format::Csv => print_one_item(merged, output),
    }
}

/// One Space as a list of one: an NDJSON line, or a CSV header and row.
fn print_one_item(value: &impl Item, output: &Output) -> ExitCode {
    let written = Writer::start(output).and_then(|mut writer| {
        writer.write(output, value)?;
        writer.end()
    });
    match written {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}

fn print_text(text: Result<String, String>) -> ExitCode {
    let written = text
        .map_err(|error| Failure::new(Exit::Failure, format!("cannot serialize the Space: {error}")))
        .and_then(|text| write_stdout(&text));
    match written {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}

/// `every provider failed: <the representative error>`: the line that
/// closes a failed id, after each provider's own.
fn every_provider_failed(all: &AllFailed) -> String {
    match all.error() {
        Some(error) => format!("every provider failed: {error}"),
        None => "no provider was asked".to_owned(),
    }
}

/// What a bulk run prints for one id.
struct Printed {
    id: String,
    /// The item as the format writes it ([`Output::item`]), or the cause printed as
    /// `error: <id>: <cause>`: the id got no answer.
    result: Result<Vec<u8>, String>,
    /// The errors of providers that failed on the way (several providers),
    /// each printed as `error: <id>: <error>`.
    failures: Vec<String>,
    /// Each printed as `warning: <id>: <warning>`.
    warnings: Vec<String>,
    /// The run was stopped before the id's request was sent.
    not_sent: bool,
}

impl Printed {
    fn new<T: Item>(id: String, value: Result<T, String>, warnings: &[Warning], output: &Output) -> Printed {
        let result = value.and_then(|value| output.item(&value));
        let warnings = warnings.iter().map(ToString::to_string).collect();
        Printed { id, result, failures: Vec::new(), warnings, not_sent: false }
    }

    fn of_one(outcome: Outcome, output: &Output) -> Printed {
        let not_sent = matches!(outcome.result, Err(Error::Interrupted { .. }));
        let value = outcome.result.map_err(|error| error.to_string());
        Printed { not_sent, ..Printed::new(outcome.id, value, &outcome.warnings, output) }
    }

    fn of_several<T: Item>(outcome: Outcome<Answer<T>, AllFailed>, output: &Output) -> Printed {
        let interrupted = |error: &Error| matches!(error, Error::Interrupted { .. });
        let (value, failures, not_sent) = match outcome.result {
            Ok(answer) => {
                let failures = answer.attempts.iter().filter_map(|attempt| attempt.error.as_ref());
                let failures: Vec<String> = failures.map(ToString::to_string).collect();
                (Ok(answer.value), failures, false)
            }
            // A bad id is the same for every provider: refused once, one line.
            Err(AllFailed { errors }) if matches!(errors.as_slice(), [(_, Error::InvalidId { .. })]) => {
                (Err(errors[0].1.to_string()), Vec::new(), false)
            }
            Err(all) => {
                let not_sent = all.errors.iter().any(|(_, error)| interrupted(error));
                let failures = all.errors.iter().map(|(_, error)| error.to_string()).collect();
                (Err(every_provider_failed(&all)), failures, not_sent)
            }
        };
        Printed { failures, not_sent, ..Printed::new(outcome.id, value, &outcome.warnings, output) }
    }
}

/// Every id read gets exactly one outcome, printed as the library yields
/// it, in input order: its Space on stdout (in `output`'s format), or `error: <id>: <cause>` on
/// stderr (after any `error: <id>: <provider>: <cause>` of providers that
/// failed on the way, and `warning:` lines). A signal stops the run: what
/// was sent is answered and printed, what was not is counted.
async fn show_many(asked: &Asked, input: Input, no_batch: bool, output: &Output) -> ExitCode {
    let total = input.total;
    let (ids, unread) = input.spawn();
    let (signal, interrupted) = interrupt::on_signal("no more requests are sent; waiting for those on their way");
    let (label, outcomes): (String, BoxStream<'_, Printed>) = match asked {
        Asked::One(client) => {
            let lookup = client.lookup_stream(ids).one_by_one(no_batch).stop_on(signal);
            (client.provider().to_string(), lookup.stream().map(|outcome| Printed::of_one(outcome, output)).boxed())
        }
        Asked::Fallback(providers) => {
            let lookup = providers.lookup_stream(ids).one_by_one(no_batch).stop_on(signal);
            let outcomes = lookup.fallback().map(|outcome| Printed::of_several(outcome, output));
            (label("fallback", providers), outcomes.boxed())
        }
        Asked::Merge(providers) => {
            let lookup = providers.lookup_stream(ids).one_by_one(no_batch).stop_on(signal);
            let outcomes = lookup.merge().map(|outcome| Printed::of_several(outcome, output));
            (label("merge", providers), outcomes.boxed())
        }
    };
    let mut writer = match Writer::start(output) {
        Ok(writer) => writer,
        Err(failure) => return failure.report(),
    };
    let progress = progress_bar(total);
    let mut tally = Tally::default();
    let mut outcomes = outcomes;
    while let Some(printed) = outcomes.next().await {
        if let Err(failure) = tally.print(printed, &progress, &mut writer) {
            progress.finish_and_clear();
            return failure.report();
        }
        for message in unread.due(tally.seen) {
            tally.failed += 1;
            progress.suspend(|| note!("error: {message}"));
        }
    }
    progress.finish_and_clear();
    if let Err(failure) = writer.end() {
        return failure.report();
    }
    for message in unread.rest() {
        tally.failed += 1;
        note!("error: {message}");
    }
    let Tally { found, failed, not_sent, .. } = tally;
    let stopped = if not_sent > 0 || interrupted.exit_code().is_some() {
        format!(", {not_sent} not sent (interrupted)")
    } else {
        String::new()
    };
    note!("{label}: {found} found, {failed} failed{stopped}");
    interrupted.or(if failed > 0 { Exit::Failure } else { Exit::Success })
}

fn label(mode: &str, providers: &Providers) -> String {
    let names: Vec<&str> = providers.providers().iter().map(|provider| provider.as_str()).collect();
    format!("{mode} of {}", names.join(", "))
}

#[derive(Default)]
struct Tally {
    /// Outcomes printed (or counted as not sent).
    seen: usize,
    found: usize,
    failed: usize,
    not_sent: usize,
}

impl Tally {
    /// Prints one outcome; stdout is flushed at once, so an answered id is
    /// out before the next is awaited.
    fn print(
        &mut self,
        printed: Printed,
        progress: &indicatif::ProgressBar,
        writer: &mut Writer,
    ) -> Result<(), Failure> {
        self.seen += 1;
        progress.inc(1);
        if printed.not_sent {
            self.not_sent += 1;
            return Ok(());
        }
        // The id as read from the input, which may hold anything.
        let id = shown(&printed.id);
        for warning in &printed.warnings {
            progress.suspend(|| note!("warning: {id}: {warning}"));
        }
        for failure in &printed.failures {
            progress.suspend(|| note!("error: {id}: {failure}"));
        }
        match printed.result {
            Ok(item) => {
                writer.item(&item)?;
                self.found += 1;
            }
            Err(message) => {
                progress.suspend(|| note!("error: {id}: {message}"));
                self.failed += 1;
            }
        }
        Ok(())
    }
}

/// A progress bar on stderr, only when stderr is a terminal: of the total
/// when the input says how many ids it holds, else a count and a rate.
fn progress_bar(total: Option<u64>) -> indicatif::ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return indicatif::ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (indicatif::ProgressBar::new(total), "{bar:30} {pos}/{len} Spaces ({per_sec}, eta {eta})"),
        None => (indicatif::ProgressBar::new_spinner(), "{spinner} {pos} Spaces ({per_sec}, {elapsed})"),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
