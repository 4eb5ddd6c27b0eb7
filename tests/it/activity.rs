//! X's Activity API against the mock's `activity` server: subscriptions
//! reused and never made twice, and the app-wide stream held open through
//! keep-alives, other tools' events, dropped and silent connections,
//! in-stream errors, repeated deliveries and a stop.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use spaces::{ActivityItem, ActivityKind, Client, Error, EventOptions, Provider, RateLimiting, Subscription, Token};
use spaces_mock::activity::{ActivityMock, CreateShape, InnerEventType, StreamEvent};
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, EXAMPLE_MISSING_ID, MockProviders};

const TAG: &str = "spaces-watch";
const ALICE: &str = "2244994945";
const BOB: &str = "783214";
const CAROL: &str = "1318764930281472003";

fn client(base_url: String, token: &str) -> Client {
    Client::builder(Provider::X)
        .token(Token::new(token))
        .base_url(base_url)
        .timeout(Duration::from_secs(5))
        .rate_limiting(RateLimiting::Off)
        .build()
        .expect("a test client builds")
}

fn activity(mock: &ActivityMock) -> spaces::Activity {
    client(mock.base_url(), DEMO_TOKEN).activity().expect("X has the Activity API")
}

/// The next item, within a few seconds.
async fn next(items: &mut (impl Stream<Item = ActivityItem> + Unpin)) -> ActivityItem {
    tokio::time::timeout(Duration::from_secs(10), items.next())
        .await
        .expect("an item within 10 s")
        .expect("the stream goes on")
}

/// Items up to and including the `count`-th event.
async fn until_events(items: &mut (impl Stream<Item = ActivityItem> + Unpin), count: usize) -> Vec<ActivityItem> {
    let mut seen = Vec::new();
    while seen.iter().filter(|item: &&ActivityItem| item.event().is_some()).count() < count {
        seen.push(next(items).await);
    }
    seen
}

fn events(items: &[ActivityItem]) -> Vec<(ActivityKind, &str, &str)> {
    items
        .iter()
        .filter_map(ActivityItem::event)
        .map(|event| (event.kind, event.space_id.as_str(), event.user_id.as_str()))
        .collect()
}

fn ids(subscriptions: &[Subscription]) -> Vec<(ActivityKind, &str)> {
    let mut found: Vec<_> = subscriptions
        .iter()
        .map(|subscription| (subscription.kind().expect("a Spaces one"), subscription.user_id.as_deref().unwrap_or("")))
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn subscriptions_are_reused_made_where_missing_and_never_twice() {
    let mock = ActivityMock::start().await;
    mock.add_subscription(ActivityKind::Start, ALICE, Some(TAG));
    // Another tool's: untagged, and the same tag on another event type.
    mock.add_subscription(ActivityKind::Start, BOB, None);
    mock.add_other_subscription("profile.update.bio", ALICE, Some(TAG));
    let activity = activity(&mock);

    let first = activity.ensure_subscriptions([ALICE, BOB, ALICE], TAG).await.expect("ensured");
    assert_eq!(ids(&first.existing), [(ActivityKind::Start, ALICE)]);
    assert_eq!(ids(&first.created), [(ActivityKind::Start, BOB), (ActivityKind::End, ALICE), (ActivityKind::End, BOB)]);
    assert_eq!(ids(&first.others), [(ActivityKind::Start, BOB)], "the untagged one is another tool's");
    assert!(first.created.iter().all(|subscription| subscription.tag.as_deref() == Some(TAG)));
    assert_eq!(mock.count("POST", spaces_mock::activity::CREATE), 3);

    let again = activity.ensure_subscriptions([BOB, ALICE], TAG).await.expect("ensured again");
    assert!(again.created.is_empty(), "nothing is made twice: {again:?}");
    assert_eq!(again.own().count(), 4);
    assert_eq!(mock.count("POST", spaces_mock::activity::CREATE), 3, "no create the second time");
    let held = mock.subscriptions();
    assert_eq!(held.len(), 6);
    for user in [ALICE, BOB] {
        for kind in ActivityKind::ALL {
            let mine = held
                .iter()
                .filter(|held| {
                    held.event_type == kind.event_type() && held.user_id == user && held.tag.as_deref() == Some(TAG)
                })
                .count();
            assert_eq!(mine, 1, "{kind} of {user}");
        }
    }

    // Checked before anything is sent.
    let before = mock.requests().len();
    let bad_user = activity.ensure_subscriptions(["alice"], TAG).await.expect_err("not a user id");
    assert!(matches!(bad_user, Error::InvalidArgument { name: "user id", .. }), "{bad_user}");
    let bad_tag = activity.ensure_subscriptions([ALICE], &"t".repeat(201)).await.expect_err("a tag too long");
    assert!(matches!(bad_tag, Error::InvalidArgument { name: "tag", .. }), "{bad_tag}");
    assert_eq!(mock.requests().len(), before);
}

#[tokio::test]
async fn every_documented_create_answer_names_what_was_made() {
    for shape in [CreateShape::Nested, CreateShape::List, CreateShape::Flat, CreateShape::V2_159, CreateShape::Unnamed]
    {
        let mock = ActivityMock::start().await;
        mock.create_shape(shape);
        let made = activity(&mock).ensure_subscriptions([CAROL], TAG).await.expect("ensured");
        let held: Vec<String> = mock.subscriptions().into_iter().map(|held| held.id).collect();
        let created: Vec<String> = made.created.iter().map(|subscription| subscription.id.clone()).collect();
        assert_eq!(created, held, "{shape:?}");
        assert_eq!(ids(&made.created), [(ActivityKind::Start, CAROL), (ActivityKind::End, CAROL)], "{shape:?}");
    }
}

#[tokio::test]
async fn the_list_is_read_page_by_page() {
    let mock = ActivityMock::start().await;
    mock.page_size(2);
    for user in ["1", "2", "3"] {
        mock.add_other_subscription("follow.follow", user, None);
    }
    mock.add_subscription(ActivityKind::Start, ALICE, Some(TAG));
    mock.add_subscription(ActivityKind::End, ALICE, Some(TAG));
    let activity = activity(&mock);
    assert_eq!(activity.subscriptions().await.expect("listed").len(), 5);
    let made = activity.ensure_subscriptions([ALICE], TAG).await.expect("ensured");
    assert_eq!(made.existing.len(), 2, "found on the last page");
    assert!(made.created.is_empty());
    let pages = mock
        .requests()
        .iter()
        .filter(|request| request.method == "GET" && request.path.ends_with("/subscriptions"))
        .count();
    assert_eq!(pages, 6, "three pages per listing");
}

#[tokio::test]
async fn subscriptions_are_deleted_by_id() {
    let mock = ActivityMock::start().await;
    let id = mock.add_subscription(ActivityKind::End, ALICE, Some(TAG));
    let activity = activity(&mock);
    assert!(activity.delete_subscription(&id).await.expect("deleted"));
    assert!(mock.subscriptions().is_empty());
    assert!(!activity.delete_subscription(&id).await.expect("answered"), "gone already");
    let refused = activity.delete_subscription("../stream").await.expect_err("not an id");
    assert!(matches!(refused, Error::InvalidArgument { name: "subscription id", .. }), "{refused}");
}

#[tokio::test]
async fn only_x_has_the_activity_api() {
    let client = client("http://127.0.0.1:9".to_owned(), DEMO_TOKEN);
    assert!(client.activity().is_ok());
    let socialdata = Client::builder(Provider::SocialData).token(Token::new(DEMO_TOKEN)).build().expect("builds");
    let refused = socialdata.activity().expect_err("not X");
    assert!(matches!(refused, Error::Unsupported { provider: Provider::SocialData, .. }), "{refused}");
}

#[tokio::test]
async fn the_stream_keeps_only_own_events_of_either_spelling_and_skips_the_rest() {
    let mock = ActivityMock::start().await;
    mock.send_keep_alive();
    mock.send_empty_object();
    mock.send_other_subscription();
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG));
    mock.send_keep_alive();
    mock.send_event(&StreamEvent::start(ALICE, EXAMPLE_MISSING_ID).tag("another-app"));
    mock.send_event(&StreamEvent::start(CAROL, EXAMPLE_MISSING_ID).tag(TAG));
    mock.send_line("not json at all");
    mock.send_event(&StreamEvent::end(BOB, DEMO_SPACE_ID).tag(TAG).inner(InnerEventType::Captured));
    mock.send_event(&StreamEvent::start(BOB, EXAMPLE_MISSING_ID).tag(TAG).inner(InnerEventType::Captured).uuid(None));

    let mut items = activity(&mock).events(EventOptions::new(TAG).user_ids([ALICE, BOB]));
    let seen = until_events(&mut items, 3).await;
    assert_eq!(seen[0], ActivityItem::Connected { backfill_minutes: 0 }, "{seen:?}");
    assert_eq!(
        events(&seen),
        [
            (ActivityKind::Start, DEMO_SPACE_ID, ALICE),
            (ActivityKind::End, DEMO_SPACE_ID, BOB),
            (ActivityKind::Start, EXAMPLE_MISSING_ID, BOB),
        ]
    );
    assert_eq!(seen.len(), 4, "nothing but the connection and the three events: {seen:?}");
    let first = seen[1].event().expect("an event");
    assert_eq!(first.tag, TAG);
    assert!(first.event_uuid.as_deref().is_some_and(|uuid| uuid.starts_with('-')), "{first:?}");
    assert_eq!(seen[3].event().expect("an event").event_uuid, None);
    assert_eq!(mock.connections().len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_reconnects_asking_backfill_and_a_repeat_is_dropped() {
    let mock = ActivityMock::start().await;
    let started = StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG).uuid(Some("-7302447221937715005"));
    mock.send_event(&started);
    mock.drop_connection();
    // Backfill delivers the start again, then what was missed.
    mock.send_event(&started);
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG).uuid(Some("42")));
    mock.send_event(&StreamEvent::end(ALICE, DEMO_SPACE_ID).tag(TAG));

    let mut items = activity(&mock).events(EventOptions::new(TAG).idle_timeout(Duration::from_secs(5)));
    let seen = until_events(&mut items, 2).await;
    assert_eq!(events(&seen), [(ActivityKind::Start, DEMO_SPACE_ID, ALICE), (ActivityKind::End, DEMO_SPACE_ID, ALICE)]);
    let kinds: Vec<&str> = seen
        .iter()
        .map(|item| match item {
            ActivityItem::Connected { .. } => "connected",
            ActivityItem::Disconnected { error: Error::Transport { .. }, retry_in } if retry_in.is_zero() => "cut",
            ActivityItem::Event(_) => "event",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["connected", "event", "cut", "connected", "event"], "{seen:?}");
    let ActivityItem::Connected { backfill_minutes } = seen[3] else { panic!("{seen:?}") };
    assert_eq!(backfill_minutes, 1, "the minutes since the drop, rounded up");
    let asked: Vec<Option<i64>> =
        mock.connections().into_iter().map(|connection| connection.backfill_minutes).collect();
    assert_eq!(asked, [None, Some(1)]);
}

#[tokio::test]
async fn a_silent_stream_is_replaced_after_the_idle_limit() {
    let mock = ActivityMock::start().await;
    let idle = Duration::from_millis(800);
    let mut items = activity(&mock).events(EventOptions::new(TAG).idle_timeout(idle));
    assert_eq!(next(&mut items).await, ActivityItem::Connected { backfill_minutes: 0 });
    let started = tokio::time::Instant::now();
    match next(&mut items).await {
        ActivityItem::Disconnected { error: Error::Timeout { after, .. }, retry_in } => {
            assert_eq!(after, idle);
            assert!(retry_in.is_zero(), "it had lasted: reconnect at once");
        }
        other => panic!("expected the idle limit, got {other:?}"),
    }
    assert!(started.elapsed() >= idle - Duration::from_millis(50));
    assert_eq!(next(&mut items).await, ActivityItem::Connected { backfill_minutes: 1 });
    // Keep-alives keep it open past the limit.
    mock.wait_for_connections(2).await;
    for _ in 0..8 {
        mock.send_keep_alive();
        tokio::time::sleep(idle / 4).await;
    }
    mock.send_event(&StreamEvent::end(ALICE, DEMO_SPACE_ID).tag(TAG));
    let item = next(&mut items).await;
    assert!(item.event().is_some(), "{item:?}");
    assert_eq!(mock.connections().len(), 2);
}

#[tokio::test]
async fn an_in_stream_error_is_a_reconnect() {
    let mock = ActivityMock::start().await;
    mock.send_operational_disconnect();
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG));
    let mut items = activity(&mock).events(EventOptions::new(TAG));
    let seen = until_events(&mut items, 1).await;
    let ActivityItem::Disconnected { error, .. } = &seen[1] else { panic!("{seen:?}") };
    assert!(matches!(error, Error::Rejected { .. }), "{error}");
    assert!(error.to_string().contains("operational-disconnect"), "{error}");
    assert!(matches!(seen[2], ActivityItem::Connected { backfill_minutes: 1 }), "{seen:?}");
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[tokio::test]
async fn own_lines_that_are_no_event_are_skipped_and_the_stream_goes_on() {
    let mock = ActivityMock::start().await;
    // A line over the cap, an own event that names no Space, one whose inner type contradicts it.
    mock.send_line(format!("{{\"data\":{{\"tag\":\"{TAG}\",\"pad\":\"{}\"}}}}", "x".repeat(4096)));
    mock.send_event(&StreamEvent::start(ALICE, "not a space id").tag(TAG));
    mock.send_line(
        StreamEvent::end(ALICE, DEMO_SPACE_ID)
            .tag(TAG)
            .to_line()
            .replace(r#""event_type":"end""#, r#""event_type":"start""#),
    );
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG));
    let mut items = activity(&mock).events(EventOptions::new(TAG).max_line_bytes(2048));
    let seen = until_events(&mut items, 1).await;
    let skipped: Vec<&Error> = seen
        .iter()
        .filter_map(|item| match item {
            ActivityItem::Skipped(error) => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 3, "{seen:?}");
    assert!(matches!(skipped[0], Error::BodyTooLarge { limit: 2048, .. }), "{}", skipped[0]);
    assert!(skipped[1].to_string().contains("data.payload.broadcast_id"), "{}", skipped[1]);
    assert!(skipped[2].to_string().contains("data.payload.event_type"), "{}", skipped[2]);
}

#[tokio::test]
async fn a_token_echoed_in_the_stream_is_masked() {
    let mock = ActivityMock::start().await;
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG).uuid(Some(DEMO_TOKEN)));
    mock.send_event(&StreamEvent::end(ALICE, DEMO_TOKEN).tag(TAG));
    mock.send_line(format!(
        r#"{{"errors":[{{"title":"operational-disconnect","detail":"closed for Bearer {DEMO_TOKEN}"}}]}}"#
    ));
    mock.end_stream(); // X closes the connection after an in-stream error.
    mock.send_event(&StreamEvent::end(ALICE, DEMO_SPACE_ID).tag(TAG));
    let mut items = activity(&mock).events(EventOptions::new(TAG));
    let seen = until_events(&mut items, 2).await;
    let shown = format!("{seen:?}");
    assert!(!shown.contains(DEMO_TOKEN), "{shown}");
    assert_eq!(seen[1].event().and_then(|event| event.event_uuid.as_deref()), Some("***"), "{seen:?}");
    assert!(seen.iter().any(|item| matches!(item, ActivityItem::Skipped(Error::Decode { .. }))), "{seen:?}");
    assert!(
        seen.iter().any(|item| matches!(item, ActivityItem::Disconnected { error: Error::Rejected { .. }, .. })),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_stop_signal_ends_the_stream_cleanly() {
    let mock = ActivityMock::start().await;
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut items = activity(&mock).events(EventOptions::new(TAG).stop_on(async move {
        let _ = stopped.await;
    }));
    let seen = until_events(&mut items, 1).await;
    assert_eq!(seen.len(), 2);
    let _ = stop.send(());
    // The connection is open and quiet (the idle limit is 20 s): the stop ends it at once.
    let ended = tokio::time::timeout(Duration::from_secs(2), items.next()).await.expect("ended within 2 s");
    assert_eq!(ended, None);
    assert_eq!(mock.connections().len(), 1, "no reconnect after a stop");
}

#[tokio::test]
async fn a_refused_token_ends_the_stream() {
    let mock = ActivityMock::start().await;
    let activity = client(mock.base_url(), "not-the-demo-token").activity().expect("X");
    let mut items = activity.events(EventOptions::new(TAG));
    match next(&mut items).await {
        ActivityItem::Failed(Error::Unauthorized { status: Some(401), .. }) => {}
        other => panic!("expected the refusal, got {other:?}"),
    }
    assert_eq!(tokio::time::timeout(Duration::from_secs(2), items.next()).await.expect("ended"), None);
    let refused = activity.ensure_subscriptions([ALICE], TAG).await.expect_err("refused");
    assert!(matches!(refused, Error::Unauthorized { .. }), "{refused}");
}

#[tokio::test]
async fn backfill_refused_once_is_asked_no_more() {
    let mock = ActivityMock::start().await;
    mock.refuse_backfill(true);
    mock.drop_connection();
    mock.send_event(&StreamEvent::start(ALICE, DEMO_SPACE_ID).tag(TAG));
    let mut items = activity(&mock).events(EventOptions::new(TAG));
    let seen = until_events(&mut items, 1).await;
    assert!(
        seen.iter().any(|item| matches!(
            item,
            ActivityItem::Disconnected { error: Error::Rejected { status: Some(400), .. }, .. }
        )),
        "{seen:?}"
    );
    let asked: Vec<Option<i64>> =
        mock.connections().into_iter().map(|connection| connection.backfill_minutes).collect();
    assert_eq!(asked, [None, None], "the reconnect that was refused backfill came again without it");
    let stream_requests: Vec<Option<String>> = mock
        .requests()
        .into_iter()
        .filter(|request| request.path.ends_with("/stream"))
        .map(|request| request.query)
        .collect();
    assert_eq!(stream_requests, [None, Some("backfill_minutes=1".to_owned()), None]);
}

#[tokio::test]
async fn in_front_of_the_providers_one_base_url_serves_spaces_and_activity() {
    let providers = MockProviders::start().await;
    let mock = ActivityMock::start_in_front_of(&providers).await;
    let client = client(mock.base_url(), DEMO_TOKEN);
    let space = client.space(DEMO_SPACE_ID).await.expect("passed on to the providers' mock");
    assert_eq!(space.id, DEMO_SPACE_ID);
    let hydrated = client.spaces([DEMO_SPACE_ID, EXAMPLE_MISSING_ID]).await;
    assert!(hydrated[0].result.is_ok() && hydrated[1].result.is_err(), "{hydrated:?}");
    let made = client.activity().expect("X").ensure_subscriptions([ALICE], TAG).await.expect("ensured");
    assert_eq!(made.created.len(), 2);
}
