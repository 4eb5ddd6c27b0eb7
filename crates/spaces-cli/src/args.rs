//! Argument pieces more than one command takes.

use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use spaces::Provider;

/// Parses a provider name; the choices shown in `--help` are every
/// registered provider, so a new provider needs no change here.
pub fn provider_parser() -> impl TypedValueParser<Value = Provider> {
    clap::builder::PossibleValuesParser::new(Provider::ALL.iter().map(|provider| provider.as_str()))
        .try_map(|name| name.parse::<Provider>())
}

/// How Spaces are printed: the one `--format` of every command that prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON document: a Space, or one array of Spaces written as they arrive.
    Json,
    /// One Space per line, as compact JSON.
    Ndjson,
    /// For people: fitted to the terminal's width (or COLUMNS).
    Table,
    /// A header row, then one row per Space: the flat columns of `spaces export`.
    Csv,
}

impl Format {
    /// Its name, as `--format` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Table => "table",
            Format::Csv => "csv",
        }
    }
}

/// `--format` and `--fields`, as every command that prints Spaces takes them.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// json: one JSON document (a list is one array, written Space by Space as
    /// they arrive); ndjson: one Space per line; table: for people; csv: the
    /// flat columns of `spaces export` (dotted names, lists as JSON), with a
    /// header row. Default: json for one Space (`show ID`), ndjson for several
    /// (`show` with --ids-file or ids on stdin, `search`, `by-creator`), table
    /// for `compare` (whose table and json compare field by field, and whose
    /// ndjson and csv give each provider's Space). A format a command cannot
    /// print is refused (exit 2): a bulk `show` streams, so it has no table.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// With --format table or csv: the columns, comma-separated, by their flat
    /// names (e.g. `id,state,title,creator.username,participant_count`); a
    /// wrong name is refused with the list of names. `compare`'s table: the
    /// fields compared, whether or not the providers agree.
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
}

/// Parses a duration: `30s`, `10m`, `1h 30m`, `2d`, or a bare number of
/// seconds. Zero or negative is refused.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    const EXPECTED: &str = "expected a duration such as 30s, 10m or 2h (a bare number is seconds)";
    let text = text.trim();
    let duration = match text.parse::<u64>() {
        Ok(seconds) => std::time::Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text).map_err(|error| format!("{EXPECTED} ({error})"))?,
    };
    if duration.is_zero() {
        return Err("the duration must be more than zero".to_owned());
    }
    Ok(duration)
}
