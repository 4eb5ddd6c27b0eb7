//! The specs' own response examples, as regen embedded them in each module's
//! `SPEC`: every one decodes into the generated type of its response (so a
//! spec and its examples cannot drift apart), and every spec has the examples
//! the mock server serves (see "Examples the mock serves" in `specs/README.md`).

use std::path::{Path, PathBuf};

use spaces_generated::{ALL_SPECS, Auth, Example, Operation, ParamLocation, SpecFacts};

/// The recorded demo Space, "The Algorithm goes open source".
const DEMO_SPACE_ID: &str = "1jMJgLdenVjxL";

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

/// What the mock serves, by name: the demo Space, `not_found` (the requested
/// id replacing [`MISSING_SPACE_ID`]) and `unauthorized`.
#[test]
fn every_spec_has_the_examples_the_mock_serves() {
    for spec in ALL_SPECS {
        let lookup = spec
            .operations
            .iter()
            .find(|operation| operation.example("not_found").is_some())
            .unwrap_or_else(|| panic!("{}: no operation has an example named `not_found`", spec.file));
        let demo = lookup.examples.iter().find(|example| example.is_success() && example.body.contains(DEMO_SPACE_ID));
        assert!(demo.is_some(), "{}: no success example of the demo Space {DEMO_SPACE_ID}", spec.file);

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
    let not_found = spaces_generated::x::SPEC.operations[0].example("not_found").expect("x has `not_found`");
    assert!(not_found.body.contains(MISSING_SPACE_ID), "{}", not_found.body);
    assert_eq!(not_found.status(404), Some(200), "X answers a missing Space with a 200");
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
        assert!(!spec.server_url.ends_with('/'), "{}: {}", spec.file, spec.server_url);
        assert!(!spec.title.is_empty(), "{}", spec.file);
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

    assert_eq!(socialdata::SPEC.auth, Auth::Bearer);
    let show = socialdata::SPEC.operation("get_space").expect("socialdata's lookup");
    assert_eq!(show.path, "/twitter/spaces/show");
    assert_eq!(show.id_param().map(|param| (param.name, param.location)), Some(("id", ParamLocation::Query)));
    let not_found = show.example("not_found").expect("not_found");
    assert_eq!(not_found.status(404), Some(404), "served as a 404");

    assert_eq!(aisa::SPEC.base_path(), "/apis/v1");
    assert_eq!(aisa::SPEC.operations[0].id_param().map(|param| param.name), Some("space_id"));

    assert_eq!(twitterapi::SPEC.auth, Auth::ApiKeyHeader("x-api-key"));
    assert_eq!(twitterapi::SPEC.base_path(), "");
}
