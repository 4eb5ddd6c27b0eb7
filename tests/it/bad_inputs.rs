//! The bad-input corpus: what providers might send on a bad day, each case
//! with the exact outcome it must have. Never a panic; a typed error naming
//! the provider and the field, or — where the data is valid but odd — a Space.

use spaces::{Error, Provider, Space};
use spaces_mock::DEMO_SPACE_ID;

use crate::support::recorded_with;

/// What one bad input must produce.
#[derive(Debug)]
enum Expect {
    /// `Error::Decode` naming this field.
    Decode(&'static str),
    /// `Error::Decode` naming a field under this path (deep paths are shortened).
    DecodeUnder(&'static str),
    NotFound,
    Rejected,
    /// A Space, checked by the function.
    Space(fn(&Space) -> bool),
}

use Expect::{Decode, NotFound, Rejected};

fn nested(depth: usize) -> Vec<u8> {
    format!(r#"{{"data":{{"id":"1SLjjRYNejbKM","state":"live"}},"extra":{}{}}}"#, "[".repeat(depth), "]".repeat(depth))
        .into_bytes()
}

/// SocialData's affiliate label is free-form JSON, parsed recursively: serde_json's limit must hold.
fn deep_label(depth: usize) -> Vec<u8> {
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    format!(r#"{{"id":"1jMJgLdenVjxL","creator":{{"id":"1","affiliates_highlighted_label":{{"label":{nested}}}}}}}"#)
        .into_bytes()
}

/// The provider's recorded Space with a title of about `bytes` bytes, wherever its body keeps the title.
fn with_big_title(provider: Provider, bytes: usize) -> Vec<u8> {
    recorded_with(provider, "title", "ü".repeat(bytes / 2)).into_bytes()
}

fn bom(body: &str) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat()
}

type Case = (Provider, &'static str, Vec<u8>, Expect);

/// What every provider must do with the same kind of bad day, built from its
/// own recorded Space where the case needs a body of its shape.
fn every_provider_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &provider in Provider::ALL {
        let recorded = spaces_mock::recorded_space(provider);
        let half = (0..=recorded.len() / 2).rev().find(|at| recorded.is_char_boundary(*at)).unwrap_or(0);
        cases.extend([
            (provider, "empty body", Vec::new(), Decode("body")),
            (provider, "whitespace only", b" \n\t ".to_vec(), Decode("body")),
            (
                provider,
                "HTML error page",
                b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
                Decode("body"),
            ),
            (provider, "recorded Space cut in half", recorded.as_bytes()[..half].to_vec(), Decode("body")),
            (provider, "trailing garbage", format!("{recorded} trailing").into_bytes(), Decode("body")),
            (provider, "byte-order mark", bom(recorded), Expect::Space(|space| space.id == DEMO_SPACE_ID)),
            (
                provider,
                "multi-megabyte title",
                with_big_title(provider, 3_000_000),
                Expect::Space(|space| space.title.as_ref().is_some_and(|title| title.len() >= 3_000_000)),
            ),
        ]);
    }
    cases
}

/// Each provider's own quirks: its shapes, its error styles, its value forms.
fn provider_cases() -> Vec<Case> {
    use Provider::{Aisa, SocialData, TwitterApi, X};
    let b = |text: &str| text.as_bytes().to_vec();
    vec![
        // Not JSON at all, or not the right JSON.
        (X, "truncated JSON", b(r#"{"data":{"id":"1SLj"#), Decode("body")),
        (X, "top-level array", b("[]"), Decode("body")),
        (X, "top-level string", b(r#""data""#), Decode("body")),
        (X, "top-level null", b("null"), Decode("body")),
        (
            X,
            "NaN literal",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","participant_count":NaN}}"#),
            Decode("data.participant_count"),
        ),
        (
            X,
            "invalid UTF-8 in a string",
            [b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","title":"caf"#), vec![0xC3, 0x28], b(r#""}}"#)].concat(),
            Decode("data.title"),
        ),
        // Skipped values are skipped without recursion: odd, but a Space.
        (X, "deep nesting in an unknown field", nested(10_000), Expect::Space(|space| space.id == "1SLjjRYNejbKM")),
        (X, "empty object", b("{}"), Decode("data")),
        (X, "data null", b(r#"{"data":null}"#), Decode("data")),
        // Wrong types and nulls.
        (X, "data is an array", b(r#"{"data":[]}"#), Decode("data")),
        (X, "id is a number", b(r#"{"data":{"id":1,"state":"live"}}"#), Decode("data.id")),
        (X, "state is null", b(r#"{"data":{"id":"1SLjjRYNejbKM","state":null}}"#), Decode("data.state")),
        (
            X,
            "host_ids is a string",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","host_ids":"123"}}"#),
            Decode("data.host_ids"),
        ),
        (
            X,
            "includes.users is null",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live"},"includes":{"users":null}}"#),
            Decode("includes.users"),
        ),
        (
            X,
            "user without username",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live"},"includes":{"users":[{"id":"1","name":"A"}]}}"#),
            Decode("includes.users[0]"),
        ),
        (
            X,
            "is_ticketed is a number",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","is_ticketed":1}}"#),
            Decode("data.is_ticketed"),
        ),
        (X, "errors is an object", b(r#"{"errors":{"type":"x"}}"#), Decode("errors")),
        // Numbers out of range.
        (
            X,
            "participant_count over i32",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","participant_count":3000000000}}"#),
            Decode("data.participant_count"),
        ),
        (
            X,
            "participant_count negative",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","participant_count":-3}}"#),
            Decode("data.participant_count"),
        ),
        (
            X,
            "participant_count fractional",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","participant_count":1.5}}"#),
            Decode("data.participant_count"),
        ),
        (
            X,
            "follower count beyond i64",
            b(
                r#"{"data":{"id":"1SLjjRYNejbKM","state":"live"},"includes":{"users":[{"id":"1","name":"A","username":"a","public_metrics":{"followers_count":1e400}}]}}"#,
            ),
            Decode("includes.users[0].public_metrics.followers_count"),
        ),
        // Timestamps.
        (
            X,
            "year 300000",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","created_at":"300000-01-01T00:00:00Z"}}"#),
            Decode("data.created_at"),
        ),
        (
            X,
            "unparseable date",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","ended_at":"yesterday"}}"#),
            Decode("data.ended_at"),
        ),
        (
            X,
            "empty date",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"live","started_at":""}}"#),
            Decode("data.started_at"),
        ),
        (
            X,
            "user date unparseable",
            b(
                r#"{"data":{"id":"1SLjjRYNejbKM","state":"live"},"includes":{"users":[{"id":"1","name":"A","username":"a","created_at":"Sat Jun 16"}]}}"#,
            ),
            Decode("includes.users[0].created_at"),
        ),
        // Ids.
        (X, "empty id", b(r#"{"data":{"id":"","state":"live"}}"#), Decode("data.id")),
        (X, "id too long", b(r#"{"data":{"id":"1SLjjRYNejbKM1SLjjRYNejbKM","state":"live"}}"#), Decode("data.id")),
        (X, "non-ASCII id", b(r#"{"data":{"id":"1SLjjRYNéjbKM","state":"live"}}"#), Decode("data.id")),
        // A duplicate key is ambiguous: refused, naming the object that holds it.
        (
            X,
            "duplicate keys",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","id":"1SLjjRYNejbKM","state":"live"}}"#),
            Decode("data"),
        ),
        // Odd but valid.
        (
            X,
            "state in capitals",
            b(r#"{"data":{"id":"1SLjjRYNejbKM","state":"LIVE"}}"#),
            Expect::Space(|space| space.state == spaces::SpaceState::Live),
        ),
        (
            X,
            "a problem of an unknown type",
            b(r#"{"errors":[{"type":"https://api.x.com/2/problems/brand-new","title":"New"}]}"#),
            Rejected,
        ),
        (SocialData, "HTML doctype page", b("<!DOCTYPE html><title>Error</title>"), Decode("body")),
        (SocialData, "top-level array", b("[1,2]"), Decode("body")),
        (SocialData, "truncated JSON", b(r#"{"id":"1jMJgLdenVjxL","state":"Ended","created_at":1680"#), Decode("body")),
        (SocialData, "id missing", b(r#"{"state":"Ended"}"#), Decode("body")),
        (SocialData, "empty id", b(r#"{"id":""}"#), Decode("id")),
        (SocialData, "non-ASCII id", b(r#"{"id":"ñandú"}"#), Decode("id")),
        (SocialData, "negative epoch", b(r#"{"id":"1jMJgLdenVjxL","ended_at":-5}"#), Decode("ended_at")),
        (SocialData, "empty digit string", b(r#"{"id":"1jMJgLdenVjxL","ended_at":""}"#), Decode("ended_at")),
        (
            SocialData,
            "digits beyond i64",
            b(r#"{"id":"1jMJgLdenVjxL","ended_at":"99999999999999999999"}"#),
            Decode("ended_at"),
        ),
        (
            SocialData,
            "epoch beyond chrono",
            b(r#"{"id":"1jMJgLdenVjxL","created_at":9223372036854775807}"#),
            Decode("created_at"),
        ),
        (
            SocialData,
            "fractional epoch",
            b(r#"{"id":"1jMJgLdenVjxL","created_at":1680287883093.5}"#),
            Decode("created_at"),
        ),
        (
            SocialData,
            "count negative",
            b(r#"{"id":"1jMJgLdenVjxL","total_live_listeners":-1}"#),
            Decode("total_live_listeners"),
        ),
        (
            SocialData,
            "classic date unparseable",
            b(r#"{"id":"1jMJgLdenVjxL","creator":{"id":"1","legacy":{"created_at":"2007-06-16"}}}"#),
            Decode("creator.legacy.created_at"),
        ),
        (SocialData, "creator is a string", b(r#"{"id":"1jMJgLdenVjxL","creator":"XEng"}"#), Decode("creator")),
        (
            SocialData,
            "nesting beyond the recursion limit",
            deep_label(10_000),
            Expect::DecodeUnder("creator.affiliates_highlighted_label.label[0][0]"),
        ),
        (
            SocialData,
            "creator null",
            b(r#"{"id":"1jMJgLdenVjxL","state":"Ended","creator":null}"#),
            Expect::Space(|space| space.creator.is_none() && space.creator_id.is_none()),
        ),
        (SocialData, "error message not found", b(r#"{"status":"error","message":"Space not found"}"#), NotFound),
        (SocialData, "error body of another kind", b(r#"{"status":"error","message":"Internal error"}"#), Rejected),
        (Aisa, "gateway text", b("Bad Gateway"), Decode("body")),
        (Aisa, "truncated JSON", b(r#"{"data":{"id":"1jMJg"#), Decode("body")),
        (Aisa, "success without data", b(r#"{"status":"success"}"#), Decode("data")),
        (Aisa, "data is a string", b(r#"{"status":"success","data":"1jMJgLdenVjxL"}"#), Decode("data")),
        (Aisa, "data without id", b(r#"{"status":"success","data":{"state":"Live"}}"#), Decode("data.id")),
        (Aisa, "msg is a number", b(r#"{"status":"error","msg":42}"#), Decode("msg")),
        (
            Aisa,
            "year 300000",
            b(r#"{"status":"success","data":{"id":"1jMJgLdenVjxL","created_at":"300000-01-01T00:00:00Z"}}"#),
            Decode("data.created_at"),
        ),
        (
            Aisa,
            "negative epoch",
            b(r#"{"status":"success","data":{"id":"1jMJgLdenVjxL","created_at":-1}}"#),
            Decode("data.created_at"),
        ),
        (
            Aisa,
            "participants beyond i64",
            b(r#"{"status":"success","data":{"id":"1jMJgLdenVjxL","stats":{"total_participants":1e30}}}"#),
            Decode("data.stats.total_participants"),
        ),
        (
            Aisa,
            "creator without id",
            b(r#"{"status":"success","data":{"id":"1jMJgLdenVjxL","creator":{"userName":"x"}}}"#),
            Decode("data.creator.id"),
        ),
        (
            Aisa,
            "status error with data",
            b(r#"{"status":"error","msg":"quota exceeded","data":{"id":"1jMJgLdenVjxL"}}"#),
            Rejected,
        ),
        (Aisa, "status error, not found", b(r#"{"status":"error","msg":"Space not found"}"#), NotFound),
        // twitterapi.io shares AIsa's envelope and converter; these prove the wiring.
        (TwitterApi, "data is an array", b(r#"{"status":"success","data":[]}"#), Decode("data")),
        (
            TwitterApi,
            "negative participants",
            b(r#"{"data":{"id":"1jMJgLdenVjxL","stats":{"total_participants":-1}}}"#),
            Decode("data.stats.total_participants"),
        ),
        (
            TwitterApi,
            "status error, not found",
            b(r#"{"data":null,"status":"error","msg":"space not found"}"#),
            NotFound,
        ),
    ]
}

#[test]
fn every_bad_input_gives_its_exact_outcome() {
    let mut cases = every_provider_cases();
    cases.extend(provider_cases());
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let mut names: Vec<(Provider, &str)> = cases.iter().map(|(provider, name, _, _)| (*provider, *name)).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "every case has its own name");
    let mut wrong = Vec::new();
    for (provider, name, body, expect) in &cases {
        let outcome = std::panic::catch_unwind(|| spaces::decode(*provider, body));
        let Ok(outcome) = outcome else {
            wrong.push(format!("{provider} / {name}: PANICKED"));
            continue;
        };
        let right = match (&outcome, expect) {
            (Err(Error::Decode { provider: p, field, .. }), Decode(expected)) => p == provider && field == expected,
            (Err(error @ Error::Decode { provider: p, field, .. }), Expect::DecodeUnder(prefix)) => {
                // The path is kept long enough to redact, and shown short: one readable line.
                p == provider && field.starts_with(prefix) && error.to_string().chars().count() < 400
            }
            (Err(Error::NotFound { provider: p, .. }), NotFound) => p == provider,
            (Err(Error::Rejected { provider: p, .. }), Rejected) => p == provider,
            (Ok(space), Expect::Space(check)) => space.provider == *provider && check(space),
            _ => false,
        };
        if !right {
            let got = match &outcome {
                Ok(space) => format!("a Space {:?}", space.id),
                Err(error) => format!("{error:?}").chars().take(300).collect(),
            };
            wrong.push(format!("{provider} / {name}: expected {expect:?}, got {got}"));
        }
        // Every message stays one line, whatever the input held.
        if let Err(error) = &outcome {
            let message = error.to_string();
            if message.contains('\n') || message.len() > 2_000 {
                wrong.push(format!("{provider} / {name}: message not one short line: {message:.200}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases wrong:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}
