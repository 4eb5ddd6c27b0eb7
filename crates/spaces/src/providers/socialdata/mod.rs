//! SocialData (`specs/socialdata.yaml`): `GET /twitter/space/{space_id}`, the
//! path of its current reference (older pages show the same answer at
//! `GET /twitter/spaces/show?id=`; `specs/README.md` says why this one).

mod convert;

use spaces_generated::socialdata;

use super::{BoxFuture, Budget, Fetch, Interpreter, ProviderInfo, exchange, operation, per};
use crate::model::Space;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "SocialData",
    env_var: "SOCIALDATA_API_KEY",
    // "120 requests per minute", shared across all endpoints.
    budgets: &[Budget::Shared(per(120, 60))],
    spec: &socialdata::SPEC,
    lookup: operation(&socialdata::SPEC, "get_space"),
    batch_lookup: None,
    by_creators: None,
    search: None,
    decode: convert::decode,
    decode_any: None,
    connect: |base_url, http| Box::new(Api(socialdata::Client::new_with_client(base_url, http))),
};

struct Api(socialdata::Client);

impl Fetch for Api {
    fn space<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space> {
        exchange(interpreter, self.0.get_space(id), Space::try_from, convert::decode, |body| Some(body.message.clone()))
    }
}
