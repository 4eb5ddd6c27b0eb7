//! SocialData (`specs/socialdata.yaml`): `GET /twitter/spaces/show?id=`.

mod convert;

use spaces_generated::socialdata;

use super::{BoxFuture, Fetch, Interpreter, ProviderInfo, budget, exchange, operation};

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "SocialData",
    env_var: "SOCIALDATA_API_KEY",
    // "120 requests per minute", shared across all endpoints.
    documented_rate_limit: budget(120, 60),
    spec: &socialdata::SPEC,
    lookup: operation(&socialdata::SPEC, "get_space"),
    decode: convert::decode,
    connect: |base_url, http| Box::new(Api(socialdata::Client::new_with_client(base_url, http))),
};

struct Api(socialdata::Client);

impl Fetch for Api {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a> {
        exchange(interpreter, self.0.get_space(id), convert::decode, |body| Some(body.message.clone()))
    }
}
