//! The one way every provider runs a generated-client call, and turns what
//! came back into a value (a Space, a list of them) or an [`Error`] a caller can act on. Shared by
//! every provider; names none.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use progenitor_client::{Error as ApiError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use spaces_generated::{ResponseHead, observe, observe_recording};

use super::BoxFuture;
use crate::error::{Error, Excerpt, MAX_RETRY_AFTER, redact};
use crate::model::Provider;

/// How much of an error body is kept; messages show less (see [`Excerpt`]).
const MAX_DETAIL_CHARS: usize = 1000;

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
    /// The token, only to redact echoes of it from what goes into errors.
    pub secret: &'a str,
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
                Err(Error::Transport { provider: self.provider, detail })
            }
            Err(ApiError::InvalidUpgrade(error)) => Err(self.transport_failure(&error)),
        };
        // Every error passes through here, so this one redaction covers them all.
        outcome.map_err(|error| self.with_id(error).redacted(self.secret))
    }

    /// The error an HTTP error status stands for, whatever the body said.
    fn status_failure(&self, status: StatusCode, headers: &HeaderMap, body_text: Option<String>) -> Error {
        let provider = self.provider;
        // Redacted before it is shortened, so a cut never leaves part of the
        // token behind; shortened because bodies can be megabytes.
        let detail =
            body_text.map(|text| redact(&text, self.secret).chars().take(MAX_DETAIL_CHARS).collect::<String>());
        let code = status.as_u16();
        match code {
            401 | 403 => Error::Unauthorized { provider, status: Some(code), detail },
            402 => Error::PaymentRequired { provider, detail },
            404 => Error::NotFound { provider, id: self.id.map(str::to_owned), detail },
            429 => Error::RateLimited { provider, retry_after: retry_after(headers, SystemTime::now()) },
            400..=499 => Error::Rejected {
                provider,
                status: Some(code),
                message: Excerpt::new(detail.as_deref().unwrap_or("no message")),
            },
            _ => Error::Upstream { provider, status: code, body: Excerpt::new(detail.as_deref().unwrap_or("")) },
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

    fn transport_failure(&self, error: &reqwest::Error) -> Error {
        if error.is_timeout() {
            return Error::Timeout { provider: self.provider, after: self.request_timeout };
        }
        // The whole cause chain ("error sending request: connection refused").
        let chain: Vec<String> = std::iter::successors(Some(error as &dyn std::error::Error), |source| source.source())
            .map(ToString::to_string)
            .collect();
        Error::Transport { provider: self.provider, detail: chain.join(": ") }
    }

    /// Providers that say "not found" without the id (SocialData, AIsa) get the requested one.
    fn with_id(&self, error: Error) -> Error {
        match error {
            Error::NotFound { provider, id: None, detail } => {
                Error::NotFound { provider, id: self.id.map(str::to_owned), detail }
            }
            other => other,
        }
    }
}

/// What the provider said about when to come back: `Retry-After` (seconds or
/// an HTTP date), else X's `x-rate-limit-reset` (epoch seconds). Capped at
/// [`MAX_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    let wait = if let Some(value) = header("retry-after") {
        match value.parse::<u64>() {
            Ok(seconds) => Duration::from_secs(seconds),
            Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or_default(),
        }
    } else {
        let reset = header("x-rate-limit-reset")?.parse::<u64>().ok()?;
        let reset = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))?;
        reset.duration_since(now).unwrap_or_default()
    };
    Some(wait.min(MAX_RETRY_AFTER))
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
        assert_eq!(retry_after(&headers(&[("retry-after", "7")]), now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&[("retry-after", &date)]), now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&headers(&[("x-rate-limit-reset", "1700000012")]), now), Some(Duration::from_secs(12)));
        assert_eq!(retry_after(&headers(&[("retry-after", "99999999999")]), now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[]), now), None);
    }
}
