//! Every fixture under `tests/fixtures/<provider>/` through
//! `spaces::decode_any`: one named snapshot per fixture (reviewed with
//! `cargo insta review`), plus explicit assertions on the fields that
//! matter, which no snapshot replaces.
//!
//! Fixture names say what must happen: `err-*` is a provider failure inside
//! a 200 and `bad-*` is malformed data, both errors; `multi-*` is a
//! multi-Space body (X's batch, search and by-creator endpoints), snapshotted
//! as its Spaces, its partial errors and its `result_count`; anything else
//! is one Space.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;
use spaces::{Decoded, Error, Provider, Space, SpaceList, SpaceState};

use crate::support::{fixture, fixtures, workspace_root};

fn provider_of(path: &Path) -> Provider {
    let directory =
        path.parent().and_then(Path::file_name).and_then(|name| name.to_str()).expect("fixtures/<provider>/");
    directory.parse().expect("fixture directories are named after providers")
}

fn decode_fixture(provider: &str, name: &str) -> Result<Space, Error> {
    let provider = provider.parse().expect("provider");
    spaces::decode(provider, &fixture(provider, name).body)
}

fn space(provider: &str, name: &str) -> Space {
    decode_fixture(provider, name).unwrap_or_else(|error| panic!("{provider}/{name}: {error}"))
}

fn utc(text: &str) -> Option<DateTime<Utc>> {
    Some(text.parse().expect("test timestamp"))
}

#[test]
fn every_fixture_normalizes_as_snapshotted() {
    let mut seen = 0;
    insta::glob!("../fixtures", "*/*.json", |path| {
        seen += 1;
        let provider = provider_of(path);
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let body = &fixture(provider, name).body;
        let expect_error = name.starts_with("err-") || name.starts_with("bad-");
        let expect_many = name.starts_with("multi-");
        match spaces::decode_any(provider, body) {
            Ok(Decoded::Many(list)) => {
                assert!(expect_many, "{name} is a multi-Space body but not named multi-*");
                assert!(list.spaces.iter().all(|space| space.provider == provider), "{name}");
                insta::assert_json_snapshot!(list_json(&list));
            }
            Ok(Decoded::One(space)) => {
                assert!(!expect_many, "{name} is named multi-* but decoded as one Space");
                assert!(!expect_error, "{name} should fail but gave a Space");
                assert_eq!(space.provider, provider);
                // The normalized JSON reads back into the same Space.
                let json = serde_json::to_string(&space).expect("serialize");
                assert_eq!(
                    serde_json::from_str::<Space>(&json).expect("deserialize"),
                    space,
                    "{name}: lossless round trip"
                );
                insta::assert_json_snapshot!(space);
            }
            Err(error) => {
                assert!(expect_error, "{name} should give a Space but failed: {error}");
                assert_eq!(error.provider(), provider);
                insta::assert_snapshot!(error.to_string());
            }
        }
    });
    assert!(seen >= 30, "only {seen} fixtures found");
    assert_eq!(seen, fixtures().len(), "every fixture is under a provider's directory");
}

/// A multi-Space body's outcome as JSON: its Spaces, its partial errors (id
/// and message) and its `result_count`.
fn list_json(list: &SpaceList) -> serde_json::Value {
    let errors: Vec<serde_json::Value> =
        list.errors.iter().map(|item| json!({ "id": item.id, "error": item.error.to_string() })).collect();
    json!({ "spaces": list.spaces, "errors": errors, "result_count": list.result_count })
}

fn many(name: &str) -> SpaceList {
    match spaces::decode_any(Provider::X, &fixture(Provider::X, name).body) {
        Ok(Decoded::Many(list)) => list,
        other => panic!("x/{name}: expected a multi-Space body, got {other:?}"),
    }
}

#[test]
fn socialdata_documented_example_key_fields() {
    let space = space("socialdata", "doc-ended.json");
    assert_eq!(space.state, SpaceState::Ended);
    assert_eq!(space.state_raw.as_deref(), Some("Ended"));
    assert_eq!(space.title.as_deref(), Some("The Algorithm goes open source"));
    assert_eq!(space.created_at, utc("2023-03-31T18:38:03.093Z"));
    assert_eq!(space.started_at, utc("2023-03-31T19:00:06.898Z"));
    // `ended_at` arrives as the string "1680293477270".
    assert_eq!(space.ended_at, utc("2023-03-31T20:11:17.270Z"));
    let creator = space.creator.as_ref().expect("creator");
    assert_eq!(creator.username.as_deref(), Some("XEng"));
    assert_eq!(creator.created_at, utc("2007-06-16T00:14:36Z"));
    assert_eq!(creator.followers_count, Some(1_324_928));
    assert_eq!(creator.verified_type.as_deref(), Some("business"));
    assert_eq!(space.creator_id.as_deref(), Some("6844292"));
    assert_eq!(space.total_live_listeners, Some(435_271));
    assert_eq!(space.total_replay_watched, Some(1_291_373));
    assert_eq!(space.replay_available, Some(true));
    assert_eq!(space.clipping_available, Some(false));
    assert_eq!(space.participant_count, None, "SocialData does not report it; nothing is invented");
}

#[test]
fn x_reference_example_key_fields() {
    let space = space("x", "doc-reference.json");
    assert_eq!(space.state, SpaceState::Live);
    assert_eq!(space.is_ticketed, Some(false), "the string \"false\" is read as a boolean");
    assert_eq!(space.started_at, utc("2021-07-14T04:35:55Z"), "non-padded month");
    assert_eq!(space.participant_count, Some(10));
    assert_eq!(space.creator.as_ref().and_then(|user| user.username.as_deref()), Some("TwitterDev"));
    assert_eq!(space.hosts.as_ref().map(Vec::len), Some(1));
    assert_eq!(space.speaker_ids.as_deref(), Some(&["2244994945".to_owned()][..]));
}

#[test]
fn x_canceled_and_unknown_states_are_data() {
    let canceled = space("x", "canceled.json");
    assert_eq!(canceled.state, SpaceState::Canceled);
    let unknown = space("x", "unknown-state.json");
    assert_eq!(unknown.state, SpaceState::Unknown);
    let raw = unknown.state_raw.as_deref().expect("the raw value is kept");
    assert!(!raw.is_empty() && SpaceState::from_provider(raw) == SpaceState::Unknown, "{raw:?}");
    let body = &fixture(Provider::X, "unknown-state.json").json;
    assert_eq!(Some(raw), body["data"]["state"].as_str(), "exactly as the provider sent it");
}

#[test]
fn x_not_found_names_the_id() {
    let error = decode_fixture("x", "err-not-found.json").expect_err("not found");
    assert!(
        matches!(&error, Error::NotFound { provider: Provider::X, id: Some(id), .. } if id.len() == 13),
        "{error:?}"
    );
    let other_host = decode_fixture("x", "err-not-found-twitter-host.json").expect_err("not found");
    assert!(matches!(other_host, Error::NotFound { .. }), "api.twitter.com problem URIs too: {other_host:?}");
}

#[test]
fn in_200_failures_of_socialdata_and_aisa_are_errors() {
    assert!(matches!(decode_fixture("socialdata", "err-not-found.json"), Err(Error::NotFound { .. })));
    assert!(decode_fixture("aisa", "err-status-error.json").is_err());
    assert!(decode_fixture("aisa", "err-no-data.json").is_err());
}

#[test]
fn bad_values_name_provider_field_and_value() {
    let error = decode_fixture("x", "bad-created-at.json").expect_err("bad date");
    assert!(
        matches!(&error, Error::Decode { field, value: Some(value), .. } if field == "data.created_at" && value.as_str() == "not a date"),
        "{error:?}"
    );
    let error = decode_fixture("socialdata", "bad-started-at.json").expect_err("bad millis");
    assert!(
        matches!(&error, Error::Decode { field, value: Some(value), .. } if field == "started_at" && value.as_str() == "17x0"),
        "{error:?}"
    );
    let error = decode_fixture("aisa", "bad-created-at.json").expect_err("bad date");
    assert!(error.to_string().starts_with("aisa: cannot decode `data.created_at` (value `yesterday`)"), "{error}");
}

#[test]
fn aisa_ended_algorithm_key_fields() {
    let space = space("aisa", "ended-algorithm.json");
    assert_eq!(space.state, SpaceState::Ended);
    assert_eq!(space.created_at, utc("2023-03-31T18:38:03.093Z"));
    assert_eq!(space.participant_count, Some(435_271), "from stats.total_participants");
    assert_eq!(space.total_replay_watched, Some(1_291_373));
    assert_eq!(space.creator.as_ref().and_then(|user| user.username.as_deref()), Some("XEng"));
}

#[test]
fn twitterapi_documented_shape_key_fields() {
    let ended = space("twitterapi", "ended-algorithm.json");
    assert_eq!(ended.provider, Provider::TwitterApi);
    assert_eq!((ended.state, ended.state_raw.as_deref()), (SpaceState::Ended, Some("Ended")));
    assert_eq!(ended.created_at, utc("2023-03-31T18:38:03.093Z"));
    assert_eq!(ended.participant_count, Some(435_271), "from stats.total_participants");
    assert_eq!(ended.replay_available, Some(true), "from settings.is_space_available_for_replay");
    let creator = ended.creator.as_ref().expect("creator");
    assert_eq!((creator.id.as_str(), creator.username.as_deref()), ("6844292", Some("XEng")));
    assert_eq!(creator.verified, Some(true), "isBlueVerified");
    assert_eq!(creator.followers_count, Some(1_324_928));
    // Epoch milliseconds, as a number and as a string of digits, like AIsa.
    let scheduled = space("twitterapi", "not-started-epoch-number.json");
    assert_eq!(scheduled.state, SpaceState::Scheduled);
    assert!(scheduled.scheduled_start.is_some());
    let error = decode_fixture("twitterapi", "err-no-data.json").expect_err("status error");
    assert!(matches!(&error, Error::Rejected { message, .. } if message.as_str() == "space_id is required"), "{error}");
}

#[test]
fn every_snapshot_belongs_to_a_fixture_or_a_named_test() {
    for name in crate::table::SNAPSHOTS {
        assert!(workspace_root().join("tests/it/snapshots").join(name).exists(), "{name} is named but missing");
    }
    // insta keeps a snapshot whose fixture was deleted; it would never be checked again.
    let prefix = "it__fixtures__every_fixture_normalizes_as_snapshotted@";
    let snapshots = std::fs::read_dir(workspace_root().join("tests/it/snapshots")).expect("snapshots");
    for entry in snapshots {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".snap.new") {
            continue; // pending review, not committed
        }
        if crate::table::SNAPSHOTS.contains(&name.as_str()) {
            continue; // the compare table's, named by its test module
        }
        let Some(fixture) = name.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(".snap")) else {
            panic!("unexpected file in tests/it/snapshots: {name}");
        };
        let (provider, file) = fixture.split_once("__").expect("<provider>__<file>");
        let path = workspace_root().join("tests/fixtures").join(provider).join(file);
        assert!(path.exists(), "snapshot {name} has no fixture {}: delete it", path.display());
    }
}

#[test]
fn multi_space_partial_errors_keep_every_space_and_name_the_missing_id() {
    let list = many("multi-partial-errors.json");
    let ids: Vec<&str> = list.spaces.iter().map(|space| space.id.as_str()).collect();
    assert_eq!(ids, ["1wkNhFdnXsiVp", "1zz63FfkCzJr4"]);
    assert_eq!(list.errors.len(), 1, "{:?}", list.errors);
    assert_eq!(list.errors[0].id.as_deref(), Some("1i0B3JrTAwR4y"));
    assert!(matches!(&list.errors[0].error, Error::NotFound { id: Some(id), .. } if id == "1i0B3JrTAwR4y"));
    // One user, shared by both Spaces: creator of the first, host of both.
    let shared = "1402877316125298688";
    assert_eq!(list.spaces[0].creator.as_ref().map(|user| user.id.as_str()), Some(shared));
    let hosts_of_second: Vec<&str> = list.spaces[1].hosts.iter().flatten().map(|user| user.id.as_str()).collect();
    assert!(hosts_of_second.contains(&shared), "{hosts_of_second:?}");
    assert_eq!(list.result_count, None, "`?ids=` answers carry no meta");
}

#[test]
fn multi_space_states_and_default_fields() {
    let states: Vec<SpaceState> = many("multi-mixed-states.json").spaces.iter().map(|space| space.state).collect();
    assert_eq!(states, [SpaceState::Live, SpaceState::Scheduled, SpaceState::Ended, SpaceState::Canceled]);
    let defaults = many("multi-default-fields.json");
    assert_eq!(defaults.result_count, Some(5));
    assert_eq!(defaults.spaces.len(), 5);
    assert!(defaults.spaces.iter().all(|space| space.title.is_none() && space.creator_id.is_none()));
    let empty = many("multi-empty.json");
    assert!(empty.spaces.is_empty() && empty.errors.is_empty());
    assert_eq!(empty.result_count, Some(0));
}

#[test]
fn multi_space_topics_go_to_the_spaces_that_name_them() {
    let list = many("multi-topics.json");
    let topics = |index: usize| -> Vec<&str> {
        list.spaces[index].topics.iter().flatten().map(|topic| topic.id.as_str()).collect()
    };
    assert_eq!(topics(0), ["1405218236398997504", "848920371311001600"]);
    assert_eq!(topics(1), ["1405218236398997504"], "a topic shared by two Spaces is in both");
    assert_eq!(topics(2), ["1592611340436119552"]);
}

#[test]
fn multi_space_unresolved_users_keep_their_ids() {
    let list = many("multi-unresolved-users.json");
    let first = &list.spaces[0];
    assert_eq!(first.creator_id.as_deref(), Some("1288455910213107712"));
    assert!(first.creator.is_none(), "the creator is absent from includes.users");
    let host_ids = first.host_ids.as_deref().unwrap_or_default();
    let hosts: Vec<&str> = first.hosts.iter().flatten().map(|user| user.id.as_str()).collect();
    assert_eq!(host_ids.len(), 2);
    assert_eq!(hosts, ["1402877316125298688"], "only the resolvable host is resolved");
    assert!(list.spaces[1].creator.as_ref().and_then(|user| user.username.as_deref()).is_some());
}
