//! `spaces search` and `spaces by-creator`: the multi-Space endpoints (X's
//! `GET /2/spaces/search` and `GET /2/spaces/by/creator_ids`), printed in
//! the `--format` asked (NDJSON by default), each page as it arrives; a
//! table, for people, once every page is in.
//!
//! Partial errors of an answer (a Space or user X could not return, an item
//! that did not convert) are printed on stderr as `error: <id or ->: <cause>`
//! and make the exit code 1; the Spaces that did come back are printed all
//! the same.

use std::io::{self, BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use clap::builder::TypedValueParser;
use futures_util::StreamExt;
use spaces::{Capability, Client, Provider, Search, SearchState, Space, SpaceList};

use crate::args::{Format, OutputArgs, provider_parser};
use crate::connect::{self, ConnectArgs};
use crate::exit::{self, Exit, Failure};
use crate::format::{Output, Writer};
use crate::lines::{Line, read_capped_line};
use crate::output::{shown, write_stdout};
use crate::stderr::note;
use crate::table::{self, Row};

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The text to look for in Space titles (X: 1 to 2048 characters).
    pub query: String,
    /// Which Spaces: live, scheduled, or all (both; X does not search ended Spaces).
    #[arg(long, default_value = "all", value_parser = state_parser())]
    pub state: SearchState,
    /// At most this many Spaces (X: 1 to 100, default 100; X has no further pages).
    #[arg(long, value_name = "N")]
    pub max_results: Option<u8>,
    /// The provider to ask (default: x; only X offers search).
    #[arg(long, short, default_value = "x", value_parser = provider_parser())]
    pub provider: Provider,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct ByCreatorArgs {
    /// X user ids (1 to 19 digits) whose live and scheduled Spaces to list.
    /// They go 100 per request; X allows one request per second here (and
    /// 300 per 15 minutes), which the client keeps to unless --no-rate-limit.
    #[arg(value_name = "USER_ID", required_unless_present = "user_ids_file")]
    pub user_ids: Vec<String>,
    /// Also read user ids from this file, one per line (`-` is stdin).
    #[arg(long, value_name = "FILE")]
    pub user_ids_file: Option<PathBuf>,
    /// The provider to ask (default: x; only X lists Spaces by creator).
    #[arg(long, short, default_value = "x", value_parser = provider_parser())]
    pub provider: Provider,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Every search state, for `--help` and completions.
const STATES: [SearchState; 3] = [SearchState::All, SearchState::Live, SearchState::Scheduled];

fn state_parser() -> impl TypedValueParser<Value = SearchState> {
    clap::builder::PossibleValuesParser::new(STATES.map(SearchState::as_str))
        .try_map(|name| name.parse::<SearchState>())
}

/// Refuses, as a usage error, a provider that does not offer `capability`
/// (before any token is needed), naming the providers that do.
fn offered(provider: Provider, capability: Capability) -> Result<(), Failure> {
    if provider.supports(capability) {
        return Ok(());
    }
    let with: Vec<&str> =
        Provider::ALL.iter().filter(|other| other.supports(capability)).map(|other| other.as_str()).collect();
    let message = format!(
        "{}; --provider {} offers it",
        spaces::Error::Unsupported { provider, operation: capability.as_str() },
        if with.is_empty() { "none".to_owned() } else { with.join(" or --provider ") }
    );
    Err(Failure::new(Exit::Usage, message))
}

/// The one client a list command uses, after its options are checked.
fn client(connect: &ConnectArgs, provider: Provider) -> Result<Client, Failure> {
    connect.check(&[provider])?;
    connect.client(provider)
}

pub async fn search(args: SearchArgs) -> ExitCode {
    let provider = args.provider;
    let mut search = Search::new(args.query.as_str()).state(args.state);
    if let Some(max) = args.max_results {
        search = search.max_results(max);
    }
    // The library checks the arguments against the spec's rules before a token is needed.
    let checked = args.output.resolve("`spaces search`", Format::Ndjson, &[]).and_then(|output| {
        offered(provider, Capability::Search)?;
        search.check(provider)?;
        Ok((output, client(&args.connect, provider)?))
    });
    let (output, client) = match checked {
        Ok(checked) => checked,
        Err(failure) => return failure.report(),
    };
    // One answer: nothing is printed (not even a JSON array's `[`) unless it comes.
    let exit = match client.search(&search).await {
        Ok(list) => match Printer::new(output).and_then(|mut printer| printer.add(list).map(|()| printer)) {
            Ok(printer) => {
                let what = format!("matching \"{}\" (state: {})", shown(&args.query), args.state.as_str());
                printer.finish(provider, &what)
            }
            Err(failure) => failure.report(),
        },
        Err(error) => exit::report(error),
    };
    connect::report_recording(&[client], exit)
}

pub async fn by_creator(args: ByCreatorArgs) -> ExitCode {
    let provider = args.provider;
    let checked = args.output.resolve("`spaces by-creator`", Format::Ndjson, &[]).and_then(|output| {
        offered(provider, Capability::ByCreators)?;
        Ok((output, user_ids(&args)?))
    });
    let (output, user_ids) = match checked {
        Ok(checked) => checked,
        Err(failure) => return failure.report(),
    };
    let client = match client(&args.connect, provider) {
        Ok(client) => client,
        Err(failure) => return failure.report(),
    };
    let exit = print_pages(&client, &user_ids, output).await;
    connect::report_recording(&[client], exit)
}

/// One page per request, each printed as it arrives: a long list of
/// creators streams, and a failure loses nothing already answered.
async fn print_pages(client: &Client, user_ids: &[String], output: Output) -> ExitCode {
    let mut pages = match client.spaces_by_creators_pages(user_ids.iter().cloned()) {
        Ok(pages) => pages,
        Err(error) => return exit::report(error),
    };
    let mut printer = match Printer::new(output) {
        Ok(printer) => printer,
        Err(failure) => return failure.report(),
    };
    while let Some(page) = pages.next().await {
        match page {
            Ok(list) => {
                if let Err(failure) = printer.add(list) {
                    return failure.report();
                }
            }
            Err(error) => {
                // What came back so far is printed (and a JSON array closed);
                // the failure decides the exit code.
                let _ = printer.flush_table().and_then(|()| printer.writer.end());
                return exit::report(error);
            }
        }
    }
    let creators = if user_ids.len() == 1 { "1 creator".to_owned() } else { format!("{} creators", user_ids.len()) };
    printer.finish(client.provider(), &format!("by {creators}"))
}

/// The user ids of the command line, then of `--user-ids-file`. A bad one
/// is a usage error naming it (and its line), before any request.
fn user_ids(args: &ByCreatorArgs) -> Result<Vec<String>, Failure> {
    let provider = args.provider;
    let mut all = Vec::new();
    for id in &args.user_ids {
        provider.check_user_id(id.trim())?;
        all.push(id.trim().to_owned());
    }
    if let Some(path) = &args.user_ids_file {
        read_user_ids_file(provider, path, &mut all)?;
    }
    if all.is_empty() {
        return Err(Failure::new(Exit::Usage, "no user ids: give USER_ID arguments or a --user-ids-file with some"));
    }
    Ok(all)
}

/// The user ids of a file (`-` is stdin), one per line, added to `into`.
/// A bad one is a usage error naming the file and the line.
pub(crate) fn read_user_ids_file(
    provider: Provider,
    path: &std::path::Path,
    into: &mut Vec<String>,
) -> Result<(), Failure> {
    let shown = path.display().to_string();
    if path.as_os_str() == "-" {
        if io::stdin().is_terminal() {
            note!("reading user ids from stdin, one per line (Ctrl-D to end)");
        }
        return read_user_ids(provider, io::stdin().lock(), &shown, into);
    }
    match std::fs::File::open(path) {
        Ok(file) => read_user_ids(provider, io::BufReader::new(file), &shown, into),
        Err(error) => Err(Failure::new(Exit::Failure, format!("cannot read {shown}: {error}"))),
    }
}

fn read_user_ids(
    provider: Provider,
    mut input: impl BufRead,
    shown: &str,
    into: &mut Vec<String>,
) -> Result<(), Failure> {
    const MAX_LINE: usize = 1_024;
    let mut buf = Vec::new();
    let mut number = 0usize;
    loop {
        let line = read_capped_line(&mut input, &mut buf, MAX_LINE)
            .map_err(|error| Failure::new(Exit::Failure, format!("cannot read {shown}: {error}")))?;
        number += 1;
        let bad = |problem: &str| Failure::new(Exit::Usage, format!("{shown}, line {number}: {problem}"));
        match line {
            None => return Ok(()),
            Some(Line::TooLong) => return Err(bad(&format!("longer than {MAX_LINE} bytes; not a user id"))),
            Some(Line::Complete) => {
                let text = String::from_utf8_lossy(&buf);
                let id = text.trim();
                if id.is_empty() {
                    continue;
                }
                if let Err(error) = provider.check_user_id(id) {
                    return Err(bad(&error.to_string()));
                }
                into.push(id.to_owned());
            }
        }
    }
}

/// Prints the Spaces of one or more answers: JSON, NDJSON or CSV as they
/// come, or a table at the end; partial errors on stderr as they come.
struct Printer {
    output: Output,
    writer: Writer,
    /// The Spaces a table will show.
    rows: Vec<Space>,
    spaces: usize,
    errors: usize,
}

impl Printer {
    fn new(output: Output) -> Result<Printer, Failure> {
        let writer = Writer::start(&output)?;
        Ok(Printer { output, writer, rows: Vec::new(), spaces: 0, errors: 0 })
    }

    fn add(&mut self, list: SpaceList) -> Result<(), Failure> {
        for problem in &list.errors {
            note!("error: {}: {}", crate::convert::item_id(problem), problem.error);
        }
        for warning in &list.warnings {
            note!("warning: {warning}");
        }
        self.errors += list.errors.len();
        self.spaces += list.spaces.len();
        match self.output.format {
            Format::Table => self.rows.extend(list.spaces),
            Format::Json | Format::Ndjson | Format::Csv => {
                for space in &list.spaces {
                    self.writer.write(&self.output, space)?;
                }
            }
        }
        Ok(())
    }

    /// The table of what was gathered so far (nothing for the other
    /// formats, which are already out).
    fn flush_table(&mut self) -> Result<(), Failure> {
        if self.output.format == Format::Table && !self.rows.is_empty() {
            let width = table::width();
            let rows: Vec<&Space> = self.rows.iter().collect();
            let table = self.output.picked_table(&rows, width).unwrap_or_else(|| render(&self.rows, width));
            write_stdout(&table)?;
            self.rows.clear();
        }
        Ok(())
    }

    /// Prints the table (with a line saying what it lists) or, for the
    /// other formats, ends the list and says on stderr how many Spaces and
    /// errors there were. Exit 1 when any partial error was reported.
    fn finish(mut self, provider: Provider, what: &str) -> ExitCode {
        let count = if self.spaces == 1 { "1 Space".to_owned() } else { format!("{} Spaces", self.spaces) };
        let errors = if self.errors == 1 { "1 error".to_owned() } else { format!("{} errors", self.errors) };
        match self.output.format {
            Format::Json | Format::Ndjson | Format::Csv => {
                if let Err(failure) = self.writer.end() {
                    return failure.report();
                }
                note!("{provider}: {count}, {errors}");
            }
            Format::Table => {
                let width = table::width();
                let mut intro = format!("{count} {what}, from {}", provider.info().title);
                if self.errors > 0 {
                    intro.push_str(&format!("; {errors} (on stderr)"));
                }
                intro.push('.');
                if let Err(failure) = write_stdout(&table::fill(&intro, width)).and_then(|()| self.flush_table()) {
                    return failure.report();
                }
            }
        }
        if self.errors > 0 { Exit::Failure.into() } else { Exit::Success.into() }
    }
}

/// One row per Space: id, state, title, creator, and when it started (or
/// is scheduled to), in at most `width` columns.
pub fn render(spaces: &[Space], width: usize) -> String {
    let header: Vec<String> = ["id", "state", "title", "creator", "start (UTC)"].map(str::to_owned).to_vec();
    let none = || "—".to_owned();
    let rows: Vec<Row> = spaces
        .iter()
        .map(|space| {
            let creator = space
                .creator
                .as_ref()
                .and_then(|user| user.username.as_ref().map(|name| format!("@{name}")))
                .or_else(|| space.creator_id.clone())
                .unwrap_or_else(none);
            let time = |time: chrono::DateTime<chrono::Utc>| time.format("%Y-%m-%d %H:%M").to_string();
            let start = match (space.started_at, space.scheduled_start) {
                (Some(started), _) => time(started),
                (None, Some(scheduled)) => format!("{} (scheduled)", time(scheduled)),
                (None, None) => none(),
            };
            let cells = vec![
                space.id.clone(),
                space.state.as_str().to_owned(),
                space.title.clone().unwrap_or_else(none),
                creator,
                start,
            ];
            Row { marked: false, cells }
        })
        .collect();
    table::render_fitted(&header, &rows, width)
}

#[cfg(test)]
mod tests {
    use spaces::{Capability, Provider};

    use super::{offered, render};

    #[test]
    fn only_providers_with_the_operation_are_accepted() {
        assert!(offered(Provider::X, Capability::Search).is_ok());
        let failure = offered(Provider::SocialData, Capability::Search).expect_err("no search");
        assert_eq!(failure.exit as u8, 2);
        assert!(
            failure.message.starts_with("socialdata: search is not offered")
                && failure.message.contains("--provider x"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn the_table_has_one_row_per_space_within_the_width() {
        let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/x/multi-search-meta.json"))
            .expect("fixture");
        let list = match spaces::decode_any(Provider::X, &body).expect("decodes") {
            spaces::Decoded::Many(list) => list,
            spaces::Decoded::One(_) => panic!("a multi-Space body"),
        };
        for width in [40, 60, 80, 120] {
            let table = render(&list.spaces, width);
            assert!(table.lines().all(|line| line.chars().count() <= width), "{table}");
            for space in &list.spaces {
                // One row per Space, or one block when the terminal is too narrow: its id whole either way.
                let row = format!("  {} ", space.id);
                let block = format!("  -[ {} ]", space.id);
                assert!(table.lines().any(|line| line.starts_with(&row) || line.starts_with(&block)), "{table}");
            }
            assert!(table.contains("@zedpark") && table.contains("scheduled"), "{table}");
        }
        let wide = render(&list.spaces, 120);
        assert!(wide.lines().next().is_some_and(|line| line.starts_with("  id ")), "a table when it fits:\n{wide}");
    }
}
