//! SocialData: `GET /twitter/spaces/show?id=`.

use spaces_generated::socialdata;

use super::{Auth, BoxFuture, Endpoint, Fetch, ProviderInfo, budget, exchange};
use crate::client::Interpreter;
use crate::convert;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    name: "socialdata",
    title: "SocialData",
    env_var: "SOCIALDATA_API_KEY",
    default_base_url: "https://api.socialdata.tools",
    endpoint: Endpoint::Query { path: "/twitter/spaces/show", param: "id" },
    auth: Auth::Bearer,
    // "120 requests per minute", shared across all endpoints.
    documented_rate_limit: budget(120, 60),
    decode: convert::socialdata::decode,
    connect: |base_url, http| Box::new(Api(socialdata::Client::new_with_client(base_url, http))),
};

struct Api(socialdata::Client);

impl Fetch for Api {
    fn fetch<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a> {
        exchange(interpreter, self.0.get_space(id), convert::socialdata::decode, |body| Some(body.message.clone()))
    }
}
