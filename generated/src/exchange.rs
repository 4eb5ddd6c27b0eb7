//! What every generated client does around each HTTP exchange: strip
//! progenitor's `api-version` header, cap the response body, and report the
//! response status and headers to a caller that asks for them.
//!
//! The status and headers matter because progenitor drops them when a body
//! does not decode (`Error::InvalidResponsePayload`): a 502 with an HTML page,
//! or a 429 with a plain-text body, would otherwise lose the very facts
//! (status, `Retry-After`) a caller needs to react.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::Limited;
use reqwest::header::HeaderMap;
use reqwest::{Request, Response, StatusCode};

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
    let exchange = Arc::new(Exchange { max_body_bytes, head: Mutex::new(None) });
    let output = EXCHANGE.scope(Arc::clone(&exchange), call).await;
    let head = exchange.head.lock().unwrap_or_else(PoisonError::into_inner).take();
    (output, head)
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
    let response = client.execute(request).await?;
    let Ok(exchange) = EXCHANGE.try_with(Arc::clone) else {
        // Not inside `observe`: behave exactly as progenitor's default hook.
        return Ok(response);
    };
    // An error's headers all matter (`Retry-After`, rate-limit resets); of a
    // success's, only the rate-limit budget (`x-rate-limit-*`), which a
    // client reads on every response to stop before it is refused. The rest
    // is not copied, to keep the common path lean.
    let status = response.status();
    let headers = if status.is_success() {
        response.headers().iter().filter(|(name, _)| name.as_str().starts_with(RATE_LIMIT_PREFIX)).fold(
            HeaderMap::new(),
            |mut kept, (name, value)| {
                kept.append(name.clone(), value.clone());
                kept
            },
        )
    } else {
        response.headers().clone()
    };
    let head = ResponseHead { status, headers };
    *exchange.head.lock().unwrap_or_else(PoisonError::into_inner) = Some(head);
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
