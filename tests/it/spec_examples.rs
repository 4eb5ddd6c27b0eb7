//! Every example embedded in a spec decodes into the generated type for its
//! response, so a spec and its examples cannot drift apart.

use serde::de::DeserializeOwned;
use serde_json::Value;
use spaces_generated::{aisa, socialdata, twitterapi, x};

use crate::support::spec_files;

/// Decodes `example` as the generated type of `provider`'s success (2xx) or
/// error response.
fn decode(provider: &str, success: bool, example: &Value) -> Result<(), String> {
    fn check<T: DeserializeOwned>(example: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(example.clone()).map(drop).map_err(|error| error.to_string())
    }
    match (provider, success) {
        ("x", true) => check::<x::types::SpaceLookupResponse>(example),
        ("x", false) => check::<x::types::ErrorResponse>(example),
        ("socialdata", true) => check::<socialdata::types::SpaceShowResponse>(example),
        ("socialdata", false) => check::<socialdata::types::ErrorResponse>(example),
        ("aisa", _) => check::<aisa::types::SpaceDetailResponse>(example),
        ("twitterapi", true) => check::<twitterapi::types::SpaceDetailResponse>(example),
        ("twitterapi", false) => check::<twitterapi::types::ErrorResponse>(example),
        _ => Err(format!("no generated type known for provider `{provider}`: add it to this table")),
    }
}

/// (status, example name, example value) for every example of every response.
fn examples(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (_, item) in doc["paths"].as_object().expect("paths").iter() {
        for (_, operation) in item.as_object().expect("path item") {
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                let response = match response.get("$ref").and_then(Value::as_str) {
                    Some(reference) => doc.pointer(&reference[1..]).expect("response $ref resolves"),
                    None => response,
                };
                for media in response["content"].as_object().into_iter().flatten().map(|(_, media)| media) {
                    for (name, example) in media["examples"].as_object().into_iter().flatten() {
                        found.push((status.clone(), name.clone(), example["value"].clone()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_spec_example_decodes_into_the_generated_types() {
    let mut decoded = 0;
    let mut failures = Vec::new();
    for (provider, path) in spec_files() {
        let text = std::fs::read_to_string(&path).expect("spec is readable");
        let doc: Value = serde_yaml::from_str(&text).expect("spec is YAML");
        let examples = examples(&doc);
        assert!(
            examples.iter().any(|(status, _, _)| status.starts_with('2')),
            "{provider}: the spec embeds no success example"
        );
        assert!(
            examples.iter().any(|(status, _, _)| !status.starts_with('2')),
            "{provider}: the spec embeds no error example"
        );
        for (status, name, value) in examples {
            match decode(&provider, status.starts_with('2'), &value) {
                Ok(()) => decoded += 1,
                Err(error) => failures.push(format!("{provider} {status} example `{name}`: {error}")),
            }
        }
    }
    assert!(failures.is_empty(), "examples that do not decode:\n{}", failures.join("\n"));
    assert!(decoded >= 9, "only {decoded} examples found; were examples dropped from the specs?");
}
