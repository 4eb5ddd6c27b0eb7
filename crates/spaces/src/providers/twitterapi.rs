//! twitterapi.io: `GET /twitter/spaces/detail?space_id=`, key in `X-API-Key`.

use spaces_generated::twitterapi;

use super::{Auth, BoxFuture, Endpoint, Fetch, ProviderInfo, exchange};
use crate::client::Interpreter;
use crate::convert;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    name: "twitterapi",
    title: "twitterapi.io",
    env_var: "TWITTERAPI_API_KEY",
    default_base_url: "https://api.twitterapi.io",
    endpoint: Endpoint::Query { path: "/twitter/spaces/detail", param: "space_id" },
    auth: Auth::ApiKeyHeader("x-api-key"),
    // twitterapi.io documents no fixed budget for this endpoint (limits
    // depend on the account's credits), so the client imposes none.
    documented_rate_limit: None,
    decode: convert::twitterapi::decode,
    connect: |base_url, http| Box::new(Api(twitterapi::Client::new_with_client(base_url, http))),
};

struct Api(twitterapi::Client);

impl Fetch for Api {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a> {
        // The documented `message`, else the envelope's `msg`.
        let message = |body: &twitterapi::types::ErrorResponse| body.message.clone().or_else(|| body.msg.clone());
        exchange(interpreter, self.0.get_space_detail(id), convert::twitterapi::decode, message)
    }
}
