//! Property tests: whatever JSON arrives, decoding never panics; fixtures
//! with a field dropped, retyped or changed never panic; and every valid
//! body normalizes into a Space whose JSON reads back unchanged.
//!
//! 256 cases per property by default (proptest's default, fast enough for
//! CI). A long campaign: `PROPTEST_CASES=100000 cargo test -p spaces-tests properties`.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use spaces::{Provider, Space};

use crate::support::workspace_root;

fn provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(Provider::ALL.to_vec())
}

/// Arbitrary JSON, biased towards the keys the decoders look at.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("data".to_owned()),
        Just("id".to_owned()),
        Just("state".to_owned()),
        Just("errors".to_owned()),
        Just("includes".to_owned()),
        Just("users".to_owned()),
        Just("creator".to_owned()),
        Just("legacy".to_owned()),
        Just("status".to_owned()),
        Just("created_at".to_owned()),
        Just("ended_at".to_owned()),
        "[a-z_]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN", |number| number.is_finite()).prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        "[a-zA-Z0-9]{13}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Every fixture, parsed, with its provider.
fn fixtures() -> Vec<(Provider, Value)> {
    let mut all = Vec::new();
    for provider in Provider::ALL {
        let directory = workspace_root().join("tests/fixtures").join(provider.as_str());
        let mut paths: Vec<_> =
            std::fs::read_dir(&directory).expect("fixtures").map(|entry| entry.expect("entry").path()).collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("fixture");
            all.push((provider, serde_json::from_str(&text).expect("fixtures are JSON")));
        }
    }
    all
}

/// Every node of a JSON value, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(child_at.clone());
                pointers(child, child_at, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let child_at = format!("{at}/{index}");
                out.push(child_at.clone());
                pointers(child, child_at, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Drop,
    Replace(Value),
    Tweak,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Drop),
        Just(Mutation::Tweak),
        prop_oneof![
            Just(Value::Null),
            Just(json!(-1)),
            Just(json!(1e300)),
            Just(json!("")),
            Just(json!("not a date")),
            Just(json!([])),
            Just(json!({})),
            Just(json!(true)),
            Just(json!(i64::MAX)),
        ]
        .prop_map(Mutation::Replace),
    ]
}

/// Applies a mutation at `pointer` (nothing happens if the pointer no longer resolves).
fn mutate(root: &mut Value, pointer: &str, mutation: &Mutation) {
    let (parent_pointer, key) = pointer.rsplit_once('/').expect("pointers have a parent");
    let Some(parent) = root.pointer_mut(parent_pointer) else { return };
    let key = key.replace("~1", "/").replace("~0", "~");
    let slot = match parent {
        Value::Object(map) => {
            if matches!(mutation, Mutation::Drop) {
                map.remove(&key);
                return;
            }
            map.get_mut(&key)
        }
        Value::Array(items) => {
            let Ok(index) = key.parse::<usize>() else { return };
            if matches!(mutation, Mutation::Drop) && index < items.len() {
                items.remove(index);
                return;
            }
            items.get_mut(index)
        }
        _ => None,
    };
    let Some(slot) = slot else { return };
    match mutation {
        Mutation::Drop => {}
        Mutation::Replace(value) => *slot = value.clone(),
        // Same type, other value: the kind of change a provider makes without notice.
        Mutation::Tweak => {
            *slot = match slot.take() {
                Value::Bool(flag) => Value::Bool(!flag),
                Value::Number(number) => json!(number.as_i64().map_or(0, |n| n.wrapping_mul(-7).wrapping_add(1))),
                Value::String(text) => Value::String(format!("{text}x")),
                Value::Array(_) => json!([]),
                Value::Object(_) => json!({}),
                Value::Null => json!(0),
            }
        }
    }
}

/// A decode that must not panic; a failure must name the provider on one line.
fn decode_checked(provider: Provider, body: &[u8]) -> Result<Option<Space>, TestCaseError> {
    match spaces::decode(provider, body) {
        Ok(space) => Ok(Some(space)),
        Err(error) => {
            prop_assert_eq!(error.provider(), provider);
            let message = error.to_string();
            prop_assert!(!message.contains('\n'), "one line: {}", message);
            prop_assert!(message.starts_with(provider.as_str()), "names the provider: {}", message);
            Ok(None)
        }
    }
}

fn assert_round_trip(space: &Space) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(space).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let back: Space = serde_json::from_str(&json).map_err(|error| TestCaseError::fail(format!("{error}: {json}")))?;
    prop_assert_eq!(&back, space);
    Ok(())
}

fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    // 2001..2100, millisecond precision: what the providers send.
    (978_307_200_000i64..4_102_444_800_000)
        .prop_map(|millis| DateTime::from_timestamp_millis(millis).expect("in range"))
}

fn state() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("live".to_owned()),
        Just("Running".to_owned()),
        Just("NotStarted".to_owned()),
        Just("PrePublished".to_owned()),
        Just("ENDED".to_owned()),
        Just("TimedOut".to_owned()),
        Just("cancelled".to_owned()),
        "\\PC{0,12}",
    ]
}

fn space_id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]{1,13}"
}

/// Valid X bodies with random content: every timestamp, count and user field.
fn valid_x_body() -> impl Strategy<Value = Value> {
    (space_id(), state(), "\\PC{0,40}", prop::collection::vec(timestamp(), 5), 0..=i32::MAX, prop::collection::vec("[0-9]{1,19}", 0..5), any::<bool>(), any::<bool>())
        .prop_map(|(id, state, title, times, count, user_ids, ticketed, ticketed_as_text)| {
            let iso = |time: &DateTime<Utc>| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let users: Vec<Value> = user_ids
                .iter()
                .map(|user| json!({"id": user, "name": format!("n{user}"), "username": format!("u{user}"), "created_at": iso(&times[0]), "public_metrics": {"followers_count": count}}))
                .collect();
            json!({
                "data": {
                    "id": id, "state": state, "title": title,
                    "created_at": iso(&times[0]), "updated_at": iso(&times[1]), "scheduled_start": iso(&times[2]),
                    "started_at": iso(&times[3]), "ended_at": iso(&times[4]),
                    "participant_count": count, "subscriber_count": count / 2,
                    "is_ticketed": if ticketed_as_text { json!(ticketed.to_string()) } else { json!(ticketed) },
                    "creator_id": user_ids.first(), "host_ids": user_ids, "speaker_ids": user_ids,
                },
                "includes": {"users": users},
            })
        })
}

/// Valid SocialData bodies: epoch milliseconds as numbers or digit strings.
fn valid_socialdata_body() -> impl Strategy<Value = Value> {
    (space_id(), state(), "\\PC{0,40}", prop::collection::vec((timestamp(), any::<bool>()), 5), 0..=i64::MAX, any::<bool>())
        .prop_map(|(id, state, title, times, count, with_creator)| {
            let millis = |(time, as_text): &(DateTime<Utc>, bool)| {
                if *as_text { json!(time.timestamp_millis().to_string()) } else { json!(time.timestamp_millis()) }
            };
            let mut body = json!({
                "id": id, "state": state, "title": title,
                "created_at": millis(&times[0]), "updated_at": millis(&times[1]), "scheduled_start": millis(&times[2]),
                "started_at": millis(&times[3]), "ended_at": millis(&times[4]),
                "total_live_listeners": count, "total_replay_watched": count / 3, "is_locked": with_creator,
            });
            if with_creator {
                body["creator"] = json!({"id": "6844292", "is_blue_verified": true, "legacy": {"screen_name": "XEng", "created_at": "Sat Jun 16 00:14:36 +0000 2007", "followers_count": count}});
            }
            body
        })
}

/// Valid AIsa bodies: timestamps as RFC 3339, epoch-ms numbers or digit strings.
fn valid_envelope_body() -> impl Strategy<Value = Value> {
    (space_id(), state(), "\\PC{0,40}", prop::collection::vec((timestamp(), 0..3u8), 4), 0..=i64::MAX)
        .prop_map(|(id, state, title, times, count)| {
            let stamp = |(time, form): &(DateTime<Utc>, u8)| match form {
                0 => json!(time.to_rfc3339()),
                1 => json!(time.timestamp_millis()),
                _ => json!(time.timestamp_millis().to_string()),
            };
            json!({
                "status": "success", "msg": "ok",
                "data": {
                    "id": id, "state": state, "title": title,
                    "created_at": stamp(&times[0]), "updated_at": stamp(&times[1]), "scheduled_start": stamp(&times[2]),
                    "stats": {"total_participants": count, "total_live_listeners": count, "total_replay_watched": count},
                    "settings": {"is_locked": true, "max_guest_sessions": count},
                    "creator": {"id": "6844292", "userName": "XEng", "createdAt": stamp(&times[3]), "followers": count},
                }
            })
        })
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics(provider in provider(), value in arbitrary_json()) {
        let body = serde_json::to_vec(&value).expect("serialize");
        if let Some(space) = decode_checked(provider, &body)? {
            assert_round_trip(&space)?;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(provider in provider(), body in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_checked(provider, &body)?;
    }

    #[test]
    fn mutated_fixtures_never_panic(pick in any::<prop::sample::Index>(), node in any::<prop::sample::Index>(), mutation in mutation()) {
        let fixtures = fixtures();
        let (provider, mut value) = fixtures[pick.index(fixtures.len())].clone();
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        if !all.is_empty() {
            mutate(&mut value, &all[node.index(all.len())], &mutation);
        }
        let body = serde_json::to_vec(&value).expect("serialize");
        if let Some(space) = decode_checked(provider, &body)? {
            assert_round_trip(&space)?;
        }
    }

    #[test]
    fn valid_x_bodies_normalize_losslessly(body in valid_x_body()) {
        let space = spaces::decode(Provider::X, &serde_json::to_vec(&body).expect("serialize"));
        let space = space.map_err(|error| TestCaseError::fail(format!("{error}: {body}")))?;
        prop_assert_eq!(space.participant_count, body["data"]["participant_count"].as_u64());
        assert_round_trip(&space)?;
    }

    #[test]
    fn valid_socialdata_bodies_normalize_losslessly(body in valid_socialdata_body()) {
        let space = spaces::decode(Provider::SocialData, &serde_json::to_vec(&body).expect("serialize"));
        let space = space.map_err(|error| TestCaseError::fail(format!("{error}: {body}")))?;
        prop_assert_eq!(space.ended_at.map(|time| time.timestamp_millis().to_string()), body["ended_at"].as_i64().map(|m| m.to_string()).or_else(|| body["ended_at"].as_str().map(str::to_owned)));
        assert_round_trip(&space)?;
    }

    #[test]
    fn valid_envelope_bodies_normalize_losslessly(
        provider in prop::sample::select(vec![Provider::Aisa, Provider::TwitterApi]),
        body in valid_envelope_body(),
    ) {
        // AIsa and twitterapi.io answer in the same envelope.
        let space = spaces::decode(provider, &serde_json::to_vec(&body).expect("serialize"));
        let space = space.map_err(|error| TestCaseError::fail(format!("{error}: {body}")))?;
        prop_assert_eq!(space.participant_count, body["data"]["stats"]["total_participants"].as_u64());
        assert_round_trip(&space)?;
    }
}
