//! Property tests: whatever JSON arrives, decoding never panics; fixtures
//! with a field dropped, retyped or changed never panic; and every valid
//! body normalizes into a Space that carries exactly the generated id,
//! title, state and timestamps, and whose JSON reads back unchanged.
//!
//! 256 cases per property by default (proptest's default, fast enough for
//! CI). A long campaign: `PROPTEST_CASES=100000 cargo test -p spaces-tests properties`.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use spaces::{Provider, Space, SpaceState};

use crate::support::{escape, fixtures, space_object};

fn provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(Provider::ALL)
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

/// Every node of a JSON value, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{}", escape(key));
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

/// A decode that must not panic: a Space must read back from its JSON, a
/// failure must name the provider on one line.
fn decode_checked(provider: Provider, body: &[u8]) -> Result<(), TestCaseError> {
    match spaces::decode(provider, body) {
        Ok(space) => assert_round_trip(&space),
        Err(error) => {
            prop_assert_eq!(error.provider(), provider);
            let message = error.to_string();
            prop_assert!(!message.contains('\n'), "one line: {}", message);
            prop_assert!(message.starts_with(provider.as_str()), "names the provider: {}", message);
            Ok(())
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

fn title() -> impl Strategy<Value = String> {
    "\\PC{0,40}"
}

/// The model's timestamps, in the order of [`timestamps`].
const TIMESTAMPS: [&str; 5] = ["created_at", "updated_at", "scheduled_start", "started_at", "ended_at"];

fn timestamps(space: &Space) -> [Option<DateTime<Utc>>; 5] {
    [space.created_at, space.updated_at, space.scheduled_start, space.started_at, space.ended_at]
}

/// What a generated body holds, so what its Space must carry.
#[derive(Clone, Debug)]
struct Expected {
    id: String,
    title: Option<String>,
    state_raw: Option<String>,
    /// In the order of [`TIMESTAMPS`]; `None` where the body has none.
    times: [Option<DateTime<Utc>>; 5],
}

impl Expected {
    fn new(id: String, state: String, title: String, times: [Option<DateTime<Utc>>; 5]) -> Self {
        Expected { id, title: Some(title), state_raw: Some(state), times }
    }
}

/// The documented state mapping (README: case-insensitive; `NotStarted`,
/// `PrePublished` → scheduled; `Running` → live; `TimedOut` → ended;
/// `cancelled` → canceled; anything else unknown), written out here rather
/// than taken from `SpaceState::from_provider`, which it checks.
fn expected_state(raw: Option<&str>) -> SpaceState {
    match raw.map(|raw| raw.trim().to_ascii_lowercase()).as_deref() {
        Some("scheduled" | "notstarted" | "prepublished") => SpaceState::Scheduled,
        Some("live" | "running") => SpaceState::Live,
        Some("ended" | "timedout") => SpaceState::Ended,
        Some("canceled" | "cancelled") => SpaceState::Canceled,
        _ => SpaceState::Unknown,
    }
}

/// Decodes a generated body, which must give a Space of `provider` carrying
/// exactly the generated id, title, state (normalized and raw) and
/// timestamps, whose JSON reads back unchanged.
fn decode_expecting(provider: Provider, body: &Value, expected: &Expected) -> Result<Space, TestCaseError> {
    let bytes = serde_json::to_vec(body).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let space = spaces::decode(provider, &bytes).map_err(|error| TestCaseError::fail(format!("{error}: {body}")))?;
    prop_assert_eq!(space.provider, provider);
    prop_assert_eq!(&space.id, &expected.id);
    prop_assert_eq!(&space.title, &expected.title);
    prop_assert_eq!(&space.state_raw, &expected.state_raw);
    prop_assert_eq!(space.state, expected_state(expected.state_raw.as_deref()), "state_raw {:?}", space.state_raw);
    for ((name, got), want) in TIMESTAMPS.iter().zip(timestamps(&space)).zip(expected.times) {
        prop_assert_eq!(got, want, "{}", name);
    }
    assert_round_trip(&space)?;
    Ok(space)
}

/// `time` in the form `like` has: epoch milliseconds as a number or as a
/// string of digits, else RFC 3339.
fn timestamp_like(like: &Value, time: DateTime<Utc>) -> Value {
    match like {
        Value::Number(_) => json!(time.timestamp_millis()),
        Value::String(text) if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) => {
            json!(time.timestamp_millis().to_string())
        }
        _ => json!(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    }
}

/// The provider's recorded Space with its id, title, state and every
/// timestamp it has replaced by generated ones (each timestamp in the form
/// the provider sent it in), and what the Space must then carry: the
/// generated values, and the recorded ones for whatever the body lacks.
fn recorded_space_with(
    provider: Provider,
    (id, state, title, times): (String, String, String, [DateTime<Utc>; 5]),
) -> (Value, Expected) {
    let recorded = spaces_mock::recorded_space(provider);
    let original = spaces::decode(provider, recorded.as_bytes()).expect("the recorded Space decodes");
    let mut body: Value = serde_json::from_str(recorded).expect("the recorded Space is JSON");
    let space = space_object(&mut body);
    let mut expected =
        Expected { times: timestamps(&original), id: id.clone(), title: original.title, state_raw: original.state_raw };
    space.insert("id".to_owned(), json!(id));
    if let Some(slot) = space.get_mut("title") {
        *slot = json!(title);
        expected.title = Some(title);
    }
    if let Some(slot) = space.get_mut("state") {
        *slot = json!(state);
        expected.state_raw = Some(state);
    }
    for ((name, time), want) in TIMESTAMPS.iter().zip(times).zip(&mut expected.times) {
        if let Some(slot) = space.get_mut(*name).filter(|slot| !slot.is_null()) {
            *slot = timestamp_like(slot, time);
            *want = Some(time);
        }
    }
    (body, expected)
}

/// Valid X bodies with random content: every timestamp, count and user field.
fn valid_x_body() -> impl Strategy<Value = (Value, Expected)> {
    let users = prop::collection::vec("[0-9]{1,19}", 0..5);
    let ticketed = (any::<bool>(), any::<bool>());
    (space_id(), state(), title(), prop::array::uniform5(timestamp()), 0..=i32::MAX, users, ticketed).prop_map(
        |(id, state, title, times, count, user_ids, (ticketed, ticketed_as_text))| {
            let iso = |time: &DateTime<Utc>| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let users: Vec<Value> = user_ids
                .iter()
                .map(|user| {
                    json!({
                        "id": user, "name": format!("n{user}"), "username": format!("u{user}"),
                        "created_at": iso(&times[0]), "public_metrics": {"followers_count": count},
                    })
                })
                .collect();
            let body = json!({
                "data": {
                    "id": id, "state": state, "title": title,
                    "created_at": iso(&times[0]), "updated_at": iso(&times[1]), "scheduled_start": iso(&times[2]),
                    "started_at": iso(&times[3]), "ended_at": iso(&times[4]),
                    "participant_count": count, "subscriber_count": count / 2,
                    "is_ticketed": if ticketed_as_text { json!(ticketed.to_string()) } else { json!(ticketed) },
                    "creator_id": user_ids.first(), "host_ids": user_ids, "speaker_ids": user_ids,
                },
                "includes": {"users": users},
            });
            (body, Expected::new(id, state, title, times.map(Some)))
        },
    )
}

/// Valid SocialData bodies: epoch milliseconds as numbers or digit strings.
fn valid_socialdata_body() -> impl Strategy<Value = (Value, Expected)> {
    let times = prop::array::uniform5((timestamp(), any::<bool>()));
    (space_id(), state(), title(), times, 0..=i64::MAX, any::<bool>()).prop_map(
        |(id, state, title, times, count, with_creator)| {
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
                body["creator"] = json!({
                    "id": "6844292", "is_blue_verified": true,
                    "legacy": {"screen_name": "XEng", "created_at": "Sat Jun 16 00:14:36 +0000 2007", "followers_count": count},
                });
            }
            (body, Expected::new(id, state, title, times.map(|(time, _)| Some(time))))
        },
    )
}

/// Valid bodies of the `{data, status, msg}` envelope (AIsa, twitterapi.io):
/// timestamps as RFC 3339, epoch-ms numbers or digit strings. The envelope
/// has no `started_at` or `ended_at`. Also gives the creator's `createdAt`.
fn valid_envelope_body() -> impl Strategy<Value = (Value, Expected, DateTime<Utc>)> {
    let times = prop::array::uniform4((timestamp(), 0..3u8));
    (space_id(), state(), title(), times, 0..=i64::MAX).prop_map(|(id, state, title, times, count)| {
        let stamp = |(time, form): &(DateTime<Utc>, u8)| match form {
            0 => json!(time.to_rfc3339()),
            1 => json!(time.timestamp_millis()),
            _ => json!(time.timestamp_millis().to_string()),
        };
        let body = json!({
            "status": "success", "msg": "ok",
            "data": {
                "id": id, "state": state, "title": title,
                "created_at": stamp(&times[0]), "updated_at": stamp(&times[1]), "scheduled_start": stamp(&times[2]),
                "stats": {"total_participants": count, "total_live_listeners": count, "total_replay_watched": count},
                "settings": {"is_locked": true, "max_guest_sessions": count},
                "creator": {"id": "6844292", "userName": "XEng", "createdAt": stamp(&times[3]), "followers": count},
            }
        });
        let [created, updated, scheduled, creator_created] = times.map(|(time, _)| time);
        let expected = Expected::new(id, state, title, [Some(created), Some(updated), Some(scheduled), None, None]);
        (body, expected, creator_created)
    })
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics(provider in provider(), value in arbitrary_json()) {
        decode_checked(provider, &serde_json::to_vec(&value).expect("serialize"))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(provider in provider(), body in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_checked(provider, &body)?;
    }

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        node in any::<prop::sample::Index>(),
        mutation in mutation(),
    ) {
        let fixture = pick.get(fixtures());
        let (provider, mut value) = (fixture.provider, fixture.json.clone());
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        if !all.is_empty() {
            mutate(&mut value, node.get::<String>(&all), &mutation);
        }
        decode_checked(provider, &serde_json::to_vec(&value).expect("serialize"))?;
    }

    /// Every provider, including any registered later: its recorded Space
    /// with generated values where the provider keeps them.
    #[test]
    fn recorded_spaces_with_generated_values_normalize_losslessly(
        provider in provider(),
        values in (space_id(), state(), title(), prop::array::uniform5(timestamp())),
    ) {
        let (body, expected) = recorded_space_with(provider, values);
        decode_expecting(provider, &body, &expected)?;
    }

    #[test]
    fn valid_x_bodies_normalize_losslessly((body, expected) in valid_x_body()) {
        let space = decode_expecting(Provider::X, &body, &expected)?;
        let data = &body["data"];
        prop_assert_eq!(space.participant_count, data["participant_count"].as_u64());
        prop_assert_eq!(space.subscriber_count, data["subscriber_count"].as_u64());
        let ticketed = data["is_ticketed"].as_bool().or_else(|| data["is_ticketed"].as_str()?.parse().ok());
        prop_assert_eq!(space.is_ticketed, ticketed);
        prop_assert_eq!(space.creator_id.as_deref(), data["creator_id"].as_str());
        let hosts: Vec<&str> = data["host_ids"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        prop_assert_eq!(space.host_ids.iter().flatten().map(String::as_str).collect::<Vec<_>>(), hosts);
    }

    #[test]
    fn valid_socialdata_bodies_normalize_losslessly((body, expected) in valid_socialdata_body()) {
        let space = decode_expecting(Provider::SocialData, &body, &expected)?;
        prop_assert_eq!(space.total_live_listeners, body["total_live_listeners"].as_u64());
        prop_assert_eq!(space.total_replay_watched, body["total_replay_watched"].as_u64());
        prop_assert_eq!(space.creator_id.as_deref(), body["creator"]["id"].as_str());
    }

    #[test]
    fn valid_envelope_bodies_normalize_losslessly(
        provider in prop::sample::select(vec![Provider::Aisa, Provider::TwitterApi]),
        (body, expected, creator_created) in valid_envelope_body(),
    ) {
        // AIsa and twitterapi.io answer in the same envelope, on purpose named here.
        let space = decode_expecting(provider, &body, &expected)?;
        let stats = &body["data"]["stats"];
        prop_assert_eq!(space.participant_count, stats["total_participants"].as_u64());
        prop_assert_eq!(space.total_live_listeners, stats["total_live_listeners"].as_u64());
        let creator = space.creator.as_ref().map(|creator| (creator.id.as_str(), creator.created_at));
        prop_assert_eq!(creator, Some(("6844292", Some(creator_created))));
    }
}
