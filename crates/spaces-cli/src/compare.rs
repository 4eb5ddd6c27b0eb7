//! `spaces compare`: one Space from several providers, field by field.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};
use spaces::{Client, Field, FieldValue, Provider, Space};

use crate::args::{Format, provider_parser};
use crate::connect::ConnectArgs;
use crate::exit::Exit;
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
    /// `table` for people (wrapped to the terminal's width, or COLUMNS), `json` for programs (the same rows, as data).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: CompareArgs) -> ExitCode {
    let asked = match args.connect.providers_to_ask(&args.providers) {
        Ok(asked) => asked,
        Err(failure) => return failure.report(),
    };
    let clients = match args.connect.clients(&asked) {
        Ok(clients) => clients,
        Err(failure) => return failure.report(),
    };
    let comparison = Comparison::fetch(&clients, spaces::space_id_of(&args.id)).await;
    let exit = comparison.print(args.format, table::width());
    crate::connect::report_recording(&clients, exit)
}

/// Every asked provider's answer for one Space, and the rows that compare them.
pub struct Comparison {
    id: String,
    answers: Vec<(Provider, Result<Space, spaces::Error>)>,
}

impl Comparison {
    /// Asks every client at once.
    pub async fn fetch(clients: &[Client], id: &str) -> Comparison {
        let requests = clients.iter().map(|client| async move { (client.provider(), client.space(id).await) });
        Comparison { id: id.to_owned(), answers: futures_util::future::join_all(requests).await }
    }

    /// Prints the table (at most `width` columns wide) or JSON; the exit code
    /// says whether any provider answered.
    pub fn print(&self, format: Format, width: usize) -> ExitCode {
        let text = match format {
            Format::Table => self.table(width),
            Format::Json => crate::output::json_pretty(&self.json()).unwrap_or_default(),
        };
        if let Err(failure) = write_stdout(&text) {
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

    /// `(field, one value per provider)`, in the model's field order.
    fn rows(&self) -> Vec<(String, Vec<Option<Value>>)> {
        let spaces: Vec<Option<&Space>> = self.answers.iter().map(|(_, answer)| answer.as_ref().ok()).collect();
        rows_of(&spaces)
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
        let fields: Vec<Value> = self
            .rows()
            .into_iter()
            .map(|(field, values)| {
                let differs = differs(&values);
                let values: Map<String, Value> = providers
                    .iter()
                    .zip(values)
                    .map(|(provider, value)| ((*provider).to_owned(), value.unwrap_or(Value::Null)))
                    .collect();
                json!({ "field": field, "values": values, "differs": differs })
            })
            .collect();
        json!({ "id": self.id, "providers": providers, "errors": errors, "fields": fields })
    }

    fn table(&self, width: usize) -> String {
        let mut header = vec!["field".to_owned()];
        header.extend(self.answers.iter().map(|(provider, _)| provider.to_string()));
        let status = self
            .answers
            .iter()
            .map(|(_, answer)| if answer.is_ok() { "ok".to_owned() } else { "FAILED (see below)".to_owned() });
        let mut rows =
            vec![Row { marked: false, cells: std::iter::once("(answer)".to_owned()).chain(status).collect() }];
        for (field, values) in self.rows() {
            let marked = differs(&values);
            let cells = values.iter().map(|value| cell(value.as_ref()));
            rows.push(Row { marked, cells: std::iter::once(field).chain(cells).collect() });
        }
        let intro = format!(
            "Space {} — one column per provider; `*` marks fields whose values differ, `—` means not provided.",
            self.id
        );
        format!("{}\n{}", table::fill(&intro, width), table::render(&header, &rows, width))
    }
}

/// Values differ when two providers gave different non-null values.
fn differs(values: &[Option<Value>]) -> bool {
    let present: Vec<&Value> = values.iter().flatten().collect();
    present.windows(2).any(|pair| pair[0] != pair[1])
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
/// [`Space::fields`] walks them, `provider` aside, shown as in [`rows_of`].
pub fn flatten(space: &Space) -> Map<String, Value> {
    rows_of(&[Some(space)])
        .into_iter()
        .map(|(field, mut values)| (field, values.pop().flatten().unwrap_or(Value::Null)))
        .collect()
}

/// `(field, one value per Space)` (`None` for a Space that is not there, or
/// a value it lacks): every field but `provider`, in the model's order,
/// `creator.*` and `settings.*` member by member, except that a group no
/// Space has is one row under its own name (`settings`), not one empty row
/// per member.
fn rows_of(spaces: &[Option<&Space>]) -> Vec<(String, Vec<Option<Value>>)> {
    let groups: Vec<&str> = spaces
        .iter()
        .flatten()
        .flat_map(|space| space.fields())
        .filter(|(field, value)| field.member().is_some() && !value.is_absent())
        .map(|(field, _)| field.key())
        .collect();
    let mut rows: Vec<(String, Vec<Option<Value>>)> = Vec::new();
    for &field in Field::ALL.iter().filter(|&&field| field != Field::Provider) {
        if field.member().is_some() && !groups.contains(&field.key()) {
            if rows.last().is_none_or(|(name, _)| name != field.key()) {
                rows.push((field.key().to_owned(), vec![None; spaces.len()]));
            }
            continue;
        }
        let values = spaces.iter().map(|space| space.and_then(|space| shown(space.field(field)))).collect();
        rows.push((field.to_string(), values));
    }
    rows
}

/// A value as a row shows it: as in the Space's JSON, but lists of users
/// and topics as their handles and names; `None` when absent.
fn shown(value: FieldValue<'_>) -> Option<Value> {
    match value {
        FieldValue::Absent => None,
        FieldValue::Users(users) => {
            Some(users.iter().map(|user| user.username.clone().map_or(Value::Null, Value::String)).collect())
        }
        FieldValue::Topics(topics) => Some(topics.iter().map(|topic| Value::String(topic.name.clone())).collect()),
        other => serde_json::to_value(other).ok(),
    }
}

#[cfg(test)]
mod tests {
    use spaces::Provider;
    use spaces_mock::{DEMO_SPACE_ID, recorded_space};

    use super::Comparison;

    fn every_provider() -> Comparison {
        let answers = Provider::ALL
            .iter()
            .map(|&provider| (provider, spaces::decode(provider, recorded_space(provider).as_bytes())))
            .collect();
        Comparison { id: DEMO_SPACE_ID.to_owned(), answers }
    }

    #[test]
    fn the_table_fits_the_width_and_every_row_starts_with_its_field() {
        let comparison = every_provider();
        let fields: Vec<String> = comparison.rows().into_iter().map(|(field, _)| field).collect();
        assert!(fields.len() > 20, "{fields:?}");
        for width in [80, 100, 160, 250] {
            let table = comparison.table(width);
            for line in table.lines() {
                assert!(line.chars().count() <= width, "{} > {width}: {line}\n{table}", line.chars().count());
            }
            for field in &fields {
                assert!(
                    table.lines().any(|line| line.get(2..).is_some_and(|rest| rest.starts_with(&format!("{field} ")))),
                    "no row starts with {field} at {width}:\n{table}"
                );
            }
            assert!(table.lines().any(|line| line.starts_with("* ")), "{table}");
        }
    }

    #[test]
    fn a_wide_table_keeps_each_value_on_one_line() {
        let table = every_provider().table(250);
        assert!(table.contains("The Algorithm goes open source"), "{table}");
    }
}
