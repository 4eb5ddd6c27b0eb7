//! X API v2 (`GET /2/spaces/{id}`) → [`Space`]. A converter: it sees only
//! the shared converter helpers, the model and the generated types.

use std::collections::HashMap;

use spaces_generated::x::types as wire;

use crate::convert::{At, Indexed, count, iso8601, non_empty, parse_json, space_id, verified_type};
use crate::error::{Error, Excerpt};
use crate::model::{Provider, Space, SpaceState, Topic, User};

const PROVIDER: Provider = Provider::X;

/// Parses and converts a raw `GET /2/spaces/{id}` body.
pub fn decode(body: &[u8]) -> Result<Space, Error> {
    Space::try_from(parse_json::<wire::SpaceLookupResponse>(PROVIDER, body)?)
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
        space(data, response.includes)
    }
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
    let detail = problem.detail.clone().or_else(|| problem.message.clone()).or_else(|| problem.title.clone());
    match kind {
        "resource-not-found" => Error::NotFound {
            provider: PROVIDER,
            id: problem.resource_id.clone().or_else(|| problem.value.clone()),
            detail,
        },
        "not-authorized-for-resource" | "client-forbidden" | "unsupported-authentication" => {
            Error::Unauthorized { provider: PROVIDER, status: None, detail }
        }
        "usage-capped" => Error::PaymentRequired { provider: PROVIDER, detail },
        // The v1.1-style rate-limit body is `{"errors":[{"code":88,...}]}`.
        "rate-limit-exceeded" => Error::RateLimited { provider: PROVIDER, retry_after: None },
        _ if problem.code == Some(88) => Error::RateLimited { provider: PROVIDER, retry_after: None },
        _ => Error::Rejected {
            provider: PROVIDER,
            status: None,
            message: Excerpt::new(detail.as_deref().or(problem.type_.as_deref()).unwrap_or("unspecified problem")),
        },
    }
}

fn space(data: wire::Space, includes: Option<wire::Expansions>) -> Result<Space, Error> {
    let (users, topics) = match includes {
        Some(includes) => (non_empty(includes.users), non_empty(includes.topics)),
        None => (None, None),
    };
    let users: Option<Vec<User>> = users
        .map(|users| {
            users
                .into_iter()
                .enumerate()
                .map(|(index, user)| convert_user(user, Indexed("includes.users", index)))
                .collect::<Result<_, Error>>()
        })
        .transpose()?;

    let host_ids = non_empty(data.host_ids);
    let speaker_ids = non_empty(data.speaker_ids);
    let invited_user_ids = non_empty(data.invited_user_ids);
    // `includes.users` holds exactly the users referenced by the expanded id
    // fields, so each one lands in creator, hosts, speakers or invited users.
    // Ids without a matching user (a partial expansion) are kept in the id
    // lists and simply missing from the resolved lists.
    let (creator, hosts, speakers, invited_users) = match users {
        Some(users) => {
            let mut resolver = Resolver::new(
                users,
                [
                    data.creator_id.as_slice(),
                    host_ids.as_deref().unwrap_or_default(),
                    speaker_ids.as_deref().unwrap_or_default(),
                    invited_user_ids.as_deref().unwrap_or_default(),
                ],
            );
            let [creator, hosts, speakers, invited] = std::mem::take(&mut resolver.positions);
            let creator = creator.first().and_then(|&position| resolver.take(position));
            let mut list = |ids: &Option<Vec<String>>, positions: Vec<usize>| {
                ids.as_ref().map(|_| positions.into_iter().filter_map(|position| resolver.take(position)).collect())
            };
            let hosts = list(&host_ids, hosts);
            let speakers = list(&speaker_ids, speakers);
            let invited = list(&invited_user_ids, invited);
            (creator, hosts, speakers, invited)
        }
        None => (None, None, None, None),
    };
    let timestamp = |field: &'static str, value: Option<wire::Timestamp>| {
        value.map(|raw| iso8601(PROVIDER, At("data", field), &raw)).transpose()
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
        is_ticketed: data.is_ticketed.map(is_ticketed).transpose()?,
        creator_id: data.creator_id,
        creator,
        hosts,
        speakers,
        invited_users,
        host_ids,
        speaker_ids,
        invited_user_ids,
        topic_ids: non_empty(data.topic_ids),
        // `includes.topics` holds the topics of this one Space: all are kept,
        // even when `topic_ids` was not requested.
        topics: topics.map(|topics| topics.into_iter().map(convert_topic).collect()),
        participant_count: count(PROVIDER, "data.participant_count", data.participant_count.map(i64::from))?,
        subscriber_count: count(PROVIDER, "data.subscriber_count", data.subscriber_count.map(i64::from))?,
        // X reports neither listener totals, replay/clipping flags nor room settings.
        total_live_listeners: None,
        total_replay_watched: None,
        replay_available: None,
        clipping_available: None,
        settings: None,
        id: space_id(PROVIDER, "data.id", data.id)?,
    })
}

/// Documented as a boolean, but the reference example sends `"false"`.
fn is_ticketed(value: wire::LenientBool) -> Result<bool, Error> {
    match value {
        wire::LenientBool::Boolean(flag) => Ok(flag),
        wire::LenientBool::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        wire::LenientBool::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        wire::LenientBool::String(text) => {
            Err(Error::decode(PROVIDER, "data.is_ticketed", &text, "expected a boolean or \"true\"/\"false\""))
        }
    }
}

/// Hands out the converted `includes.users` by reference: a user referenced
/// once (most invited users) is moved, not cloned; one referenced by several
/// lists (a creator who hosts and speaks) is cloned for all but the last.
struct Resolver {
    users: Vec<Option<User>>,
    /// Per list (creator, hosts, speakers, invited), the positions in `users` its ids refer to.
    positions: [Vec<usize>; 4],
    /// How many references to each user are still to be handed out.
    remaining: Vec<usize>,
}

impl Resolver {
    fn new(users: Vec<User>, lists: [&[String]; 4]) -> Self {
        let index: HashMap<&str, usize> = users.iter().enumerate().map(|(at, user)| (user.id.as_str(), at)).collect();
        let positions =
            lists.map(|ids| ids.iter().filter_map(|id| index.get(id.as_str()).copied()).collect::<Vec<_>>());
        let mut remaining = vec![0; users.len()];
        for &position in positions.iter().flatten() {
            remaining[position] += 1;
        }
        Resolver { users: users.into_iter().map(Some).collect(), positions, remaining }
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
        tweet_count: count(PROVIDER, field("public_metrics.tweet_count"), metrics.tweet_count)?,
        listed_count: count(PROVIDER, field("public_metrics.listed_count"), metrics.listed_count)?,
        // Not in the model: `pinned_tweet_id` and `public_metrics.like_count`.
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
