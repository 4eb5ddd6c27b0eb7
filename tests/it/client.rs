//! The client against a real HTTP server on loopback (wiremock, plus a raw
//! TCP server for broken transfers): request shape, every error kind,
//! retries, timeouts, the body cap, and id validation.

use std::time::{Duration, Instant};

use spaces::spec::Auth;
use spaces::{Error, Provider, RetryPolicy, SpaceState, Token};
use spaces_mock::{endpoint, endpoint_for, json, not_found, recorded_space, with_token};
use wiremock::matchers::{header, query_param};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::{
    TEST_TOKEN, base_url, build, error_body, fast_retries, recorded_with, serve, serve_first_then, test_builder,
    test_client,
};

const ID: &str = "1jMJgLdenVjxL";

#[tokio::test]
async fn x_request_asks_for_every_field_comma_joined_with_bearer_auth_and_no_api_version() {
    let server = MockServer::start().await;
    endpoint_for(Provider::X, ID)
        .and(query_param(
            "space.fields",
            "created_at,creator_id,ended_at,host_ids,id,invited_user_ids,is_ticketed,lang,participant_count,scheduled_start,speaker_ids,started_at,state,subscriber_count,title,topic_ids,updated_at",
        ))
        .and(query_param("expansions", "creator_id,host_ids,invited_user_ids,speaker_ids,topic_ids"))
        .and(query_param("topic.fields", "description,id,name"))
        .and(header("authorization", format!("Bearer {TEST_TOKEN}").as_str()))
        .respond_with(json(200, recorded_space(Provider::X)))
        .expect(1)
        .mount(&server)
        .await;

    let space = test_client(Provider::X, base_url(&server, Provider::X)).space(ID).await.expect("the recorded Space");
    assert_eq!(space.id, ID);
    assert_eq!(space.state, SpaceState::Ended);

    let requests = server.received_requests().await.expect("recording is on");
    let request = &requests[0];
    assert!(request.headers.get("api-version").is_none(), "progenitor's api-version header is stripped");
    let user_agent = request.headers.get("user-agent").and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(user_agent.starts_with("spaces/"), "user agent: {user_agent}");
    let user_fields: Vec<_> = request.url.query_pairs().filter(|(key, _)| key == "user.fields").collect();
    assert_eq!(user_fields.len(), 1, "one comma-separated value, not repeated keys: {}", request.url);
    assert!(user_fields[0].1.contains("public_metrics") && user_fields[0].1.contains("username"));
}

#[tokio::test]
async fn every_request_carries_the_id_and_the_token_as_the_spec_says() {
    for &provider in Provider::ALL {
        let server = MockServer::start().await;
        endpoint_for(provider, ID)
            .and(with_token(provider, TEST_TOKEN))
            .respond_with(json(200, recorded_space(provider)))
            .expect(1)
            .mount(&server)
            .await;
        let space = test_client(provider, base_url(&server, provider)).space(ID).await.expect("recorded Space");
        assert_eq!((space.provider, space.id.as_str(), space.state), (provider, ID, SpaceState::Ended));
        let requests = server.received_requests().await.expect("recording is on");
        assert!(requests[0].headers.get("api-version").is_none(), "{provider}: progenitor's api-version is stripped");
        if let Auth::ApiKeyHeader(name) = provider.info().spec.auth {
            assert!(requests[0].headers.get("authorization").is_none(), "{provider}: the key goes in {name} only");
        }
    }
}

#[tokio::test]
async fn twitterapi_sends_the_key_in_x_api_key_and_no_authorization_header() {
    let server = MockServer::start().await;
    endpoint_for(Provider::TwitterApi, ID)
        .and(header("x-api-key", TEST_TOKEN))
        .respond_with(json(200, recorded_space(Provider::TwitterApi)))
        .expect(1)
        .mount(&server)
        .await;
    let client = test_client(Provider::TwitterApi, base_url(&server, Provider::TwitterApi));
    let space = client.space(ID).await.expect("recorded Space");
    assert_eq!(space.participant_count, Some(435_271));
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests[0].url.path(), "/twitter/spaces/detail");
    assert!(requests[0].headers.get("authorization").is_none(), "the key goes in x-api-key only");
}

#[tokio::test]
async fn twitterapi_error_bodies_carry_their_message() {
    let server = serve(Provider::TwitterApi, json(400, r#"{"error":400,"message":"space_id is invalid"}"#)).await;
    let error =
        test_client(Provider::TwitterApi, base_url(&server, Provider::TwitterApi)).space(ID).await.expect_err("a 400");
    assert!(
        matches!(&error, Error::Rejected { status: Some(400), message, .. } if message.as_str() == "space_id is invalid"),
        "{error:?}"
    );
}

#[tokio::test]
async fn each_error_status_becomes_an_error_a_caller_can_match() {
    for &provider in Provider::ALL {
        for status in [400u16, 401, 402, 403, 404, 422, 429, 500, 503] {
            let server = serve(provider, error_body(provider, status)).await;
            let client = build(test_builder(provider, base_url(&server, provider)).retry(RetryPolicy::none()));
            let error = client.space(ID).await.expect_err("an error status");
            assert_eq!(error.provider(), provider);
            let matched = match status {
                401 | 403 => matches!(error, Error::Unauthorized { status: Some(s), .. } if s == status),
                402 => matches!(error, Error::PaymentRequired { .. }),
                404 => matches!(&error, Error::NotFound { id: Some(id), .. } if id == ID),
                429 => matches!(error, Error::RateLimited { .. }),
                500 | 503 => matches!(error, Error::Upstream { status: s, .. } if s == status),
                _ => matches!(error, Error::Rejected { status: Some(s), .. } if s == status),
            };
            assert!(matched, "{provider} {status}: got {error:?}");
            assert_eq!(
                server.received_requests().await.map(|r| r.len()),
                Some(1),
                "{provider} {status}: no retry with RetryPolicy::none()"
            );
        }
    }
}

#[tokio::test]
async fn failures_inside_a_200_are_errors_not_empty_spaces() {
    for &provider in Provider::ALL {
        let server = serve(provider, not_found(provider, ID)).await;
        let error = test_client(provider, base_url(&server, provider)).space(ID).await.expect_err("not found");
        assert!(matches!(&error, Error::NotFound { id: Some(id), .. } if id == ID), "{provider}: {error:?}");
    }
    // AIsa's envelope says `status: "error"` in a 200 for other failures too.
    let server = serve(Provider::Aisa, json(200, r#"{"data":null,"status":"error","msg":"upstream busy"}"#)).await;
    let error =
        test_client(Provider::Aisa, base_url(&server, Provider::Aisa)).space(ID).await.expect_err("status error");
    assert!(matches!(&error, Error::Rejected { message, .. } if message.as_str() == "upstream busy"), "{error:?}");
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_then_succeeds() {
    let busy = error_body(Provider::SocialData, 429).insert_header("retry-after", "1");
    let server = serve_first_then(Provider::SocialData, busy, json(200, recorded_space(Provider::SocialData))).await;

    let started = Instant::now();
    let space = test_client(Provider::SocialData, server.uri()).space(ID).await.expect("second attempt succeeds");
    assert_eq!(space.id, ID);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured ({:?})", started.elapsed());
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn a_500_is_retried_up_to_the_attempt_cap() {
    let server = serve(Provider::Aisa, ResponseTemplate::new(500).set_body_string("<html>oops</html>")).await;
    let retry = RetryPolicy { max_attempts: 3, ..fast_retries() };
    let client = build(test_builder(Provider::Aisa, base_url(&server, Provider::Aisa)).retry(retry));
    let error = client.space(ID).await.expect_err("always 500");
    assert!(matches!(&error, Error::Upstream { status: 500, body, .. } if body.as_str().contains("oops")), "{error:?}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(3), "exactly max_attempts requests");
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    let server = serve(Provider::X, error_body(Provider::X, 400)).await;
    let error = test_client(Provider::X, base_url(&server, Provider::X)).space(ID).await.expect_err("400");
    assert!(matches!(error, Error::Rejected { status: Some(400), .. }), "{error:?}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = serve(Provider::X, json(200, recorded_space(Provider::X)).set_delay(Duration::from_secs(30))).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).timeout(Duration::from_millis(300)));
    let started = Instant::now();
    let error = client.space(ID).await.expect_err("timeout");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "gave up in {:?}", started.elapsed());
}

#[tokio::test]
async fn an_oversized_body_is_rejected_not_buffered() {
    let huge = recorded_with(Provider::X, "title", "x".repeat(200_000));
    let server = serve(Provider::X, json(200, &huge)).await;
    let client = build(test_builder(Provider::X, base_url(&server, Provider::X)).max_body_bytes(16 * 1024));
    let error = client.space(ID).await.expect_err("too large");
    assert!(matches!(error, Error::BodyTooLarge { limit: 16384, .. }), "{error:?}");
}

#[tokio::test]
async fn a_body_cut_off_mid_stream_is_a_transport_error() {
    let base = crate::support::raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{\"data\":{\"id\":\"1jMJg"
            .to_vec(),
    )
    .await;
    let error = test_client(Provider::X, &base).space(ID).await.expect_err("cut off");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn an_invalid_id_is_refused_before_any_request() {
    let server = serve(Provider::X, json(200, recorded_space(Provider::X))).await;
    let client = test_client(Provider::X, base_url(&server, Provider::X));
    for bad in ["", "1jMJgLdenVjxLx", "1jMJg/../x", "ñandú", "1jMJg LdenV"] {
        let error = client.space(bad).await.expect_err("invalid id");
        assert!(matches!(&error, Error::InvalidId { provider: Provider::X, .. }), "{bad:?}: {error:?}");
    }
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(0), "nothing was sent");
}

#[tokio::test]
async fn a_garbled_200_names_the_field() {
    let body = recorded_with(Provider::X, "participant_count", "many");
    let server = serve(Provider::X, json(200, &body)).await;
    let error = test_client(Provider::X, base_url(&server, Provider::X)).space(ID).await.expect_err("bad type");
    assert!(matches!(&error, Error::Decode { field, .. } if field == "data.participant_count"), "{error:?}");
}

#[tokio::test]
async fn the_mock_providers_serve_one_space_every_way() {
    let mock = spaces_mock::MockProviders::start().await;
    let mut titles = Vec::new();
    for &provider in Provider::ALL {
        let client = build(test_builder(provider, mock.base_url(provider)).token(Token::new(spaces_mock::DEMO_TOKEN)));
        let space = client.space(spaces_mock::DEMO_SPACE_ID).await.expect("recorded Space");
        assert_eq!(space.state, SpaceState::Ended, "{provider}");
        assert_eq!(space.creator.as_ref().and_then(|creator| creator.username.as_deref()), Some("XEng"), "{provider}");
        titles.push(space.title.clone());
        let missing = client.space("1OdKrjgmNkeKX").await.expect_err("not recorded");
        assert!(matches!(missing, Error::NotFound { .. }), "{provider}: {missing:?}");

        let wrong_token = test_client(provider, mock.base_url(provider));
        let refused = wrong_token.space(spaces_mock::DEMO_SPACE_ID).await.expect_err("wrong token");
        assert!(matches!(refused, Error::Unauthorized { .. }), "{provider}: {refused:?}");
    }
    assert!(titles.iter().all(|title| title.as_deref() == Some("The Algorithm goes open source")), "{titles:?}");
}

/// Records when each request reached the server.
#[derive(Clone, Default)]
struct Arrivals(std::sync::Arc<std::sync::Mutex<Vec<Instant>>>);

impl wiremock::Respond for Arrivals {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        if let Ok(mut times) = self.0.lock() {
            times.push(Instant::now());
        }
        json(200, recorded_space(Provider::SocialData))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limiter_never_exceeds_the_budget_in_any_window() {
    let arrivals = Arrivals::default();
    let server = MockServer::start().await;
    endpoint(Provider::SocialData).respond_with(arrivals.clone()).mount(&server).await;
    let window = Duration::from_millis(500);
    let budget = spaces::RateLimit { requests: std::num::NonZeroU32::new(5).expect("5"), per: window };
    let client =
        build(test_builder(Provider::SocialData, server.uri()).rate_limiting(spaces::RateLimiting::Budget(budget)));

    // 16 requests at once: far more than the budget allows in one window.
    let started = Instant::now();
    let results = futures_util::future::join_all((0..16).map(|_| client.space(ID))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let mut times = arrivals.0.lock().expect("arrivals").clone();
    times.sort();
    assert_eq!(times.len(), 16);
    for (at, first) in times.iter().enumerate() {
        let in_window = times[at..].iter().take_while(|time| time.duration_since(*first) < window).count();
        assert!(in_window <= 5, "{in_window} requests within {window:?} of request {at}: {times:?}");
    }
    // And it did hold requests back: 16 at 5 per 500 ms cannot finish in under 1.5 s.
    assert!(started.elapsed() >= Duration::from_millis(1500), "{:?}", started.elapsed());
}
