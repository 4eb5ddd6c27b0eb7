//! `cargo xtask coverage [--check]`: `docs/field-coverage.md`, computed by
//! converting every fixture (the `field-coverage` package does the
//! computing; it links `spaces`, which this crate must not, so that regen
//! builds even when the generated code does not).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::files::{FileChange, ensure_contents};

/// The table's path, relative to the workspace root.
pub const OUTPUT: &str = "docs/field-coverage.md";

/// The command that rewrites the table.
pub const COMMAND: &str = "cargo xtask coverage";

/// Computes the table and writes it (or, with `check`, compares it).
pub fn run(root: &Path, check: bool) -> Result<FileChange> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["run", "--quiet", "--locked", "-p", "field-coverage"])
        .output()
        .context("cannot run `cargo run -p field-coverage`")?;
    if !output.status.success() {
        bail!("field-coverage failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let table = String::from_utf8(output.stdout).context("field-coverage printed non-UTF-8")?;
    let path = root.join(OUTPUT);
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory).with_context(|| format!("cannot create {}", directory.display()))?;
    }
    ensure_contents(&path, OUTPUT, &table, check)
}
