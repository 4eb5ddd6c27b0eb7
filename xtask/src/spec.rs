//! Loading one spec file: YAML text → JSON value (for linting with JSON
//! pointers) → typed OpenAPI document (for the generator).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

/// One provider's spec, read from `specs/<provider>.yaml`.
pub struct Spec {
    /// The file name stem, which is also the generated module's name.
    pub provider: String,
    /// The path, as shown in messages (relative to the workspace when possible).
    pub display_path: PathBuf,
    /// The document as plain JSON, for lints that report JSON pointers.
    pub value: Value,
}

impl Spec {
    pub fn load(path: &Path, display_path: PathBuf) -> Result<Self> {
        let provider = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or_else(|| anyhow!("{}: file name is not UTF-8", display_path.display()))?
            .to_owned();
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", display_path.display()))?;
        let value: Value = serde_yaml::from_str(&text).map_err(|error| {
            // serde_yaml's message already carries "at line L column C".
            anyhow!("{}: YAML syntax error: {error}", display_path.display())
        })?;
        Ok(Self { provider, display_path, value })
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The HTTP methods an OpenAPI path item may hold.
pub const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every operation in the document: (JSON pointer, method, path, operation object).
pub fn operations(doc: &Value) -> Vec<(String, &'static str, &str, &Value)> {
    let mut found = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return found;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let pointer = format!("/paths/{}/{method}", escape_pointer(path));
                found.push((pointer, method, path.as_str(), operation));
            }
        }
    }
    found
}

/// Follows a local `$ref` (`#/components/...`) to (its pointer, its value).
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<(String, &'a Value)> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer).map(|value| (pointer.to_owned(), value))
}
