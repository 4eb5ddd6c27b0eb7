//! "Ensure file contents", after rust-analyzer's xtask: compare with what is on
//! disk and write only when different (no mtime churn, no needless rebuilds);
//! in check mode write nothing and return a unified diff instead.

use std::path::Path;

use anyhow::{Context, Result};

/// What ensuring one file did, or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// The file already had the expected contents.
    Unchanged,
    /// The file was written.
    Written,
    /// Check mode: the file differs; the unified diff from disk to expected.
    WouldChange {
        /// The unified diff.
        diff: String,
    },
}

/// Makes `path` hold `expected` (writing only when it differs), or with
/// `check` reports the difference without writing.
pub fn ensure_contents(path: &Path, display: &str, expected: &str, check: bool) -> Result<FileChange> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(|| format!("cannot read {display}")),
    };
    // Compare with line endings normalized, so a checkout with CRLF endings is not "stale".
    if current.as_deref().map(|text| text.replace("\r\n", "\n")).as_deref() == Some(expected) {
        return Ok(FileChange::Unchanged);
    }
    if check {
        let old = current.unwrap_or_default();
        let diff = similar::TextDiff::from_lines(old.as_str(), expected)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{display}"), &format!("b/{display}"))
            .to_string();
        return Ok(FileChange::WouldChange { diff });
    }
    write_atomically(path, expected).with_context(|| format!("cannot write {display}"))?;
    Ok(FileChange::Written)
}

/// Writes through a temporary file in the same directory and renames it into
/// place, so a failure never leaves a half-written generated file behind.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        // Best effort: the rename failed, so the temp file is ours to clean up.
        let _ = std::fs::remove_file(&temporary);
    })
}
