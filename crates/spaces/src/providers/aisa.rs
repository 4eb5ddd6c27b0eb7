//! AIsa: `GET /apis/v1/twitter/spaces/detail?space_id=`.

use spaces_generated::aisa;

use super::{Auth, BoxFuture, Endpoint, Fetch, ProviderInfo, exchange};
use crate::client::Interpreter;
use crate::convert;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    name: "aisa",
    title: "AIsa",
    env_var: "AISA_API_KEY",
    default_base_url: "https://api.aisa.one/apis/v1",
    endpoint: Endpoint::Query { path: "/twitter/spaces/detail", param: "space_id" },
    auth: Auth::Bearer,
    // AIsa documents no rate limit, so the client imposes none.
    documented_rate_limit: None,
    decode: convert::aisa::decode,
    connect: |base_url, http| Box::new(Api(aisa::Client::new_with_client(base_url, http))),
};

struct Api(aisa::Client);

impl Fetch for Api {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a> {
        exchange(interpreter, self.0.get_space_detail(id), convert::aisa::decode, |body| body.msg.clone())
    }
}
