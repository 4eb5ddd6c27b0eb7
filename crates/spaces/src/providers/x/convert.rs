//! X API v2 (`GET /2/spaces/{id}`) → [`Space`]. A converter: it sees only
//! the shared converter helpers, the model and the generated types.

use std::collections::HashMap;
use std::fmt::Display;

use serde::Deserialize;
use spaces_generated::x::types as wire;

use crate::convert::{At, Indexed, count, iso8601, non_empty, parse_json, space_id, verified_type};
use crate::error::{Error, Excerpt, Resource};
use crate::list::{Decoded, ItemError, SpaceList};
use crate::model::{Provider, Space, SpaceState, Topic, User};

const PROVIDER: Provider = Provider::X;

/// Parses and converts a raw `GET /2/spaces/{id}` body.
pub fn decode(body: &[u8]) -> Result<Space, Error> {
    Space::try_from(parse_json::<wire::SpaceLookupResponse>(PROVIDER, body)?)
}

/// Parses and converts a raw multi-Space body (`GET /2/spaces`,
/// `/2/spaces/search`, `/2/spaces/by/creator_ids`).
pub fn decode_list(body: &[u8]) -> Result<SpaceList, Error> {
    // The common case, a body that fits, takes the strict parse; only one
    // that does not is read item by item.
    let strict = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match serde_json::from_slice::<wire::SpacesResponse>(strict) {
        Ok(response) => SpaceList::try_from(response),
        Err(_) => Parts::lenient(body)?.assemble(),
    }
}

/// Parses a raw body of any X Space endpoint: `data` an array is a
/// multi-Space body; `data` an object is a single lookup's. A body without
/// `data` is a multi-Space one when it has `meta` or more than one problem
/// (a batch whose ids were all missing), else a single lookup's failure, as
/// it always was.
pub fn decode_any(body: &[u8]) -> Result<Decoded, Error> {
    // Only the shape is read here (no values kept): the body is then parsed
    // once more, into the type that shape calls for.
    let shape = serde_json::from_slice::<Shape>(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)).ok();
    let many = shape.is_some_and(|shape| match shape.data {
        Some(DataShape::Array) => true,
        Some(DataShape::Other) => false,
        None => shape.meta.is_some() || shape.errors.is_some_and(|errors| errors > 1),
    });
    if many { decode_list(body).map(Decoded::Many) } else { decode(body).map(Decoded::One) }
}

/// The top-level shape of an X body, read without keeping any value.
#[derive(Deserialize)]
struct Shape {
    data: Option<DataShape>,
    meta: Option<serde::de::IgnoredAny>,
    /// How many problems `errors` holds.
    #[serde(default, deserialize_with = "count_items")]
    errors: Option<usize>,
}

enum DataShape {
    Array,
    Other,
}

impl<'de> Deserialize<'de> for DataShape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DataShape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<DataShape, A::Error> {
                while items.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(DataShape::Array)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DataShape, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(DataShape::Other)
            }
            fn visit_unit<E>(self) -> Result<DataShape, E> {
                Ok(DataShape::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<DataShape, E> {
                Ok(DataShape::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<DataShape, E> {
                Ok(DataShape::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<DataShape, E> {
                Ok(DataShape::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<DataShape, E> {
                Ok(DataShape::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<DataShape, E> {
                Ok(DataShape::Other)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

fn count_items<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    let items = Option::<Vec<serde::de::IgnoredAny>>::deserialize(deserializer).unwrap_or_default();
    Ok(items.map(|items| items.len()))
}

impl TryFrom<wire::SpaceLookupResponse> for Space {
    type Error = Error;

    fn try_from(response: wire::SpaceLookupResponse) -> Result<Space, Error> {
        let Some(data) = response.data else {
            // X answers a missing Space with a 200 whose body holds only `errors`.
            return Err(failure(&response.errors));
        };
        // `errors` beside `data` are partial errors about expansions (a user
        // that could not be returned): the Space itself is complete, and the
        // unresolved ids stay visible in `host_ids`/`speaker_ids`/... .
        let (users, topics) = includes(response.includes);
        let users = users.map(convert_users).transpose()?;
        let resolved = match users {
            Some(users) => Resolver::new(users, &data).resolve(&data),
            None => Resolved::default(),
        };
        // `includes.topics` holds the topics of this one Space: all are kept,
        // even when `topic_ids` was not requested.
        let topics = topics.map(|topics| topics.into_iter().map(convert_topic).collect());
        space(data, resolved, topics, "data")
    }
}

impl TryFrom<wire::SpacesResponse> for SpaceList {
    type Error = Error;

    /// Each Space of `data`, its users and topics resolved from the
    /// `includes` all of them share; an item that does not convert, and each
    /// problem in `errors`, becomes an [`ItemError`]. Fails as a whole only
    /// when `meta.result_count` is unreadable.
    fn try_from(response: wire::SpacesResponse) -> Result<SpaceList, Error> {
        let (users, topics) = includes(response.includes);
        let has_users = users.is_some();
        Parts {
            data: response.data.into_iter().map(Ok).collect(),
            users: users.unwrap_or_default().into_iter().map(Ok).collect(),
            has_users,
            topics: topics.unwrap_or_default().into_iter().map(Ok).collect(),
            problems: response.errors.into_iter().map(Ok).collect(),
            result_count: response.meta.and_then(|meta| meta.result_count),
        }
        .assemble()
    }
}

/// An item of a multi-Space body that could not be read or converted: its
/// own id where one is readable (a Space's, a user's or a topic's), and why.
struct BadItem {
    id: Option<String>,
    error: Error,
}

/// A multi-Space body taken apart, each item already read (or not) on its own.
struct Parts {
    data: Vec<Result<wire::Space, BadItem>>,
    users: Vec<Result<wire::User, BadItem>>,
    /// Whether `includes.users` was sent at all.
    has_users: bool,
    topics: Vec<Result<wire::Topic, BadItem>>,
    problems: Vec<Result<wire::Problem, BadItem>>,
    result_count: Option<i32>,
}

impl Parts {
    /// The body when the strict parse failed: every item of `data`,
    /// `includes.users`, `includes.topics` and `errors` read on its own, so
    /// that one value of the wrong type (a string count, a missing `state`,
    /// a topic without a name) fails only its item and the Spaces that
    /// refer to it, never the up to 100 Spaces beside them.
    fn lenient(body: &[u8]) -> Result<Parts, Error> {
        #[derive(Deserialize)]
        struct Lenient {
            data: Option<Vec<serde_json::Value>>,
            includes: Option<LenientIncludes>,
            errors: Option<Vec<serde_json::Value>>,
            meta: Option<wire::SpacesMeta>,
        }
        #[derive(Deserialize)]
        struct LenientIncludes {
            users: Option<Vec<serde_json::Value>>,
            topics: Option<Vec<serde_json::Value>>,
        }
        let body: Lenient = parse_json(PROVIDER, body)?;
        let (users, topics) = body.includes.map_or((None, None), |includes| (includes.users, includes.topics));
        Ok(Parts {
            data: items(body.data, "data"),
            has_users: users.as_ref().is_some_and(|users| !users.is_empty()),
            users: items(users, "includes.users"),
            topics: items(topics, "includes.topics"),
            problems: items(body.errors, "errors"),
            result_count: body.meta.and_then(|meta| meta.result_count),
        })
    }

    fn assemble(self) -> Result<SpaceList, Error> {
        let mut list = SpaceList {
            result_count: count(PROVIDER, "meta.result_count", self.result_count.map(i64::from))?,
            ..SpaceList::default()
        };
        // Users and topics are shared by every Space of the body. One that
        // does not convert fails each Space that names it (with its own
        // error, which names the include's field); one no Space names is
        // reported once on its own.
        let mut by_id: HashMap<String, User> = HashMap::new();
        let mut bad_users: Vec<BadItem> = Vec::new();
        for (index, user) in self.users.into_iter().enumerate() {
            let converted = user.and_then(|user| {
                let id = user.id.clone();
                convert_user(user, Indexed("includes.users", index)).map_err(|error| BadItem { id: Some(id), error })
            });
            match converted {
                Ok(user) => {
                    by_id.insert(user.id.clone(), user);
                }
                Err(bad) => bad_users.push(bad),
            }
        }
        let mut topics: HashMap<String, Topic> = HashMap::new();
        let mut bad_topics: Vec<BadItem> = Vec::new();
        for topic in self.topics {
            match topic {
                Ok(topic) => {
                    topics.insert(topic.id.clone(), convert_topic(topic));
                }
                Err(bad) => bad_topics.push(bad),
            }
        }
        let mut referenced = vec![false; bad_users.len() + bad_topics.len()];
        for (index, data) in self.data.into_iter().enumerate() {
            let data = match data {
                Ok(data) => data,
                Err(bad) => {
                    list.errors.push(ItemError { id: bad.id, error: bad.error });
                    continue;
                }
            };
            let user_ids =
                || data.creator_id.iter().chain(&data.host_ids).chain(&data.speaker_ids).chain(&data.invited_user_ids);
            let named = |bad: &BadItem, mut ids: Box<dyn Iterator<Item = &String> + '_>| {
                bad.id.as_ref().is_some_and(|bad_id| ids.any(|id| id == bad_id))
            };
            let broken: Vec<bool> = bad_users
                .iter()
                .map(|bad| named(bad, Box::new(user_ids())))
                .chain(bad_topics.iter().map(|bad| named(bad, Box::new(data.topic_ids.iter()))))
                .collect();
            if let Some(first) = broken.iter().position(|&names| names) {
                for (seen, names) in referenced.iter_mut().zip(&broken) {
                    *seen |= names;
                }
                let bad = bad_users.iter().chain(&bad_topics).nth(first).map(|bad| bad.error.clone());
                list.errors.extend(bad.map(|error| ItemError { id: Some(data.id.clone()), error }));
                continue;
            }
            let id = data.id.clone();
            let user = |id: &String| by_id.get(id).cloned();
            // As in a single lookup: with users in `includes`, a list whose
            // ids were sent is resolved (possibly to fewer users, or none);
            // without any, nothing is resolved.
            let users_of = |ids: &Vec<String>| {
                (self.has_users && !ids.is_empty()).then(|| ids.iter().filter_map(user).collect::<Vec<_>>())
            };
            let resolved = Resolved {
                creator: data.creator_id.as_ref().and_then(user),
                hosts: users_of(&data.host_ids),
                speakers: users_of(&data.speaker_ids),
                invited_users: users_of(&data.invited_user_ids),
            };
            // In a multi-Space body each Space gets the topics its own
            // `topic_ids` name, not every topic of the body.
            let own_topics = non_empty(data.topic_ids.iter().filter_map(|id| topics.get(id).cloned()).collect());
            match space(data, resolved, own_topics, Indexed("data", index)) {
                Ok(space) => list.spaces.push(space),
                Err(error) => list.errors.push(ItemError { id: Some(id), error }),
            }
        }
        let unreferenced = bad_users.into_iter().chain(bad_topics).zip(referenced).filter(|(_, seen)| !seen);
        list.errors.extend(unreferenced.map(|(bad, _)| ItemError { id: None, error: bad.error }));
        for problem in self.problems {
            list.errors.push(match problem {
                Ok(problem) => {
                    ItemError { id: problem_space_id(&problem), error: failure(std::slice::from_ref(&problem)) }
                }
                Err(bad) => ItemError { id: None, error: bad.error },
            });
        }
        Ok(list.deduplicated(PROVIDER))
    }
}

/// Each element of a list read on its own into `T`; one that does not fit
/// is a [`BadItem`] naming `list[index].field`, with the element's `id`
/// where it has a readable one (a string, or a number, which X's ids never
/// are but a broken answer may send).
fn items<T: serde::de::DeserializeOwned>(
    values: Option<Vec<serde_json::Value>>,
    list: &str,
) -> Vec<Result<T, BadItem>> {
    values
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            serde_path_to_error::deserialize(&value).map_err(|error| {
                let path = error.path().to_string();
                let field = if path == "." { format!("{list}[{index}]") } else { format!("{list}[{index}].{path}") };
                let id = value.get("id").and_then(|id| match id {
                    serde_json::Value::String(id) => Some(id.clone()),
                    serde_json::Value::Number(id) => Some(id.to_string()),
                    _ => None,
                });
                let detail = Excerpt::new(&error.into_inner().to_string());
                BadItem { id, error: Error::Decode { provider: PROVIDER, field, value: None, detail } }
            })
        })
        .collect()
}

/// The Space a problem is about: its `resource_id` (else `value`) when the
/// resource is a Space, or when it does not say (X's resource-not-found
/// problems for `ids` always say `space`). A problem about a user is not.
fn problem_space_id(problem: &wire::Problem) -> Option<String> {
    let about_a_space = problem.resource_type.as_deref().is_none_or(|kind| kind.eq_ignore_ascii_case("space"));
    about_a_space.then(|| problem.resource_id.clone().or_else(|| problem.value.clone())).flatten()
}

fn includes(includes: Option<wire::Expansions>) -> (Option<Vec<wire::User>>, Option<Vec<wire::Topic>>) {
    match includes {
        Some(includes) => (non_empty(includes.users), non_empty(includes.topics)),
        None => (None, None),
    }
}

fn convert_users(users: Vec<wire::User>) -> Result<Vec<User>, Error> {
    users.into_iter().enumerate().map(|(index, user)| convert_user(user, Indexed("includes.users", index))).collect()
}

/// The error an X Problem list stands for. Problem `type` URIs appear under
/// both `https://api.twitter.com/2/problems/` and `https://api.x.com/2/problems/`,
/// so only the last path segment is compared.
fn failure(problems: &[wire::Problem]) -> Error {
    let Some(problem) = problems.first() else {
        return Error::Decode {
            provider: PROVIDER,
            field: "data".into(),
            value: None,
            detail: "missing, and the body has no `errors` either".into(),
        };
    };
    let kind = problem.type_.as_deref().and_then(|uri| uri.rsplit('/').next()).unwrap_or_default();
    let text = problem.detail.as_ref().or(problem.message.as_ref()).or(problem.title.as_ref());
    let detail = text.map(|text| Excerpt::new(text));
    let rate_limited = Error::RateLimited { provider: PROVIDER, retry_after: None, retry_at: None };
    match kind {
        "resource-not-found" => Error::NotFound {
            provider: PROVIDER,
            // X names what is missing (`space`, `user`); a problem that does
            // not say is about the Space, as X's Space endpoints' are.
            resource: match problem.resource_type.as_deref() {
                None => Resource::Space,
                Some(kind) if kind.eq_ignore_ascii_case("space") => Resource::Space,
                Some(kind) if kind.eq_ignore_ascii_case("user") => Resource::User,
                Some(_) => Resource::Other,
            },
            id: problem.resource_id.clone().or_else(|| problem.value.clone()),
            detail,
        },
        "not-authorized-for-resource" | "client-forbidden" | "unsupported-authentication" => {
            Error::Unauthorized { provider: PROVIDER, status: None, detail }
        }
        "usage-capped" => Error::PaymentRequired { provider: PROVIDER, detail },
        // The v1.1-style rate-limit body is `{"errors":[{"code":88,...}]}`.
        "rate-limit-exceeded" => rate_limited,
        _ if problem.code == Some(88) => rate_limited,
        _ => Error::Rejected {
            provider: PROVIDER,
            status: None,
            message: Excerpt::new(text.or(problem.type_.as_ref()).map_or("unspecified problem", String::as_str)),
        },
    }
}

/// The users a Space's id fields name, resolved.
#[derive(Default)]
struct Resolved {
    creator: Option<User>,
    hosts: Option<Vec<User>>,
    speakers: Option<Vec<User>>,
    invited_users: Option<Vec<User>>,
}

/// One Space of `data`; `path` is where it sits (`data`, `data[3]`).
fn space(
    data: wire::Space,
    resolved: Resolved,
    topics: Option<Vec<Topic>>,
    path: impl Display + Copy,
) -> Result<Space, Error> {
    let host_ids = non_empty(data.host_ids);
    let speaker_ids = non_empty(data.speaker_ids);
    let invited_user_ids = non_empty(data.invited_user_ids);
    let Resolved { creator, hosts, speakers, invited_users } = resolved;
    let timestamp = |field: &'static str, value: Option<wire::Timestamp>| {
        value.map(|raw| iso8601(PROVIDER, At(path, field), &raw)).transpose()
    };

    Ok(Space {
        provider: PROVIDER,
        state: SpaceState::from_provider(&data.state),
        state_raw: Some(data.state),
        title: data.title,
        lang: data.lang,
        media_key: None,
        created_at: timestamp("created_at", data.created_at)?,
        updated_at: timestamp("updated_at", data.updated_at)?,
        scheduled_start: timestamp("scheduled_start", data.scheduled_start)?,
        started_at: timestamp("started_at", data.started_at)?,
        ended_at: timestamp("ended_at", data.ended_at)?,
        is_ticketed: data.is_ticketed.map(|value| is_ticketed(value, path)).transpose()?,
        creator_id: data.creator_id,
        creator,
        hosts,
        speakers,
        invited_users,
        host_ids,
        speaker_ids,
        invited_user_ids,
        topic_ids: non_empty(data.topic_ids),
        topics,
        participant_count: count(PROVIDER, At(path, "participant_count"), data.participant_count.map(i64::from))?,
        subscriber_count: count(PROVIDER, At(path, "subscriber_count"), data.subscriber_count.map(i64::from))?,
        // X reports neither listener totals, replay/clipping flags nor room settings.
        total_live_listeners: None,
        total_replay_watched: None,
        replay_available: None,
        clipping_available: None,
        settings: None,
        id: space_id(PROVIDER, At(path, "id"), data.id)?,
    })
}

/// Documented as a boolean, but the reference example sends `"false"`.
fn is_ticketed(value: wire::LenientBool, path: impl Display + Copy) -> Result<bool, Error> {
    match value {
        wire::LenientBool::Boolean(flag) => Ok(flag),
        wire::LenientBool::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        wire::LenientBool::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        wire::LenientBool::String(text) => {
            Err(Error::decode(PROVIDER, At(path, "is_ticketed"), &text, "expected a boolean or \"true\"/\"false\""))
        }
    }
}

/// Hands out the converted `includes.users` of a single-Space body by
/// reference: a user referenced once (most invited users) is moved, not
/// cloned; one referenced by several lists (a creator who hosts and speaks)
/// is cloned for all but the last. (`includes.users` holds exactly the users
/// the expanded id fields name, so each lands in creator, hosts, speakers or
/// invited users.)
struct Resolver {
    users: Vec<Option<User>>,
    /// Per list (creator, hosts, speakers, invited), the positions in `users` its ids refer to.
    positions: [Vec<usize>; 4],
    /// How many references to each user are still to be handed out.
    remaining: Vec<usize>,
}

impl Resolver {
    fn new(users: Vec<User>, data: &wire::Space) -> Self {
        let lists: [&[String]; 4] =
            [data.creator_id.as_slice(), &data.host_ids, &data.speaker_ids, &data.invited_user_ids];
        let index: HashMap<&str, usize> = users.iter().enumerate().map(|(at, user)| (user.id.as_str(), at)).collect();
        let positions =
            lists.map(|ids| ids.iter().filter_map(|id| index.get(id.as_str()).copied()).collect::<Vec<_>>());
        let mut remaining = vec![0; users.len()];
        for &position in positions.iter().flatten() {
            remaining[position] += 1;
        }
        Resolver { users: users.into_iter().map(Some).collect(), positions, remaining }
    }

    /// Each list whose ids were sent, resolved to the users found for them.
    fn resolve(mut self, data: &wire::Space) -> Resolved {
        let [creator, hosts, speakers, invited] = std::mem::take(&mut self.positions);
        let creator = creator.first().and_then(|&position| self.take(position));
        let mut list = |ids: &Vec<String>, positions: Vec<usize>| {
            (!ids.is_empty()).then(|| positions.into_iter().filter_map(|position| self.take(position)).collect())
        };
        Resolved {
            creator,
            hosts: list(&data.host_ids, hosts),
            speakers: list(&data.speaker_ids, speakers),
            invited_users: list(&data.invited_user_ids, invited),
        }
    }

    /// The user at `position` (always `Some`: each position is counted in `remaining`).
    fn take(&mut self, position: usize) -> Option<User> {
        let remaining = self.remaining.get_mut(position)?;
        *remaining = remaining.saturating_sub(1);
        let slot = self.users.get_mut(position)?;
        if *remaining == 0 { slot.take() } else { slot.clone() }
    }
}

fn convert_user(user: wire::User, path: impl std::fmt::Display + Copy) -> Result<User, Error> {
    let metrics = user.public_metrics.unwrap_or_default();
    let field = |name| At(path, name);
    Ok(User {
        created_at: user.created_at.map(|raw| iso8601(PROVIDER, field("created_at"), &raw)).transpose()?,
        followers_count: count(PROVIDER, field("public_metrics.followers_count"), metrics.followers_count)?,
        following_count: count(PROVIDER, field("public_metrics.following_count"), metrics.following_count)?,
        // X's 2.167 spec renames `tweet_count` to `post_count`: either is the count of posts.
        tweet_count: match metrics.tweet_count {
            Some(tweets) => count(PROVIDER, field("public_metrics.tweet_count"), Some(tweets))?,
            None => count(PROVIDER, field("public_metrics.post_count"), metrics.post_count)?,
        },
        listed_count: count(PROVIDER, field("public_metrics.listed_count"), metrics.listed_count)?,
        // Not in the model: `pinned_tweet_id` (or 2.167's `pinned_post_id`),
        // `public_metrics.like_count`, `media_count`, and the user fields
        // the client does not ask for (affiliation, subscription, ...).
        id: user.id,
        username: Some(user.username),
        name: Some(user.name),
        description: user.description,
        location: user.location,
        url: user.url,
        protected: user.protected,
        verified: user.verified,
        verified_type: verified_type(user.verified_type),
        profile_image_url: user.profile_image_url,
    })
}

fn convert_topic(topic: wire::Topic) -> Topic {
    Topic { id: topic.id, name: topic.name, description: topic.description }
}
