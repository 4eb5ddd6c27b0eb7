//! What an audit found, aggregated so that memory stays flat however many
//! bodies go through: per (provider, operation, path, kind, detail) a count,
//! one example value and the first few locations; a bounded number of
//! distinct findings; counts of skipped captures by status.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::schema::{Issue, Kind, Segment, clip, collapsed, value_at};

/// Locations kept per finding (and per skipped status).
pub const MAX_LOCATIONS: usize = 5;
/// Distinct findings kept; more are counted in `findings_not_kept`.
pub const MAX_FINDINGS: usize = 10_000;
/// Input errors kept; more are counted.
pub const MAX_ERRORS: usize = 100;
/// The longest example kept, in characters of compact JSON.
pub const MAX_EXAMPLE: usize = 200;

/// Identifies one finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingKey {
    pub provider: String,
    pub operation: String,
    /// The path with array indexes collapsed: `data[].title`.
    pub path: String,
    pub kind: Kind,
    pub detail: String,
}

/// One finding's aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Occurrences (values), not bodies.
    pub count: u64,
    /// The first value seen, as compact JSON (clipped); none for `required`.
    pub example: Option<String>,
    /// The first few `file:line` where it occurs.
    pub locations: Vec<String>,
}

/// Captures that were not audited, by status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    pub count: u64,
    pub locations: Vec<String>,
}

/// Everything an audit found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub findings: BTreeMap<FindingKey, Finding>,
    pub findings_not_kept: u64,
    pub files: u64,
    pub bytes: u64,
    pub bodies: u64,
    pub drift_bodies: u64,
    pub skipped: BTreeMap<u16, Skipped>,
    /// Unreadable input: `file:line[:column]: message`.
    pub errors: Vec<String>,
    pub errors_total: u64,
}

impl Report {
    /// Adds one body's issues. `locate` renders the `file:line` of a path; it
    /// is called only while a finding still has room for locations.
    pub fn add_body(
        &mut self,
        provider: &str,
        operation: &str,
        body: Option<&Value>,
        issues: &[Issue],
        locate: &dyn Fn(&[Segment]) -> String,
    ) {
        self.bodies += 1;
        if issues.is_empty() {
            return;
        }
        self.drift_bodies += 1;
        for issue in issues {
            let key = FindingKey {
                provider: provider.to_owned(),
                operation: operation.to_owned(),
                path: collapsed(&issue.path),
                kind: issue.kind,
                detail: issue.detail.clone(),
            };
            if let Some(finding) = self.findings.get_mut(&key) {
                finding.count += 1;
                if finding.locations.len() < MAX_LOCATIONS {
                    let location = locate(&issue.path);
                    if finding.locations.last() != Some(&location) {
                        finding.locations.push(location);
                    }
                }
                continue;
            }
            if self.findings.len() >= MAX_FINDINGS {
                self.findings_not_kept += 1;
                continue;
            }
            let example = match issue.kind {
                Kind::Required => None,
                _ => {
                    body.and_then(|body| value_at(body, &issue.path)).map(|value| clip(&value.to_string(), MAX_EXAMPLE))
                }
            };
            self.findings.insert(key, Finding { count: 1, example, locations: vec![locate(&issue.path)] });
        }
    }

    /// Adds a finding that has no body to point into (a capture's body that is not JSON).
    pub fn add_raw(
        &mut self,
        provider: &str,
        operation: &str,
        kind: Kind,
        detail: String,
        example: String,
        at: String,
    ) {
        let issue = Issue { path: Vec::new(), kind, detail };
        self.add_body(provider, operation, None, std::slice::from_ref(&issue), &|_| at.clone());
        if let Some(finding) = self.findings.get_mut(&FindingKey {
            provider: provider.to_owned(),
            operation: operation.to_owned(),
            path: collapsed(&[]),
            kind,
            detail: issue.detail.clone(),
        }) && finding.example.is_none()
        {
            finding.example = Some(clip(&example, MAX_EXAMPLE));
        }
    }

    pub fn skip(&mut self, status: u16, location: String) {
        let skipped = self.skipped.entry(status).or_default();
        skipped.count += 1;
        if skipped.locations.len() < MAX_LOCATIONS {
            skipped.locations.push(location);
        }
    }

    pub fn error(&mut self, message: String) {
        self.errors_total += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(message);
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().map(|skipped| skipped.count).sum()
    }

    /// Adds another report's counts and findings to this one.
    pub fn merge(&mut self, other: &Report) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.bodies += other.bodies;
        self.drift_bodies += other.drift_bodies;
        self.findings_not_kept += other.findings_not_kept;
        for (key, theirs) in &other.findings {
            if let Some(mine) = self.findings.get_mut(key) {
                mine.count += theirs.count;
                for location in &theirs.locations {
                    if mine.locations.len() < MAX_LOCATIONS && !mine.locations.contains(location) {
                        mine.locations.push(location.clone());
                    }
                }
            } else if self.findings.len() < MAX_FINDINGS {
                self.findings.insert(key.clone(), theirs.clone());
            } else {
                self.findings_not_kept += 1;
            }
        }
        for (status, theirs) in &other.skipped {
            let mine = self.skipped.entry(*status).or_default();
            mine.count += theirs.count;
            for location in &theirs.locations {
                if mine.locations.len() < MAX_LOCATIONS {
                    mine.locations.push(location.clone());
                }
            }
        }
        for error in &other.errors {
            if self.errors.len() < MAX_ERRORS {
                self.errors.push(error.clone());
            }
        }
        self.errors_total += other.errors_total;
    }

    /// The findings as a table, one block per (provider, operation).
    pub fn findings_table(&self, indent: &str) -> String {
        let mut out = String::new();
        let mut blocks: BTreeMap<(&str, &str), Vec<(&FindingKey, &Finding)>> = BTreeMap::new();
        for (key, finding) in &self.findings {
            blocks.entry((&key.provider, &key.operation)).or_default().push((key, finding));
        }
        for ((provider, operation), rows) in blocks {
            let _ = writeln!(out, "{indent}{provider} {operation}:");
            let cells: Vec<[String; 5]> = rows
                .iter()
                .map(|(key, finding)| {
                    let drift = if key.detail.is_empty() {
                        key.kind.as_str().to_owned()
                    } else {
                        format!("{}: {}", key.kind.as_str(), key.detail)
                    };
                    let example = finding.example.as_deref().map_or_else(|| "-".to_owned(), |text| clip(text, 40));
                    let shown: Vec<&str> = finding.locations.iter().take(3).map(String::as_str).collect();
                    let mut location = shown.join(", ");
                    if finding.count > shown.len() as u64 {
                        location.push_str(", …");
                    }
                    [key.path.clone(), drift, finding.count.to_string(), example, location]
                })
                .collect();
            let header = ["path", "drift", "count", "example", "where"];
            let mut widths = header.map(|title| title.chars().count());
            for row in &cells {
                for (width, cell) in widths.iter_mut().zip(row) {
                    *width = (*width).max(cell.chars().count());
                }
            }
            let line = |row: [&str; 5]| {
                let mut text = String::from(indent);
                text.push_str("  ");
                for (index, cell) in row.iter().enumerate() {
                    let pad = widths[index].saturating_sub(cell.chars().count());
                    if index == 2 {
                        text.push_str(&" ".repeat(pad));
                        text.push_str(cell);
                    } else {
                        text.push_str(cell);
                        if index < 4 {
                            text.push_str(&" ".repeat(pad));
                        }
                    }
                    if index < 4 {
                        text.push_str("  ");
                    }
                }
                text.trim_end().to_owned()
            };
            let _ = writeln!(out, "{}", line(header));
            for row in &cells {
                let _ = writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
            }
        }
        if self.findings_not_kept > 0 {
            let _ = writeln!(out, "{indent}({} more findings were counted but not kept)", self.findings_not_kept);
        }
        out
    }

    /// The skipped captures, one line per status.
    pub fn skipped_lines(&self) -> String {
        let mut out = String::new();
        for (status, skipped) in &self.skipped {
            let _ = writeln!(
                out,
                "skipped: {} capture(s) with status {status} (not 2xx): {}{}",
                skipped.count,
                skipped.locations.join(", "),
                if skipped.count > skipped.locations.len() as u64 { ", …" } else { "" }
            );
        }
        out
    }

    /// The `--json` shape's common part (see the module docs of `audit`).
    pub fn to_json(&self) -> Value {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|(key, finding)| {
                json!({
                    "provider": key.provider,
                    "operation": key.operation,
                    "path": key.path,
                    "kind": key.kind.as_str(),
                    "detail": key.detail,
                    "count": finding.count,
                    "example": finding.example,
                    "locations": finding.locations,
                })
            })
            .collect();
        let skipped: Vec<Value> = self
            .skipped
            .iter()
            .map(|(status, skipped)| json!({"status": status, "count": skipped.count, "locations": skipped.locations}))
            .collect();
        json!({
            "version": 1,
            "ok": self.findings.is_empty() && self.findings_not_kept == 0 && self.errors_total == 0,
            "summary": {
                "files": self.files,
                "bytes": self.bytes,
                "bodies": self.bodies,
                "clean_bodies": self.bodies - self.drift_bodies,
                "drift_bodies": self.drift_bodies,
                "skipped": self.skipped_total(),
                "errors": self.errors_total,
            },
            "findings": findings,
            "findings_not_kept": self.findings_not_kept,
            "skipped": skipped,
            "errors": self.errors,
        })
    }
}
