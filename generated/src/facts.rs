//! The types of the facts `cargo xtask regen` reads out of each spec and
//! writes beside its generated client (`<provider>::SPEC`): where the API
//! lives, how it authenticates, each operation's path and parameters (with
//! the rules a value must keep: how many, how long, which range, which
//! pattern), and the spec's own response examples.
//!
//! They exist so that no hand-written code restates what a spec already
//! says: the library takes its API roots, auth headers, endpoint paths and
//! request limits from here, and the mock server answers with the spec's
//! examples and refuses what the rules refuse.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Everything the rest of the workspace needs to know from one spec.
#[derive(Debug)]
pub struct SpecFacts {
    /// The spec file, relative to the workspace root (`specs/x.yaml`).
    pub file: &'static str,
    /// The spec's `info.title`.
    pub title: &'static str,
    /// The first `servers[].url`: the production API root, no trailing slash.
    pub server_url: &'static str,
    /// How the (one) security scheme sends the token.
    pub auth: Auth,
    /// Every operation, in the spec's order.
    pub operations: &'static [Operation],
}

impl SpecFacts {
    /// The operation with this `operationId`, if the spec has it. A
    /// `const fn`, so that a static can name an operation and a wrong id
    /// fails to compile.
    pub const fn operation(&self, operation_id: &str) -> Option<&'static Operation> {
        let operations: &'static [Operation] = self.operations;
        let mut index = 0;
        while index < operations.len() {
            if bytes_equal(operations[index].operation_id.as_bytes(), operation_id.as_bytes()) {
                return Some(&operations[index]);
            }
            index += 1;
        }
        None
    }

    /// The provider: the spec's file stem (`specs/x.yaml` → `x`), which is
    /// also the name of its generated module.
    pub fn provider(&self) -> &'static str {
        let name = self.file.rsplit('/').next().unwrap_or(self.file);
        name.strip_suffix(".yaml").unwrap_or(name)
    }

    /// The path part of [`server_url`](Self::server_url) (`/apis/v1`, or
    /// `""` when the API lives at the host's root).
    pub fn base_path(&self) -> &'static str {
        let root = self.server_url;
        let after_scheme = root.find("://").map_or(0, |at| at + 3);
        root[after_scheme..].find('/').map_or("", |at| &root[after_scheme + at..])
    }
}

/// How a provider expects its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>` (`type: http`, `scheme: bearer`).
    Bearer,
    /// The token alone in this header (`type: apiKey`, `in: header`), lowercased.
    ApiKeyHeader(&'static str),
}

/// One operation of a spec.
#[derive(Debug)]
pub struct Operation {
    /// The `operationId` (also the generated client's method name).
    pub operation_id: &'static str,
    /// The HTTP method, uppercase (`GET`).
    pub method: &'static str,
    /// The path template, relative to the server URL (`/2/spaces/{id}`).
    pub path: &'static str,
    /// Every parameter, in the spec's order.
    pub params: &'static [Param],
    /// Every example of every response, in the spec's order.
    pub examples: &'static [Example],
}

impl Operation {
    /// The parameter the operation looks things up by: its first required one.
    pub fn id_param(&self) -> Option<&'static Param> {
        self.params.iter().find(|param| param.required)
    }

    /// The parameter with this name (its name on the wire), if the operation
    /// has one. A `const fn`, so that a static can take a limit from the
    /// spec at compile time (`op.param("ids")` → [`Param::max_items`]).
    pub const fn param(&self, name: &str) -> Option<&'static Param> {
        let params: &'static [Param] = self.params;
        let mut index = 0;
        while index < params.len() {
            if bytes_equal(params[index].name.as_bytes(), name.as_bytes()) {
                return Some(&params[index]);
            }
            index += 1;
        }
        None
    }

    /// The example with this name, if the operation has one (names are unique
    /// within an operation; `generated/tests/examples.rs` checks it).
    pub fn example(&self, name: &str) -> Option<&'static Example> {
        self.examples.iter().find(|example| example.name == name)
    }

    /// The path before its first `{parameter}` (`/2/spaces/{id}` → `/2/spaces`),
    /// without a trailing slash; the whole path when it has no parameter.
    pub fn path_prefix(&self) -> &'static str {
        self.path.find('{').map_or(self.path, |at| self.path[..at].trim_end_matches('/'))
    }
}

/// One parameter of an operation.
#[derive(Debug)]
pub struct Param {
    /// Its name on the wire (`id`, `space.fields`).
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamLocation,
    /// Whether the spec marks it required.
    pub required: bool,
    /// What a value must keep, from the keywords of its schema.
    pub rules: ParamRules,
}

impl Param {
    /// The most values one request may carry in this list parameter
    /// (`maxItems`), if the spec limits it.
    pub const fn max_items(&self) -> Option<usize> {
        self.rules.max_items
    }
}

/// `left == right`, in a `const fn`.
const fn bytes_equal(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// The rules a parameter's value must keep: the standard OpenAPI keywords of
/// its schema (through `$ref`s), as the spec states them. For a list
/// parameter (`type: array`), `min_items`/`max_items` count its values and
/// every other rule applies to each value (read from the schema's `items`).
/// `None` means the spec states no such rule.
///
/// `cargo xtask regen` records them here even where it keeps a keyword from
/// progenitor (see `specs/README.md`): the generated method then takes a plain
/// string, and these rules are what callers check before sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamRules {
    /// `minItems`: the fewest values of a list.
    pub min_items: Option<usize>,
    /// `maxItems`: the most values of a list (X: 100 ids per request).
    pub max_items: Option<usize>,
    /// `minLength`: the fewest characters of a value.
    pub min_length: Option<usize>,
    /// `maxLength`: the most characters of a value.
    pub max_length: Option<usize>,
    /// `minimum` (inclusive) of an integer value.
    pub minimum: Option<i64>,
    /// `maximum` (inclusive) of an integer value.
    pub maximum: Option<i64>,
    /// `pattern`: an ECMA-262 regular expression a value must match somewhere
    /// (JSON Schema does not anchor it; the specs write `^...$`). See
    /// [`matches`](Self::matches).
    pub pattern: Option<&'static str>,
}

impl ParamRules {
    /// No rule at all.
    pub const NONE: ParamRules = ParamRules {
        min_items: None,
        max_items: None,
        min_length: None,
        max_length: None,
        minimum: None,
        maximum: None,
        pattern: None,
    };

    /// Whether `value` matches [`pattern`](Self::pattern) (`true` without
    /// one). The pattern is compiled once per process, with `regress` in
    /// Unicode mode: ECMA-262 semantics, as OpenAPI means a `pattern`, and the
    /// engine `cargo xtask regen` compiles every pattern with before it is
    /// written here (and `cargo xtask audit` matches bodies with). Should a
    /// pattern not compile all the same, nothing matches it.
    pub fn matches(&self, value: &str) -> bool {
        self.pattern.is_none_or(|pattern| compiled(pattern).is_some_and(|regex| regex.find(value).is_some()))
    }

    /// Whether `value`'s length in characters (Unicode scalar values, as
    /// JSON Schema counts them) is within `min_length..=max_length`.
    pub fn length_fits(&self, value: &str) -> bool {
        let length = value.chars().count();
        self.min_length.is_none_or(|min| length >= min) && self.max_length.is_none_or(|max| length <= max)
    }

    /// Whether a list of `count` values is within `min_items..=max_items`.
    pub fn count_fits(&self, count: usize) -> bool {
        self.min_items.is_none_or(|min| count >= min) && self.max_items.is_none_or(|max| count <= max)
    }

    /// Whether `number` is within `minimum..=maximum`.
    pub fn number_fits(&self, number: i64) -> bool {
        self.minimum.is_none_or(|min| number >= min) && self.maximum.is_none_or(|max| number <= max)
    }

    /// Whether one value (of a list parameter: one of its values) keeps the
    /// string rules: [`length_fits`](Self::length_fits) and [`matches`](Self::matches).
    pub fn accepts(&self, value: &str) -> bool {
        self.length_fits(value) && self.matches(value)
    }
}

/// `pattern` compiled, once per process (the specs hold a handful of
/// patterns, so the cache stays that small); `None` if it does not compile.
fn compiled(pattern: &'static str) -> Option<&'static regress::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<&'static regress::Regex>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *cache.entry(pattern).or_insert_with(|| {
        // Leaked once per distinct pattern: a static's rules live as long as the process.
        regress::Regex::with_flags(pattern, "u").ok().map(|regex| &*Box::leak(Box::new(regex)))
    })
}

/// Where a parameter goes in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
}

/// One response example, exactly as the spec embeds it.
#[derive(Debug)]
pub struct Example {
    /// The example's name in the spec (`not_found`, `unauthorized`, ...).
    pub name: &'static str,
    /// The response status keys it is declared under (`"200"`, `"401"`,
    /// `"5XX"`); a shared response referenced from several statuses lists them all.
    pub statuses: &'static [&'static str],
    /// The example value as compact JSON.
    pub body: &'static str,
    /// Decodes [`body`](Self::body) into the generated type of its response:
    /// `Ok` when the spec's example fits the spec's own schema.
    pub decode: fn(&str) -> Result<(), String>,
}

impl Example {
    /// Whether it is declared under a 2xx status.
    pub fn is_success(&self) -> bool {
        self.statuses.iter().any(|status| status.starts_with('2'))
    }

    /// The concrete status to answer it with, preferring `preferred` when the
    /// example is declared under it, else its first numeric status.
    pub fn status(&self, preferred: u16) -> Option<u16> {
        let numeric = || self.statuses.iter().filter_map(|status| status.parse::<u16>().ok());
        numeric().find(|status| *status == preferred).or_else(|| numeric().next())
    }
}
