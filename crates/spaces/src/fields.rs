//! The Space as a list of fields: one walk, typed paths, typed values.
//!
//! [`Field`] names every value of a [`Space`] the way the JSON does
//! (`title`, `creator.username`, `settings.is_locked`): the Space's own
//! fields, with its two groups, the creator ([`UserField`]) and the room
//! settings ([`SettingsField`]), split member by member. Lists (`hosts`,
//! `topics`, ...) are one field each. [`Field::ALL`] lists them in the
//! model's order, [`Space::fields`] walks a Space in that order, and
//! [`Space::field`] reads one, as a [`FieldValue`].
//!
//! The list is written once, in the tables at the end of this file; the
//! accessors are generated from them and destructure the structs without
//! `..`, so a field added to [`Space`], [`User`] or [`SpaceSettings`] and
//! not to the tables does not compile.
//!
//! ```
//! use spaces::{Field, FieldValue, Provider, SettingsField, UserField};
//!
//! let body = br#"{"data": {"id": "1OdKrjgmNkeKX", "state": "live", "title": "Rust"}}"#;
//! let space = spaces::decode(Provider::X, body)?;
//! assert_eq!(space.field(Field::Title), FieldValue::Text("Rust".into()));
//! assert_eq!(space.field(Field::Creator(UserField::Username)), FieldValue::Absent);
//!
//! let present: Vec<String> =
//!     space.fields().filter(|(_, value)| !value.is_absent()).map(|(field, _)| field.to_string()).collect();
//! assert_eq!(present, ["provider", "id", "state", "state_raw", "title"]);
//!
//! let field: Field = "settings.is_locked".parse()?;
//! assert_eq!(field, Field::Settings(SettingsField::IsLocked));
//! assert_eq!((field.key(), field.member()), ("settings", Some("is_locked")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{Provider, Space, SpaceSettings, SpaceState, Topic, User};

/// One value of a [`Space`], as [`Space::field`] reads it: borrowed from
/// the Space, or owned (`FieldValue<'static>`, see [`FieldValue::into_owned`]).
///
/// It serializes exactly as the field does in the Space's JSON (`Absent` is
/// `null`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// No value: the provider did not send it (`null` in the JSON). A
    /// member of a group the Space lacks (`creator.username` without a
    /// creator) is absent too.
    Absent,
    /// The provider that answered (`provider`).
    Provider(Provider),
    /// Text: an id, a title, a URL, the raw state, ...
    Text(Cow<'a, str>),
    /// A point in time (`created_at`, `scheduled_start`, ...).
    Time(DateTime<Utc>),
    /// A yes or no (`is_ticketed`, `settings.is_locked`, ...).
    Bool(bool),
    /// A count (`participant_count`, `creator.followers_count`, ...).
    Count(u64),
    /// A signed number: Twitter's codes and limits in `settings`.
    Number(i64),
    /// The normalized state (`state`).
    State(SpaceState),
    /// A list of ids (`host_ids`, `topic_ids`, ...).
    Ids(Cow<'a, [String]>),
    /// A list of users (`hosts`, `speakers`, `invited_users`).
    Users(Cow<'a, [User]>),
    /// A list of topics (`topics`).
    Topics(Cow<'a, [Topic]>),
}

impl FieldValue<'_> {
    /// Whether there is no value.
    pub fn is_absent(&self) -> bool {
        matches!(self, FieldValue::Absent)
    }

    /// The same value, owning its text and lists.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Absent => FieldValue::Absent,
            FieldValue::Provider(provider) => FieldValue::Provider(provider),
            FieldValue::Text(text) => FieldValue::Text(Cow::Owned(text.into_owned())),
            FieldValue::Time(time) => FieldValue::Time(time),
            FieldValue::Bool(value) => FieldValue::Bool(value),
            FieldValue::Count(count) => FieldValue::Count(count),
            FieldValue::Number(number) => FieldValue::Number(number),
            FieldValue::State(state) => FieldValue::State(state),
            FieldValue::Ids(ids) => FieldValue::Ids(Cow::Owned(ids.into_owned())),
            FieldValue::Users(users) => FieldValue::Users(Cow::Owned(users.into_owned())),
            FieldValue::Topics(topics) => FieldValue::Topics(Cow::Owned(topics.into_owned())),
        }
    }
}

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Absent => serializer.serialize_none(),
            FieldValue::Provider(provider) => provider.serialize(serializer),
            FieldValue::Text(text) => serializer.serialize_str(text),
            FieldValue::Time(time) => time.serialize(serializer),
            FieldValue::Bool(value) => serializer.serialize_bool(*value),
            FieldValue::Count(count) => serializer.serialize_u64(*count),
            FieldValue::Number(number) => serializer.serialize_i64(*number),
            FieldValue::State(state) => state.serialize(serializer),
            FieldValue::Ids(ids) => ids.serialize(serializer),
            FieldValue::Users(users) => users.serialize(serializer),
            FieldValue::Topics(topics) => topics.serialize(serializer),
        }
    }
}

/// The error of parsing a path that names no [`Field`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown field `{0}`; expected a model field such as `title`, `creator.username` or `settings.is_locked`")]
pub struct UnknownField(pub String);

impl Field {
    /// The dotted path, as in the JSON: `title`, `creator.username`, `settings.is_locked`.
    pub fn as_str(self) -> &'static str {
        self.names().0
    }

    /// The Space's own key the field is under: `creator` for
    /// `creator.username`; the field's own name for a field of the Space.
    pub fn key(self) -> &'static str {
        self.names().1
    }

    /// The member's name inside its group (`username` for
    /// `creator.username`); `None` for a field of the Space itself.
    pub fn member(self) -> Option<&'static str> {
        self.names().2
    }

    /// Whether two values of this field say the same thing once
    /// normalized, as [`merge`](crate::merge) compares providers' answers:
    /// timestamps to the second (providers keep different sub-second
    /// precision), `state_raw` without regard to case (`Ended` and `ended`
    /// are one state), lists of users or topics by their ids; anything
    /// else exactly.
    pub fn same(self, left: &FieldValue<'_>, right: &FieldValue<'_>) -> bool {
        match (left, right) {
            (FieldValue::Time(left), FieldValue::Time(right)) => left.timestamp() == right.timestamp(),
            (FieldValue::Text(left), FieldValue::Text(right)) if self == Field::StateRaw => {
                left.eq_ignore_ascii_case(right)
            }
            (FieldValue::Users(left), FieldValue::Users(right)) => {
                left.iter().map(|user| &user.id).eq(right.iter().map(|user| &user.id))
            }
            (FieldValue::Topics(left), FieldValue::Topics(right)) => {
                left.iter().map(|topic| &topic.id).eq(right.iter().map(|topic| &topic.id))
            }
            (left, right) => left == right,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = UnknownField;

    /// Reads a dotted path exactly as [`Field::as_str`] writes it.
    fn from_str(path: &str) -> Result<Self, Self::Err> {
        Field::ALL.iter().copied().find(|field| field.as_str() == path).ok_or_else(|| UnknownField(path.to_owned()))
    }
}

impl AsRef<str> for Field {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Field {
    fn eq(&self, path: &str) -> bool {
        self.as_str() == path
    }
}

impl PartialEq<&str> for Field {
    fn eq(&self, path: &&str) -> bool {
        self.as_str() == *path
    }
}

impl PartialEq<String> for Field {
    fn eq(&self, path: &String) -> bool {
        self.as_str() == path
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let path = String::deserialize(deserializer)?;
        path.parse().map_err(serde::de::Error::custom)
    }
}

impl Space {
    /// Every field of the Space, in the model's order ([`Field::ALL`]),
    /// with its value; members of a group the Space lacks are
    /// [`FieldValue::Absent`].
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (Field, FieldValue<'_>)> + '_ {
        Field::ALL.iter().map(move |&field| (field, self.field(field)))
    }

    /// Copies one field's value from `from` into this Space; every other
    /// field keeps its value.
    ///
    /// Two cases touch a group as a whole, because a group cannot exist
    /// without its key: copying a member of the creator into a Space with
    /// no creator brings `from`'s creator's id along (a user has an id),
    /// and copying an absent `creator.id` removes the creator. A group left
    /// with no member at all (settings) becomes absent, as converters
    /// never send an empty one.
    pub fn take_field(&mut self, field: Field, from: &Space) {
        self.copy_field(field, from);
    }
}

/// What the generated accessors need of a field's type.
trait Slot {
    /// The value, as the walk shows it.
    fn view(&self) -> FieldValue<'_>;
    /// Makes the value absent; `false` when it cannot be (an id): the
    /// group that holds it goes instead.
    fn clear(&mut self) -> bool;
}

/// What a present value of an `Option` field is.
trait Present {
    fn view(&self) -> FieldValue<'_>;
}

impl<T: Present> Slot for Option<T> {
    fn view(&self) -> FieldValue<'_> {
        self.as_ref().map_or(FieldValue::Absent, Present::view)
    }

    fn clear(&mut self) -> bool {
        *self = None;
        true
    }
}

macro_rules! present {
    ($($type:ty => |$value:ident| $view:expr),+ $(,)?) => {
        $(
            impl Present for $type {
                fn view(&self) -> FieldValue<'_> {
                    let $value = self;
                    $view
                }
            }
        )+
    };
}

present! {
    String => |text| FieldValue::Text(Cow::Borrowed(text)),
    DateTime<Utc> => |time| FieldValue::Time(*time),
    bool => |value| FieldValue::Bool(*value),
    u64 => |count| FieldValue::Count(*count),
    i64 => |number| FieldValue::Number(*number),
    Vec<String> => |ids| FieldValue::Ids(Cow::Borrowed(ids)),
    Vec<User> => |users| FieldValue::Users(Cow::Borrowed(users)),
    Vec<Topic> => |topics| FieldValue::Topics(Cow::Borrowed(topics)),
}

/// Fields that are always there (`provider`, `id`, `state`, a user's `id`).
macro_rules! always {
    ($($type:ty => |$value:ident| $view:expr),+ $(,)?) => {
        $(
            impl Slot for $type {
                fn view(&self) -> FieldValue<'_> {
                    let $value = self;
                    $view
                }

                fn clear(&mut self) -> bool {
                    false
                }
            }
        )+
    };
}

always! {
    Provider => |provider| FieldValue::Provider(*provider),
    String => |text| FieldValue::Text(Cow::Borrowed(text)),
    SpaceState => |state| FieldValue::State(*state),
}

/// A struct whose fields are members of one of the Space's fields
/// (`creator`, `settings`).
trait Group: Clone {
    type Member: Copy + 'static;
    /// Every member, in order.
    const MEMBERS: &'static [Self::Member];
    fn get(&self, member: Self::Member) -> FieldValue<'_>;
    fn copy(&mut self, member: Self::Member, from: &Self);
    /// Makes the member absent; `false` when the group cannot exist without it.
    fn clear(&mut self, member: Self::Member) -> bool;

    /// Whether no member has a value.
    fn is_empty(&self) -> bool {
        Self::MEMBERS.iter().all(|&member| self.get(member).is_absent())
    }

    /// `from` with nothing but what it cannot be without (a user's id).
    fn seed(from: &Self) -> Self {
        let mut seed = from.clone();
        for &member in Self::MEMBERS {
            seed.clear(member);
        }
        seed
    }
}

fn get_member<G: Group>(group: &Option<G>, member: G::Member) -> FieldValue<'_> {
    group.as_ref().map_or(FieldValue::Absent, |group| group.get(member))
}

fn copy_member<G: Group>(group: &mut Option<G>, from: &Option<G>, member: G::Member) {
    match from {
        Some(from) => group.get_or_insert_with(|| G::seed(from)).copy(member, from),
        None => {
            if let Some(inner) = group.as_mut()
                && !inner.clear(member)
            {
                *group = None;
            }
        }
    }
    if group.as_ref().is_some_and(G::is_empty) {
        *group = None;
    }
}

/// The pattern of one [`Field`] variant: a field of the Space, or a member
/// of a group (`[MemberEnum binding]`), bound to `binding`.
macro_rules! field_pattern {
    ($variant:ident) => {
        Field::$variant
    };
    ($variant:ident [$group:ident $member:ident]) => {
        Field::$variant($member)
    };
}

/// `(path, key, member name)` of one variant.
macro_rules! field_names {
    ($name:ident) => {
        (stringify!($name), stringify!($name), None)
    };
    ($name:ident [$group:ident $member:ident]) => {
        ($member.path(), stringify!($name), Some($member.as_str()))
    };
}

/// The value of one variant, `$name` being the Space's field.
macro_rules! field_get {
    ($name:ident) => {
        Slot::view($name)
    };
    ($name:ident [$group:ident $member:ident]) => {
        get_member($name, $member)
    };
}

/// Copies one variant's value from `$from` into `$name`, the Space's field.
macro_rules! field_copy {
    ($name:ident, $from:ident) => {
        $name.clone_from(&$from.$name)
    };
    ($name:ident, $from:ident [$group:ident $member:ident]) => {
        copy_member($name, &$from.$name, $member)
    };
}

/// The fields one of the Space's own stands for: itself, or its group's members.
macro_rules! field_part {
    ($variant:ident) => {
        &[Field::$variant]
    };
    ($variant:ident $group:ident) => {
        $group::FIELDS
    };
}

/// The Space's fields, in the model's order: `Variant = field`, or
/// `Variant(MemberEnum) = field` for a group walked member by member.
macro_rules! space_fields {
    ($($variant:ident $(($group:ident))? = $name:ident),+ $(,)?) => {
        /// A field of a [`Space`], as a typed path: `Field::Title`,
        /// `Field::Creator(UserField::Username)`. `Display`, `FromStr` and
        /// serde use the dotted path of the JSON ([`Field::as_str`]:
        /// `title`, `creator.username`); `Ord` is the model's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $(
                #[doc = concat!(
                    "[`Space::", stringify!($name), "`]", $(", member by member: [`", stringify!($group), "`]",)?
                )]
                $variant $(($group))?,
            )+
        }

        impl Field {
            /// Every field, in the model's order: the Space's own, with
            /// `creator` and `settings` member by member.
            pub const ALL: &'static [Field] = &concat_fields::<{ count_fields(PARTS) }>(PARTS);

            fn names(self) -> (&'static str, &'static str, Option<&'static str>) {
                match self {
                    $(field_pattern!($variant $([$group member])?) => field_names!($name $([$group member])?),)+
                }
            }
        }

        /// What each of the Space's own fields stands for, in order.
        const PARTS: &[&[Field]] = &[$(field_part!($variant $($group)?)),+];

        impl Space {
            /// One field's value.
            pub fn field(&self, field: Field) -> FieldValue<'_> {
                // No `..`: a field of `Space` missing from the table below does not compile.
                let Space { $($name),+ } = self;
                match field {
                    $(field_pattern!($variant $([$group member])?) => field_get!($name $([$group member])?),)+
                }
            }

            fn copy_field(&mut self, field: Field, from: &Space) {
                let Space { $($name),+ } = self;
                match field {
                    $(field_pattern!($variant $([$group member])?) => field_copy!($name, from $([$group member])?),)+
                }
            }
        }
    };
}

/// The members of a group: `Variant = member` for each field of `$type`,
/// in its order; `$key` and `$wrap` are the group's field and [`Field`] variant.
macro_rules! group_fields {
    (
        $(#[$meta:meta])*
        $enum:ident: $key:ident of $type:ident in Field::$wrap:ident { $($variant:ident = $name:ident),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $enum {
            $(
                #[doc = concat!(
                    "`", stringify!($key), ".", stringify!($name), "`: [`", stringify!($type), "::", stringify!($name), "`]"
                )]
                $variant,
            )+
        }

        impl $enum {
            /// Every member, in the model's order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),+];

            /// Every member as a [`Field`], in the model's order.
            const FIELDS: &'static [Field] = &[$(Field::$wrap($enum::$variant)),+];

            /// The member's name in its group: `username`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => stringify!($name),)+
                }
            }

            /// The member's dotted path: `creator.username`.
            fn path(self) -> &'static str {
                match self {
                    $($enum::$variant => concat!(stringify!($key), ".", stringify!($name)),)+
                }
            }
        }

        impl fmt::Display for $enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Group for $type {
            type Member = $enum;
            const MEMBERS: &'static [$enum] = $enum::ALL;

            fn get(&self, member: $enum) -> FieldValue<'_> {
                // No `..`: a field of the group missing from its table below does not compile.
                let $type { $($name),+ } = self;
                match member {
                    $($enum::$variant => Slot::view($name),)+
                }
            }

            fn copy(&mut self, member: $enum, from: &Self) {
                let $type { $($name),+ } = self;
                match member {
                    $($enum::$variant => $name.clone_from(&from.$name),)+
                }
            }

            fn clear(&mut self, member: $enum) -> bool {
                let $type { $($name),+ } = self;
                match member {
                    $($enum::$variant => Slot::clear($name),)+
                }
            }
        }
    };
}

const fn count_fields(parts: &[&[Field]]) -> usize {
    let mut count = 0;
    let mut index = 0;
    while index < parts.len() {
        count += parts[index].len();
        index += 1;
    }
    count
}

const fn concat_fields<const N: usize>(parts: &[&[Field]]) -> [Field; N] {
    let mut all = [Field::Provider; N];
    let (mut at, mut part) = (0, 0);
    while part < parts.len() {
        let mut index = 0;
        while index < parts[part].len() {
            all[at] = parts[part][index];
            at += 1;
            index += 1;
        }
        part += 1;
    }
    all
}

// ---------------------------------------------------------------------------
// The model's fields, written once, in the model's order.

space_fields! {
    Provider = provider,
    Id = id,
    State = state,
    StateRaw = state_raw,
    Title = title,
    Lang = lang,
    MediaKey = media_key,
    CreatedAt = created_at,
    UpdatedAt = updated_at,
    ScheduledStart = scheduled_start,
    StartedAt = started_at,
    EndedAt = ended_at,
    IsTicketed = is_ticketed,
    CreatorId = creator_id,
    Creator(UserField) = creator,
    HostIds = host_ids,
    SpeakerIds = speaker_ids,
    InvitedUserIds = invited_user_ids,
    Hosts = hosts,
    Speakers = speakers,
    InvitedUsers = invited_users,
    TopicIds = topic_ids,
    Topics = topics,
    ParticipantCount = participant_count,
    SubscriberCount = subscriber_count,
    TotalLiveListeners = total_live_listeners,
    TotalReplayWatched = total_replay_watched,
    ReplayAvailable = replay_available,
    ClippingAvailable = clipping_available,
    Settings(SettingsField) = settings,
}

group_fields! {
    /// A member of the creator, a [`User`]: [`Field::Creator`].
    UserField: creator of User in Field::Creator {
        Id = id,
        Username = username,
        Name = name,
        Description = description,
        Location = location,
        Url = url,
        CreatedAt = created_at,
        Protected = protected,
        Verified = verified,
        VerifiedType = verified_type,
        FollowersCount = followers_count,
        FollowingCount = following_count,
        TweetCount = tweet_count,
        ListedCount = listed_count,
        ProfileImageUrl = profile_image_url,
    }
}

group_fields! {
    /// A member of the room settings, [`SpaceSettings`]: [`Field::Settings`].
    SettingsField: settings of SpaceSettings in Field::Settings {
        DisallowJoin = disallow_join,
        IsLocked = is_locked,
        IsMuted = is_muted,
        IsEmployeeOnly = is_employee_only,
        ConversationControls = conversation_controls,
        NarrowCastSpaceType = narrow_cast_space_type,
        NoIncognito = no_incognito,
        MaxGuestSessions = max_guest_sessions,
        MaxAdminCapacity = max_admin_capacity,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A Space with every field and member set, each value depending on `seed`,
    /// so that two seeds differ in every field.
    fn full(seed: u32) -> Space {
        let n = u64::from(seed);
        let text = |name: &str| Some(format!("{name} {seed}"));
        let time = |offset: i64| DateTime::from_timestamp(1_680_287_883 + offset * 100 + i64::from(seed), 0);
        let even = seed.is_multiple_of(2);
        let flag = Some(even);
        let user = |id: u32| User {
            id: format!("{id}{seed}"),
            username: text("username"),
            name: text("name"),
            description: text("description"),
            location: text("location"),
            url: text("url"),
            created_at: time(1),
            protected: flag,
            verified: flag,
            verified_type: text("verified_type"),
            followers_count: Some(n + 1),
            following_count: Some(n + 2),
            tweet_count: Some(n + 3),
            listed_count: Some(n + 4),
            profile_image_url: text("profile_image_url"),
        };
        let ids = |name: &str| Some(vec![format!("{name}{seed}")]);
        Space {
            provider: if even { Provider::X } else { Provider::SocialData },
            id: format!("1jMJgLdenVj{seed}"),
            state: if even { SpaceState::Live } else { SpaceState::Ended },
            state_raw: text("state_raw"),
            title: text("title"),
            lang: text("lang"),
            media_key: text("media_key"),
            created_at: time(2),
            updated_at: time(3),
            scheduled_start: time(4),
            started_at: time(5),
            ended_at: time(6),
            is_ticketed: flag,
            creator_id: text("creator_id"),
            creator: Some(user(1)),
            host_ids: ids("host"),
            speaker_ids: ids("speaker"),
            invited_user_ids: ids("invited"),
            hosts: Some(vec![user(2)]),
            speakers: Some(vec![user(3)]),
            invited_users: Some(vec![user(4)]),
            topic_ids: ids("topic"),
            topics: Some(vec![Topic { id: format!("{seed}"), name: format!("topic {seed}"), description: text("d") }]),
            participant_count: Some(n + 5),
            subscriber_count: Some(n + 6),
            total_live_listeners: Some(n + 7),
            total_replay_watched: Some(n + 8),
            replay_available: flag,
            clipping_available: flag,
            settings: Some(SpaceSettings {
                disallow_join: flag,
                is_locked: flag,
                is_muted: flag,
                is_employee_only: flag,
                conversation_controls: Some(i64::from(seed) - 1),
                narrow_cast_space_type: Some(i64::from(seed) + 1),
                no_incognito: flag,
                max_guest_sessions: Some(i64::from(seed) + 10),
                max_admin_capacity: Some(i64::from(seed) + 2),
            }),
        }
    }

    /// Only what a Space cannot be without.
    fn bare() -> Space {
        serde_json::from_value(json!({ "provider": "aisa", "id": "1OdKrjgmNkeKX", "state": "unknown" })).expect("bare")
    }

    fn keys(value: Value) -> Vec<String> {
        match value {
            Value::Object(object) => object.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn every_field_of_the_model_is_walked_once_in_the_models_order() {
        let space = full(0);
        let json = serde_json::to_value(&space).expect("a Space serializes");
        // The Space's own keys, in order, as the walk names them.
        let mut walked: Vec<&str> = Field::ALL.iter().map(|field| field.key()).collect();
        walked.dedup();
        assert_eq!(walked, keys(json.clone()), "Field::ALL is not the Space's own fields, in order");
        // Each group member by member.
        let creator: Vec<&str> = UserField::ALL.iter().map(|member| member.as_str()).collect();
        assert_eq!(creator, keys(serde_json::to_value(User::default()).expect("a User serializes")));
        let settings: Vec<&str> = SettingsField::ALL.iter().map(|member| member.as_str()).collect();
        assert_eq!(settings, keys(serde_json::to_value(SpaceSettings::default()).expect("settings serialize")));
        let members = Field::ALL.iter().filter(|field| field.member().is_some()).count();
        assert_eq!(members, UserField::ALL.len() + SettingsField::ALL.len());
        // Once each.
        let mut paths: Vec<&str> = Field::ALL.iter().map(|field| field.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), Field::ALL.len(), "a path is walked twice");
        let mut sorted = Field::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, Field::ALL, "Ord is the model's order");
        // Each value is the one the JSON holds, and serializes as it does there.
        assert_eq!(space.fields().len(), Field::ALL.len());
        for (field, value) in space.fields() {
            let pointer = format!("/{}", field.as_str().replace('.', "/"));
            let expected = json.pointer(&pointer).unwrap_or_else(|| panic!("no {pointer} in {json}"));
            assert!(!value.is_absent() && !expected.is_null(), "{field}: the full Space has every field");
            assert_eq!(&serde_json::to_value(&value).expect("a value serializes"), expected, "{field}");
            assert_eq!(space.field(field), value, "{field}");
        }
    }

    #[test]
    fn a_bare_space_has_only_its_provider_id_and_state() {
        let space = bare();
        let present: Vec<Field> =
            space.fields().filter(|(_, value)| !value.is_absent()).map(|(field, _)| field).collect();
        assert_eq!(present, [Field::Provider, Field::Id, Field::State]);
        let json = serde_json::to_value(&space).expect("a Space serializes");
        for (field, value) in space.fields() {
            let serialized = serde_json::to_value(&value).expect("a value serializes");
            match field.member() {
                None => assert_eq!(serialized, json[field.key()], "{field}"),
                Some(_) => assert_eq!(serialized, Value::Null, "{field}: a member of a group the Space lacks"),
            }
        }
    }

    #[test]
    fn paths_round_trip_through_display_from_str_and_serde() {
        for &field in Field::ALL {
            let path = field.to_string();
            assert_eq!(path.parse::<Field>(), Ok(field), "{path}");
            assert_eq!(path, field.as_str());
            let json = serde_json::to_value(field).expect("a Field serializes");
            assert_eq!(json, Value::String(path.clone()));
            assert_eq!(serde_json::from_value::<Field>(json).expect("and reads back"), field);
            match field.member() {
                Some(member) => assert_eq!(path, format!("{}.{member}", field.key())),
                None => assert_eq!(path, field.key()),
            }
        }
        assert_eq!(Field::Title.as_str(), "title");
        assert_eq!(Field::Creator(UserField::Username).as_str(), "creator.username");
        assert_eq!(Field::Settings(SettingsField::IsLocked).to_string(), "settings.is_locked");
        assert_eq!(UserField::FollowersCount.as_str(), "followers_count");
        for path in
            ["", "creator", "settings", "creator.", "Title", "title ", "creator.nope", "hosts.id", "settings.id"]
        {
            assert_eq!(path.parse::<Field>(), Err(UnknownField(path.to_owned())), "{path:?}");
        }
        assert!(serde_json::from_value::<Field>(json!("creator")).is_err());
        let path = String::from("lang");
        assert!(Field::Lang == "lang" && Field::Lang == *"lang" && Field::Lang == path);
    }

    #[test]
    fn take_field_copies_exactly_one_field() {
        let (to, from) = (full(0), full(1));
        for &field in Field::ALL {
            assert_ne!(to.field(field), from.field(field), "{field}: the two Spaces must differ in every field");
            let mut taken = to.clone();
            taken.take_field(field, &from);
            for &other in Field::ALL {
                let expected = if other == field { from.field(other) } else { to.field(other) };
                assert_eq!(taken.field(other), expected, "taking {field} changed {other}");
            }
        }
        // An absent value is copied too.
        let bare = bare();
        for &field in Field::ALL {
            let mut taken = to.clone();
            taken.take_field(field, &bare);
            for &other in Field::ALL {
                // A user cannot be without its id: no id, no creator.
                let creator_gone = field == Field::Creator(UserField::Id) && matches!(other, Field::Creator(_));
                let expected = if other == field || creator_gone { bare.field(other) } else { to.field(other) };
                assert_eq!(taken.field(other), expected, "taking {field} from a bare Space changed {other}");
            }
        }
    }

    #[test]
    fn take_field_keeps_groups_whole_where_it_must() {
        let (full, bare) = (full(0), bare());
        // A settings member into a Space without settings: only that member.
        let mut space = bare.clone();
        space.take_field(Field::Settings(SettingsField::IsLocked), &full);
        assert_eq!(space.settings, Some(SpaceSettings { is_locked: Some(true), ..SpaceSettings::default() }));
        // Its last member taken away: no empty settings.
        space.take_field(Field::Settings(SettingsField::IsLocked), &bare);
        assert_eq!(space.settings, None);
        // A creator member into a Space without a creator brings the user's id along.
        let mut space = bare.clone();
        space.take_field(Field::Creator(UserField::Username), &full);
        let creator = full.creator.as_ref().expect("a creator");
        let expected = User { id: creator.id.clone(), username: creator.username.clone(), ..User::default() };
        assert_eq!(space.creator.as_ref(), Some(&expected));
        // Another member away leaves the user; its id away removes it.
        space.take_field(Field::Creator(UserField::Username), &bare);
        assert_eq!(space.creator, Some(User { id: creator.id.clone(), ..User::default() }));
        space.take_field(Field::Creator(UserField::Id), &bare);
        assert_eq!(space.creator, None);
        // A member absent from a group that exists invents no group.
        let mut sparse = full.clone();
        sparse.settings = Some(SpaceSettings { is_muted: Some(true), ..SpaceSettings::default() });
        let mut space = bare.clone();
        space.take_field(Field::Settings(SettingsField::IsLocked), &sparse);
        assert_eq!(space.settings, None);
    }

    #[test]
    fn the_same_once_normalized() {
        let time = |text: &str| FieldValue::Time(text.parse().expect("a time"));
        let text = |value: &'static str| FieldValue::Text(value.into());
        assert!(Field::CreatedAt.same(&time("2023-03-31T18:38:03Z"), &time("2023-03-31T18:38:03.093Z")));
        assert!(!Field::CreatedAt.same(&time("2023-03-31T18:38:03Z"), &time("2023-03-31T18:38:04Z")));
        let creator_time = Field::Creator(UserField::CreatedAt);
        assert!(creator_time.same(&time("2007-06-16T00:14:36.999Z"), &time("2007-06-16T00:14:36Z")));
        assert!(Field::StateRaw.same(&text("Ended"), &text("ended")));
        assert!(!Field::Title.same(&text("Ended"), &text("ended")), "only state_raw ignores case");
        assert!(!Field::StateRaw.same(&text("Ended"), &text("Running")));
        assert!(!Field::State.same(&FieldValue::State(SpaceState::Ended), &FieldValue::State(SpaceState::Canceled)));
        let users = |ids: &[&str], name: &str| {
            let users = ids.iter().map(|id| User { id: (*id).into(), name: Some(name.into()), ..User::default() });
            FieldValue::Users(users.collect::<Vec<_>>().into())
        };
        assert!(Field::Hosts.same(&users(&["1", "2"], "a"), &users(&["1", "2"], "b")), "users by id");
        assert!(!Field::Hosts.same(&users(&["1", "2"], "a"), &users(&["2", "1"], "a")), "in order");
        assert!(!Field::Hosts.same(&users(&["1"], "a"), &users(&["1", "2"], "a")));
        let topic = |id: &str, name: &str| Topic { id: id.into(), name: name.into(), description: None };
        let topics = |list: Vec<Topic>| FieldValue::Topics(list.into());
        assert!(Field::Topics.same(&topics(vec![topic("1", "Tech")]), &topics(vec![topic("1", "Technology")])));
        assert!(!Field::Topics.same(&topics(vec![topic("1", "Tech")]), &topics(vec![topic("2", "Tech")])));
        let ids = |list: &[&str]| FieldValue::Ids(list.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>().into());
        assert!(Field::HostIds.same(&ids(&["1"]), &ids(&["1"])));
        assert!(!Field::HostIds.same(&ids(&["1"]), &ids(&["2"])));
        assert!(Field::ParticipantCount.same(&FieldValue::Count(3), &FieldValue::Count(3)));
        assert!(!Field::ParticipantCount.same(&FieldValue::Count(3), &FieldValue::Absent));
        // Borrowed and owned values compare alike.
        let space = full(0);
        assert!(Field::Title.same(&space.field(Field::Title), &space.field(Field::Title).into_owned()));
    }
}
