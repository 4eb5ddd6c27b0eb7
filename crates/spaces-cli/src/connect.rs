//! Building clients from command-line options and the environment: the
//! connection options every command that talks to a provider shares.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use spaces::{Client, ClientBuilder, Provider, RateLimiting, Token};

use crate::exit::{Exit, Failure};
use crate::stderr::note;

/// The longest `--timeout` accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The largest token file read: tokens are a few hundred bytes at most, and
/// a path such as `/dev/zero` must not be read forever.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// Connection options shared by every command that asks a provider: `show`,
/// `compare`, `search` and `by-creator`.
///
/// `--base-url` and `--token-file` take `PROVIDER=VALUE` for one provider or a
/// plain `VALUE` for every provider the command asks. A value is prefixed
/// when the text before its first `=` is a provider name, so
/// `http://host/a=b` is a plain URL.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// The API root, e.g. a local mock: `x=http://127.0.0.1:8080` for one provider,
    /// a plain URL for every provider asked. Repeatable. Default: each provider's own API.
    /// An API root has no query (`?`) or fragment (`#`).
    #[arg(long = "base-url", value_name = "[PROVIDER=]URL", value_parser = Targeted::<String>::parse_url)]
    pub base_urls: Vec<Targeted<String>>,
    /// Read the token from FILE instead of the provider's environment variable:
    /// `x=FILE` for one provider, a plain FILE when only one provider is asked. Repeatable.
    /// In a file or a variable, a byte-order mark, surrounding whitespace and a
    /// leading `Bearer ` are stripped; a token shorter than 8 characters is refused.
    #[arg(long = "token-file", value_name = "[PROVIDER=]FILE", value_parser = Targeted::<PathBuf>::parse_path)]
    pub token_files: Vec<Targeted<PathBuf>>,
    /// How long one attempt may take, connect to last byte: `30s`, `1m`, `500ms`
    /// (a bare number is seconds). More than zero, at most one hour. A whole
    /// call, retries and waits included, may take twice as long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Turn off the client's rate limiter (the provider's documented budget),
    /// e.g. against a local mock or with a raised quota.
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Keep every provider response in DIR (created if missing), one JSON file each
    /// (`*.capture.json`): the request's path and query, the status, the content type
    /// and rate-limit headers, and the raw body; the token redacted, no request header.
    /// To see what a provider sent, or replay it later: `jq -r .body FILE | spaces
    /// convert --provider PROVIDER`. Attach captures to a bug report about a response.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

/// After the results: every capture the `clients` could not write (each a
/// message naming the file and the cause), as `error: recording: …`; any
/// turns a success into a failure (exit 1).
pub fn report_recording(clients: &[Client], exit: ExitCode) -> ExitCode {
    let mut failed = false;
    for client in clients {
        let messages = client.record_failures();
        let unlisted = client.record_failure_count().saturating_sub(messages.len() as u64);
        for message in &messages {
            note!("error: recording: {message}");
        }
        if unlisted > 0 {
            note!("error: recording: {}: {unlisted} more captures could not be written", client.provider());
        }
        failed |= !messages.is_empty() || unlisted > 0;
    }
    if failed && exit == ExitCode::SUCCESS { Exit::Failure.into() } else { exit }
}

/// An option value for one provider (`PROVIDER=VALUE`) or for all (`VALUE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targeted<T> {
    /// `None`: every provider the command asks.
    pub provider: Option<Provider>,
    pub value: T,
}

impl<T> Targeted<T> {
    /// Splits off a `PROVIDER=` prefix, if the text has one.
    fn split(text: &str) -> (Option<Provider>, &str) {
        match text.split_once('=') {
            Some((name, value)) => match name.parse::<Provider>() {
                Ok(provider) => (Some(provider), value),
                Err(_) => (None, text),
            },
            None => (None, text),
        }
    }
}

impl Targeted<String> {
    fn parse_url(text: &str) -> Result<Self, String> {
        let (provider, url) = Self::split(text);
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            return Err(format!(
                "expected a URL starting with http:// or https://, optionally after PROVIDER= (one of {})",
                provider_names()
            ));
        }
        // Request paths are appended to the root as text: `http://h/?a=b`
        // would send `/?a=b/2/spaces/ID`, and `#frag` would drop the path.
        if url.contains(['?', '#']) {
            return Err("an API root cannot have a query (`?`) or a fragment (`#`)".to_owned());
        }
        Ok(Targeted { provider, value: url.to_owned() })
    }
}

impl Targeted<PathBuf> {
    fn parse_path(text: &str) -> Result<Self, String> {
        let (provider, path) = Self::split(text);
        if path.is_empty() {
            return Err("expected a file name, optionally after PROVIDER=".to_owned());
        }
        Ok(Targeted { provider, value: PathBuf::from(path) })
    }
}

impl<T> fmt::Display for Targeted<T> {
    /// `x=…` or `…`: how a value is named in messages, without the value itself
    /// (a URL may carry credentials).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.provider {
            Some(provider) => write!(f, "{provider}=…"),
            None => f.write_str("…"),
        }
    }
}

fn provider_names() -> String {
    Provider::ALL.iter().map(|provider| provider.as_str()).collect::<Vec<_>>().join(", ")
}

/// Parses `--timeout`: a humantime duration (`30s`, `1m`, `500ms`, `1m 30s`)
/// or a bare number of seconds. Zero, negative, non-finite, or over an hour is
/// refused, never clamped.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    const EXPECTED: &str = "expected a duration such as 30s, 1m or 500ms (a bare number is seconds)";
    const TOO_LONG: &str = "the timeout must be at most one hour (1h)";
    let text = text.trim();
    let timeout = match text.parse::<f64>() {
        Ok(seconds) if !seconds.is_finite() => return Err(format!("not a finite duration; {EXPECTED}")),
        Ok(seconds) if seconds <= 0.0 => return Err("the timeout must be more than zero".to_owned()),
        // Refused here, before `from_secs_f64`, which panics on huge values.
        Ok(seconds) if seconds > MAX_TIMEOUT.as_secs_f64() => return Err(TOO_LONG.to_owned()),
        Ok(seconds) => Duration::from_secs_f64(seconds),
        Err(_) => humantime::parse_duration(text).map_err(|error| format!("{EXPECTED} ({error})"))?,
    };
    if timeout.is_zero() {
        return Err("the timeout must be more than zero".to_owned());
    }
    if timeout > MAX_TIMEOUT {
        return Err(TOO_LONG.to_owned());
    }
    Ok(timeout)
}

impl ConnectArgs {
    /// Providers whose token is available: their environment variable is set,
    /// or a `--token-file PROVIDER=FILE` names them. (A plain `--token-file`
    /// names no provider, so it counts for none.)
    pub fn providers_with_tokens(&self) -> Vec<Provider> {
        Provider::ALL
            .iter()
            .copied()
            .filter(|&provider| {
                self.token_files.iter().any(|file| file.provider == Some(provider)) || Token::from_env(provider).is_ok()
            })
            .collect()
    }

    /// Whether `provider` has a token to use: a `--token-file` naming it, a
    /// plain `--token-file` (which [`check`](Self::check) allows only when
    /// one provider is asked), or its environment variable.
    pub fn has_token(&self, provider: Provider) -> bool {
        self.token_files.iter().any(|file| file.provider.is_none_or(|target| target == provider))
            || Token::from_env(provider).is_ok()
    }

    /// The providers a command that asks several should ask: those `named`
    /// (each once, in the order given), or, when none is named, every
    /// provider with a token (its variable, or a `--token-file PROVIDER=FILE`).
    ///
    /// # Errors
    ///
    /// Without `named`: a usage failure for a plain `--token-file` (it names
    /// no provider); an auth failure, naming the variables, when a
    /// `--base-url PROVIDER=` is for a provider without a token or when no
    /// provider has one.
    pub fn providers_to_ask(&self, named: &[Provider]) -> Result<Vec<Provider>, Failure> {
        if !named.is_empty() {
            let mut asked: Vec<Provider> = Vec::new();
            for &provider in named {
                if !asked.contains(&provider) {
                    asked.push(provider);
                }
            }
            return Ok(asked);
        }
        if let Some(file) = self.token_files.iter().find(|file| file.provider.is_none()) {
            let message = format!(
                "`--token-file {}` names no provider; write `--token-file PROVIDER=FILE`, \
                 or choose the providers with --providers",
                file.value.display()
            );
            return Err(Failure::new(Exit::Usage, message));
        }
        let asked = self.providers_with_tokens();
        let untokened = self.base_urls.iter().find_map(|url| url.provider.filter(|target| !asked.contains(target)));
        if let Some(provider) = untokened {
            let message = format!(
                "`--base-url {provider}=…` is for {provider}, which has no token: \
                 set {} or give --token-file {provider}=FILE",
                provider.info().env_var
            );
            return Err(Failure::new(Exit::Auth, message));
        }
        if asked.is_empty() {
            let vars: Vec<&str> = Provider::ALL.iter().map(|provider| provider.info().env_var).collect();
            let message = format!(
                "no provider has a token: set one of {} or give --token-file PROVIDER=FILE (or try `spaces demo`)",
                vars.join(", ")
            );
            return Err(Failure::new(Exit::Auth, message));
        }
        Ok(asked)
    }

    /// Checks the options against the providers a command asks: a
    /// `PROVIDER=` value must name one of them (else it would be silently
    /// ignored, and a request meant for a mock would reach the real API),
    /// and a plain `--token-file` is refused when more than one is asked
    /// (it would send one provider's secret to the others).
    ///
    /// # Errors
    ///
    /// A usage failure (exit 2) saying which option is wrong.
    pub fn check(&self, asked: &[Provider]) -> Result<(), Failure> {
        let asked_names = || asked.iter().map(|provider| provider.as_str()).collect::<Vec<_>>().join(", ");
        let targets = self
            .base_urls
            .iter()
            .map(|url| ("--base-url", url.to_string(), url.provider))
            .chain(self.token_files.iter().map(|file| ("--token-file", file.to_string(), file.provider)));
        for (option, shown, provider) in targets {
            if let Some(provider) = provider.filter(|provider| !asked.contains(provider)) {
                let message = format!(
                    "`{option} {shown}` is for {provider}, which this command does not ask (it asks {})",
                    asked_names()
                );
                return Err(Failure::new(Exit::Usage, message));
            }
        }
        if asked.len() > 1
            && let Some(file) = self.token_files.iter().find(|file| file.provider.is_none())
        {
            let message = format!(
                "`--token-file {}` has no PROVIDER= prefix, so it would send one token to {}; \
                 give one `--token-file PROVIDER=FILE` per provider",
                file.value.display(),
                asked_names()
            );
            return Err(Failure::new(Exit::Usage, message));
        }
        Ok(())
    }

    /// A client for `provider`: its token from `--token-file` (one naming the
    /// provider wins over a plain one) or its environment variable, its API
    /// root from `--base-url` likewise, and the timeout and rate-limit options.
    ///
    /// # Errors
    ///
    /// A usage failure when two values of one option apply to the provider
    /// equally, an auth failure when its token is missing or unreadable.
    pub fn client(&self, provider: Provider) -> Result<Client, Failure> {
        Ok(self.builder(provider)?.build()?)
    }

    /// The [`ClientBuilder`] behind [`client`](Self::client), for a command
    /// that sets more (`show`'s `--concurrency`).
    ///
    /// # Errors
    ///
    /// As [`client`](Self::client), but for building.
    pub fn builder(&self, provider: Provider) -> Result<ClientBuilder, Failure> {
        let token = match pick(&self.token_files, provider, "--token-file")? {
            Some(path) => read_token_file(provider, path)?,
            None => Token::from_env(provider)?,
        };
        // Checked here too (the client refuses it as well) so that a token
        // file's problem names the file, not the variable.
        if let (Some(reason), Some(path)) = (token.problem(), pick(&self.token_files, provider, "--token-file")?) {
            let message = format!("{provider}: unusable token in {}: {reason}", path.display());
            return Err(Failure::new(Exit::Auth, message));
        }
        let mut builder = Client::builder(provider).token(token).timeout(self.timeout);
        if let Some(base_url) = pick(&self.base_urls, provider, "--base-url")? {
            builder = builder.base_url(base_url.clone());
        }
        if self.no_rate_limit {
            builder = builder.rate_limiting(RateLimiting::Off);
        }
        if let Some(dir) = &self.record {
            builder = builder.record(dir);
        }
        Ok(builder)
    }

    /// [`check`](Self::check)s the options, then builds a client for each provider asked.
    pub fn clients(&self, asked: &[Provider]) -> Result<Vec<Client>, Failure> {
        self.check(asked)?;
        asked.iter().map(|&provider| self.client(provider)).collect()
    }

    /// A client for each provider a command that asks several should ask,
    /// in order: those `named` that have a token (the others are skipped
    /// with a note on stderr), or every provider with a token, each keeping
    /// `concurrency` requests in flight.
    ///
    /// # Errors
    ///
    /// As [`providers_to_ask`](Self::providers_to_ask) and [`check`](Self::check);
    /// an auth failure when none of those named has a token.
    pub fn several_with_tokens(&self, named: &[Provider], concurrency: usize) -> Result<Vec<Client>, Failure> {
        let asked = self.providers_to_ask(named)?;
        self.check(&asked)?;
        let (usable, skipped): (Vec<Provider>, Vec<Provider>) =
            asked.iter().partition(|&&provider| self.has_token(provider));
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
        usable.into_iter().map(|provider| Ok(self.builder(provider)?.concurrency(concurrency).build()?)).collect()
    }
}

/// The value of a repeatable option for `provider`: the one naming it, else
/// the plain one. Two of the same kind are ambiguous.
fn pick<'a, T>(values: &'a [Targeted<T>], provider: Provider, option: &str) -> Result<Option<&'a T>, Failure> {
    let named: Vec<&Targeted<T>> = values.iter().filter(|value| value.provider == Some(provider)).collect();
    let plain: Vec<&Targeted<T>> = values.iter().filter(|value| value.provider.is_none()).collect();
    let chosen = if named.is_empty() { plain } else { named };
    match chosen.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(&one.value)),
        [first, ..] => {
            let which = match first.provider {
                Some(provider) => format!("for {provider}"),
                None => "without a PROVIDER= prefix".to_owned(),
            };
            Err(Failure::new(Exit::Usage, format!("{option} is given more than once {which}")))
        }
    }
}

/// Reads a token file. Its content is never echoed: it is a secret.
fn read_token_file(provider: Provider, path: &Path) -> Result<Token, Failure> {
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|file| file.take(MAX_TOKEN_FILE_BYTES + 1).read_to_string(&mut text));
    let message = match read {
        Ok(bytes) if bytes as u64 > MAX_TOKEN_FILE_BYTES => {
            format!(
                "{provider}: token file {} is larger than {MAX_TOKEN_FILE_BYTES} bytes; not a token",
                path.display()
            )
        }
        Ok(_) if Token::new(text.as_str()).expose().is_empty() => {
            format!("{provider}: token file {} is empty", path.display())
        }
        Ok(_) => return Ok(Token::new(text)),
        Err(error) => format!("{provider}: cannot read token file {}: {error}", path.display()),
    };
    Err(Failure::new(Exit::Auth, message))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use spaces::Provider;

    use super::{Targeted, parse_timeout};

    #[test]
    fn timeouts_are_durations_or_seconds_and_never_clamped() {
        assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_timeout("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_timeout("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("1h"), Ok(Duration::from_secs(3600)));
        for bad in
            ["0", "0s", "-1", "-1s", "inf", "NaN", "2h", "3601", "1e300", "soon", "", "5 parsecs", "0.0000000001"]
        {
            assert!(parse_timeout(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn the_default_timeout_is_the_librarys() {
        assert_eq!(parse_timeout("30s"), Ok(spaces::ClientBuilder::DEFAULT_TIMEOUT));
    }

    #[test]
    fn a_prefix_is_a_provider_name_before_the_first_equals_sign() {
        let url = |text: &str| Targeted::<String>::parse_url(text);
        assert_eq!(
            url("x=http://127.0.0.1:8080"),
            Ok(Targeted { provider: Some(Provider::X), value: "http://127.0.0.1:8080".to_owned() })
        );
        assert_eq!(url("http://h/a=b"), Ok(Targeted { provider: None, value: "http://h/a=b".to_owned() }));
        assert!(url("http://h/?a=b").is_err(), "an API root has no query");
        assert!(url("x=http://h/api#frag").is_err(), "nor a fragment");
        assert_eq!(url("HTTPS://h"), Ok(Targeted { provider: None, value: "HTTPS://h".to_owned() }));
        assert!(url("nope=http://h").is_err(), "neither a provider prefix nor a URL");
        assert!(url("x=ftp://h").is_err());
        assert!(url("127.0.0.1:8080").is_err());

        let path = |text: &str| Targeted::<std::path::PathBuf>::parse_path(text);
        assert_eq!(path("socialdata=/tmp/t").map(|t| t.provider), Ok(Some(Provider::SocialData)));
        assert_eq!(path("./a=b").map(|t| t.provider), Ok(None));
        assert!(path("x=").is_err());
    }
}
