//! One Space from several providers' answers, field by field, with where
//! each value came from and where the providers disagree.
//!
//! The rules (docs/library.md, "Several providers"):
//! - Only answers about the same Space are merged: an answer whose `id` is
//!   not the first answer's is left out (and listed in [`Merged::left_out`]).
//! - A field takes the first non-null value in the caller's order of the
//!   answers. `settings` (the Space's own room settings) is merged member by
//!   member (`settings.is_locked`), so no provider's value is lost to
//!   another's partial object; lists (`hosts`, `topics`, ...) are taken whole.
//! - `creator` is another entity, a user, and is never assembled from two
//!   providers' users: it comes whole from the first answer whose creator is
//!   the chosen `creator_id` (the first creator of any answer, when no
//!   answer has a `creator_id`). Creators with another id are a conflict on
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
//!   topics by their ids ([`Field::same`]).
//!
//! The merge walks [`Field::ALL`] once: each field's values are read with
//! [`Space::field`], compared with [`Field::same`] and copied into the
//! merged Space with [`Space::take_field`].

use serde::{Serialize, Serializer};

use crate::fields::{Field, FieldValue, UserField};
use crate::model::{Provider, Space, SpaceSettings, SpaceState};

/// The outcome of [`merge`]: one Space, where each value came from, and
/// where the providers disagreed.
///
/// It serializes as the CLI prints it (`spaces show --merge`): the Space's
/// own keys, then `"sources"` (`{field: provider}`, in the model's order),
/// then `"conflicts"` (`[{"field", "values": {provider: value}, "chosen"}]`),
/// then, only when some answer was left out, `"left_out"`
/// (`[{"provider", "id"}]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Merged {
    /// The merged Space.
    #[serde(flatten)]
    pub space: Space,
    /// For each field that has a value, in the model's order, the provider
    /// it came from; `creator.*` and `settings.*` member by member.
    #[serde(serialize_with = "sources_map")]
    pub sources: Vec<(Field, Provider)>,
    /// Each field on which providers that both had a value disagreed, in the model's order.
    pub conflicts: Vec<Conflict>,
    /// Answers about another Space than the first answer's (provider, the
    /// id it sent): never merged.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "left_out_list")]
    pub left_out: Vec<(Provider, String)>,
}

impl Merged {
    /// The provider `field` came from: a [`Field`], or its path (`lang`,
    /// `creator.username`); `None` when no provider had it (or no field
    /// has that path).
    pub fn source(&self, field: impl AsRef<str>) -> Option<Provider> {
        let field = field.as_ref();
        self.sources.iter().find(|(name, _)| name.as_str() == field).map(|(_, provider)| *provider)
    }
}

/// Providers that disagree on one field.
///
/// Serialized as `{"field": "title", "values": {"x": ..., "socialdata": ...}, "chosen": "x"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conflict {
    /// The field (`title`, `creator.followers_count`).
    pub field: Field,
    /// Every provider's value for it, in the answers' order (only providers that had one).
    #[serde(serialize_with = "values_map")]
    pub values: Vec<(Provider, FieldValue<'static>)>,
    /// The provider whose value the merged Space took.
    pub chosen: Provider,
}

fn sources_map<S: Serializer>(sources: &[(Field, Provider)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(sources.iter().map(|(field, provider)| (field, provider)))
}

fn values_map<S: Serializer>(values: &[(Provider, FieldValue<'static>)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(values.iter().map(|(provider, value)| (provider, value)))
}

fn left_out_list<S: Serializer>(left_out: &[(Provider, String)], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct LeftOut<'a> {
        provider: Provider,
        id: &'a str,
    }
    serializer.collect_seq(left_out.iter().map(|(provider, id)| LeftOut { provider: *provider, id }))
}

/// Merges answers about one Space, in the caller's order of preference;
/// `None` when there is none. See the module docs for the rules.
pub fn merge(answers: impl IntoIterator<Item = Space>) -> Option<Merged> {
    let mut answers: Vec<Space> = answers.into_iter().collect();
    let id = answers.first()?.id.clone();
    let left_out: Vec<(Provider, String)> =
        answers.iter().filter(|space| space.id != id).map(|space| (space.provider, space.id.clone())).collect();
    answers.retain(|space| space.id == id);
    let everyone: Vec<usize> = (0..answers.len()).collect();
    // Only answers that sent a state take part in `state` (an `unknown`
    // without `state_raw` is no value).
    let sent_state: Vec<usize> = everyone.iter().copied().filter(|&at| answers[at].state_raw.is_some()).collect();
    let state_from = state_source(&answers);
    let creator_from = creator_source(&answers);
    let creator_id = creator_from.and_then(|at| answers[at].creator.as_ref()).map(|creator| creator.id.as_str());
    // Members of the creator are compared among answers about that same user.
    let same_user: Vec<usize> = everyone
        .iter()
        .copied()
        .filter(|&at| answers[at].creator.as_ref().map(|creator| creator.id.as_str()) == creator_id)
        .collect();

    // The first answer's values, each replaced below by its chosen answer's.
    let mut space = answers.first()?.clone();
    space.creator = creator_from.and_then(|at| answers[at].creator.clone());
    let mut sources = Vec::new();
    let mut conflicts = Vec::new();
    for &field in Field::ALL {
        let parties: &[usize] = match field {
            Field::Provider => continue,
            Field::State | Field::StateRaw => &sent_state,
            // No creator chosen: none to source or to disagree about.
            Field::Creator(_) if creator_from.is_none() => continue,
            Field::Creator(UserField::Id) => &everyone,
            Field::Creator(_) => &same_user,
            _ => &everyone,
        };
        let values: Vec<(usize, FieldValue<'_>)> =
            parties.iter().map(|&at| (at, answers[at].field(field))).filter(|(_, value)| !value.is_absent()).collect();
        let chosen = match field {
            Field::State | Field::StateRaw => Some(state_from),
            Field::Creator(_) => creator_from,
            _ => values.first().map(|(at, _)| *at),
        };
        let Some(chosen) = chosen else { continue };
        if chosen != 0 && !matches!(field, Field::Creator(_)) {
            space.take_field(field, &answers[chosen]);
        }
        let provider = answers[chosen].provider;
        if !space.field(field).is_absent() {
            sources.push((field, provider));
        }
        conflicts.extend(conflict(field, &answers, values, provider));
    }
    // A group no answer had a member of is none, not an empty one.
    space.settings = space.settings.and_then(SpaceSettings::non_empty);
    Some(Merged { space, sources, conflicts, left_out })
}

/// The answer whose creator is taken, whole: the first whose creator is
/// the first `creator_id` any answer gives (the first with a creator, when
/// none gives one).
fn creator_source(answers: &[Space]) -> Option<usize> {
    let creator_id = answers.iter().find_map(|space| space.creator_id.as_deref());
    answers
        .iter()
        .position(|space| space.creator.as_ref().is_some_and(|creator| creator_id.is_none_or(|id| creator.id == id)))
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

/// A conflict when some present value (`(answer, value)`) differs from another once normalized.
fn conflict(
    field: Field,
    answers: &[Space],
    values: Vec<(usize, FieldValue<'_>)>,
    chosen: Provider,
) -> Option<Conflict> {
    let differs = values.first().is_some_and(|(_, first)| values.iter().any(|(_, value)| !field.same(first, value)));
    differs.then(|| Conflict {
        field,
        values: values.into_iter().map(|(at, value)| (answers[at].provider, value.into_owned())).collect(),
        chosen,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

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
        let fields: Vec<Field> = merged.conflicts.iter().map(|conflict| conflict.field).collect();
        assert_eq!(fields, [Field::CreatorId]);
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
        assert_eq!(conflict.values, [(Provider::X, FieldValue::Count(10)), (Provider::Aisa, FieldValue::Count(12))]);
    }

    #[test]
    fn merged_serializes_as_the_space_then_sources_and_conflicts() {
        let mut x = space(Provider::X);
        (x.title, x.lang) = (Some("A".into()), Some("en".into()));
        let mut socialdata = space(Provider::SocialData);
        socialdata.title = Some("B".into());
        socialdata.settings = Some(SpaceSettings { is_locked: Some(true), ..SpaceSettings::default() });
        let merged = merge([x, socialdata]).expect("two answers");
        assert_eq!(merged.source(Field::Title), merged.source("title"));
        let keys = |value: &Value| value.as_object().expect("an object").keys().cloned().collect::<Vec<_>>();
        let json = serde_json::to_value(&merged).expect("Merged serializes");
        let mut expected = keys(&serde_json::to_value(&merged.space).expect("a Space serializes"));
        expected.extend(["sources".to_owned(), "conflicts".to_owned()]);
        assert_eq!(keys(&json), expected, "the Space's keys, then sources and conflicts; no left_out");
        assert_eq!(json["title"], "A");
        assert_eq!(keys(&json["sources"]), ["id", "state", "title", "lang", "settings.is_locked"], "the model's order");
        assert_eq!(
            json["sources"],
            json!({ "id": "x", "state": "x", "title": "x", "lang": "x", "settings.is_locked": "socialdata" })
        );
        assert_eq!(
            json["conflicts"],
            json!([{ "field": "title", "values": { "x": "A", "socialdata": "B" }, "chosen": "x" }])
        );
        assert_eq!(keys(&json["conflicts"][0]), ["field", "values", "chosen"]);
        assert_eq!(keys(&json["conflicts"][0]["values"]), ["x", "socialdata"], "the answers' order");

        // An answer left out is said, last.
        let mut aisa = space(Provider::Aisa);
        aisa.id = "1OdKrjgmNkeKX".into();
        let json = serde_json::to_value(merge([space(Provider::X), aisa]).expect("one answer")).expect("serializes");
        assert_eq!(keys(&json).last().map(String::as_str), Some("left_out"));
        assert_eq!(json["left_out"], json!([{ "provider": "aisa", "id": "1OdKrjgmNkeKX" }]));
    }

    #[test]
    fn conflict_values_are_typed_and_serialize_as_in_the_space() {
        let mut x = space(Provider::X);
        x.created_at = "2023-03-31T18:38:03Z".parse().ok();
        x.creator = Some(User { id: "1".into(), followers_count: Some(5), ..User::default() });
        let mut socialdata = space(Provider::SocialData);
        socialdata.created_at = "2023-03-31T18:38:05.093Z".parse().ok();
        socialdata.creator = Some(User { id: "1".into(), followers_count: Some(6), ..User::default() });
        let merged = merge([x.clone(), socialdata.clone()]).expect("two answers");
        let fields: Vec<Field> = merged.conflicts.iter().map(|conflict| conflict.field).collect();
        assert_eq!(fields, [Field::CreatedAt, Field::Creator(UserField::FollowersCount)]);
        assert_eq!(
            merged.conflicts[0].values,
            [
                (Provider::X, x.field(Field::CreatedAt).into_owned()),
                (Provider::SocialData, socialdata.field(Field::CreatedAt).into_owned())
            ]
        );
        let json = serde_json::to_value(&merged.conflicts).expect("conflicts serialize");
        assert_eq!(json[0]["values"], json!({ "x": "2023-03-31T18:38:03Z", "socialdata": "2023-03-31T18:38:05.093Z" }));
        assert_eq!(
            json[1],
            json!({ "field": "creator.followers_count", "values": { "x": 5, "socialdata": 6 }, "chosen": "x" })
        );
    }

    #[test]
    fn nothing_to_merge_is_none() {
        assert!(merge(Vec::new()).is_none());
    }
}
