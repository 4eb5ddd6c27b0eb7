//! A mock of every provider's Space endpoint on 127.0.0.1 (a random free
//! port), serving recorded responses over real HTTP.
//!
//! `spaces demo` runs the real generated clients against it, and the tests
//! use it (or mount their own scripted answers on [`MockProviders::server`]).
//!
//! What it answers, for each provider:
//! - the recorded Space [`DEMO_SPACE_ID`] when the request carries the token
//!   [`DEMO_TOKEN`] the way the provider expects it ([`spaces::Auth`]);
//! - the provider's own "not found" answer for any other id with that token
//!   (X: a 200 with only `errors`; SocialData: a 404; AIsa and twitterapi.io:
//!   a 200 with `status: error`);
//! - the provider's 401 for any other token, or none.
//!
//! Paths, id parameters and auth come from [`Provider::info`]; the only
//! per-provider data here is what each provider answers ([`recordings`]).

#![deny(missing_docs)]

use spaces::{Auth, Endpoint, Provider};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The Space every provider has a recording of: "The Algorithm goes open source".
pub const DEMO_SPACE_ID: &str = "1jMJgLdenVjxL";

/// The token the mock accepts.
pub const DEMO_TOKEN: &str = "demo-token";

/// What a provider answers, as recorded or as documented.
pub struct Recordings {
    /// The 200 body for [`DEMO_SPACE_ID`].
    pub space: &'static str,
    /// The status and body for an unknown id; `{id}` stands for the requested id.
    pub not_found: (u16, &'static str),
    /// The status and body for a missing or wrong token.
    pub unauthorized: (u16, &'static str),
}

/// Each provider's answers. Adding a provider: one arm here, with its
/// recorded fixture and its documented error bodies.
pub fn recordings(provider: Provider) -> Recordings {
    match provider {
        Provider::X => Recordings {
            space: include_str!("../../../tests/fixtures/x/ended-algorithm.json"),
            not_found: (
                200,
                r#"{"errors":[{"value":"{id}","detail":"Could not find space with id: [{id}].","title":"Not Found Error","resource_type":"space","parameter":"id","resource_id":"{id}","type":"https://api.x.com/2/problems/resource-not-found"}]}"#,
            ),
            unauthorized: (
                401,
                r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
            ),
        },
        Provider::SocialData => Recordings {
            space: include_str!("../../../tests/fixtures/socialdata/doc-ended.json"),
            not_found: (404, r#"{"status":"error","message":"Space not found"}"#),
            unauthorized: (401, r#"{"status":"error","message":"Unauthorized"}"#),
        },
        Provider::Aisa => Recordings {
            space: include_str!("../../../tests/fixtures/aisa/ended-algorithm.json"),
            not_found: (200, r#"{"data":null,"status":"error","msg":"space not found"}"#),
            unauthorized: (401, r#"{"status":"error","msg":"Invalid API key"}"#),
        },
        Provider::TwitterApi => Recordings {
            space: include_str!("../../../tests/fixtures/twitterapi/ended-algorithm.json"),
            not_found: (200, r#"{"data":null,"status":"error","msg":"space not found"}"#),
            unauthorized: (401, r#"{"error":401,"message":"Unauthorized"}"#),
        },
    }
}

/// The recorded response body of [`DEMO_SPACE_ID`] for a provider.
pub fn recorded_space(provider: Provider) -> &'static str {
    recordings(provider).space
}

/// The mock server, with every provider's endpoint mounted.
pub struct MockProviders {
    server: MockServer,
}

impl MockProviders {
    /// Starts the server on 127.0.0.1 with a random free port.
    pub async fn start() -> MockProviders {
        let server = MockServer::start().await;
        for provider in Provider::ALL {
            mount_recordings(&server, provider).await;
        }
        MockProviders { server }
    }

    /// The base URL to give a [`spaces::ClientBuilder`] for `provider`.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("{}{}", self.server.uri(), base_path(provider))
    }

    /// The underlying wiremock server, to mount scripted answers or inspect requests.
    pub fn server(&self) -> &MockServer {
        &self.server
    }
}

/// The path prefix under which the provider's API lives: the path of its
/// production API root (AIsa's is `/apis/v1`, most have none).
pub fn base_path(provider: Provider) -> &'static str {
    let root = provider.info().default_base_url;
    let after_scheme = root.find("://").map_or(0, |at| at + 3);
    root[after_scheme..].find('/').map_or("", |at| &root[after_scheme + at..])
}

/// A request matcher for the provider's endpoint, for any id.
pub fn endpoint(provider: Provider) -> wiremock::MockBuilder {
    let base = base_path(provider);
    match provider.info().endpoint {
        Endpoint::PathSegment { path: endpoint } => {
            // Any single path segment after the endpoint path is an id.
            let prefix = format!("{base}{endpoint}/");
            Mock::given(method("GET")).and(move |request: &wiremock::Request| {
                request.url.path().strip_prefix(&prefix).is_some_and(|id| !id.is_empty() && !id.contains('/'))
            })
        }
        Endpoint::Query { path: endpoint, .. } => Mock::given(method("GET")).and(path(format!("{base}{endpoint}"))),
    }
}

/// A request matcher for the provider's endpoint and one Space id.
pub fn endpoint_for(provider: Provider, id: &str) -> wiremock::MockBuilder {
    match provider.info().endpoint {
        Endpoint::PathSegment { path: endpoint } => {
            Mock::given(method("GET")).and(path(format!("{}{endpoint}/{id}", base_path(provider))))
        }
        Endpoint::Query { param, .. } => endpoint(provider).and(query_param(param, id)),
    }
}

/// The Space id a request asks for, wherever the provider puts it.
pub fn requested_id(provider: Provider, request: &wiremock::Request) -> String {
    match provider.info().endpoint {
        Endpoint::Query { param, .. } => request
            .url
            .query_pairs()
            .find(|(key, _)| key == param)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default(),
        Endpoint::PathSegment { .. } => request.url.path().rsplit('/').next().unwrap_or_default().to_owned(),
    }
}

/// A request matcher for the demo token, sent the way the provider expects it.
pub fn with_token(provider: Provider, token: &str) -> wiremock::matchers::HeaderExactMatcher {
    match provider.info().auth {
        Auth::ApiKeyHeader(name) => header(name, token),
        Auth::Bearer => header("authorization", format!("Bearer {token}").as_str()),
    }
}

/// A JSON response with the given status and body.
pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// The provider's own answer for a Space that does not exist.
pub fn not_found(provider: Provider, id: &str) -> ResponseTemplate {
    let (status, body) = recordings(provider).not_found;
    json(status, &body.replace("{id}", id))
}

/// The provider's own answer to a missing or wrong token.
pub fn unauthorized(provider: Provider) -> ResponseTemplate {
    let (status, body) = recordings(provider).unauthorized;
    json(status, body)
}

async fn mount_recordings(server: &MockServer, provider: Provider) {
    // wiremock answers with the matching mock of the lowest priority number.
    endpoint_for(provider, DEMO_SPACE_ID)
        .and(with_token(provider, DEMO_TOKEN))
        .respond_with(json(200, recorded_space(provider)))
        .with_priority(1)
        .mount(server)
        .await;
    endpoint(provider)
        .and(with_token(provider, DEMO_TOKEN))
        .respond_with(NotFound(provider))
        .with_priority(2)
        .mount(server)
        .await;
    endpoint(provider).respond_with(unauthorized(provider)).with_priority(3).mount(server).await;
}

/// Answers "not found" naming the requested id, as X does.
struct NotFound(Provider);

impl wiremock::Respond for NotFound {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        not_found(self.0, &requested_id(self.0, request))
    }
}
