//! The scripted lifecycle ([`spaces_mock::lifecycle`]) over real HTTP on
//! loopback: what the two endpoints answer at each moment of a script, the
//! budget's headers and 429s, and the events the script implies.

mod common;

use common::Answer;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use spaces::{Client, Error, Provider, RateLimiting, SpaceState, Token};
use spaces_mock::lifecycle::{
    Audience, EventKind, ExpectedEvent, Lifecycle, MockClock, Phase, SpaceScript, Timeline, XBudget,
};
use spaces_mock::{DEMO_TOKEN, MockProviders, x_multi};
use wiremock::MockServer;

const ADA: &str = Timeline::DEMO_USERS[0];
const BRUNO: &str = Timeline::DEMO_USERS[1];
const CHEN: &str = Timeline::DEMO_USERS[2];
const DANA: &str = Timeline::DEMO_USERS[3];
const LAUNCH: &str = "1DemoLaunch01";
const CANCEL: &str = "1DemoCancel01";
const RESCHED: &str = "1DemoResched1";
const VANISH: &str = "1DemoVanish01";

/// Every field and expansion, as the library asks for them.
const ALL_FIELDS: &str = "space.fields=created_at,creator_id,ended_at,host_ids,id,invited_user_ids,is_ticketed,lang,\
participant_count,scheduled_start,speaker_ids,started_at,state,subscriber_count,title,topic_ids,updated_at\
&expansions=creator_id,host_ids,invited_user_ids,speaker_ids,topic_ids&user.fields=id,name,username";

fn s(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn epoch() -> DateTime<Utc> {
    "2024-05-01T12:00:00Z".parse().expect("a time")
}

/// `seconds` after [`epoch`], as X writes it.
fn stamp(seconds: u64) -> String {
    (epoch() + chrono::Duration::seconds(i64::try_from(seconds).expect("small")))
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// A lifecycle on its own server, a manual clock from [`epoch`], and a client.
struct Session {
    lifecycle: Lifecycle,
    clock: MockClock,
    server: MockServer,
    http: reqwest::Client,
}

impl Session {
    async fn start(timeline: Timeline, budget: XBudget) -> Session {
        let clock = MockClock::manual_from(epoch());
        let lifecycle = Lifecycle::new(timeline).with_clock(clock.clone()).with_budget(budget);
        let server = lifecycle.start().await;
        Session { lifecycle, clock, server, http: reqwest::Client::new() }
    }

    async fn demo() -> Session {
        // A budget that never gets in the way of these tests.
        Session::start(Timeline::demo(), XBudget::per_endpoint(10_000, s(900))).await
    }

    async fn get_with(&self, path_and_query: &str, token: Option<&str>) -> Answer {
        let answer = Answer::get(&self.http, &format!("{}{path_and_query}", self.server.uri()), token).await;
        assert_no_null(&answer.body, path_and_query);
        answer
    }

    async fn get(&self, path_and_query: &str) -> Answer {
        self.get_with(path_and_query, Some(DEMO_TOKEN)).await
    }

    async fn by_creator(&self, users: &[&str]) -> Answer {
        self.get(&format!("/2/spaces/by/creator_ids?user_ids={}&{ALL_FIELDS}", users.join(","))).await
    }

    async fn batch(&self, ids: &[&str]) -> Answer {
        self.get(&format!("/2/spaces?ids={}&{ALL_FIELDS}", ids.join(","))).await
    }

    fn client(&self, rate_limiting: RateLimiting) -> Client {
        Client::builder(Provider::X)
            .token(Token::new(DEMO_TOKEN))
            .base_url(self.server.uri())
            .rate_limiting(rate_limiting)
            .build()
            .expect("a client")
    }
}

/// X omits fields rather than sending `null`.
fn assert_no_null(value: &Value, context: &str) {
    match value {
        Value::Null => panic!("{context}: a null in the answer"),
        Value::Array(items) => items.iter().for_each(|item| assert_no_null(item, context)),
        Value::Object(members) => members.values().for_each(|member| assert_no_null(member, context)),
        _ => {}
    }
}

fn states(answer: &Answer) -> Vec<(&str, &str)> {
    let data = answer.body.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    data.iter().map(|space| (space["id"].as_str().expect("id"), space["state"].as_str().expect("state"))).collect()
}

#[tokio::test]
async fn by_creator_lists_the_live_and_scheduled_spaces_of_each_moment() {
    let session = Session::demo().await;
    let all = Timeline::DEMO_USERS;
    let expected: [(u64, &[(&str, &str)]); 9] = [
        (0, &[(LAUNCH, "scheduled"), (CANCEL, "scheduled"), (RESCHED, "scheduled")]),
        (2, &[(LAUNCH, "scheduled"), (CANCEL, "scheduled"), (RESCHED, "scheduled"), (VANISH, "live")]),
        (4, &[(LAUNCH, "live"), (CANCEL, "scheduled"), (RESCHED, "scheduled"), (VANISH, "live")]),
        (6, &[(LAUNCH, "live"), (RESCHED, "scheduled"), (VANISH, "live")]),
        (10, &[(LAUNCH, "live"), (RESCHED, "scheduled")]),
        (12, &[(LAUNCH, "live"), (RESCHED, "live")]),
        (14, &[(RESCHED, "live")]),
        (18, &[]),
        (600, &[]),
    ];
    for (at, spaces) in expected {
        session.clock.advance_to(s(at));
        let answer = session.by_creator(&all).await;
        assert_eq!(answer.status, 200, "{at} s");
        assert_eq!(states(&answer), spaces, "{at} s");
        assert_eq!(answer.body["meta"], json!({ "result_count": spaces.len() }), "{at} s");
        if spaces.is_empty() {
            assert_eq!(answer.body, json!({ "meta": { "result_count": 0 } }), "{at} s: X's empty answer");
        }
    }
}

#[tokio::test]
async fn each_phase_in_x_shape() {
    let session = Session::demo().await;

    // Scheduled, then rescheduled.
    let answer = session.by_creator(&[CHEN]).await;
    assert_eq!(
        answer.space(RESCHED),
        &json!({
            "id": RESCHED, "state": "scheduled", "title": "Release retro", "lang": "en",
            "created_at": stamp(0), "scheduled_start": stamp(8), "updated_at": stamp(0),
            "creator_id": CHEN, "host_ids": [CHEN], "is_ticketed": false,
            "participant_count": 0, "subscriber_count": 0,
        })
    );
    assert_eq!(
        answer.body["includes"],
        json!({ "users": [{ "id": CHEN, "name": "Chen Wei", "username": "chen_ships" }] })
    );
    session.clock.advance_to(s(3));
    let answer = session.by_creator(&[CHEN]).await;
    assert_eq!(answer.space(RESCHED)["scheduled_start"], stamp(12));
    assert_eq!(answer.space(RESCHED)["updated_at"], stamp(3));

    // Live, and its audience over time.
    session.clock.advance_to(s(5));
    let answer = session.by_creator(&[ADA]).await;
    assert_eq!(
        answer.space(LAUNCH),
        &json!({
            "id": LAUNCH, "state": "live", "title": "Launch day, live", "lang": "en",
            "created_at": stamp(0), "scheduled_start": stamp(4), "started_at": stamp(4), "updated_at": stamp(4),
            "creator_id": ADA, "host_ids": [ADA], "speaker_ids": [ADA], "is_ticketed": false,
            "participant_count": 25, "subscriber_count": 12,
        })
    );
    session.clock.advance_to(s(9));
    let answer = session.by_creator(&[ADA]).await;
    let launch = answer.space(LAUNCH);
    assert_eq!((&launch["participant_count"], &launch["speaker_ids"]), (&json!(80), &json!([ADA, BRUNO])));
    assert_eq!(launch["started_at"], stamp(4), "started once");
    let users: Vec<&str> = answer.body["includes"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|user| user["id"].as_str().expect("id"))
        .collect();
    assert_eq!(users, [ADA, BRUNO], "the creator and the speakers, each once");

    // Ended and canceled, through the batch lookup.
    session.clock.advance_to(s(15));
    let answer = session.batch(&[LAUNCH, CANCEL]).await;
    assert_eq!(
        answer.space(LAUNCH),
        &json!({
            "id": LAUNCH, "state": "ended", "title": "Launch day, live", "lang": "en",
            "created_at": stamp(0), "scheduled_start": stamp(4), "started_at": stamp(4), "ended_at": stamp(14),
            "updated_at": stamp(14), "creator_id": ADA, "host_ids": [ADA], "speaker_ids": [ADA, BRUNO],
            "is_ticketed": false, "participant_count": 80, "subscriber_count": 12,
        })
    );
    assert_eq!(
        answer.space(CANCEL),
        &json!({
            "id": CANCEL, "state": "canceled", "title": "Weekly office hours", "lang": "en",
            "created_at": stamp(0), "scheduled_start": stamp(60), "ended_at": stamp(6), "updated_at": stamp(6),
            "creator_id": BRUNO, "host_ids": [BRUNO], "is_ticketed": false,
            "participant_count": 0, "subscriber_count": 3,
        })
    );
    assert!(answer.body.get("meta").is_none(), "`?ids=` has no meta");
    assert!(answer.body.get("errors").is_none());
}

#[tokio::test]
async fn batch_answers_each_id_as_it_is_now() {
    let session = Session::demo().await;
    let unknown = "1zzUnknown123";
    let ids = [LAUNCH, VANISH, unknown, CANCEL, LAUNCH];

    // At 1 s the vanishing Space does not exist yet: not found, like an id nobody knows.
    session.clock.advance_to(s(1));
    let answer = session.batch(&ids).await;
    assert_eq!(states(&answer), [(LAUNCH, "scheduled"), (CANCEL, "scheduled")], "in request order, once");
    assert_eq!(answer.ids("errors"), [VANISH, unknown]);

    session.clock.advance_to(s(5));
    let answer = session.batch(&ids).await;
    assert_eq!(states(&answer), [(LAUNCH, "live"), (VANISH, "live"), (CANCEL, "scheduled")]);
    assert_eq!(answer.ids("errors"), [unknown]);

    // Gone: X's resource-not-found Problem, as the recorded batch gives it.
    session.clock.advance_to(s(10));
    let answer = session.batch(&[VANISH, LAUNCH]).await;
    assert_eq!(states(&answer), [(LAUNCH, "live")]);
    assert_eq!(answer.body["errors"], x_multi::batch_body(&[VANISH.to_owned()])["errors"]);
    let problem = &answer.body["errors"][0];
    assert_eq!((&problem["resource_id"], &problem["parameter"]), (&json!(VANISH), &json!("ids")));
    assert!(problem["type"].as_str().is_some_and(|kind| kind.ends_with("/2/problems/resource-not-found")));

    let answer = session.batch(&[VANISH, unknown]).await;
    assert_eq!(
        answer.body.as_object().map(|body| body.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["errors".into()])
    );
}

#[tokio::test]
async fn fields_and_expansions_as_requested() {
    let session = Session::demo().await;
    session.clock.advance_to(s(9));
    let path = format!("/2/spaces/by/creator_ids?user_ids={ADA},{DANA}");

    // No `space.fields`: X's default, `id` and `state`; no expansions, no includes.
    let answer = session.get(&path).await;
    assert_eq!(
        answer.body,
        json!({
            "data": [{ "id": LAUNCH, "state": "live" }, { "id": VANISH, "state": "live" }],
            "meta": { "result_count": 2 },
        })
    );

    let answer =
        session.get(&format!("{path}&space.fields=title,participant_count,speaker_ids&expansions=speaker_ids")).await;
    assert_eq!(
        answer.space(LAUNCH),
        &json!({ "id": LAUNCH, "state": "live", "title": "Launch day, live", "participant_count": 80, "speaker_ids": [ADA, BRUNO] })
    );
    let users: Vec<&str> = answer.body["includes"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|user| user["id"].as_str().expect("id"))
        .collect();
    assert_eq!(users, [ADA, BRUNO, DANA], "the speakers only, each once");

    let answer = session.get(&format!("{path}&space.fields=creator_id&expansions=creator_id")).await;
    let users = answer.body["includes"]["users"].as_array().expect("users");
    assert_eq!(users.len(), 2, "the creators: {users:?}");
}

#[tokio::test]
async fn requests_are_checked_as_x_checks_them() {
    let session = Session::demo().await;
    let too_many: Vec<String> = (0..101).map(|n| (1000 + n).to_string()).collect();
    for path in [
        "/2/spaces/by/creator_ids".to_owned(),
        "/2/spaces/by/creator_ids?user_ids=".to_owned(),
        "/2/spaces/by/creator_ids?user_ids=alice".to_owned(),
        format!("/2/spaces/by/creator_ids?user_ids={}", too_many.join(",")),
        "/2/spaces".to_owned(),
        "/2/spaces?ids=not-an-id!".to_owned(),
        "/2/spaces?ids=1zz63FfkCzJr4xyz".to_owned(),
    ] {
        let answer = session.get(&path).await;
        assert_eq!((answer.status, &answer.body["title"]), (400, &json!("Invalid Request")), "{path}");
        assert!(answer.header("x-rate-limit-remaining").is_some(), "{path}: headers on errors too");
    }
    let exactly_100: Vec<String> = (0..100).map(|n| (1000 + n).to_string()).collect();
    let answer = session.get(&format!("/2/spaces/by/creator_ids?user_ids={}", exactly_100.join(","))).await;
    assert_eq!(
        (answer.status, &answer.body),
        (200, &json!({ "meta": { "result_count": 0 } })),
        "unknown users have none"
    );

    let unauthorized: Value =
        serde_json::from_str(Provider::X.info().lookup.example("unauthorized").expect("X has it").body).expect("JSON");
    for token in [None, Some("wrong-token")] {
        let answer = session.get_with(&format!("/2/spaces/by/creator_ids?user_ids={ADA}"), token).await;
        assert_eq!((answer.status, &answer.body), (401, &unauthorized), "{token:?}");
    }
}

#[tokio::test]
async fn rate_limit_headers_count_per_endpoint_and_429_past_the_budget() {
    let session = Session::start(Timeline::demo(), XBudget::per_endpoint(3, s(900))).await;
    let reset = session.get(&format!("/2/spaces/by/creator_ids?user_ids={ADA}")).await.header("x-rate-limit-reset");
    let reset = reset.expect("a reset");
    assert!(reset.abs_diff(unix_now() + 900) <= 2, "the window ends 15 minutes after time zero: {reset}");

    let mut seen = Vec::new();
    for (path, token) in [
        (format!("/2/spaces?ids={LAUNCH}"), None),
        (format!("/2/spaces/by/creator_ids?user_ids={ADA}"), Some(DEMO_TOKEN)),
        (format!("/2/spaces/by/creator_ids?user_ids={ADA}"), Some(DEMO_TOKEN)),
        (format!("/2/spaces?ids={LAUNCH}"), Some(DEMO_TOKEN)),
        (format!("/2/spaces?ids={LAUNCH}"), Some(DEMO_TOKEN)),
        (format!("/2/spaces?ids={LAUNCH}"), Some(DEMO_TOKEN)),
        (format!("/2/spaces/by/creator_ids?user_ids={ADA}"), Some(DEMO_TOKEN)),
    ] {
        let answer = session.get_with(&path, token).await;
        assert_eq!(answer.header("x-rate-limit-limit"), Some(3), "{path}");
        assert_eq!(answer.header("x-rate-limit-reset"), Some(reset), "{path}");
        seen.push((answer.status, answer.header("x-rate-limit-remaining").expect("remaining")));
        if answer.status == 429 {
            assert_eq!(
                answer.body,
                json!({ "title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429 })
            );
            assert!(answer.headers.get("retry-after").is_none(), "the 15-minute window says when: its reset");
        }
    }
    assert_eq!(seen, [(401, 2), (200, 1), (200, 0), (200, 1), (200, 0), (429, 0), (429, 0)], "one count per endpoint");

    // A 401 counts; a 429 does not, but is recorded.
    let records = session.lifecycle.requests();
    let statuses: Vec<(&str, u16)> = records.iter().map(|record| (record.operation_id, record.status)).collect();
    assert_eq!(
        statuses,
        [
            (x_multi::BY_CREATOR, 200),
            (x_multi::BATCH, 401),
            (x_multi::BY_CREATOR, 200),
            (x_multi::BY_CREATOR, 200),
            (x_multi::BATCH, 200),
            (x_multi::BATCH, 200),
            (x_multi::BATCH, 429),
            (x_multi::BY_CREATOR, 429),
        ]
    );
    assert_eq!(session.lifecycle.busiest_window(x_multi::BATCH, s(900)), 4, "what the client sent, 429 included");
    assert_eq!(session.lifecycle.busiest_window(x_multi::BY_CREATOR, s(900)), 4);
    assert_eq!(session.lifecycle.busiest_window(x_multi::BATCH, Duration::ZERO), 0);
    assert!(records.iter().all(|record| record.at.is_zero()), "the manual clock stood still");
}

#[tokio::test]
async fn a_new_window_restarts_the_count_and_moves_the_reset() {
    // 2 per second of budget time; a manual clock's budget time is real time.
    let session = Session::start(Timeline::demo(), XBudget::per_endpoint(2, s(1))).await;
    let path = format!("/2/spaces?ids={LAUNCH}");
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(session.get(&path).await);
    }
    let window = (answers[0].header("x-rate-limit-reset"), answers[2].header("x-rate-limit-reset"));
    if window.0 != window.1 {
        // The three requests straddled a window's end (a slow machine): too late to tell.
        return;
    }
    assert_eq!(answers.iter().map(|answer| answer.status).collect::<Vec<_>>(), [200, 200, 429]);
    let reset = window.0.expect("a reset");
    // Wait out the window, as a client does with `x-rate-limit-reset`.
    while unix_now() < reset {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = session.get(&path).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("x-rate-limit-reset").expect("a reset") > reset, "a later window");
}

#[tokio::test]
async fn by_creator_allows_one_request_per_second() {
    let session = Session::start(Timeline::demo(), XBudget::documented()).await;
    let path = format!("/2/spaces/by/creator_ids?user_ids={ADA}");
    let first = session.get(&path).await;
    let second = session.get(&path).await;
    let records = session.lifecycle.requests();
    if records[1].budget_at - records[0].budget_at >= Duration::from_millis(750) {
        // A machine so slow that the second came three quarters of a second later: too late to tell.
        return;
    }
    assert_eq!((first.status, first.header("x-rate-limit-limit")), (200, Some(300)));
    assert_eq!(first.header("x-rate-limit-remaining"), Some(299));
    assert_eq!(second.status, 429, "sooner than a second after the first");
    assert_eq!(second.header("retry-after"), Some(1), "the mock says when the second is over");
    assert_eq!(
        (second.header("x-rate-limit-remaining"), second.header("x-rate-limit-reset")),
        (Some(299), first.header("x-rate-limit-reset")),
        "the 15-minute window is not spent: a client must not wait for its end"
    );
    assert_eq!(second.body["title"], "Too Many Requests");
    // The batch lookup has no such limit.
    for remaining in [299, 298] {
        assert_eq!(
            session.get(&format!("/2/spaces?ids={LAUNCH}")).await.header("x-rate-limit-remaining"),
            Some(remaining)
        );
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let third = session.get(&path).await;
    assert_eq!((third.status, third.header("x-rate-limit-remaining")), (200, Some(298)), "the 429 was not counted");
}

#[tokio::test]
async fn a_fast_clock_plays_the_script_and_the_budget_faster() {
    let lifecycle = Lifecycle::new(Timeline::demo()).at_speed(1000.0);
    let clock = lifecycle.clock().clone();
    let started = clock.now();
    let server = lifecycle.start().await;
    tokio::time::sleep(Duration::from_millis(30)).await; // 30 s of script
    assert!(clock.elapsed() >= s(30), "{:?}", clock.elapsed());
    assert!(clock.now() - started >= chrono::Duration::seconds(30));

    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{}/2/spaces?ids={LAUNCH},{VANISH}&space.fields=state,ended_at", server.uri()))
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("answers");
    // 15 minutes of budget time are 0.9 real seconds.
    let reset: u64 = answer.headers()["x-rate-limit-reset"].to_str().expect("ASCII").parse().expect("a number");
    assert!(reset <= unix_now() + 2, "the window ends within a second or two: {reset}");
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["data"], json!([{ "id": LAUNCH, "state": "ended", "ended_at": body["data"][0]["ended_at"] }]));
    let ended_at: DateTime<Utc> = body["data"][0]["ended_at"].as_str().expect("ended_at").parse().expect("a time");
    assert_eq!(ended_at, clock.time_at(s(14)), "14 s of script after time zero");
    assert_eq!(body["errors"][0]["resource_id"], VANISH);
}

#[test]
fn the_demo_implies_these_events() {
    use EventKind::*;
    let event = |space: &str, user: &str, kind, at| ExpectedEvent {
        space_id: space.to_owned(),
        user_id: user.to_owned(),
        kind,
        at: s(at),
    };
    let all = vec![
        event(LAUNCH, ADA, Scheduled, 0),
        event(CANCEL, BRUNO, Scheduled, 0),
        event(RESCHED, CHEN, Scheduled, 0),
        event(VANISH, DANA, Started, 2),
        event(RESCHED, CHEN, Rescheduled, 3),
        event(LAUNCH, ADA, Started, 4),
        event(CANCEL, BRUNO, Canceled, 6),
        event(VANISH, DANA, Gone, 10),
        event(RESCHED, CHEN, Started, 12),
        event(LAUNCH, ADA, Ended, 14),
        event(RESCHED, CHEN, Ended, 18),
    ];
    let timeline = Timeline::demo();
    assert_eq!(timeline.expected_events(s(3600)), all);
    assert_eq!(timeline.expected_events(s(6)), all[..7], "up to `until`, inclusive");
    assert_eq!(timeline.expected_events(Duration::from_millis(5999)), all[..6]);
    assert_eq!(timeline.last_change(), s(18));
    let kinds: Vec<&str> = all.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds[..5], ["scheduled", "scheduled", "scheduled", "started", "rescheduled"]);
}

#[test]
fn samples_and_repeats_are_not_events() {
    let timeline = Timeline::new().user("42", "who", "Who").space(
        SpaceScript::new("1Samples00001", "42", "Samples")
            .then(s(1), Phase::Scheduled { starts: s(10), subscribers: 1 })
            .then(s(2), Phase::Scheduled { starts: s(10), subscribers: 7 }) // more reminders, same start
            .live(s(10), Audience::new(5, 7, &["42"]))
            .live(s(20), Audience::new(50, 7, &["42", "43"]))
            .ended(s(30))
            .gone(s(40)), // after it ended: the watcher has confirmed it already
    );
    let kinds: Vec<(EventKind, Duration)> =
        timeline.expected_events(s(100)).into_iter().map(|event| (event.kind, event.at)).collect();
    assert_eq!(kinds, [(EventKind::Scheduled, s(1)), (EventKind::Started, s(10)), (EventKind::Ended, s(30))]);

    let snapshot = timeline.space_at("1Samples00001", s(25)).expect("live");
    assert_eq!((snapshot.state, snapshot.participants, snapshot.speakers.len()), (SpaceState::Live, 50, 2));
    assert_eq!((snapshot.started_at, snapshot.scheduled_start), (Some(s(10)), Some(s(10))));
    assert_eq!(timeline.space_at("1Samples00001", s(2)).expect("scheduled").subscribers, 7);
    assert!(timeline.space_at("1Samples00001", Duration::from_millis(999)).is_none(), "not yet");
    assert!(timeline.space_at("1Samples00001", s(40)).is_none(), "gone");
}

#[test]
fn scripts_that_cannot_be_played_are_refused() {
    fn user() -> Timeline {
        Timeline::new().user("42", "who", "Who")
    }
    fn space() -> SpaceScript {
        SpaceScript::new("1Refused00001", "42", "Refused")
    }
    type Build = fn() -> Timeline;
    let cases: [(&str, Build); 11] = [
        ("has no step", || user().space(space())),
        ("not Scheduled or Live", || user().space(space().ended(s(1)))),
        ("Ended cannot follow Scheduled", || user().space(space().scheduled(s(0), s(5)).ended(s(1)))),
        ("Canceled cannot follow Live", || user().space(space().live(s(0), Audience::default()).canceled(s(1)))),
        ("cannot follow Live", || user().space(space().live(s(0), Audience::default()).scheduled(s(1), s(9)))),
        ("not in time order", || user().space(space().scheduled(s(5), s(9)).live(s(5), Audience::default()))),
        ("cannot follow Gone", || {
            user().space(space().scheduled(s(0), s(9)).gone(s(1)).live(s(2), Audience::default()))
        }),
        ("not a user of the script", || Timeline::new().space(space().scheduled(s(0), s(9)))),
        ("not one X accepts", || user().space(SpaceScript::new("not an id", "42", "x").scheduled(s(0), s(9)))),
        ("not one X accepts", || Timeline::new().user("alice", "alice", "Alice")),
        ("twice", || user().space(space().scheduled(s(0), s(9))).space(space().scheduled(s(0), s(9)))),
    ];
    for (why, build) in cases {
        let panic = std::panic::catch_unwind(build).err().unwrap_or_else(|| panic!("accepted, though {why}"));
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains(why), "{why}: {message}");
    }
}

#[tokio::test]
async fn ten_thousand_users_are_cheap() {
    let span = s(600);
    let built = std::time::Instant::now();
    let timeline = Timeline::scaled(10_000, 2, span);
    let took = built.elapsed();
    assert_eq!((timeline.users().len(), timeline.spaces().len()), (10_000, 20_000));
    assert!(timeline.last_change() <= span);

    // Every Space ends one way or another within the span, with one final event.
    let events = timeline.expected_events(span);
    let finals =
        events.iter().filter(|event| matches!(event.kind, EventKind::Ended | EventKind::Canceled | EventKind::Gone));
    assert_eq!(finals.count(), 20_000);
    for kind in [EventKind::Scheduled, EventKind::Started, EventKind::Rescheduled, EventKind::Canceled, EventKind::Gone]
    {
        let count = events.iter().filter(|event| event.kind == kind).count();
        assert!(count > 500, "{kind:?}: {count}");
    }
    assert_eq!(Timeline::scaled(10_000, 2, span).expected_events(span), events, "the same on every run");

    // 100 users per request, answered from the script.
    let session = Session::start(timeline, XBudget::per_endpoint(10_000, s(900))).await;
    session.clock.advance_to(span / 3);
    let users: Vec<String> = (0..100).map(Timeline::scaled_user_id).collect();
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    let answer = session.by_creator(&users).await;
    let count = answer.body["meta"]["result_count"].as_u64().expect("a count");
    assert!(count > 20, "a third of the way in, many are scheduled or live: {count}");
    assert!(states(&answer).iter().all(|(_, state)| ["live", "scheduled"].contains(state)));
    println!("10,000 users, 20,000 Spaces: built in {took:?}");
}

/// The library reads the lifecycle as it reads X: this is what a watcher sees.
#[tokio::test]
async fn the_library_reads_it() {
    let session = Session::demo().await;
    let client = session.client(RateLimiting::Off);

    session.clock.advance_to(s(9));
    let watched = client.spaces_by_creators(Timeline::DEMO_USERS).await.expect("by creator");
    assert!(watched.errors.is_empty() && watched.warnings.is_empty(), "{:?} {:?}", watched.errors, watched.warnings);
    assert_eq!(watched.result_count, Some(3));
    let launch = watched.spaces.iter().find(|space| space.id == LAUNCH).expect("listed");
    assert_eq!(
        (launch.state, launch.participant_count, launch.subscriber_count),
        (SpaceState::Live, Some(80), Some(12))
    );
    assert_eq!(launch.speaker_ids.as_deref(), Some([ADA.to_owned(), BRUNO.to_owned()].as_slice()));
    assert_eq!(launch.creator.as_ref().and_then(|user| user.username.as_deref()), Some("ada_builds"));
    assert_eq!(launch.started_at, Some(session.clock.time_at(s(4))));
    let resched = watched.spaces.iter().find(|space| space.id == RESCHED).expect("listed");
    assert_eq!(resched.scheduled_start, Some(session.clock.time_at(s(12))), "rescheduled");

    session.clock.advance_to(s(20));
    let outcomes = client.spaces([LAUNCH, CANCEL, RESCHED, VANISH]).await;
    let outcome = |index: usize| outcomes[index].result.as_ref();
    assert_eq!(
        outcome(0).map(|space| (space.state, space.ended_at)).ok(),
        Some((SpaceState::Ended, Some(session.clock.time_at(s(14)))))
    );
    assert_eq!(outcome(1).map(|space| space.state).ok(), Some(SpaceState::Canceled));
    assert_eq!(outcome(2).map(|space| space.state).ok(), Some(SpaceState::Ended));
    assert!(matches!(outcome(3), Err(Error::NotFound { .. })), "{:?}", outcome(3));
}

/// Mounted on the mock of every provider, it takes the two endpoints over
/// and leaves the rest alone.
#[tokio::test]
async fn mounted_on_the_providers_mock() {
    let mock = MockProviders::start().await;
    let lifecycle = Lifecycle::new(Timeline::demo()).with_clock(MockClock::manual());
    lifecycle.mount(mock.server()).await;
    let client = Client::builder(Provider::X)
        .token(Token::new(DEMO_TOKEN))
        .base_url(mock.base_url(Provider::X))
        .rate_limiting(RateLimiting::Off)
        .build()
        .expect("a client");
    let watched = client.spaces_by_creators([ADA, BRUNO]).await.expect("by creator");
    let ids: Vec<&str> = watched.spaces.iter().map(|space| space.id.as_str()).collect();
    assert_eq!(ids, [LAUNCH, CANCEL], "the script's, not the recorded example's");
    let recorded = client.space(spaces_mock::DEMO_SPACE_ID).await.expect("the single lookup is still the recording");
    assert_eq!(recorded.id, spaces_mock::DEMO_SPACE_ID);
    assert_eq!(lifecycle.requests().len(), 1, "the single lookup is not the lifecycle's");
}

/// A client that keeps to X's documented budgets (1 request per second on
/// by-creator) is never refused: the mock's slack absorbs the jitter.
#[tokio::test]
async fn the_library_keeps_within_the_documented_budget() {
    let session = Session::start(Timeline::demo(), XBudget::documented()).await;
    let client = session.client(RateLimiting::Documented);
    for _ in 0..3 {
        client.spaces_by_creators(Timeline::DEMO_USERS).await.expect("never refused");
    }
    let records = session.lifecycle.requests();
    assert_eq!(records.iter().map(|record| record.status).collect::<Vec<_>>(), [200, 200, 200]);
    assert_eq!(session.lifecycle.busiest_window(x_multi::BY_CREATOR, Duration::from_millis(500)), 1);
    assert_eq!(session.lifecycle.busiest_window(x_multi::BY_CREATOR, s(900)), 3);
}
