//! `cargo xtask audit --fixtures`: every fixture and every spec example,
//! checked against the spec, each with an expectation its name sets.
//!
//! - `tests/fixtures/<provider>/*.json`, for every provider with a spec: X's
//!   `multi-*` fixtures against `find_spaces_by_ids` (the multi-Space
//!   response), every other fixture against the spec's first operation (its
//!   single-Space lookup).
//! - Every example (`examples.*.value`, or `example`) of every 2xx response
//!   of every operation, against that operation's 200 response schema.
//!
//! Expectations: `bad-*` fixtures are malformed on purpose and must show at
//! least one finding; `extra-*` fixtures carry fields no spec declares on
//! purpose (to prove they are ignored) and must show undeclared fields and
//! nothing else; everything else (`err-*` included: their bodies are what
//! the 200 schema describes) must be clean. An example marked
//! `x-audit-expect: drift` (a documentation page's placeholder values, kept
//! as published) must show drift; every other example must be clean. A
//! fixtures directory without a spec fails too.
//!
//! In `--json`, the report gains `expectations`: one object per fixture or
//! example, `{"source", "example", "provider", "operation", "expect", "ok",
//! "findings", "reason"}`: `source` is the file (`tests/fixtures/x/a.json`,
//! `specs/x.yaml`), `example` the example's name (`null` for a fixture),
//! `expect` one of `clean`, `drift`, `undeclared-only`, `findings` the number
//! of distinct findings, `reason` why it failed (empty when `ok`).

use std::path::Path;

use serde_json::{Value, json};

use super::report::Report;
use super::schema::{Kind, content_schema};
use super::{Auditor, EXIT_CLEAN, EXIT_DRIFT, EXIT_USAGE, Options, input, providers};
use crate::spec::{escape_pointer, operations, resolve};

/// The operation X's `multi-*` fixtures are checked against.
pub const MULTI_OPERATION: &str = "find_spaces_by_ids";

/// On an example object: `drift` when the example is malformed on purpose
/// (a documentation page's placeholders), so it must show drift.
pub const EXPECT_EXTENSION: &str = "x-audit-expect";

/// What a fixture's or example's audit must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Clean,
    /// `bad-*`: at least one finding.
    Drift,
    /// `extra-*`: at least one finding, all `undeclared`.
    UndeclaredOnly,
}

impl Expect {
    fn for_fixture(name: &str) -> Self {
        if name.starts_with("bad-") {
            Expect::Drift
        } else if name.starts_with("extra-") {
            Expect::UndeclaredOnly
        } else {
            Expect::Clean
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Expect::Clean => "clean",
            Expect::Drift => "drift",
            Expect::UndeclaredOnly => "undeclared-only",
        }
    }
}

/// One fixture's or example's verdict.
struct Outcome {
    source: String,
    example: Option<String>,
    provider: String,
    operation: String,
    expect: Expect,
    report: Report,
    reason: String,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.reason.is_empty()
    }

    fn label(&self) -> String {
        match &self.example {
            Some(name) => format!("{} example `{name}` ({})", self.source, self.operation),
            None => format!("{} ({})", self.source, self.operation),
        }
    }

    fn judge(&mut self) {
        let report = &self.report;
        let findings = report.findings.len() as u64 + report.findings_not_kept;
        let only_undeclared = report.findings.keys().all(|key| key.kind == Kind::Undeclared);
        self.reason = if report.errors_total > 0 {
            format!("unreadable: {}", report.errors.join("; "))
        } else {
            match self.expect {
                Expect::Clean if findings > 0 => format!("expected clean, {findings} finding(s)"),
                Expect::Drift if findings == 0 && self.example.is_some() => {
                    format!("marked `{EXPECT_EXTENSION}: drift` but conforms to the spec")
                }
                Expect::Drift if findings == 0 => {
                    "named bad-* (malformed on purpose) but conforms to the spec: the spec cannot tell it from a good body"
                        .to_owned()
                }
                Expect::UndeclaredOnly if findings == 0 => {
                    "named extra-* (new fields on purpose) but has no undeclared field".to_owned()
                }
                Expect::UndeclaredOnly if !only_undeclared => {
                    "named extra-* (new fields on purpose) but shows drift other than undeclared fields".to_owned()
                }
                _ => String::new(),
            }
        };
    }
}

/// Audits every fixture and example; prints; returns the exit status.
pub fn run(auditor: &mut Auditor, options: &Options) -> u8 {
    let all = providers(&auditor.specs_dir);
    let selected: Vec<String> = match &options.provider {
        Some(provider) => vec![provider.clone()],
        None => all.clone(),
    };
    if selected.is_empty() {
        eprintln!("error: no spec in {}", crate::display_path(&auditor.specs_dir).display());
        return EXIT_USAGE;
    }
    let mut outcomes = Vec::new();
    let mut fatal = Vec::new();
    if options.provider.is_none() {
        for directory in subdirectories(&options.fixtures_dir) {
            if !all.contains(&directory) {
                let mut outcome = blank(
                    crate::display_path(&options.fixtures_dir.join(&directory)).display().to_string(),
                    &directory,
                    "-",
                );
                outcome.reason = format!("fixtures for provider `{directory}`, which has no spec");
                outcomes.push(outcome);
            }
        }
    }
    for provider in &selected {
        if let Err(message) = audit_provider(auditor, provider, &options.fixtures_dir, &mut outcomes) {
            fatal.push(message);
        }
    }
    for message in &fatal {
        eprintln!("error: {message}");
    }
    let mut total = Report::default();
    for outcome in &outcomes {
        total.merge(&outcome.report);
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|outcome| !outcome.ok()).collect();
    let fixtures = outcomes.iter().filter(|outcome| outcome.example.is_none()).count();
    if options.json {
        let mut json = total.to_json();
        json["ok"] = Value::Bool(failed.is_empty() && fatal.is_empty());
        json["expectations"] = outcomes
            .iter()
            .map(|outcome| {
                json!({
                    "source": outcome.source,
                    "example": outcome.example,
                    "provider": outcome.provider,
                    "operation": outcome.operation,
                    "expect": outcome.expect.as_str(),
                    "ok": outcome.ok(),
                    "findings": outcome.report.findings.len() as u64 + outcome.report.findings_not_kept,
                    "reason": outcome.reason,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    } else {
        for outcome in outcomes.iter().filter(|outcome| outcome.ok() && outcome.expect != Expect::Clean) {
            let found: Vec<String> =
                outcome.report.findings.keys().map(|key| format!("{} ({})", key.path, key.kind.as_str())).collect();
            println!("ok    {}: intended drift: {}", outcome.label(), found.join(", "));
        }
        for outcome in &failed {
            println!("FAIL  {}: {}", outcome.label(), outcome.reason);
            print!("{}", outcome.report.findings_table("      "));
        }
        println!(
            "{} fixtures and {} spec examples of {} provider(s): {} as expected, {} not",
            fixtures,
            outcomes.len() - fixtures,
            selected.len(),
            outcomes.len() - failed.len(),
            failed.len()
        );
    }
    if !fatal.is_empty() || outcomes.iter().any(|outcome| outcome.report.errors_total > 0) {
        EXIT_USAGE
    } else if failed.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_DRIFT
    }
}

fn blank(source: String, provider: &str, operation: &str) -> Outcome {
    Outcome {
        source,
        example: None,
        provider: provider.to_owned(),
        operation: operation.to_owned(),
        expect: Expect::Clean,
        report: Report::default(),
        reason: String::new(),
    }
}

fn subdirectories(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// One provider's fixtures and examples. An `Err` is a spec the audit cannot use.
fn audit_provider(
    auditor: &mut Auditor,
    provider: &str,
    fixtures_dir: &Path,
    outcomes: &mut Vec<Outcome>,
) -> Result<(), String> {
    let spec = auditor.spec(provider)?;
    let lookup = spec.operations.first().cloned().ok_or_else(|| format!("{} has no operation", spec.display))?;
    let has_multi = spec.operations.iter().any(|operation| operation == MULTI_OPERATION);
    let examples = examples(&spec.doc, &spec.text);
    let spec_display = spec.display.clone();

    let directory = fixtures_dir.join(provider);
    let mut files: Vec<String> = std::fs::read_dir(&directory)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    for name in files {
        let path = directory.join(&name);
        let operation = if name.starts_with("multi-") && has_multi { MULTI_OPERATION } else { lookup.as_str() };
        let mut outcome = blank(crate::display_path(&path).display().to_string(), provider, operation);
        outcome.expect = Expect::for_fixture(&name);
        if name.starts_with("multi-") && !has_multi {
            outcome.reason = format!("a multi-* fixture, but {spec_display} has no `{MULTI_OPERATION}`");
            outcomes.push(outcome);
            continue;
        }
        auditor.checker(provider, operation)?;
        auditor.provider = Some(provider.to_owned());
        auditor.operation = Some(operation.to_owned());
        let before = std::mem::take(&mut auditor.report);
        input::audit_file(auditor, &path, &outcome.source);
        outcome.report = std::mem::replace(&mut auditor.report, before);
        outcome.judge();
        outcomes.push(outcome);
    }

    for example in examples {
        auditor.checker(provider, &example.operation)?;
        let mut outcome = blank(spec_display.clone(), provider, &example.operation);
        outcome.example = Some(example.name);
        match example.expect {
            Ok(expect) => outcome.expect = expect,
            Err(reason) => {
                outcome.reason = reason;
                outcomes.push(outcome);
                continue;
            }
        }
        let before = std::mem::take(&mut auditor.report);
        let at = input::Where { file: &spec_display, line: example.line, text: None };
        auditor.audit_body(provider, &example.operation, &example.value, &at);
        outcome.report = std::mem::replace(&mut auditor.report, before);
        outcome.judge();
        outcomes.push(outcome);
    }
    Ok(())
}

/// One example of a 2xx response.
struct Example {
    operation: String,
    name: String,
    value: Value,
    /// Its line in the spec (best effort; the operation's line otherwise).
    line: usize,
    /// `x-audit-expect`, read.
    expect: Result<Expect, String>,
}

/// Every example under a 2xx response of every operation, once each.
fn examples(doc: &Value, text: &str) -> Vec<Example> {
    let mut found: Vec<Example> = Vec::new();
    for (pointer, _, _, operation) in operations(doc) {
        let Some(operation_id) = operation.get("operationId").and_then(Value::as_str) else { continue };
        let responses = operation.get("responses").and_then(Value::as_object).into_iter().flatten();
        for (status, response) in responses.filter(|(status, _)| status.starts_with('2')) {
            let response_pointer = format!("{pointer}/responses/{}", escape_pointer(status));
            let Ok((schema_pointer, _)) = content_schema(doc, &response_pointer, response) else { continue };
            // The media type object holding the schema holds the examples.
            let Some(media) = schema_pointer.strip_suffix("/schema").and_then(|media| doc.pointer(media)) else {
                continue;
            };
            let mut named: Vec<(String, Value, Option<&Value>)> = Vec::new();
            if let Some(example) = media.get("example") {
                named.push(("example".to_owned(), example.clone(), None));
            }
            for (name, example) in media.get("examples").and_then(Value::as_object).into_iter().flatten() {
                let example = match example.get("$ref").and_then(Value::as_str) {
                    Some(reference) => resolve(doc, reference).map_or(&Value::Null, |(_, target)| target),
                    None => example,
                };
                if let Some(value) = example.get("value") {
                    named.push((name.clone(), value.clone(), example.get(EXPECT_EXTENSION)));
                }
            }
            for (name, value, expect) in named {
                if found.iter().any(|known| known.operation == operation_id && known.name == name) {
                    continue; // The same shared response under another status.
                }
                let line = example_line(text, operation_id, &name);
                let expect = match expect.map(|expect| expect.as_str().unwrap_or_default()) {
                    None | Some("clean") => Ok(Expect::Clean),
                    Some("drift") => Ok(Expect::Drift),
                    Some(other) => Err(format!("`{EXPECT_EXTENSION}: {other}` is neither `clean` nor `drift`")),
                };
                found.push(Example { operation: operation_id.to_owned(), name, value, line, expect });
            }
        }
    }
    found
}

/// The line of `name:` among the example names after the operation's
/// `operationId` line (a name followed by `summary:`, `description:` or `value:`).
fn example_line(text: &str, operation: &str, name: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|line| {
            line.trim().strip_prefix("operationId:").is_some_and(|id| id.trim().trim_matches(['"', '\'']) == operation)
        })
        .unwrap_or(0);
    let key = format!("{name}:");
    for index in start..lines.len() {
        if lines[index].trim() != key {
            continue;
        }
        let next = lines[index + 1..].iter().map(|line| line.trim()).find(|line| !line.is_empty()).unwrap_or("");
        if ["summary:", "description:", "value:"].iter().any(|field| next.starts_with(field)) {
            return index + 1;
        }
    }
    start + 1
}
