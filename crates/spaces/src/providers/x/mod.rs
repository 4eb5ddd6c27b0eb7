//! The X API v2 (`specs/x.yaml`): `GET /2/spaces/{id}`, and the multi-Space
//! endpoints `GET /2/spaces?ids=`, `/2/spaces/by/creator_ids` and `/2/spaces/search`.

pub(crate) mod activity;
mod convert;

use std::num::NonZeroU32;

use spaces_generated::{CommaSeparated, x};

use super::{BoxFuture, Budget, Fetch, Interpreter, ListOperation, ProviderInfo, exchange, operation, per};
use crate::list::SpaceList;
use crate::model::{SearchState, Space};
use crate::request::Search;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "X API v2",
    env_var: "X_BEARER_TOKEN",
    budgets: &[
        // "300 requests per 15-minute window", per app, counted per endpoint.
        Budget::PerEndpoint(per(300, 15 * 60)),
        // `by/creator_ids` also allows "1 request per second".
        Budget::Operation("find_spaces_by_creator_ids", per(1, 1)),
    ],
    spec: &x::SPEC,
    lookup: operation(&x::SPEC, "find_space_by_id"),
    // How many ids a request may carry is each list's `maxItems` in the spec.
    batch_lookup: Some(ListOperation::of(&x::SPEC, "find_spaces_by_ids", "ids")),
    by_creators: Some(ListOperation::of(&x::SPEC, "find_spaces_by_creator_ids", "user_ids")),
    search: Some(operation(&x::SPEC, "search_spaces")),
    decode: convert::decode,
    decode_any: Some(convert::decode_any),
    connect: |base_url, http| {
        Box::new(Api { client: x::Client::new_with_client(base_url, http), fields: Fields::all() })
    },
};

struct Api {
    client: x::Client,
    fields: Fields,
}

impl Fetch for Api {
    fn space<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space> {
        let fields = &self.fields;
        let call = self.client.find_space_by_id(
            id,
            Some(&fields.expansions),
            Some(&fields.space_fields),
            Some(&fields.topic_fields),
            Some(&fields.user_fields),
        );
        exchange(interpreter, call, Space::try_from, convert::decode, error_message)
    }

    fn spaces<'a>(&'a self, ids: &'a [String], interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, SpaceList> {
        let fields = &self.fields;
        let ids: CommaSeparated<x::types::SpaceId> = ids.iter().map(|id| x::types::SpaceId(id.clone())).collect();
        Box::pin(async move {
            let call = self.client.find_spaces_by_ids(
                Some(&fields.expansions),
                &ids,
                Some(&fields.space_fields),
                Some(&fields.topic_fields),
                Some(&fields.user_fields),
            );
            exchange(interpreter, call, SpaceList::try_from, convert::decode_list, error_message).await
        })
    }

    fn by_creators<'a>(&'a self, user_ids: &'a [String], interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, SpaceList> {
        let fields = &self.fields;
        let user_ids: CommaSeparated<x::types::UserId> =
            user_ids.iter().map(|id| x::types::UserId(id.clone())).collect();
        Box::pin(async move {
            let call = self.client.find_spaces_by_creator_ids(
                Some(&fields.expansions),
                Some(&fields.space_fields),
                Some(&fields.topic_fields),
                Some(&fields.user_fields),
                &user_ids,
            );
            exchange(interpreter, call, SpaceList::try_from, convert::decode_list, error_message).await
        })
    }

    fn search<'a>(&'a self, search: &'a Search, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, SpaceList> {
        let fields = &self.fields;
        let state = match search.state_filter() {
            SearchState::All => x::types::SpaceSearchState::All,
            SearchState::Live => x::types::SpaceSearchState::Live,
            SearchState::Scheduled => x::types::SpaceSearchState::Scheduled,
        };
        let max_results = search.result_limit().and_then(|max| NonZeroU32::new(u32::from(max)));
        Box::pin(async move {
            let call = self.client.search_spaces(
                Some(&fields.expansions),
                max_results,
                search.query(),
                Some(&fields.space_fields),
                Some(state),
                Some(&fields.topic_fields),
                Some(&fields.user_fields),
            );
            exchange(interpreter, call, SpaceList::try_from, convert::decode_list, error_message).await
        })
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
