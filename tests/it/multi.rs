//! Several providers as one (issue 13): `spaces::merge`, `Providers::merge`
//! and `Providers::fallback`, over loopback HTTP (the mock of every provider,
//! or one wiremock server per provider), plus a property: merging never
//! loses a value some answer had, and every merged value names its source.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use spaces::{
    AllFailed, Answer, Attempt, Client, Error, Excerpt, Field, FieldValue, Merged, Provider, Providers, RetryPolicy,
    Space, SpaceSettings, SpaceState, Token, Topic, User, UserField,
};
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, MockProviders, endpoint_for, json as json_answer, not_found};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::{
    Behavior, TEST_TOKEN, base_url, build, error_body, fast_retries, raw_server_with, recorded_with, serve,
    test_builder, test_client, with_member,
};

const ID: &str = DEMO_SPACE_ID;
/// A valid id the mock does not know: every provider says not found unless a test mounts an answer for it.
const OTHER: &str = "1vOxwjaWEbdJB";
const DEMO_TITLE: &str = "The Algorithm goes open source";

// ---------------------------------------------------------------------------
// Helpers

/// A client for `provider` on the mock of every provider, with the token it accepts.
fn demo_client(mock: &MockProviders, provider: Provider) -> Client {
    build(test_builder(provider, mock.base_url(provider)).token(Token::new(DEMO_TOKEN)))
}

/// The providers, in this order, on the mock.
fn demo_providers(mock: &MockProviders, order: &[Provider]) -> Providers {
    Providers::new(order.iter().map(|&provider| demo_client(mock, provider)))
}

/// The provider's recorded demo Space, renamed to `id` (so that it can be
/// served for an id the mock's own recordings do not take), with `edits`
/// (member name, value) applied where the provider nests them.
fn recorded_as(provider: Provider, id: &str, edits: &[(&str, Value)]) -> String {
    let mut body = recorded_with(provider, "id", id);
    for (key, value) in edits {
        body = with_member(&body, key, value.clone());
    }
    body
}

/// Mounts `answer` for `provider` and `id` on the mock, ahead of its own
/// not-found answer (priority 2) for ids it has no recording of.
async fn mount(mock: &MockProviders, provider: Provider, id: &str, answer: ResponseTemplate) {
    endpoint_for(provider, id).respond_with(answer).with_priority(1).mount(mock.server()).await;
}

/// Requests a server received.
async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |requests| requests.len())
}

/// A base URL where nothing listens (a port bound, then released).
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}")
}

/// The attempts of an answer: `(provider, error)` for each provider asked.
fn attempt_summary(attempts: &[Attempt]) -> Vec<(Provider, Option<&Error>)> {
    attempts.iter().map(|attempt| (attempt.provider, attempt.error.as_ref())).collect()
}

/// What the merge of `inputs` (in this order) must be, whatever the values:
/// - only answers about the first answer's Space take part; the others are `left_out`;
/// - the creator is one answer's, whole: the first whose creator is the
///   first `creator_id` given (the first creator, when no answer gives one);
/// - no other value lost: a field or member non-null in some input is non-null in the merge;
/// - each non-null merged value is exactly the value of the provider its source names;
/// - `sources` names exactly the non-null merged fields, once each, in the model's order;
/// - `provider` is the first input's;
/// - each conflict names a field whose present values differ once normalized
///   ([`Field::same`]), lists every present value in the inputs' order, and
///   chose the field's source; every field whose present values differ has one.
///
/// Fields are the library's walk ([`Space::fields`]), `provider` aside.
fn check_merge(inputs: &[Space], merged: &Merged) -> Result<(), String> {
    let (about, others): (Vec<&Space>, Vec<&Space>) = inputs.iter().partition(|space| space.id == inputs[0].id);
    let left_out: Vec<(Provider, String)> = others.iter().map(|space| (space.provider, space.id.clone())).collect();
    if merged.left_out != left_out {
        return Err(format!("left out {:?}; answers about another Space: {left_out:?}", merged.left_out));
    }
    let creator_id = about.iter().find_map(|space| space.creator_id.as_deref());
    let creator_from = about
        .iter()
        .find(|space| space.creator.as_ref().is_some_and(|creator| creator_id.is_none_or(|id| creator.id == id)));
    if merged.space.creator != creator_from.and_then(|space| space.creator.clone()) {
        return Err(format!("the creator is not {:?}'s, whole", creator_from.map(|space| space.provider)));
    }
    let creator_from = creator_from.map(|space| space.provider);
    let creator_user = merged.space.creator.as_ref().map(|creator| creator.id.as_str());
    let same_user = |space: &Space| space.creator.as_ref().map(|creator| creator.id.as_str()) == creator_user;
    let out = &merged.space;
    let fields = || Field::ALL.iter().copied().filter(|&field| field != Field::Provider);
    for space in &about {
        for field in fields().filter(|field| !matches!(field, Field::Creator(_))) {
            // The creator is checked whole, above.
            let value = space.field(field);
            if !value.is_absent() && out.field(field).is_absent() {
                return Err(format!("`{field}`: {}'s {value:?} is lost (merged: absent)", space.provider));
            }
        }
    }
    let expected: Vec<Field> = fields().filter(|&field| !out.field(field).is_absent()).collect();
    let named: Vec<Field> = merged.sources.iter().map(|(field, _)| *field).collect();
    if named != expected {
        return Err(format!("sources name {named:?}; the non-null merged fields are {expected:?}"));
    }
    for &(field, provider) in &merged.sources {
        let Some(theirs) = about.iter().find(|space| space.provider == provider) else {
            return Err(format!("`{field}` is sourced from {provider}, which gave no answer"));
        };
        let (ours, theirs) = (out.field(field), theirs.field(field));
        if ours != theirs {
            return Err(format!("`{field}` is {ours:?}, but its source {provider} said {theirs:?}"));
        }
    }
    if merged.space.provider != about[0].provider {
        return Err(format!("provider {} is not the first answer's ({})", merged.space.provider, about[0].provider));
    }
    for field in fields() {
        // Members of the creator are compared among answers about the same
        // user; its id among all (another user is a conflict on `creator.id`).
        let member = matches!(field, Field::Creator(member) if member != UserField::Id);
        let present: Vec<(Provider, FieldValue<'static>)> = about
            .iter()
            // A provider that sent no state (`unknown` without `state_raw`)
            // is no party to a `state` conflict.
            .filter(|space| field != Field::State || space.state_raw.is_some())
            .filter(|space| !member || same_user(space))
            .map(|space| (space.provider, space.field(field).into_owned()))
            .filter(|(_, value)| !value.is_absent())
            .collect();
        let chosen = if matches!(field, Field::Creator(_)) { creator_from } else { merged.source(field) };
        let differ = present.iter().any(|(_, value)| !field.same(&present[0].1, value));
        let conflicts: Vec<_> = merged.conflicts.iter().filter(|conflict| conflict.field == field).collect();
        match (differ, conflicts.as_slice()) {
            (false, []) => {}
            (true, [conflict]) => {
                if conflict.values != present {
                    return Err(format!("conflict on `{field}` lists {:?}; present: {present:?}", conflict.values));
                }
                if Some(conflict.chosen) != chosen {
                    return Err(format!("conflict on `{field}` chose {}, expected {chosen:?}", conflict.chosen));
                }
            }
            (differ, conflicts) => {
                return Err(format!("`{field}`: values differ: {differ} ({present:?}), conflicts: {conflicts:?}"));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Merge: the demo Space from every provider

#[tokio::test]
async fn the_demo_space_merged_from_every_provider_has_every_field_any_provider_has_each_attributed() {
    let mock = MockProviders::start().await;
    let order = [Provider::X, Provider::SocialData, Provider::Aisa, Provider::TwitterApi];
    // Each provider's own answer, fetched on its own.
    let all = own_answers(&mock).await;
    let own = pick(&all, &order);

    let answer = demo_providers(&mock, &order).merge(ID).await.expect("every provider answers");
    let expected: Vec<(Provider, Option<&Error>)> = order.iter().map(|&provider| (provider, None)).collect();
    assert_eq!(attempt_summary(&answer.attempts), expected);
    let merged = &answer.value;
    check_merge(&own, merged).unwrap_or_else(|problem| panic!("{problem}\n{merged:#?}"));

    let space = &merged.space;
    assert_eq!((space.provider, space.id.as_str(), space.state), (Provider::X, ID, SpaceState::Ended));
    // The recordings agree once normalized (`ended`/`Ended`, milliseconds or not).
    assert!(merged.conflicts.is_empty(), "{:#?}", merged.conflicts);

    // What only X has.
    assert_eq!(space.lang.as_deref(), Some("en"));
    for field in ["lang", "participant_count", "hosts", "host_ids", "speakers", "speaker_ids", "is_ticketed", "title"] {
        assert_eq!(merged.source(field), Some(Provider::X), "{field}");
    }
    assert_eq!(space.hosts.as_ref().map(Vec::len), Some(2));
    assert_eq!(merged.source("state"), Some(Provider::X), "all say ended: the first in order");
    assert_eq!(space.state_raw.as_deref(), Some("ended"), "state_raw comes with X's state");
    assert_eq!(merged.source("creator.listed_count"), Some(Provider::X));
    assert_eq!(space.creator.as_ref().and_then(|creator| creator.listed_count), Some(4701));
    // X has no media key, listener counts, replay facts or room settings; SocialData is next in order.
    assert_eq!(space.media_key.as_deref(), Some("28_1641872499875930112"));
    for field in [
        "media_key",
        "total_live_listeners",
        "total_replay_watched",
        "replay_available",
        "clipping_available",
        "settings.disallow_join",
        "settings.is_locked",
        "settings.conversation_controls",
    ] {
        assert_eq!(merged.source(field), Some(Provider::SocialData), "{field}");
    }
    assert_eq!(space.total_live_listeners, Some(435_271));
    assert_eq!(space.total_replay_watched, Some(1_291_373));
    // Settings SocialData lacks come from AIsa, member by member.
    let settings = space.settings.as_ref().expect("settings");
    assert_eq!(
        (settings.is_muted, settings.max_guest_sessions, settings.max_admin_capacity),
        (Some(false), Some(10), Some(2))
    );
    for field in
        ["settings.is_muted", "settings.no_incognito", "settings.max_guest_sessions", "settings.max_admin_capacity"]
    {
        assert_eq!(merged.source(field), Some(Provider::Aisa), "{field}");
    }
    assert_eq!(merged.source("subscriber_count"), None, "nobody has it");
    assert_eq!(space.subscriber_count, None);

    // Another order: AIsa before SocialData takes what they share.
    let order = [Provider::X, Provider::Aisa, Provider::SocialData, Provider::TwitterApi];
    let answer = demo_providers(&mock, &order).merge(ID).await.expect("every provider answers");
    let merged = &answer.value;
    check_merge(&pick(&all, &order), merged).unwrap_or_else(|problem| panic!("{problem}\n{merged:#?}"));
    for field in ["media_key", "total_live_listeners", "settings.disallow_join", "settings.is_muted"] {
        assert_eq!(merged.source(field), Some(Provider::Aisa), "{field}");
    }
    assert_eq!(merged.source("lang"), Some(Provider::X));
    // X, SocialData and not the envelopes have ended_at: X's, first in order.
    assert_eq!(merged.source("ended_at"), Some(Provider::X));

    // Without X: what X alone had is absent, the rest merges from the others.
    let order = [Provider::TwitterApi, Provider::SocialData];
    let answer = demo_providers(&mock, &order).merge(ID).await.expect("both answer");
    let merged = &answer.value;
    check_merge(&pick(&all, &order), merged).unwrap_or_else(|problem| panic!("{problem}\n{merged:#?}"));
    assert_eq!(merged.space.provider, Provider::TwitterApi);
    assert_eq!((merged.space.lang.as_deref(), merged.source("lang")), (None, None));
    assert_eq!(merged.source("ended_at"), Some(Provider::SocialData), "twitterapi.io has no ended_at");
    assert_eq!(merged.source("settings.is_muted"), Some(Provider::TwitterApi));
}

/// Every provider's own answer about the demo Space, each fetched on its own.
async fn own_answers(mock: &MockProviders) -> Vec<Space> {
    let mut all = Vec::new();
    for &provider in Provider::ALL {
        all.push(demo_client(mock, provider).space(ID).await.unwrap_or_else(|error| panic!("{provider}: {error}")));
    }
    all
}

/// The answers of these providers, in this order.
fn pick(all: &[Space], order: &[Provider]) -> Vec<Space> {
    order
        .iter()
        .map(|&provider| all.iter().find(|space| space.provider == provider).cloned().expect("every provider answered"))
        .collect()
}

// ---------------------------------------------------------------------------
// Merge: conflicts

#[tokio::test]
async fn a_differing_title_is_a_conflict_with_both_values_resolved_by_order() {
    let mock = MockProviders::start().await;
    mount(&mock, Provider::X, OTHER, json_answer(200, &recorded_as(Provider::X, OTHER, &[]))).await;
    let renamed = recorded_as(Provider::SocialData, OTHER, &[("title", json!("Open-sourcing the algorithm"))]);
    mount(&mock, Provider::SocialData, OTHER, json_answer(200, &renamed)).await;

    for (order, chosen, title) in [
        ([Provider::X, Provider::SocialData], Provider::X, DEMO_TITLE),
        ([Provider::SocialData, Provider::X], Provider::SocialData, "Open-sourcing the algorithm"),
    ] {
        let merged = demo_providers(&mock, &order).merge(OTHER).await.expect("both answer").value;
        assert_eq!(merged.space.title.as_deref(), Some(title), "{order:?}");
        assert_eq!(merged.source("title"), Some(chosen), "{order:?}");
        let titles: Vec<&spaces::Conflict> =
            merged.conflicts.iter().filter(|conflict| conflict.field == "title").collect();
        assert_eq!(titles.len(), 1, "{order:?}: {:#?}", merged.conflicts);
        let values = |provider| match provider {
            Provider::X => (Provider::X, FieldValue::Text(DEMO_TITLE.into())),
            _ => (Provider::SocialData, FieldValue::Text("Open-sourcing the algorithm".into())),
        };
        assert_eq!(titles[0].values, order.map(values), "{order:?}: both values, in the order asked");
        assert_eq!(titles[0].chosen, chosen, "{order:?}: the first in order");
        assert_eq!(merged.conflicts.len(), 1, "{order:?}: nothing else differs: {:#?}", merged.conflicts);
    }
}

#[tokio::test]
async fn a_differing_participant_count_is_a_conflict_resolved_by_order() {
    let mock = MockProviders::start().await;
    mount(&mock, Provider::X, OTHER, json_answer(200, &recorded_as(Provider::X, OTHER, &[]))).await;
    let more = recorded_as(Provider::Aisa, OTHER, &[("total_participants", json!(435_300))]);
    mount(&mock, Provider::Aisa, OTHER, json_answer(200, &more)).await;

    let merged = demo_providers(&mock, &[Provider::Aisa, Provider::X]).merge(OTHER).await.expect("both answer").value;
    assert_eq!(merged.space.participant_count, Some(435_300));
    let conflict = merged.conflicts.iter().find(|conflict| conflict.field == "participant_count").expect("a conflict");
    assert_eq!(
        conflict.values,
        [(Provider::Aisa, FieldValue::Count(435_300)), (Provider::X, FieldValue::Count(435_271))]
    );
    assert_eq!(conflict.chosen, Provider::Aisa);
}

#[tokio::test]
async fn a_state_conflict_is_won_by_the_most_advanced_state_whatever_the_order() {
    let mock = MockProviders::start().await;
    // X still says live; SocialData says the Space is over.
    mount(&mock, Provider::X, OTHER, json_answer(200, &recorded_as(Provider::X, OTHER, &[("state", json!("live"))])))
        .await;
    mount(&mock, Provider::SocialData, OTHER, json_answer(200, &recorded_as(Provider::SocialData, OTHER, &[]))).await;

    for order in [[Provider::X, Provider::SocialData], [Provider::SocialData, Provider::X]] {
        let merged = demo_providers(&mock, &order).merge(OTHER).await.expect("both answer").value;
        assert_eq!(merged.space.state, SpaceState::Ended, "{order:?}");
        assert_eq!(merged.space.state_raw.as_deref(), Some("Ended"), "{order:?}: state_raw follows the state");
        assert_eq!(merged.source("state"), Some(Provider::SocialData), "{order:?}");
        assert_eq!(merged.source("state_raw"), Some(Provider::SocialData), "{order:?}");
        let state = merged.conflicts.iter().find(|conflict| conflict.field == "state").expect("a state conflict");
        assert_eq!(state.chosen, Provider::SocialData, "{order:?}: ended wins");
        let values = |provider| match provider {
            Provider::X => (Provider::X, FieldValue::State(SpaceState::Live)),
            _ => (Provider::SocialData, FieldValue::State(SpaceState::Ended)),
        };
        assert_eq!(state.values, order.map(values), "{order:?}");
        assert_eq!(merged.space.provider, order[0], "{order:?}: provider is still the first answer's");
    }
}

#[tokio::test]
async fn canceled_beats_scheduled_and_live_beats_scheduled() {
    let mock = MockProviders::start().await;
    let cases =
        [("scheduled", "live", SpaceState::Live, "live"), ("scheduled", "canceled", SpaceState::Canceled, "canceled")];
    for (index, (first, second, state, raw)) in cases.into_iter().enumerate() {
        let id = format!("1vOxwjaWEbdJ{index}");
        mount(&mock, Provider::X, &id, json_answer(200, &recorded_as(Provider::X, &id, &[("state", json!(first))])))
            .await;
        let body = recorded_as(Provider::Aisa, &id, &[("state", json!(second))]);
        mount(&mock, Provider::Aisa, &id, json_answer(200, &body)).await;
        let merged = demo_providers(&mock, &[Provider::X, Provider::Aisa]).merge(&id).await.expect("both").value;
        assert_eq!((merged.space.state, merged.space.state_raw.as_deref()), (state, Some(raw)), "{first} vs {second}");
        assert_eq!(merged.source("state"), Some(Provider::Aisa));
    }
}

/// A bare answer: the id and nothing else known.
fn bare(provider: Provider) -> Space {
    serde_json::from_value(json!({ "provider": provider, "id": ID, "state": "unknown" }))
        .expect("a bare Space: every other field is optional")
}

#[test]
fn a_raw_state_no_mapping_knows_is_not_lost_to_an_answer_without_one() {
    // X sent no state; SocialData sent one no mapping knows. Both are
    // `unknown`, a tie the order breaks in X's favour, but X has no raw
    // value to bring along: SocialData's must not be dropped.
    let x = bare(Provider::X);
    let mut socialdata = bare(Provider::SocialData);
    socialdata.state_raw = Some("Paused".into());
    let merged = spaces::merge([x.clone(), socialdata.clone()]).expect("two answers");
    assert_eq!(merged.space.state, SpaceState::Unknown);
    assert_eq!(
        (merged.space.state_raw.as_deref(), merged.source("state_raw")),
        (Some("Paused"), Some(Provider::SocialData)),
        "the only raw state any provider sent is lost: {merged:#?}"
    );
    check_merge(&[x, socialdata], &merged).unwrap_or_else(|problem| panic!("{problem}"));
}

// ---------------------------------------------------------------------------
// Fallback

/// Asks `first` (set up to fail), then `next` serving its recorded Space,
/// then a third provider that must never be asked.
async fn fall_back(first: Client, next: Provider) -> Answer<Space> {
    let next_server = serve(next, json_answer(200, spaces_mock::recorded_space(next))).await;
    let third = Provider::ALL.iter().copied().find(|&p| p != first.provider() && p != next).expect("a third");
    let third_server = serve(third, json_answer(200, spaces_mock::recorded_space(third))).await;
    let providers = Providers::new([
        first.clone(),
        test_client(next, base_url(&next_server, next)),
        test_client(third, base_url(&third_server, third)),
    ]);
    assert_eq!(providers.providers(), [first.provider(), next, third]);
    let answer = providers.fallback(ID).await.unwrap_or_else(|failed| panic!("{next} answers: {failed}"));
    assert_eq!((answer.value.provider, answer.value.id.as_str()), (next, ID));
    assert_eq!(answer.attempts.len(), 2, "{:?}", answer.attempts);
    assert_eq!(answer.attempts[0].provider, first.provider());
    assert!(answer.attempts[0].error.is_some(), "{:?}", answer.attempts);
    assert_eq!(answer.attempts[1], Attempt { provider: next, error: None });
    assert_eq!(requests(&next_server).await, 1);
    assert_eq!(requests(&third_server).await, 0, "{third} is never asked once {next} answered");
    answer
}

fn first_error(answer: &Answer<Space>) -> &Error {
    answer.attempts[0].error.as_ref().expect("the first provider failed")
}

#[tokio::test]
async fn x_not_found_falls_back_to_socialdata() {
    let server = serve(Provider::X, not_found(Provider::X, ID)).await;
    let answer = fall_back(test_client(Provider::X, base_url(&server, Provider::X)), Provider::SocialData).await;
    assert!(matches!(first_error(&answer), Error::NotFound { provider: Provider::X, .. }), "{:?}", answer.attempts);
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn socialdata_out_of_credits_falls_back_to_x() {
    let server = serve(Provider::SocialData, error_body(Provider::SocialData, 402)).await;
    let first = test_client(Provider::SocialData, base_url(&server, Provider::SocialData));
    let answer = fall_back(first, Provider::X).await;
    assert!(
        matches!(first_error(&answer), Error::PaymentRequired { provider: Provider::SocialData, .. }),
        "{:?}",
        answer.attempts
    );
}

#[tokio::test]
async fn refused_token_and_other_4xx_fall_back() {
    for (status, provider) in [(401, Provider::Aisa), (403, Provider::X), (400, Provider::TwitterApi)] {
        let server = serve(provider, error_body(provider, status)).await;
        let answer = fall_back(test_client(provider, base_url(&server, provider)), Provider::SocialData).await;
        let error = first_error(&answer);
        let expected = match status {
            401 | 403 => matches!(error, Error::Unauthorized { status: Some(s), .. } if *s == status),
            _ => matches!(error, Error::Rejected { status: Some(400), .. }),
        };
        assert!(expected, "{provider} {status}: {error:?}");
        assert_eq!(error.provider(), provider);
    }
}

#[tokio::test]
async fn rate_limited_beyond_the_deadline_falls_back_at_once() {
    let busy = error_body(Provider::X, 429).insert_header("retry-after", "3600");
    let server = serve(Provider::X, busy).await;
    let retry = RetryPolicy { deadline: Some(Duration::from_secs(2)), ..fast_retries() };
    let first = build(test_builder(Provider::X, base_url(&server, Provider::X)).retry(retry));
    let started = Instant::now();
    let answer = fall_back(first, Provider::SocialData).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no wait for a reset past the deadline: {:?}",
        started.elapsed()
    );
    assert!(matches!(first_error(&answer), Error::RateLimited { retry_after: Some(_), .. }), "{:?}", answer.attempts);
    assert_eq!(requests(&server).await, 1, "no retry that would outlast the deadline");
}

#[tokio::test]
async fn upstream_failure_after_every_retry_falls_back() {
    let server = serve(Provider::SocialData, ResponseTemplate::new(503).set_body_string("maintenance")).await;
    let first = test_client(Provider::SocialData, base_url(&server, Provider::SocialData));
    let answer = fall_back(first, Provider::X).await;
    assert!(matches!(first_error(&answer), Error::Upstream { status: 503, .. }), "{:?}", answer.attempts);
    assert_eq!(requests(&server).await, 3, "the retries were spent first");
}

#[tokio::test]
async fn a_stalled_provider_times_out_and_falls_back() {
    let stalled = raw_server_with(Behavior::Stall).await;
    let first = build(
        test_builder(Provider::TwitterApi, stalled).timeout(Duration::from_millis(300)).retry(RetryPolicy::none()),
    );
    let started = Instant::now();
    let answer = fall_back(first, Provider::SocialData).await;
    assert!(
        matches!(first_error(&answer), Error::Timeout { provider: Provider::TwitterApi, .. }),
        "{:?}",
        answer.attempts
    );
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_connection_refused_falls_back() {
    let first = test_client(Provider::X, closed_port());
    let answer = fall_back(first, Provider::Aisa).await;
    assert!(matches!(first_error(&answer), Error::Transport { provider: Provider::X, .. }), "{:?}", answer.attempts);
}

#[tokio::test]
async fn bad_data_falls_back() {
    let server = serve(Provider::X, json_answer(200, &recorded_with(Provider::X, "created_at", "not a time"))).await;
    let answer = fall_back(test_client(Provider::X, base_url(&server, Provider::X)), Provider::SocialData).await;
    assert!(matches!(first_error(&answer), Error::Decode { provider: Provider::X, .. }), "{:?}", answer.attempts);
}

#[tokio::test]
async fn the_first_provider_that_answers_is_the_only_one_asked() {
    let mock = MockProviders::start().await;
    let providers = demo_providers(&mock, &[Provider::SocialData, Provider::X]);
    let answer = providers.fallback(ID).await.expect("SocialData answers");
    assert_eq!(answer.value.provider, Provider::SocialData);
    assert_eq!(answer.attempts, [Attempt { provider: Provider::SocialData, error: None }]);
    assert_eq!(requests(mock.server()).await, 1);
}

#[tokio::test]
async fn an_invalid_id_fails_once_and_sends_nothing() {
    let mock = MockProviders::start().await;
    let providers = demo_providers(&mock, &[Provider::X, Provider::SocialData, Provider::Aisa]);
    for id in ["not an id!", "", "1jMJgLdenVjxLL"] {
        for failed in
            [providers.fallback(id).await.expect_err("invalid"), providers.merge(id).await.expect_err("invalid")]
        {
            assert_eq!(failed.errors.len(), 1, "{id:?}: one error, not one per provider: {failed:?}");
            assert!(matches!(failed.errors[0], (Provider::X, Error::InvalidId { .. })), "{id:?}: {failed:?}");
            assert!(matches!(failed.error(), Some(Error::InvalidId { .. })), "{id:?}: {failed:?}");
        }
    }
    assert_eq!(requests(mock.server()).await, 0, "nothing is sent for an invalid id");
}

#[tokio::test]
async fn no_providers_is_a_failure_with_no_errors() {
    let providers = Providers::new([]);
    for failed in [providers.fallback(ID).await.expect_err("none"), providers.merge(ID).await.expect_err("none")] {
        assert!(failed.errors.is_empty(), "{failed:?}");
        assert_eq!(failed.error(), None);
    }
}

// ---------------------------------------------------------------------------
// Every provider failed: the representative error

#[tokio::test]
async fn all_not_found_is_not_found() {
    let mock = MockProviders::start().await;
    let providers = demo_providers(&mock, Provider::ALL);
    let fallback = providers.fallback(OTHER).await.expect_err("nobody knows it");
    let merge = providers.merge(OTHER).await.expect_err("nobody knows it");
    for failed in [fallback, merge] {
        let asked: Vec<Provider> = failed.errors.iter().map(|(provider, _)| *provider).collect();
        assert_eq!(asked, Provider::ALL, "every provider, in order");
        for (provider, error) in &failed.errors {
            assert!(matches!(error, Error::NotFound { .. }), "{provider}: {error:?}");
            assert_eq!(error.provider(), *provider);
        }
        assert!(matches!(failed.error(), Some(Error::NotFound { .. })), "{failed:?}");
        let shown = failed.to_string();
        assert!(shown.starts_with("every provider failed"), "{shown}");
        for &provider in Provider::ALL {
            assert!(shown.contains(&format!("{provider}: Space")), "{provider} is named: {shown}");
        }
    }
}

#[tokio::test]
async fn not_found_and_out_of_credits_is_out_of_credits() {
    let x = serve(Provider::X, not_found(Provider::X, ID)).await;
    let socialdata = serve(Provider::SocialData, error_body(Provider::SocialData, 402)).await;
    let x = test_client(Provider::X, base_url(&x, Provider::X));
    let socialdata = test_client(Provider::SocialData, base_url(&socialdata, Provider::SocialData));
    for clients in [[x.clone(), socialdata.clone()], [socialdata, x]] {
        let providers = Providers::new(clients);
        for failed in
            [providers.fallback(ID).await.expect_err("both fail"), providers.merge(ID).await.expect_err("both fail")]
        {
            assert_eq!(failed.errors.len(), 2, "{failed:?}");
            assert!(
                matches!(failed.error(), Some(Error::PaymentRequired { provider: Provider::SocialData, .. })),
                "{:?}: {failed:?}",
                providers.providers()
            );
        }
    }
}

fn not_found_error(provider: Provider) -> Error {
    Error::NotFound { provider, resource: spaces::Resource::Space, id: Some(ID.into()), detail: None }
}

#[test]
fn the_representative_error_is_the_most_actionable() {
    let unauthorized = Error::Unauthorized { provider: Provider::Aisa, status: Some(401), detail: None };
    let missing = Error::MissingToken { provider: Provider::TwitterApi, env_var: "TWITTERAPI_API_KEY" };
    let payment = Error::PaymentRequired { provider: Provider::SocialData, detail: None };
    let limited =
        Error::RateLimited { provider: Provider::X, retry_after: Some(Duration::from_secs(60)), retry_at: None };
    let invalid = Error::InvalidId { provider: Provider::X, id: Excerpt::new("!"), reason: "only ASCII" };
    let upstream =
        Error::Upstream { provider: Provider::Aisa, status: 503, body: Excerpt::new("busy"), retry_after: None };
    let timeout = Error::Timeout { provider: Provider::TwitterApi, after: Duration::from_secs(30) };
    let transport = Error::Transport { provider: Provider::SocialData, detail: "refused".into() };
    let found = not_found_error(Provider::X);
    let cases: Vec<(Vec<Error>, Error)> = vec![
        (vec![found.clone(), not_found_error(Provider::Aisa)], found.clone()),
        (vec![found.clone(), upstream.clone()], upstream.clone()),
        (vec![upstream.clone(), found.clone()], upstream.clone()),
        (vec![found.clone(), timeout.clone(), transport.clone()], timeout.clone()),
        (vec![transport.clone(), timeout.clone()], transport.clone()),
        (vec![found.clone(), upstream.clone(), invalid.clone()], invalid.clone()),
        (vec![invalid.clone(), limited.clone()], limited.clone()),
        (vec![upstream.clone(), limited.clone(), payment.clone()], payment.clone()),
        (vec![found.clone(), payment.clone(), unauthorized.clone(), limited.clone()], unauthorized.clone()),
        (vec![payment.clone(), missing.clone()], missing.clone()),
        (vec![missing.clone(), unauthorized.clone()], missing.clone()),
        (vec![unauthorized.clone(), missing.clone()], unauthorized.clone()),
    ];
    for (errors, expected) in cases {
        let failed = AllFailed { errors: errors.iter().map(|error| (error.provider(), error.clone())).collect() };
        assert_eq!(failed.error(), Some(&expected), "{errors:?}");
    }
}

// ---------------------------------------------------------------------------
// Merge: time

#[tokio::test]
async fn a_hanging_provider_holds_the_merge_no_longer_than_its_timeout() {
    let mock = MockProviders::start().await;
    let hanging = raw_server_with(Behavior::Stall).await;
    let hanging = build(
        test_builder(Provider::TwitterApi, hanging).timeout(Duration::from_millis(500)).retry(RetryPolicy::none()),
    );
    let providers = Providers::new([
        hanging,
        demo_client(&mock, Provider::X),
        demo_client(&mock, Provider::SocialData),
        demo_client(&mock, Provider::Aisa),
    ]);
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), providers.merge(ID))
        .await
        .expect("the merge returns")
        .expect("three providers answer");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "held for {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(400),
        "the hanging provider was waited for, up to its timeout: {elapsed:?}"
    );
    let summary = attempt_summary(&answer.attempts);
    assert_eq!(summary.len(), 4);
    assert!(matches!(summary[0], (Provider::TwitterApi, Some(Error::Timeout { .. }))), "{summary:?}");
    assert_eq!(&summary[1..], [(Provider::X, None), (Provider::SocialData, None), (Provider::Aisa, None)]);
    let merged = &answer.value;
    assert_eq!(merged.space.provider, Provider::X, "the first answer's provider");
    assert!(merged.sources.iter().all(|(_, provider)| *provider != Provider::TwitterApi), "{:?}", merged.sources);
    assert_eq!(merged.source("lang"), Some(Provider::X));
    assert_eq!(merged.source("media_key"), Some(Provider::SocialData));
    assert_eq!(merged.source("settings.is_muted"), Some(Provider::Aisa));
}

#[tokio::test]
async fn merge_asks_every_provider_at_once() {
    let delay = Duration::from_millis(600);
    let mut servers = Vec::new();
    let mut clients = Vec::new();
    for &provider in Provider::ALL {
        let server = serve(provider, json_answer(200, spaces_mock::recorded_space(provider)).set_delay(delay)).await;
        clients.push(test_client(provider, base_url(&server, provider)));
        servers.push(server);
    }
    let started = Instant::now();
    let answer = Providers::new(clients).merge(ID).await.expect("every provider answers");
    let elapsed = started.elapsed();
    assert!(elapsed < delay * 2, "four answers of {delay:?} each took {elapsed:?}: not concurrent");
    assert!(answer.attempts.iter().all(|attempt| attempt.error.is_none()), "{:?}", answer.attempts);
    for server in &servers {
        assert_eq!(requests(server).await, 1);
    }
}

#[tokio::test]
async fn merge_keeps_each_failure_among_the_attempts() {
    let mock = MockProviders::start().await;
    let out_of_credits = serve(Provider::SocialData, error_body(Provider::SocialData, 402)).await;
    let providers = Providers::new([
        test_client(Provider::SocialData, base_url(&out_of_credits, Provider::SocialData)),
        demo_client(&mock, Provider::Aisa),
        test_client(Provider::X, closed_port()),
    ]);
    let answer = providers.merge(ID).await.expect("AIsa answers");
    let summary = attempt_summary(&answer.attempts);
    assert!(matches!(summary[0], (Provider::SocialData, Some(Error::PaymentRequired { .. }))), "{summary:?}");
    assert_eq!(summary[1], (Provider::Aisa, None));
    assert!(matches!(summary[2], (Provider::X, Some(Error::Transport { .. }))), "{summary:?}");
    let aisa = demo_client(&mock, Provider::Aisa).space(ID).await.expect("AIsa's own answer");
    assert_eq!(answer.value.space, aisa, "one answer merges into itself");
    assert!(answer.value.conflicts.is_empty());
    assert!(answer.value.sources.iter().all(|(_, provider)| *provider == Provider::Aisa));
}

// ---------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn no_token_in_any_debug_or_display_of_answers_failures_or_merges() {
    let echo = format!("you sent Authorization: Bearer {TEST_TOKEN} and x-api-key: {TEST_TOKEN}");
    let failing: Vec<(Provider, ResponseTemplate)> = vec![
        (Provider::X, ResponseTemplate::new(401).set_body_string(echo.clone())),
        (Provider::SocialData, ResponseTemplate::new(402).set_body_string(echo.clone())),
        (Provider::Aisa, ResponseTemplate::new(500).set_body_string(echo.clone())),
        (Provider::TwitterApi, json_answer(400, &format!(r#"{{"error":400,"message":"{echo}"}}"#))),
        (Provider::Aisa, json_answer(200, &format!(r#"{{"status":"error","msg":"{echo}"}}"#))),
        (Provider::X, json_answer(200, &recorded_with(Provider::X, "created_at", TEST_TOKEN))),
        (Provider::SocialData, ResponseTemplate::new(418).set_body_string(echo.clone())),
    ];
    let mut failing_clients = Vec::new();
    let mut servers = Vec::new();
    for (provider, answer) in failing {
        let server = serve(provider, answer).await;
        failing_clients.push(build(test_builder(provider, base_url(&server, provider)).retry(RetryPolicy::none())));
        servers.push(server);
    }
    let answering =
        serve(Provider::SocialData, json_answer(200, spaces_mock::recorded_space(Provider::SocialData))).await;
    let renamed = recorded_with(Provider::TwitterApi, "title", "Another title");
    let answering_too = serve(Provider::TwitterApi, json_answer(200, &renamed)).await;

    let mut outputs = Vec::new();
    // Every provider fails.
    let all = Providers::new(failing_clients.clone());
    outputs.push(format!("{all:?}"));
    for failed in [all.fallback(ID).await.expect_err("all fail"), all.merge(ID).await.expect_err("all fail")] {
        assert_eq!(failed.errors.len(), failing_clients.len(), "{failed:?}");
        outputs.push(failed.to_string());
        outputs.push(format!("{failed:?}"));
        outputs.push(format!("{failed:#?}"));
        if let Some(error) = failed.error() {
            outputs.push(error.to_string());
        }
    }
    // Some fail, then one (or two) answer.
    let mut clients = failing_clients.clone();
    clients.push(test_client(Provider::SocialData, base_url(&answering, Provider::SocialData)));
    clients.push(test_client(Provider::TwitterApi, base_url(&answering_too, Provider::TwitterApi)));
    let some = Providers::new(clients);
    let fallback = some.fallback(ID).await.expect("SocialData answers");
    assert_eq!(fallback.attempts.len(), failing_clients.len() + 1);
    outputs.push(format!("{fallback:?}"));
    outputs.push(format!("{fallback:#?}"));
    let merged = some.merge(ID).await.expect("two answer");
    assert!(!merged.value.conflicts.is_empty(), "a conflict on the title is shown too");
    outputs.push(format!("{merged:?}"));
    outputs.push(format!("{:?}", merged.value));
    for attempt in merged.attempts.iter().chain(&fallback.attempts) {
        if let Some(error) = &attempt.error {
            outputs.push(error.to_string());
            outputs.push(format!("{error:?}"));
        }
    }
    // The echoes did reach the errors (redacted), so the check is not vacuous.
    assert!(outputs.iter().any(|output| output.contains("you sent")), "the echoed bodies are in the errors");
    for output in &outputs {
        assert!(!output.contains(TEST_TOKEN), "the token leaked: {output}");
    }
}

// ---------------------------------------------------------------------------
// Property: merging never loses a value

fn config() -> ProptestConfig {
    // 64 cases unless PROPTEST_CASES asks for a campaign.
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { ProptestConfig::default().cases } else { 64 };
    // No regression file is written into the source tree.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Values from a small set, so that answers often agree and often conflict.
fn one_of<T: Clone + std::fmt::Debug + 'static>(values: &[T]) -> impl Strategy<Value = Option<T>> + use<T> {
    prop::option::of(prop::sample::select(values.to_vec()))
}

fn text(values: &[&'static str]) -> impl Strategy<Value = Option<String>> + use<> {
    one_of(values).prop_map(|value| value.map(str::to_owned))
}

/// Timestamps within a few seconds of each other, to the millisecond: equal,
/// equal but for sub-second precision, or a real difference.
fn time() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    prop::option::of((0i64..3, prop::sample::select(vec![0u32, 93, 500, 999])).prop_map(|(second, millis)| {
        DateTime::from_timestamp(1_680_287_883 + second, millis * 1_000_000).expect("in range")
    }))
}

fn count() -> impl Strategy<Value = Option<u64>> {
    one_of(&[0u64, 12, 435_271])
}

fn flag() -> impl Strategy<Value = Option<bool>> {
    prop::option::of(any::<bool>())
}

fn ids() -> impl Strategy<Value = Option<Vec<String>>> {
    prop::option::of(prop::collection::vec(prop::sample::select(vec!["6844292", "44196397", "783214"]), 0..3))
        .prop_map(|ids| ids.map(|ids| ids.into_iter().map(str::to_owned).collect()))
}

fn user() -> impl Strategy<Value = User> {
    (
        prop::sample::select(vec!["6844292", "44196397"]),
        text(&["XEng", "xeng"]),
        text(&["Engineering"]),
        time(),
        flag(),
        text(&["blue", "business"]),
        count(),
        count(),
        text(&["", "https://x.com"]),
    )
        .prop_map(
            |(id, username, name, created_at, verified, verified_type, followers_count, listed_count, url)| User {
                id: id.to_owned(),
                username,
                name,
                created_at,
                verified,
                verified_type,
                followers_count,
                listed_count,
                url,
                ..User::default()
            },
        )
}

fn users() -> impl Strategy<Value = Option<Vec<User>>> {
    prop::option::of(prop::collection::vec(user(), 0..3))
}

fn topics() -> impl Strategy<Value = Option<Vec<Topic>>> {
    let topic = (prop::sample::select(vec!["1", "2"]), prop::sample::select(vec!["Technology", "Tech"]), text(&["d"]))
        .prop_map(|(id, name, description)| Topic { id: id.to_owned(), name: name.to_owned(), description });
    prop::option::of(prop::collection::vec(topic, 0..3))
}

/// Room settings with a random subset of members; never an empty object
/// (a provider without settings has none: `SpaceSettings::non_empty`).
fn settings() -> impl Strategy<Value = Option<SpaceSettings>> {
    (
        flag(),
        flag(),
        flag(),
        flag(),
        one_of(&[0i64, 1, 2]),
        one_of(&[0i64, 1]),
        flag(),
        one_of(&[10i64, 4]),
        one_of(&[2i64]),
    )
        .prop_map(
            |(
                disallow_join,
                is_locked,
                is_muted,
                is_employee_only,
                conversation_controls,
                narrow_cast_space_type,
                no_incognito,
                max_guest_sessions,
                max_admin_capacity,
            )| SpaceSettings {
                disallow_join,
                is_locked,
                is_muted,
                is_employee_only,
                conversation_controls,
                narrow_cast_space_type,
                no_incognito,
                max_guest_sessions,
                max_admin_capacity,
            },
        )
        .prop_map(|settings| (settings != SpaceSettings::default()).then_some(settings))
}

/// The provider's raw state, if it sent one (its normalized state is what
/// the decoder makes of it): none, one a mapping knows, or one none knows
/// (`unknown`, like no state at all), each a third of the time.
fn state_raw() -> impl Strategy<Value = Option<String>> {
    let known = ["live", "Running", "ended", "Ended", "TimedOut", "NotStarted", "scheduled", "canceled"];
    prop_oneof![
        Just(None),
        prop::sample::select(known.to_vec()).prop_map(|raw| Some(raw.to_owned())),
        prop::sample::select(vec!["Paused", "suspended"]).prop_map(|raw| Some(raw.to_owned())),
    ]
}

/// One provider's answer, with a random subset of fields set.
fn answer(provider: Provider) -> impl Strategy<Value = Space> {
    let head = (state_raw(), text(&[DEMO_TITLE, "Another title"]), text(&["en", "fr"]), text(&["28_1", "28_2"]));
    let times = (time(), time(), time(), time(), time());
    let people =
        (flag(), text(&["6844292", "44196397"]), prop::option::of(user()), ids(), ids(), ids(), users(), users());
    let rest = (users(), ids(), topics(), count(), count(), count(), count(), flag(), flag(), settings());
    (head, times, people, rest).prop_map(move |(head, times, people, rest)| {
        let (state_raw, title, lang, media_key) = head;
        let (created_at, updated_at, scheduled_start, started_at, ended_at) = times;
        let (is_ticketed, creator_id, creator, host_ids, speaker_ids, invited_user_ids, hosts, speakers) = people;
        let (
            invited_users,
            topic_ids,
            topics,
            participant_count,
            subscriber_count,
            total_live_listeners,
            total_replay_watched,
            replay_available,
            clipping_available,
            settings,
        ) = rest;
        let state = state_raw.as_deref().map_or(SpaceState::Unknown, SpaceState::from_provider);
        let mut space = bare(provider);
        space.state = state;
        space.state_raw = state_raw;
        space.title = title;
        space.lang = lang;
        space.media_key = media_key;
        (space.created_at, space.updated_at, space.scheduled_start, space.started_at, space.ended_at) =
            (created_at, updated_at, scheduled_start, started_at, ended_at);
        space.is_ticketed = is_ticketed;
        space.creator_id = creator_id;
        space.creator = creator;
        (space.host_ids, space.speaker_ids, space.invited_user_ids) = (host_ids, speaker_ids, invited_user_ids);
        (space.hosts, space.speakers, space.invited_users) = (hosts, speakers, invited_users);
        (space.topic_ids, space.topics) = (topic_ids, topics);
        space.participant_count = participant_count;
        space.subscriber_count = subscriber_count;
        space.total_live_listeners = total_live_listeners;
        space.total_replay_watched = total_replay_watched;
        space.replay_available = replay_available;
        space.clipping_available = clipping_available;
        space.settings = settings;
        space
    })
}

/// 1–4 answers from distinct providers, in a random order; any but the
/// first is, one time in six, about another Space.
fn answers() -> impl Strategy<Value = Vec<Space>> {
    (Just(Provider::ALL.to_vec()).prop_shuffle(), 1..=Provider::ALL.len()).prop_flat_map(|(providers, count)| {
        providers[..count]
            .iter()
            .enumerate()
            .map(|(index, &provider)| {
                (answer(provider), prop::bool::weighted(1.0 / 6.0)).prop_map(move |(mut space, other)| {
                    if index > 0 && other {
                        space.id = "1OdKrjgmNkeKX".to_owned();
                    }
                    space
                })
            })
            .collect::<Vec<_>>()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn merging_never_loses_a_value_and_names_each_source(inputs in answers()) {
        let merged = spaces::merge(inputs.clone()).expect("at least one answer");
        if let Err(problem) = check_merge(&inputs, &merged) {
            return Err(TestCaseError::fail(format!("{problem}\ninputs: {inputs:#?}\nmerged: {merged:#?}")));
        }
        // The most advanced state wins, the first among equals.
        let rank = |state: SpaceState| match state {
            SpaceState::Unknown => 0,
            SpaceState::Scheduled => 1,
            SpaceState::Live => 2,
            SpaceState::Ended | SpaceState::Canceled => 3,
        };
        let about: Vec<&Space> = inputs.iter().filter(|space| space.id == inputs[0].id).collect();
        let best = about.iter().map(|space| rank(space.state)).max().expect("an answer");
        let winner = about.iter().find(|space| rank(space.state) == best).expect("an answer");
        prop_assert_eq!(merged.space.state, winner.state);
    }
}
