//! What every generated client does around each HTTP exchange: strip
//! progenitor's `api-version` header, cap the response body, report the
//! response status and headers to a caller that asks for them, and, on
//! request ([`observe_recording`]), tape the exchange as it
//! went over the wire (request line, kept headers, raw body).
//!
//! The status and headers matter because progenitor drops them when a body
//! does not decode (`Error::InvalidResponsePayload`): a 502 with an HTML page,
//! or a 429 with a plain-text body, would otherwise lose the very facts
//! (status, `Retry-After`) a caller needs to react.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::Limited;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, RETRY_AFTER};
use reqwest::{Method, Request, Response, StatusCode, Url};

/// The body cap applied when [`observe`] is given none: large enough for any
/// Space (real ones are a few kilobytes), small enough to refuse a runaway body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The prefix of the rate-limit headers kept from successful responses.
const RATE_LIMIT_PREFIX: &str = "x-rate-limit-";

/// The status line and headers of the last response seen inside [`observe`].
#[derive(Clone, Debug)]
pub struct ResponseHead {
    /// The response status.
    pub status: StatusCode,
    /// The response headers; of a success, only `x-rate-limit-*`.
    pub headers: HeaderMap,
}

struct Exchange {
    max_body_bytes: usize,
    head: Mutex<Option<ResponseHead>>,
    /// Present only under [`observe_recording`].
    tape: Option<Tape>,
}

// Why a task-local: progenitor's `ClientHooks::exec` sees only the generated
// `Client` and the request, and one `Client` serves many concurrent calls,
// so neither a per-call body cap nor a slot for that call's response head
// can travel through it. `observe` scopes both to the one call's future and
// `execute` reads them back; this module is the only place that knows.
tokio::task_local! {
    static EXCHANGE: Arc<Exchange>;
}

/// Runs one generated-client call with a response body cap, and returns the
/// head of the response it received (if any) beside its result.
///
/// A body over `max_body_bytes` fails while it streams, as a body error whose
/// source chain holds an [`http_body_util::LengthLimitError`]; it is never
/// buffered whole.
pub async fn observe<F: Future>(max_body_bytes: usize, call: F) -> (F::Output, Option<ResponseHead>) {
    scoped(max_body_bytes, None, call).await
}

/// [`observe`], and also tapes the exchange: the request's method and
/// URL, the response's status and the headers worth keeping
/// (`content-type`, `x-rate-limit-*`, `retry-after`: never a cookie or
/// an auth header), and the body bytes exactly as received (bounded by
/// `max_body_bytes`, like the body itself). Read the [`Tape`] once the
/// response body has been read: progenitor reads it during `call`, but an
/// `UnexpectedResponse` body is read by whoever handles the error, after
/// this returns.
pub async fn observe_recording<F: Future>(max_body_bytes: usize, call: F) -> (F::Output, Option<ResponseHead>, Tape) {
    let tape = Tape::default();
    let (output, head) = scoped(max_body_bytes, Some(tape.clone()), call).await;
    (output, head, tape)
}

/// Runs `call` with its exchange slot in scope, and takes the head it saw.
async fn scoped<F: Future>(max_body_bytes: usize, tape: Option<Tape>, call: F) -> (F::Output, Option<ResponseHead>) {
    let exchange = Arc::new(Exchange { max_body_bytes, head: Mutex::new(None), tape });
    let output = EXCHANGE.scope(Arc::clone(&exchange), call).await;
    let head = exchange.head.lock().unwrap_or_else(PoisonError::into_inner).take();
    (output, head)
}

/// The headers `keep` selects, copied.
fn kept_headers(headers: &HeaderMap, keep: impl Fn(&HeaderName) -> bool) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, value) in headers.iter().filter(|(name, _)| keep(name)) {
        kept.append(name.clone(), value.clone());
    }
    kept
}

/// One exchange as it went over the wire, filled in while it happens (see
/// [`observe_recording`]). Cheap to clone: clones share it.
#[derive(Clone, Debug, Default)]
pub struct Tape(Arc<Mutex<Taped>>);

#[derive(Debug, Default)]
struct Taped {
    request: Option<(Method, Url)>,
    response: Option<(StatusCode, HeaderMap)>,
    body: Vec<u8>,
    /// The body was read to its end.
    complete: bool,
    /// The body was longer than the cap (so `body` holds only its start).
    overflow: bool,
}

impl Tape {
    /// The exchange: the request (method and URL; no header, no body) and
    /// the response (status, kept headers, the raw body). `None` when no
    /// response came, or its body was not read whole (cut off, over the
    /// cap, or not read yet).
    pub fn take(&self) -> Option<(http::Request<()>, http::Response<Vec<u8>>)> {
        let mut taped = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !taped.complete || taped.overflow {
            return None;
        }
        let (method, url) = taped.request.clone()?;
        let (status, headers) = taped.response.take()?;
        let mut request = http::Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = url.as_str().parse().ok()?;
        let mut response = http::Response::new(std::mem::take(&mut taped.body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Some((request, response))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Taped> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a response header is kept on a [`Tape`]: what a reader of the
/// capture needs (the body's type, the rate-limit budget, when to retry),
/// nothing that could be a credential.
fn taped_header(name: &HeaderName) -> bool {
    *name == CONTENT_TYPE || *name == RETRY_AFTER || name.as_str().starts_with(RATE_LIMIT_PREFIX)
}

/// A response body that copies each data frame onto a [`Tape`] as it passes
/// (at most `max_bytes` of it) and notes whether it reached its end.
struct Tee {
    inner: reqwest::Body,
    tape: Tape,
    max_bytes: usize,
}

impl http_body::Body for Tee {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let ended = self.inner.is_end_stream();
                let mut taped = self.tape.lock();
                if let Some(data) = frame.data_ref() {
                    let room = self.max_bytes.saturating_sub(taped.body.len());
                    if data.len() > room {
                        taped.overflow = true;
                    }
                    taped.body.extend_from_slice(&data[..data.len().min(room)]);
                }
                taped.complete |= ended;
            }
            Poll::Ready(None) => self.tape.lock().complete = true,
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Implements `progenitor_client::ClientHooks` for one generated module's
/// `Client` (the impl must live in this crate, by the orphan rule). Every
/// provider's client behaves the same way: the behaviour lives once, here.
/// The generated `lib.rs` invokes it once per module.
macro_rules! client_hooks {
    ($provider:ident) => {
        impl ::progenitor_client::ClientHooks for $crate::$provider::Client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                _info: &::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), ::progenitor_client::Error<E>> {
                $crate::exchange::strip_api_version(request);
                Ok(())
            }

            async fn exec(
                &self,
                request: ::reqwest::Request,
                _info: &::progenitor_client::OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                $crate::exchange::execute(&self.client, request).await
            }
        }
    };
}

pub(crate) use client_hooks;

/// progenitor sends `api-version: <info.version>` on every request; the
/// providers have no use for it, so it does not go on the wire.
pub(crate) fn strip_api_version(request: &mut Request) {
    request.headers_mut().remove("api-version");
}

pub(crate) async fn execute(client: &reqwest::Client, request: Request) -> reqwest::Result<Response> {
    let Ok(exchange) = EXCHANGE.try_with(Arc::clone) else {
        // Not inside `observe`: behave exactly as progenitor's default hook.
        return client.execute(request).await;
    };
    if let Some(tape) = &exchange.tape {
        tape.lock().request = Some((request.method().clone(), request.url().clone()));
    }
    let response = client.execute(request).await?;
    // An error's headers all matter (`Retry-After`, rate-limit resets); of a
    // success's, only the rate-limit budget (`x-rate-limit-*`), which a
    // client reads on every response to stop before it is refused. The rest
    // is not copied, to keep the common path lean.
    let status = response.status();
    let headers = if status.is_success() {
        kept_headers(response.headers(), |name| name.as_str().starts_with(RATE_LIMIT_PREFIX))
    } else {
        response.headers().clone()
    };
    let head = ResponseHead { status, headers };
    *exchange.head.lock().unwrap_or_else(PoisonError::into_inner) = Some(head);
    if let Some(tape) = &exchange.tape {
        // Recording: every body goes through the tee (and, as below, through
        // the cap when its length is unknown or too large).
        let kept = kept_headers(response.headers(), taped_header);
        tape.lock().response = Some((status, kept));
        let counted = response.content_length().is_none_or(|length| length > exchange.max_body_bytes as u64);
        let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        let tee = reqwest::Body::wrap(Tee { inner: body, tape: tape.clone(), max_bytes: exchange.max_body_bytes });
        let body = if counted { reqwest::Body::wrap(Limited::new(tee, exchange.max_body_bytes)) } else { tee };
        return Ok(Response::from(http::Response::from_parts(parts, body)));
    }
    // A declared length within the cap needs no counting: hyper never reads
    // past Content-Length. Bodies without one (chunked), or declaring more,
    // are counted while they stream and cut off at the cap.
    if response.content_length().is_some_and(|length| length <= exchange.max_body_bytes as u64) {
        return Ok(response);
    }
    let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let limited = reqwest::Body::wrap(Limited::new(body, exchange.max_body_bytes));
    Ok(Response::from(http::Response::from_parts(parts, limited)))
}
