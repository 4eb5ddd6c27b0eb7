//! One async client over every provider, wrapping the generated progenitor
//! clients: auth, id validation, timeouts, retries, a rate limiter, a body
//! cap, and errors a caller can match on.

mod rate_limit;
mod retry;
mod token;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tracing::Instrument;

pub use retry::RetryPolicy;
use spaces_generated::Auth;
pub use token::Token;

use crate::error::{Error, Excerpt};
use crate::model::{Provider, Space};
use crate::providers::{Fetch, Interpreter, RateLimit};
use rate_limit::Limiter;

/// The default per-attempt request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on a response body (4 MiB; real Space bodies are a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = spaces_generated::DEFAULT_MAX_BODY_BYTES;
/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("spaces/", env!("CARGO_PKG_VERSION"));

/// Fetches Spaces from one provider.
///
/// Cheap to clone: clones share the connection pool and the rate limiter.
///
/// ```no_run
/// # async fn run() -> Result<(), spaces::Error> {
/// use spaces::{Client, Provider};
///
/// // The token comes from X_BEARER_TOKEN.
/// let client = Client::from_env(Provider::X)?;
/// let space = client.space("1jMJgLdenVjxL").await?;
/// println!("{} is {}", space.title.as_deref().unwrap_or("(untitled)"), space.state);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Provider,
    base_url: String,
    api: Box<dyn Fetch>,
    token: Token,
    retry: RetryPolicy,
    timeout: Duration,
    max_body_bytes: usize,
    limiter: Limiter,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.inner.provider)
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client for `provider`.
    pub fn builder(provider: Provider) -> ClientBuilder {
        ClientBuilder::new(provider)
    }

    /// A client with every default, its token from the provider's environment variable.
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] naming the variable to set.
    pub fn from_env(provider: Provider) -> Result<Client, Error> {
        ClientBuilder::new(provider).build()
    }

    /// The provider this client asks.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// Fetches and normalizes one Space.
    ///
    /// The id is checked first (1–13 ASCII letters or digits); a bad id
    /// sends nothing. 429 and 5xx answers are retried per the client's
    /// [`RetryPolicy`]; nothing else is.
    ///
    /// # Errors
    ///
    /// Every [`Error`] variant but `MissingToken`; each names the provider.
    pub async fn space(&self, id: &str) -> Result<Space, Error> {
        let inner = &self.inner;
        validate_id(inner.provider, id)?;
        let deadline = tokio::time::Instant::now() + inner.retry.deadline;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match tokio::time::timeout_at(deadline, self.attempt(id, attempt)).await {
                Ok(outcome) => outcome,
                Err(_) => return Err(Error::Timeout { provider: inner.provider, after: inner.retry.deadline }),
            };
            let error = match outcome {
                Ok(space) => return Ok(space),
                Err(error) => error,
            };
            if !error.is_retryable() || attempt >= inner.retry.max_attempts {
                return Err(error);
            }
            let wait = inner.retry.backoff(attempt, error.retry_after());
            if tokio::time::Instant::now() + wait >= deadline {
                // Waiting would outlast the deadline: report the real cause, not a timeout.
                return Err(error);
            }
            tracing::warn!(provider = %inner.provider, id, attempt, wait_ms = wait.as_millis() as u64, %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP exchange, rate-limited and traced.
    async fn attempt(&self, id: &str, attempt: u32) -> Result<Space, Error> {
        let inner = &self.inner;
        inner.limiter.ready().await;
        let span = tracing::info_span!(
            "spaces.request",
            provider = %inner.provider,
            id,
            attempt,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let interpreter = Interpreter {
            provider: inner.provider,
            id,
            secret: inner.token.expose(),
            request_timeout: inner.timeout,
            max_body_bytes: inner.max_body_bytes,
        };
        let exchange = async {
            let outcome = inner.api.fetch(id, &interpreter).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::Span::current().record("elapsed_ms", elapsed_ms);
            match &outcome {
                Ok(_) => tracing::debug!("space received"),
                Err(error) => tracing::debug!(%error, "request failed"),
            }
            outcome
        };
        exchange.instrument(span).await
    }
}

/// Checks a Space id before any request: 1–13 ASCII letters and digits
/// (X's pattern `^[a-zA-Z0-9]{1,13}$`).
///
/// # Errors
///
/// [`Error::InvalidId`] naming the id and what is wrong with it.
pub fn validate_id(provider: Provider, id: &str) -> Result<(), Error> {
    match crate::model::id_problem(id) {
        Some(reason) => Err(Error::InvalidId { provider, id: Excerpt::new(id), reason }),
        None => Ok(()),
    }
}

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
    rate_limit: Option<RateLimit>,
    max_body_bytes: usize,
}

impl ClientBuilder {
    fn new(provider: Provider) -> Self {
        ClientBuilder {
            provider,
            token: None,
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            rate_limit: provider.info().documented_rate_limit,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The API token. Default: the provider's environment variable
    /// ([`ProviderInfo::env_var`](crate::ProviderInfo::env_var)).
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// The API root, e.g. a mock server. Default: the provider's production
    /// root, from its spec ([`SpecFacts::server_url`](crate::generated::SpecFacts::server_url)).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Timeout of one attempt, connect to last body byte. Default [`DEFAULT_TIMEOUT`] (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`] (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retries and the overall deadline. Default [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header. Default [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The request budget; `None` turns the limiter off. Default: the
    /// provider's documented budget
    /// ([`ProviderInfo::documented_rate_limit`](crate::ProviderInfo::documented_rate_limit)):
    /// X 300 per 15 minutes, SocialData 120 per minute, none for AIsa and
    /// twitterapi.io, which document none.
    pub fn rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// The largest response body accepted; larger ones fail with
    /// [`Error::BodyTooLarge`] while streaming. Default [`DEFAULT_MAX_BODY_BYTES`].
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] when no token was given and the environment
    /// variable is unset; [`Error::Transport`] when the token cannot be a
    /// header value or the HTTP client cannot be built.
    pub fn build(self) -> Result<Client, Error> {
        let provider = self.provider;
        let token = match self.token {
            Some(token) => token,
            None => Token::from_env(provider)?,
        };
        let info = provider.info();
        // Injected once, as a default header, marked sensitive so that
        // reqwest never prints it; reqwest also drops `Authorization` on a
        // redirect to another host, and the client follows no redirect with
        // an API-key header to another host either (see `redirect_policy`).
        let (name, value) = match info.spec.auth {
            Auth::Bearer => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Auth::ApiKeyHeader(name) => {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Transport {
                    provider,
                    detail: format!("the spec's API-key header `{name}` is not a valid header name"),
                })?;
                (name, token.expose().to_owned())
            }
        };
        let mut auth = HeaderValue::from_str(&value).map_err(|_| Error::Transport {
            provider,
            detail: "the token contains characters not allowed in an HTTP header".into(),
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
            .map_err(|error| Error::Transport { provider, detail: error.to_string() })?;
        let base_url = self.base_url.as_deref().unwrap_or(info.spec.server_url).trim_end_matches('/').to_owned();
        let api = (info.connect)(&base_url, http);
        let limiter = Limiter::new(self.rate_limit);
        Ok(Client {
            inner: Arc::new(Inner {
                provider,
                base_url,
                api,
                token,
                retry: self.retry,
                timeout: self.timeout,
                max_body_bytes: self.max_body_bytes,
                limiter,
            }),
        })
    }
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
