//! `spaces compare`: one Space from several providers, field by field.
//!
//! `--format table` (the default) and `json` print the comparison; `ndjson`
//! and `csv` print each provider's Space, one line or row per provider
//! that answered, for a program or a spreadsheet to compare.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};
use spaces::{Client, Field, FieldValue, Provider, Space};

use crate::args::{Format, OutputArgs, provider_parser};
use crate::connect::ConnectArgs;
use crate::exit::{Exit, Failure};
use crate::format::{Output, Writer};
use crate::output::write_stdout;
use crate::stderr::note;
use crate::table::{self, Row};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The Space id, or its URL (https://x.com/i/spaces/…).
    pub id: String,
    /// Providers to ask (comma-separated). Default: every provider whose token is
    /// available (its environment variable, or a `--token-file PROVIDER=FILE`).
    #[arg(long, value_delimiter = ',', value_parser = provider_parser())]
    pub providers: Vec<Provider>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Show every field in the table, not only those the providers disagree on.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: CompareArgs) -> ExitCode {
    let checked = args
        .output
        .resolve("`spaces compare`", Format::Table, &[])
        .and_then(|output| all_fits(&output, args.all).map(|()| output))
        .and_then(|output| Ok((output, args.connect.providers_to_ask(&args.providers)?)));
    let (output, asked) = match checked {
        Ok(checked) => checked,
        Err(failure) => return failure.report(),
    };
    let clients = match args.connect.clients(&asked) {
        Ok(clients) => clients,
        Err(failure) => return failure.report(),
    };
    let comparison = Comparison::fetch(&clients, spaces::space_id_of(&args.id)).await;
    let exit = comparison.print(&output, table::width(), args.all);
    crate::connect::report_recording(&clients, exit)
}

/// `--all` picks the table's rows; with any other format it would be
/// silently ignored (json already has every field), so it is refused.
fn all_fits(output: &Output, all: bool) -> Result<(), Failure> {
    if all && output.format != Format::Table {
        let message = format!(
            "`spaces compare --all` is for `--format table`; `--format {}` already gives every field",
            output.format.as_str()
        );
        return Err(Failure::new(Exit::Usage, message));
    }
    Ok(())
}

/// Every asked provider's answer for one Space, and the rows that compare them.
pub struct Comparison {
    id: String,
    answers: Vec<(Provider, Result<Space, spaces::Error>)>,
}

/// One field compared: its name, each provider's value (as JSON, and as a
/// table shows it), and whether every provider that has a value agrees
/// (by [`Field::same`]: timestamps to the second, `state_raw` without
/// regard to case, users and topics by id).
struct Compared {
    name: String,
    json: Vec<Option<Value>>,
    cells: Vec<Option<String>>,
    agree: bool,
}

impl Comparison {
    /// Asks every client at once.
    pub async fn fetch(clients: &[Client], id: &str) -> Comparison {
        let requests = clients.iter().map(|client| async move { (client.provider(), client.space(id).await) });
        Comparison { id: id.to_owned(), answers: futures_util::future::join_all(requests).await }
    }

    /// Prints the table (at most `width` columns wide; the fields `--fields`
    /// picked, else every field with `all`, else those the providers
    /// disagree on), the comparison as JSON, or each provider's Space (NDJSON,
    /// CSV); the exit code says whether any provider answered.
    pub fn print(&self, output: &Output, width: usize, all: bool) -> ExitCode {
        let written = match output.format {
            Format::Table => write_stdout(&self.table(width, all, &output.fields())),
            Format::Json => match crate::output::json_pretty(&self.json()) {
                Ok(text) => write_stdout(&text),
                Err(error) => Err(Failure::new(Exit::Failure, format!("cannot serialize the comparison: {error}"))),
            },
            Format::Ndjson | Format::Csv => Writer::start(output).and_then(|mut writer| {
                for space in self.spaces().into_iter().flatten() {
                    writer.write(output, space)?;
                }
                writer.end()
            }),
        };
        if let Err(failure) = written {
            return failure.report();
        }
        let failures: Vec<&spaces::Error> =
            self.answers.iter().filter_map(|(_, answer)| answer.as_ref().err()).collect();
        for failure in &failures {
            note!("error: {failure}");
        }
        match failures.first() {
            Some(first) if failures.len() == self.answers.len() => Exit::for_error(first).into(),
            _ => Exit::Success.into(),
        }
    }

    fn spaces(&self) -> Vec<Option<&Space>> {
        self.answers.iter().map(|(_, answer)| answer.as_ref().ok()).collect()
    }

    fn json(&self) -> Value {
        let providers: Vec<&str> = self.answers.iter().map(|(provider, _)| provider.as_str()).collect();
        let errors: Map<String, Value> = self
            .answers
            .iter()
            .filter_map(|(provider, answer)| {
                answer.as_ref().err().map(|error| (provider.to_string(), Value::String(error.to_string())))
            })
            .collect();
        let fields: Vec<Value> = compare(&self.spaces())
            .into_iter()
            .map(|row| {
                let values: Map<String, Value> = providers
                    .iter()
                    .zip(row.json)
                    .map(|(provider, value)| ((*provider).to_owned(), value.unwrap_or(Value::Null)))
                    .collect();
                json!({ "field": row.name, "values": values, "differs": !row.agree })
            })
            .collect();
        json!({ "id": self.id, "providers": providers, "errors": errors, "fields": fields })
    }

    /// The fields the providers disagree on, one column per provider; with
    /// `all`, then every field they agree on, each value once. With
    /// `fields` (`--fields`), only those fields, whether or not they agree.
    /// A table too wide for `width` becomes one block per field.
    fn table(&self, width: usize, all: bool, fields: &[&str]) -> String {
        let providers: Vec<String> = self.answers.iter().map(|(provider, _)| provider.to_string()).collect();
        let mut rows = compare(&self.spaces());
        let all = all || !fields.is_empty();
        if !fields.is_empty() {
            rows.retain(|row| fields.contains(&row.name.as_str()));
        }
        let (differ, agree): (Vec<&Compared>, Vec<&Compared>) = rows.iter().partition(|row| !row.agree);
        let answered: Vec<&str> =
            self.answers.iter().filter(|(_, answer)| answer.is_ok()).map(|(provider, _)| provider.as_str()).collect();
        let failed = self.answers.len() - answered.len();
        // Fields they agree on, but only some of them give: what a merge adds.
        let partial = agree
            .iter()
            .filter(|row| {
                let given = row.cells.iter().filter(|cell| cell.is_some()).count();
                given > 0 && given < answered.len()
            })
            .count();
        let mut intro = format!(
            "Space {} from {} (times in UTC; `—`: not provided). {} of {} fields differ",
            self.id,
            answered.join(", "),
            differ.len(),
            rows.len()
        );
        if partial > 0 {
            intro.push_str(&format!("; {partial} more are given by only some (`show --merge` combines them)"));
        }
        intro.push_str(match (all, differ.is_empty()) {
            (true, _) => "; then the fields they agree on.",
            (false, true) => {
                ": where several give a value, they give the same; `--all` lists every field and who has it."
            }
            (false, false) => "; `--all` shows the others.",
        });
        if failed > 0 {
            intro.push_str(&format!(" {failed} provider(s) failed (see stderr)."));
        }
        let mut out = table::fill(&intro, width);
        let mut header = vec!["field".to_owned()];
        header.extend(providers);
        let differing: Vec<Row> = differ
            .iter()
            .map(|row| {
                let cells = row.cells.iter().map(|cell| cell.clone().unwrap_or_else(|| "—".to_owned()));
                Row { marked: false, cells: std::iter::once(row.name.clone()).chain(cells).collect() }
            })
            .collect();
        if !differing.is_empty() {
            out.push('\n');
            out.push_str(&table::render_fitted(&header, &differing, width));
        }
        if all && !agree.is_empty() {
            out.push_str(&table::fill(&format!("\nThe {} fields they agree on:", agree.len()), width));
            let header = ["field".to_owned(), "value".to_owned(), "from".to_owned()];
            let agreeing: Vec<Row> = agree
                .iter()
                .map(|row| {
                    let from: Vec<&str> = header_names(&self.answers)
                        .into_iter()
                        .zip(&row.cells)
                        .filter(|(_, cell)| cell.is_some())
                        .map(|(name, _)| name)
                        .collect();
                    let value = row.cells.iter().flatten().next().cloned().unwrap_or_else(|| "—".to_owned());
                    let from = if from.len() == answered.len() {
                        "all".to_owned()
                    } else if from.is_empty() {
                        "none".to_owned()
                    } else {
                        from.join(", ")
                    };
                    Row { marked: false, cells: vec![row.name.clone(), value, from] }
                })
                .collect();
            out.push_str(&table::render_fitted(&header, &agreeing, width));
        }
        out
    }
}

fn header_names(answers: &[(Provider, Result<Space, spaces::Error>)]) -> Vec<&'static str> {
    answers.iter().map(|(provider, _)| provider.as_str()).collect()
}

/// Every field but `provider`, in the model's order, compared across the
/// Spaces (`None`: a provider that did not answer). A group no Space has
/// (`settings`) is one row under its own name.
fn compare(spaces: &[Option<&Space>]) -> Vec<Compared> {
    let groups: Vec<&str> = spaces
        .iter()
        .flatten()
        .flat_map(|space| space.fields())
        .filter(|(field, value)| field.member().is_some() && !value.is_absent())
        .map(|(field, _)| field.key())
        .collect();
    let mut rows: Vec<Compared> = Vec::new();
    for &field in Field::ALL.iter().filter(|&&field| field != Field::Provider) {
        if field.member().is_some() && !groups.contains(&field.key()) {
            if rows.last().is_none_or(|row| row.name != field.key()) {
                let (json, cells) = (vec![None; spaces.len()], vec![None; spaces.len()]);
                rows.push(Compared { name: field.key().to_owned(), json, cells, agree: true });
            }
            continue;
        }
        let values: Vec<FieldValue<'_>> =
            spaces.iter().map(|space| space.map_or(FieldValue::Absent, |space| space.field(field))).collect();
        let present: Vec<&FieldValue<'_>> = values.iter().filter(|value| !value.is_absent()).collect();
        let agree = present.windows(2).all(|pair| field.same(pair[0], pair[1]));
        let json = values.iter().map(|value| json_of(value.clone())).collect();
        let cells = values.iter().map(|value| json_of(value.clone()).map(|json| cell_of(value, &json))).collect();
        rows.push(Compared { name: field.to_string(), json, cells, agree });
    }
    rows
}

/// A value as JSON, lists of users and topics as their handles and names;
/// `None` when absent.
fn json_of(value: FieldValue<'_>) -> Option<Value> {
    match value {
        FieldValue::Absent => None,
        FieldValue::Users(users) => {
            Some(users.iter().map(|user| user.username.clone().map_or(Value::Null, Value::String)).collect())
        }
        FieldValue::Topics(topics) => Some(topics.iter().map(|topic| Value::String(topic.name.clone())).collect()),
        other => serde_json::to_value(other).ok(),
    }
}

/// A value as a table cell: a time to the second (`2023-03-31 18:38:03`,
/// UTC), everything else as [`cell`] shows its JSON.
fn cell_of(value: &FieldValue<'_>, json: &Value) -> String {
    match value {
        FieldValue::Time(at) => at.format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => cell(Some(json)),
    }
}

/// A value as table text: strings bare, lists comma-separated (the table
/// wraps long ones and cuts them after a few lines).
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None => "—".to_owned(),
        Some(Value::String(text)) if text.is_empty() => "\"\"".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// The Space as `field → value` (`null` when absent): its fields as
/// [`Space::fields`] walks them, `provider` aside, as [`compare`] shows them.
pub fn flatten(space: &Space) -> Map<String, Value> {
    compare(&[Some(space)])
        .into_iter()
        .map(|mut row| (row.name, row.json.pop().flatten().unwrap_or(Value::Null)))
        .collect()
}

#[cfg(test)]
mod tests {
    use spaces::Provider;
    use spaces_mock::{DEMO_SPACE_ID, recorded_space};

    use super::Comparison;
    use crate::table;

    fn every_provider() -> Comparison {
        let answers = Provider::ALL
            .iter()
            .map(|&provider| (provider, spaces::decode(provider, recorded_space(provider).as_bytes())))
            .collect();
        Comparison { id: DEMO_SPACE_ID.to_owned(), answers }
    }

    #[test]
    fn the_table_shows_what_differs_within_the_width_and_never_splits_a_value() {
        let comparison = every_provider();
        let rows = super::compare(&comparison.spaces());
        let differing: Vec<&str> = rows.iter().filter(|row| !row.agree).map(|row| row.name.as_str()).collect();
        let agreeing = rows.iter().filter(|row| row.agree).count();
        assert!(agreeing > 20, "the recordings agree on most fields");
        for width in [40, 60, 80, 120, 200, table::UNLIMITED] {
            for all in [false, true] {
                let table = comparison.table(width, all, &[]);
                for line in table.lines() {
                    assert!(line.chars().count() <= width, "{} > {width}: {line}\n{table}", line.chars().count());
                }
                for field in &differing {
                    assert!(table.contains(field), "{field} differs at {width}:\n{table}");
                }
                // No id or timestamp is broken over two lines.
                assert!(table.contains("1jMJgLdenVjxL"), "{width}:\n{table}");
                assert!(!table.contains("1jMJgLdenV\n"), "{width}:\n{table}");
                let stamps = table.matches("2023-03-31 ").count();
                let whole = table.matches(char::is_numeric).count();
                assert!(stamps == 0 || whole > 0, "{width}:\n{table}");
                if all {
                    assert!(table.contains("state_raw") || table.contains("title"), "every field with --all:\n{table}");
                }
            }
        }
        // Without --all, an agreeing field is not shown.
        let table = comparison.table(200, false, &[]);
        assert!(!table.lines().any(|line| line.trim_start().starts_with("lang ")), "{table}");
    }

    #[test]
    fn a_wide_table_keeps_each_value_on_one_line() {
        let table = every_provider().table(250, true, &[]);
        assert!(table.contains("The Algorithm goes open source"), "{table}");
        assert!(table.contains("2023-03-31 "), "times to the second: {table}");
    }
}
