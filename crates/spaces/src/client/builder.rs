//! Configuring a [`Client`]: every setting, its default, and what `build`
//! checks before any request.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use spaces_generated::Auth;

use super::rate_limit::{Limits, RateLimiting};
use super::record::Recorder;
use super::{Client, Inner, RetryPolicy, Token};
use crate::error::{Error, Excerpt};
use crate::model::Provider;
use crate::redact::Redactor;

/// Configures a [`Client`]. Every setting has a documented default.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    provider: Provider,
    token: Option<Token>,
    base_url: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    rate_limiting: RateLimiting,
    max_body_bytes: usize,
    concurrency: usize,
    record: Option<PathBuf>,
}

impl ClientBuilder {
    /// The default per-attempt request timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default cap on a response body (4 MiB; real Space bodies are a few KiB).
    pub const DEFAULT_MAX_BODY_BYTES: usize = spaces_generated::DEFAULT_MAX_BODY_BYTES;
    /// The default number of requests in flight at once.
    pub const DEFAULT_CONCURRENCY: usize = 4;
    /// The default `User-Agent`.
    pub const DEFAULT_USER_AGENT: &str = concat!("spaces/", env!("CARGO_PKG_VERSION"));

    pub(super) fn new(provider: Provider) -> Self {
        ClientBuilder {
            provider,
            token: None,
            base_url: None,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: Self::DEFAULT_USER_AGENT.to_owned(),
            rate_limiting: RateLimiting::Documented,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            concurrency: Self::DEFAULT_CONCURRENCY,
            record: None,
        }
    }

    /// The API token. Default: the provider's environment variable
    /// ([`ProviderInfo::env_var`](crate::spec::ProviderInfo::env_var)).
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// The API root, e.g. a mock server. Default: the provider's production
    /// root, from its spec ([`SpecFacts::server_url`](crate::spec::SpecFacts::server_url)).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Timeout of one attempt, connect to last body byte. Default [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT) (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT) (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retries and the overall deadline. Default [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header. Default [`DEFAULT_USER_AGENT`](Self::DEFAULT_USER_AGENT).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Which request budgets the client keeps to. Default
    /// [`RateLimiting::Documented`]: the provider's documented budgets
    /// ([`ProviderInfo::budgets`](crate::spec::ProviderInfo::budgets)): X 300 per 15
    /// minutes for each endpoint, and 1 per second more for Spaces by
    /// creator; SocialData 120 per minute in all; none for AIsa and
    /// twitterapi.io, which document none. Whatever the choice, a window the
    /// provider reports spent (`x-rate-limit-remaining: 0`) is waited out.
    pub fn rate_limiting(mut self, rate_limiting: RateLimiting) -> Self {
        self.rate_limiting = rate_limiting;
        self
    }

    /// The most requests the client has in flight at once, over all its
    /// calls and streams together (default 4, at least 1); bulk lookups
    /// keep that many busy.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The largest response body accepted; larger ones fail with
    /// [`Error::BodyTooLarge`] while streaming. Default [`DEFAULT_MAX_BODY_BYTES`](Self::DEFAULT_MAX_BODY_BYTES).
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Writes every provider response to `dir` as one capture file
    /// (`<time>-<provider>-<operation>-<unique>.capture.json`): the request's
    /// method, path and query, the status, the headers that matter
    /// (`content-type`, `x-rate-limit-*`, `retry-after`) and the raw body,
    /// every echo of the token in it replaced by `***`. No request header is
    /// ever written. Default: nothing is recorded.
    ///
    /// `dir` is created if missing; [`build`](Self::build) fails with
    /// [`Error::RecordDir`] when it cannot be created or written. Each file
    /// is written whole or not at all (a temporary file, renamed); one that
    /// cannot be written is logged and listed by
    /// [`Client::record_failures`], and never fails its request. These files
    /// are what `cargo xtask audit` checks against the specs and what
    /// `cargo xtask fixture add` turns into test fixtures.
    ///
    /// The format (version [`CAPTURE_FORMAT`](crate::CAPTURE_FORMAT)), one JSON object per file:
    ///
    /// ```json
    /// {"spaces_capture": 1, "provider": "x", "operation": "find_space_by_id",
    ///  "request": {"method": "GET", "path": "/2/spaces/1jMJgLdenVjxL", "query": [["space.fields", "..."]]},
    ///  "status": 200, "headers": {"content-type": "application/json", "x-rate-limit-remaining": "299"},
    ///  "received_at": "2026-11-22T23:00:00Z", "body": "<the raw body text>"}
    /// ```
    ///
    /// `body_base64` replaces `body` when the body is not UTF-8. A response
    /// whose body was not received whole (over the body cap, or cut off) is
    /// not written.
    pub fn record(mut self, dir: impl Into<PathBuf>) -> Self {
        self.record = Some(dir.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] when no token was given and the environment
    /// variable is unset; [`Error::InvalidToken`] when the token is shorter
    /// than [`Token::MIN_CHARS`] or holds characters
    /// a header cannot carry ([`Token::problem`]); [`Error::InvalidArgument`]
    /// when the [`base_url`](Self::base_url) is not an http(s) URL or has a
    /// query or fragment; [`Error::Transport`] when the HTTP client cannot be
    /// built; [`Error::RecordDir`] when the [`record`](Self::record)
    /// directory cannot be created or written.
    pub fn build(self) -> Result<Client, Error> {
        let provider = self.provider;
        let token = match self.token {
            Some(token) => token,
            None => Token::from_env(provider)?,
        };
        token.check(provider)?;
        let info = provider.info();
        let base_url = base_url(provider, self.base_url.as_deref().unwrap_or(info.spec.server_url))?;
        // Injected once, as a default header, marked sensitive so that
        // reqwest never prints it; reqwest also drops `Authorization` on a
        // redirect to another host, and the client follows no redirect with
        // an API-key header to another host either (see `redirect_policy`).
        let (name, value) = match info.spec.auth {
            Auth::Bearer => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Auth::ApiKeyHeader(name) => {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Transport {
                    provider,
                    detail: format!("the spec's API-key header `{name}` is not a valid header name").into(),
                })?;
                (name, token.expose().to_owned())
            }
        };
        // `token.check` above refused what a header cannot carry.
        let mut auth = HeaderValue::from_str(&value).map_err(|_| Error::InvalidToken {
            provider,
            env_var: info.env_var,
            reason: "it holds characters an HTTP header cannot carry",
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(name, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(self.user_agent)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .redirect(redirect_policy(info.spec.auth))
            .build()
            .map_err(|error| Error::Transport { provider, detail: Excerpt::new(&error.to_string()) })?;
        let api = (info.connect)(&base_url, http);
        let limits = Limits::new(info, self.rate_limiting);
        let recorder = self.record.map(|dir| Recorder::open(provider, dir)).transpose()?;
        Ok(Client {
            inner: Arc::new(Inner {
                provider,
                base_url,
                api,
                redactor: Redactor::new(token.expose()),
                token,
                deadline: self.retry.deadline_for(self.timeout),
                retry: self.retry,
                timeout: self.timeout,
                max_body_bytes: self.max_body_bytes,
                concurrency: self.concurrency,
                in_flight: tokio::sync::Semaphore::new(self.concurrency),
                limits,
                recorder,
            }),
        })
    }
}

/// The API root requests are sent under, without a trailing slash. A query
/// or a fragment cannot be part of it: the path of each request is appended
/// to the root as text, so `http://h/?a=b` would send `/?a=b/2/spaces/ID`.
fn base_url(provider: Provider, url: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidArgument {
        provider,
        name: "base URL",
        value: Excerpt::new(url),
        reason: reason.into(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(invalid("only http:// and https:// URLs are API roots"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || url.contains(['?', '#']) {
        return Err(invalid("an API root cannot have a query (`?`) or a fragment (`#`)"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Follows up to 10 redirects, like reqwest's default, except that a token
/// in a custom header is never sent to another host: reqwest strips only
/// `Authorization` on a cross-host redirect, so for API-key providers such a
/// redirect is refused (a `Transport` error saying so).
fn redirect_policy(auth: Auth) -> reqwest::redirect::Policy {
    const MAX_REDIRECTS: usize = 10;
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let origin = |url: &reqwest::Url| (url.host_str().map(str::to_owned), url.port_or_known_default());
        let same_origin = attempt.previous().first().is_none_or(|first| origin(first) == origin(attempt.url()));
        match auth {
            Auth::ApiKeyHeader(_) if !same_origin => {
                attempt.error("redirect to another host refused: it would carry the API key header")
            }
            _ => attempt.follow(),
        }
    })
}
