//! What the test modules share: paths, the fixtures (read once per run),
//! spec examples, JSON edits, test clients and servers.
//!
//! Nothing here names a provider: whatever a helper needs to know about one
//! comes from [`Provider::info`] (its spec's facts and examples) or from its
//! recorded Space ([`spaces_mock::recorded_space`]), so every helper works
//! for any registered provider.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Map, Value};
use spaces::spec::generated::Example;
use spaces::{Client, ClientBuilder, Provider, RetryPolicy, Token};
use wiremock::{MockServer, ResponseTemplate};

/// A token recognizable anywhere it might leak.
pub const TEST_TOKEN: &str = "tok-SECRET-4242-do-not-print";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_path_buf()
}

// ---------------------------------------------------------------------------
// Fixtures

/// One `tests/fixtures/<provider>/<name>.json`.
#[derive(Debug)]
pub struct Fixture {
    pub provider: Provider,
    /// The file name, `doc-ended.json`.
    pub name: String,
    /// The raw body, as stored.
    pub body: Vec<u8>,
    /// The body parsed as JSON (every fixture is JSON, even the bad ones).
    pub json: Value,
}

/// Every fixture of every provider, sorted by provider then name: read and
/// parsed once per test run, however many tests (or proptest cases) use them.
pub fn fixtures() -> &'static [Fixture] {
    static FIXTURES: LazyLock<Vec<Fixture>> = LazyLock::new(|| {
        let mut all = Vec::new();
        for &provider in Provider::ALL {
            let directory = workspace_root().join("tests/fixtures").join(provider.as_str());
            let Ok(entries) = std::fs::read_dir(&directory) else { continue };
            let mut paths: Vec<PathBuf> = entries
                .map(|entry| entry.expect("fixture directory entry").path())
                .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
                .collect();
            paths.sort();
            for path in paths {
                let body = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                let json = serde_json::from_slice(&body)
                    .unwrap_or_else(|error| panic!("{}: fixtures are JSON: {error}", path.display()));
                let name = path.file_name().expect("file name").to_string_lossy().into_owned();
                all.push(Fixture { provider, name, body, json });
            }
        }
        all
    });
    &FIXTURES
}

/// The fixture `tests/fixtures/<provider>/<name>`.
///
/// # Panics
///
/// When there is no such fixture.
pub fn fixture(provider: Provider, name: &str) -> &'static Fixture {
    fixtures()
        .iter()
        .find(|fixture| fixture.provider == provider && fixture.name == name)
        .unwrap_or_else(|| panic!("no fixture tests/fixtures/{provider}/{name}"))
}

// ---------------------------------------------------------------------------
// Spec examples and JSON edits

/// The example called `name` of the provider's Space lookup in its spec.
/// Every spec has `not_found` and `unauthorized` ones.
///
/// # Panics
///
/// When the spec has no such example.
pub fn example(provider: Provider, name: &str) -> &'static Example {
    let lookup = provider.info().lookup;
    lookup.examples.iter().find(|example| example.name == name).unwrap_or_else(|| {
        panic!("{}: operation `{}` has no example `{name}`", provider.info().spec.file, lookup.operation_id)
    })
}

/// The object that holds the Space itself in a provider's body: the object
/// with an `id` member nearest to the root (X's and the envelopes' `data`,
/// SocialData's top level), not a user's or a topic's.
///
/// # Panics
///
/// When no object in `body` has an `id`.
pub fn space_object(body: &mut Value) -> &mut Map<String, Value> {
    let pointer = member_pointer(body, "id").unwrap_or_else(|| panic!("no `id` member anywhere in {body}"));
    let parent = pointer.rsplit_once('/').map_or("", |(parent, _)| parent).to_owned();
    body.pointer_mut(&parent).and_then(Value::as_object_mut).expect("the pointer leads to an object")
}

/// The JSON pointer of the member named `key` nearest to the root (the
/// first one in document order at the shallowest depth), if any.
pub fn member_pointer(value: &Value, key: &str) -> Option<String> {
    let mut level = vec![(String::new(), value)];
    while !level.is_empty() {
        let mut next = Vec::new();
        for (at, node) in level {
            match node {
                Value::Object(map) if map.contains_key(key) => return Some(format!("{at}/{}", escape(key))),
                Value::Object(map) => {
                    next.extend(map.iter().map(|(name, child)| (format!("{at}/{}", escape(name)), child)));
                }
                Value::Array(items) => {
                    next.extend(items.iter().enumerate().map(|(index, child)| (format!("{at}/{index}"), child)));
                }
                _ => {}
            }
        }
        level = next;
    }
    None
}

/// A key as a JSON pointer segment.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `body` with the member named `key` nearest to the root (wherever the
/// provider nests it) set to `value`.
///
/// # Panics
///
/// When `body` is not JSON or has no such member.
pub fn with_member(body: &str, key: &str, value: impl Into<Value>) -> String {
    let mut json: Value = serde_json::from_str(body).expect("a JSON body");
    let pointer = member_pointer(&json, key).unwrap_or_else(|| panic!("no `{key}` member in {body:.200}"));
    *json.pointer_mut(&pointer).expect("the pointer resolves") = value.into();
    serde_json::to_string(&json).expect("JSON serializes")
}

/// The provider's recorded Space with its member `key` set to `value`.
pub fn recorded_with(provider: Provider, key: &str, value: impl Into<Value>) -> String {
    with_member(spaces_mock::recorded_space(provider), key, value)
}

/// An error answer with `status` in the provider's own error style: the
/// body of its spec's `unauthorized` example, whatever the status.
pub fn error_body(provider: Provider, status: u16) -> ResponseTemplate {
    spaces_mock::json(status, example(provider, "unauthorized").body)
}

// ---------------------------------------------------------------------------
// Clients and servers

/// A search of `query` with the given state and result count.
pub fn search(query: &str, state: spaces::SearchState, max_results: Option<u8>) -> spaces::Search {
    let search = spaces::Search::new(query).state(state);
    match max_results {
        Some(max) => search.max_results(max),
        None => search,
    }
}

/// Retries that keep tests fast: millisecond backoffs, a 10 s deadline.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        deadline: Some(Duration::from_secs(10)),
    }
}

/// A client builder for `provider` at `base_url`: the test token, a 5 s
/// timeout, fast retries, no rate limit. A test overrides what it is about
/// (each setter replaces the value set here).
pub fn test_builder(provider: Provider, base_url: impl Into<String>) -> ClientBuilder {
    Client::builder(provider)
        .token(Token::new(TEST_TOKEN))
        .base_url(base_url)
        .timeout(Duration::from_secs(5))
        .retry(fast_retries())
        .rate_limiting(spaces::RateLimiting::Off)
}

/// [`test_builder`], built.
pub fn test_client(provider: Provider, base_url: impl Into<String>) -> Client {
    build(test_builder(provider, base_url))
}

/// Builds a test client, which must build.
pub fn build(builder: ClientBuilder) -> Client {
    builder.build().expect("a test client builds")
}

/// A wiremock server giving `answer` to every request for the provider's endpoint.
pub async fn serve(provider: Provider, answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    spaces_mock::endpoint(provider).respond_with(answer).mount(&server).await;
    server
}

/// A server whose first answer for the provider's endpoint is `first`, and every later one `then`.
pub async fn serve_first_then(provider: Provider, first: ResponseTemplate, then: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    // wiremock answers with the matching mock of the lowest priority number.
    spaces_mock::endpoint(provider).respond_with(first).up_to_n_times(1).with_priority(1).mount(&server).await;
    spaces_mock::endpoint(provider).respond_with(then).mount(&server).await;
    server
}

/// The provider's API root on `server` (its spec's base path, e.g. AIsa's `/apis/v1`).
pub fn base_url(server: &MockServer, provider: Provider) -> String {
    format!("{}{}", server.uri(), spaces_mock::base_path(provider))
}

/// How a raw loopback server treats each connection.
#[derive(Clone)]
pub enum Behavior {
    /// Writes these bytes (possibly a broken HTTP message), then closes.
    Respond(Vec<u8>),
    /// Writes these bytes, then resets the connection (RST, not FIN).
    ResetAfter(Vec<u8>),
    /// Writes `head` at once, then `body` one byte per `every`.
    Drip { head: Vec<u8>, body: Vec<u8>, every: Duration },
    /// Reads the request and never answers.
    Stall,
}

/// A loopback server that treats every connection per `behavior`. Returns its base URL.
pub async fn raw_server_with(behavior: Behavior) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behavior = behavior.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8192];
                let _ = socket.read(&mut request).await;
                match behavior {
                    Behavior::Respond(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Behavior::ResetAfter(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.flush().await;
                        // Linger zero makes the close an RST. (Deprecated because a
                        // non-zero linger blocks on drop; zero never blocks.)
                        #[allow(deprecated)]
                        let _ = socket.set_linger(Some(Duration::ZERO));
                        drop(socket);
                    }
                    Behavior::Drip { head, body, every } => {
                        let _ = socket.write_all(&head).await;
                        for byte in body {
                            tokio::time::sleep(every).await;
                            if socket.write_all(&[byte]).await.is_err() {
                                return;
                            }
                        }
                    }
                    Behavior::Stall => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        drop(socket);
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// A loopback server that answers every connection with `response` and closes it.
pub async fn raw_server(response: Vec<u8>) -> String {
    raw_server_with(Behavior::Respond(response)).await
}

/// Log output captured in memory, to look for what must never be logged.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    /// A subscriber writing every event and span, down to TRACE and without
    /// colour, into this buffer.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
    }
}
