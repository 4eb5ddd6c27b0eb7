//! `spaces show --providers … --merge | --fallback`: one Space from several
//! providers, merged field by field ([`spaces::merge`]) or from the first
//! that answers, for one id ([`Providers`]) or many (bulk windows, asked of
//! each provider with its batch endpoint where it has one).
//!
//! Every provider that fails is reported on stderr (`error: <provider>:
//! <cause>`, in bulk `error: <id>: <provider>: <cause>`), and the others
//! still answer. When none does, the exit code is that of
//! [`AllFailed::error`]: not found only if every provider said so, else the
//! most actionable failure.

use std::process::ExitCode;

use serde_json::Value;
use spaces::{AllFailed, Client, Error, Merged, Provider, Providers, Space};

use crate::compare::{cell, flatten};
use crate::connect;
use crate::exit::{self, Exit, Failure};
use crate::output::{note, write_stdout};
use crate::show::{Bulk, Lookup, Outcome, ShowArgs, bulk_input, show_many};
use crate::table::{self, Row};
use crate::{Format, show};

/// How several providers' answers become one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// All at once, merged.
    Merge,
    /// In order, the first that answers.
    Fallback,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Merge => "merge",
            Mode::Fallback => "fallback",
        }
    }
}

pub async fn run(args: ShowArgs) -> ExitCode {
    let mode = if args.merge { Mode::Merge } else { Mode::Fallback };
    let clients = match clients(&args) {
        Ok(clients) => clients,
        Err(failure) => return failure.report(),
    };
    match &args.id {
        Some(id) => show_one(clients, id, mode, args.format).await,
        None => {
            let lookups = clients
                .into_iter()
                .map(|client| {
                    let lookup = Lookup::new(&client, args.no_batch, args.concurrency);
                    (client, lookup)
                })
                .collect();
            match bulk_input(args.ids_file.as_deref()) {
                Ok(input) => show_many(&Several { clients: lookups, mode }, input).await,
                Err(failure) => failure.report(),
            }
        }
    }
}

/// A client for each provider to ask, in order: those of `--providers` that
/// have a token (the others are skipped with a note on stderr), or every
/// provider with a token.
fn clients(args: &ShowArgs) -> Result<Vec<Client>, Failure> {
    let asked = args.connect.providers_to_ask(&args.providers)?;
    args.connect.check(&asked)?;
    let (usable, skipped): (Vec<Provider>, Vec<Provider>) =
        asked.iter().partition(|&&provider| args.connect.has_token(provider));
    if usable.is_empty() {
        let vars: Vec<String> =
            skipped.iter().map(|provider| format!("{} ({provider})", provider.info().env_var)).collect();
        let message =
            format!("no provider asked has a token: set {}, or give --token-file PROVIDER=FILE", vars.join(", "));
        return Err(Failure::new(Exit::Auth, message));
    }
    for provider in &skipped {
        note!(
            "note: {provider}: skipped, no token; set {} or give --token-file {provider}=FILE",
            provider.info().env_var
        );
    }
    usable
        .into_iter()
        .map(|provider| {
            let builder = args.connect.builder(provider)?;
            connect::build(builder.concurrency(usize::from(args.concurrency)))
        })
        .collect()
}

async fn show_one(clients: Vec<Client>, id: &str, mode: Mode, format: Format) -> ExitCode {
    // A bad id is the same for every provider: one line, nothing sent.
    if let Some(first) = clients.first()
        && let Err(error) = spaces::validate_id(first.provider(), id)
    {
        return exit::report(error);
    }
    let providers = Providers::new(clients);
    let answer = match mode {
        Mode::Merge => providers.merge(id).await.map(|answer| (Shown::Merged(answer.value), answer.attempts)),
        Mode::Fallback => providers.fallback(id).await.map(|answer| (Shown::Space(answer.value), answer.attempts)),
    };
    match answer {
        Ok((shown, attempts)) => {
            for error in attempts.iter().filter_map(|attempt| attempt.error.as_ref()) {
                note!("error: {error}");
            }
            match shown {
                Shown::Space(space) => show::print(&space, format),
                Shown::Merged(merged) => {
                    let answered: Vec<Provider> = attempts
                        .iter()
                        .filter(|attempt| attempt.error.is_none())
                        .map(|attempt| attempt.provider)
                        .collect();
                    print_merged(&merged, &answered, &providers.providers(), format)
                }
            }
        }
        Err(all) => {
            for (_, error) in &all.errors {
                note!("error: {error}");
            }
            let exit = all.error().map_or(Exit::Failure, Exit::for_error);
            note!("error: {}", every_provider_failed(&all));
            exit.into()
        }
    }
}

/// What `show` prints for one id.
enum Shown {
    Space(Space),
    Merged(Merged),
}

/// `every provider failed: <the representative error>`: the line that
/// closes a failed id, after each provider's own.
fn every_provider_failed(all: &AllFailed) -> String {
    match all.error() {
        Some(error) => format!("every provider failed: {error}"),
        None => "no provider was asked".to_owned(),
    }
}

fn print_merged(merged: &Merged, answered: &[Provider], asked: &[Provider], format: Format) -> ExitCode {
    let text = match format {
        Format::Json => crate::output::json_pretty(&merged_json(merged)).map_err(|error| error.to_string()),
        Format::Table => Ok(merged_table(merged, answered, asked, table::width())),
    };
    let written = text
        .map_err(|error| Failure::new(Exit::Failure, format!("cannot serialize the Space: {error}")))
        .and_then(|text| write_stdout(&text));
    match written {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}

/// The merged Space's JSON (the usual keys), plus `sources` (field →
/// provider, in the model's order) and `conflicts` (each with every
/// provider's value and the one chosen).
pub fn merged_json(merged: &Merged) -> Value {
    serde_json::to_value(merged).unwrap_or(Value::Null)
}

/// The merged Space as a table of field, value and source (the provider
/// the value came from), at most `width` columns wide; `*` marks a field
/// the providers disagreed on, and each such conflict is listed below it.
pub fn merged_table(merged: &Merged, answered: &[Provider], asked: &[Provider], width: usize) -> String {
    let names =
        |providers: &[Provider]| providers.iter().map(|provider| provider.as_str()).collect::<Vec<_>>().join(", ");
    let unanswered: Vec<Provider> = asked.iter().copied().filter(|provider| !answered.contains(provider)).collect();
    let failed =
        if unanswered.is_empty() { String::new() } else { format!(" ({} failed, see stderr)", names(&unanswered)) };
    let intro = format!(
        "Space {} merged from {}{failed}. `source` is the provider of each value; \
         `*` marks fields the providers disagree on (listed below); `—` means no provider had it.",
        merged.space.id,
        names(answered),
    );
    let header = ["field".to_owned(), "value".to_owned(), "source".to_owned()];
    let rows: Vec<Row> = flatten(&merged.space)
        .into_iter()
        .map(|(field, value)| {
            let marked = merged.conflicts.iter().any(|conflict| conflict.field == field);
            let value = Some(value).filter(|value| !value.is_null());
            let source = merged.source(&field).filter(|_| value.is_some()).map_or("—", Provider::as_str).to_owned();
            Row { marked, cells: vec![field, cell(value.as_ref()), source] }
        })
        .collect();
    let mut out = format!("{}{}", table::fill(&intro, width), table::render(&header, &rows, width));
    if !merged.conflicts.is_empty() {
        out.push_str("\nConflicts:\n");
        for conflict in &merged.conflicts {
            let values: Vec<String> = conflict
                .values
                .iter()
                .map(|(provider, value)| {
                    format!("{provider} {}", quoted(&serde_json::to_value(value).unwrap_or_default()))
                })
                .collect();
            let line = format!("{}: {}; chosen: {}", conflict.field, values.join(", "), conflict.chosen);
            let line = crate::output::shown(&line);
            for (index, line) in table::wrap(&line, width.saturating_sub(4).max(1)).into_iter().enumerate() {
                out.push_str(if index == 0 { "  " } else { "    " });
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

/// A value as a conflict line shows it: strings in quotes, so that `""` and
/// spaces are visible; lists as their ids.
fn quoted(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let ids: Vec<String> = items.iter().map(|item| cell(Some(item.get("id").unwrap_or(item)))).collect();
            format!("[{}]", ids.join(", "))
        }
        other => other.to_string(),
    }
}

/// A bulk run over several providers.
struct Several {
    clients: Vec<(Client, Lookup)>,
    mode: Mode,
}

impl Several {
    /// The outcome of each provider asked, in order, for each id of `ids`:
    /// every provider at once (merge), or one after the other, each asked
    /// only for the ids every one before it failed on (fallback).
    async fn ask(&self, ids: &[String]) -> Vec<Vec<(Provider, spaces::Outcome)>> {
        let mut per_id: Vec<Vec<(Provider, spaces::Outcome)>> = ids.iter().map(|_| Vec::new()).collect();
        match self.mode {
            Mode::Merge => {
                let requests = self.clients.iter().map(|(client, lookup)| lookup.answer(client, ids.to_vec()));
                let answers = futures_util::future::join_all(requests).await;
                for ((client, _), answers) in self.clients.iter().zip(answers) {
                    for (outcomes, answer) in per_id.iter_mut().zip(answers) {
                        outcomes.push((client.provider(), answer));
                    }
                }
            }
            Mode::Fallback => {
                let mut pending: Vec<usize> = (0..ids.len()).collect();
                for (client, lookup) in &self.clients {
                    if pending.is_empty() {
                        break;
                    }
                    let asked: Vec<String> = pending.iter().map(|&index| ids[index].clone()).collect();
                    let answers = lookup.answer(client, asked).await;
                    let mut still = Vec::new();
                    for (&index, answer) in pending.iter().zip(answers) {
                        if answer.result.is_err() {
                            still.push(index);
                        }
                        per_id[index].push((client.provider(), answer));
                    }
                    pending = still;
                }
            }
        }
        per_id
    }

    /// One id's outcome from its providers' answers, in the providers' order.
    fn outcome(&self, answers: Vec<(Provider, spaces::Outcome)>) -> Outcome {
        let mut spaces = Vec::new();
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for (provider, answer) in answers {
            warnings.extend(answer.warnings.iter().map(ToString::to_string));
            match answer.result {
                Ok(space) => spaces.push(space),
                Err(error) => errors.push((provider, error)),
            }
        }
        let failures = errors.iter().map(|(_, error)| error.to_string()).collect();
        let answer = match self.mode {
            Mode::Merge => spaces::merge(spaces).map(|merged| merged_json(&merged)),
            Mode::Fallback => spaces.into_iter().next().and_then(|space| serde_json::to_value(space).ok()),
        };
        let answer = answer.ok_or_else(|| every_provider_failed(&AllFailed { errors }));
        Outcome { failures, warnings, ..Outcome::of(answer) }
    }
}

impl Bulk for Several {
    fn window(&self) -> usize {
        self.clients.iter().map(|(_, lookup)| lookup.window()).max().unwrap_or(1)
    }

    async fn answer(&self, ids: Vec<String>) -> Vec<Outcome> {
        // A bad id is the same for every provider: one line, nothing sent.
        // (`clients` is never empty; the provider only names the message.)
        let first = self.clients.first().map_or(Provider::X, |(client, _)| client.provider());
        let checked: Vec<Result<(), Error>> = ids.iter().map(|id| spaces::validate_id(first, id)).collect();
        let valid: Vec<String> =
            ids.iter().zip(&checked).filter(|(_, check)| check.is_ok()).map(|(id, _)| id.clone()).collect();
        let mut answers = self.ask(&valid).await.into_iter();
        checked
            .into_iter()
            .map(|check| match check {
                Ok(()) => self.outcome(answers.next().unwrap_or_default()),
                Err(error) => Outcome::of::<Value>(Err(error.to_string())),
            })
            .collect()
    }

    fn label(&self) -> String {
        let names: Vec<&str> = self.clients.iter().map(|(client, _)| client.provider().as_str()).collect();
        format!("{} of {}", self.mode.as_str(), names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use spaces::Provider;
    use spaces_mock::recorded_space;

    use super::{merged_json, merged_table};

    fn merged() -> spaces::Merged {
        let answers = [Provider::X, Provider::SocialData, Provider::Aisa]
            .map(|provider| spaces::decode(provider, recorded_space(provider).as_bytes()).expect("recorded"));
        spaces::merge(answers).expect("three answers")
    }

    #[test]
    fn the_json_adds_sources_and_conflicts_to_the_space() {
        let json = merged_json(&merged());
        assert_eq!(json["provider"], "x");
        assert_eq!(json["sources"]["lang"], "x");
        assert_eq!(json["sources"]["media_key"], "socialdata");
        let keys: Vec<&String> = json.as_object().expect("object").keys().collect();
        assert_eq!(keys.last().map(|key| key.as_str()), Some("conflicts"));
        assert!(json["conflicts"].is_array());
    }

    #[test]
    fn the_table_names_each_source_within_the_width() {
        let merged = merged();
        let asked = [Provider::X, Provider::SocialData, Provider::Aisa];
        for width in [60, 80, 120] {
            let table = merged_table(&merged, &asked, &asked, width);
            assert!(table.lines().all(|line| line.chars().count() <= width), "{width}:\n{table}");
            assert!(table.lines().any(|line| line.starts_with("  lang ") && line.ends_with(" x")), "{table}");
            assert!(
                table.lines().any(|line| line.starts_with("  media_key ") && line.ends_with(" socialdata")),
                "{table}"
            );
        }
    }
}
