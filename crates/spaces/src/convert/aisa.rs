//! AIsa (`GET /twitter/spaces/detail`) → [`Space`](crate::Space).
//!
//! AIsa proxies twitterapi.io and answers in its `{data, status, msg}`
//! envelope, so the mapping, quirks and all, is the shared one in
//! [`super::envelope`].

super::envelope::envelope_converter!(spaces_generated::aisa::types, Provider::Aisa);
