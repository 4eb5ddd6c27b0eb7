//! The types of the facts `cargo xtask regen` reads out of each spec and
//! writes beside its generated client (`<provider>::SPEC`): where the API
//! lives, how it authenticates, each operation's path and parameters, and
//! the spec's own response examples.
//!
//! They exist so that no hand-written code restates what a spec already
//! says: the library takes its API roots, auth headers and endpoint paths
//! from here, and the mock server answers with the spec's examples.

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
    /// The operation with this `operationId`, if the spec has it.
    pub fn operation(&self, operation_id: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|operation| operation.operation_id == operation_id)
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
