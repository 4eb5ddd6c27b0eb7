//! The modules of `crates/spaces` point one way (see its `lib.rs`):
//! model ← error ← list, merge ← convert ← providers ← client ← watch ← lib. Each source file
//! may name (`crate::<module>`) only its own layer or one below it, and a
//! provider's converter (`providers/<p>/convert.rs`, or a `mod convert`)
//! sits in the converter layer: it may not reach the provider machinery
//! above it. Reading the source is enough to check this, because every
//! cross-module reference in the crate is spelled `crate::...` or `super::...`.

use std::path::{Path, PathBuf};

use crate::support::workspace_root;

/// The layers, lowest first; a module may use its own layer and those before it.
const LAYERS: [&[&str]; 8] = [
    &["model", "fields", "text", "redact"],
    &["error"],
    &["list", "merge", "request"],
    &["convert"],
    &["providers"],
    &["client"],
    &["watch"],
    &["lib"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// Every `crate::<module>` a file names, outside comments.
fn crate_references(source: &str) -> Vec<String> {
    let code = source.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in a macro is the same thing.
        let rest = &code[at + "crate::".len()..];
        let module: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !module.is_empty() {
            found.push(module);
        }
    }
    found
}

#[test]
fn modules_of_spaces_point_one_way() {
    let source_root = workspace_root().join("crates/spaces/src");
    let mut files = Vec::new();
    rust_files(&source_root, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&source_root).expect("under src").to_string_lossy().replace('\\', "/");
        let top = relative.split(['/', '.']).next().unwrap_or_default().to_owned();
        let Some(own) = layer_of(&top) else {
            violations.push(format!("{relative}: module `{top}` is in no layer; add it to LAYERS and lib.rs"));
            continue;
        };
        let source = std::fs::read_to_string(file).expect("readable source");
        for module in crate_references(&source) {
            checked += 1;
            match layer_of(&module) {
                Some(target) if target <= own => {}
                Some(_) => violations.push(format!("{relative}: uses `crate::{module}`, a layer above it")),
                // Items re-exported at the crate root (`crate::Space`) are the lib layer.
                None if own < layer_of("lib").unwrap_or(usize::MAX) => {
                    violations.push(format!("{relative}: uses `crate::{module}` from the crate root, above it"))
                }
                None => {}
            }
        }
        // `super` of a provider's converter is the provider module, a layer above.
        let is_converter = relative.starts_with("providers/") && relative.ends_with("/convert.rs");
        if is_converter && ["crate::providers", "crate::client", "super::"].iter().any(|name| source.contains(name)) {
            violations.push(format!("{relative}: a converter reaches above the converter layer"));
        }
        // An inline `mod convert { ... }` in a provider file holds to the same rule.
        if let Some(at) = source.find("mod convert {") {
            let body = &source[at..];
            let end = body.find("\n}").unwrap_or(body.len());
            if body[..end].contains("crate::providers") || body[..end].contains("crate::client") {
                violations.push(format!("{relative}: its `mod convert` reaches above the converter layer"));
            }
        }
    }
    assert!(files.len() >= 10, "found only {} source files under {}", files.len(), source_root.display());
    assert!(checked >= 20, "only {checked} `crate::` references found: is the scan broken?");
    assert!(violations.is_empty(), "layer violations:\n{}", violations.join("\n"));
}

#[test]
fn the_scan_sees_references_and_skips_comments() {
    let source = "use crate::model::Space;\n// crate::client is only mentioned\nlet x = $crate::convert::At;\n";
    assert_eq!(crate_references(source), ["model", "convert"]);
}
