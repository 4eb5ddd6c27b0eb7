//! X's multi-Space endpoints: `GET /2/spaces?ids=` (batch lookup),
//! `GET /2/spaces/search` and `GET /2/spaces/by/creator_ids`.
//!
//! X-specific because only X has them: SocialData, AIsa and twitterapi.io
//! look up one Space at a time. As in the rest of the mock, the paths come
//! from `specs/x.yaml` (through `spaces::spec::generated::x::SPEC`) and no answer
//! is written here; each is built from the spec's own examples:
//! - the batch answers each requested id with the Space of the single
//!   lookup's recording of it (the `data` of each success example that
//!   decodes, as [`recorded_spaces`](crate::recorded_spaces) finds them), in
//!   request order (a repeated id once), their `includes.users` and
//!   `includes.topics` merged without duplicates; an id it has no recording
//!   of gets X's resource-not-found Problem in `errors` (the `not_found`
//!   example's, naming the id, with `parameter: ids`). No `data` key when
//!   nothing was found, and no `meta` (X sends none here);
//! - search and by-creator answer with their operation's example named
//!   `served` (with `meta.result_count`): search keeps only the Spaces of
//!   the requested `state` (`live`, `scheduled`; `all`, the default, keeps
//!   both) and at most `max_results` of them, with `includes` and
//!   `meta.result_count` to match; by-creator serves it whatever the
//!   `user_ids`. Neither looks at `query`.
//!
//! Every answer needs [`DEMO_TOKEN`](crate::DEMO_TOKEN) (else the
//! `unauthorized` example, a 401); a missing required parameter, or one that
//! breaks its rules in the spec, is a 400 in X's invalid-request shape (the
//! spec's `invalid_request` example, naming the parameter): no ids, more
//! than `maxItems` of them ([`max_ids`]), an id that misses the `pattern` of
//! the list's items, a `query` outside `minLength..=maxLength`, a
//! `max_results` outside `minimum..=maximum`, a `state` outside its enum.
//! Every limit is read from the spec's facts (`spaces::spec::generated::x::SPEC`,
//! each parameter's [`ParamRules`]), never from the library's own values, so
//! a wrong value in the library cannot pass a test against the mock. Field
//! lists and expansions are ignored: answers carry every recorded field.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};
use spaces::Provider;
use spaces::spec::generated::{Operation, Param, ParamRules, x};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, Request, Respond, ResponseTemplate};

use crate::{EXAMPLE_MISSING_ID, base_path};

/// The `operationId` of the batch lookup, `GET /2/spaces?ids=`.
pub const BATCH: &str = "find_spaces_by_ids";
/// The `operationId` of `GET /2/spaces/search`.
pub const SEARCH: &str = "search_spaces";
/// The `operationId` of `GET /2/spaces/by/creator_ids`.
pub const BY_CREATOR: &str = "find_spaces_by_creator_ids";

/// The example of a multi-Space operation that the mock serves.
pub const SERVED_EXAMPLE: &str = "served";

/// The X spec's operation `operation_id`.
///
/// # Panics
///
/// When `specs/x.yaml` lacks it (`spaces-generated`'s tests check that it has all three).
pub fn operation(operation_id: &str) -> &'static Operation {
    x::SPEC.operation(operation_id).unwrap_or_else(|| panic!("specs/x.yaml has no operation `{operation_id}`"))
}

/// The operation's full path on the mock (X's API root has no path).
fn full_path(operation_id: &str) -> String {
    format!("{}{}", base_path(Provider::X), operation(operation_id).path)
}

/// A request matcher for an operation's path and method, whatever its query.
pub fn operation_endpoint(operation_id: &str) -> MockBuilder {
    operation_endpoint_under("", operation_id)
}

/// As [`operation_endpoint`], with the API root moved under `prefix`
/// (`/watch`: `GET /watch/2/spaces/by/creator_ids`), so that one server can
/// serve X twice (`spaces mock`: the recordings, and the lifecycle).
pub fn operation_endpoint_under(prefix: &str, operation_id: &str) -> MockBuilder {
    let operation = operation(operation_id);
    Mock::given(method(operation.method)).and(path(format!("{prefix}{}", full_path(operation_id))))
}

/// A request matcher for the batch lookup: `GET /2/spaces` with an `ids` parameter.
pub fn batch_endpoint() -> MockBuilder {
    operation_endpoint(BATCH).and(|request: &Request| request.url.query_pairs().any(|(key, _)| key == "ids"))
}

/// A request matcher for `GET /2/spaces/search`.
pub fn search_endpoint() -> MockBuilder {
    operation_endpoint(SEARCH)
}

/// A request matcher for `GET /2/spaces/by/creator_ids`.
pub fn by_creator_endpoint() -> MockBuilder {
    operation_endpoint(BY_CREATOR)
}

/// The comma-separated values of query parameter `name` (its first
/// occurrence), in order, without empty ones; empty when it is absent.
pub fn query_list(request: &Request, name: &str) -> Vec<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The Space ids a batch request asks for (`?ids=a,b,c`), in order.
pub fn requested_ids(request: &Request) -> Vec<String> {
    query_list(request, "ids")
}

/// The user ids a by-creator request asks for (`?user_ids=1,2`), in order.
pub fn requested_user_ids(request: &Request) -> Vec<String> {
    query_list(request, "user_ids")
}

fn query_value(request: &Request, name: &str) -> Option<String> {
    request.url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).expect("spec examples are JSON (regen wrote them)")
}

fn answer(status: u16, body: &Value) -> ResponseTemplate {
    crate::json(status, &body.to_string())
}

/// A 400 in X's invalid-request shape: the spec's `invalid_request` example
/// with its one error naming `parameter`, `values` and `message`.
pub fn invalid_request(parameter: &str, values: &[&str], message: &str) -> ResponseTemplate {
    crate::invalid_request(operation(BATCH), parameter, values, message)
        .expect("specs/x.yaml's shared error response has `invalid_request`")
}

/// X's operation `operation_id`'s parameter `name`, as the spec states it.
///
/// # Panics
///
/// When the operation has no such parameter (`spaces-generated`'s tests check X's).
pub fn param(operation_id: &str, name: &str) -> &'static Param {
    operation(operation_id).param(name).unwrap_or_else(|| panic!("specs/x.yaml: `{operation_id}` has no `{name}`"))
}

/// The list parameter of one of X's list operations: its one required
/// parameter (`ids` of the batch lookup, `user_ids` of by-creator).
fn list_param(operation_id: &str) -> &'static Param {
    operation(operation_id)
        .id_param()
        .filter(|param| param.rules.max_items.is_some() || param.rules.min_items.is_some())
        .unwrap_or_else(|| panic!("specs/x.yaml: `{operation_id}` is not a list operation"))
}

/// The most ids one request of a list operation takes: its list parameter's
/// `maxItems` in the spec (100 for both of X's).
///
/// # Panics
///
/// When `operation_id` has no required list parameter, or the spec sets no
/// `maxItems` on it.
pub fn max_ids(operation_id: &str) -> usize {
    list_param(operation_id)
        .max_items()
        .unwrap_or_else(|| panic!("specs/x.yaml: `{operation_id}` states no `maxItems` for its list"))
}

/// `rules`' `minimum..=maximum` (or `minItems..=maxItems`), as X words a range.
fn range(min: Option<impl ToString>, max: Option<impl ToString>) -> String {
    let min = min.map_or_else(|| "any".to_owned(), |min| min.to_string());
    let max = max.map_or_else(|| "any".to_owned(), |max| max.to_string());
    format!("between {min} and {max}")
}

/// The required list parameter of `operation_id`: as many values as its
/// `minItems`/`maxItems` allow, each keeping its items' rules, or a 400.
pub(crate) fn id_list(request: &Request, operation_id: &str) -> Result<Vec<String>, Box<ResponseTemplate>> {
    let param = list_param(operation_id);
    let (name, rules) = (param.name, &param.rules);
    let ids = query_list(request, name);
    if ids.is_empty() {
        return Err(Box::new(invalid_request(name, &[], &format!("The `{name}` query parameter can not be empty"))));
    }
    if !rules.count_fits(ids.len()) {
        let message = format!(
            "The number of values in the `{name}` query parameter list [{}] is not {}",
            ids.len(),
            range(rules.min_items, rules.max_items)
        );
        return Err(Box::new(invalid_request(name, &[ids.join(",").as_str()], &message)));
    }
    match ids.iter().find(|id| !rules.accepts(id)) {
        Some(bad) => Err(Box::new(invalid_request(name, &[bad.as_str()], &value_refused(name, bad, rules)))),
        None => Ok(ids),
    }
}

/// Why one value of parameter `name` breaks `rules`, as X words it.
pub(crate) fn value_refused(name: &str, value: &str, rules: &ParamRules) -> String {
    match rules.pattern {
        Some(pattern) if !rules.matches(value) => {
            format!("The `{name}` query parameter value [{value}] does not match {pattern}")
        }
        _ => format!(
            "The `{name}` query parameter value [{value}] is not {} characters long",
            range(rules.min_length, rules.max_length)
        ),
    }
}

/// The batch's ids, deduplicated in order, or a 400.
fn batch_ids(request: &Request) -> Result<Vec<String>, Box<ResponseTemplate>> {
    let ids = id_list(request, BATCH)?;
    let mut seen = HashSet::new();
    Ok(ids.into_iter().filter(|id| seen.insert(id.clone())).collect())
}

/// The recorded Spaces of X's single lookup: each one's `data`, and the
/// `includes` of its body.
struct Recording {
    data: Value,
    includes: Value,
}

fn recordings() -> &'static [(String, Recording)] {
    static RECORDINGS: OnceLock<Vec<(String, Recording)>> = OnceLock::new();
    RECORDINGS.get_or_init(|| {
        crate::recorded_spaces(Provider::X)
            .filter_map(|(id, body)| {
                let mut body = parse(body);
                let data = body.get_mut("data").map(Value::take)?;
                let includes = body.get_mut("includes").map(Value::take).unwrap_or(Value::Null);
                Some((id, Recording { data, includes }))
            })
            .collect()
    })
}

fn recording(id: &str) -> Option<&'static Recording> {
    recordings().iter().find(|(recorded, _)| recorded == id).map(|(_, recording)| recording)
}

/// `includes` merged from several bodies: `users` and `topics`, each listed
/// once by id (first seen wins), in order. `None` when there is nothing.
fn merge_includes<'a>(all: impl IntoIterator<Item = &'a Value>) -> Option<Value> {
    let all: Vec<&Value> = all.into_iter().collect();
    let mut merged = Map::new();
    for kind in ["users", "topics"] {
        let mut seen = HashSet::new();
        let items: Vec<Value> = all
            .iter()
            .filter_map(|includes| includes.get(kind)?.as_array())
            .flatten()
            .filter(|item| item.get("id").and_then(Value::as_str).is_none_or(|id| seen.insert(id.to_owned())))
            .cloned()
            .collect();
        if !items.is_empty() {
            merged.insert(kind.to_owned(), Value::Array(items));
        }
    }
    (!merged.is_empty()).then_some(Value::Object(merged))
}

/// X's resource-not-found Problem for a batch id: the `not_found` example's,
/// naming `id`, with `parameter: ids`.
pub(crate) fn not_found_problem(id: &str) -> Value {
    let example = crate::example(Provider::X, "not_found");
    let body = parse(&example.body.replace(EXAMPLE_MISSING_ID, id));
    let mut problem = body.pointer("/errors/0").cloned().expect("X's `not_found` example holds one Problem");
    problem["parameter"] = json!("ids");
    if let Some(detail) = problem.get("detail").and_then(Value::as_str) {
        problem["detail"] = json!(detail.replace("with id:", "with ids:"));
    }
    problem
}

/// The body of `GET /2/spaces?ids=` for these ids (see the module docs):
/// `data` with the recorded Spaces in order, `errors` for the others.
pub fn batch_body(ids: &[String]) -> Value {
    let found: Vec<&Recording> = ids.iter().filter_map(|id| recording(id)).collect();
    let errors: Vec<Value> = ids.iter().filter(|id| recording(id).is_none()).map(|id| not_found_problem(id)).collect();
    let mut body = Map::new();
    if !found.is_empty() {
        body.insert("data".to_owned(), Value::Array(found.iter().map(|recording| recording.data.clone()).collect()));
    }
    if !errors.is_empty() {
        body.insert("errors".to_owned(), Value::Array(errors));
    }
    if let Some(includes) = merge_includes(found.iter().map(|recording| &recording.includes)) {
        body.insert("includes".to_owned(), includes);
    }
    Value::Object(body)
}

/// Answers `GET /2/spaces?ids=` from the recordings (see the module docs).
pub struct Batch;

impl Respond for Batch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match batch_ids(request) {
            Ok(ids) => answer(200, &batch_body(&ids)),
            Err(bad_request) => *bad_request,
        }
    }
}

/// Answers `GET /2/spaces?ids=` with every requested id found: each a copy of
/// the recorded demo Space ([`DEMO_SPACE_ID`](crate::DEMO_SPACE_ID)) with
/// its id replaced, and the demo's `includes` once. For benches and tests
/// that ask for many distinct ids (say 10,000 over 100 requests) and want
/// them all found. Mount it yourself, e.g. on [`batch_endpoint`] with
/// priority 1 on [`MockProviders::server`](crate::MockProviders::server).
pub struct EveryIdFound;

impl Respond for EveryIdFound {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let ids = match batch_ids(request) {
            Ok(ids) => ids,
            Err(bad_request) => return *bad_request,
        };
        let demo = recording(crate::DEMO_SPACE_ID).expect("X records the demo Space (a convention of every spec)");
        let data: Vec<Value> = ids
            .iter()
            .map(|id| {
                let mut space = demo.data.clone();
                space["id"] = json!(id);
                space
            })
            .collect();
        let mut body = Map::new();
        body.insert("data".to_owned(), Value::Array(data));
        if !demo.includes.is_null() {
            body.insert("includes".to_owned(), demo.includes.clone());
        }
        answer(200, &Value::Object(body))
    }
}

/// The operation's `served` example, parsed.
fn served(operation_id: &str) -> Value {
    let example = operation(operation_id)
        .example(SERVED_EXAMPLE)
        .unwrap_or_else(|| panic!("specs/x.yaml: `{operation_id}` has no example named `{SERVED_EXAMPLE}`"));
    parse(example.body)
}

/// The ids a Space refers to in `includes`: (users, topics).
fn referenced(space: &Value) -> (HashSet<&str>, HashSet<&str>) {
    let users = ["creator_id", "host_ids", "speaker_ids", "invited_user_ids"]
        .into_iter()
        .flat_map(|key| id_strings(space.get(key)))
        .collect();
    (users, id_strings(space.get("topic_ids")).into_iter().collect())
}

/// An id field's ids: a string, or the strings of an array.
fn id_strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(id)) => vec![id.as_str()],
        Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `body` keeping only `spaces` in `data`, the users and topics they refer
/// to in `includes`, and `meta.result_count` counting them; X's empty answer
/// (`{"meta":{"result_count":0}}`, no `data`, no `includes`) when none is left.
fn with_spaces(mut body: Value, spaces: Vec<Value>) -> Value {
    let Value::Object(map) = &mut body else { return body };
    let count = spaces.len();
    let (mut users, mut topics) = (HashSet::new(), HashSet::new());
    for space in &spaces {
        let (space_users, space_topics) = referenced(space);
        users.extend(space_users.into_iter().map(str::to_owned));
        topics.extend(space_topics.into_iter().map(str::to_owned));
    }
    if let Some(Value::Object(includes)) = map.get_mut("includes") {
        for (kind, keep) in [("users", &users), ("topics", &topics)] {
            if let Some(Value::Array(items)) = includes.get_mut(kind) {
                items.retain(|item| item.get("id").and_then(Value::as_str).is_some_and(|id| keep.contains(id)));
                if items.is_empty() {
                    includes.remove(kind);
                }
            }
        }
        if includes.is_empty() {
            map.remove("includes");
        }
    }
    if spaces.is_empty() {
        map.remove("data");
        map.remove("includes");
    } else {
        map.insert("data".to_owned(), Value::Array(spaces));
    }
    map.insert("meta".to_owned(), json!({ "result_count": count }));
    body
}

/// The search states X accepts.
const STATES: [&str; 3] = ["live", "scheduled", "all"];

/// The body of `GET /2/spaces/search` for `state` (`None`: all) and
/// `max_results` (`None`: X's default, 100, more than the example holds), from
/// the `served` example (see the module docs).
pub fn search_body(state: Option<&str>, max_results: Option<usize>) -> Value {
    let body = served(SEARCH);
    let state = state.filter(|state| *state != "all");
    let spaces: Vec<Value> = body
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|space| state.is_none_or(|state| space.get("state").and_then(Value::as_str) == Some(state)))
        .take(max_results.unwrap_or(usize::MAX))
        .cloned()
        .collect();
    with_spaces(body, spaces)
}

/// Answers `GET /2/spaces/search` from its `served` example (see the module docs).
pub struct Search;

impl Respond for Search {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = query_value(request, "query").unwrap_or_default();
        if query.is_empty() {
            return invalid_request("query", &[], "The `query` query parameter can not be empty");
        }
        let query_rules = &param(SEARCH, "query").rules;
        if !query_rules.accepts(&query) {
            return invalid_request("query", &[query.as_str()], &value_refused("query", &query, query_rules));
        }
        let state = query_value(request, "state");
        if let Some(state) = state.as_deref().filter(|state| !STATES.contains(state)) {
            let message = format!("The `state` query parameter value [{state}] is not one of [{}]", STATES.join(", "));
            return invalid_request("state", &[state], &message);
        }
        let max_rules = &param(SEARCH, "max_results").rules;
        let max_results = match query_value(request, "max_results") {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(max) if max_rules.number_fits(max) => Some(usize::try_from(max).unwrap_or(0)),
                _ => {
                    let message = format!(
                        "The `max_results` query parameter value [{text}] is not {}",
                        range(max_rules.minimum, max_rules.maximum)
                    );
                    return invalid_request("max_results", &[text.as_str()], &message);
                }
            },
        };
        answer(200, &search_body(state.as_deref(), max_results))
    }
}

/// The body of `GET /2/spaces/by/creator_ids`: its `served` example.
pub fn by_creator_body() -> Value {
    served(BY_CREATOR)
}

/// Answers `GET /2/spaces/by/creator_ids` with its `served` example, whatever
/// the (valid) `user_ids` (see the module docs).
pub struct ByCreator;

impl Respond for ByCreator {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match id_list(request, BY_CREATOR) {
            Ok(_) => answer(200, &by_creator_body()),
            Err(bad_request) => *bad_request,
        }
    }
}
