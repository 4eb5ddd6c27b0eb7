//! The client against providers that answer wrongly on purpose: another
//! Space than the one asked, two users for one creator, one bad item among
//! a hundred good ones, headers that lie, connections cut mid-body.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use spaces::{Client, Error, Provider, Providers, Resource, RetryPolicy, Token, Warning};
use spaces_mock::{DEMO_SPACE_ID, EXAMPLE_MISSING_ID, endpoint, json as answer, recorded_space};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{
    Behavior, TEST_TOKEN, base_url, build, raw_server_with, serve, test_builder, test_client, with_member,
};

const BATCH: &str = "/2/spaces";

/// An X Space object as X sends it in a multi-Space body.
pub fn x_space(id: &str) -> Value {
    json!({"id": id, "state": "live", "title": format!("Space {id}"), "creator_id": "2244994945"})
}

/// A server whose batch endpoint always answers `body`.
async fn batch_answering(body: &Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path(BATCH)).respond_with(answer(200, &body.to_string())).mount(&server).await;
    server
}

// ---------------------------------------------------------------------------
// Identity: the answer is the Space that was asked for

#[tokio::test]
async fn every_provider_refuses_a_lookup_answered_with_another_space() {
    for &provider in Provider::ALL {
        // Whatever is asked, the recorded demo Space comes back.
        let server = serve(provider, answer(200, recorded_space(provider))).await;
        let client = test_client(provider, base_url(&server, provider));
        let error = client.space(EXAMPLE_MISSING_ID).await.expect_err("another Space is not the answer");
        assert_eq!(
            error,
            Error::WrongSpace {
                provider,
                requested: EXAMPLE_MISSING_ID.to_owned(),
                returned: DEMO_SPACE_ID.to_owned()
            }
        );
        assert!(error.to_string().contains(EXAMPLE_MISSING_ID) && error.to_string().contains(DEMO_SPACE_ID), "{error}");
    }
}

#[tokio::test]
async fn one_by_one_lookups_give_the_asked_id_its_own_error() {
    // SocialData has no batch endpoint: each id is one lookup, each checked.
    let server = serve(Provider::SocialData, answer(200, recorded_space(Provider::SocialData))).await;
    let client = test_client(Provider::SocialData, base_url(&server, Provider::SocialData));
    let outcomes = client.spaces([DEMO_SPACE_ID, EXAMPLE_MISSING_ID]).await;
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    assert_eq!(outcomes[1].id, EXAMPLE_MISSING_ID);
    assert!(
        matches!(&outcomes[1].result, Err(Error::WrongSpace { requested, returned, .. })
            if requested == EXAMPLE_MISSING_ID && returned == DEMO_SPACE_ID),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_one_id_batch_answered_with_another_space_names_both() {
    let server = batch_answering(&json!({"data": [x_space("1AnOtherSpace")]})).await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    let outcomes = client.spaces(["1AskedForThis"]).await;
    assert_eq!(
        outcomes[0].result,
        Err(Error::WrongSpace {
            provider: Provider::X,
            requested: "1AskedForThis".to_owned(),
            returned: "1AnOtherSpace".to_owned()
        })
    );
}

/// X answering every lookup with the demo Space, SocialData answering honestly.
async fn x_lies_socialdata_answers() -> (MockServer, MockServer, Providers) {
    let x = serve(Provider::X, answer(200, recorded_space(Provider::X))).await;
    let socialdata = MockServer::start().await;
    let honest = with_member(recorded_space(Provider::SocialData), "id", EXAMPLE_MISSING_ID);
    endpoint(Provider::SocialData).respond_with(answer(200, &honest)).mount(&socialdata).await;
    let providers = Providers::new([
        test_client(Provider::X, base_url(&x, Provider::X)),
        test_client(Provider::SocialData, base_url(&socialdata, Provider::SocialData)),
    ]);
    (x, socialdata, providers)
}

#[tokio::test]
async fn fallback_counts_another_space_as_a_failure_and_moves_on() {
    let (_x, _socialdata, providers) = x_lies_socialdata_answers().await;
    let answer = providers.fallback(EXAMPLE_MISSING_ID).await.expect("SocialData answers");
    assert_eq!((answer.value.provider, answer.value.id.as_str()), (Provider::SocialData, EXAMPLE_MISSING_ID));
    assert!(matches!(answer.attempts[0].error, Some(Error::WrongSpace { provider: Provider::X, .. })), "{answer:?}");
}

#[tokio::test]
async fn merge_never_takes_anything_from_an_answer_about_another_space() {
    let (_x, _socialdata, providers) = x_lies_socialdata_answers().await;
    let answer = providers.merge(EXAMPLE_MISSING_ID).await.expect("SocialData answers");
    let merged = &answer.value;
    assert_eq!(merged.space.id, EXAMPLE_MISSING_ID);
    assert_eq!(merged.space.provider, Provider::SocialData);
    assert_eq!(merged.space.lang, None, "X's language is about another Space");
    assert!(merged.sources.iter().all(|(_, provider)| *provider == Provider::SocialData), "{:?}", merged.sources);
    assert!(matches!(answer.attempts[0].error, Some(Error::WrongSpace { .. })), "{:?}", answer.attempts);
}

#[tokio::test]
async fn merge_takes_the_creator_whole_and_reports_another_user_as_a_conflict() {
    // X names creator 2244994945 (and resolves it); SocialData's creator is another user.
    let x = serve(Provider::X, answer(200, recorded_space(Provider::X))).await;
    let mut other: Value = serde_json::from_str(recorded_space(Provider::SocialData)).expect("JSON");
    other["creator"]["id_str"] = json!("783214");
    other["creator"]["rest_id"] = json!("783214");
    other["creator"]["id"] = json!("783214");
    other["creator"]["legacy"]["description"] = json!("someone else entirely");
    other["creator"]["legacy"]["followers_count"] = json!(1);
    let socialdata = serve(Provider::SocialData, answer(200, &other.to_string())).await;
    let providers = Providers::new([
        test_client(Provider::X, base_url(&x, Provider::X)),
        test_client(Provider::SocialData, base_url(&socialdata, Provider::SocialData)),
    ]);
    let x_alone = spaces::decode(Provider::X, recorded_space(Provider::X).as_bytes()).expect("X's Space");
    let merged = providers.merge(DEMO_SPACE_ID).await.expect("both answer").value;
    assert_eq!(merged.space.creator, x_alone.creator, "X's user, whole: no description or count from another user");
    let creator_id = merged.conflicts.iter().find(|conflict| conflict.field == "creator.id").expect("a conflict");
    assert_eq!(creator_id.chosen, Provider::X);
    assert_eq!(creator_id.values.len(), 2);
    assert!(
        merged
            .sources
            .iter()
            .filter(|(field, _)| field.as_str().starts_with("creator."))
            .all(|(_, p)| *p == Provider::X)
    );
}

// ---------------------------------------------------------------------------
// Isolation: one bad item fails only what depends on it

#[tokio::test]
async fn a_malformed_topic_fails_only_the_spaces_that_name_it() {
    let mut with_topic = x_space("1NamesTopic12");
    with_topic["topic_ids"] = json!(["848920371311001600"]);
    let body = json!({
        "data": [x_space("1FirstSpace00"), with_topic, x_space("1ThirdSpace00")],
        "includes": {"topics": [{"id": 848920371311001600_u64, "description": "no name, and a numeric id"}]}
    });
    let server = batch_answering(&body).await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    let outcomes = client.spaces(["1FirstSpace00", "1NamesTopic12", "1ThirdSpace00"]).await;
    assert!(outcomes[0].result.is_ok() && outcomes[2].result.is_ok(), "{outcomes:?}");
    assert!(
        matches!(&outcomes[1].result, Err(Error::Decode { field, .. }) if field.starts_with("includes.topics[0]")),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_malformed_user_fails_only_the_spaces_that_name_it() {
    let mut hosted = x_space("1HostedByBad1");
    hosted["host_ids"] = json!(["666"]);
    let body = json!({
        "data": [x_space("1FirstSpace00"), hosted],
        "includes": {"users": [
            {"id": "2244994945", "name": "X", "username": "XDevelopers"},
            {"id": "666", "name": "Bad", "username": "bad", "created_at": "yesterday"}
        ]}
    });
    let server = batch_answering(&body).await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    let outcomes = client.spaces(["1FirstSpace00", "1HostedByBad1"]).await;
    let first = outcomes[0].result.as_ref().expect("the first Space names only the good user");
    assert_eq!(first.creator.as_ref().and_then(|creator| creator.username.as_deref()), Some("XDevelopers"));
    assert!(
        matches!(&outcomes[1].result, Err(Error::Decode { field, .. }) if field == "includes.users[1].created_at"),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_space_sent_twice_is_kept_once_the_same_way_every_time_and_said_so() {
    let mut second = x_space("1SentTwice000");
    second["title"] = json!("a different title");
    let body = json!({"data": [x_space("1SentTwice000"), second, x_space("1SentOnce0000")]});
    let server = batch_answering(&body).await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    for _ in 0..3 {
        let outcomes = client.spaces(["1SentTwice000", "1SentOnce0000"]).await;
        let kept = outcomes[0].result.as_ref().expect("the first copy");
        assert_eq!(kept.title.as_deref(), Some("Space 1SentTwice000"), "the first copy in the answer's order");
        assert_eq!(
            outcomes[0].warnings,
            [Warning::Duplicate { provider: Provider::X, id: "1SentTwice000".to_owned(), identical: false }]
        );
        assert!(outcomes[1].warnings.is_empty(), "{outcomes:?}");
    }
    // The same list through search: deduplicated, with the warning.
    let list = spaces::decode_any(Provider::X, body.to_string().as_bytes()).expect("a body");
    let spaces::Decoded::Many(list) = list else { panic!("a multi-Space body") };
    assert_eq!(list.spaces.len(), 2);
    assert_eq!(list.warnings.len(), 1);
}

// ---------------------------------------------------------------------------
// Time: what the provider says about when to come back, and the deadline

/// A responder that answers `first` once, then `then`, noting when each request came.
struct FirstThen {
    first: ResponseTemplate,
    then: ResponseTemplate,
    seen: Arc<Mutex<Vec<Instant>>>,
}

impl wiremock::Respond for FirstThen {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut seen = self.seen.lock().expect("request times");
        seen.push(Instant::now());
        if seen.len() == 1 { self.first.clone() } else { self.then.clone() }
    }
}

#[tokio::test]
async fn retry_after_on_a_503_is_waited_out_as_on_a_429() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = MockServer::start().await;
    let first = ResponseTemplate::new(503).insert_header("retry-after", "2").set_body_string("maintenance");
    let then = answer(200, recorded_space(Provider::X));
    endpoint(Provider::X).respond_with(FirstThen { first, then, seen: seen.clone() }).mount(&server).await;
    // Backoffs of at most 50 ms: only the provider's word makes the client wait longer.
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    client.space(DEMO_SPACE_ID).await.expect("the second attempt answers");
    let seen = seen.lock().expect("request times");
    assert_eq!(seen.len(), 2);
    let waited = seen[1] - seen[0];
    assert!(waited >= Duration::from_millis(1900), "waited {waited:?}, not the 2 s the 503 asked");
}

#[tokio::test]
async fn the_deadline_is_never_shorter_than_one_attempt() {
    let server =
        serve(Provider::X, answer(200, recorded_space(Provider::X)).set_delay(Duration::from_millis(900))).await;
    let retry = RetryPolicy { deadline: Some(Duration::from_millis(300)), ..RetryPolicy::none() };
    let client =
        build(test_builder(Provider::X, base_url(&server, Provider::X)).retry(retry).timeout(Duration::from_secs(3)));
    client.space(DEMO_SPACE_ID).await.expect("a 3 s attempt may take 0.9 s, whatever the shorter deadline said");
}

#[tokio::test]
async fn a_reset_years_away_names_its_time_and_is_not_waited_for() {
    let far = std::time::SystemTime::now() + Duration::from_secs(31 * 365 * 86_400);
    let reset = far.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let refused = ResponseTemplate::new(429).insert_header("x-rate-limit-reset", reset.to_string().as_str());
    let server = serve(Provider::X, refused).await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    let started = Instant::now();
    let error = client.space(DEMO_SPACE_ID).await.expect_err("rate limited");
    assert!(started.elapsed() < Duration::from_secs(2), "not waited for");
    let year = chrono::DateTime::<chrono::Utc>::from(far).format("%Y").to_string();
    let message = error.to_string();
    assert!(message.contains(&format!("retry at {year}")), "{message}");
    assert!(!message.contains("retry after 900s"), "{message}");
}

// ---------------------------------------------------------------------------
// URLs and tokens: refused when the client is built

#[test]
fn a_base_url_with_a_query_or_fragment_is_refused() {
    for url in ["http://127.0.0.1:9/?a=b", "http://127.0.0.1:9/api#frag", "ftp://127.0.0.1/", "not a url"] {
        let built = Client::builder(Provider::X).token(Token::new(TEST_TOKEN)).base_url(url).build();
        assert!(
            matches!(&built, Err(Error::InvalidArgument { name: "base URL", .. })),
            "{url}: {:?}",
            built.map(|_| ())
        );
    }
}

#[test]
fn a_token_too_short_or_unfit_for_a_header_is_refused_naming_the_variable() {
    for token in ["abc", "1234567", "abcdefgh\u{7f}", "tökenabcdefgh", "abc\ndefghijk"] {
        let built = Client::builder(Provider::SocialData).token(Token::new(token)).build();
        match built {
            Err(error @ Error::InvalidToken { env_var: "SOCIALDATA_API_KEY", .. }) => {
                assert!(!error.to_string().contains(token.trim()), "{error}");
            }
            other => panic!("{token:?}: {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn a_pasted_token_is_sent_without_its_bom_bearer_or_whitespace() {
    let server = MockServer::start().await;
    endpoint(Provider::X)
        .and(spaces_mock::with_token(Provider::X, TEST_TOKEN))
        .respond_with(answer(200, recorded_space(Provider::X)))
        .mount(&server)
        .await;
    let pasted = format!("\u{feff}Bearer {TEST_TOKEN}\r\n");
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).token(Token::new(pasted)));
    client.space(DEMO_SPACE_ID).await.expect("the header carries the bare token");
}

// ---------------------------------------------------------------------------
// Messages: each names what happened, where, and about what

#[tokio::test]
async fn a_transport_error_names_host_and_path_without_the_query() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let client = test_client(Provider::X, format!("http://{address}"));
    let ids: Vec<String> = (0..100).map(|n| format!("1Id{n:010}")).collect();
    let outcomes = client.spaces(ids).await;
    let message = outcomes[0].result.as_ref().expect_err("nothing listens").to_string();
    assert!(message.contains(&format!("{address}/2/spaces")), "{message}");
    assert!(message.contains("connection refused"), "{message}");
    assert!(!message.contains("ids=") && !message.contains("1Id0000000099"), "{message}");
    assert!(message.len() < 200, "one short line, not the 2 KB URL: {message}");
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_called_that() {
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{\"data\":{\"id\":".to_vec();
    let url = raw_server_with(Behavior::ResetAfter(head)).await;
    let error = test_client(Provider::X, url).space(DEMO_SPACE_ID).await.expect_err("cut off");
    let message = error.to_string();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(message.contains("reset") || message.contains("closed"), "{message}");
    assert!(message.contains("while reading the response body"), "{message}");
    assert!(!message.contains("error decoding response body"), "{message}");
}

#[tokio::test]
async fn not_found_names_the_id_asked_whatever_the_provider_named() {
    let body = json!({"errors": [{
        "value": "1SomethingElse", "resource_id": "1SomethingElse", "resource_type": "space",
        "detail": "Could not find space with id: [1SomethingElse].", "title": "Not Found Error",
        "type": "https://api.x.com/2/problems/resource-not-found"
    }]});
    let server = serve(Provider::X, answer(200, &body.to_string())).await;
    let error =
        test_client(Provider::X, base_url(&server, Provider::X)).space(DEMO_SPACE_ID).await.expect_err("missing");
    assert!(matches!(&error, Error::NotFound { id: Some(id), .. } if id == DEMO_SPACE_ID), "{error:?}");
    assert!(error.to_string().starts_with(&format!("x: Space {DEMO_SPACE_ID} not found")), "{error}");
}

#[tokio::test]
async fn a_problem_about_a_user_says_user() {
    let body = json!({"errors": [{
        "value": "2244994945", "resource_id": "2244994945", "resource_type": "user", "parameter": "creator_id",
        "detail": "Could not find user with creator_id: [2244994945].", "title": "Not Found Error",
        "type": "https://api.x.com/2/problems/resource-not-found"
    }]});
    let error = spaces::decode(Provider::X, body.to_string().as_bytes()).expect_err("no Space");
    assert!(matches!(error, Error::NotFound { resource: Resource::User, .. }), "{error:?}");
    assert!(error.to_string().starts_with("x: user 2244994945 not found"), "{error}");
}
