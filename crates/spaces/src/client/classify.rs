//! Turning what a generated client returned into a [`Space`] or an [`Error`]
//! a caller can act on.

use std::time::{Duration, SystemTime};

use progenitor_client::{Error as ApiError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use spaces_generated::ResponseHead;

use super::retry::retry_after;
use super::token::Token;
use crate::error::{Error, Excerpt};
use crate::model::{Provider, Space};

/// How much of an error body is kept; messages show less (see [`Excerpt`]).
const MAX_DETAIL_CHARS: usize = 1000;

/// What one provider needs to interpret its generated client's result.
pub(crate) struct Interpreter<'a> {
    pub provider: Provider,
    pub id: &'a str,
    pub token: &'a Token,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
}

impl Interpreter<'_> {
    /// `convert` turns a decoded 200 into a Space; `decode_raw` re-reads a
    /// 200 body that did not decode, to name the field at fault; `message`
    /// pulls the human-readable reason out of the provider's error body.
    pub async fn interpret<T, E>(
        &self,
        result: Result<ResponseValue<T>, ApiError<E>>,
        head: Option<ResponseHead>,
        convert: impl FnOnce(T) -> Result<Space, Error>,
        decode_raw: fn(&[u8]) -> Result<Space, Error>,
        message: impl Fn(&E) -> Option<String>,
    ) -> Result<Space, Error> {
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
        outcome.map_err(|error| self.with_id(error).redacted(self.token.expose()))
    }

    /// The error an HTTP error status stands for, whatever the body said.
    fn status_failure(&self, status: StatusCode, headers: &HeaderMap, body_text: Option<String>) -> Error {
        let provider = self.provider;
        // Redacted before it is shortened, so a cut never leaves part of the
        // token behind; shortened because bodies can be megabytes.
        let detail = body_text.map(|text| self.token.redact(&text).chars().take(MAX_DETAIL_CHARS).collect::<String>());
        let code = status.as_u16();
        match code {
            401 | 403 => Error::Unauthorized { provider, status: Some(code), detail },
            402 => Error::PaymentRequired { provider, detail },
            404 => Error::NotFound { provider, id: Some(self.id.to_owned()), detail },
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
                Error::NotFound { provider, id: Some(self.id.to_owned()), detail }
            }
            other => other,
        }
    }
}

/// Whether an error is worth retrying, and the provider's hint of when:
/// `Some(hint)` for 429 and 5xx, `None` for everything else.
pub(crate) fn retry_hint(error: &Error) -> Option<Option<Duration>> {
    match error {
        Error::RateLimited { retry_after, .. } => Some(*retry_after),
        Error::Upstream { status, .. } if *status >= 500 => Some(None),
        _ => None,
    }
}
