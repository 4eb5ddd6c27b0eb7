//! The one way every provider runs a generated-client call, and turns what
//! came back into a value (a Space, a list of them) or an [`Error`] a caller can act on. Shared by
//! every provider; names none.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use progenitor_client::{Error as ApiError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use spaces_generated::{ResponseHead, observe, observe_recording};

use super::BoxFuture;
use crate::error::{Error, Excerpt, MAX_RETRY_AFTER, Resource};
use crate::model::Provider;

/// Runs one generated-client call, watched by [`observe`] (body cap, status
/// kept for bodies that do not decode), and interprets it: `convert` turns
/// the decoded 200 into the value; `decode` re-reads a 200 body that did not
/// fit the generated type, to name the field at fault; `message` pulls the
/// reason out of the provider's error body.
pub(crate) fn exchange<'a, R, T, E>(
    interpreter: &'a Interpreter<'a>,
    call: impl Future<Output = Result<ResponseValue<R>, ApiError<E>>> + Send + 'a,
    convert: fn(R) -> Result<T, Error>,
    decode: fn(&[u8]) -> Result<T, Error>,
    message: fn(&E) -> Option<String>,
) -> BoxFuture<'a, T>
where
    R: Send + 'a,
    T: Send + 'a,
    E: Send + 'a,
{
    Box::pin(async move {
        let (result, head, tape) = match interpreter.record {
            None => {
                let (result, head) = observe(interpreter.max_body_bytes, call).await;
                (result, head, None)
            }
            Some(_) => {
                let (result, head, tape) = observe_recording(interpreter.max_body_bytes, call).await;
                (result, head, Some(tape))
            }
        };
        let rate = head.as_ref().map(|head| RateHeaders::read(&head.headers));
        let outcome = interpreter.interpret(result, head, convert, decode, message).await;
        // After `interpret`: it reads the body of an unexpected status itself.
        if let (Some(slot), Some(tape)) = (interpreter.record, tape) {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = tape.take();
        }
        Exchanged { outcome, rate }
    })
}

/// What one exchange gave: its outcome, and the provider's rate-limit
/// headers if the response carried any.
pub(crate) struct Exchanged<T> {
    pub outcome: Result<T, Error>,
    pub rate: Option<RateHeaders>,
}

/// The `x-rate-limit-remaining` / `x-rate-limit-reset` pair a provider
/// sends on every response (X does), read whatever the status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// When the window resets (the header is Unix seconds).
    pub reset: Option<SystemTime>,
}

impl RateHeaders {
    fn read(headers: &HeaderMap) -> RateHeaders {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        RateHeaders {
            remaining: number("x-rate-limit-remaining"),
            reset: number("x-rate-limit-reset")
                .and_then(|reset| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))),
        }
    }

    /// The window is spent: nothing more may be sent until [`reset`](Self::reset).
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// One exchange as received: the request (method, URL) and the response
/// (status, the headers worth keeping, the raw body). Nothing redacted yet.
pub(crate) type Wire = (http::Request<()>, http::Response<Vec<u8>>);

/// What one request needs to interpret its generated client's result.
pub(crate) struct Interpreter<'a> {
    pub provider: Provider,
    /// The Space id asked for, for a single lookup (a "not found" names it).
    pub id: Option<&'a str>,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// Where to put the exchange as received, when the client records them.
    pub record: Option<&'a Mutex<Option<Wire>>>,
}

impl Interpreter<'_> {
    /// `convert` turns a decoded 200 into a Space; `decode_raw` re-reads a
    /// 200 body that did not decode, to name the field at fault; `message`
    /// pulls the human-readable reason out of the provider's error body.
    async fn interpret<R, T, E>(
        &self,
        result: Result<ResponseValue<R>, ApiError<E>>,
        head: Option<ResponseHead>,
        convert: impl FnOnce(R) -> Result<T, Error>,
        decode_raw: fn(&[u8]) -> Result<T, Error>,
        message: impl Fn(&E) -> Option<String>,
    ) -> Result<T, Error> {
        if let Some(head) = &head {
            tracing::Span::current().record("status", head.status.as_u16());
        }
        let outcome = match result {
            Ok(response) => convert(response.into_inner()),
            Err(ApiError::ErrorResponse(response)) => {
                let (status, headers) = (response.status(), response.headers().clone());
                let text = message(&response.into_inner());
                Err(self.status_failure(status, &headers, text))
            }
            Err(ApiError::UnexpectedResponse(response)) => {
                let (status, headers) = (response.status(), response.headers().clone());
                match response.bytes().await {
                    Ok(body) => {
                        Err(self.status_failure(status, &headers, Some(String::from_utf8_lossy(&body).into_owned())))
                    }
                    Err(error) => Err(self.body_failure(&error)),
                }
            }
            Err(ApiError::InvalidResponsePayload(body, _)) => match head {
                // progenitor drops the status of a body that does not decode; the hooks kept it.
                Some(head) if !head.status.is_success() => Err(self.status_failure(
                    head.status,
                    &head.headers,
                    Some(String::from_utf8_lossy(&body).into_owned()),
                )),
                // A 200 that does not fit the spec: decode again, with the
                // path-tracking decoder, to name the field at fault.
                _ => decode_raw(&body),
            },
            Err(ApiError::ResponseBodyError(error)) => Err(self.body_failure(&error)),
            Err(ApiError::CommunicationError(error)) => Err(self.transport_failure(&error)),
            Err(ApiError::InvalidRequest(detail) | ApiError::Custom(detail)) => {
                Err(Error::Transport { provider: self.provider, detail: Excerpt::new(&detail) })
            }
            Err(ApiError::InvalidUpgrade(error)) => Err(self.transport_failure(&error)),
        };
        // Not redacted here: the client passes every outcome through its
        // one redaction point as soon as the exchange is over.
        outcome.map_err(|error| self.with_id(error))
    }

    /// The error an HTTP error status stands for, whatever the body said.
    fn status_failure(&self, status: StatusCode, headers: &HeaderMap, body_text: Option<String>) -> Error {
        let provider = self.provider;
        // Only the start is kept (bodies can be megabytes); the excerpt
        // remembers it was cut, so that redaction also masks a token cut in two.
        let detail = body_text.as_deref().map(Excerpt::new);
        let code = status.as_u16();
        match code {
            401 | 403 => Error::Unauthorized { provider, status: Some(code), detail },
            402 => Error::PaymentRequired { provider, detail },
            404 => Error::not_found(provider, self.id.map(str::to_owned), detail),
            429 => {
                let (retry_after, retry_at) = come_back(headers, SystemTime::now()).unzip();
                Error::RateLimited { provider, retry_after, retry_at: retry_at.flatten() }
            }
            400..=499 => {
                Error::Rejected { provider, status: Some(code), message: detail.unwrap_or_else(|| "no message".into()) }
            }
            _ => Error::Upstream {
                provider,
                status: code,
                body: detail.unwrap_or_else(|| "".into()),
                // A 503 may say when to come back, as a 429 does (RFC 9110 §10.2.3).
                retry_after: come_back(headers, SystemTime::now()).map(|(after, _)| after),
            },
        }
    }

    /// A failure while reading the body: the cap, a timeout, or a cut connection.
    fn body_failure(&self, error: &reqwest::Error) -> Error {
        let over_cap = std::iter::successors(std::error::Error::source(error), |source| source.source())
            .any(|source| source.is::<http_body_util::LengthLimitError>());
        if over_cap {
            return Error::BodyTooLarge { provider: self.provider, limit: self.max_body_bytes };
        }
        self.transport_failure(error)
    }

    /// A transport failure in words, with where it happened: the host and
    /// path, never the query (a batch's query holds 100 ids, and a URL may
    /// carry what should not be repeated on every line).
    fn transport_failure(&self, error: &reqwest::Error) -> Error {
        if error.is_timeout() {
            return Error::Timeout { provider: self.provider, after: self.request_timeout };
        }
        let cause = transport_cause(error);
        let detail = match error.url() {
            Some(url) => {
                let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
                format!("{cause} ({}{port}{})", url.host_str().unwrap_or_default(), url.path())
            }
            None => cause,
        };
        Error::Transport { provider: self.provider, detail: Excerpt::new(&detail) }
    }

    /// A "not found" of a single lookup names the id that was asked for,
    /// whatever id (or none) the provider's message names.
    fn with_id(&self, error: Error) -> Error {
        match (error, self.id) {
            (Error::NotFound { provider, resource: Resource::Space, detail, .. }, Some(asked)) => {
                Error::not_found(provider, Some(asked.to_owned()), detail)
            }
            (other, _) => other,
        }
    }
}

/// What went wrong on the connection, in words: the operating system's
/// cause where there is one (refused, reset, closed early), else the HTTP
/// stack's messages, without the URL it repeats.
fn transport_cause(error: &reqwest::Error) -> String {
    let sources = || std::iter::successors(std::error::Error::source(error), |source| source.source());
    let stage = if error.is_body() || error.is_decode() { " while reading the response body" } else { "" };
    for source in sources() {
        if let Some(io) = source.downcast_ref::<std::io::Error>() {
            let words = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused",
                std::io::ErrorKind::ConnectionReset => "connection reset by the server",
                std::io::ErrorKind::ConnectionAborted => "connection aborted",
                std::io::ErrorKind::UnexpectedEof => "connection closed early",
                std::io::ErrorKind::BrokenPipe => "connection closed by the server",
                _ => continue,
            };
            return format!("{words}{stage}");
        }
    }
    let messages: Vec<String> = sources().map(ToString::to_string).collect();
    if messages.iter().any(|message| message.contains("connection closed before message completed")) {
        return format!("connection closed before the response was complete{stage}");
    }
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_redirect() {
        "redirect refused"
    } else if stage.is_empty() {
        "request failed"
    } else {
        "cannot read the response body"
    };
    let mut words = kind.to_owned();
    for message in messages {
        if !words.contains(&message) {
            words.push_str(": ");
            words.push_str(&message);
        }
    }
    words
}

/// What the provider said about when to come back: `Retry-After` (seconds or
/// an HTTP date), else X's `x-rate-limit-reset` (epoch seconds). The wait is
/// capped at [`MAX_RETRY_AFTER`]; the time is as the provider named it.
fn come_back(headers: &HeaderMap, now: SystemTime) -> Option<(Duration, Option<DateTime<Utc>>)> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    let at = if let Some(value) = header("retry-after") {
        match value.parse::<u64>() {
            Ok(seconds) => now.checked_add(Duration::from_secs(seconds)),
            Err(_) => Some(httpdate::parse_http_date(value).ok()?),
        }
    } else {
        let reset = header("x-rate-limit-reset")?.parse::<u64>().ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))
    };
    let wait = match at {
        Some(at) => at.duration_since(now).unwrap_or_default(),
        // A number of seconds past what a clock can hold: as far as can be.
        None => Duration::MAX,
    };
    Some((wait.min(MAX_RETRY_AFTER), at.map(DateTime::<Utc>::from)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn reads_retry_after_in_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let wait = |pairs: &[(&'static str, &str)]| come_back(&headers(pairs), now).map(|(wait, _)| wait);
        assert_eq!(wait(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(wait(&[("retry-after", &date)]), Some(Duration::from_secs(30)));
        assert_eq!(wait(&[("x-rate-limit-reset", "1700000012")]), Some(Duration::from_secs(12)));
        assert_eq!(wait(&[("retry-after", "99999999999")]), Some(MAX_RETRY_AFTER));
        assert_eq!(wait(&[("retry-after", "18446744073709551615")]), Some(MAX_RETRY_AFTER));
        assert_eq!(wait(&[("retry-after", "soon")]), None);
        assert_eq!(wait(&[]), None);
    }

    #[test]
    fn a_far_reset_keeps_the_time_the_provider_named() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let far: u64 = 1_700_000_000 + 31 * 365 * 86_400;
        let (wait, at) = come_back(&headers(&[("x-rate-limit-reset", &far.to_string())]), now).expect("a reset");
        assert_eq!(wait, MAX_RETRY_AFTER);
        assert_eq!(at.map(|at| at.timestamp()), Some(far as i64));
    }
}
