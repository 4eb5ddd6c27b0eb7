//! X's Activity API (`specs/x.yaml`: `/2/activity/subscriptions` and
//! `/2/activity/stream`): its calls into the generated client, and what its
//! answers and stream lines become. The connection, the reconnects and the
//! filtering of the app-wide stream are the client's (`client::activity`).
//!
//! What X's documents disagree on, and how each is read here (see
//! `specs/README.md`, "Activity"):
//! - the create answer comes in three shapes: `data.subscription`, `data` a
//!   list of one, `data` the subscription itself; the subscription is taken
//!   from wherever it is, and an answer without one is reported as such
//!   (the caller then lists to find it);
//! - the inner event type of a Spaces payload is `start`/`end` in the prose
//!   and `spaces_start`/`spaces_end` in the examples: both are accepted;
//! - `event_uuid` is a signed number in a string, kept as text.

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use progenitor_client::{ByteStream, Error as ApiError};
use reqwest::header::HeaderMap;
use spaces_generated::Operation;
use spaces_generated::x::{self, types as wire};

use super::super::{BoxFuture, Interpreter, exchange, operation};
use super::error_message;
use crate::convert::{parse_json, space_id};
use crate::error::{Error, Excerpt, Resource};
use crate::model::Provider;

const PROVIDER: Provider = Provider::X;

/// The Activity API's operations in X's spec, found at compile time.
#[derive(Debug)]
pub(crate) struct Operations {
    /// `GET /2/activity/subscriptions`.
    pub list: &'static Operation,
    /// `POST /2/activity/subscriptions`.
    pub create: &'static Operation,
    /// `DELETE /2/activity/subscriptions/{subscription_id}`.
    pub delete: &'static Operation,
    /// `GET /2/activity/stream`.
    pub stream: &'static Operation,
}

static OPERATIONS: Operations = Operations {
    list: operation(&x::SPEC, "get_activity_subscriptions"),
    create: operation(&x::SPEC, "create_activity_subscription"),
    delete: operation(&x::SPEC, "delete_activity_subscription"),
    stream: operation(&x::SPEC, "activity_stream"),
};

/// The Activity API's operations, for the provider that has them (X alone).
pub(crate) fn operations(provider: Provider) -> Option<&'static Operations> {
    (provider == PROVIDER).then_some(&OPERATIONS)
}

/// How much of an error answer to a stream connection is read: enough for
/// any Problem X sends, bounded because the stream's HTTP client has no
/// body cap and no overall timeout.
const ERROR_BODY_BYTES: usize = 16 * 1024;

/// Which Space event a subscription or an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActivityKind {
    /// A user started a Space (`spaces.start`).
    Start,
    /// A user ended a Space (`spaces.end`).
    End,
}

impl ActivityKind {
    /// Both, in the order subscriptions are made.
    pub const ALL: [ActivityKind; 2] = [ActivityKind::Start, ActivityKind::End];

    /// X's event type, in dot notation: `spaces.start`, `spaces.end`.
    pub fn event_type(self) -> &'static str {
        match self {
            ActivityKind::Start => "spaces.start",
            ActivityKind::End => "spaces.end",
        }
    }

    /// The kind of an event type in dot notation, if it is a Spaces one.
    pub fn from_event_type(event_type: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|kind| kind.event_type() == event_type)
    }

    /// The kind an inner (payload) event type names: `start` or `end` as X's
    /// payload page describes them, `spaces_start` or `spaces_end` as its
    /// examples (captured from the live stream) have them.
    fn from_inner(inner: &str) -> Option<ActivityKind> {
        match inner {
            "start" | "spaces_start" => Some(ActivityKind::Start),
            "end" | "spaces_end" => Some(ActivityKind::End),
            _ => None,
        }
    }

    fn as_wire(self) -> wire::ActivityEventType {
        match self {
            ActivityKind::Start => wire::ActivityEventType::SpacesStart,
            ActivityKind::End => wire::ActivityEventType::SpacesEnd,
        }
    }
}

impl std::fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.event_type())
    }
}

/// One of the app's Activity subscriptions, as X lists it. The app's
/// subscriptions are every tool's: any event type, any tag or none.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Subscription {
    /// Its id (a string of digits).
    pub id: String,
    /// The event type in dot notation (`spaces.start`, `spaces.end`, or
    /// another tool's `profile.update.bio`, ...).
    pub event_type: String,
    /// The user its filter follows, if it filters by user.
    pub user_id: Option<String>,
    /// Its tag, if it was given one.
    pub tag: Option<String>,
    /// When it was created, as X wrote it.
    pub created_at: Option<String>,
}

impl Subscription {
    /// The Space event it is for, if it is a Spaces subscription.
    pub fn kind(&self) -> Option<ActivityKind> {
        ActivityKind::from_event_type(&self.event_type)
    }

    /// Whether it is the subscription of `kind` for `user_id` tagged `tag`.
    pub fn is_for(&self, kind: ActivityKind, user_id: &str, tag: &str) -> bool {
        self.kind() == Some(kind) && self.user_id.as_deref() == Some(user_id) && self.tag.as_deref() == Some(tag)
    }

    /// Every text of it, through `mask` (the client's redaction).
    pub(crate) fn map_text(self, mask: impl Fn(String) -> String) -> Subscription {
        Subscription {
            id: mask(self.id),
            event_type: mask(self.event_type),
            user_id: self.user_id.map(&mask),
            tag: self.tag.map(&mask),
            created_at: self.created_at.map(&mask),
        }
    }
}

/// A Space started or ended, as the Activity stream reported it. It says
/// only which Space and whose: look the Space up (`GET /2/spaces?ids=`)
/// for its state, title and times.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ActivityEvent {
    /// Started or ended.
    pub kind: ActivityKind,
    /// The Space (the payload's `broadcast_id`), checked like any Space id.
    pub space_id: String,
    /// The user whose subscription it matched (its `filter.user_id`): the host.
    pub user_id: String,
    /// The tag of the subscription it matched.
    pub tag: String,
    /// X's id of this delivery (a signed number, as text), when it sent one.
    /// A repeated delivery may repeat it.
    pub event_uuid: Option<String>,
    /// When the line arrived: the events carry no time of their own.
    pub received_at: DateTime<Utc>,
}

impl ActivityEvent {
    /// Every text of it, through `mask` (the client's redaction).
    pub(crate) fn map_text(self, mask: impl Fn(String) -> String) -> ActivityEvent {
        ActivityEvent {
            space_id: mask(self.space_id),
            user_id: mask(self.user_id),
            tag: mask(self.tag),
            event_uuid: self.event_uuid.map(&mask),
            ..self
        }
    }
}

/// One page of the subscription list.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub subscriptions: Vec<Subscription>,
    /// The next page's token (2.159's `meta.next_token`), if there is one.
    pub next_token: Option<String>,
}

/// What one line of the stream is, once parsed. The client decides, by tag
/// and user, which events are its own.
#[derive(Debug)]
pub(crate) enum Message {
    /// `{}`, or an object with neither `data` nor `errors`: nothing.
    Empty,
    /// An in-stream error (`errors` without `data`); X closes the
    /// connection after it.
    Errors(Error),
    /// An event: whose it is (its tag and filter's user), and the Spaces
    /// event it stands for, or why it stands for none.
    Event { tag: Option<String>, user_id: Option<String>, event: Result<ActivityEvent, Error> },
    /// An event of another type than `spaces.*` (another tool's subscription).
    Other { event_type: Option<String>, tag: Option<String> },
}

/// The generated client for the Activity API's operations, on one
/// `reqwest::Client` (with the auth header; with or without an overall
/// timeout, as the client chooses: the stream's has none).
pub(crate) struct Api {
    client: x::Client,
}

impl Api {
    pub fn new(base_url: &str, http: reqwest::Client) -> Api {
        Api { client: x::Client::new_with_client(base_url, http) }
    }

    /// One page of the app's subscriptions, `max_results` at most.
    pub fn list<'a>(
        &'a self,
        max_results: Option<std::num::NonZeroU32>,
        page_token: Option<&'a str>,
        interpreter: &'a Interpreter<'a>,
    ) -> BoxFuture<'a, Page> {
        let call = self.client.get_activity_subscriptions(max_results, page_token);
        exchange(interpreter, call, page, decode_page, error_message)
    }

    /// Creates the subscription of `kind` for `user_id`, tagged `tag` (see
    /// [`request`]): the subscription the answer names, or `None` when the
    /// answer names none (X documents three shapes; the caller lists then).
    pub fn create<'a>(
        &'a self,
        body: &'a wire::ActivitySubscriptionRequest,
        interpreter: &'a Interpreter<'a>,
    ) -> BoxFuture<'a, Option<Subscription>> {
        let call = self.client.create_activity_subscription(body);
        exchange(interpreter, call, created, decode_created, error_message)
    }

    /// Deletes a subscription: whether X says it did.
    pub fn delete<'a>(&'a self, subscription_id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let call = self.client.delete_activity_subscription(subscription_id);
            let mut exchanged = exchange(interpreter, call, deleted, decode_deleted, error_message).await;
            // A 404 is about the subscription, not a Space.
            if let Err(Error::NotFound { provider, detail, .. }) = exchanged.outcome {
                exchanged.outcome = Err(Error::NotFound {
                    provider,
                    resource: Resource::Other,
                    id: Some(subscription_id.to_owned()),
                    detail,
                });
            }
            exchanged
        })
    }

    /// Opens the stream: its body, to be read line by line, once the answer
    /// is a 2xx. An error answer's body is read only up to
    /// [`ERROR_BODY_BYTES`], whatever its status, and the stream's body is
    /// neither capped nor recorded (it never ends): this runs with an
    /// interpreter of its own.
    pub fn connect<'a>(
        &'a self,
        backfill_minutes: Option<u8>,
        interpreter: &'a Interpreter<'a>,
    ) -> BoxFuture<'a, ByteStream> {
        Box::pin(async move {
            let endless = Interpreter {
                provider: interpreter.provider,
                id: None,
                request_timeout: interpreter.request_timeout,
                max_body_bytes: usize::MAX,
                record: None,
            };
            let call = async {
                let backfill = backfill_minutes.map(i32::from);
                match self.client.activity_stream(backfill, None, None).await {
                    Ok(stream) => Ok(stream),
                    Err(ApiError::ErrorResponse(response)) => {
                        let (status, headers) = (response.status(), response.headers().clone());
                        Err(ApiError::UnexpectedResponse(bounded(status, headers, response.into_inner()).await))
                    }
                    Err(ApiError::UnexpectedResponse(response)) => {
                        let (status, headers) = (response.status(), response.headers().clone());
                        let body = ByteStream::new(Box::pin(response.bytes_stream()));
                        Err(ApiError::UnexpectedResponse(bounded(status, headers, body).await))
                    }
                    Err(other) => Err(other),
                }
            };
            exchange(&endless, call, Ok, never_decoded, |_: &ByteStream| None).await
        })
    }
}

/// An error answer with at most [`ERROR_BODY_BYTES`] of its body, for the
/// shared interpretation (status, `Retry-After`, the provider's message).
async fn bounded(status: reqwest::StatusCode, headers: HeaderMap, mut body: ByteStream) -> reqwest::Response {
    let mut kept: Vec<u8> = Vec::new();
    while kept.len() < ERROR_BODY_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(ERROR_BODY_BYTES - kept.len())]),
            // What came is what there is: a cut error body still has its status.
            Some(Err(_)) | None => break,
        }
    }
    let mut response = http::Response::new(kept);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    reqwest::Response::from(response)
}

/// A stream's 2xx is never decoded as a whole; this is never called.
fn never_decoded(_: &[u8]) -> Result<ByteStream, Error> {
    Err(Error::Decode {
        provider: PROVIDER,
        field: "body".into(),
        value: None,
        detail: "a stream is read line by line".into(),
    })
}

/// A subscription's tag, held to the spec's rules (1–200 characters) by the
/// generated request type.
///
/// # Errors
///
/// [`Error::InvalidArgument`] naming the tag and the rule it breaks.
pub(crate) fn check_tag(tag: &str) -> Result<wire::ActivitySubscriptionRequestTag, Error> {
    wire::ActivitySubscriptionRequestTag::try_from(tag).map_err(|error| Error::InvalidArgument {
        provider: PROVIDER,
        name: "tag",
        value: Excerpt::new(tag),
        reason: error.to_string(),
    })
}

/// The request body of a Spaces subscription.
///
/// # Errors
///
/// As [`check_tag`].
pub(crate) fn request(
    kind: ActivityKind,
    user_id: &str,
    tag: &str,
) -> Result<wire::ActivitySubscriptionRequest, Error> {
    Ok(wire::ActivitySubscriptionRequest {
        event_type: kind.as_wire(),
        filter: wire::ActivitySubscriptionRequestFilter { user_id: wire::UserId(user_id.to_owned()) },
        tag: Some(check_tag(tag)?),
        webhook_id: None,
    })
}

/// A listed or created subscription; `field` is where it sits, for errors.
fn subscription(raw: wire::ActivitySubscription, field: impl std::fmt::Display) -> Result<Subscription, Error> {
    let id = raw.subscription_id.ok_or_else(|| missing(format!("{field}.subscription_id")))?;
    Ok(Subscription {
        id,
        event_type: raw.event_type.unwrap_or_default(),
        user_id: raw.filter.and_then(|filter| filter.user_id),
        tag: raw.tag,
        created_at: raw.created_at.map(|at| at.0),
    })
}

fn missing(field: String) -> Error {
    Error::Decode { provider: PROVIDER, field, value: None, detail: "missing".into() }
}

/// Problems in a 200 that carries nothing else are its failure.
fn problems(errors: &[wire::Problem]) -> Error {
    let problem = errors.first();
    let text = problem.and_then(|problem| {
        problem.detail.clone().or_else(|| problem.message.clone()).or_else(|| problem.title.clone())
    });
    Error::Rejected {
        provider: PROVIDER,
        status: None,
        message: Excerpt::new(text.as_deref().unwrap_or("the answer holds only problems")),
    }
}

fn page(response: wire::ActivitySubscriptionsResponse) -> Result<Page, Error> {
    let Some(list) = response.data else {
        if !response.errors.is_empty() {
            return Err(problems(&response.errors));
        }
        // No subscription at all: no `data` key.
        return Ok(Page::default());
    };
    let subscriptions = list
        .0
        .into_iter()
        .enumerate()
        .map(|(index, raw)| subscription(raw, format!("data[{index}]")))
        .collect::<Result<_, _>>()?;
    let next_token = response.meta.and_then(|meta| meta.next_token).filter(|token| !token.is_empty());
    Ok(Page { subscriptions, next_token })
}

fn decode_page(body: &[u8]) -> Result<Page, Error> {
    page(parse_json(PROVIDER, body)?)
}

fn created(response: wire::ActivitySubscriptionCreateResponse) -> Result<Option<Subscription>, Error> {
    let raw = match response.data {
        Some(wire::ActivitySubscriptionCreated::List(list)) => list.0.into_iter().next(),
        Some(wire::ActivitySubscriptionCreated::CreatedObject(object)) => match object.subscription {
            Some(nested) => Some(nested),
            None => Some(wire::ActivitySubscription {
                subscription_id: object.subscription_id,
                event_type: object.event_type,
                filter: object.filter,
                tag: object.tag,
                webhook_id: object.webhook_id,
                created_at: object.created_at,
                updated_at: object.updated_at,
            }),
        },
        None if !response.errors.is_empty() => return Err(problems(&response.errors)),
        None => None,
    };
    // An answer whose subscription has no id names none the caller can use.
    raw.filter(|raw| raw.subscription_id.is_some()).map(|raw| subscription(raw, "data")).transpose()
}

fn decode_created(body: &[u8]) -> Result<Option<Subscription>, Error> {
    created(parse_json(PROVIDER, body)?)
}

fn deleted(response: wire::ActivitySubscriptionDeleteResponse) -> Result<bool, Error> {
    match response.data.and_then(|data| data.deleted) {
        Some(deleted) => Ok(deleted),
        None if !response.errors.is_empty() => Err(problems(&response.errors)),
        None => Err(missing("data.deleted".to_owned())),
    }
}

fn decode_deleted(body: &[u8]) -> Result<bool, Error> {
    deleted(parse_json(PROVIDER, body)?)
}

/// Parses one line of the stream (not blank: keep-alives are the caller's).
/// `received_at` is when it arrived.
pub(crate) fn message(line: &[u8], received_at: DateTime<Utc>) -> Message {
    let response = match parse_json::<wire::ActivityStreamResponse>(PROVIDER, line) {
        Ok(response) => response,
        Err(error) => {
            // Whose it is, if that much can be read: another tool's malformed
            // event is none of the caller's business.
            let (tag, user_id) = owner(line);
            return Message::Event { tag, user_id, event: Err(error) };
        }
    };
    let Some(data) = response.data else {
        return match response.errors.first() {
            Some(_) => Message::Errors(in_stream_error(&response.errors)),
            None => Message::Empty,
        };
    };
    let tag = data.tag.clone();
    let user_id = data.filter.as_ref().and_then(|filter| filter.user_id.clone());
    let Some(kind) = data.event_type.as_deref().and_then(ActivityKind::from_event_type) else {
        return Message::Other { event_type: data.event_type, tag };
    };
    Message::Event { tag, user_id, event: event(kind, data, received_at) }
}

/// The event a `spaces.*` envelope stands for.
fn event(kind: ActivityKind, data: wire::ActivityEvent, received_at: DateTime<Utc>) -> Result<ActivityEvent, Error> {
    let payload = data.payload.ok_or_else(|| missing("data.payload".to_owned()))?;
    if let Some(inner) = payload.event_type.as_deref()
        && ActivityKind::from_inner(inner) != Some(kind)
    {
        let detail =
            format!("`{inner}` is not the inner event type of `{kind}` (`start`/`spaces_start`, `end`/`spaces_end`)");
        return Err(Error::decode(PROVIDER, "data.payload.event_type", inner, detail));
    }
    let broadcast_id = payload.broadcast_id.ok_or_else(|| missing("data.payload.broadcast_id".to_owned()))?;
    let space_id = space_id(PROVIDER, "data.payload.broadcast_id", broadcast_id)?;
    let user_id =
        data.filter.and_then(|filter| filter.user_id).ok_or_else(|| missing("data.filter.user_id".to_owned()))?;
    let tag = data.tag.ok_or_else(|| missing("data.tag".to_owned()))?;
    Ok(ActivityEvent { kind, space_id, user_id, tag, event_uuid: data.event_uuid.map(|uuid| uuid.0), received_at })
}

/// The error an in-stream error line stands for: the first problem's
/// title (`operational-disconnect`) and detail.
fn in_stream_error(errors: &[wire::Problem]) -> Error {
    let problem = errors.first();
    let words: Vec<&str> = problem
        .into_iter()
        .flat_map(|problem| [&problem.title, &problem.disconnect_type, &problem.connection_issue, &problem.detail])
        .filter_map(|text| text.as_deref())
        .collect();
    let message = if words.is_empty() { "an in-stream error without a message".to_owned() } else { words.join(": ") };
    Error::Rejected { provider: PROVIDER, status: None, message: Excerpt::new(&format!("in-stream error: {message}")) }
}

/// The tag and filter user of a line that does not fit the spec, read as
/// loosely as can be.
fn owner(line: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else { return (None, None) };
    let text = |pointer: &str| value.pointer(pointer).and_then(serde_json::Value::as_str).map(str::to_owned);
    (text("/data/tag"), text("/data/filter/user_id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> &'static str {
        OPERATIONS.stream.example(name).unwrap_or_else(|| panic!("no stream example `{name}`")).body
    }

    #[test]
    fn both_inner_event_types_and_a_negative_uuid_are_spaces_events() {
        let now = Utc::now();
        for (name, kind, inner_kind) in [
            ("spaces_start", ActivityKind::Start, "spaces_start"),
            ("spaces_end", ActivityKind::End, "spaces_end"),
            ("spaces_start_prose", ActivityKind::Start, "start"),
        ] {
            let Message::Event { event: Ok(event), .. } = message(example(name).as_bytes(), now) else {
                panic!("{name}: not an event");
            };
            assert_eq!(event.kind, kind, "{name} ({inner_kind})");
            assert_eq!(event.received_at, now);
        }
        let Message::Event { event: Ok(end), .. } = message(example("spaces_end").as_bytes(), now) else {
            panic!("spaces_end");
        };
        assert_eq!(end.event_uuid.as_deref(), Some("-498317022904955631"));
        assert_eq!(
            (end.space_id.as_str(), end.user_id.as_str(), end.tag.as_str()),
            ("1qxvvvyLLdnxB", "1111111111111111111", "spaces-end")
        );
    }

    #[test]
    fn other_lines_are_what_they_are() {
        let now = Utc::now();
        assert!(matches!(message(example("empty_object").as_bytes(), now), Message::Empty));
        assert!(matches!(message(example("other_subscription").as_bytes(), now), Message::Other { .. }));
        let Message::Errors(error) = message(example("operational_disconnect").as_bytes(), now) else {
            panic!("an in-stream error");
        };
        assert!(error.to_string().contains("operational-disconnect"), "{error}");
        let contradicting = example("spaces_start_prose").replace(r#""event_type":"start""#, r#""event_type":"end""#);
        let Message::Event { event: Err(error), tag, .. } = message(contradicting.as_bytes(), now) else {
            panic!("an event that contradicts itself");
        };
        assert_eq!(tag.as_deref(), Some("spaces-watch"));
        assert!(error.to_string().contains("data.payload.event_type"), "{error}");
        let bad_space = example("spaces_start_prose").replace("1jMJgLdenVjxL", "not a space!");
        assert!(matches!(message(bad_space.as_bytes(), now), Message::Event { event: Err(Error::Decode { .. }), .. }));
        let Message::Event { tag, user_id, event: Err(_) } =
            message(br#"{"data":{"tag":"t","filter":{"user_id":"1"},"payload":7}}"#, now)
        else {
            panic!("a line that does not fit");
        };
        assert_eq!((tag.as_deref(), user_id.as_deref()), (Some("t"), Some("1")));
    }

    #[test]
    fn every_create_answer_shape_names_the_subscription() {
        let create = OPERATIONS.create;
        for name in ["v2_167", "quickstart_list", "quickstart_flat", "v2_159"] {
            let body = create.example(name).unwrap_or_else(|| panic!("{name}")).body;
            let subscription = decode_created(body.as_bytes()).expect(name).expect(name);
            assert!(subscription.id.chars().all(|c| c.is_ascii_digit()), "{name}: {subscription:?}");
            assert!(subscription.user_id.is_some(), "{name}");
        }
        assert_eq!(decode_created(br#"{"data":{}}"#).expect("decodes"), None, "no id: the caller lists");
    }

    #[test]
    fn list_answers_with_and_without_meta() {
        let list = OPERATIONS.list;
        let spaces = decode_page(list.example("spaces").expect("spaces").body.as_bytes()).expect("decodes");
        assert_eq!(spaces.subscriptions.len(), 3);
        assert!(spaces.subscriptions[0].is_for(ActivityKind::Start, "2244994945", "spaces-watch"));
        assert!(!spaces.subscriptions[2].is_for(ActivityKind::Start, "2244994945", "spaces-watch"), "untagged");
        assert_eq!(spaces.next_token, None);
        let paginated = decode_page(list.example("paginated").expect("paginated").body.as_bytes()).expect("decodes");
        assert!(paginated.next_token.is_some());
        assert!(
            decode_page(list.example("none").expect("none").body.as_bytes()).expect("decodes").subscriptions.is_empty()
        );
        assert!(decode_page(br#"{"data":[{"event_type":"spaces.start"}]}"#).is_err(), "a subscription without an id");
    }

    #[test]
    fn a_tag_outside_the_spec_is_refused_before_sending() {
        assert!(request(ActivityKind::Start, "1", "spaces-watch").is_ok());
        for bad in [String::new(), "x".repeat(201)] {
            assert!(matches!(request(ActivityKind::End, "1", &bad), Err(Error::InvalidArgument { name: "tag", .. })));
        }
    }
}
