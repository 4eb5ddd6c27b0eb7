//! `spaces compare`: one Space from several providers, field by field.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value, json};
use spaces::{Client, Provider, Space, Token};

use crate::exit::{self, Failure};
use crate::{Format, provider_parser};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The Space id.
    pub id: String,
    /// Providers to ask (comma-separated). Default: every provider whose token is set.
    #[arg(long, value_delimiter = ',', value_parser = provider_parser())]
    pub providers: Vec<Provider>,
    /// `table` for people, `json` for programs (the same rows, as data).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Seconds one attempt may take, connect to last byte.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Another API root for one provider, e.g. a local mock: `x=http://127.0.0.1:8080`. Repeatable.
    #[arg(long = "base-url", value_name = "PROVIDER=URL", value_parser = parse_base_url)]
    pub base_urls: Vec<(Provider, String)>,
}

fn parse_base_url(text: &str) -> Result<(Provider, String), String> {
    let (provider, url) = text.split_once('=').ok_or("expected PROVIDER=URL, e.g. x=http://127.0.0.1:8080")?;
    Ok((provider.parse().map_err(|error: spaces::UnknownProvider| error.to_string())?, url.to_owned()))
}

pub async fn run(args: CompareArgs) -> ExitCode {
    let providers: Vec<Provider> = if args.providers.is_empty() {
        Provider::ALL.into_iter().filter(|provider| Token::from_env(*provider).is_ok()).collect()
    } else {
        args.providers.clone()
    };
    if providers.is_empty() {
        let vars: Vec<&str> = Provider::ALL.into_iter().map(Token::env_var).collect();
        let message = format!("no provider has a token: set one of {} (or try `spaces demo`)", vars.join(", "));
        return Failure { message, code: exit::AUTH }.report();
    }
    let timeout = Duration::from_secs_f64(if args.timeout.is_finite() && args.timeout > 0.0 {
        args.timeout.min(3600.0)
    } else {
        30.0
    });
    let mut clients = Vec::new();
    for provider in providers {
        let mut builder = Client::builder(provider).timeout(timeout);
        if let Some((_, url)) = args.base_urls.iter().find(|(target, _)| *target == provider) {
            builder = builder.base_url(url.clone());
        }
        match builder.build() {
            Ok(client) => clients.push(client),
            Err(error) => return exit::report(error),
        }
    }
    let comparison = Comparison::fetch(&clients, &args.id).await;
    comparison.print(args.format)
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

    /// Prints the table or JSON; the exit code says whether any provider answered.
    pub fn print(&self, format: Format) -> ExitCode {
        let text = match format {
            Format::Table => self.table(),
            Format::Json => serde_json::to_string_pretty(&self.json()).map(|json| json + "\n").unwrap_or_default(),
        };
        if let Err(error) = std::io::stdout().lock().write_all(text.as_bytes()) {
            return Failure { message: format!("cannot write output: {error}"), code: exit::FAILURE }.report();
        }
        let failures: Vec<&spaces::Error> =
            self.answers.iter().filter_map(|(_, answer)| answer.as_ref().err()).collect();
        for failure in &failures {
            eprintln!("error: {failure}");
        }
        match failures.first() {
            Some(first) if failures.len() == self.answers.len() => ExitCode::from(exit::code_for(first)),
            _ => ExitCode::SUCCESS,
        }
    }

    /// `(field, one value per provider)`, in the model's field order.
    fn rows(&self) -> Vec<(String, Vec<Option<Value>>)> {
        let flattened: Vec<Option<Map<String, Value>>> =
            self.answers.iter().map(|(_, answer)| answer.as_ref().ok().map(flatten)).collect();
        let mut fields: Vec<String> = Vec::new();
        for map in flattened.iter().flatten() {
            for key in map.keys() {
                if !fields.contains(key) {
                    fields.push(key.clone());
                }
            }
        }
        // A group that one provider left out entirely (`settings: null`) shows
        // as its dotted rows (`settings.is_locked`), not as an extra empty row.
        let grouped: Vec<String> =
            fields.iter().filter_map(|field| field.split_once('.').map(|(group, _)| group.to_owned())).collect();
        fields.retain(|field| !grouped.contains(field));
        fields
            .into_iter()
            .map(|field| {
                let values = flattened
                    .iter()
                    .map(|map| map.as_ref().and_then(|map| map.get(&field)).cloned().filter(|value| !value.is_null()))
                    .collect();
                (field, values)
            })
            .collect()
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

    fn table(&self) -> String {
        const MAX_CELL: usize = 36;
        let mut header = vec!["field".to_owned()];
        header.extend(self.answers.iter().map(|(provider, _)| provider.to_string()));
        let mut lines: Vec<(bool, Vec<String>)> = vec![(false, header)];
        let status: Vec<String> = self
            .answers
            .iter()
            .map(|(_, answer)| if answer.is_ok() { "ok".to_owned() } else { "FAILED (see below)".to_owned() })
            .collect();
        lines.push((false, std::iter::once("(answer)".to_owned()).chain(status).collect()));
        for (field, values) in self.rows() {
            let marked = differs(&values);
            let cells = values.iter().map(|value| cell(value.as_ref(), MAX_CELL));
            lines.push((marked, std::iter::once(field).chain(cells).collect()));
        }
        let columns = lines[0].1.len();
        let widths: Vec<usize> = (0..columns)
            .map(|column| lines.iter().map(|(_, cells)| cells[column].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = format!(
            "Space {} — one column per provider; `*` marks fields whose values differ, `—` means not provided.\n\n",
            self.id
        );
        for (marked, cells) in lines {
            out.push_str(if marked { "* " } else { "  " });
            let padded: Vec<String> =
                cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// Values differ when two providers gave different non-null values.
fn differs(values: &[Option<Value>]) -> bool {
    let present: Vec<&Value> = values.iter().flatten().collect();
    present.windows(2).any(|pair| pair[0] != pair[1])
}

fn cell(value: Option<&Value>, max: usize) -> String {
    let text = match value {
        None => return "—".to_owned(),
        Some(Value::String(text)) if text.is_empty() => "\"\"".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > max { text.chars().take(max - 1).chain(['…']).collect() } else { text }
}

/// The Space as `field → value`, nested objects as dotted fields
/// (`creator.username`), lists of users and topics as their handles or names.
fn flatten(space: &Space) -> Map<String, Value> {
    let mut out = Map::new();
    if let Ok(Value::Object(fields)) = serde_json::to_value(space) {
        for (key, value) in fields {
            if key != "provider" {
                flatten_into(&mut out, key, value);
            }
        }
    }
    out
}

fn flatten_into(out: &mut Map<String, Value>, key: String, value: Value) {
    match value {
        Value::Object(fields) => {
            for (child, value) in fields {
                flatten_into(out, format!("{key}.{child}"), value);
            }
        }
        Value::Array(items) => {
            let labels = items.into_iter().map(|item| match item {
                Value::Object(object) => {
                    let label = object.get("username").or_else(|| object.get("name")).or_else(|| object.get("id"));
                    label.cloned().unwrap_or(Value::Null)
                }
                other => other,
            });
            out.insert(key, Value::Array(labels.collect()));
        }
        other => {
            out.insert(key, other);
        }
    }
}
