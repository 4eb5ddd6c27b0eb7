//! The facts regen reads out of each spec and appends to its generated module
//! as `pub static SPEC: crate::SpecFacts` (the types are hand-written in
//! `generated/src/facts.rs`): the API root, how the token is sent, each
//! operation's method, path and parameters (with the rules of each
//! parameter's schema: `minItems`, `maxItems`, `minLength`, `maxLength`,
//! `minimum`, `maximum`, `pattern`), and every response example with a
//! function decoding it into the generated type of its response.
//!
//! Facts are read from the spec as written, so they keep the keywords
//! `generate` takes out of progenitor's copy (see `generate::for_progenitor`).
//!
//! Reading them is also a lint: a spec whose auth, response schemas or
//! parameter rules regen cannot state as facts fails with the JSON pointer of
//! the problem.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::lint::{Problem, problem};
use crate::spec::{Spec, escape_pointer, operations, resolve};

/// Everything `SPEC` holds, read from one spec.
#[derive(Debug)]
pub struct Facts {
    pub file: String,
    pub title: String,
    pub server_url: String,
    pub auth: Auth,
    pub operations: Vec<Operation>,
}

/// How the spec's one security scheme sends the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Bearer,
    /// The header's name, lowercased.
    ApiKeyHeader(String),
}

#[derive(Debug)]
pub struct Operation {
    pub operation_id: String,
    pub method: String,
    pub path: String,
    pub params: Vec<Param>,
    pub examples: Vec<Example>,
}

#[derive(Debug)]
pub struct Param {
    pub name: String,
    /// The `crate::ParamLocation` variant: `Path`, `Query` or `Header`.
    pub location: &'static str,
    pub required: bool,
    pub rules: Rules,
}

/// The rules of a parameter's schema (`crate::ParamRules`). For an array,
/// `min_items`/`max_items` are the list's and the rest are its `items`'.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rules {
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub pattern: Option<String>,
}

#[derive(Debug)]
pub struct Example {
    pub name: String,
    /// The status keys it is declared under, in spec order.
    pub statuses: Vec<String>,
    /// The example's value as compact JSON.
    pub body: String,
    /// The response schema's component name (`#/components/schemas/<name>`).
    pub schema: String,
    /// Where the schema is referenced, for errors about it.
    pub schema_pointer: String,
    /// Which resolved response and media type it belongs to (to merge the
    /// statuses that share one `$ref` response).
    key: (String, String),
}

/// Reads the facts, or every problem that stops regen from stating them.
///
/// Problems other lints already report (a missing `operationId`, a `$ref` to
/// nothing) are skipped here rather than reported twice.
pub fn read(spec: &Spec) -> Result<Facts, Vec<Problem>> {
    let doc = &spec.value;
    let mut problems = Vec::new();
    let title = read_title(doc).map_err(|found| problems.push(found)).unwrap_or_default();
    let server_url = match doc.pointer("/servers/0/url").and_then(Value::as_str) {
        Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => {
            problem(
                &mut problems,
                "/servers",
                "no `servers[0].url`: the production API root is a fact the client needs",
            );
            String::new()
        }
    };
    let auth = auth(doc).map_err(|found| problems.push(found)).ok();
    let mut found_operations = Vec::new();
    for (pointer, method, path, operation) in operations(doc) {
        let Some(operation_id) = operation.get("operationId").and_then(Value::as_str) else {
            continue; // `lint::check_operation_id` reports it.
        };
        let params = params(doc, &pointer, path, operation, &mut problems);
        let examples = examples(doc, &pointer, operation, &mut problems);
        found_operations.push(Operation {
            operation_id: operation_id.to_owned(),
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            params,
            examples,
        });
    }
    // A shared response reached from several statuses reports its problem once.
    let mut seen = BTreeSet::new();
    problems.retain(|found| seen.insert(found.to_string()));
    match auth {
        Some(auth) if problems.is_empty() => Ok(Facts {
            file: spec.display_path.display().to_string().replace('\\', "/"),
            title,
            server_url,
            auth,
            operations: found_operations,
        }),
        _ => Err(problems),
    }
}

/// Just the spec's `info.title` (for a spec regen does not generate this time).
pub fn title(spec: &Spec) -> anyhow::Result<String> {
    read_title(&spec.value).map_err(|problem| anyhow::anyhow!("{}: {problem}", spec.display_path.display()))
}

fn read_title(doc: &Value) -> Result<String, Problem> {
    match doc.pointer("/info/title").and_then(Value::as_str) {
        Some(title) if !title.trim().is_empty() => Ok(title.trim().to_owned()),
        _ => Err(Problem {
            pointer: "/info/title".to_owned(),
            message: "missing `info.title` (it documents the generated module)".to_owned(),
        }),
    }
}

const SUPPORTED_AUTH: &str = "regen knows `type: http` with `scheme: bearer`, and `type: apiKey` with `in: header`";

/// The auth of the single entry of the top-level `security`.
fn auth(doc: &Value) -> Result<Auth, Problem> {
    let fail = |pointer: &str, message: String| Problem { pointer: pointer.to_owned(), message };
    let entries = doc.get("security").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let [entry] = entries else {
        return Err(fail(
            "/security",
            format!(
                "top-level `security` must list exactly one scheme (found {}); the client sends one token one way",
                entries.len()
            ),
        ));
    };
    let names: Vec<&String> = entry.as_object().map(|map| map.keys().collect()).unwrap_or_default();
    let [name] = names.as_slice() else {
        return Err(fail("/security/0", "the security requirement must name exactly one scheme".to_owned()));
    };
    let scheme_pointer = format!("/components/securitySchemes/{}", escape_pointer(name));
    let Some(mut scheme) = doc.pointer(&scheme_pointer) else {
        return Err(fail(
            &format!("/security/0/{}", escape_pointer(name)),
            format!("security scheme `{name}` is not defined in `components.securitySchemes`"),
        ));
    };
    if let Some(reference) = scheme.get("$ref").and_then(Value::as_str) {
        match resolve(doc, reference) {
            Some((_, target)) => scheme = target,
            None => return Err(fail(&scheme_pointer, format!("`$ref: {reference}` points at nothing"))),
        }
    }
    let field = |key: &str| scheme.get(key).and_then(Value::as_str).unwrap_or("");
    match (field("type"), field("scheme").to_ascii_lowercase().as_str(), field("in"), field("name")) {
        ("http", "bearer", _, _) => Ok(Auth::Bearer),
        ("apiKey", _, "header", header) if !header.is_empty() => Ok(Auth::ApiKeyHeader(header.to_ascii_lowercase())),
        (kind, http_scheme, location, _) => {
            let described = match kind {
                "http" => format!("`type: http` with `scheme: {http_scheme}`"),
                "apiKey" => format!("`type: apiKey` in `{location}`"),
                "" => "a scheme without `type`".to_owned(),
                other => format!("`type: {other}`"),
            };
            Err(fail(&scheme_pointer, format!("security scheme {described} is not supported; {SUPPORTED_AUTH}")))
        }
    }
}

/// Follows a `$ref` once (a local one; `lint::check_refs` reports the rest).
fn follow<'a>(doc: &'a Value, node: &'a Value) -> Option<&'a Value> {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(doc, reference).map(|(_, target)| target),
        None => Some(node),
    }
}

/// The path item's parameters then the operation's (which override a
/// path-level one with the same name and location), `$ref`s resolved.
fn params(doc: &Value, pointer: &str, path: &str, operation: &Value, problems: &mut Vec<Problem>) -> Vec<Param> {
    let path_pointer = format!("/paths/{}", escape_pointer(path));
    let path_level = doc.pointer(&format!("{path_pointer}/parameters")).and_then(Value::as_array);
    let operation_level = operation.get("parameters").and_then(Value::as_array);
    let mut found: Vec<Param> = Vec::new();
    for (list_pointer, list) in [(path_pointer, path_level), (pointer.to_owned(), operation_level)] {
        for (index, parameter) in list.into_iter().flatten().enumerate() {
            let Some(parameter) = follow(doc, parameter) else { continue };
            let here = format!("{list_pointer}/parameters/{index}");
            let Some(name) = parameter.get("name").and_then(Value::as_str) else {
                problem(problems, here, "parameter has no `name`");
                continue;
            };
            let location = match parameter.get("in").and_then(Value::as_str) {
                Some("path") => "Path",
                Some("query") => "Query",
                Some("header") => "Header",
                other => {
                    let found = other.map_or_else(|| "no `in`".to_owned(), |other| format!("`in: {other}`"));
                    problem(
                        problems,
                        format!("{here}/in"),
                        format!("parameter `{name}` has {found}; regen knows path, query and header parameters"),
                    );
                    continue;
                }
            };
            let required = parameter.get("required").and_then(Value::as_bool).unwrap_or(false);
            let rules = match parameter.get("schema") {
                Some(schema) => rules(doc, schema, &format!("{here}/schema"), problems),
                None => Rules::default(),
            };
            let param = Param { name: name.to_owned(), location, required, rules };
            match found.iter_mut().find(|known| known.name == param.name && known.location == param.location) {
                Some(known) => *known = param,
                None => found.push(param),
            }
        }
    }
    found
}

/// A `$ref` chain followed to its end: (the pointer of what it reached, the
/// schema). `None` for a `$ref` to nothing (`lint::check_refs` reports it) or
/// a cycle of `$ref`s.
fn resolve_schema<'a>(doc: &'a Value, schema: &'a Value, pointer: &str) -> Option<(String, &'a Value)> {
    let (mut pointer, mut schema) = (pointer.to_owned(), schema);
    for _ in 0..32 {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            return Some((pointer, schema));
        };
        (pointer, schema) = resolve(doc, reference)?;
    }
    None
}

/// Where a parameter's rules are read: (its schema, `$ref`s followed; the
/// schema of each value: the `items` of an array, else the schema itself).
type RuleSchemas<'a> = (Option<(String, &'a Value)>, Option<(String, &'a Value)>);

fn rule_schemas<'a>(doc: &'a Value, schema: &'a Value, pointer: &str) -> RuleSchemas<'a> {
    let Some((pointer, schema)) = resolve_schema(doc, schema, pointer) else { return (None, None) };
    let value = match schema.get("items") {
        Some(items) => resolve_schema(doc, items, &format!("{pointer}/items")),
        None => Some((pointer.clone(), schema)),
    };
    (Some((pointer, schema)), value)
}

/// Every parameter of the spec (path-level and per operation, `$ref`s
/// followed): (its pointer, the parameter object).
fn all_parameters(doc: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    let paths = doc.get("paths").and_then(Value::as_object).into_iter().flatten();
    for (path, item) in paths {
        let path_pointer = format!("/paths/{}", escape_pointer(path));
        let mut lists = vec![(path_pointer.clone(), item.get("parameters"))];
        for method in crate::spec::METHODS {
            if let Some(operation) = item.get(method) {
                lists.push((format!("{path_pointer}/{method}"), operation.get("parameters")));
            }
        }
        for (pointer, list) in lists {
            for (index, parameter) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
                if let Some(parameter) = follow(doc, parameter) {
                    found.push((format!("{pointer}/parameters/{index}"), parameter));
                }
            }
        }
    }
    found
}

/// The pointers of every schema whose keywords state what one parameter
/// value must be (each value's schema, see [`rule_schemas`]): where
/// `generate::for_progenitor` takes out the keywords progenitor mishandles.
/// The facts are read from the spec itself, so they keep those keywords.
pub fn value_schemas(doc: &Value) -> BTreeSet<String> {
    all_parameters(doc)
        .into_iter()
        .filter_map(|(pointer, parameter)| {
            let schema = parameter.get("schema")?;
            rule_schemas(doc, schema, &format!("{pointer}/schema")).1.map(|(pointer, _)| pointer)
        })
        .collect()
}

/// The rules of one parameter schema (see [`Rules`]). A keyword regen cannot
/// state as a fact is a problem at its pointer: a bound that is not an
/// integer, an exclusive bound, a `pattern` that is not an ECMA-262 regular
/// expression, or a minimum above its maximum.
fn rules(doc: &Value, schema: &Value, pointer: &str, problems: &mut Vec<Problem>) -> Rules {
    let mut rules = Rules::default();
    let (list_schema, value_schema) = rule_schemas(doc, schema, pointer);
    let Some((pointer, schema)) = list_schema else { return rules };
    if schema.get("items").is_some() {
        rules.min_items = count(schema, &pointer, "minItems", problems);
        rules.max_items = count(schema, &pointer, "maxItems", problems);
    }
    if let Some((pointer, schema)) = value_schema {
        rules.min_length = count(schema, &pointer, "minLength", problems);
        rules.max_length = count(schema, &pointer, "maxLength", problems);
        rules.minimum = bound(schema, &pointer, "minimum", "exclusiveMinimum", problems);
        rules.maximum = bound(schema, &pointer, "maximum", "exclusiveMaximum", problems);
        rules.pattern = pattern(schema, &pointer, problems);
        for (low, high, min, max) in [
            ("minLength", "maxLength", rules.min_length.map(i128::from), rules.max_length.map(i128::from)),
            ("minimum", "maximum", rules.minimum.map(i128::from), rules.maximum.map(i128::from)),
        ] {
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                problem(problems, format!("{pointer}/{low}"), format!("`{low}: {min}` is above `{high}: {max}`"));
            }
        }
    }
    if let (Some(min), Some(max)) = (rules.min_items, rules.max_items)
        && min > max
    {
        problem(problems, format!("{pointer}/minItems"), format!("`minItems: {min}` is above `maxItems: {max}`"));
    }
    rules
}

/// A count keyword (`maxItems`, `minLength`, ...): a non-negative integer.
fn count(schema: &Value, pointer: &str, key: &str, problems: &mut Vec<Problem>) -> Option<u64> {
    let value = schema.get(key)?;
    let found = value.as_u64().or_else(|| value.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0).map(|n| n as u64));
    if found.is_none() {
        problem(problems, format!("{pointer}/{key}"), format!("`{key}: {value}` is not a non-negative integer"));
    }
    found
}

/// `minimum`/`maximum`: an integer, inclusive (regen states no exclusive bound).
fn bound(schema: &Value, pointer: &str, key: &str, exclusive_key: &str, problems: &mut Vec<Problem>) -> Option<i64> {
    if schema.get(exclusive_key).is_some_and(|exclusive| exclusive != &Value::Bool(false)) {
        problem(
            problems,
            format!("{pointer}/{exclusive_key}"),
            format!("`{exclusive_key}`: regen states inclusive bounds only; write the inclusive `{key}`"),
        );
    }
    let value = schema.get(key)?;
    let found = value.as_i64().or_else(|| value.as_f64().filter(|n| n.fract() == 0.0).map(|n| n as i64));
    if found.is_none() {
        problem(problems, format!("{pointer}/{key}"), format!("`{key}: {value}` is not an integer"));
    }
    found
}

/// `pattern`: checked to compile as the generated crate will compile it
/// (`regress`, ECMA-262, Unicode mode), so `ParamRules::matches` never meets
/// a pattern it cannot use.
fn pattern(schema: &Value, pointer: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let value = schema.get("pattern")?;
    let Some(text) = value.as_str() else {
        problem(problems, format!("{pointer}/pattern"), "`pattern` is not a string");
        return None;
    };
    if let Err(error) = regress::Regex::with_flags(text, "u") {
        problem(
            problems,
            format!("{pointer}/pattern"),
            format!("`pattern: {text}` is not an ECMA-262 regular expression: {error}"),
        );
        return None;
    }
    Some(text.to_owned())
}

/// Every example of every response, one per (resolved response, media type,
/// name), listing every status that reaches it.
fn examples(doc: &Value, pointer: &str, operation: &Value, problems: &mut Vec<Problem>) -> Vec<Example> {
    let mut found: Vec<Example> = Vec::new();
    let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
        return found;
    };
    for (status, response) in responses {
        if status.starts_with("x-") {
            continue;
        }
        let status_pointer = format!("{pointer}/responses/{}", escape_pointer(status));
        // A shared response is identified by what it references, so its
        // examples are listed once with all the statuses that use it.
        let (response_pointer, response) = match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => match resolve(doc, reference) {
                Some(resolved) => resolved,
                None => continue,
            },
            None => (status_pointer.clone(), response),
        };
        let Some(content) = response.get("content").and_then(Value::as_object) else { continue };
        for (media_type, media) in content {
            let media_pointer = format!("{response_pointer}/content/{}", escape_pointer(media_type));
            let schema_pointer = format!("{media_pointer}/schema");
            let schema = match media.get("schema").map(|schema| schema.get("$ref").and_then(Value::as_str)) {
                Some(Some(reference)) if reference.starts_with("#/components/schemas/") => {
                    reference.trim_start_matches("#/components/schemas/").to_owned()
                }
                Some(_) => {
                    problem(
                        problems,
                        &schema_pointer,
                        "a response schema must be a `$ref` to `#/components/schemas/...`: its examples decode into the named type",
                    );
                    continue;
                }
                None => {
                    problem(problems, &media_pointer, "response content without a `schema`");
                    continue;
                }
            };
            if media.get("example").is_some() {
                problem(
                    problems,
                    format!("{media_pointer}/example"),
                    "an unnamed `example`: put it under `examples` with a name, so regen and the mock see it",
                );
            }
            let Some(named) = media.get("examples").and_then(Value::as_object) else { continue };
            for (name, example) in named {
                let key = (response_pointer.clone(), media_type.clone());
                if let Some(known) = found.iter_mut().find(|known| known.key == key && known.name == *name) {
                    if !known.statuses.contains(status) {
                        known.statuses.push(status.clone());
                    }
                    continue;
                }
                let example_pointer = format!("{media_pointer}/examples/{}", escape_pointer(name));
                let Some(value) = follow(doc, example).and_then(|example| example.get("value")) else {
                    problem(problems, example_pointer, "example without a `value` (regen embeds values only)");
                    continue;
                };
                let body = serde_json::to_string(value).expect("a JSON value serializes");
                found.push(Example {
                    name: name.clone(),
                    statuses: vec![status.clone()],
                    body,
                    schema: schema.clone(),
                    schema_pointer: schema_pointer.clone(),
                    key,
                });
            }
        }
    }
    found
}

/// `pub static SPEC: crate::SpecFacts = ...;`, decoding each example into
/// `types::<name>`. `types` holds the names of the generated module's types,
/// to check that each response schema has one (typify names a type after its
/// component schema); a schema without one is an error naming its pointer.
pub fn tokens(facts: &Facts, types: &BTreeSet<String>) -> Result<TokenStream, Vec<Problem>> {
    let mut problems = Vec::new();
    let operations: Vec<TokenStream> = facts
        .operations
        .iter()
        .map(|operation| {
            let params = operation.params.iter().map(|param| {
                let Param { name, location, required, rules } = param;
                let location = format_ident!("{location}");
                let rules = rules_tokens(rules);
                quote! {
                    crate::Param {
                        name: #name,
                        location: crate::ParamLocation::#location,
                        required: #required,
                        rules: #rules,
                    }
                }
            });
            let examples: Vec<TokenStream> = operation
                .examples
                .iter()
                .filter_map(|example| {
                    let Some(type_name) = type_name(&example.schema, types) else {
                        problem(
                            &mut problems,
                            &example.schema_pointer,
                            format!("schema `{}` has no generated type in `types`", example.schema),
                        );
                        return None;
                    };
                    let name = &example.name;
                    let statuses = &example.statuses;
                    let body = raw_string(&example.body);
                    let type_name = format_ident!("{type_name}");
                    Some(quote! {
                        crate::Example {
                            name: #name,
                            statuses: &[#(#statuses),*],
                            body: #body,
                            decode: |body| ::serde_json::from_str::<types::#type_name>(body)
                                .map(drop)
                                .map_err(|error| error.to_string()),
                        }
                    })
                })
                .collect();
            let Operation { operation_id, method, path, .. } = operation;
            quote! {
                crate::Operation {
                    operation_id: #operation_id,
                    method: #method,
                    path: #path,
                    params: &[#(#params),*],
                    examples: &[#(#examples),*],
                }
            }
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let Facts { file, title, server_url, auth, .. } = facts;
    let auth = match auth {
        Auth::Bearer => quote!(crate::Auth::Bearer),
        Auth::ApiKeyHeader(header) => quote!(crate::Auth::ApiKeyHeader(#header)),
    };
    let doc = format!(" What `{file}` states: server, auth, operations and response examples.");
    Ok(quote! {
        #[doc = #doc]
        pub static SPEC: crate::SpecFacts = crate::SpecFacts {
            file: #file,
            title: #title,
            server_url: #server_url,
            auth: #auth,
            operations: &[#(#operations),*],
        };
    })
}

/// `crate::ParamRules::NONE`, or the rules the spec states over it
/// (`crate::ParamRules { max_items: Some(100), ..crate::ParamRules::NONE }`),
/// so that a parameter without rules stays one short line.
fn rules_tokens(rules: &Rules) -> TokenStream {
    if *rules == Rules::default() {
        return quote!(crate::ParamRules::NONE);
    }
    let count = |value: Option<u64>, key: &str| {
        let key = format_ident!("{key}");
        value.map(|value| {
            let value = proc_macro2::Literal::u64_unsuffixed(value);
            quote!(#key: Some(#value),)
        })
    };
    let bound = |value: Option<i64>, key: &str| {
        let key = format_ident!("{key}");
        value.map(|value| {
            let magnitude = proc_macro2::Literal::u64_unsuffixed(value.unsigned_abs());
            let sign = (value < 0).then(|| quote!(-));
            quote!(#key: Some(#sign #magnitude),)
        })
    };
    let fields = [
        count(rules.min_items, "min_items"),
        count(rules.max_items, "max_items"),
        count(rules.min_length, "min_length"),
        count(rules.max_length, "max_length"),
        bound(rules.minimum, "minimum"),
        bound(rules.maximum, "maximum"),
        rules.pattern.as_ref().map(|pattern| {
            let pattern = raw_string(pattern);
            quote!(pattern: Some(#pattern),)
        }),
    ];
    quote!(crate::ParamRules { #(#fields)* ..crate::ParamRules::NONE })
}

/// The generated type for a component schema: its own name, or the name in
/// PascalCase (`space_lookup` → `SpaceLookup`), whichever the module has.
fn type_name(schema: &str, types: &BTreeSet<String>) -> Option<String> {
    let pascal: String = schema
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    [schema.to_owned(), pascal].into_iter().find(|candidate| types.contains(candidate))
}

/// A raw string literal (`r#"..."#`) holding `text`: JSON bodies stay
/// readable in the generated code instead of drowning in `\"`.
fn raw_string(text: &str) -> TokenStream {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    let literal: syn::LitStr = syn::parse_str(&format!("r{hashes}\"{text}\"{hashes}")).expect("a raw string literal");
    quote!(#literal)
}
