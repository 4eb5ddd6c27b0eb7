//! The X API v2 (`specs/x.yaml`): `GET /2/spaces/{id}`.

mod convert;

use spaces_generated::{CommaSeparated, x};

use super::{BoxFuture, Fetch, Interpreter, ProviderInfo, budget, exchange, operation};

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "X API v2",
    env_var: "X_BEARER_TOKEN",
    // "300 requests per 15-minute window per app" (Space lookup).
    documented_rate_limit: budget(300, 15 * 60),
    spec: &x::SPEC,
    lookup: operation(&x::SPEC, "find_space_by_id"),
    decode: convert::decode,
    connect: |base_url, http| {
        Box::new(Api { client: x::Client::new_with_client(base_url, http), fields: Fields::all() })
    },
};

struct Api {
    client: x::Client,
    fields: Fields,
}

impl Fetch for Api {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a> {
        let fields = &self.fields;
        let call = self.client.find_space_by_id(
            id,
            Some(&fields.expansions),
            Some(&fields.space_fields),
            Some(&fields.topic_fields),
            Some(&fields.user_fields),
        );
        exchange(interpreter, call, convert::decode, error_message)
    }
}

/// What the client asks X for: every Space field and expansion, and the user
/// and topic fields the model uses, so the Space is as complete as X allows.
struct Fields {
    expansions: CommaSeparated<x::types::Expansion>,
    space_fields: CommaSeparated<x::types::SpaceField>,
    user_fields: CommaSeparated<x::types::UserField>,
    topic_fields: CommaSeparated<x::types::TopicField>,
}

impl Fields {
    fn all() -> Self {
        use x::types::{Expansion as E, SpaceField as S, TopicField as T, UserField as U};
        Fields {
            expansions: [E::CreatorId, E::HostIds, E::InvitedUserIds, E::SpeakerIds, E::TopicIds].into_iter().collect(),
            space_fields: [
                S::CreatedAt,
                S::CreatorId,
                S::EndedAt,
                S::HostIds,
                S::Id,
                S::InvitedUserIds,
                S::IsTicketed,
                S::Lang,
                S::ParticipantCount,
                S::ScheduledStart,
                S::SpeakerIds,
                S::StartedAt,
                S::State,
                S::SubscriberCount,
                S::Title,
                S::TopicIds,
                S::UpdatedAt,
            ]
            .into_iter()
            .collect(),
            user_fields: [
                U::CreatedAt,
                U::Description,
                U::Id,
                U::Location,
                U::Name,
                U::ProfileImageUrl,
                U::Protected,
                U::PublicMetrics,
                U::Url,
                U::Username,
                U::Verified,
                U::VerifiedType,
            ]
            .into_iter()
            .collect(),
            topic_fields: [T::Description, T::Id, T::Name].into_iter().collect(),
        }
    }
}

/// The reason in an X error body: the first problem's detail, else the top-level one.
fn error_message(body: &x::types::ErrorResponse) -> Option<String> {
    let first = body.errors.first();
    first
        .and_then(|problem| {
            problem.detail.clone().or_else(|| problem.message.clone()).or_else(|| problem.title.clone())
        })
        .or_else(|| body.detail.clone())
        .or_else(|| body.title.clone())
}
