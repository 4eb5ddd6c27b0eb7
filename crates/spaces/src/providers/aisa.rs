//! AIsa (`specs/aisa.yaml`): `GET /apis/v1/twitter/spaces/detail?space_id=`.

use spaces_generated::aisa;

use super::{BoxFuture, Fetch, Interpreter, ProviderInfo, exchange, operation};
use crate::model::Space;

pub(super) static INFO: ProviderInfo = ProviderInfo {
    title: "AIsa",
    env_var: "AISA_API_KEY",
    // AIsa documents no rate limit, so the client imposes none.
    budgets: &[],
    spec: &aisa::SPEC,
    lookup: operation(&aisa::SPEC, "get_space_detail"),
    batch_lookup: None,
    by_creators: None,
    search: None,
    decode: convert::decode,
    decode_any: None,
    connect: |base_url, http| Box::new(Api(aisa::Client::new_with_client(base_url, http))),
};

/// AIsa proxies twitterapi.io and answers in its `{data, status, msg}`
/// envelope, so the mapping, quirks and all, is the shared one in
/// [`crate::convert::envelope`].
mod convert {
    crate::convert::envelope_converter!(spaces_generated::aisa::types, Provider::Aisa);
}

struct Api(aisa::Client);

impl Fetch for Api {
    fn space<'a>(&'a self, id: &'a str, interpreter: &'a Interpreter<'a>) -> BoxFuture<'a, Space> {
        exchange(interpreter, self.0.get_space_detail(id), Space::try_from, convert::decode, |body| body.msg.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::convert::decode;

    /// AIsa documents no participant lists; twitterapi.io's, if AIsa ever
    /// relays them, are ignored rather than failing the Space.
    #[test]
    fn participants_are_not_read() {
        let body = br#"{"status":"success","data":{"id":"1eaKbgzXjAvxX","participants":{"admins":[{"id":"1"}]}}}"#;
        let space = decode(body).expect("a Space");
        assert_eq!((space.host_ids, space.hosts), (None, None));
    }
}
