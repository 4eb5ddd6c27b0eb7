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
