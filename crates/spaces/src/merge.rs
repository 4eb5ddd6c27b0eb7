//! One Space from several providers' answers, field by field, with where
//! each value came from and where the providers disagree.
//!
//! The rules (README, "Several providers"):
//! - Only answers about the same Space are merged: an answer whose `id` is
//!   not the first answer's is left out (and listed in [`Merged::left_out`]).
//! - A field takes the first non-null value in the caller's order of the
//!   answers. `settings` (the Space's own room settings) is merged member by
//!   member (`settings.is_locked`), so no provider's value is lost to
//!   another's partial object; lists (`hosts`, `topics`, ...) are taken whole.
//! - `creator` is another entity, a user, and is never assembled from two
//!   providers' users: it comes whole from the first answer whose creator is
//!   the chosen `creator_id` (the first answer's creator when no answer has
//!   a `creator_id`). Creators with another id are a conflict on
//!   `creator.id`; members on which answers about the same user differ are
//!   conflicts too (`creator.followers_count`), resolved to that creator.
//! - `state` is the exception: the most advanced state in a Space's
//!   lifecycle wins (`ended` or `canceled` over `live` over `scheduled` over
//!   `unknown`), and the caller's order only breaks ties. States never go
//!   back, so a provider still saying `live` about a Space another reports
//!   `ended` is behind, whatever its place in the order; `state_raw` comes
//!   with the chosen state.
//! - `provider` is the first answer's.
//! - A conflict is a field where two providers both have a value and the
//!   values differ once normalized: timestamps are compared to the second
//!   (providers keep different sub-second precision), `state_raw` without
//!   regard to case (`Ended` and `ended` are one state), lists of users or
//!   topics by their ids.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::model::{Provider, Space, SpaceState};

/// The fields merged member by member rather than taken whole: parts of
/// the Space itself, not other entities.
const GROUPS: [&str; 1] = ["settings"];

/// The outcome of [`merge`]: one Space, where each value came from, and
/// where the providers disagreed.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    /// The merged Space.
    pub space: Space,
    /// For each field that has a value, in the model's order, the provider
    /// it came from; `creator.*` and `settings.*` member by member.
    pub sources: Vec<(String, Provider)>,
    /// Each field on which providers that both had a value disagreed.
    pub conflicts: Vec<Conflict>,
    /// Answers about another Space than the first answer's (provider, the
    /// id it sent): never merged.
    pub left_out: Vec<(Provider, String)>,
}

impl Merged {
    /// The provider `field` (e.g. `lang`, `creator.username`) came from.
    pub fn source(&self, field: &str) -> Option<Provider> {
        self.sources.iter().find(|(name, _)| name == field).map(|(_, provider)| *provider)
    }
}

/// Providers that disagree on one field.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    /// The field (`title`, `creator.followers_count`).
    pub field: String,
    /// Every provider's value for it, in the answers' order (only providers that had one).
    pub values: Vec<(Provider, Value)>,
    /// The provider whose value the merged Space took.
    pub chosen: Provider,
}

/// Merges answers about one Space, in the caller's order of preference;
/// `None` when there is none. See the module docs for the rules.
pub fn merge(answers: impl IntoIterator<Item = Space>) -> Option<Merged> {
    let mut answers: Vec<Space> = answers.into_iter().collect();
    let id = answers.first()?.id.clone();
    let left_out: Vec<(Provider, String)> =
        answers.iter().filter(|space| space.id != id).map(|space| (space.provider, space.id.clone())).collect();
    answers.retain(|space| space.id == id);
    let first = answers.first()?;
    let objects: Vec<(Provider, Map<String, Value>)> = answers
        .iter()
        .map(|space| (space.provider, as_object(serde_json::to_value(space).unwrap_or(Value::Null))))
        .collect();
    let mut merged = Map::new();
    let mut sources = Vec::new();
    let mut conflicts = Vec::new();
    let state_from = state_source(&answers);
    for key in as_object(serde_json::to_value(first).unwrap_or(Value::Null)).keys() {
        match key.as_str() {
            "provider" => {
                merged.insert(key.clone(), Value::String(first.provider.as_str().to_owned()));
            }
            "state" | "state_raw" => {
                // Only providers that sent a state take part (an `unknown`
                // without `state_raw` is no value).
                let sent = |object: &Map<String, Value>| object.get("state_raw").is_some_and(|raw| !raw.is_null());
                let values = present(&objects, |object| object.get(key).filter(|_| sent(object)));
                let chosen = answers[state_from].provider;
                let value = objects[state_from].1.get(key).cloned().unwrap_or(Value::Null);
                if !value.is_null() {
                    sources.push((key.clone(), chosen));
                }
                conflicts.extend(conflict(key, values, chosen));
                merged.insert(key.clone(), value);
            }
            "creator" => {
                let (value, from) = creator(&answers, &objects, &mut conflicts);
                if let (Some(from), Value::Object(members)) = (from, &value) {
                    for (member, member_value) in members {
                        if !member_value.is_null() {
                            sources.push((format!("creator.{member}"), from));
                        }
                    }
                }
                merged.insert(key.clone(), value);
            }
            group if GROUPS.contains(&group) => {
                let members = group_members(&objects, group);
                let mut object = Map::new();
                for member in members {
                    let field = format!("{group}.{member}");
                    let values = present(&objects, |object| object.get(group).and_then(|value| value.get(&member)));
                    if let Some((provider, value)) = values.first().cloned() {
                        sources.push((field.clone(), provider));
                        conflicts.extend(conflict(&field, values, provider));
                        object.insert(member, value);
                    } else {
                        object.insert(member, Value::Null);
                    }
                }
                let any = object.values().any(|value| !value.is_null());
                merged.insert(key.clone(), if any { Value::Object(object) } else { Value::Null });
            }
            _ => {
                let values = present(&objects, |object| object.get(key));
                let value = match values.first().cloned() {
                    Some((provider, value)) => {
                        sources.push((key.clone(), provider));
                        conflicts.extend(conflict(key, values, provider));
                        value
                    }
                    None => Value::Null,
                };
                merged.insert(key.clone(), value);
            }
        }
    }
    // Every value came from a Space of the same model, so the merge reads
    // back as one; should it ever not, the first answer is the safe result.
    let space = serde_json::from_value(Value::Object(merged)).unwrap_or_else(|_| first.clone());
    Some(Merged { space, sources, conflicts, left_out })
}

/// The merged `creator` (one answer's, whole) and the answer it came from;
/// conflicts on `creator.id`, and on members where answers about that same
/// user differ, are added to `conflicts`.
fn creator(
    answers: &[Space],
    objects: &[(Provider, Map<String, Value>)],
    conflicts: &mut Vec<Conflict>,
) -> (Value, Option<Provider>) {
    let creator_id = answers.iter().find_map(|space| space.creator_id.as_deref());
    let chosen = answers
        .iter()
        .position(|space| space.creator.as_ref().is_some_and(|creator| creator_id.is_none_or(|id| creator.id == id)));
    let Some(chosen) = chosen else { return (Value::Null, None) };
    let provider = answers[chosen].provider;
    let chosen_id = answers[chosen].creator.as_ref().map(|creator| creator.id.clone());
    let ids = present(objects, |object| object.get("creator").and_then(|creator| creator.get("id")));
    conflicts.extend(conflict("creator.id", ids, provider));
    let same_user: Vec<(Provider, Map<String, Value>)> = objects
        .iter()
        .zip(answers)
        .filter(|(_, space)| space.creator.as_ref().map(|creator| &creator.id) == chosen_id.as_ref())
        .map(|((provider, object), _)| (*provider, object.clone()))
        .collect();
    for member in group_members(&same_user, "creator") {
        if member == "id" {
            continue;
        }
        let field = format!("creator.{member}");
        let values = present(&same_user, |object| object.get("creator").and_then(|value| value.get(&member)));
        conflicts.extend(conflict(&field, values, provider));
    }
    (objects[chosen].1.get("creator").cloned().unwrap_or(Value::Null), Some(provider))
}

fn as_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

/// `(provider, value)` of every answer whose value is not null, in order.
fn present<'a>(
    objects: &'a [(Provider, Map<String, Value>)],
    get: impl Fn(&'a Map<String, Value>) -> Option<&'a Value>,
) -> Vec<(Provider, Value)> {
    objects
        .iter()
        .filter_map(|(provider, object)| get(object).filter(|value| !value.is_null()).map(|v| (*provider, v.clone())))
        .collect()
}

/// The members of a group (`creator`) in the model's order, from whichever answer has the group.
fn group_members(objects: &[(Provider, Map<String, Value>)], group: &str) -> Vec<String> {
    let mut members: Vec<String> = Vec::new();
    for (_, object) in objects {
        if let Some(Value::Object(inner)) = object.get(group) {
            for member in inner.keys() {
                if !members.contains(member) {
                    members.push(member.clone());
                }
            }
        }
    }
    members
}

/// The answer whose `state` wins: the most advanced in the lifecycle; among
/// equals, one that sent a raw state (so an `unknown` value no mapping
/// knows is not lost to an answer with none), then the caller's order.
fn state_source(answers: &[Space]) -> usize {
    let rank = |space: &Space| {
        let lifecycle = match space.state {
            SpaceState::Unknown => 0,
            SpaceState::Scheduled => 1,
            SpaceState::Live => 2,
            SpaceState::Ended | SpaceState::Canceled => 3,
        };
        (lifecycle, space.state_raw.is_some())
    };
    let mut best = 0;
    for (index, space) in answers.iter().enumerate() {
        if rank(space) > rank(&answers[best]) {
            best = index;
        }
    }
    best
}

/// A conflict when some present value differs from another once normalized.
fn conflict(field: &str, values: Vec<(Provider, Value)>, chosen: Provider) -> Option<Conflict> {
    let differs = values.first().is_some_and(|(_, first)| values.iter().any(|(_, value)| !same(field, first, value)));
    differs.then(|| Conflict { field: field.to_owned(), values, chosen })
}

/// Whether two providers' values for `field` say the same thing.
fn same(field: &str, left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::String(left), Value::String(right)) => {
            let timestamp = field.ends_with("_at") || field == "scheduled_start";
            if timestamp && let (Ok(left), Ok(right)) = (left.parse::<DateTime<Utc>>(), right.parse::<DateTime<Utc>>())
            {
                return left.timestamp() == right.timestamp();
            }
            if field == "state_raw" {
                return left.eq_ignore_ascii_case(right);
            }
            left == right
        }
        (Value::Array(left), Value::Array(right)) => {
            let ids = |items: &Vec<Value>| -> Vec<Value> {
                items.iter().map(|item| item.get("id").cloned().unwrap_or_else(|| item.clone())).collect()
            };
            ids(left) == ids(right)
        }
        _ => left == right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::User;

    fn space(provider: Provider) -> Space {
        let json = serde_json::json!({
            "provider": provider, "id": "1jMJgLdenVjxL", "state": "unknown", "state_raw": null, "title": null,
            "lang": null, "media_key": null, "created_at": null, "updated_at": null, "scheduled_start": null,
            "started_at": null, "ended_at": null, "is_ticketed": null, "creator_id": null, "creator": null,
            "host_ids": null, "speaker_ids": null, "invited_user_ids": null, "hosts": null, "speakers": null,
            "invited_users": null, "topic_ids": null, "topics": null, "participant_count": null,
            "subscriber_count": null, "total_live_listeners": null, "total_replay_watched": null,
            "replay_available": null, "clipping_available": null, "settings": null
        });
        serde_json::from_value(json).expect("a bare Space")
    }

    #[test]
    fn first_value_wins_and_each_field_names_its_source() {
        let mut x = space(Provider::X);
        x.lang = Some("en".into());
        x.title = Some("Title".into());
        let mut socialdata = space(Provider::SocialData);
        socialdata.title = Some("Title".into());
        socialdata.media_key = Some("28_1".into());
        let merged = merge([x, socialdata]).expect("two answers");
        assert_eq!(merged.space.lang.as_deref(), Some("en"));
        assert_eq!(merged.space.media_key.as_deref(), Some("28_1"));
        assert_eq!(merged.source("lang"), Some(Provider::X));
        assert_eq!(merged.source("media_key"), Some(Provider::SocialData));
        assert_eq!(merged.source("title"), Some(Provider::X), "both had it: the first in order");
        assert_eq!(merged.source("ended_at"), None, "nobody had it");
        assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
        assert_eq!(merged.space.provider, Provider::X);
    }

    #[test]
    fn the_creator_comes_whole_from_one_answer() {
        let mut x = space(Provider::X);
        x.creator = Some(User { id: "1".into(), username: Some("xeng".into()), ..User::default() });
        let mut socialdata = space(Provider::SocialData);
        socialdata.creator = Some(User { id: "1".into(), listed_count: Some(7), ..User::default() });
        let merged = merge([x, socialdata]).expect("two answers");
        let creator = merged.space.creator.as_ref().expect("creator");
        assert_eq!((creator.username.as_deref(), creator.listed_count), (Some("xeng"), None));
        assert_eq!(merged.source("creator.username"), Some(Provider::X));
        assert_eq!(merged.source("creator.listed_count"), None);
    }

    #[test]
    fn a_creator_of_another_id_is_a_conflict_and_never_mixed_in() {
        let mut x = space(Provider::X);
        x.creator_id = Some("1".into());
        let mut socialdata = space(Provider::SocialData);
        socialdata.creator_id = Some("2".into());
        socialdata.creator = Some(User { id: "2".into(), followers_count: Some(9), ..User::default() });
        let merged = merge([x, socialdata]).expect("two answers");
        assert_eq!(merged.space.creator, None, "X's creator 1 is unresolved; user 2 is someone else");
        let fields: Vec<&str> = merged.conflicts.iter().map(|conflict| conflict.field.as_str()).collect();
        assert_eq!(fields, ["creator_id"]);
    }

    #[test]
    fn answers_about_another_space_are_left_out() {
        let x = space(Provider::X);
        let mut socialdata = space(Provider::SocialData);
        socialdata.id = "1OdKrjgmNkeKX".into();
        socialdata.title = Some("another Space".into());
        let merged = merge([x, socialdata]).expect("one answer about the first Space");
        assert_eq!(merged.space.title, None);
        assert_eq!(merged.left_out, [(Provider::SocialData, "1OdKrjgmNkeKX".to_owned())]);
    }

    #[test]
    fn the_most_advanced_state_wins_over_order_and_is_a_conflict() {
        let mut x = space(Provider::X);
        (x.state, x.state_raw) = (SpaceState::Live, Some("live".into()));
        let mut socialdata = space(Provider::SocialData);
        (socialdata.state, socialdata.state_raw) = (SpaceState::Ended, Some("Ended".into()));
        let merged = merge([x, socialdata]).expect("two answers");
        assert_eq!(merged.space.state, SpaceState::Ended);
        assert_eq!(merged.space.state_raw.as_deref(), Some("Ended"), "the raw value comes with the state");
        assert_eq!(merged.source("state"), Some(Provider::SocialData));
        let state = merged.conflicts.iter().find(|conflict| conflict.field == "state").expect("a state conflict");
        assert_eq!(state.chosen, Provider::SocialData);
        assert_eq!(state.values.len(), 2);
    }

    #[test]
    fn equal_after_normalizing_is_no_conflict() {
        let mut x = space(Provider::X);
        x.created_at = "2023-03-31T18:38:03Z".parse().ok();
        (x.state, x.state_raw) = (SpaceState::Ended, Some("ended".into()));
        let mut socialdata = space(Provider::SocialData);
        socialdata.created_at = "2023-03-31T18:38:03.093Z".parse().ok();
        (socialdata.state, socialdata.state_raw) = (SpaceState::Ended, Some("Ended".into()));
        let merged = merge([x, socialdata]).expect("two answers");
        assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
        assert_eq!(merged.space.created_at, "2023-03-31T18:38:03Z".parse().ok(), "the first in order");
    }

    #[test]
    fn a_real_difference_is_a_conflict_resolved_by_order() {
        let mut x = space(Provider::X);
        x.participant_count = Some(10);
        let mut aisa = space(Provider::Aisa);
        aisa.participant_count = Some(12);
        let merged = merge([x, aisa]).expect("two answers");
        assert_eq!(merged.space.participant_count, Some(10));
        let conflict = &merged.conflicts[0];
        assert_eq!(conflict.field, "participant_count");
        assert_eq!(conflict.chosen, Provider::X);
        assert_eq!(conflict.values, [(Provider::X, Value::from(10)), (Provider::Aisa, Value::from(12))]);
    }

    #[test]
    fn nothing_to_merge_is_none() {
        assert!(merge(Vec::new()).is_none());
    }
}
