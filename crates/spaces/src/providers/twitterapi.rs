//! twitterapi.io (`specs/twitterapi.yaml`): `GET /twitter/spaces/detail?space_id=`,
//! key in `X-API-Key`.

use spaces_generated::twitterapi;

use super::{BoxFuture, Fetch, Interpreter, ProviderInfo, exchange, operation};
use crate::model::Space;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "twitterapi.io",
    env_var: "TWITTERAPI_API_KEY",
    // twitterapi.io documents no fixed budget for this endpoint (limits
    // depend on the account's credits), so the client imposes none.
    budgets: &[],
    spec: &twitterapi::SPEC,
    lookup: operation(&twitterapi::SPEC, "get_space_detail"),
    batch_lookup: None,
    by_creators: None,
    search: None,
    decode: convert::decode,
    decode_any: None,
    connect: |base_url, http| Box::new(Api(twitterapi::Client::new_with_client(base_url, http))),
};

/// Its `{data, status, msg}` envelope is the one AIsa proxies, so the
/// mapping, quirks and all, is the shared one in [`crate::convert::envelope`];
/// what only twitterapi.io documents, the Space's participants, is mapped here.
mod convert {
    crate::convert::envelope_converter!(
        spaces_generated::twitterapi::types,
        Provider::TwitterApi,
        participants = participants
    );
    crate::convert::envelope::camel_case_user!(convert_admin, wire::SpaceAdmin);

    use crate::convert::{Indexed, non_empty};

    /// `data.participants`, by role: `admins` (the host and co-hosts, full
    /// `UserInfo`s) are the hosts, `speakers` (documented with `id`, `name`
    /// and `userName` only) the speakers. An empty, `null` or absent role is
    /// no list: an ended Space may list nobody, which does not mean nobody spoke.
    /// Not in the model: `listeners` (the model only counts them, from
    /// `stats`) and each admin's `participant_info` (Periscope id, join time,
    /// mute flags).
    fn participants(data: &mut wire::SpaceDetailDataInner) -> Result<Participants, Error> {
        let Some(participants) = data.participants.take() else {
            return Ok(Participants::default());
        };
        let hosts = participants
            .admins
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, admin)| convert_admin(admin, Indexed("data.participants.admins", index)))
            .collect::<Result<Vec<_>, _>>()?;
        let speakers = participants
            .speakers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, speaker)| convert_speaker(speaker, Indexed("data.participants.speakers", index)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Participants { hosts: non_empty(hosts), speakers: non_empty(speakers) })
    }

    /// A speaker: documented with its id, display name and handle only.
    fn convert_speaker(speaker: wire::SpaceSpeaker, path: Indexed) -> Result<User, Error> {
        let Some(id) = speaker.id else {
            return Err(Error::Decode {
                provider: PROVIDER,
                field: At(path, "id").to_string(),
                value: None,
                detail: "missing".into(),
            });
        };
        Ok(User { id, username: speaker.user_name, name: speaker.name, ..User::default() })
    }
}

struct Api(twitterapi::Client);

impl Fetch for Api {
    fn space<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space> {
        // The documented `message`, else the envelope's `msg`.
        let message = |body: &twitterapi::types::ErrorResponse| body.message.clone().or_else(|| body.msg.clone());
        exchange(interpreter, self.0.get_space_detail(id), Space::try_from, convert::decode, message)
    }
}

#[cfg(test)]
mod tests {
    use super::convert::decode;

    #[test]
    fn participants_by_role_become_hosts_and_speakers() {
        let body = br#"{"status":"success","data":{"id":"1eaKbgzXjAvxX","state":"Running","participants":{
            "admins":[{"id":"1","userName":"host","participant_info":{"start_time":1725213319000}},{"id":"2"}],
            "speakers":[{"id":"3","name":"Speaker","userName":"speaker"}],
            "listeners":[{"id":"4","name":"Listener"}]}}}"#;
        let space = decode(body).expect("a Space");
        assert_eq!(space.host_ids, Some(vec!["1".to_owned(), "2".to_owned()]));
        assert_eq!(space.hosts.as_ref().map(|hosts| hosts[0].username.as_deref()), Some(Some("host")));
        assert_eq!(space.speaker_ids, Some(vec!["3".to_owned()]));
        let speaker = &space.speakers.as_ref().expect("speakers")[0];
        assert_eq!((speaker.name.as_deref(), speaker.username.as_deref()), (Some("Speaker"), Some("speaker")));
        assert_eq!(space.creator, None, "an admin is not taken for the creator");
    }

    #[test]
    fn empty_null_or_absent_roles_are_no_list() {
        for participants in [r#"{}"#, r#"{"admins":[],"speakers":null}"#, r#"{"admins":null,"speakers":[]}"#] {
            let body =
                format!(r#"{{"status":"success","data":{{"id":"1eaKbgzXjAvxX","participants":{participants}}}}}"#);
            let space = decode(body.as_bytes()).expect("a Space");
            assert_eq!((space.host_ids, space.hosts, space.speaker_ids, space.speakers), (None, None, None, None));
        }
    }
}
