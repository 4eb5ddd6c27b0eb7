//! Fault injection over loopback HTTP: broken connections, slow and stalled
//! servers, misleading headers, redirects, and rate-limit answers. Every case
//! must end within the client's deadline with the right error kind.

use std::time::{Duration, Instant};

use spaces::{Client, Error, Provider, RetryPolicy, SpaceState};
use spaces_mock::{endpoint, endpoint_for, json, recorded_space};
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Behavior, TEST_TOKEN, build, raw_server_with, serve_first_then, test_builder, test_client};

const ID: &str = "1jMJgLdenVjxL";
/// The overall deadline each faulty case runs under.
const DEADLINE: Duration = Duration::from_secs(3);

fn client(base_url: &str) -> Client {
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        deadline: Some(DEADLINE),
    };
    let builder = test_builder(Provider::X, base_url).timeout(Duration::from_millis(800));
    build(builder.connect_timeout(Duration::from_millis(800)).retry(retry))
}

/// Runs one faulty exchange and checks it ended within the deadline.
async fn fetch(base_url: &str) -> Result<spaces::Space, Error> {
    let started = Instant::now();
    let result = client(base_url).space(ID).await;
    assert!(started.elapsed() <= DEADLINE + Duration::from_millis(500), "took {:?}: {result:?}", started.elapsed());
    result
}

fn head(content_length: usize) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {content_length}\r\n\r\n")
        .into_bytes()
}

#[tokio::test]
async fn connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let error = fetch(&format!("http://{address}")).await.expect_err("refused");
    assert!(
        matches!(&error, Error::Transport { detail, .. } if detail.to_lowercase().contains("connect")),
        "{error:?}"
    );
}

#[tokio::test]
async fn reset_mid_headers() {
    let base = raw_server_with(Behavior::ResetAfter(b"HTTP/1.1 200 OK\r\ncontent-ty".to_vec())).await;
    let error = fetch(&base).await.expect_err("reset");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn reset_mid_body() {
    let mut bytes = head(4000);
    bytes.extend_from_slice(br#"{"data":{"id":"1jMJgLdenVjxL","state":"li"#);
    let base = raw_server_with(Behavior::ResetAfter(bytes)).await;
    let error = fetch(&base).await.expect_err("reset");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn slow_drip_body_times_out() {
    let body = recorded_space(Provider::X).as_bytes().to_vec();
    let base =
        raw_server_with(Behavior::Drip { head: head(body.len()), body, every: Duration::from_millis(150) }).await;
    let error = fetch(&base).await.expect_err("too slow");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn stalled_server_times_out() {
    let base = raw_server_with(Behavior::Stall).await;
    let error = fetch(&base).await.expect_err("stalled");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

/// A server answering X's endpoint with `answer`.
async fn serve(answer: ResponseTemplate) -> MockServer {
    crate::support::serve(Provider::X, answer).await
}

#[tokio::test]
async fn wrong_content_type_with_a_valid_body_is_still_read() {
    // The generated client decodes whatever arrives; a JSON body labelled
    // text/html is still the provider's answer.
    let server =
        serve(ResponseTemplate::new(200).set_body_raw(recorded_space(Provider::X).as_bytes().to_vec(), "text/html"))
            .await;
    let space = fetch(&server.uri()).await.expect("valid JSON is valid JSON");
    assert_eq!(space.state, SpaceState::Ended);

    let html = serve(ResponseTemplate::new(200).set_body_raw(b"<html>maintenance</html>".to_vec(), "text/html")).await;
    let error = fetch(&html.uri()).await.expect_err("not JSON");
    assert!(matches!(&error, Error::Decode { field, .. } if field == "body"), "{error:?}");
}

#[tokio::test]
async fn gzip_claimed_but_not_sent() {
    // The client never asks for compression, so it does not decompress: a
    // plain body wrongly labelled gzip is read as it is.
    let plain = serve(json(200, recorded_space(Provider::X)).insert_header("content-encoding", "gzip")).await;
    let space = fetch(&plain.uri()).await.expect("plain body read as is");
    assert_eq!(space.id, ID);
}

#[tokio::test]
async fn redirect_loop_is_a_transport_error() {
    let server = MockServer::start().await;
    let location = format!("{}/2/spaces/{ID}", server.uri());
    endpoint(Provider::X)
        .respond_with(ResponseTemplate::new(302).insert_header("location", location.as_str()))
        .mount(&server)
        .await;
    let error = fetch(&server.uri()).await.expect_err("loop");
    assert!(matches!(&error, Error::Transport { detail, .. } if detail.contains("redirect")), "{error:?}");
}

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_token() {
    let elsewhere = serve(json(200, recorded_space(Provider::X))).await;
    // Same machine, other host name: `localhost` instead of `127.0.0.1`.
    let port = elsewhere.address().port();
    let origin = MockServer::start().await;
    let location = format!("http://localhost:{port}/2/spaces/{ID}");
    endpoint(Provider::X)
        .respond_with(ResponseTemplate::new(307).insert_header("location", location.as_str()))
        .mount(&origin)
        .await;

    let space = fetch(&origin.uri()).await.expect("followed");
    assert_eq!(space.id, ID);
    let at_origin = origin.received_requests().await.expect("recording");
    assert!(at_origin[0].headers.get("authorization").is_some(), "the origin got the token");
    let forwarded = elsewhere.received_requests().await.expect("recording");
    assert_eq!(forwarded.len(), 1);
    assert!(forwarded[0].headers.get("authorization").is_none(), "the other host must not get the token");
}

#[tokio::test]
async fn an_api_key_header_is_never_redirected_to_another_host() {
    // reqwest strips only `Authorization` across hosts; twitterapi.io's key
    // travels in `x-api-key`, so such a redirect is refused, not followed.
    let elsewhere = serve(json(200, recorded_space(Provider::TwitterApi))).await;
    let location = format!("http://localhost:{}/twitter/spaces/detail?space_id={ID}", elsewhere.address().port());
    let origin = MockServer::start().await;
    endpoint(Provider::TwitterApi)
        .respond_with(ResponseTemplate::new(302).insert_header("location", location.as_str()))
        .mount(&origin)
        .await;

    let error = test_client(Provider::TwitterApi, origin.uri()).space(ID).await.expect_err("refused");
    assert!(matches!(&error, Error::Transport { detail, .. } if detail.contains("another host")), "{error:?}");
    assert_eq!(elsewhere.received_requests().await.map(|requests| requests.len()), Some(0));

    // A redirect on the same host is still followed, key and all.
    let same = MockServer::start().await;
    endpoint_for(Provider::TwitterApi, ID)
        .and(header("x-api-key", TEST_TOKEN))
        .respond_with(json(200, recorded_space(Provider::TwitterApi)))
        .mount(&same)
        .await;
    let moved = format!("/twitter/spaces/detail?space_id={ID}");
    Mock::given(path("/v0/twitter/spaces/detail"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", moved.as_str()))
        .mount(&same)
        .await;
    let space = test_client(Provider::TwitterApi, format!("{}/v0", same.uri())).space(ID).await;
    assert_eq!(space.expect("followed on the same host").id, ID);
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_then_reports_rate_limited() {
    let server = serve(ResponseTemplate::new(429)).await;
    let error = fetch(&server.uri()).await.expect_err("always 429");
    assert!(matches!(error, Error::RateLimited { retry_after: None, .. }), "{error:?}");
    assert_eq!(server.received_requests().await.map(|requests| requests.len()), Some(3));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let when = httpdate_in(Duration::from_secs(2));
    let busy = ResponseTemplate::new(429).insert_header("retry-after", when.as_str());
    let server = serve_first_then(Provider::X, busy, json(200, recorded_space(Provider::X))).await;
    let started = Instant::now();
    let space = fetch(&server.uri()).await.expect("retried");
    assert_eq!(space.id, ID);
    // HTTP dates have one-second precision: "in 2 s" is at least 1 s away.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
}

#[tokio::test]
async fn an_absurd_retry_after_is_capped_and_not_waited_for() {
    let server = serve(ResponseTemplate::new(429).insert_header("retry-after", "999999999")).await;
    let started = Instant::now();
    let error = fetch(&server.uri()).await.expect_err("rate limited");
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(after), .. } if after == RetryPolicy::MAX_RETRY_AFTER),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "gave up at once rather than outwait the deadline");
    assert_eq!(server.received_requests().await.map(|requests| requests.len()), Some(1));
}

#[tokio::test]
async fn slow_5xx_answers_hit_the_overall_deadline() {
    let server = serve(ResponseTemplate::new(503).set_delay(Duration::from_millis(700))).await;
    let retry = RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
        deadline: Some(Duration::from_millis(1500)),
    };
    // Attempts of at most 1 s (a deadline is never shorter than one attempt).
    let client = build(test_builder(Provider::X, server.uri()).retry(retry).timeout(Duration::from_secs(1)));
    let started = Instant::now();
    let error = client.space(ID).await.expect_err("deadline");
    assert!(started.elapsed() < Duration::from_millis(2000), "{:?}", started.elapsed());
    assert!(matches!(error, Error::Timeout { .. } | Error::Upstream { status: 503, .. }), "{error:?}");
}

fn httpdate_in(after: Duration) -> String {
    let when = std::time::SystemTime::now() + after;
    let seconds = when.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let time = chrono::DateTime::from_timestamp(seconds as i64, 0).expect("in range");
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
