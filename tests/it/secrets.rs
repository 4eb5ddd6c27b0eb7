//! The token never reaches an error's `Display` or `Debug`, a log line, or a
//! client's `Debug` — even when a hostile server echoes it back.

use std::time::Duration;

use spaces::{Client, Provider};
use spaces_mock::{json, not_found};
use wiremock::ResponseTemplate;

use crate::support::{Captured, TEST_TOKEN, build, recorded_with, serve, test_builder, test_client};

/// Asks `client` for a Space, which must fail, and keeps everything it shows:
/// its own `Debug`, and the error's `Display` and `Debug`.
async fn record_failure(client: &Client, outputs: &mut Vec<String>) {
    outputs.push(format!("{client:?}"));
    let error = client.space("1jMJgLdenVjxL").await.expect_err("every answer here fails");
    outputs.push(error.to_string());
    outputs.push(format!("{error:?}"));
}

#[tokio::test]
async fn the_token_appears_in_no_error_debug_or_log_line() {
    let logs = Captured::default();
    let subscriber = logs.subscriber();
    // tokio::test runs on one thread, so a thread-local default sees every span.
    let _guard = tracing::subscriber::set_default(subscriber);

    let echo = format!("you sent Authorization: Bearer {TEST_TOKEN}");
    let answers = [
        ResponseTemplate::new(401).set_body_string(echo.clone()),
        ResponseTemplate::new(500).set_body_string(echo.clone()),
        ResponseTemplate::new(418).set_body_string(echo.clone()),
        // A value that is the token, in a body that does not decode.
        json(200, &recorded_with(Provider::X, "created_at", TEST_TOKEN)),
        ResponseTemplate::new(429).insert_header("retry-after", "0").set_body_string(echo.clone()),
        not_found(Provider::X, "1jMJgLdenVjxL"),
        json(200, "{}").set_delay(Duration::from_secs(10)),
    ];
    let mut outputs = Vec::new();
    for answer in answers {
        let server = serve(Provider::X, answer).await;
        let client = build(test_builder(Provider::X, server.uri()).timeout(Duration::from_millis(300)));
        record_failure(&client, &mut outputs).await;
    }
    // twitterapi.io takes the key in `x-api-key`: an echo of that is hidden too.
    let echo = format!("you sent x-api-key: {TEST_TOKEN}");
    for answer in [
        ResponseTemplate::new(401).set_body_string(echo.clone()),
        json(400, &format!(r#"{{"error":400,"message":"{echo}"}}"#)),
        json(200, &format!(r#"{{"status":"error","msg":"{echo}"}}"#)),
    ] {
        let server = serve(Provider::TwitterApi, answer).await;
        record_failure(&test_client(Provider::TwitterApi, server.uri()), &mut outputs).await;
    }
    // Connection refused, and an invalid id.
    let closed = test_client(Provider::X, "http://127.0.0.1:9");
    for id in ["1jMJgLdenVjxL", "not an id!"] {
        let error = closed.space(id).await.expect_err("fails");
        outputs.push(error.to_string());
        outputs.push(format!("{error:?}"));
    }

    let log_text = logs.text();
    assert!(log_text.contains("spaces.request"), "request spans were captured:\n{log_text}");
    assert!(log_text.contains("retrying"), "retries were logged:\n{log_text}");
    for output in &outputs {
        assert!(!output.contains(TEST_TOKEN), "token leaked into: {output}");
    }
    assert!(!log_text.contains(TEST_TOKEN), "token leaked into the logs:\n{log_text}");
    assert!(outputs.iter().any(|output| output.contains("***")), "echoed tokens are redacted, not dropped");
}
