//! Spec lints: shapes progenitor rejects, panics on, or turns into code that
//! breaks on real provider responses. Each problem names the JSON pointer of
//! the offending node so the maintainer can go straight to it.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::spec::{Spec, escape_pointer, operations, resolve};

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// Runs every lint and returns all problems, in document order per lint.
pub fn lint(spec: &Spec) -> Vec<Problem> {
    let doc = &spec.value;
    let mut problems = Vec::new();
    check_version(doc, &mut problems);
    check_refs(doc, "", &mut problems);
    check_additional_properties(doc, "", &mut problems);
    for (pointer, _, _, operation) in operations(doc) {
        check_operation_id(&pointer, operation, &mut problems);
        check_error_schemas(doc, &pointer, operation, &mut problems);
        check_response_enums(doc, &pointer, operation, &mut problems);
        check_list_parameters(doc, &pointer, operation, &mut problems);
    }
    problems
}

pub(crate) fn problem(problems: &mut Vec<Problem>, pointer: impl Into<String>, message: impl Into<String>) {
    problems.push(Problem { pointer: pointer.into(), message: message.into() });
}

/// progenitor reads OpenAPI 3.0 only; a 3.1 document fails deep inside it.
fn check_version(doc: &Value, problems: &mut Vec<Problem>) {
    match doc.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with("3.0.") => {}
        Some(version) => problem(
            problems,
            "/openapi",
            format!("OpenAPI version `{version}` is not 3.0.x; progenitor reads 3.0 only"),
        ),
        None => problem(problems, "/openapi", "missing `openapi: 3.0.x` version field"),
    }
}

/// Every local `$ref` must point at something, or generation fails with a
/// message that does not say where.
fn check_refs(node: &Value, pointer: &str, problems: &mut Vec<Problem>) {
    check_refs_in(node, node, pointer, problems);
}

fn check_refs_in(doc: &Value, node: &Value, pointer: &str, problems: &mut Vec<Problem>) {
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", escape_pointer(key));
                if key == "$ref" {
                    if let Some(reference) = child.as_str() {
                        if !reference.starts_with('#') {
                            problem(
                                problems,
                                child_pointer,
                                format!("`$ref: {reference}` is not a local reference; keep each spec in one file"),
                            );
                        } else if resolve(doc, reference).is_none() {
                            problem(problems, child_pointer, format!("`$ref: {reference}` points at nothing"));
                        }
                    }
                } else {
                    check_refs_in(doc, child, &child_pointer, problems);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                check_refs_in(doc, child, &format!("{pointer}/{index}"), problems);
            }
        }
        _ => {}
    }
}

/// `additionalProperties: false` becomes `deny_unknown_fields`: the first new
/// field a provider adds would break every response.
fn check_additional_properties(node: &Value, pointer: &str, problems: &mut Vec<Problem>) {
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", escape_pointer(key));
                if key == "additionalProperties" && child == &Value::Bool(false) {
                    problem(
                        problems,
                        child_pointer,
                        "`additionalProperties: false` makes any new provider field a decode error; remove it",
                    );
                } else if key != "examples" && key != "example" {
                    check_additional_properties(child, &child_pointer, problems);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                check_additional_properties(child, &format!("{pointer}/{index}"), problems);
            }
        }
        _ => {}
    }
}

/// progenitor names methods after `operationId` and rejects operations
/// without one; snake_case keeps the generated method names as written.
fn check_operation_id(pointer: &str, operation: &Value, problems: &mut Vec<Problem>) {
    match operation.get("operationId").and_then(Value::as_str) {
        None => problem(problems, pointer, "operation has no `operationId`"),
        Some(id) if !is_snake_case(id) => {
            problem(problems, format!("{pointer}/operationId"), format!("operationId `{id}` is not snake_case"))
        }
        Some(_) => {}
    }
}

pub(crate) fn is_snake_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Each response's (pointer, value), with `$ref`s to `components/responses` followed.
fn responses<'a>(doc: &'a Value, pointer: &str, operation: &'a Value) -> Vec<(String, String, &'a Value)> {
    let Some(map) = operation.get("responses").and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .map(|(status, response)| {
            let response_pointer = format!("{pointer}/responses/{}", escape_pointer(status));
            let resolved = response
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| resolve(doc, reference))
                .map_or(response, |(_, value)| value);
            (status.clone(), response_pointer, resolved)
        })
        .collect()
}

/// The schemas of one response's content, by (pointer suffix, schema).
fn content_schemas(response: &Value) -> Vec<(String, &Value)> {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Vec::new();
    };
    content
        .iter()
        .filter_map(|(media_type, media)| {
            media.get("schema").map(|schema| (format!("/content/{}/schema", escape_pointer(media_type)), schema))
        })
        .collect()
}

/// progenitor gives an operation one error type: all non-2xx responses must
/// share one schema (it panics otherwise), and `default` counts as both.
fn check_error_schemas(doc: &Value, pointer: &str, operation: &Value, problems: &mut Vec<Problem>) {
    let mut seen: Option<(String, String)> = None;
    for (status, response_pointer, response) in responses(doc, pointer, operation) {
        if status.starts_with('2') {
            continue;
        }
        for (suffix, schema) in content_schemas(response) {
            let identity = schema.get("$ref").and_then(Value::as_str).map_or_else(|| schema.to_string(), str::to_owned);
            match &seen {
                None => seen = Some((identity, format!("{response_pointer}{suffix}"))),
                Some((first, first_pointer)) if *first != identity => problem(
                    problems,
                    format!("{response_pointer}{suffix}"),
                    format!(
                        "more than one error schema on this operation (the first is at {first_pointer}); use one error schema for every error status"
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}

/// A closed `enum` in a response becomes a closed Rust enum: one value the
/// provider adds later fails the whole response. Responses must use open strings.
fn check_response_enums(doc: &Value, pointer: &str, operation: &Value, problems: &mut Vec<Problem>) {
    let mut visited = BTreeSet::new();
    for (_, response_pointer, response) in responses(doc, pointer, operation) {
        for (suffix, schema) in content_schemas(response) {
            find_enums(doc, schema, &format!("{response_pointer}{suffix}"), &mut visited, problems);
        }
    }
}

fn find_enums(doc: &Value, schema: &Value, pointer: &str, visited: &mut BTreeSet<String>, problems: &mut Vec<Problem>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if let Some((target_pointer, target)) = resolve(doc, reference)
            && visited.insert(target_pointer.clone())
        {
            find_enums(doc, target, &target_pointer, visited, problems);
        }
        return;
    }
    if schema.get("enum").is_some() {
        problem(
            problems,
            format!("{pointer}/enum"),
            "closed `enum` in a response schema: an unknown value would fail the whole response; use an open string and describe the values",
        );
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            find_enums(doc, property, &format!("{pointer}/properties/{}", escape_pointer(name)), visited, problems);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = schema.get(key).filter(|child| child.is_object()) {
            find_enums(doc, child, &format!("{pointer}/{key}"), visited, problems);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (index, child) in schema.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            find_enums(doc, child, &format!("{pointer}/{key}/{index}"), visited, problems);
        }
    }
}

/// progenitor always sends query arrays as repeated keys and ignores
/// `explode: false`. regen honours it by swapping the list schema for a type
/// that joins with commas, which needs the list and its items to be named.
fn check_list_parameters(doc: &Value, pointer: &str, operation: &Value, problems: &mut Vec<Problem>) {
    for (index, parameter) in operation.get("parameters").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if parameter.get("explode") != Some(&Value::Bool(false)) {
            continue;
        }
        if comma_list(doc, parameter).is_none() {
            problem(
                problems,
                format!("{pointer}/parameters/{index}/schema"),
                "an `explode: false` parameter's schema must be a `$ref` to a named array schema whose `items` is a `$ref`",
            );
        }
    }
}

/// For an `explode: false` parameter: the (list schema name, item schema name).
pub fn comma_list(doc: &Value, parameter: &Value) -> Option<(String, String)> {
    let list_ref = parameter.get("schema")?.get("$ref")?.as_str()?;
    let list_name = list_ref.strip_prefix("#/components/schemas/")?;
    let (_, list) = resolve(doc, list_ref)?;
    let item_ref = list.get("items")?.get("$ref")?.as_str()?;
    let item_name = item_ref.strip_prefix("#/components/schemas/")?;
    Some((list_name.to_owned(), item_name.to_owned()))
}
