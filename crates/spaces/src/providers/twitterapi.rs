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
/// mapping, quirks and all, is the shared one in [`crate::convert::envelope`].
mod convert {
    crate::convert::envelope_converter!(spaces_generated::twitterapi::types, Provider::TwitterApi);
}

struct Api(twitterapi::Client);

impl Fetch for Api {
    fn space<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space> {
        // The documented `message`, else the envelope's `msg`.
        let message = |body: &twitterapi::types::ErrorResponse| body.message.clone().or_else(|| body.msg.clone());
        exchange(interpreter, self.0.get_space_detail(id), Space::try_from, convert::decode, message)
    }
}
