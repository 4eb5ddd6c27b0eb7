//! A mock of every provider's Space endpoint on 127.0.0.1 (a random free
//! port), serving recorded responses over real HTTP.
//!
//! `spaces demo` runs the real generated clients against it, and the tests
//! use it (or mount their own scripted answers on [`MockProviders::server`]).
//!
//! What it answers, for each provider:
//! - the recorded Space [`DEMO_SPACE_ID`] when the request carries
//!   `Authorization: Bearer` [`DEMO_TOKEN`];
//! - the provider's own "not found" answer for any other id with that token
//!   (X: a 200 with only `errors`; SocialData: a 404; AIsa: a 200 with `status: error`);
//! - the provider's 401 for any other token, or none.

use spaces::Provider;
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The Space every provider has a recording of: "The Algorithm goes open source".
pub const DEMO_SPACE_ID: &str = "1jMJgLdenVjxL";

/// The token the mock accepts.
pub const DEMO_TOKEN: &str = "demo-token";

/// The recorded response body of [`DEMO_SPACE_ID`] for a provider.
pub fn recorded_space(provider: Provider) -> &'static str {
    match provider {
        Provider::X => include_str!("../../../tests/fixtures/x/ended-algorithm.json"),
        Provider::SocialData => include_str!("../../../tests/fixtures/socialdata/doc-ended.json"),
        Provider::Aisa => include_str!("../../../tests/fixtures/aisa/ended-algorithm.json"),
    }
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

/// The path prefix under which the provider's API lives (AIsa's includes `/apis/v1`).
pub fn base_path(provider: Provider) -> &'static str {
    match provider {
        Provider::X | Provider::SocialData => "",
        Provider::Aisa => "/apis/v1",
    }
}

/// A request matcher for the provider's endpoint, for any id.
pub fn endpoint(provider: Provider) -> wiremock::MockBuilder {
    match provider {
        Provider::X => Mock::given(method("GET")).and(path_regex("^/2/spaces/[^/]+$")),
        Provider::SocialData => Mock::given(method("GET")).and(path("/twitter/spaces/show")),
        Provider::Aisa => Mock::given(method("GET")).and(path("/apis/v1/twitter/spaces/detail")),
    }
}

/// A request matcher for the provider's endpoint and one Space id.
pub fn endpoint_for(provider: Provider, id: &str) -> wiremock::MockBuilder {
    match provider {
        Provider::X => Mock::given(method("GET")).and(path(format!("/2/spaces/{id}"))),
        Provider::SocialData => endpoint(provider).and(query_param("id", id)),
        Provider::Aisa => endpoint(provider).and(query_param("space_id", id)),
    }
}

/// A JSON response with the given status and body.
pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// The provider's own answer for a Space that does not exist.
pub fn not_found(provider: Provider, id: &str) -> ResponseTemplate {
    match provider {
        Provider::X => json(
            200,
            &format!(
                r#"{{"errors":[{{"value":"{id}","detail":"Could not find space with id: [{id}].","title":"Not Found Error","resource_type":"space","parameter":"id","resource_id":"{id}","type":"https://api.x.com/2/problems/resource-not-found"}}]}}"#
            ),
        ),
        Provider::SocialData => json(404, r#"{"status":"error","message":"Space not found"}"#),
        Provider::Aisa => json(200, r#"{"data":null,"status":"error","msg":"space not found"}"#),
    }
}

/// The provider's own answer to a missing or wrong token.
pub fn unauthorized(provider: Provider) -> ResponseTemplate {
    match provider {
        Provider::X => {
            json(401, r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#)
        }
        Provider::SocialData => json(401, r#"{"status":"error","message":"Unauthorized"}"#),
        Provider::Aisa => json(401, r#"{"status":"error","msg":"Invalid API key"}"#),
    }
}

async fn mount_recordings(server: &MockServer, provider: Provider) {
    let bearer = format!("Bearer {DEMO_TOKEN}");
    let authorized = || header("authorization", bearer.as_str());
    // wiremock answers with the matching mock of the lowest priority number.
    endpoint_for(provider, DEMO_SPACE_ID)
        .and(authorized())
        .respond_with(json(200, recorded_space(provider)))
        .with_priority(1)
        .mount(server)
        .await;
    endpoint(provider).and(authorized()).respond_with(NotFound(provider)).with_priority(2).mount(server).await;
    endpoint(provider).respond_with(unauthorized(provider)).with_priority(3).mount(server).await;
}

/// Answers "not found" naming the requested id, as X does.
struct NotFound(Provider);

impl wiremock::Respond for NotFound {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let id = match self.0 {
            Provider::X => request.url.path().rsplit('/').next().unwrap_or_default().to_owned(),
            Provider::SocialData | Provider::Aisa => request
                .url
                .query_pairs()
                .find(|(key, _)| key == "id" || key == "space_id")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default(),
        };
        not_found(self.0, &id)
    }
}
