//! What every provider's converter shares: parsing with field paths, id
//! checks, counts, timestamps, and the converter of the `{data, status, msg}`
//! envelope that more than one provider answers in. The converters
//! themselves live with their providers (`providers/<provider>/convert.rs`),
//! each quirk with a comment saying why. Nothing here names a provider.

pub(crate) mod envelope;
mod time;

pub(crate) use envelope::envelope_converter;

use std::fmt;

use serde::de::DeserializeOwned;

use crate::error::{Error, Excerpt};
use crate::model::Provider;

pub(crate) use time::{classic_twitter, epoch_millis, epoch_millis_text, iso8601};

/// Parses a raw body into a generated type, naming the JSON path of the
/// first value that does not fit.
pub(crate) fn parse_json<T: DeserializeOwned>(provider: Provider, body: &[u8]) -> Result<T, Error> {
    // A UTF-8 byte-order mark is valid but odd; serde_json rejects it, so it is skipped.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Decode { provider, field: "body".into(), value: None, detail: "empty body".into() });
    }
    // The common case, a body that fits, takes the plain parser; only a body
    // that does not is parsed again with path tracking, to name the field.
    // (Measured: path tracking on every parse made X decoding ~1.5x slower.)
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // A body that ends early is wrong as a whole, wherever it happened to stop.
        let field = if path == "." || inner.is_eof() { "body".to_owned() } else { shorten_path(path) };
        json_error(provider, field, body, inner)
    })?;
    // Trailing bytes after the JSON value (two bodies glued together, junk).
    deserializer.end().map_err(|error| json_error(provider, "body".to_owned(), body, error))?;
    Ok(value)
}

/// Paths into deeply nested JSON can be hundreds of `[0]`s long; the start
/// says where, so the rest is cut to keep messages one readable line.
fn shorten_path(path: String) -> String {
    // Kept long enough to redact a token in a key before a message shows
    // only its start (a cut path ends in `…`, which redaction looks for).
    const MAX_PATH_CHARS: usize = 1024;
    if path.chars().count() <= MAX_PATH_CHARS {
        return path;
    }
    path.chars().take(MAX_PATH_CHARS).chain(['…']).collect()
}

fn json_error(provider: Provider, field: String, body: &[u8], error: serde_json::Error) -> Error {
    // A syntax error (an HTML error page, a truncated body) is about the body
    // as a whole: show how the body starts, so the cause is recognizable.
    // The excerpt remembers when the body went on, so that redaction also
    // masks a token the quote cuts in two.
    const QUOTED_BYTES: usize = 200;
    let quoted = || Excerpt::new(&String::from_utf8_lossy(&body[..body.len().min(QUOTED_BYTES)]));
    let value = error.is_syntax().then(|| quoted().cut_if(body.len() > QUOTED_BYTES));
    Error::Decode { provider, field, value, detail: Excerpt::new(&error.to_string()) }
}

/// A Space id from a response, held to the same rule as requested ids: an
/// empty, overlong or non-ASCII id is corrupt data, not a Space.
pub(crate) fn space_id(provider: Provider, field: impl fmt::Display, id: String) -> Result<String, Error> {
    match crate::model::id_problem(&id) {
        Some(reason) => Err(Error::decode(provider, field, &id, format!("not a Space id: {reason}"))),
        None => Ok(id),
    }
}

/// A field path such as `includes.users[2]` + `created_at`, joined only
/// when an error needs it, so that converting valid data allocates no paths.
#[derive(Clone, Copy)]
pub(crate) struct At<'a, P = &'a str>(pub P, pub &'a str);

impl<P: fmt::Display> fmt::Display for At<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// An element of a list field, `includes.users[2]`, formatted only when needed.
#[derive(Clone, Copy)]
pub(crate) struct Indexed(pub &'static str, pub usize);

impl fmt::Display for Indexed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

/// A provider count (signed in the specs) as the model's unsigned count.
pub(crate) fn count(provider: Provider, field: impl fmt::Display, value: Option<i64>) -> Result<Option<u64>, Error> {
    value
        .map(|count| {
            u64::try_from(count)
                .map_err(|_| Error::decode(provider, field, count.to_string(), "a count cannot be negative"))
        })
        .transpose()
}

/// The model keeps "not sent" (`None`) apart from "sent empty"; the
/// generated types turn a missing list into an empty one, and X omits empty
/// lists rather than sending `[]`, so empty here means "not sent".
pub(crate) fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// Provider messages that mean "no such Space" rather than some other failure.
pub(crate) fn means_not_found(message: &str) -> bool {
    message.to_ascii_lowercase().contains("not found")
}

/// Provider verification types in X's lowercase vocabulary (`Business` → `business`).
pub(crate) fn verified_type(raw: Option<String>) -> Option<String> {
    raw.map(|mut value| {
        value.make_ascii_lowercase();
        value
    })
}
