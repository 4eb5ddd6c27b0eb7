//! The specs' own response examples, as regen embedded them in each module's
//! `SPEC`: every one decodes into the generated type of its response (so a
//! spec and its examples cannot drift apart), and every spec has the examples
//! the mock server serves (see "Examples the mock serves" in `specs/README.md`).

use std::path::{Path, PathBuf};

use spaces_generated::{ALL_SPECS, Auth, Example, Operation, ParamLocation, SpecFacts};

/// The recorded demo Space, "The Algorithm goes open source".
const DEMO_SPACE_ID: &str = "1jMJgLdenVjxL";

/// The live Space every spec answers for in its example `live_space`, "Late night synth jam".
const LIVE_SPACE_ID: &str = "1u8jzPde0IgxL";

/// The id a `not_found` example names, where the provider's body names one.
const MISSING_SPACE_ID: &str = "1OdKrjgmNkeKX";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("generated/ sits in the workspace root").to_path_buf()
}

fn examples() -> impl Iterator<Item = (&'static SpecFacts, &'static Operation, &'static Example)> {
    ALL_SPECS.iter().flat_map(|spec| {
        spec.operations
            .iter()
            .flat_map(move |operation| operation.examples.iter().map(move |example| (*spec, operation, example)))
    })
}

#[test]
fn every_spec_example_decodes_into_the_generated_types() {
    let mut decoded = 0;
    let mut failures = Vec::new();
    for (spec, operation, example) in examples() {
        match (example.decode)(example.body) {
            Ok(()) => decoded += 1,
            Err(error) => failures.push(format!(
                "{} {} example `{}` ({:?}): {error}",
                spec.file, operation.operation_id, example.name, example.statuses
            )),
        }
    }
    assert!(failures.is_empty(), "examples that do not decode:\n{}", failures.join("\n"));
    assert!(decoded >= 16, "only {decoded} examples found; were examples dropped from the specs?");
}

#[test]
fn every_spec_has_a_success_and_an_error_example() {
    for spec in ALL_SPECS {
        let all: Vec<&Example> = spec.operations.iter().flat_map(|operation| operation.examples).collect();
        assert!(all.iter().any(|example| example.is_success()), "{}: no success example", spec.file);
        assert!(all.iter().any(|example| !example.is_success()), "{}: no error example", spec.file);
    }
}

/// The spec's single-Space lookup: the one operation with a `not_found`
/// example, which looks a Space up by one required path or query parameter.
/// (X's multi-Space operations have no `not_found`: a missing id there is a
/// Problem inside a 200 that also carries the Spaces found.)
fn lookup(spec: &SpecFacts) -> &'static Operation {
    let with_not_found: Vec<&Operation> =
        spec.operations.iter().filter(|operation| operation.example("not_found").is_some()).collect();
    let [lookup] = with_not_found.as_slice() else {
        let ids: Vec<&str> = with_not_found.iter().map(|operation| operation.operation_id).collect();
        panic!("{}: exactly one operation (the lookup) has an example named `not_found`, found {ids:?}", spec.file);
    };
    let required: Vec<&str> = lookup.params.iter().filter(|param| param.required).map(|param| param.name).collect();
    assert_eq!(required.len(), 1, "{} {}: the lookup takes one id, not {required:?}", spec.file, lookup.operation_id);
    lookup
}

/// What the mock serves, by name: the demo Space, `live_space` (the live
/// Space), `not_found` (the requested id replacing [`MISSING_SPACE_ID`]) and
/// `unauthorized`.
#[test]
fn every_spec_has_the_examples_the_mock_serves() {
    for spec in ALL_SPECS {
        let lookup = lookup(spec);
        let demo = lookup.examples.iter().find(|example| example.is_success() && example.body.contains(DEMO_SPACE_ID));
        assert!(demo.is_some(), "{}: no success example of the demo Space {DEMO_SPACE_ID}", spec.file);

        let live =
            lookup.example("live_space").unwrap_or_else(|| panic!("{}: no example named `live_space`", spec.file));
        assert!(live.is_success(), "{}: `live_space` is declared under {:?}, not a 2xx", spec.file, live.statuses);
        assert!(live.body.contains(LIVE_SPACE_ID), "{}: `live_space` is not Space {LIVE_SPACE_ID}", spec.file);
        assert!(!live.body.contains(DEMO_SPACE_ID), "{}: `live_space` names the demo Space", spec.file);

        let not_found = lookup.example("not_found").expect("found above");
        assert!(
            not_found.is_success() || not_found.statuses.contains(&"404"),
            "{}: `not_found` is declared under {:?}: neither a 2xx nor 404",
            spec.file,
            not_found.statuses
        );
        assert!(!not_found.body.contains(DEMO_SPACE_ID), "{}: `not_found` names the demo Space", spec.file);

        let unauthorized = lookup
            .example("unauthorized")
            .unwrap_or_else(|| panic!("{}: no example named `unauthorized` beside `not_found`", spec.file));
        assert!(
            unauthorized.statuses.contains(&"401"),
            "{}: `unauthorized` is declared under {:?}, not 401",
            spec.file,
            unauthorized.statuses
        );
        assert_eq!(unauthorized.status(401), Some(401));
    }
}

#[test]
fn x_names_the_missing_id_that_the_mock_replaces() {
    let by_id = spaces_generated::x::SPEC.operation("find_space_by_id").expect("x's lookup");
    assert_eq!(by_id.operation_id, lookup(&spaces_generated::x::SPEC).operation_id);
    let not_found = by_id.example("not_found").expect("x has `not_found`");
    assert!(not_found.body.contains(MISSING_SPACE_ID), "{}", not_found.body);
    assert_eq!(not_found.status(404), Some(200), "X answers a missing Space with a 200");
}

/// The shape rules of X's multi-Space bodies, which real captures show: no
/// `null` anywhere (a missing field is omitted), and `meta.result_count`
/// counting `data` (0 with no `data` key).
fn check_multi_body(what: &str, text: &str) -> serde_json::Value {
    fn has_null(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Null => true,
            serde_json::Value::Array(items) => items.iter().any(has_null),
            serde_json::Value::Object(map) => map.values().any(has_null),
            _ => false,
        }
    }
    let body: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(!has_null(&body), "{what}: X omits missing fields, it never sends null");
    if let Some(count) = body.pointer("/meta/result_count") {
        let data = body.get("data").and_then(serde_json::Value::as_array).map_or(0, Vec::len);
        assert_eq!(count.as_u64(), Some(data as u64), "{what}: meta.result_count is not the number of Spaces");
    }
    body
}

/// X's three multi-Space operations, and the examples the mock serves for them
/// (see "Examples the mock serves" in `specs/README.md`).
#[test]
fn x_multi_space_operations() {
    use spaces_generated::x::SPEC;

    let cases = [
        ("find_spaces_by_ids", "/2/spaces", "ids", 5, false),
        ("find_spaces_by_creator_ids", "/2/spaces/by/creator_ids", "user_ids", 5, true),
        ("search_spaces", "/2/spaces/search", "query", 7, true),
    ];
    for (operation_id, path, required, param_count, has_meta) in cases {
        let operation = SPEC.operation(operation_id).unwrap_or_else(|| panic!("x has no `{operation_id}`"));
        assert_eq!((operation.method, operation.path), ("GET", path), "{operation_id}");
        let id = operation.id_param().map(|param| (param.name, param.location));
        assert_eq!(id, Some((required, ParamLocation::Query)), "{operation_id}");
        assert_eq!(operation.params.len(), param_count, "{operation_id}: its own parameters and the four field lists");
        for shared in ["space.fields", "expansions", "user.fields", "topic.fields"] {
            assert!(operation.params.iter().any(|param| param.name == shared), "{operation_id}: no `{shared}`");
        }
        assert!(operation.example("not_found").is_none(), "{operation_id}: `not_found` belongs to the lookup alone");
        let unauthorized = operation.example("unauthorized").expect("the shared error response");
        assert_eq!(unauthorized.status(401), Some(401), "{operation_id}");

        let successes: Vec<&Example> = operation.examples.iter().filter(|example| example.is_success()).collect();
        assert!(successes.len() >= 2, "{operation_id}: only {} success examples", successes.len());
        for example in successes {
            let what = format!("{operation_id} example `{}`", example.name);
            let body = check_multi_body(&what, example.body);
            if !has_meta {
                assert!(body.get("meta").is_none(), "{what}: `?ids=` sends no `meta`");
            }
        }
        if has_meta {
            let served = operation.example("served").unwrap_or_else(|| panic!("{operation_id}: no example `served`"));
            assert!(served.is_success(), "{operation_id}: `served` is not a 2xx example");
            let body: serde_json::Value = serde_json::from_str(served.body).expect("JSON");
            let data = body.get("data").and_then(serde_json::Value::as_array).expect("`served` has Spaces");
            assert!(data.len() >= 2, "{operation_id}: `served` has {} Spaces", data.len());
            let states: Vec<&str> = data.iter().filter_map(|space| space.get("state")?.as_str()).collect();
            assert!(
                states.contains(&"live") && states.contains(&"scheduled"),
                "{operation_id}: `served` has live and scheduled Spaces, so a state filter shows: {states:?}"
            );
        }
    }
}

/// `tests/fixtures/x/multi-*.json` are multi-Space bodies: they decode into the
/// generated `SpacesResponse` and keep X's shape rules.
#[test]
fn x_multi_fixtures_decode_into_the_generated_type() {
    let dir = workspace_root().join("tests/fixtures/x");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fixtures/x") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        if !(name.starts_with("multi-") && name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("fixture");
        check_multi_body(&name, &text);
        serde_json::from_str::<spaces_generated::x::types::SpacesResponse>(&text)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} multi fixtures in {}", dir.display());
}

#[test]
fn recorded_examples_are_exactly_the_fixtures() {
    let mut compared = 0;
    for spec in ALL_SPECS {
        let fixture = workspace_root().join("tests/fixtures").join(spec.provider()).join("ended-algorithm.json");
        let recorded = spec.operations.iter().find_map(|operation| operation.example("recorded_algorithm"));
        let Ok(text) = std::fs::read_to_string(&fixture) else {
            assert!(recorded.is_none(), "{}: `recorded_algorithm` without {}", spec.file, fixture.display());
            continue;
        };
        let recorded = recorded.unwrap_or_else(|| {
            panic!("{}: {} exists but the spec has no `recorded_algorithm` example", spec.file, fixture.display())
        });
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
        let embedded: serde_json::Value = serde_json::from_str(recorded.body).expect("example is JSON");
        assert_eq!(embedded, fixture, "{}: `recorded_algorithm` differs from the fixture", spec.file);
        // Same keys in the same order, too (serde_json keeps the order here).
        assert_eq!(recorded.body, serde_json::to_string(&fixture).expect("serializes"), "{}", spec.file);
        compared += 1;
    }
    assert!(compared >= 3, "only {compared} recorded examples compared");
}

#[test]
fn example_names_are_unique_within_an_operation() {
    for spec in ALL_SPECS {
        for operation in spec.operations {
            let mut names: Vec<&str> = operation.examples.iter().map(|example| example.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(names.len(), before, "{} {}: duplicate example names", spec.file, operation.operation_id);
        }
    }
}

#[test]
fn every_spec_states_an_https_server_and_is_listed_once() {
    let mut on_disk: Vec<String> = std::fs::read_dir(workspace_root().join("specs"))
        .expect("specs/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .map(|path| format!("specs/{}", path.file_name().expect("name").to_string_lossy()))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = ALL_SPECS.iter().map(|spec| spec.file).collect();
    assert_eq!(listed, on_disk, "ALL_SPECS is every spec, sorted by provider: run `cargo xtask regen`");
    for spec in ALL_SPECS {
        assert!(spec.server_url.starts_with("https://"), "{}: {}", spec.file, spec.server_url);
        assert!(!spec.operations.is_empty(), "{}", spec.file);
    }
}

/// The facts the library takes instead of restating them.
#[test]
fn facts_read_from_the_specs() {
    use spaces_generated::{aisa, socialdata, twitterapi, x};

    assert_eq!(x::SPEC.provider(), "x");
    assert_eq!(x::SPEC.server_url, "https://api.x.com");
    assert_eq!(x::SPEC.auth, Auth::Bearer);
    let lookup = x::SPEC.operation("find_space_by_id").expect("x's lookup");
    assert_eq!((lookup.method, lookup.path, lookup.path_prefix()), ("GET", "/2/spaces/{id}", "/2/spaces"));
    let id = lookup.id_param().expect("id parameter");
    assert_eq!((id.name, id.location), ("id", ParamLocation::Path));
    assert_eq!(lookup.params.len(), 5, "id and four field lists");
    let operation_ids: Vec<&str> = x::SPEC.operations.iter().map(|operation| operation.operation_id).collect();
    assert_eq!(
        operation_ids,
        [
            "find_space_by_id",
            "find_spaces_by_ids",
            "find_spaces_by_creator_ids",
            "search_spaces",
            "get_activity_subscriptions",
            "create_activity_subscription",
            "delete_activity_subscription",
            "activity_stream",
        ],
        "the lookup first, in the spec's order"
    );

    assert_eq!(socialdata::SPEC.auth, Auth::Bearer);
    let show = socialdata::SPEC.operation("get_space").expect("socialdata's lookup");
    assert_eq!(show.path, "/twitter/space/{space_id}");
    assert_eq!(show.id_param().map(|param| (param.name, param.location)), Some(("space_id", ParamLocation::Path)));
    let not_found = show.example("not_found").expect("not_found");
    assert_eq!(not_found.status(404), Some(404), "served as a 404");

    assert_eq!(aisa::SPEC.base_path(), "/apis/v1");
    assert_eq!(aisa::SPEC.operations[0].id_param().map(|param| param.name), Some("space_id"));

    assert_eq!(twitterapi::SPEC.auth, Auth::ApiKeyHeader("x-api-key"));
    assert_eq!(twitterapi::SPEC.base_path(), "");
}

/// The rules of X's requests, as the library reads them: every limit the
/// spec states on a parameter, and its pattern as a matcher.
#[test]
fn x_request_rules_are_facts_with_a_matcher() {
    use spaces_generated::{ParamRules, x};

    let param = |operation_id: &str, name: &str| {
        x::SPEC
            .operation(operation_id)
            .and_then(|operation| operation.param(name))
            .unwrap_or_else(|| panic!("x: {operation_id} has no {name}"))
    };

    let id = &param("find_space_by_id", "id").rules;
    assert_eq!(id.pattern, Some("^[a-zA-Z0-9]{1,13}$"));
    for good in ["1jMJgLdenVjxL", "1", "abcDEF0123456"] {
        assert!(id.matches(good) && id.accepts(good), "{good}");
    }
    // ECMA-262 `[a-zA-Z0-9]` and `$`: ASCII only, no trailing newline.
    for bad in ["", "not-an-id!", "1jMJgLdenVjxLx", "1jMJgLdenVjx\u{e9}", "1jMJgLdenVjxL\n", "\u{661}"] {
        assert!(!id.matches(bad), "{bad:?}");
    }

    let ids = param("find_spaces_by_ids", "ids");
    assert_eq!((ids.rules.min_items, ids.max_items()), (Some(1), Some(100)));
    assert_eq!(ids.rules.pattern, id.pattern, "the batch's ids are Space ids");
    assert!(!ids.rules.count_fits(0) && ids.rules.count_fits(1) && ids.rules.count_fits(100));
    assert!(!ids.rules.count_fits(101));

    let user_ids = param("find_spaces_by_creator_ids", "user_ids");
    assert_eq!((user_ids.rules.min_items, user_ids.max_items()), (Some(1), Some(100)));
    assert_eq!(user_ids.rules.pattern, Some("^[0-9]{1,19}$"));
    assert!(user_ids.rules.matches("2244994945") && user_ids.rules.matches("1234567890123456789"));
    for bad in ["alice", "12345678901234567890", "-1", "\u{663}"] {
        assert!(!user_ids.rules.matches(bad), "{bad:?}");
    }

    let query = &param("search_spaces", "query").rules;
    assert_eq!((query.min_length, query.max_length, query.pattern), (Some(1), Some(2048), None));
    // Characters, not bytes: 2048 two-byte characters fit.
    assert!(query.accepts(&"\u{e9}".repeat(2048)) && !query.accepts(&"\u{e9}".repeat(2049)) && !query.accepts(""));

    let max_results = &param("search_spaces", "max_results").rules;
    assert_eq!((max_results.minimum, max_results.maximum), (Some(1), Some(100)));
    assert!(!max_results.number_fits(0) && max_results.number_fits(1) && max_results.number_fits(100));
    assert!(!max_results.number_fits(101));

    assert_eq!(param("search_spaces", "state").rules, ParamRules::NONE, "an enum, no other rule");
    assert!(ParamRules::NONE.accepts("anything") && ParamRules::NONE.count_fits(usize::MAX));
    assert!(x::SPEC.operation("search_spaces").and_then(|operation| operation.param("nope")).is_none());

    // A limit a static can take at compile time.
    const BATCH: &spaces_generated::Operation = &x::SPEC.operations[1];
    const MAX_IDS: Option<usize> = match BATCH.param("ids") {
        Some(ids) => ids.max_items(),
        None => None,
    };
    assert_eq!((BATCH.operation_id, MAX_IDS), ("find_spaces_by_ids", Some(100)));
}

/// X's Activity API operations (`spaces::Activity` and the mock's
/// `activity` module rely on these): their paths and rules, and the examples
/// the mock builds its stream from.
#[test]
fn x_activity_operations() {
    use spaces_generated::x::SPEC;

    let cases = [
        ("get_activity_subscriptions", "GET", "/2/activity/subscriptions", &["max_results", "pagination_token"][..]),
        ("create_activity_subscription", "POST", "/2/activity/subscriptions", &[][..]),
        ("delete_activity_subscription", "DELETE", "/2/activity/subscriptions/{subscription_id}", &["subscription_id"]),
        ("activity_stream", "GET", "/2/activity/stream", &["backfill_minutes", "start_time", "end_time"]),
    ];
    for (operation_id, method, path, params) in cases {
        let operation = SPEC.operation(operation_id).unwrap_or_else(|| panic!("x has no `{operation_id}`"));
        assert_eq!((operation.method, operation.path), (method, path), "{operation_id}");
        let names: Vec<&str> = operation.params.iter().map(|param| param.name).collect();
        assert_eq!(names, params, "{operation_id}");
        assert!(operation.example("not_found").is_none(), "{operation_id}: `not_found` belongs to the lookup alone");
        let unauthorized = operation.example("unauthorized").expect("every operation has `unauthorized`");
        assert_eq!(unauthorized.status(401), Some(401), "{operation_id}");
        assert!(operation.examples.iter().any(Example::is_success), "{operation_id}: no success example");
    }

    let delete = SPEC.operation("delete_activity_subscription").expect("delete");
    let id = delete.id_param().expect("subscription_id");
    assert_eq!((id.location, id.rules.pattern), (ParamLocation::Path, Some("^[0-9]{1,19}$")));
    let list = SPEC.operation("get_activity_subscriptions").expect("list");
    let max_results = &list.param("max_results").expect("max_results").rules;
    assert_eq!((max_results.minimum, max_results.maximum), (Some(1), Some(1000)));
    let stream = SPEC.operation("activity_stream").expect("stream");
    let backfill = &stream.param("backfill_minutes").expect("backfill_minutes").rules;
    assert_eq!((backfill.minimum, backfill.maximum), (Some(0), Some(5)));

    // Both spellings of the inner event type, a negative event_uuid, `{}`,
    // another subscription's event and an in-stream error line: what the
    // stream must tolerate, each as one line.
    let body = |name: &str| -> serde_json::Value {
        let example = stream.example(name).unwrap_or_else(|| panic!("activity_stream has no `{name}`"));
        assert!(example.is_success(), "{name}: a line of the 200 stream");
        serde_json::from_str(example.body).expect("JSON")
    };
    let inner = |name: &str| body(name).pointer("/data/payload/event_type").cloned();
    assert_eq!(inner("spaces_start"), Some("spaces_start".into()));
    assert_eq!(inner("spaces_end"), Some("spaces_end".into()));
    assert_eq!(inner("spaces_start_prose"), Some("start".into()));
    assert!(body("spaces_end")["data"]["event_uuid"].as_str().is_some_and(|uuid| uuid.starts_with('-')));
    assert_eq!(body("empty_object"), serde_json::json!({}));
    assert_eq!(body("other_subscription")["data"]["event_type"], "profile.update.bio");
    assert_eq!(body("operational_disconnect")["errors"][0]["title"], "operational-disconnect");
    let mock_base = body("spaces_start_prose");
    for pointer in ["/data/event_uuid", "/data/filter/user_id", "/data/tag", "/data/payload/broadcast_id"] {
        assert!(mock_base.pointer(pointer).is_some_and(serde_json::Value::is_string), "{pointer}");
    }
}
