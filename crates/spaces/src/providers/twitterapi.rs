//! twitterapi.io (`specs/twitterapi.yaml`): `GET /twitter/spaces/detail?space_id=`,
//! key in `X-API-Key`.

use spaces_generated::twitterapi;

use super::{BoxFuture, Fetch, Interpreter, ProviderInfo, exchange, operation};

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "twitterapi.io",
    env_var: "TWITTERAPI_API_KEY",
    // twitterapi.io documents no fixed budget for this endpoint (limits
    // depend on the account's credits), so the client imposes none.
    documented_rate_limit: None,
    spec: &twitterapi::SPEC,
    lookup: operation(&twitterapi::SPEC, "get_space_detail"),
    decode: convert::decode,
    connect: |base_url, http| Box::new(Api(twitterapi::Client::new_with_client(base_url, http))),
};

/// Its `{data, status, msg}` envelope is the one AIsa proxies, so the
/// mapping, quirks and all, is the shared one in [`crate::convert::envelope`].
mod convert {
    crate::convert::envelope_converter!(spaces_generated::twitterapi::types, Provider::TwitterApi);
}

struct Api(twitterapi::Client);

impl Fetch for Api {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a> {
        // The documented `message`, else the envelope's `msg`.
        let message = |body: &twitterapi::types::ErrorResponse| body.message.clone().or_else(|| body.msg.clone());
        exchange(interpreter, self.0.get_space_detail(id), convert::decode, message)
    }
}
