//! twitterapi.io: `GET /twitter/spaces/detail?space_id=`, key in `X-API-Key`.

use spaces_generated::{observe, twitterapi};

use super::{Auth, BoxFuture, Endpoint, Fetch, ProviderInfo};
use crate::client::Interpreter;
use crate::convert;
use crate::model::Space;

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
        Box::pin(async move {
            let (result, head) = observe(interpreter.max_body_bytes, self.0.get_space_detail(id)).await;
            // The documented `message`, else the envelope's `msg`.
            let message = |body: &twitterapi::types::ErrorResponse| body.message.clone().or_else(|| body.msg.clone());
            interpreter.interpret(result, head, Space::try_from, convert::twitterapi::decode, message).await
        })
    }
}
