//! The provider-free model: what every provider's answer is normalized into.
//!
//! A value the provider did not send is `None` (serialized as `null`), never
//! invented. Every key is always present in the JSON, so consumers see one
//! fixed shape whatever the provider.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use spaces_generated::ParamRules;

/// Where a [`Space`] came from.
///
/// Registering a provider starts here: the variant is the only place its
/// name is written. Its wire name (CLI, JSON, error messages) is the
/// variant's name in lowercase (`SocialData` → `socialdata`), and
/// [`Provider::ALL`] lists every variant; both are derived (strum), never
/// listed by hand. What the crate knows about it is [`Provider::info`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
#[non_exhaustive]
pub enum Provider {
    /// The official X API v2.
    X,
    /// SocialData.
    SocialData,
    /// AIsa.
    Aisa,
    /// twitterapi.io.
    TwitterApi,
}

impl Provider {
    /// Every provider, in declaration order.
    pub const ALL: &'static [Provider] = <Provider as strum::VariantArray>::VARIANTS;

    /// The provider's name as used in the CLI and the JSON: `x`, `socialdata`, `aisa`, `twitterapi`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown provider name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{0}`; expected one of: {names}", names = provider_names())]
pub struct UnknownProvider(pub String);

fn provider_names() -> String {
    Provider::ALL.iter().map(|provider| provider.as_str()).collect::<Vec<_>>().join(", ")
}

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .iter()
            .copied()
            .find(|provider| provider.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownProvider(name.to_owned()))
    }
}

/// The rule every Space id keeps: the pattern of the `id` of X's
/// `GET /2/spaces/{id}` in `specs/x.yaml` (`^[a-zA-Z0-9]{1,13}$`; every
/// provider uses X's ids), found at compile time.
static SPACE_ID: &ParamRules = match spaces_generated::x::SPEC.operation("find_space_by_id") {
    Some(lookup) => match lookup.param("id") {
        Some(id) => &id.rules,
        None => panic!("X's lookup has no `id` parameter"),
    },
    None => panic!("specs/x.yaml has no find_space_by_id"),
};

/// What is wrong with a Space id, if anything. Whether it is a Space id is
/// the spec's pattern's call; the reason only says it in words.
pub(crate) fn id_problem(id: &str) -> Option<&'static str> {
    if SPACE_ID.matches(id) {
        None
    } else if id.is_empty() {
        Some("empty")
    } else if !id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        Some("only ASCII letters and digits are allowed")
    } else if id.len() > 13 {
        Some("longer than 13 characters")
    } else {
        Some("does not match the Space id pattern of specs/x.yaml")
    }
}

/// The Space id in what people share: a Space's URL
/// (`https://x.com/i/spaces/1jMJgLdenVjxL`, on x.com or twitter.com, with or
/// without the scheme, `www.` or `mobile.`, a `/peek` after the id, a query
/// or a fragment), or the id itself (returned as it is, trimmed). Whether
/// the result is a valid id is [`Provider::check_id`]'s call.
///
/// ```
/// use spaces::space_id_of;
/// assert_eq!(space_id_of("https://x.com/i/spaces/1jMJgLdenVjxL"), "1jMJgLdenVjxL");
/// assert_eq!(space_id_of("twitter.com/i/spaces/1jMJgLdenVjxL/peek?s=20"), "1jMJgLdenVjxL");
/// assert_eq!(space_id_of(" 1jMJgLdenVjxL "), "1jMJgLdenVjxL");
/// ```
pub fn space_id_of(text: &str) -> &str {
    let text = text.trim();
    // The scheme is matched without regard to case, as URLs' are.
    let after_scheme = ["https://", "http://"].iter().find_map(|scheme| {
        text.get(..scheme.len()).filter(|start| start.eq_ignore_ascii_case(scheme)).map(|start| &text[start.len()..])
    });
    let rest = after_scheme.unwrap_or(text);
    let Some((host, path)) = rest.split_once('/') else { return text };
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").or_else(|| host.strip_prefix("mobile.")).unwrap_or(&host);
    if host != "x.com" && host != "twitter.com" {
        return text;
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path.strip_prefix("i/spaces/") {
        Some(after) => after.split('/').next().unwrap_or(after),
        None => text,
    }
}

/// Which Spaces a search returns (X's `state` parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum SearchState {
    /// Live and scheduled Spaces (ended ones are not searchable).
    #[default]
    All,
    /// Live Spaces only.
    Live,
    /// Scheduled Spaces only.
    Scheduled,
}

impl SearchState {
    /// The wire value: `all`, `live` or `scheduled`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl FromStr for SearchState {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        <SearchState as strum::VariantArray>::VARIANTS
            .iter()
            .copied()
            .find(|state| state.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("unknown search state `{name}`; expected all, live or scheduled"))
    }
}

/// A Space's lifecycle state, normalized across providers' vocabularies.
///
/// Serialized as its lowercase name (`"scheduled"`, `"live"`, `"ended"`,
/// `"canceled"`, `"unknown"`); the provider's own value is in
/// [`Space::state_raw`], and only there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpaceState {
    /// Not started yet (X `scheduled`; Twitter's internal `NotStarted`, `PrePublished`).
    Scheduled,
    /// On air (X `live`; internal `Running`).
    Live,
    /// Over (X `ended`; internal `Ended`, `TimedOut`).
    Ended,
    /// Called off by its creator (`canceled` or `cancelled`).
    Canceled,
    /// A value no mapping knows, or none at all. Data, not an error: the
    /// provider's value is in [`Space::state_raw`].
    Unknown,
}

impl SpaceState {
    /// Maps a provider's state value, case-insensitively.
    pub fn from_provider(raw: &str) -> SpaceState {
        const NAMES: [(&str, SpaceState); 9] = [
            ("scheduled", SpaceState::Scheduled),
            ("notstarted", SpaceState::Scheduled),
            ("prepublished", SpaceState::Scheduled),
            ("live", SpaceState::Live),
            ("running", SpaceState::Live),
            ("ended", SpaceState::Ended),
            ("timedout", SpaceState::Ended),
            ("canceled", SpaceState::Canceled),
            ("cancelled", SpaceState::Canceled),
        ];
        // Compared in place (no lowercase copy): this runs for every Space decoded.
        let value = raw.trim();
        NAMES
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
            .map_or(SpaceState::Unknown, |(_, state)| state)
    }

    /// The normalized name: `scheduled`, `live`, `ended`, `canceled` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceState::Scheduled => "scheduled",
            SpaceState::Live => "live",
            SpaceState::Ended => "ended",
            SpaceState::Canceled => "canceled",
            SpaceState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for SpaceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SpaceState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpaceState {
    /// Reads a normalized name (only those: a provider's vocabulary goes
    /// through [`SpaceState::from_provider`]).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "scheduled" | "live" | "ended" | "canceled" | "unknown" => Ok(SpaceState::from_provider(&name)),
            other => {
                Err(serde::de::Error::unknown_variant(other, &["scheduled", "live", "ended", "canceled", "unknown"]))
            }
        }
    }
}

/// One Twitter Space, normalized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// Which provider answered.
    pub provider: Provider,
    /// The Space id, e.g. `1jMJgLdenVjxL`.
    pub id: String,
    /// The normalized state.
    pub state: SpaceState,
    /// The state exactly as the provider sent it (e.g. `Running`), if it sent one.
    pub state_raw: Option<String>,
    /// The title set by the creator.
    pub title: Option<String>,
    /// BCP47 language tag (X only).
    pub lang: Option<String>,
    /// Twitter's media key for the audio, `28_<snowflake>` (SocialData, AIsa).
    pub media_key: Option<String>,
    /// When the Space was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When its metadata last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// When the creator scheduled it to start.
    pub scheduled_start: Option<DateTime<Utc>>,
    /// When it actually started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether it is ticketed.
    pub is_ticketed: Option<bool>,
    /// The creator's user id.
    pub creator_id: Option<String>,
    /// The creator, when the provider supplies the user.
    pub creator: Option<User>,
    /// User ids of the hosts.
    pub host_ids: Option<Vec<String>>,
    /// User ids of everyone who spoke.
    pub speaker_ids: Option<Vec<String>>,
    /// User ids of those invited to speak.
    pub invited_user_ids: Option<Vec<String>>,
    /// The hosts the provider resolved into users (may be fewer than `host_ids`).
    pub hosts: Option<Vec<User>>,
    /// The speakers the provider resolved into users.
    pub speakers: Option<Vec<User>>,
    /// The invited users the provider resolved into users.
    pub invited_users: Option<Vec<User>>,
    /// Ids of the topics the creator picked.
    pub topic_ids: Option<Vec<String>>,
    /// The topics the provider resolved.
    pub topics: Option<Vec<Topic>>,
    /// Users in the Space, hosts and speakers included (AIsa: `stats.total_participants`).
    pub participant_count: Option<u64>,
    /// People who set a reminder.
    pub subscriber_count: Option<u64>,
    /// Listeners who joined while it was live.
    pub total_live_listeners: Option<u64>,
    /// Replay views.
    pub total_replay_watched: Option<u64>,
    /// Whether a replay can be played.
    pub replay_available: Option<bool>,
    /// Whether clips can be made.
    pub clipping_available: Option<bool>,
    /// Room settings (SocialData, AIsa).
    pub settings: Option<SpaceSettings>,
}

/// A user: a Space's creator, host, speaker or invitee.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id.
    pub id: String,
    /// The handle, without `@`.
    pub username: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The profile bio.
    pub description: Option<String>,
    /// The free-text location.
    pub location: Option<String>,
    /// The profile URL.
    pub url: Option<String>,
    /// When the account was created.
    pub created_at: Option<DateTime<Utc>>,
    /// Whether the account's posts are protected.
    pub protected: Option<bool>,
    /// Whether the account shows a verified badge.
    pub verified: Option<bool>,
    /// The kind of verification, lowercase: `blue`, `business`, `government`, `none`.
    pub verified_type: Option<String>,
    /// Followers.
    pub followers_count: Option<u64>,
    /// Accounts followed.
    pub following_count: Option<u64>,
    /// Posts.
    pub tweet_count: Option<u64>,
    /// Lists the account is on.
    pub listed_count: Option<u64>,
    /// The avatar URL.
    pub profile_image_url: Option<String>,
}

/// A topic the creator attached to the Space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    /// The topic id.
    pub id: String,
    /// The topic's name, e.g. `Technology`.
    pub name: String,
    /// The topic's description.
    pub description: Option<String>,
}

/// Room settings, as Twitter's internal metadata carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceSettings {
    /// Whether listeners are prevented from joining.
    pub disallow_join: Option<bool>,
    /// Whether the Space is locked.
    pub is_locked: Option<bool>,
    /// Whether the Space is muted.
    pub is_muted: Option<bool>,
    /// Whether only employees may join.
    pub is_employee_only: Option<bool>,
    /// Who may speak, as Twitter's numeric code.
    pub conversation_controls: Option<i64>,
    /// Twitter's numeric narrow-cast (audience) type.
    pub narrow_cast_space_type: Option<i64>,
    /// Whether incognito listening is disallowed.
    pub no_incognito: Option<bool>,
    /// Maximum guest (speaker) sessions.
    pub max_guest_sessions: Option<i64>,
    /// Maximum co-hosts.
    pub max_admin_capacity: Option<i64>,
}

impl SpaceSettings {
    /// `None` when the provider sent no setting at all, so an empty object is never invented.
    pub(crate) fn non_empty(self) -> Option<Self> {
        (self != SpaceSettings::default()).then_some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::space_id_of;

    #[test]
    fn space_ids_come_out_of_the_urls_people_share() {
        for url in [
            "https://x.com/i/spaces/1jMJgLdenVjxL",
            "https://twitter.com/i/spaces/1jMJgLdenVjxL",
            "https://x.com/i/spaces/1jMJgLdenVjxL/peek",
            "https://mobile.twitter.com/i/spaces/1jMJgLdenVjxL?s=20&t=abc",
            "http://www.x.com/i/spaces/1jMJgLdenVjxL#top",
            "x.com/i/spaces/1jMJgLdenVjxL",
            "HTTPS://X.COM/i/spaces/1jMJgLdenVjxL",
        ] {
            assert_eq!(space_id_of(url), "1jMJgLdenVjxL", "{url}");
        }
        for other in ["https://example.com/i/spaces/1jMJgLdenVjxL", "https://x.com/home", "not an id!"] {
            assert_eq!(space_id_of(other), other, "left as it is");
        }
    }
}
