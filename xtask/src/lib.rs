//! Maintainer tasks for the `spaces` workspace, in the style of rust-analyzer's
//! xtask: plain Rust, no build-time magic, callable from tests.
//!
//! [`regen`]: OpenAPI specs in `specs/` become the checked-in generated
//! crate in `generated/` (its `lib.rs`, and per spec a module with the client,
//! its types and the spec's facts). [`coverage`]: `docs/field-coverage.md`, which
//! provider supplies which model field, from the fixtures. [`audit`]: captured
//! response bodies, fixtures and spec examples checked against the specs.
//! [`fixture`]: a capture file (`spaces --record`) turned into a test fixture.

#![deny(missing_docs)]

pub mod audit;
pub mod coverage;
pub mod fixture;
pub mod regen;

pub mod files;

mod api_diff;
mod args;
mod facts;
mod generate;
mod lib_rs;
mod lint;
mod spec;

use std::path::{Path, PathBuf};

/// `path` relative to the workspace root when it is inside it, so messages
/// and generated headers do not depend on where the checkout lives.
pub fn display_path(path: &Path) -> PathBuf {
    let root = project_root();
    path.strip_prefix(&root).map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// The workspace root (the parent of this crate's directory).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
