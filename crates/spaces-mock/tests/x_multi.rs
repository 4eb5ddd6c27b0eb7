//! The mock's X multi-Space endpoints and X's rate-limit headers, over real
//! HTTP on loopback: plain requests, and the generated X client.

mod common;

use common::Answer;

use serde_json::Value;
use spaces::Provider;
use spaces::spec::generated::x;
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, EveryIdFound, MockProviders, batch_endpoint, rate_limit, x_multi};

/// Ids no spec records.
const MISSING: [&str; 2] = ["1mxgJTeKdNnFR", "1IBXuDL7DxtpY"];

/// A started mock and one HTTP client for it.
struct Session {
    mock: MockProviders,
    http: reqwest::Client,
}

impl Session {
    async fn start() -> Self {
        Self { mock: MockProviders::start().await, http: reqwest::Client::new() }
    }

    async fn get_with(&self, path_and_query: &str, token: Option<&str>) -> Answer {
        Answer::get(&self.http, &format!("{}{path_and_query}", self.mock.base_url(Provider::X)), token).await
    }

    async fn get(&self, path_and_query: &str) -> Answer {
        self.get_with(path_and_query, Some(DEMO_TOKEN)).await
    }
}

fn recorded_ids() -> Vec<String> {
    spaces_mock::recorded_spaces(Provider::X).map(|(id, _)| id).collect()
}

#[tokio::test]
async fn batch_answers_found_ids_in_request_order_and_a_problem_for_each_missing_one() {
    let session = Session::start().await;
    let recorded = recorded_ids();
    assert!(recorded.len() >= 2, "X records several Spaces: {recorded:?}");
    let first = recorded.iter().find(|id| *id != DEMO_SPACE_ID).expect("another recording");
    let (first, second) = (first.as_str(), DEMO_SPACE_ID);
    // Commas as `%2C`, as the generated client sends them, and a repeated id.
    let answer =
        session.get(&format!("/2/spaces?ids={}%2C{first},{}%2C{second},{first}", MISSING[0], MISSING[1])).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.ids("data"), [first, second], "found Spaces in request order, once");
    assert_eq!(answer.ids("errors"), MISSING, "a Problem per missing id, in order");
    for (problem, id) in answer.body["errors"].as_array().expect("errors").iter().zip(MISSING) {
        assert_eq!(problem["resource_id"], id);
        assert_eq!(problem["resource_type"], "space");
        assert_eq!(problem["parameter"], "ids");
        assert_eq!(problem["title"], "Not Found Error");
        assert_eq!(problem["detail"], format!("Could not find space with ids: [{id}]."));
        assert!(problem["type"].as_str().is_some_and(|kind| kind.ends_with("/2/problems/resource-not-found")));
    }
    assert!(answer.body.get("meta").is_none(), "`?ids=` has no meta");

    // The recordings' users, merged, each once.
    let users = answer.include_ids("users");
    let mut unique = users.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), users.len(), "no user twice: {users:?}");
    for space in answer.body["data"].as_array().expect("data") {
        let creator = space.get("creator_id").and_then(Value::as_str);
        assert!(creator.is_none_or(|creator| users.contains(&creator)), "creator {creator:?} in includes");
    }
}

#[tokio::test]
async fn batch_with_every_recording_lists_shared_users_once() {
    let session = Session::start().await;
    let recorded = recorded_ids();
    let answer = session.get(&format!("/2/spaces?ids={}", recorded.join(","))).await;
    assert_eq!(answer.ids("data"), recorded.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(answer.body.get("errors").is_none(), "everything was found: {}", answer.body);
    let users = answer.include_ids("users");
    let mut unique = users.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), users.len(), "{users:?}");
}

#[tokio::test]
async fn batch_with_nothing_found_has_no_data_key() {
    let session = Session::start().await;
    let answer = session.get(&format!("/2/spaces?ids={}", MISSING.join(","))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body.as_object().map(|body| body.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["errors".into()])
    );
    assert_eq!(answer.ids("errors"), MISSING);
}

#[tokio::test]
async fn batch_refuses_what_x_refuses() {
    let session = Session::start().await;
    let too_many: Vec<String> = (0..101).map(|n| format!("1zz{n:010}")).collect();
    for (query, parameter) in [
        ("", "ids"),
        ("?ids=", "ids"),
        (&*format!("?ids={}", too_many.join(",")), "ids"),
        ("?ids=not-an-id!", "ids"),
        ("?ids=1zz63FfkCzJr4xyz", "ids"),
    ] {
        let answer = session.get(&format!("/2/spaces{query}")).await;
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.body["title"], "Invalid Request", "{query}");
        assert!(
            answer.body.pointer(&format!("/errors/0/parameters/{parameter}")).is_some(),
            "{query}: {}",
            answer.body
        );
        assert!(answer.body.pointer("/errors/0/message").and_then(Value::as_str).is_some(), "{query}");
    }
    let exactly_100: Vec<String> = (0..100).map(|n| format!("1zz{n:010}")).collect();
    let answer = session.get(&format!("/2/spaces?ids={}", exactly_100.join(","))).await;
    assert_eq!((answer.status, answer.ids("errors").len()), (200, 100));
}

#[tokio::test]
async fn every_endpoint_needs_the_token() {
    let session = Session::start().await;
    let unauthorized = Provider::X.info().lookup.example("unauthorized").expect("X has it");
    let expected: Value = serde_json::from_str(unauthorized.body).expect("JSON");
    for path in [
        "/2/spaces?ids=1jMJgLdenVjxL",
        "/2/spaces/search?query=radio",
        "/2/spaces/by/creator_ids?user_ids=917202264",
        "/2/spaces/1jMJgLdenVjxL",
    ] {
        for token in [None, Some("wrong-token")] {
            let answer = session.get_with(path, token).await;
            assert_eq!((answer.status, &answer.body), (401, &expected), "{path} with {token:?}");
        }
    }
}

#[tokio::test]
async fn rate_limit_headers_count_down_per_endpoint() {
    let session = Session::start().await;
    let mock = &session.mock;
    let reset = mock.x_rate_limit_reset();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    assert!(reset.abs_diff(now + 15 * 60) <= 2, "15 minutes after the start: {reset} vs {now}");

    let mut seen = Vec::new();
    for path in [
        "/2/spaces?ids=1jMJgLdenVjxL",
        "/2/spaces?ids=1jMJgLdenVjxL",
        "/2/spaces/search?query=radio",
        "/2/spaces?ids=1jMJgLdenVjxL",
        "/2/spaces/by/creator_ids?user_ids=917202264",
        "/2/spaces/1jMJgLdenVjxL",
        "/2/spaces/1OdKrjgmNkeKX",
        "/2/spaces/search?query=radio",
    ] {
        let answer = session.get(path).await;
        assert_eq!(answer.header("x-rate-limit-limit"), Some(u64::from(rate_limit::budget().requests.get())), "{path}");
        assert_eq!(answer.header("x-rate-limit-reset"), Some(reset), "{path}");
        seen.push(answer.header("x-rate-limit-remaining").expect("remaining"));
    }
    assert_eq!(seen, [299, 298, 299, 297, 299, 299, 298, 298], "one count per endpoint");

    // Also on errors, and counted.
    let refused = session.get_with("/2/spaces/search?query=radio", None).await;
    assert_eq!((refused.status, refused.header("x-rate-limit-remaining")), (401, Some(297)));

    // Only X sends them.
    let other = session
        .http
        .get(format!("{}/twitter/space/{DEMO_SPACE_ID}", mock.base_url(Provider::SocialData)))
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("answers");
    assert_eq!(other.status().as_u16(), 200);
    assert!(other.headers().get("x-rate-limit-remaining").is_none());

    // Each mock counts on its own.
    let fresh = Session::start().await;
    assert_eq!(fresh.get("/2/spaces?ids=1jMJgLdenVjxL").await.header("x-rate-limit-remaining"), Some(299));
}

#[tokio::test]
async fn rate_limit_never_reaches_zero() {
    let session = Session::start().await;
    let mut lowest = u64::MAX;
    for _ in 0..rate_limit::budget().requests.get() + 5 {
        let answer = session.get("/2/spaces/by/creator_ids?user_ids=917202264").await;
        lowest = lowest.min(answer.header("x-rate-limit-remaining").expect("remaining"));
    }
    assert_eq!(lowest, 1);
}

fn served(operation_id: &str) -> Value {
    let example = x_multi::operation(operation_id).example(x_multi::SERVED_EXAMPLE).expect("served");
    serde_json::from_str(example.body).expect("JSON")
}

fn states(answer: &Answer) -> Vec<&str> {
    let spaces = answer.body.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    spaces.iter().map(|space| space["state"].as_str().expect("state")).collect()
}

#[tokio::test]
async fn search_serves_its_example_filtered_by_state_and_max_results() {
    let session = Session::start().await;
    let example = served(x_multi::SEARCH);
    let all = example["data"].as_array().expect("data").len();

    let answer = session.get("/2/spaces/search?query=anything%20at%20all").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, example, "no state: the example as written");
    let answer = session.get("/2/spaces/search?query=radio&state=all").await;
    assert_eq!(answer.body, example);

    for state in ["live", "scheduled"] {
        let answer = session.get(&format!("/2/spaces/search?query=radio&state={state}")).await;
        let states = states(&answer);
        assert!(!states.is_empty() && states.len() < all, "{state}: {states:?}");
        assert!(states.iter().all(|found| *found == state), "{state}: {states:?}");
        assert_eq!(answer.body["meta"]["result_count"], states.len());
        // Only the users the remaining Spaces name.
        for user in answer.include_ids("users") {
            let named =
                answer.body["data"].as_array().expect("data").iter().any(|space| space.to_string().contains(user));
            assert!(named, "{state}: user {user} is named by no Space");
        }
    }

    let answer = session.get("/2/spaces/search?query=radio&max_results=1").await;
    assert_eq!((states(&answer).len(), &answer.body["meta"]["result_count"]), (1, &Value::from(1)));
    assert_eq!(answer.ids("data"), [example["data"][0]["id"].as_str().expect("id")]);

    let long = "é".repeat(2049);
    let longest = "é".repeat(2048);
    assert_eq!(session.get(&format!("/2/spaces/search?query={longest}")).await.status, 200, "2048 characters");
    for bad in
        ["state=ended", "max_results=0", "max_results=101", "max_results=ten", "query=", &format!("query={long}")]
    {
        let query = if bad.starts_with("query") { bad.to_owned() } else { format!("query=radio&{bad}") };
        let answer = session.get(&format!("/2/spaces/search?{query}")).await;
        assert_eq!((answer.status, &answer.body["title"]), (400, &Value::from("Invalid Request")), "{bad}");
    }
    assert_eq!(session.get("/2/spaces/search").await.status, 400, "no query");
}

#[tokio::test]
async fn by_creator_serves_its_example() {
    let session = Session::start().await;
    let answer = session.get("/2/spaces/by/creator_ids?user_ids=1549901127745323008%2C917202264").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, served(x_multi::BY_CREATOR));
    assert!(answer.body["meta"]["result_count"].as_u64().is_some_and(|count| count >= 1));

    for bad in ["", "?user_ids=", "?user_ids=alice", "?user_ids=12345678901234567890"] {
        let answer = session.get(&format!("/2/spaces/by/creator_ids{bad}")).await;
        assert_eq!(answer.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn search_is_not_taken_for_a_space_id() {
    let session = Session::start().await;
    // `/2/spaces/{id}` would take `search` as an id; the spec says it is another operation.
    let answer = session.get("/2/spaces/search?query=x").await;
    assert!(answer.body.get("meta").is_some(), "{}", answer.body);
    // Any other single segment is still an id.
    let answer = session.get("/2/spaces/searchx").await;
    assert_eq!(answer.body["errors"][0]["resource_id"], "searchx");
}

#[tokio::test]
async fn every_id_found_answers_any_ids_with_the_demo_space() {
    let session = Session::start().await;
    let mock = &session.mock;
    batch_endpoint()
        .and(spaces_mock::with_token(Provider::X, DEMO_TOKEN))
        .respond_with(mock.x_rate_limited(x_multi::BATCH, EveryIdFound))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let ids: Vec<String> = (0..100).map(|n| format!("1qq{n:010}")).collect();
    let answer = session.get(&format!("/2/spaces?ids={}", ids.join(","))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.ids("data"), ids.iter().map(String::as_str).collect::<Vec<_>>());
    let demo: Value = serde_json::from_str(spaces_mock::recorded_space(Provider::X)).expect("JSON");
    for space in answer.body["data"].as_array().expect("data") {
        let mut expected = demo["data"].clone();
        expected["id"] = space["id"].clone();
        assert_eq!(space, &expected);
    }
    assert_eq!(answer.body["includes"], demo["includes"]);
    assert_eq!(answer.header("x-rate-limit-remaining"), Some(299));
    assert_eq!(x_multi::requested_ids(&mock.server().received_requests().await.expect("recorded")[0]), ids);
}

/// The generated client sends the lists comma-joined in one parameter, and
/// decodes what the mock answers.
#[tokio::test]
async fn the_generated_client_talks_to_the_mock() {
    use spaces::spec::generated::CommaSeparated;
    use x::types::{SpaceId, SpaceSearchState, UserId};

    let session = Session::start().await;
    let mock = &session.mock;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {DEMO_TOKEN}").parse().expect("header"));
    let http = reqwest::Client::builder().default_headers(headers).build().expect("client");
    let client = x::Client::new_with_client(&mock.base_url(Provider::X), http);

    let ids: CommaSeparated<SpaceId> =
        [DEMO_SPACE_ID, MISSING[0]].into_iter().map(|id| SpaceId(id.to_owned())).collect();
    let batch = client.find_spaces_by_ids(None, &ids, None, None, None).await.expect("batch").into_inner();
    assert_eq!(batch.data.iter().map(|space| space.id.as_str()).collect::<Vec<_>>(), [DEMO_SPACE_ID]);
    assert_eq!(
        batch.errors.iter().map(|problem| problem.resource_id.as_deref()).collect::<Vec<_>>(),
        [Some(MISSING[0])]
    );
    assert!(batch.meta.is_none());

    let found = client
        .search_spaces(
            None,
            std::num::NonZeroU32::new(100),
            "radio",
            None,
            Some(SpaceSearchState::Scheduled),
            None,
            None,
        )
        .await
        .expect("search")
        .into_inner();
    assert!(!found.data.is_empty() && found.data.iter().all(|space| space.state == "scheduled"));
    assert_eq!(found.meta.and_then(|meta| meta.result_count), Some(i32::try_from(found.data.len()).expect("small")));

    let users: CommaSeparated<UserId> = [UserId("917202264".to_owned())].into_iter().collect();
    let by_creator = client.find_spaces_by_creator_ids(None, None, None, None, &users).await.expect("by creator");
    assert!(by_creator.headers().contains_key("x-rate-limit-reset"));
    assert!(!by_creator.into_inner().data.is_empty());

    let requests = mock.server().received_requests().await.expect("recorded");
    let queries: Vec<&str> = requests.iter().map(|request| request.url.query().unwrap_or_default()).collect();
    assert_eq!(queries[0], format!("ids={DEMO_SPACE_ID}%2C{}", MISSING[0]), "one parameter, comma-joined");
    assert!(queries[1].contains("query=radio") && queries[1].contains("state=scheduled"), "{}", queries[1]);
    assert_eq!(queries[2], "user_ids=917202264");
}

/// The mock takes its limits from the spec's facts, not from the library.
#[tokio::test]
async fn limits_come_from_the_spec() {
    let ids = x::SPEC.operation(x_multi::BATCH).and_then(|operation| operation.param("ids")).expect("ids");
    assert_eq!(x_multi::max_ids(x_multi::BATCH), ids.max_items().expect("maxItems"));
    assert_eq!(x_multi::max_ids(x_multi::BY_CREATOR), 100);

    // A list of exactly `maxItems` user ids passes, one more does not.
    let session = Session::start().await;
    let users = |count: usize| (0..count).map(|n| (1000 + n).to_string()).collect::<Vec<_>>().join(",");
    let max = x_multi::max_ids(x_multi::BY_CREATOR);
    let answer = session.get(&format!("/2/spaces/by/creator_ids?user_ids={}", users(max))).await;
    assert_eq!(answer.status, 200);
    let answer = session.get(&format!("/2/spaces/by/creator_ids?user_ids={}", users(max + 1))).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.pointer("/errors/0/parameters/user_ids").is_some(), "{}", answer.body);
}

/// X answers a malformed Space id on the single lookup with a 400 naming
/// `id`, not with "not found"; the pattern is the spec's.
#[tokio::test]
async fn the_lookup_refuses_an_id_that_is_not_one() {
    let session = Session::start().await;
    for bad in ["not-an-id!", "1jMJgLdenVjxLx", "1jMJgLdenV%C3%A9"] {
        let answer = session.get(&format!("/2/spaces/{bad}")).await;
        assert_eq!((answer.status, &answer.body["title"]), (400, &Value::from("Invalid Request")), "{bad}");
        let message = answer.body.pointer("/errors/0/message").and_then(Value::as_str).expect("a message");
        assert!(message.contains("^[a-zA-Z0-9]{1,13}$"), "{bad}: {message}");
        assert!(answer.body.pointer("/errors/0/parameters/id").is_some(), "{bad}: {}", answer.body);
    }
    let answer = session.get(&format!("/2/spaces/{}", MISSING[0])).await;
    assert_eq!((answer.status, &answer.body["errors"][0]["resource_id"]), (200, &Value::from(MISSING[0])));
}
