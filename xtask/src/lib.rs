//! Maintainer tasks for the `spaces` workspace, in the style of rust-analyzer's
//! xtask: plain Rust, no build-time magic, callable from tests.
//!
//! The one task today is [`regen`]: OpenAPI specs in `specs/` become the
//! checked-in generated crate in `generated/`.

pub mod regen;

mod files;
mod generate;
mod lint;
mod spec;

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
