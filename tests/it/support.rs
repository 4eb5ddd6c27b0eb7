//! Paths and small helpers shared by the test modules.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_path_buf()
}

/// Every `specs/*.yaml`, sorted, as (provider, path).
pub fn spec_files() -> Vec<(String, PathBuf)> {
    let mut specs: Vec<(String, PathBuf)> = std::fs::read_dir(workspace_root().join("specs"))
        .expect("specs/ is readable")
        .map(|entry| entry.expect("specs/ entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .map(|path| (path.file_stem().expect("stem").to_string_lossy().into_owned(), path))
        .collect();
    specs.sort();
    specs
}
