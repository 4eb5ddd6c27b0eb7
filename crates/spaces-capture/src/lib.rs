//! The capture format: one provider response as `spaces --record DIR`
//! (`ClientBuilder::record` in the library) writes it, and as
//! `cargo xtask audit` and `cargo xtask fixture add` read it.
//!
//! This page is where the format is documented; the README, the library and
//! xtask point here. [`Capture`] is its one type: the library builds one
//! (with every echo of the token already redacted) and writes
//! [`Capture::to_file_bytes`]; xtask reads files with [`Capture::from_slice`]
//! or [`Capture::from_value`]. The crate depends on serde, serde_json and
//! base64 only, so that xtask can read captures without depending on the
//! library.
//!
//! # Version 1
//!
//! A capture file holds one JSON object, pretty-printed (two-space indent)
//! and followed by a newline, with these keys in this order:
//!
//! ```json
//! {
//!   "spaces_capture": 1,
//!   "provider": "x",
//!   "operation": "find_space_by_id",
//!   "request": {
//!     "method": "GET",
//!     "path": "/2/spaces/1jMJgLdenVjxL",
//!     "query": [
//!       [
//!         "space.fields",
//!         "id,state,title"
//!       ]
//!     ]
//!   },
//!   "status": 200,
//!   "headers": {
//!     "content-type": "application/json",
//!     "x-rate-limit-remaining": "299"
//!   },
//!   "received_at": "2026-11-22T23:00:00Z",
//!   "body": "{\"data\":{\"id\":\"1jMJgLdenVjxL\",\"state\":\"live\"}}"
//! }
//! ```
//!
//! | key | value |
//! |---|---|
//! | `spaces_capture` | the format version, [`FORMAT`]. Always first, so that a reader refuses a version it does not know before it reads anything else. |
//! | `provider` | the provider's wire name: `x`, `socialdata`, `aisa`, `twitterapi` |
//! | `operation` | the `operationId`, in `specs/<provider>.yaml`, of the request |
//! | `request` | ([`Request`]) `method`; `path` as sent (percent-encoded); `query` as `[name, value]` pairs, decoded, in the order sent. No request header is ever kept. |
//! | `status` | the HTTP status |
//! | `headers` | ([`Capture::headers`]) the response headers kept, by lowercase name, sorted; a repeated header's values joined with `, `. The library keeps only `content-type`, `x-rate-limit-*` and `retry-after`, never a cookie or an auth header. |
//! | `received_at` | when the response was received: RFC 3339, UTC, whole seconds (`2026-11-22T23:00:00Z`) |
//! | `body` | the raw body as received, when it is UTF-8 ([`Body::Text`]) |
//! | `body_base64` | the raw body, when it is not UTF-8 ([`Body::Binary`]): standard base64, padded (a reader accepts it unpadded too) |
//!
//! Exactly one of `body` and `body_base64` is present; [`Capture::body_bytes`]
//! gives the body's bytes either way. A body that starts with a UTF-8 byte
//! order mark keeps it: a capture holds what was received.
//!
//! Nothing secret is in a capture: the writer replaces every echo of the
//! token (in the body, the path, the query, a kept header) by `***` before
//! it builds the [`Capture`]. The library writes no capture for a response
//! whose body it did not receive whole (over its body cap, or cut off).
//!
//! # Files
//!
//! A capture file is named [`Capture::file_name`]:
//! `<received_at, compact>-<provider>-<operation>-<unique>.capture.json`, e.g.
//! `20261122T230000Z-x-find_space_by_id-3f9a0c1b2d4e.capture.json`; every
//! name ends in [`SUFFIX`]. The library writes each file to `.<name>.tmp` in
//! the same directory and renames it into place, so a reader never sees half
//! a capture.
//!
//! # Versions
//!
//! A reader refuses a capture whose `spaces_capture` is not [`FORMAT`]
//! ([`Error::UnknownVersion`]), and ignores keys it does not know. A change
//! that a reader of the current version would misread (a key removed,
//! renamed or retyped, a new meaning) comes with a new [`FORMAT`].

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The capture format version: the `spaces_capture` key of every capture
/// written (`"spaces_capture": 1`), and the only version a reader accepts.
/// The format is documented by the `spaces-capture` crate.
pub const FORMAT: u32 = 1;

/// The end of every capture file's name (`.capture.json`).
pub const SUFFIX: &str = ".capture.json";

/// The key that makes a JSON object a capture, and holds its version.
pub const VERSION_KEY: &str = "spaces_capture";

/// Writes padded; reads padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_encode_padding(true).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One provider response, as a capture file holds it (see the [crate] docs).
///
/// It serializes to the file's JSON, version key first, and deserializes
/// only from a capture of version [`FORMAT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The provider's wire name (`x`).
    pub provider: String,
    /// The `operationId` of the request (`find_space_by_id`).
    pub operation: String,
    /// The request line: method, path and query.
    pub request: Request,
    /// The HTTP status.
    pub status: u16,
    /// The response headers kept, by lowercase name; repeated values joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// When the response was received: RFC 3339, UTC, whole seconds (`2026-11-22T23:00:00Z`).
    pub received_at: String,
    /// The raw body.
    pub body: Body,
}

/// The request of a [`Capture`]: never a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `GET`.
    pub method: String,
    /// The path as sent, percent-encoded (`/2/spaces/1jMJgLdenVjxL`).
    pub path: String,
    /// The query's `(name, value)` pairs, decoded, in the order sent; `[name, value]` in JSON.
    pub query: Vec<(String, String)>,
}

/// The raw body of a [`Capture`], as it is kept in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A UTF-8 body, kept as text (`"body"`).
    Text(String),
    /// Any other body, kept as standard base64 (`"body_base64"`).
    Binary(Vec<u8>),
}

impl Body {
    /// The body's bytes, whichever way it is kept.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
        }
    }
}

/// Why bytes or a JSON value are not a capture this crate reads.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON.
    Json(serde_json::Error),
    /// JSON, but not a capture: not an object, or no `spaces_capture` key.
    NotACapture {
        /// What is missing.
        why: &'static str,
    },
    /// A capture of a format version this crate does not read.
    UnknownVersion {
        /// The `spaces_capture` value found.
        found: Value,
    },
    /// A capture of version [`FORMAT`] with a key missing or of the wrong type.
    Invalid {
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Json(error) => write!(f, "not JSON: {error}"),
            Error::NotACapture { why } => write!(f, "not a capture ({why})"),
            Error::UnknownVersion { found } => match found.as_u64() {
                Some(version) if version > u64::from(FORMAT) => write!(
                    f,
                    "capture format version {version} is newer than this reader, which reads version {FORMAT}; \
                     read it with a newer build"
                ),
                _ => write!(f, "capture format version {found} is not one this reader knows (it reads {FORMAT})"),
            },
            Error::Invalid { detail } => write!(f, "not a valid version {FORMAT} capture: {detail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Json(error) => Some(error),
            _ => None,
        }
    }
}

/// True when `value` is an object with a `spaces_capture` key, whatever its
/// version: [`Capture::from_value`] then reads it or says why not.
pub fn is_capture(value: &Value) -> bool {
    value.as_object().is_some_and(|object| object.contains_key(VERSION_KEY))
}

impl Capture {
    /// Reads a capture file's bytes (a leading UTF-8 byte order mark is
    /// allowed).
    ///
    /// # Errors
    ///
    /// As [`Capture::from_value`], and [`Error::Json`] when the bytes are not JSON.
    pub fn from_slice(bytes: &[u8]) -> Result<Capture, Error> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        Capture::from_value(serde_json::from_slice(bytes).map_err(Error::Json)?)
    }

    /// Reads a capture from its parsed JSON. The version is checked first,
    /// whatever the order of the keys.
    ///
    /// # Errors
    ///
    /// [`Error::NotACapture`] when `value` is not an object with a
    /// `spaces_capture` key, [`Error::UnknownVersion`] when that key is not
    /// [`FORMAT`], [`Error::Invalid`] when a key is missing or of the wrong
    /// type, `body_base64` is not base64, or there is not exactly one of
    /// `body` and `body_base64`.
    pub fn from_value(value: Value) -> Result<Capture, Error> {
        let Some(object) = value.as_object() else {
            return Err(Error::NotACapture { why: "not a JSON object" });
        };
        match object.get(VERSION_KEY) {
            None => return Err(Error::NotACapture { why: "no `spaces_capture` key" }),
            Some(version) if version.as_u64() == Some(u64::from(FORMAT)) => {}
            Some(found) => return Err(Error::UnknownVersion { found: found.clone() }),
        }
        let wire: WireIn =
            serde_json::from_value(value).map_err(|error| Error::Invalid { detail: error.to_string() })?;
        let body = match (wire.body, wire.body_base64) {
            (Some(text), None) => Body::Text(text),
            (None, Some(encoded)) => Body::Binary(
                BASE64
                    .decode(&encoded)
                    .map_err(|error| Error::Invalid { detail: format!("`body_base64` is not base64 ({error})") })?,
            ),
            (Some(_), Some(_)) => {
                return Err(Error::Invalid { detail: "both `body` and `body_base64`; a capture has one".to_owned() });
            }
            (None, None) => {
                return Err(Error::Invalid { detail: "no string `body` or `body_base64`".to_owned() });
            }
        };
        Ok(Capture {
            provider: wire.provider,
            operation: wire.operation,
            request: wire.request,
            status: wire.status,
            headers: wire.headers,
            received_at: wire.received_at,
            body,
        })
    }

    /// The body's bytes, whether the file keeps it as `body` or `body_base64`.
    pub fn body_bytes(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// The content of the capture's file: pretty-printed JSON and a newline.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .expect("a capture always serializes: strings, integers and maps with string keys");
        bytes.push(b'\n');
        bytes
    }

    /// The file name the capture is written under:
    /// `<received_at, compact>-<provider>-<operation>-<unique>.capture.json`,
    /// where the compact time is `received_at` without its `-` and `:`
    /// (`20261122T230000Z`). The writer picks `unique` (the library: 12 random
    /// hex digits) so that two captures never share a name. Any character but
    /// ASCII letters, digits, `_` and `-` in the provider, the operation or
    /// `unique` becomes `_`, so the name never leaves its directory.
    pub fn file_name(&self, unique: &str) -> String {
        let time: String = self.received_at.chars().filter(|c| !matches!(c, '-' | ':')).collect();
        let plain = |text: &str| -> String {
            text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
        };
        format!("{}-{}-{}-{}{SUFFIX}", plain(&time), plain(&self.provider), plain(&self.operation), plain(unique))
    }
}

/// The file's object, in its key order.
#[derive(Serialize)]
struct WireOut<'a> {
    spaces_capture: u32,
    provider: &'a str,
    operation: &'a str,
    request: &'a Request,
    status: u16,
    headers: &'a BTreeMap<String, String>,
    received_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
}

/// The file's object once its version is known; unknown keys are ignored.
#[derive(Deserialize)]
struct WireIn {
    provider: String,
    operation: String,
    request: Request,
    status: u16,
    headers: BTreeMap<String, String>,
    received_at: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
}

impl Serialize for Capture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (body, body_base64) = match &self.body {
            Body::Text(text) => (Some(text.as_str()), None),
            Body::Binary(bytes) => (None, Some(BASE64.encode(bytes))),
        };
        WireOut {
            spaces_capture: FORMAT,
            provider: &self.provider,
            operation: &self.operation,
            request: &self.request,
            status: self.status,
            headers: &self.headers,
            received_at: &self.received_at,
            body,
            body_base64,
        }
        .serialize(serializer)
    }
}

/// Only a capture of version [`FORMAT`]: see [`Capture::from_value`].
impl<'de> Deserialize<'de> for Capture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Capture::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(body: Body) -> Capture {
        Capture {
            provider: "x".to_owned(),
            operation: "find_space_by_id".to_owned(),
            request: Request {
                method: "GET".to_owned(),
                path: "/2/spaces/1jMJgLdenVjxL".to_owned(),
                query: vec![("space.fields".to_owned(), "id,title".to_owned()), ("t".to_owned(), "***".to_owned())],
            },
            status: 200,
            headers: [("x-rate-limit-remaining", "299"), ("content-type", "application/json")]
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            received_at: "2026-11-22T23:00:00Z".to_owned(),
            body,
        }
    }

    /// The file's bytes as the library wrote them before this crate existed.
    const TEXT_FILE: &str = r#"{
  "spaces_capture": 1,
  "provider": "x",
  "operation": "find_space_by_id",
  "request": {
    "method": "GET",
    "path": "/2/spaces/1jMJgLdenVjxL",
    "query": [
      [
        "space.fields",
        "id,title"
      ],
      [
        "t",
        "***"
      ]
    ]
  },
  "status": 200,
  "headers": {
    "content-type": "application/json",
    "x-rate-limit-remaining": "299"
  },
  "received_at": "2026-11-22T23:00:00Z",
  "body": "{\"data\":{\"id\":\"1jMJgLdenVjxL\"}}"
}
"#;

    #[test]
    fn a_text_body_is_written_byte_for_byte_in_key_order() {
        let capture = sample(Body::Text(r#"{"data":{"id":"1jMJgLdenVjxL"}}"#.to_owned()));
        assert_eq!(String::from_utf8(capture.to_file_bytes()).expect("UTF-8"), TEXT_FILE);
        let compact = serde_json::to_string(&capture).expect("JSON");
        let keys: Vec<&str> = ["spaces_capture", "provider", "operation", "request", "status", "headers"]
            .into_iter()
            .chain(["received_at", "body"])
            .collect();
        let positions: Vec<usize> =
            keys.iter().map(|key| compact.find(&format!("\"{key}\":")).expect("the key")).collect();
        assert!(positions.is_sorted(), "{compact}");
        assert!(compact.starts_with(r#"{"spaces_capture":1,"#), "{compact}");
    }

    #[test]
    fn a_binary_body_is_written_as_padded_base64_instead_of_body() {
        let capture = sample(Body::Binary(vec![0xff, 0xfe, b'*', b'*', b'*']));
        let text = String::from_utf8(capture.to_file_bytes()).expect("UTF-8");
        assert!(
            text.ends_with("  \"received_at\": \"2026-11-22T23:00:00Z\",\n  \"body_base64\": \"//4qKio=\"\n}\n"),
            "{text}"
        );
        assert!(!text.contains("\"body\""), "{text}");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        let keys: Vec<&String> = value.as_object().expect("object").keys().collect();
        assert_eq!(
            keys,
            ["spaces_capture", "provider", "operation", "request", "status", "headers", "received_at", "body_base64"]
        );
    }

    #[test]
    fn both_body_encodings_round_trip() {
        for body in [
            Body::Text("{\"a\": \"\u{feff}é\"}".to_owned()),
            Body::Text(String::new()),
            Body::Binary(vec![0xff, 0, 0xc3]),
            Body::Binary(b"valid UTF-8 kept as base64 stays so".to_vec()),
            Body::Binary(Vec::new()),
        ] {
            let capture = sample(body);
            let bytes = capture.to_file_bytes();
            assert_eq!(Capture::from_slice(&bytes).expect("readable"), capture);
            let value: Value = serde_json::from_slice(&bytes).expect("JSON");
            assert_eq!(Capture::from_value(value.clone()).expect("readable"), capture);
            assert_eq!(serde_json::from_value::<Capture>(value).expect("serde"), capture);
        }
    }

    #[test]
    fn body_bytes_are_the_same_whatever_the_encoding() {
        let text = sample(Body::Text("{\"id\":\"1\"}".to_owned()));
        let binary = sample(Body::Binary(b"{\"id\":\"1\"}".to_vec()));
        assert_eq!(text.body_bytes(), b"{\"id\":\"1\"}");
        assert_eq!(binary.body_bytes(), text.body_bytes());
        // Unpadded base64 is read too.
        let mut value = serde_json::to_value(sample(Body::Text(String::new()))).expect("JSON");
        let object = value.as_object_mut().expect("object");
        object.remove("body");
        object.insert("body_base64".to_owned(), Value::from("aGVsbG8"));
        assert_eq!(Capture::from_value(value).expect("readable").body_bytes(), b"hello");
    }

    fn with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Result<Capture, Error> {
        let mut value = serde_json::to_value(sample(Body::Text("{}".to_owned()))).expect("JSON");
        edit(value.as_object_mut().expect("object"));
        Capture::from_value(value)
    }

    #[test]
    fn an_unknown_version_is_refused_before_anything_else() {
        let newer = Capture::from_slice(br#"{"status": "not even a number", "spaces_capture": 2}"#);
        assert!(matches!(&newer, Err(Error::UnknownVersion { found }) if *found == 2), "{newer:?}");
        let message = newer.expect_err("refused").to_string();
        assert_eq!(
            message,
            "capture format version 2 is newer than this reader, which reads version 1; read it with a newer build"
        );
        for found in [Value::from(0), Value::from(1.0), Value::from("1"), Value::Null] {
            let error = with(|object| {
                object.insert(VERSION_KEY.to_owned(), found.clone());
            })
            .expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!("capture format version {found} is not one this reader knows (it reads 1)")
            );
        }
        // Through serde as well.
        let error = serde_json::from_str::<Capture>(r#"{"spaces_capture": 7}"#).expect_err("refused");
        assert!(error.to_string().contains("capture format version 7 is newer"), "{error}");
    }

    #[test]
    fn what_is_not_a_capture_says_why() {
        let cases: [(&[u8], &str); 4] = [
            (b"{ nope", "not JSON: "),
            (b"[1]", "not a capture (not a JSON object)"),
            (b"{\"data\": {}}", "not a capture (no `spaces_capture` key)"),
            (b"{\"spaces_capture\": 1, \"status\": 200}", "not a valid version 1 capture: missing field `provider`"),
        ];
        for (bytes, expected) in cases {
            let error = Capture::from_slice(bytes).expect_err("refused").to_string();
            assert!(error.starts_with(expected), "{error}");
        }
        let detail = |result: Result<Capture, Error>| match result {
            Err(Error::Invalid { detail }) => detail,
            other => panic!("{other:?}"),
        };
        assert_eq!(detail(with(|object| drop(object.remove("body")))), "no string `body` or `body_base64`");
        assert!(
            detail(with(|object| drop(object.insert("body_base64".to_owned(), Value::from("aGk=")))))
                .starts_with("both `body` and `body_base64`")
        );
        for not_base64 in ["a*==", "a", "aGVsbG8=="] {
            let found = detail(with(|object| {
                object.remove("body");
                object.insert("body_base64".to_owned(), Value::from(not_base64));
            }));
            assert!(found.starts_with("`body_base64` is not base64"), "{not_base64}: {found}");
        }
        assert!(detail(with(|object| drop(object.insert("status".to_owned(), Value::from(70_000))))).contains("70000"));
    }

    #[test]
    fn unknown_keys_and_a_byte_order_mark_are_accepted() {
        let capture = sample(Body::Text("{}".to_owned()));
        let mut value = serde_json::to_value(&capture).expect("JSON");
        value.as_object_mut().expect("object").insert("later".to_owned(), Value::from(true));
        assert_eq!(Capture::from_value(value).expect("readable"), capture);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(capture.to_file_bytes());
        assert_eq!(Capture::from_slice(&bytes).expect("readable"), capture);
        assert!(is_capture(&serde_json::to_value(&capture).expect("JSON")));
        assert!(!is_capture(&serde_json::json!({"data": {}})));
        assert!(is_capture(&serde_json::json!({"spaces_capture": 9})));
    }

    #[test]
    fn file_names_are_compact_and_stay_in_their_directory() {
        let mut capture = sample(Body::Text("{}".to_owned()));
        assert_eq!(capture.file_name("3f9a0c1b2d4e"), "20261122T230000Z-x-find_space_by_id-3f9a0c1b2d4e.capture.json");
        capture.provider = "../x".to_owned();
        capture.operation = "a/b".to_owned();
        assert_eq!(capture.file_name("1"), "20261122T230000Z-___x-a_b-1.capture.json");
    }
}
