//! `cargo xtask audit`: checks captured response bodies against the specs,
//! so that the specs stay true to what providers really send.
//!
//! ```text
//! cargo xtask audit --provider P [--operation OPERATION_ID] [--json] PATH...
//! cargo xtask audit --fixtures [--provider P] [--json]
//! ```
//!
//! A PATH is a file holding one raw 2xx body (JSON), an NDJSON file of bodies
//! (`.ndjson` / `.jsonl`, one per line, streamed), a capture file written by
//! `spaces --record` (`*.capture.json`, below), `-` for NDJSON on stdin, or a
//! directory, searched recursively for `.json`, `.ndjson` and `.jsonl` files.
//! A raw body is checked against `--operation`, else against the spec's first
//! operation (its single-Space lookup; X's is `find_space_by_id`). A capture
//! names its provider and operation and is checked against those, whatever
//! `--provider` and `--operation` say.
//!
//! Each body is checked against its operation's `200` response schema in
//! `specs/<provider>.yaml` (`audit/schema.rs` says how the OpenAPI is read,
//! and what the spec extension `x-audit` adds), and the
//! drift is reported per JSON path with arrays collapsed (`data[].title`):
//! `undeclared` fields, `type` mismatches, values outside an `enum`, absent
//! `required` fields, strings breaking a `format` (or integers outside
//! `int32`/`int64`) or a `pattern`, other `constraint`s, and (captures only)
//! 2xx bodies that are `not-json`. Each finding has a count of occurrences,
//! one example value, and its first few `file:line` locations (a pretty-printed
//! file gives the line of the field; NDJSON and captures the body's line).
//! Memory stays flat: bodies are read one line at a time and only the
//! aggregates are kept (at most 10,000 distinct findings, the rest counted).
//! No body is longer than [`MAX_BODY_BYTES`] (4 MiB): a longer NDJSON line is
//! skipped without being held, a longer file refused without being read
//! whole, each an unreadable-input error. A body may start with a UTF-8 byte
//! order mark, as `spaces convert` allows.
//!
//! Exit status: 0 when every body conforms, 1 when drift was found, 2 on usage
//! errors or unreadable input (each named as `file:line[:column]` on stderr;
//! the rest of the input is still audited).
//!
//! ## Capture files
//!
//! The format is documented, and read, by the [`spaces_capture`] crate: any
//! JSON object with a `spaces_capture` key is read as a capture, and one of a
//! version it does not know is an unreadable-input error. Only 2xx captures
//! are audited, their body taken whether it is kept as `body` or
//! `body_base64`; the others are counted as skipped, by status. A 2xx body
//! that is not JSON is a `not-json` finding. A capture may also be one line
//! of an NDJSON file.
//!
//! ## `--json`
//!
//! One object on stdout (key order as shown; new keys may be added, none
//! removed or renamed without bumping `version`):
//!
//! ```json
//! {
//!   "version": 1,
//!   "ok": false,
//!   "summary": {"files": 2, "bytes": 5120, "bodies": 40, "clean_bodies": 38, "drift_bodies": 2, "skipped": 1, "errors": 0},
//!   "findings": [
//!     {"provider": "x", "operation": "find_space_by_id", "path": "data.replay_url", "kind": "undeclared",
//!      "detail": "", "count": 2, "example": "\"https://x.com/i/spaces/1DXxyRYNejbKM/peek\"",
//!      "locations": ["captures/a.ndjson:3", "captures/a.ndjson:9"]}
//!   ],
//!   "findings_not_kept": 0,
//!   "skipped": [{"status": 404, "count": 1, "locations": ["captures/b.capture.json:1"]}],
//!   "errors": []
//! }
//! ```
//!
//! `kind` is one of `undeclared`, `type`, `enum`, `required`, `format`,
//! `pattern`, `constraint`, `not-json`; `detail` says what was declared
//! (`integer declared, string seen`; empty for `undeclared`); `example` is the
//! first value seen as compact JSON text (at most 200 characters, `…` when
//! cut), `null` for `required`; `count` counts occurrences, not bodies;
//! `locations` holds at most 5. `ok` is true when there is no finding and no
//! error. Findings are sorted by provider, operation, path, kind, detail.
//! For a `not-json` finding, `example` is the start of the raw body. With
//! `--fixtures`, an `expectations` list is added (`audit/fixtures.rs` says
//! what each fixture and example must show; an example object in a spec may
//! say `x-audit-expect: drift`) and `ok` is its verdict.

mod fixtures;
mod input;
mod report;
mod schema;

use crate::args::Flag;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::spec::{Spec, operations};

use self::input::Where;
use self::report::Report;
use self::schema::{Checker, Issue};

/// The exit status for a clean audit.
pub const EXIT_CLEAN: u8 = 0;
/// The exit status when drift was found (or, with `--fixtures`, an expectation failed).
pub const EXIT_DRIFT: u8 = 1;
/// The exit status for usage errors and unreadable input.
pub const EXIT_USAGE: u8 = 2;

/// The longest body read (a raw file, a capture file, an NDJSON line): the
/// 4 MiB of `spaces_generated::DEFAULT_MAX_BODY_BYTES`, the body cap of the
/// client and of `spaces convert`, repeated here because xtask does not
/// depend on the library. Real bodies are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

const USAGE: &str = "usage: cargo xtask audit --provider P [--operation OPERATION_ID] [--json] PATH...
       cargo xtask audit --fixtures [--provider P] [--json]

  Checks response bodies against the 200 response schema of their operation
  in specs/<P>.yaml and reports drift per JSON path: undeclared fields, wrong
  types, values outside an enum, missing required fields, broken formats and
  patterns.

  PATH          a raw body (.json), NDJSON of bodies (.ndjson, .jsonl; - for
                stdin), a capture file written by `spaces --record`
                (*.capture.json), or a directory of them (recursive)
  --provider    the spec raw bodies are checked against (captures name theirs)
  --operation   the operation raw bodies are checked against (default: the
                spec's first operation, its single-Space lookup)
  --fixtures    audit tests/fixtures/<provider>/*.json and every 2xx example
                of every spec: bad-* fixtures must show drift, extra-* only
                undeclared fields, everything else must be clean
  --json        one JSON object on stdout instead of the table
  --specs DIR   read the specs from DIR (default: specs/)
  --fixtures-dir DIR
                read the fixtures from DIR (default: tests/fixtures/)

  A file or NDJSON line longer than 4 MiB is skipped as unreadable.

  exit status: 0 clean, 1 drift found, 2 usage error or unreadable input";

/// What to audit, from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The provider raw bodies are checked against.
    pub provider: Option<String>,
    /// The operation raw bodies are checked against.
    pub operation: Option<String>,
    /// Print JSON instead of the table.
    pub json: bool,
    /// Audit the fixtures and spec examples instead of PATHs.
    pub fixtures: bool,
    /// Where the specs are.
    pub specs_dir: PathBuf,
    /// Where the fixtures are.
    pub fixtures_dir: PathBuf,
    /// What to audit.
    pub paths: Vec<String>,
}

impl Options {
    /// Reads the arguments after `audit`; `Ok(None)` for `--help`.
    pub fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let root = crate::project_root();
        let mut options =
            Options { specs_dir: root.join("specs"), fixtures_dir: root.join("tests/fixtures"), ..Options::default() };
        let mut args = args.iter();
        let mut only_paths = false;
        while let Some(arg) = args.next() {
            if only_paths || arg == "-" || !arg.starts_with('-') {
                options.paths.push(arg.clone());
                continue;
            }
            let flag = Flag::split(arg);
            match flag.name {
                "--" => only_paths = true,
                "-h" | "--help" => return Ok(None),
                "--json" => options.json = true,
                "--fixtures" => options.fixtures = true,
                "--provider" => options.provider = Some(flag.value(&mut args)?),
                "--operation" => options.operation = Some(flag.value(&mut args)?),
                "--specs" => options.specs_dir = PathBuf::from(flag.value(&mut args)?),
                "--fixtures-dir" => options.fixtures_dir = PathBuf::from(flag.value(&mut args)?),
                _ => return Err(format!("unknown flag `{arg}`")),
            }
            if flag.inline.is_some() && matches!(flag.name, "--json" | "--fixtures" | "--" | "-h" | "--help") {
                return Err(format!("`{}` takes no value", flag.name));
            }
        }
        if options.fixtures {
            if !options.paths.is_empty() {
                return Err("`--fixtures` takes no PATH".to_owned());
            }
            if options.operation.is_some() {
                return Err("`--fixtures` picks each fixture's operation; `--operation` is for PATHs".to_owned());
            }
        } else if options.paths.is_empty() {
            return Err("nothing to audit: give a PATH, or `--fixtures`".to_owned());
        }
        if options.operation.is_some() && options.provider.is_none() {
            return Err("`--operation` needs `--provider` (whose spec holds it)".to_owned());
        }
        Ok(Some(options))
    }
}

/// `cargo xtask audit ARGS`: runs, prints, and gives the exit status.
pub fn main(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    ExitCode::from(run(&options))
}

/// Audits what `options` says, prints the result, and returns the exit status.
pub fn run(options: &Options) -> u8 {
    let mut auditor = Auditor::new(&options.specs_dir);
    if let Some(provider) = &options.provider
        && let Err(message) = auditor.set_defaults(provider, options.operation.as_deref())
    {
        eprintln!("error: {message}");
        return EXIT_USAGE;
    }
    if options.fixtures {
        return fixtures::run(&mut auditor, options);
    }
    let started = std::time::Instant::now();
    input::audit_paths(&mut auditor, &options.paths);
    let elapsed = started.elapsed();
    let report = &auditor.report;
    print_errors(report);
    if options.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json()).unwrap_or_default());
    } else {
        print!("{}", report.findings_table(""));
        print!("{}", report.skipped_lines());
        println!("{}", summary_line(report, elapsed));
    }
    exit_status(report)
}

fn exit_status(report: &Report) -> u8 {
    if report.errors_total > 0 {
        EXIT_USAGE
    } else if !report.findings.is_empty() || report.findings_not_kept > 0 {
        EXIT_DRIFT
    } else {
        EXIT_CLEAN
    }
}

fn print_errors(report: &Report) {
    for error in &report.errors {
        eprintln!("error: {error}");
    }
    if report.errors_total > report.errors.len() as u64 {
        eprintln!("error: ... and {} more", report.errors_total - report.errors.len() as u64);
    }
}

fn summary_line(report: &Report, elapsed: std::time::Duration) -> String {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let megabytes = report.bytes as f64 / 1e6;
    let mut line = format!(
        "audited {} bodies in {} files ({megabytes:.1} MB in {seconds:.2} s, {:.1} MB/s, {:.0} bodies/s): {} clean, {} with drift",
        report.bodies,
        report.files,
        megabytes / seconds,
        report.bodies as f64 / seconds,
        report.bodies - report.drift_bodies,
        report.drift_bodies,
    );
    if report.skipped_total() > 0 {
        line.push_str(&format!("; {} captures skipped (not 2xx)", report.skipped_total()));
    }
    if report.errors_total > 0 {
        line.push_str(&format!("; {} unreadable", report.errors_total));
    }
    line
}

/// One provider's spec, as the audit uses it.
struct LoadedSpec {
    /// `specs/x.yaml`, for messages.
    display: String,
    /// The spec's text, to find the lines of its examples.
    text: String,
    doc: Value,
    /// Operation ids, in document order.
    operations: Vec<String>,
    checkers: HashMap<String, Checker>,
}

/// The state of one audit: the specs read so far, the defaults for raw
/// bodies, and the report.
pub(crate) struct Auditor {
    specs_dir: PathBuf,
    specs: HashMap<String, Result<LoadedSpec, String>>,
    provider: Option<String>,
    operation: Option<String>,
    report: Report,
    issues: Vec<Issue>,
}

impl Auditor {
    fn new(specs_dir: &Path) -> Self {
        Self {
            specs_dir: specs_dir.to_path_buf(),
            specs: HashMap::new(),
            provider: None,
            operation: None,
            report: Report::default(),
            issues: Vec::new(),
        }
    }

    fn spec(&mut self, provider: &str) -> Result<&mut LoadedSpec, String> {
        let loaded = match self.specs.entry(provider.to_owned()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(load(&self.specs_dir, provider)),
        };
        loaded.as_mut().map_err(|message| message.clone())
    }

    /// The checker of one operation's 200 response, compiled on first use.
    fn checker(&mut self, provider: &str, operation: &str) -> Result<&Checker, String> {
        let spec = self.spec(provider)?;
        if !spec.checkers.contains_key(operation) {
            let found = operations(&spec.doc)
                .into_iter()
                .find(|(_, _, _, candidate)| candidate.get("operationId").and_then(Value::as_str) == Some(operation));
            let Some((pointer, _, _, found)) = found else {
                return Err(format!(
                    "{} has no operation `{operation}`; it has: {}",
                    spec.display,
                    spec.operations.join(", ")
                ));
            };
            let checker = schema::response_schema(&spec.doc, &pointer, found)
                .and_then(|(schema_pointer, schema)| Checker::new(&spec.doc, schema, &schema_pointer))
                .map_err(|error| format!("{}: {error:#}", spec.display))?;
            spec.checkers.insert(operation.to_owned(), checker);
        }
        Ok(&spec.checkers[operation])
    }

    /// Sets `--provider` (and `--operation`), checking that they exist.
    fn set_defaults(&mut self, provider: &str, operation: Option<&str>) -> Result<(), String> {
        let first = self.spec(provider)?.operations.first().cloned();
        let operation = match operation.map(str::to_owned).or(first) {
            Some(operation) => operation,
            None => return Err(format!("specs/{provider}.yaml has no operation")),
        };
        self.checker(provider, &operation)?;
        self.provider = Some(provider.to_owned());
        self.operation = Some(operation);
        Ok(())
    }

    /// The provider and operation raw bodies are checked against.
    fn defaults(&self) -> Option<(String, String)> {
        Some((self.provider.clone()?, self.operation.clone()?))
    }

    /// Checks one body and adds what it found to the report. The checker must
    /// have been compiled (see [`Auditor::checker`]).
    fn audit_body(&mut self, provider: &str, operation: &str, body: &Value, at: &Where<'_>) {
        let Auditor { specs, report, issues, .. } = self;
        let Some(Ok(spec)) = specs.get(provider) else { return };
        let Some(checker) = spec.checkers.get(operation) else { return };
        issues.clear();
        checker.check(body, issues);
        report.add_body(provider, operation, Some(body), issues, &at.locator(issues));
    }
}

/// Every provider with a spec in `specs_dir`, sorted.
fn providers(specs_dir: &Path) -> Vec<String> {
    let mut providers: Vec<String> = std::fs::read_dir(specs_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_string_lossy().strip_suffix(".yaml").map(str::to_owned))
        .collect();
    providers.sort();
    providers
}

fn load(specs_dir: &Path, provider: &str) -> Result<LoadedSpec, String> {
    let plain =
        !provider.is_empty() && provider.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let path = specs_dir.join(format!("{provider}.yaml"));
    let display = crate::display_path(&path).display().to_string();
    if !plain || !path.is_file() {
        return Err(format!(
            "no spec for provider `{provider}` in {}; known: {}",
            crate::display_path(specs_dir).display(),
            providers(specs_dir).join(", ")
        ));
    }
    let spec = Spec::load(&path, PathBuf::from(&display)).map_err(|error| format!("{error:#}"))?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let operations = operations(&spec.value)
        .iter()
        .filter_map(|(_, _, _, operation)| operation.get("operationId").and_then(Value::as_str).map(str::to_owned))
        .collect();
    Ok(LoadedSpec { display, text, doc: spec.value, operations, checkers: HashMap::new() })
}
