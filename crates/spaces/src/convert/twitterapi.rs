//! twitterapi.io (`GET /twitter/spaces/detail`) → [`Space`](crate::Space).
//!
//! Its `{data, status, msg}` envelope is the one AIsa proxies, so the
//! mapping, quirks and all, is the shared one in [`super::envelope`].

super::envelope::envelope_converter!(spaces_generated::twitterapi::types, Provider::TwitterApi);
