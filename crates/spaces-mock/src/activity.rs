//! X's Activity API on a loopback server of its own: the subscription
//! endpoints (list, create, delete, held in memory with their tags and
//! filters) and the app-wide stream, which a test scripts line by line.
//!
//! wiremock answers a request with a whole body, and the stream never ends,
//! so this is a small HTTP/1.1 server on `127.0.0.1` (a random free port),
//! written with tokio alone. Paths, parameter rules and bodies come from
//! `specs/x.yaml` (through `spaces::spec::generated::x::SPEC`), as in the
//! rest of the mock: the events it sends are the stream's example
//! `spaces_start_prose` with the values a test asks for, the in-stream error
//! is the example `operational_disconnect`, and refusals are the spec's
//! `unauthorized` (a 401, for any token but [`DEMO_TOKEN`])
//! and `invalid_request` (a 400 naming the parameter, for a value the spec's
//! rules refuse) examples.
//!
//! [`ActivityMock::start_in_front_of`] puts it in front of a
//! [`MockProviders`]: whatever is not an Activity
//! endpoint is passed on to it, so that one X client (one base URL) finds
//! the Spaces endpoints and the Activity API together.
//!
//! What X does not document, the mock decides (and says so):
//! - a create for a subscription that already exists makes a second one (the
//!   worst case: a client that does not list first duplicates);
//! - the create answer takes the shape [`CreateShape`] says (2.167's by
//!   default); the list answers with `meta.total_subscriptions`, and with
//!   `meta.next_token` when a page is full ([`ActivityMock::page_size`]);
//! - deleting an unknown subscription answers `{"data":{"deleted":false}}`;
//! - the stream is chunked; each line goes out as one chunk, ending `\r\n`.
//!   Scripted lines wait for a connection; each connection takes them in
//!   order until [`drop_connection`](ActivityMock::drop_connection) (closed
//!   without the last chunk, as a cut connection) or
//!   [`end_stream`](ActivityMock::end_stream), and the next connection
//!   takes the rest.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use spaces::ActivityKind;
use spaces::spec::generated::{Operation, x};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::{DEMO_TOKEN, MockProviders};

/// The `operationId` of `GET /2/activity/subscriptions`.
pub const LIST: &str = "get_activity_subscriptions";
/// The `operationId` of `POST /2/activity/subscriptions`.
pub const CREATE: &str = "create_activity_subscription";
/// The `operationId` of `DELETE /2/activity/subscriptions/{subscription_id}`.
pub const DELETE: &str = "delete_activity_subscription";
/// The `operationId` of `GET /2/activity/stream`.
pub const STREAM: &str = "activity_stream";

/// The stream example the mock's events are made from.
pub const EVENT_EXAMPLE: &str = "spaces_start_prose";

/// The longest request head the mock reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The X spec's operation `operation_id`.
///
/// # Panics
///
/// When `specs/x.yaml` lacks it (`spaces-generated`'s tests check that it has all four).
pub fn operation(operation_id: &str) -> &'static Operation {
    x::SPEC.operation(operation_id).unwrap_or_else(|| panic!("specs/x.yaml has no operation `{operation_id}`"))
}

fn example_body(operation_id: &str, name: &str) -> &'static str {
    operation(operation_id)
        .example(name)
        .unwrap_or_else(|| panic!("specs/x.yaml: `{operation_id}` has no example `{name}`"))
        .body
}

/// One subscription the mock holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockSubscription {
    /// Its id, a string of digits.
    pub id: String,
    /// Its event type in dot notation.
    pub event_type: String,
    /// The user its filter follows.
    pub user_id: String,
    /// Its tag, if it has one.
    pub tag: Option<String>,
}

impl MockSubscription {
    fn json(&self) -> Value {
        let mut subscription = json!({
            "subscription_id": self.id,
            "event_type": self.event_type,
            "filter": {"user_id": self.user_id},
            "created_at": "2026-02-02T09:12:40.000Z",
            "updated_at": "2026-02-02T09:12:40.000Z",
        });
        if let Some(tag) = &self.tag {
            subscription["tag"] = json!(tag);
        }
        subscription
    }
}

/// How the mock answers a create: each shape X documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CreateShape {
    /// `{"data":{"subscription":{...}}}`, as 2.167 declares it.
    #[default]
    Nested,
    /// `{"data":[{...}],"meta":{"total_subscriptions":n}}`, the quickstart's first answer.
    List,
    /// `{"data":{...}}`, the quickstart's second answer.
    Flat,
    /// `{"data":{"subscription":{...},"total_subscriptions_for_instance_id":n},"meta":{...}}`, as 2.159 declared it.
    V2_159,
    /// `{"data":{}}`: an answer that names no subscription (the client must list to find it).
    Unnamed,
}

/// One request the mock received (stream connections included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockRequest {
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, if any.
    pub query: Option<String>,
}

/// One connection to the stream the mock accepted (a 200).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConnection {
    /// The `backfill_minutes` it asked for, if it did.
    pub backfill_minutes: Option<i64>,
}

/// How an event's payload spells its inner event type: X's payload page
/// says `start`/`end` in its prose, `spaces_start`/`spaces_end` in its
/// examples (captured from the live stream).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InnerEventType {
    /// `start`, `end`.
    #[default]
    Prose,
    /// `spaces_start`, `spaces_end`.
    Captured,
}

/// A Spaces event for the stream: the spec's example [`EVENT_EXAMPLE`]
/// with these values in place.
#[derive(Clone, Debug)]
pub struct StreamEvent {
    kind: ActivityKind,
    user_id: String,
    space_id: String,
    tag: Option<String>,
    event_uuid: Option<String>,
    inner: InnerEventType,
}

/// Distinct, negative like most of X's: each event the mock makes gets its own.
static NEXT_UUID: AtomicI64 = AtomicI64::new(-4_000_000_000_000_000_001);

impl StreamEvent {
    /// `user_id` started the Space `space_id` (`spaces.start`).
    pub fn start(user_id: &str, space_id: &str) -> Self {
        Self::new(ActivityKind::Start, user_id, space_id)
    }

    /// `user_id` ended the Space `space_id` (`spaces.end`).
    pub fn end(user_id: &str, space_id: &str) -> Self {
        Self::new(ActivityKind::End, user_id, space_id)
    }

    fn new(kind: ActivityKind, user_id: &str, space_id: &str) -> Self {
        let uuid = NEXT_UUID.fetch_add(1, Ordering::Relaxed);
        StreamEvent {
            kind,
            user_id: user_id.to_owned(),
            space_id: space_id.to_owned(),
            tag: None,
            event_uuid: Some(uuid.to_string()),
            inner: InnerEventType::default(),
        }
    }

    /// The subscription's tag (default: the example's, `spaces-watch`).
    pub fn tag(mut self, tag: &str) -> Self {
        self.tag = Some(tag.to_owned());
        self
    }

    /// The delivery's `event_uuid` (default: a new one); `None` sends none.
    pub fn uuid(mut self, event_uuid: Option<&str>) -> Self {
        self.event_uuid = event_uuid.map(str::to_owned);
        self
    }

    /// How the payload spells its inner event type (default: [`InnerEventType::Prose`]).
    pub fn inner(mut self, inner: InnerEventType) -> Self {
        self.inner = inner;
        self
    }

    /// The event as one line of the stream (without the line end).
    pub fn to_line(&self) -> String {
        let mut event: Value = serde_json::from_str(example_body(STREAM, EVENT_EXAMPLE))
            .expect("spec examples are JSON (regen wrote them)");
        let data = &mut event["data"];
        data["event_type"] = json!(self.kind.event_type());
        data["filter"]["user_id"] = json!(self.user_id);
        data["payload"]["user"]["data"]["id"] = json!(self.user_id);
        data["payload"]["broadcast_id"] = json!(self.space_id);
        data["payload"]["event_type"] = json!(match (self.inner, self.kind) {
            (InnerEventType::Prose, ActivityKind::End) => "end",
            (InnerEventType::Prose, _) => "start",
            (InnerEventType::Captured, ActivityKind::End) => "spaces_end",
            (InnerEventType::Captured, _) => "spaces_start",
        });
        if let Some(tag) = &self.tag {
            data["tag"] = json!(tag);
        }
        match &self.event_uuid {
            Some(uuid) => data["event_uuid"] = json!(uuid),
            None => {
                if let Some(data) = data.as_object_mut() {
                    data.remove("event_uuid");
                }
            }
        }
        event.to_string()
    }
}

/// What a stream connection does next.
enum Command {
    /// Sends a line (`\r\n` is added).
    Line(String),
    /// Closes the connection without the last chunk: a cut connection.
    Drop,
    /// Ends the body properly and closes.
    End,
}

struct State {
    upstream: Option<SocketAddr>,
    subscriptions: Mutex<Vec<MockSubscription>>,
    next_id: AtomicU64,
    create_shape: Mutex<CreateShape>,
    page_size: Mutex<Option<usize>>,
    refuse_backfill: AtomicBool,
    commands: mpsc::UnboundedSender<Command>,
    /// Taken by one stream connection at a time.
    scripted: tokio::sync::Mutex<mpsc::UnboundedReceiver<Command>>,
    connections: Mutex<Vec<StreamConnection>>,
    connected: watch::Sender<usize>,
    requests: Mutex<Vec<MockRequest>>,
    tasks: Mutex<Vec<AbortHandle>>,
    /// Requests answered, for `x-rate-limit-remaining`.
    answered: AtomicU64,
    started: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// X's Activity API on 127.0.0.1; see the module docs. Stops when dropped.
pub struct ActivityMock {
    address: SocketAddr,
    state: Arc<State>,
}

impl Drop for ActivityMock {
    fn drop(&mut self) {
        for task in lock(&self.state.tasks).drain(..) {
            task.abort();
        }
    }
}

impl ActivityMock {
    /// Starts the server on 127.0.0.1 with a random free port; any other
    /// path than the Activity API's is a 404.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> ActivityMock {
        Self::serve(None).await
    }

    /// Starts the server in front of `providers`: requests for anything but
    /// the Activity API are passed on to it (X's Spaces endpoints, with the
    /// same token), so one base URL serves both.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, or `providers` is not on one.
    pub async fn start_in_front_of(providers: &MockProviders) -> ActivityMock {
        Self::start_in_front_of_server(providers.server()).await
    }

    /// Starts the server in front of any mock server (a
    /// [`Lifecycle`](crate::lifecycle::Lifecycle)'s): requests for anything
    /// but the Activity API are passed on to it.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start_in_front_of_server(upstream: &wiremock::MockServer) -> ActivityMock {
        Self::serve(Some(*upstream.address())).await
    }

    async fn serve(upstream: Option<SocketAddr>) -> ActivityMock {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("a bound address");
        let (commands, scripted) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            upstream,
            subscriptions: Mutex::default(),
            next_id: AtomicU64::new(1_976_325_569_252_868_200),
            create_shape: Mutex::default(),
            page_size: Mutex::default(),
            refuse_backfill: AtomicBool::new(false),
            commands,
            scripted: tokio::sync::Mutex::new(scripted),
            connections: Mutex::default(),
            connected: watch::Sender::new(0),
            requests: Mutex::default(),
            tasks: Mutex::default(),
            answered: AtomicU64::new(0),
            started: unix_now(),
        });
        let accepting = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let connection = tokio::spawn(serve_connection(Arc::clone(&accepting), socket));
                let mut tasks = lock(&accepting.tasks);
                tasks.retain(|task| !task.is_finished());
                tasks.push(connection.abort_handle());
            }
        });
        lock(&state.tasks).push(accept.abort_handle());
        ActivityMock { address, state }
    }

    /// The base URL to give a [`spaces::ClientBuilder`] for X.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Adds a subscription, as another run or another tool made it: its id.
    pub fn add_subscription(&self, kind: ActivityKind, user_id: &str, tag: Option<&str>) -> String {
        self.state.add(kind.event_type(), user_id, tag).id
    }

    /// Adds a subscription of any event type (another tool's).
    pub fn add_other_subscription(&self, event_type: &str, user_id: &str, tag: Option<&str>) -> String {
        self.state.add(event_type, user_id, tag).id
    }

    /// Every subscription the mock holds, in creation order.
    pub fn subscriptions(&self) -> Vec<MockSubscription> {
        lock(&self.state.subscriptions).clone()
    }

    /// How the next creates are answered (default [`CreateShape::Nested`]).
    pub fn create_shape(&self, shape: CreateShape) {
        *lock(&self.state.create_shape) = shape;
    }

    /// At most `size` subscriptions per list page, whatever `max_results`
    /// asks; a full page comes with `meta.next_token`.
    pub fn page_size(&self, size: usize) {
        *lock(&self.state.page_size) = Some(size.max(1));
    }

    /// Refuses any stream connection that asks `backfill_minutes` above 0
    /// with a 400 (as a plan without backfill might).
    pub fn refuse_backfill(&self, refuse: bool) {
        self.state.refuse_backfill.store(refuse, Ordering::Relaxed);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<MockRequest> {
        lock(&self.state.requests).clone()
    }

    /// How many requests of `method` to the operation `operation_id`'s path were received.
    pub fn count(&self, method: &str, operation_id: &str) -> usize {
        let prefix = operation(operation_id).path_prefix();
        self.requests().iter().filter(|request| request.method == method && request.path.starts_with(prefix)).count()
    }

    /// Every stream connection accepted so far, in order.
    pub fn connections(&self) -> Vec<StreamConnection> {
        lock(&self.state.connections).clone()
    }

    /// Waits until `count` stream connections have been accepted.
    pub async fn wait_for_connections(&self, count: usize) {
        let mut connected = self.state.connected.subscribe();
        // The sender lives as long as `self`.
        let _ = connected.wait_for(|accepted| *accepted >= count).await;
    }

    fn command(&self, command: Command) {
        // The receiver lives in the state, as long as the sender.
        let _ = self.state.commands.send(command);
    }

    /// Sends a Spaces event on the stream.
    pub fn send_event(&self, event: &StreamEvent) {
        self.send_line(event.to_line());
    }

    /// Sends `line` as it is (a line end is added).
    pub fn send_line(&self, line: impl Into<String>) {
        self.command(Command::Line(line.into()));
    }

    /// Sends a keep-alive: a bare `\r\n`.
    pub fn send_keep_alive(&self) {
        self.send_line("");
    }

    /// Sends `{}`, the spec's example `empty_object`.
    pub fn send_empty_object(&self) {
        self.send_line(example_body(STREAM, "empty_object"));
    }

    /// Sends another subscription's event, the spec's example `other_subscription`.
    pub fn send_other_subscription(&self) {
        self.send_line(example_body(STREAM, "other_subscription"));
    }

    /// Sends the in-stream error line of the spec (`operational_disconnect`),
    /// then ends the connection, as X does.
    pub fn send_operational_disconnect(&self) {
        self.send_line(example_body(STREAM, "operational_disconnect"));
        self.end_stream();
    }

    /// Cuts the connection: closed without the body's last chunk.
    pub fn drop_connection(&self) {
        self.command(Command::Drop);
    }

    /// Ends the connection's body properly, and closes it.
    pub fn end_stream(&self) {
        self.command(Command::End);
    }
}

impl State {
    fn add(&self, event_type: &str, user_id: &str, tag: Option<&str>) -> MockSubscription {
        let subscription = MockSubscription {
            id: self.next_id.fetch_add(1, Ordering::Relaxed).to_string(),
            event_type: event_type.to_owned(),
            user_id: user_id.to_owned(),
            tag: tag.map(str::to_owned),
        };
        lock(&self.subscriptions).push(subscription.clone());
        subscription
    }

    /// X's rate-limit headers: the budget the library states, a remaining
    /// count that never reaches 0, and a reset 15 minutes after the start.
    fn rate_limit_headers(&self) -> String {
        let limit = crate::rate_limit::budget().requests.get();
        let used = self.answered.fetch_add(1, Ordering::Relaxed) % u64::from(limit - 1);
        let remaining = u64::from(limit - 1) - used;
        let reset = self.started + crate::rate_limit::budget().per.as_secs();
        format!("x-rate-limit-limit: {limit}\r\nx-rate-limit-remaining: {remaining}\r\nx-rate-limit-reset: {reset}\r\n")
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// One request, as read.
struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    /// The head as received (for passing it on).
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn query_value(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| value.to_owned())
        })
    }

    fn authorized(&self) -> bool {
        self.header("authorization") == Some(format!("Bearer {DEMO_TOKEN}").as_str())
    }

    fn wants_close(&self) -> bool {
        self.header("connection").is_some_and(|value| value.eq_ignore_ascii_case("close"))
    }
}

/// Reads one request off `socket` (`buffered` keeps what came after it).
async fn read_request(socket: &mut TcpStream, buffered: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(at) = buffered.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        if buffered.len() > MAX_HEAD_BYTES {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let read = socket.read(&mut chunk).await.ok().filter(|read| *read > 0)?;
        buffered.extend_from_slice(&chunk[..read]);
    };
    let head: Vec<u8> = buffered.drain(..head_end).collect();
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target, None),
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    while buffered.len() < length {
        let mut chunk = [0u8; 8192];
        let read = socket.read(&mut chunk).await.ok().filter(|read| *read > 0)?;
        buffered.extend_from_slice(&chunk[..read]);
    }
    let body = buffered.drain(..length).collect();
    Some(Request { method, path, query, headers, head, body })
}

/// Serves one TCP connection: requests one after the other, until one is
/// the stream (which keeps the connection) or is passed on.
async fn serve_connection(state: Arc<State>, mut socket: TcpStream) {
    let mut buffered = Vec::new();
    while let Some(request) = read_request(&mut socket, &mut buffered).await {
        lock(&state.requests).push(MockRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
        });
        let stream = operation(STREAM);
        if request.method == stream.method && request.path == stream.path {
            return serve_stream(&state, socket, &request).await;
        }
        let answer = match answer(&state, &request) {
            Some(answer) => answer,
            None => match state.upstream {
                Some(upstream) => return pass_on(upstream, socket, &request).await,
                None => Answer::json(
                    404,
                    &json!({"title": "Not Found", "detail": "not an Activity API path", "status": 404}),
                ),
            },
        };
        let close = request.wants_close();
        if write_answer(&state, &mut socket, &answer, close).await.is_err() || close {
            return;
        }
    }
}

/// A whole answer to one request.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn json(status: u16, body: &Value) -> Answer {
        Answer { status, content_type: "application/json", body: body.to_string() }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Unknown",
    }
}

async fn write_answer(state: &State, socket: &mut TcpStream, answer: &Answer, close: bool) -> std::io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: {connection}\r\n{}\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
        answer.body.len(),
        state.rate_limit_headers(),
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(answer.body.as_bytes()).await?;
    socket.flush().await
}

/// The `unauthorized` example of `operation_id`, a 401.
fn unauthorized(operation_id: &str) -> Answer {
    let example = operation(operation_id).example("unauthorized").expect("every X operation has `unauthorized`");
    let content_type = if operation_id == STREAM { "application/problem+json" } else { "application/json" };
    Answer { status: 401, content_type, body: example.body.to_owned() }
}

/// A 400 in X's invalid-request shape (the shared `invalid_request`
/// example), its one error naming `parameter` and `value`.
fn invalid_request(parameter: &str, value: &str, message: &str) -> Answer {
    let mut body: Value = serde_json::from_str(example_body(LIST, "invalid_request")).expect("JSON");
    body["errors"] = json!([{ "parameters": { parameter: [value] }, "message": message }]);
    Answer::json(400, &body)
}

/// The answer of a subscription endpoint; `None` for another path.
fn answer(state: &State, request: &Request) -> Option<Answer> {
    let list = operation(LIST);
    let create = operation(CREATE);
    let delete = operation(DELETE);
    let (operation_id, subscription_id) = if request.path == list.path && request.method == list.method {
        (LIST, None)
    } else if request.path == create.path && request.method == create.method {
        (CREATE, None)
    } else if request.method == delete.method
        && let Some(id) = request.path.strip_prefix(delete.path_prefix()).and_then(|rest| rest.strip_prefix('/'))
    {
        (DELETE, Some(id.to_owned()))
    } else {
        return None;
    };
    if !request.authorized() {
        return Some(unauthorized(operation_id));
    }
    Some(match (operation_id, subscription_id) {
        (LIST, _) => list_page(state, request),
        (DELETE, Some(id)) => delete_subscription(state, &id),
        _ => create_subscription(state, request),
    })
}

fn list_page(state: &State, request: &Request) -> Answer {
    let list = operation(LIST);
    let max_results = match request.query_value("max_results") {
        None => 100,
        Some(value) => {
            let rules = &list.param("max_results").expect("max_results").rules;
            match value.parse::<i64>() {
                Ok(number) if rules.number_fits(number) => number as usize,
                _ => {
                    return invalid_request(
                        "max_results",
                        &value,
                        "The `max_results` query parameter value is out of range",
                    );
                }
            }
        }
    };
    let offset = match request.query_value("pagination_token") {
        None => 0,
        Some(token) => match token.parse::<usize>() {
            Ok(offset) if list.param("pagination_token").is_some_and(|param| param.rules.accepts(&token)) => offset,
            _ => {
                return invalid_request(
                    "pagination_token",
                    &token,
                    "The `pagination_token` query parameter value is invalid",
                );
            }
        },
    };
    let size = lock(&state.page_size).map_or(max_results, |size| size.min(max_results));
    let all = lock(&state.subscriptions).clone();
    let total = all.len();
    if total == 0 {
        return Answer::json(200, &json!({"meta": {"total_subscriptions": 0}}));
    }
    let page: Vec<Value> = all.iter().skip(offset).take(size).map(MockSubscription::json).collect();
    let mut meta = json!({"total_subscriptions": total, "result_count": page.len()});
    if offset + size < total {
        // At least 16 characters, as the spec's rules for the token want.
        meta["next_token"] = json!(format!("{:020}", offset + size));
    }
    Answer::json(200, &json!({"data": page, "meta": meta}))
}

fn create_subscription(state: &State, request: &Request) -> Answer {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return invalid_request("body", &String::from_utf8_lossy(&request.body), "The body is not JSON");
    };
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    let Some(event_type) = text("/event_type") else {
        return invalid_request("event_type", "", "The `event_type` field is required");
    };
    let user_rules = &spaces::Provider::X.info().by_creators.expect("X has Spaces by creator").list.rules;
    let user_id = match text("/filter/user_id") {
        Some(user_id) if user_rules.accepts(user_id) => user_id,
        other => {
            return invalid_request(
                "filter.user_id",
                other.unwrap_or(""),
                "The `filter.user_id` field is not a user id",
            );
        }
    };
    let tag = text("/tag");
    if let Some(tag) = tag
        && !(1..=200).contains(&tag.chars().count())
    {
        return invalid_request("tag", tag, "The `tag` field is not 1 to 200 characters long");
    }
    let created = state.add(event_type, user_id, tag);
    let total = lock(&state.subscriptions).len();
    let subscription = created.json();
    let body = match *lock(&state.create_shape) {
        CreateShape::Nested => json!({"data": {"subscription": subscription}}),
        CreateShape::List => json!({"data": [subscription], "meta": {"total_subscriptions": total}}),
        CreateShape::Flat => json!({"data": subscription}),
        CreateShape::V2_159 => json!({
            "data": {"subscription": subscription, "total_subscriptions_for_instance_id": total},
            "meta": {"total_subscriptions": total},
        }),
        CreateShape::Unnamed => json!({"data": {}}),
    };
    Answer::json(200, &body)
}

fn delete_subscription(state: &State, id: &str) -> Answer {
    let accepted = operation(DELETE).id_param().is_some_and(|param| param.rules.accepts(id));
    if !accepted {
        return invalid_request(
            "subscription_id",
            id,
            "The `subscription_id` path parameter value is not a subscription id",
        );
    }
    let mut subscriptions = lock(&state.subscriptions);
    let before = subscriptions.len();
    subscriptions.retain(|subscription| subscription.id != id);
    let deleted = subscriptions.len() < before;
    Answer::json(200, &json!({"data": {"deleted": deleted}, "meta": {"total_subscriptions": subscriptions.len()}}))
}

/// Serves the stream on this connection: the scripted lines, one chunk
/// each, until the script drops or ends it, or the client goes away.
async fn serve_stream(state: &State, mut socket: TcpStream, request: &Request) {
    let refusal = if !request.authorized() {
        Some(unauthorized(STREAM))
    } else {
        match request.query_value("backfill_minutes") {
            None => None,
            Some(value) => {
                let rules = &operation(STREAM).param("backfill_minutes").expect("backfill_minutes").rules;
                match value.parse::<i64>() {
                    Ok(minutes) if !rules.number_fits(minutes) => Some(invalid_request(
                        "backfill_minutes",
                        &value,
                        "The `backfill_minutes` query parameter value is out of range",
                    )),
                    Ok(minutes) if minutes > 0 && state.refuse_backfill.load(Ordering::Relaxed) => Some(
                        invalid_request("backfill_minutes", &value, "Backfill is not available to this application"),
                    ),
                    Ok(_) => None,
                    Err(_) => Some(invalid_request(
                        "backfill_minutes",
                        &value,
                        "The `backfill_minutes` query parameter value is not an integer",
                    )),
                }
            }
        }
    };
    if let Some(refusal) = refusal {
        let _ = write_answer(state, &mut socket, &refusal, true).await;
        return;
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nx-twitter-streaming: true\r\n{}\r\n",
        state.rate_limit_headers()
    );
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let backfill_minutes = request.query_value("backfill_minutes").and_then(|value| value.parse().ok());
    lock(&state.connections).push(StreamConnection { backfill_minutes });
    state.connected.send_modify(|accepted| *accepted += 1);
    let mut scripted = state.scripted.lock().await;
    let mut ignored = [0u8; 1024];
    loop {
        tokio::select! {
            // A client that went away is noticed before a command is taken,
            // so that the next connection gets it.
            biased;
            read = socket.read(&mut ignored) => if !matches!(read, Ok(read) if read > 0) {
                return;
            },
            command = scripted.recv() => match command {
                Some(Command::Line(line)) => {
                    let data = format!("{line}\r\n");
                    let chunk = format!("{:x}\r\n{data}\r\n", data.len());
                    if socket.write_all(chunk.as_bytes()).await.is_err() || socket.flush().await.is_err() {
                        return;
                    }
                }
                Some(Command::End) => {
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                    let _ = socket.shutdown().await;
                    return;
                }
                Some(Command::Drop) | None => return,
            },
        }
    }
}

/// Passes a request on to `upstream` and its answer back, then closes
/// (both ways say `connection: close`, so that no connection is reused
/// across the two servers).
async fn pass_on(upstream: SocketAddr, mut socket: TcpStream, request: &Request) {
    let Ok(mut onward) = TcpStream::connect(upstream).await else { return };
    let head = String::from_utf8_lossy(&request.head);
    let mut lines: Vec<&str> = head.trim_end_matches("\r\n").split("\r\n").collect();
    lines.retain(|line| !line.to_ascii_lowercase().starts_with("connection:"));
    let head = format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n"));
    if onward.write_all(head.as_bytes()).await.is_err() || onward.write_all(&request.body).await.is_err() {
        return;
    }
    let mut answer = Vec::new();
    if onward.read_to_end(&mut answer).await.is_err() {
        return;
    }
    let Some(head_end) = answer.windows(4).position(|window| window == b"\r\n\r\n") else { return };
    let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
    let mut lines: Vec<&str> = head.split("\r\n").collect();
    lines.retain(|line| !line.to_ascii_lowercase().starts_with("connection:"));
    let head = format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n"));
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(&answer[head_end + 4..]).await;
    let _ = socket.shutdown().await;
}
