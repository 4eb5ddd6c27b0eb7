//! SocialData (`GET /twitter/space/{space_id}`) → [`Space`].

use spaces_generated::socialdata::types as wire;

use crate::convert::{
    At, classic_twitter, count, epoch_millis, epoch_millis_text, means_not_found, parse_json, space_id, verified_type,
};
use crate::error::{Error, Excerpt};
use crate::model::{Provider, Space, SpaceSettings, SpaceState, User};

const PROVIDER: Provider = Provider::SocialData;

/// Parses and converts a raw `GET /twitter/space/{space_id}` body.
pub fn decode(body: &[u8]) -> Result<Space, Error> {
    // The error body `{"status":"error","message":...}` also comes with a
    // 200. It is tried first so that a Space body's decode errors name the
    // Space's own fields rather than "no variant matched".
    if let Ok(error) = serde_json::from_slice::<wire::ErrorResponse>(body) {
        return Err(failure(&error));
    }
    space(parse_json::<wire::Space>(PROVIDER, body)?)
}

impl TryFrom<wire::SpaceShowResponse> for Space {
    type Error = Error;

    fn try_from(response: wire::SpaceShowResponse) -> Result<Space, Error> {
        match response {
            wire::SpaceShowResponse::Space(space_body) => space(space_body),
            wire::SpaceShowResponse::ErrorResponse(error) => Err(failure(&error)),
        }
    }
}

/// The error a SocialData error body stands for.
fn failure(error: &wire::ErrorResponse) -> Error {
    if means_not_found(&error.message) {
        return Error::not_found(PROVIDER, None, Some(Excerpt::new(&error.message)));
    }
    Error::Rejected { provider: PROVIDER, status: None, message: Excerpt::new(&error.message) }
}

fn space(space: wire::Space) -> Result<Space, Error> {
    let settings = SpaceSettings {
        disallow_join: space.disallow_join,
        is_locked: space.is_locked,
        is_muted: space.is_muted,
        is_employee_only: space.is_employee_only,
        conversation_controls: space.conversation_controls,
        narrow_cast_space_type: space.narrow_cast_space_type,
        no_incognito: space.no_incognito,
        max_guest_sessions: space.max_guest_sessions,
        max_admin_capacity: space.max_admin_capacity,
    };
    let creator = space.creator.map(convert_creator).transpose()?;
    Ok(Space {
        provider: PROVIDER,
        state: space.state.as_deref().map_or(SpaceState::Unknown, SpaceState::from_provider),
        state_raw: space.state,
        title: space.title,
        lang: None,
        media_key: space.media_key,
        created_at: timestamp("created_at", space.created_at)?,
        updated_at: timestamp("updated_at", space.updated_at)?,
        scheduled_start: timestamp("scheduled_start", space.scheduled_start)?,
        started_at: timestamp("started_at", space.started_at)?,
        ended_at: timestamp("ended_at", space.ended_at)?,
        is_ticketed: None,
        creator_id: creator.as_ref().map(|creator| creator.id.clone()),
        creator,
        // SocialData returns Twitter's Space metadata only: no host, speaker,
        // invitee or topic lists, and no current participant count
        // (`total_live_listeners` is a different, cumulative figure).
        host_ids: None,
        speaker_ids: None,
        invited_user_ids: None,
        hosts: None,
        speakers: None,
        invited_users: None,
        topic_ids: None,
        topics: None,
        participant_count: None,
        subscriber_count: None,
        total_live_listeners: count(PROVIDER, "total_live_listeners", space.total_live_listeners)?,
        total_replay_watched: count(PROVIDER, "total_replay_watched", space.total_replay_watched)?,
        replay_available: space.is_space_available_for_replay,
        clipping_available: space.is_space_available_for_clipping,
        settings: settings.non_empty(),
        id: space_id(PROVIDER, "id", space.id)?,
    })
}

/// Timestamps are epoch milliseconds, as numbers, except `ended_at`, which
/// SocialData sends as a string of digits (`"1680293477270"`); both forms
/// are accepted for every field.
fn timestamp(
    field: &'static str,
    value: Option<wire::EpochMillis>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
    value
        .map(|value| match value {
            wire::EpochMillis::Int64(millis) => epoch_millis(PROVIDER, field, millis),
            wire::EpochMillis::String(text) => epoch_millis_text(PROVIDER, field, &text),
        })
        .transpose()
}

/// The creator is Twitter's internal user result: the profile lives under `legacy`.
fn convert_creator(creator: wire::Creator) -> Result<User, Error> {
    let legacy = creator.legacy.unwrap_or_default();
    let field = |name| At("creator.legacy", name);
    Ok(User {
        id: creator.id,
        username: legacy.screen_name,
        name: legacy.name,
        description: legacy.description,
        location: legacy.location,
        url: legacy.url,
        created_at: legacy.created_at.map(|raw| classic_twitter(PROVIDER, field("created_at"), &raw)).transpose()?,
        protected: legacy.protected,
        // `legacy.verified` is the pre-2023 badge, false for nearly everyone
        // today; X API v2's `verified` reports the blue check, which is
        // `is_blue_verified` here.
        verified: creator.is_blue_verified,
        verified_type: verified_type(legacy.verified_type),
        followers_count: count(PROVIDER, field("followers_count"), legacy.followers_count)?,
        following_count: count(PROVIDER, field("friends_count"), legacy.friends_count)?,
        tweet_count: count(PROVIDER, field("statuses_count"), legacy.statuses_count)?,
        listed_count: count(PROVIDER, field("listed_count"), legacy.listed_count)?,
        profile_image_url: legacy.profile_image_url_https,
        // Not in the model: favourites/media counts, can_dm, banner, affiliate label.
    })
}
