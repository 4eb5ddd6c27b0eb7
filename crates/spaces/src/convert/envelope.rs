//! The `{data, status, msg}` envelope of twitterapi.io's
//! `GET /twitter/spaces/detail` → [`Space`](crate::Space), written once for
//! every provider that answers in it (twitterapi.io, and AIsa, which proxies
//! it). Each such provider has its own generated types (one spec each), so
//! the mapping is a macro over the provider's generated `types` module,
//! which must name its schemas as both specs do (`SpaceDetailResponse`,
//! `SpaceDetailData`, `SpaceSettings`, `SpaceStats`, `Creator`, `Timestamp`).
//!
//! What only one provider documents stays with that provider: twitterapi.io
//! lists the Space's participants by role, AIsa does not, so the macro takes
//! the function that reads them (`participants = ...`), and twitterapi.io's
//! module defines it.

/// Defines `decode` and `TryFrom<SpaceDetailResponse> for Space` for one
/// envelope provider.
///
/// - `envelope_converter!(spaces_generated::aisa::types, Provider::Aisa);`: an
///   envelope without participant lists (no hosts, no speakers).
/// - `envelope_converter!(spaces_generated::twitterapi::types, Provider::TwitterApi, participants = participants);`:
///   the module defines `fn participants(&mut wire::SpaceDetailDataInner) -> Result<Participants, Error>`,
///   which takes what its envelope lists (the `Participants` struct is defined here).
macro_rules! envelope_converter {
    ($wire:path, $provider:expr) => {
        $crate::convert::envelope_converter!($wire, $provider, participants = no_participants);

        /// This envelope documents no participant lists.
        fn no_participants(_data: &mut wire::SpaceDetailDataInner) -> Result<Participants, Error> {
            Ok(Participants::default())
        }
    };
    ($wire:path, $provider:expr, participants = $participants:ident) => {
        use $wire as wire;

        use $crate::convert::{
            At, count, epoch_millis, epoch_millis_text, iso8601, means_not_found, parse_json, space_id, verified_type,
        };
        use $crate::error::{Error, Excerpt};
        use $crate::model::{Provider, Space, SpaceSettings, SpaceState, User};

        const PROVIDER: Provider = $provider;

        /// The Space's people by role, beside its creator, as an envelope lists
        /// them: `None` for a role it does not list (or lists empty).
        #[derive(Default)]
        struct Participants {
            /// The host and co-hosts.
            hosts: Option<Vec<User>>,
            speakers: Option<Vec<User>>,
        }

        /// Parses and converts a raw `GET /twitter/spaces/detail` body.
        pub fn decode(body: &[u8]) -> Result<Space, Error> {
            Space::try_from(parse_json::<wire::SpaceDetailResponse>(PROVIDER, body)?)
        }

        impl TryFrom<wire::SpaceDetailResponse> for Space {
            type Error = Error;

            fn try_from(response: wire::SpaceDetailResponse) -> Result<Space, Error> {
                // A 200 whose envelope says `status: error` is a failure, whatever `data` holds.
                if is_error(&response) {
                    return Err(failure(&response));
                }
                // Any other `status` (normally `success`, possibly absent) with a Space in `data` is a success.
                match response.data.and_then(|data| data.0) {
                    Some(data) => space(data),
                    None => Err(Error::Decode {
                        provider: PROVIDER,
                        field: "data".into(),
                        value: response.status.as_deref().map(Excerpt::new),
                        detail: "missing or null although `status` is not `error`".into(),
                    }),
                }
            }
        }

        fn is_error(response: &wire::SpaceDetailResponse) -> bool {
            response.status.as_deref().is_some_and(|status| status.eq_ignore_ascii_case("error"))
        }

        /// The error an AIsa envelope with `status: error` stands for.
        fn failure(response: &wire::SpaceDetailResponse) -> Error {
            let message = response.msg.clone().unwrap_or_else(|| "status `error` without a message".to_owned());
            if means_not_found(&message) {
                return Error::not_found(PROVIDER, None, Some(Excerpt::new(&message)));
            }
            Error::Rejected { provider: PROVIDER, status: None, message: Excerpt::new(&message) }
        }

        fn space(mut data: wire::SpaceDetailDataInner) -> Result<Space, Error> {
            let Participants { hosts, speakers } = $participants(&mut data)?;
            let Some(id) = data.id else {
                return Err(Error::Decode {
                    provider: PROVIDER,
                    field: "data.id".into(),
                    value: None,
                    detail: "missing".into(),
                });
            };
            let stats = data.stats.unwrap_or_default();
            let settings = data.settings.unwrap_or_default();
            let creator = data.creator.map(|creator| convert_creator(creator, "data.creator")).transpose()?;
            Ok(Space {
                provider: PROVIDER,
                id: space_id(PROVIDER, "data.id", id)?,
                state: data.state.as_deref().map_or(SpaceState::Unknown, SpaceState::from_provider),
                state_raw: data.state,
                title: data.title,
                lang: None,
                media_key: data.media_key,
                created_at: timestamp("data.created_at", data.created_at)?,
                updated_at: timestamp("data.updated_at", data.updated_at)?,
                scheduled_start: timestamp("data.scheduled_start", data.scheduled_start)?,
                // Neither AIsa nor twitterapi.io documents `started_at` / `ended_at`.
                started_at: None,
                ended_at: None,
                is_ticketed: None,
                creator_id: creator.as_ref().map(|creator| creator.id.clone()),
                creator,
                // Hosts and speakers come as users (where the envelope lists
                // them), so their ids are the users' ids. No invitee or topic lists.
                host_ids: user_ids(hosts.as_deref()),
                speaker_ids: user_ids(speakers.as_deref()),
                invited_user_ids: None,
                hosts,
                speakers,
                invited_users: None,
                topic_ids: None,
                topics: None,
                participant_count: count(PROVIDER, "data.stats.total_participants", stats.total_participants)?,
                subscriber_count: None,
                total_live_listeners: count(PROVIDER, "data.stats.total_live_listeners", stats.total_live_listeners)?,
                total_replay_watched: count(PROVIDER, "data.stats.total_replay_watched", stats.total_replay_watched)?,
                replay_available: settings.is_space_available_for_replay,
                clipping_available: settings.is_space_available_for_clipping,
                settings: SpaceSettings {
                    disallow_join: settings.disallow_join,
                    is_locked: settings.is_locked,
                    is_muted: settings.is_muted,
                    is_employee_only: settings.is_employee_only,
                    conversation_controls: settings.conversation_controls,
                    narrow_cast_space_type: settings.narrow_cast_space_type,
                    no_incognito: settings.no_incognito,
                    max_guest_sessions: settings.max_guest_sessions,
                    max_admin_capacity: settings.max_admin_capacity,
                }
                .non_empty(),
                // Not in the model: `is_subscribed` describes the API caller (a
                // reminder they set), not the Space.
            })
        }

        /// Documented as date-time strings, but the documented values are
        /// placeholders and the upstream API uses epoch milliseconds: accept an
        /// RFC 3339 string, or epoch milliseconds as a number or a string of digits.
        /// A bare number is never read as seconds: that would be a guess.
        fn timestamp(
            field: impl std::fmt::Display + Copy,
            value: Option<wire::Timestamp>,
        ) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
            value
                .map(|value| match value {
                    wire::Timestamp::Int64(millis) => epoch_millis(PROVIDER, field, millis),
                    wire::Timestamp::String(text)
                        if text.bytes().all(|byte| byte.is_ascii_digit()) && !text.is_empty() =>
                    {
                        epoch_millis_text(PROVIDER, field, &text)
                    }
                    wire::Timestamp::String(text) => iso8601(PROVIDER, field, &text),
                })
                .transpose()
        }

        fn user_ids(users: Option<&[User]>) -> Option<Vec<String>> {
            users.map(|users| users.iter().map(|user| user.id.clone()).collect())
        }

        $crate::convert::envelope::camel_case_user!(convert_creator, wire::Creator);
    };
}

/// Defines `fn $name(user: $ty, path: impl Display + Copy) -> Result<User, Error>`,
/// the mapping of twitterapi.io's camelCase `UserInfo` for a generated type
/// with its fields (the creator; twitterapi.io's Space admins), written once.
/// `path` is where the user sits (`data.creator`), for error messages. Used
/// inside an `envelope_converter!` module, whose imports it relies on.
macro_rules! camel_case_user {
    ($name:ident, $ty:ty) => {
        fn $name(user: $ty, path: impl std::fmt::Display + Copy) -> Result<User, Error> {
            let field = |name| At(path, name);
            let Some(id) = user.id else {
                return Err(Error::Decode {
                    provider: PROVIDER,
                    field: field("id").to_string(),
                    value: None,
                    detail: "missing".into(),
                });
            };
            Ok(User {
                id,
                username: user.user_name,
                name: user.name,
                description: user.description,
                location: user.location,
                url: user.url,
                created_at: timestamp(field("createdAt"), user.created_at)?,
                protected: user.protected,
                // `isVerified` is the legacy badge; X API v2's `verified` reports the
                // blue check, which is `isBlueVerified` here.
                verified: user.is_blue_verified,
                verified_type: verified_type(user.verified_type),
                followers_count: count(PROVIDER, field("followers"), user.followers)?,
                following_count: count(PROVIDER, field("following"), user.following)?,
                tweet_count: count(PROVIDER, field("statusesCount"), user.statuses_count)?,
                // The camelCase user shape has no listed count.
                listed_count: None,
                profile_image_url: user.profile_picture,
                // Not in the model: favourites/media counts, cover picture, canDm,
                // automation flags, affiliate label.
            })
        }
    };
}

pub(crate) use {camel_case_user, envelope_converter};
