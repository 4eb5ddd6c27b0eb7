//! `ClientBuilder::record(dir)`: every provider response written to `dir` as
//! one capture file, the input of `cargo xtask audit` and `cargo xtask
//! fixture add`.
//!
//! The format, and the files' names, are the `spaces_capture` crate's: its
//! [`Capture`] is built here and written as it says. What is this module's is
//! what goes in: of the request only its method, path and query (never a
//! header); of the response the headers the interpreter kept
//! (`content-type`, `x-rate-limit-*`, `retry-after`; never a cookie or an
//! auth header) and the body, every echo of the token in any of them
//! replaced by `***` by the client's [`Redactor`]. A response whose body was
//! not received whole (over the body cap, or cut off) is not written: there
//! is no body to keep.
//!
//! Each file is written to a hidden temporary file in `dir`
//! (`.<name>.tmp`) and renamed into place, so a reader never sees half a
//! capture. A capture that cannot be written (a full disk) fails nothing: it
//! is logged, counted, and listed by [`Client::record_failures`](super::Client::record_failures).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use spaces_capture::{Body, Capture, Request};
pub use spaces_capture::{FORMAT as CAPTURE_FORMAT, SUFFIX as CAPTURE_SUFFIX};

use crate::error::Error;
use crate::model::Provider;
use crate::redact::Redactor;

/// The most failure messages kept (the count goes on).
const MAX_FAILURE_MESSAGES: usize = 100;

/// Where a client writes its captures, and what went wrong doing so.
#[derive(Debug)]
pub(crate) struct Recorder {
    dir: PathBuf,
    failure_count: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Recorder {
    /// Creates `dir` if missing and proves it writable (a probe file is
    /// written and removed).
    pub fn open(provider: Provider, dir: PathBuf) -> Result<Recorder, Error> {
        let failed = |detail: String| Error::RecordDir { provider, path: dir.display().to_string(), detail };
        std::fs::create_dir_all(&dir).map_err(|error| failed(format!("cannot create it: {error}")))?;
        if !dir.is_dir() {
            return Err(failed("not a directory".to_owned()));
        }
        let probe = dir.join(format!(".spaces-record-probe-{}.tmp", unique()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .and_then(|mut file| file.write_all(b"probe"));
        let _ = std::fs::remove_file(&probe);
        written.map_err(|error| failed(format!("not writable: {error}")))?;
        Ok(Recorder { dir, failure_count: AtomicU64::new(0), failures: Mutex::new(Vec::new()) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one exchange as a capture file; a failure is logged and kept, never returned.
    pub fn write(
        &self,
        provider: Provider,
        operation: &str,
        redactor: &Redactor,
        (request, response): (http::Request<()>, http::Response<Vec<u8>>),
    ) {
        let capture = capture(provider, operation, redactor, &request, &response, chrono::Utc::now());
        let name = capture.file_name(&unique());
        match write_atomically(&self.dir, &name, &capture.to_file_bytes()) {
            Ok(()) => tracing::debug!(%provider, operation, file = %name, "capture written"),
            Err(error) => {
                let message = format!("cannot write capture {}: {error}", self.dir.join(&name).display());
                tracing::warn!(%provider, operation, "{message}");
                self.failure_count.fetch_add(1, Ordering::Relaxed);
                let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
                if failures.len() < MAX_FAILURE_MESSAGES {
                    failures.push(message);
                }
            }
        }
    }

    pub fn failure_count(&self) -> u64 {
        self.failure_count.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Writes `.<name>.tmp` in `dir`, then renames it to `name`; the temporary
/// file is removed on any failure.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.tmp"));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.flush()))
        .and_then(|()| std::fs::rename(&temporary, dir.join(name)));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// 12 hex digits, unique enough that two captures never share a name.
fn unique() -> String {
    format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// One exchange as a capture, every text in it redacted.
fn capture(
    provider: Provider,
    operation: &str,
    redactor: &Redactor,
    request: &http::Request<()>,
    response: &http::Response<Vec<u8>>,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Capture {
    let text = |text: &str| redactor.text(text).into_owned();
    let uri = request.uri();
    let query = uri
        .query()
        .map(|query| {
            reqwest::Url::parse(&format!("http://query.invalid/?{query}"))
                .map(|url| url.query_pairs().map(|(name, value)| (text(&name), text(&value))).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in response.headers() {
        let value = text(&String::from_utf8_lossy(value.as_bytes()));
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    let body = match std::str::from_utf8(response.body()) {
        Ok(body) => Body::Text(text(body)),
        Err(_) => Body::Binary(redactor.bytes(response.body()).into_owned()),
    };
    Capture {
        provider: provider.as_str().to_owned(),
        operation: operation.to_owned(),
        request: Request { method: request.method().as_str().to_owned(), path: text(uri.path()), query },
        status: response.status().as_u16(),
        headers,
        received_at: received_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_keeps_the_request_line_and_redacts_the_token() {
        let mut request = http::Request::new(());
        *request.uri_mut() = "http://127.0.0.1:9/2/spaces/abc?space.fields=id%2Ctitle&t=SECRET".parse().expect("uri");
        let mut response = http::Response::new(b"{\"token\":\"SECRET\"}".to_vec());
        response.headers_mut().insert("content-type", "application/json".parse().expect("value"));
        let at = "2026-11-22T23:00:00Z".parse().expect("time");
        let capture = capture(Provider::X, "find_space_by_id", &Redactor::new("SECRET"), &request, &response, at);
        let json = serde_json::to_value(&capture).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "spaces_capture": 1, "provider": "x", "operation": "find_space_by_id",
                "request": {"method": "GET", "path": "/2/spaces/abc", "query": [["space.fields", "id,title"], ["t", "***"]]},
                "status": 200, "headers": {"content-type": "application/json"},
                "received_at": "2026-11-22T23:00:00Z", "body": "{\"token\":\"***\"}"
            })
        );
        let keys: Vec<String> = serde_json::to_string(&capture)
            .expect("text")
            .split("\":")
            .filter_map(|part| part.rsplit('"').next().map(str::to_owned))
            .take(3)
            .collect();
        assert_eq!(keys, ["spaces_capture", "provider", "operation"]);
    }

    #[test]
    fn a_body_that_is_not_utf8_is_redacted_as_bytes_and_named_by_its_time() {
        let mut request = http::Request::new(());
        *request.uri_mut() = "http://127.0.0.1:9/2/spaces/abc".parse().expect("uri");
        let response = http::Response::new(b"\xff SECRET".to_vec());
        let at = "2026-11-22T23:00:00Z".parse().expect("time");
        let capture = capture(Provider::X, "find_space_by_id", &Redactor::new("SECRET"), &request, &response, at);
        assert_eq!(capture.body, Body::Binary(b"\xff ***".to_vec()));
        assert_eq!(capture.file_name("3f9a0c1b2d4e"), "20261122T230000Z-x-find_space_by_id-3f9a0c1b2d4e.capture.json");
    }
}
