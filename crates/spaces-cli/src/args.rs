//! Argument pieces more than one command takes.

use clap::ValueEnum;
use clap::builder::TypedValueParser;
use spaces::Provider;

/// Parses a provider name; the choices shown in `--help` are every
/// registered provider, so a new provider needs no change here.
pub fn provider_parser() -> impl TypedValueParser<Value = Provider> {
    clap::builder::PossibleValuesParser::new(Provider::ALL.iter().map(|provider| provider.as_str()))
        .try_map(|name| name.parse::<Provider>())
}

/// How to print a Space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The normalized Space JSON (as `spaces convert` prints it).
    #[default]
    Json,
    /// A readable summary.
    Table,
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
