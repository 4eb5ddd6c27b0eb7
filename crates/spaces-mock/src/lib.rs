//! A mock of every provider's Space endpoint on 127.0.0.1 (a random free
//! port), serving the providers' own answers over real HTTP.
//!
//! `spaces demo` runs the real generated clients against it, and the tests
//! use it (or mount their own scripted answers on [`MockProviders::server`]).
//!
//! Apart from the two things only X has (below), nothing here is written
//! per provider: the paths, where the id goes and how the token is sent come
//! from each spec (through [`Provider::info`]), and every answer is one of
//! the spec's own response examples:
//! - each success example that decodes into a Space is served for that
//!   Space's id (every spec has one of [`DEMO_SPACE_ID`] and one of
//!   [`LIVE_SPACE_ID`]), when the request carries [`DEMO_TOKEN`] the way the
//!   provider expects it;
//! - the example named `not_found` for any other id with that token, with
//!   the requested id in place of [`EXAMPLE_MISSING_ID`] (X names the id);
//!   its status is 404 where the spec declares it under 404 (SocialData),
//!   else the status it is declared under (X, AIsa, twitterapi.io: a 200);
//! - but for an id that breaks the rules the spec states for the lookup's id
//!   parameter (X's `pattern`, `^[a-zA-Z0-9]{1,13}$`), the lookup's example
//!   named `invalid_request`, naming the parameter, as a 400 (X's answer to
//!   a malformed id), where the spec has one;
//! - the example named `unauthorized` (declared under 401) for any other
//!   token, or none.
//!
//! `specs/README.md` states these example conventions; the generated
//! crate's tests check that every spec keeps them.
//!
//! Two things are X's alone, each in its own module: X's multi-Space
//! endpoints (batch lookup by ids, search, by creator; [`x_multi`], which
//! also serves them from the spec's examples), and the `x-rate-limit-*`
//! headers on every answer the mock gives for X, counted per endpoint
//! ([`rate_limit`]). Priority 1 is left free on X's multi-Space endpoints,
//! so that a test's own answer mounted there with `.with_priority(1)` wins.

#![deny(missing_docs)]

pub mod activity;
pub mod lifecycle;
pub mod rate_limit;
pub mod x_multi;

use serde_json::json;
use spaces::Provider;
use spaces::spec::{Auth, Example, Operation, ParamLocation};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use rate_limit::{RateLimited, Windows};
pub use x_multi::{EveryIdFound, batch_endpoint, requested_ids};

/// The Space every provider's spec has a recorded example of: "The Algorithm goes open source".
pub const DEMO_SPACE_ID: &str = "1jMJgLdenVjxL";

/// A live Space every provider's spec has an answer for (its example
/// `live_space`), answered a little differently by each: what a compare or a
/// merge shows. "Late night synth jam", by @nightshiftfm.
pub const LIVE_SPACE_ID: &str = "1u8jzPde0IgxL";

/// The token the mock accepts.
pub const DEMO_TOKEN: &str = "demo-token";

/// The id the specs' `not_found` examples name, where the provider's body names one.
pub const EXAMPLE_MISSING_ID: &str = "1OdKrjgmNkeKX";

/// The spec's example called `name` for the provider's Space lookup.
///
/// # Panics
///
/// When the spec lacks it: the conventions above are part of every spec,
/// and `spaces-generated`'s tests fail before such a spec can land.
pub(crate) fn example(provider: Provider, name: &str) -> &'static Example {
    let info = provider.info();
    info.lookup.examples.iter().find(|example| example.name == name).unwrap_or_else(|| {
        panic!("{}: operation `{}` has no example named `{name}`", info.spec.file, info.lookup.operation_id)
    })
}

/// The spec's success examples that decode into a Space, with that Space's id.
pub fn recorded_spaces(provider: Provider) -> impl Iterator<Item = (String, &'static str)> {
    provider.info().lookup.examples.iter().filter(|example| example.is_success()).filter_map(move |example| {
        spaces::decode(provider, example.body.as_bytes()).ok().map(|space| (space.id, example.body))
    })
}

/// The provider's recorded response body of [`DEMO_SPACE_ID`] (a spec example).
///
/// # Panics
///
/// When the spec has no success example of it (a convention every spec keeps).
pub fn recorded_space(provider: Provider) -> &'static str {
    recorded_spaces(provider)
        .find(|(id, _)| id == DEMO_SPACE_ID)
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("{}: no success example of Space {DEMO_SPACE_ID}", provider.info().spec.file))
}

/// The mock server, with every provider's endpoint mounted.
pub struct MockProviders {
    server: MockServer,
    windows: Windows,
}

impl MockProviders {
    /// Starts the server on 127.0.0.1 with a random free port.
    pub async fn start() -> MockProviders {
        MockProviders::mounted(MockServer::start().await).await
    }

    /// Starts the server on 127.0.0.1:`port` (0: a free port) for a mock
    /// that runs until it is stopped (`spaces mock`). It keeps no
    /// server-wide log of the requests it answers
    /// ([`received_requests`](MockServer::received_requests) is then
    /// `None`), but wiremock (0.6.5) still keeps each request with the mock
    /// that matched it, so memory grows by about a request's size per
    /// request: fine for trying commands by hand, not for a load test.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound (in use, or not allowed).
    pub async fn serve(port: u16) -> std::io::Result<MockProviders> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        let server = MockServer::builder().listener(listener).disable_request_recording().start().await;
        Ok(MockProviders::mounted(server).await)
    }

    /// Every provider's recordings and X's multi-Space endpoints, mounted on `server`.
    async fn mounted(server: MockServer) -> MockProviders {
        let mock = MockProviders { server, windows: Windows::start() };
        for &provider in Provider::ALL {
            mock.mount_recordings(provider).await;
        }
        mock.mount_x_multi().await;
        mock
    }

    /// The base URL to give a [`spaces::ClientBuilder`] for `provider`.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("{}{}", self.server.uri(), base_path(provider))
    }

    /// The underlying wiremock server, to mount scripted answers or inspect requests.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// `responder` with X's rate-limit headers, counted against X's operation
    /// `operation_id` on this mock, like every X answer the mock mounts (see
    /// [`rate_limit`]). For an answer a test mounts itself, e.g.
    /// `mock.x_rate_limited(x_multi::BATCH, EveryIdFound)`.
    pub fn x_rate_limited<R: Respond>(&self, operation_id: &'static str, responder: R) -> RateLimited<R> {
        RateLimited { inner: responder, windows: Some(self.windows.clone()), endpoint: operation_id }
    }

    /// The `x-rate-limit-reset` this mock sends now: the Unix second its
    /// current 15-minute window ends (the first ends 15 minutes after [`start`](Self::start)).
    pub fn x_rate_limit_reset(&self) -> u64 {
        self.windows.reset()
    }

    /// Wraps `responder` in X's rate-limit headers when `provider` is X
    /// (only X sends them; see [`rate_limit`]).
    fn counted<R: Respond>(&self, provider: Provider, operation_id: &'static str, responder: R) -> RateLimited<R> {
        let windows = (provider == Provider::X).then(|| self.windows.clone());
        RateLimited { inner: responder, windows, endpoint: operation_id }
    }

    async fn mount_recordings(&self, provider: Provider) {
        let server = &self.server;
        let lookup = provider.info().lookup.operation_id;
        // wiremock answers with the matching mock of the lowest priority number.
        for (id, body) in recorded_spaces(provider) {
            endpoint_for(provider, &id)
                .and(with_token(provider, DEMO_TOKEN))
                .respond_with(self.counted(provider, lookup, json(200, body)))
                .with_priority(1)
                .mount(server)
                .await;
        }
        endpoint(provider)
            .and(with_token(provider, DEMO_TOKEN))
            .respond_with(self.counted(provider, lookup, NotFound(provider)))
            .with_priority(2)
            .mount(server)
            .await;
        endpoint(provider)
            .respond_with(self.counted(provider, lookup, unauthorized(provider)))
            .with_priority(3)
            .mount(server)
            .await;
    }

    /// X's multi-Space endpoints ([`x_multi`]). Priority 1 stays free, so a
    /// test's own answer on one of these endpoints takes precedence.
    async fn mount_x_multi(&self) {
        self.mount_x_operation(x_multi::BATCH, x_multi::Batch).await;
        self.mount_x_operation(x_multi::SEARCH, x_multi::Search).await;
        self.mount_x_operation(x_multi::BY_CREATOR, x_multi::ByCreator).await;
    }

    /// `answer` for the demo token, the `unauthorized` example for any other.
    async fn mount_x_operation<R: Respond + 'static>(&self, operation_id: &'static str, answer: R) {
        x_multi::operation_endpoint(operation_id)
            .and(with_token(Provider::X, DEMO_TOKEN))
            .respond_with(self.x_rate_limited(operation_id, answer))
            .with_priority(2)
            .mount(&self.server)
            .await;
        x_multi::operation_endpoint(operation_id)
            .respond_with(self.x_rate_limited(operation_id, unauthorized(Provider::X)))
            .with_priority(3)
            .mount(&self.server)
            .await;
    }
}

/// The path prefix under which the provider's API lives: the path of its
/// production API root (AIsa's is `/apis/v1`, most have none).
pub fn base_path(provider: Provider) -> &'static str {
    provider.info().spec.base_path()
}

/// Where the lookup takes the Space id: `(location, parameter name)`.
fn id_param(provider: Provider) -> (ParamLocation, &'static str) {
    let lookup = provider.info().lookup;
    // Every lookup has one (a unit test of `spaces` checks it); a query
    // parameter named `id` is the fallback a spec without one would get.
    lookup.id_param().map_or((ParamLocation::Query, "id"), |param| (param.location, param.name))
}

/// A request matcher for the provider's endpoint, for any id.
pub fn endpoint(provider: Provider) -> wiremock::MockBuilder {
    let info = provider.info();
    let lookup = info.lookup;
    let base = base_path(provider);
    match id_param(provider) {
        (ParamLocation::Path, _) => {
            // Any single path segment after the fixed part of the path is an
            // id, except where the spec has another operation at that path
            // (X's `/2/spaces/search` is not the Space "search").
            let prefix = format!("{base}{}/", lookup.path_prefix());
            let others: Vec<String> = info
                .spec
                .operations
                .iter()
                .filter(|operation| operation.operation_id != lookup.operation_id && !operation.path.contains('{'))
                .map(|operation| format!("{base}{}", operation.path))
                .collect();
            Mock::given(method(lookup.method)).and(move |request: &wiremock::Request| {
                let path = request.url.path();
                !others.iter().any(|other| other == path)
                    && path.strip_prefix(&prefix).is_some_and(|id| !id.is_empty() && !id.contains('/'))
            })
        }
        _ => Mock::given(method(lookup.method)).and(path(format!("{base}{}", lookup.path))),
    }
}

/// A request matcher for the provider's endpoint and one Space id.
pub fn endpoint_for(provider: Provider, id: &str) -> wiremock::MockBuilder {
    let lookup = provider.info().lookup;
    match id_param(provider) {
        (ParamLocation::Path, _) => Mock::given(method(lookup.method)).and(path(format!(
            "{}{}/{id}",
            base_path(provider),
            lookup.path_prefix()
        ))),
        (_, name) => endpoint(provider).and(query_param(name, id)),
    }
}

/// The Space id a request asks for, wherever the provider puts it.
pub fn requested_id(provider: Provider, request: &wiremock::Request) -> String {
    match id_param(provider) {
        (ParamLocation::Path, _) => request.url.path().rsplit('/').next().unwrap_or_default().to_owned(),
        (_, name) => request
            .url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default(),
    }
}

/// A request matcher for the demo token, sent the way the provider expects it.
pub fn with_token(provider: Provider, token: &str) -> wiremock::matchers::HeaderExactMatcher {
    match provider.info().spec.auth {
        Auth::ApiKeyHeader(name) => header(name, token),
        Auth::Bearer => header("authorization", format!("Bearer {token}").as_str()),
    }
}

/// A JSON response with the given status and body.
pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// The provider's own answer for a Space that does not exist (its spec's `not_found` example).
pub fn not_found(provider: Provider, id: &str) -> ResponseTemplate {
    let example = example(provider, "not_found");
    // Declared under a 2xx only (X, the envelope providers): that status.
    json(example.status(404).unwrap_or(200), &example.body.replace(EXAMPLE_MISSING_ID, id))
}

/// The provider's own answer to a missing or wrong token (its spec's `unauthorized` example).
pub fn unauthorized(provider: Provider) -> ResponseTemplate {
    let example = example(provider, "unauthorized");
    json(example.status(401).unwrap_or(401), example.body)
}

/// A 400 in the shape of `operation`'s example named `invalid_request` (X's
/// invalid-request Problem), its `errors` one error naming `parameter`,
/// `values` and `message`; `None` when the operation has no such example.
pub fn invalid_request(
    operation: &Operation,
    parameter: &str,
    values: &[&str],
    message: &str,
) -> Option<ResponseTemplate> {
    let example = operation.example("invalid_request")?;
    let mut body: serde_json::Value = serde_json::from_str(example.body).ok()?;
    body["errors"] = json!([{ "parameters": { parameter: values }, "message": message }]);
    Some(json(example.status(400).unwrap_or(400), &body.to_string()))
}

/// The provider's answer to an id that breaks the rules its spec states for
/// the lookup's id parameter (for X, its `pattern`), if the spec states any
/// and has an `invalid_request` answer.
pub fn invalid_id(provider: Provider, id: &str) -> Option<ResponseTemplate> {
    let lookup = provider.info().lookup;
    let param = lookup.id_param()?;
    if param.rules.accepts(id) {
        return None;
    }
    invalid_request(lookup, param.name, &[id], &x_multi::value_refused(param.name, id, &param.rules))
}

/// Answers "not found" naming the requested id, as X does (or refuses an id
/// that is not one, see [`invalid_id`]).
struct NotFound(Provider);

impl wiremock::Respond for NotFound {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let id = requested_id(self.0, request);
        invalid_id(self.0, &id).unwrap_or_else(|| not_found(self.0, &id))
    }
}
