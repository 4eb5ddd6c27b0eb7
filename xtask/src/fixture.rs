//! `cargo xtask fixture add`: turns a capture file written by `spaces
//! --record DIR` (or `ClientBuilder::record`) into a test fixture.
//!
//! ```text
//! cargo xtask fixture add [--provider P] CAPTURE --name NAME
//! ```
//!
//! The capture's raw body is copied, byte for byte (less a leading UTF-8
//! byte order mark, which a JSON file must not start with), to
//! `tests/fixtures/<provider>/<NAME>.json` (`.json` is added when NAME lacks
//! it), then audited against the capture's operation in `specs/<provider>.yaml`
//! (as `cargo xtask audit --provider P --operation OP FILE` would), and the
//! maintainer is told to review the snapshot the new fixture gets
//! (`cargo test -p spaces-tests`, then `cargo insta review`).
//!
//! Rules, each a usage error (exit 2) when broken:
//!
//! - The capture is at most [`MAX_BODY_BYTES`]
//!   long (4 MiB, as the audit reads it) and is a capture [`spaces_capture`]
//!   reads (the format is documented there), with a 2xx `status` and a
//!   UTF-8 `body` that is JSON (fixtures are 2xx JSON bodies; a provider's
//!   failure inside a 200 is a fixture named `err-*`).
//! - The provider is the capture's, and has a spec whose operations include
//!   the capture's. `--provider` is optional and, when given, must name the
//!   same provider: a body filed under another provider would be read by the
//!   wrong converter, so there is no override.
//! - NAME is a plain file name (letters, digits, `.`, `_`, `-`; no
//!   directory), and says what the fixture is, as the fixture tests read
//!   names: a body of any operation but the spec's first (its single-Space
//!   lookup, as the audit takes it from the parsed spec) is a multi-Space
//!   body and must be named `multi-*`, and a lookup's body must not be.
//!
//! An existing fixture is never overwritten (exit 1). When the fixture is
//! written, the exit status is 0 whatever the audit found: its findings are
//! printed with what to do about them (fix the spec, or name the fixture
//! `bad-*` / `extra-*` when it is malformed or extended on purpose), and
//! `cargo xtask audit --fixtures` (CI) holds every fixture to its name.

use crate::args::Flag;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use spaces_capture::{Body, Capture};

use crate::audit::{self, MAX_BODY_BYTES};
use crate::spec::{Spec, operations};

/// Exit status: the fixture was added.
pub const EXIT_ADDED: u8 = 0;
/// Exit status: the fixture already exists; nothing was written.
pub const EXIT_EXISTS: u8 = 1;
/// Exit status: a usage error, or an unreadable or unusable capture.
pub const EXIT_USAGE: u8 = 2;

const USAGE: &str = "usage: cargo xtask fixture add [--provider P] CAPTURE --name NAME

  Copies the raw body of CAPTURE (a *.capture.json written by
  `spaces --record DIR`) to tests/fixtures/<provider>/<NAME>.json, audits it
  against its operation in specs/<provider>.yaml, and says how to review
  the snapshot it gets.

  CAPTURE       a capture file (2xx, JSON body; at most 4 MiB)
  --name NAME   the fixture's name (`.json` added if missing); a body of a
                multi-Space operation (X's batch, search, by-creator) must be
                named multi-*
  --provider P  optional; must be the capture's provider
  --specs DIR   read the specs from DIR (default: specs/)
  --fixtures-dir DIR
                write under DIR (default: tests/fixtures/)

  exit status: 0 added, 1 the fixture exists (nothing written), 2 usage
  error or unusable capture";

/// What `fixture add` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOptions {
    /// The capture file.
    pub capture: PathBuf,
    /// The fixture's name, with `.json`.
    pub name: String,
    /// `--provider`, when given.
    pub provider: Option<String>,
    /// Where the specs are.
    pub specs_dir: PathBuf,
    /// Where the fixtures are.
    pub fixtures_dir: PathBuf,
}

impl AddOptions {
    /// Reads the arguments after `fixture add`; `Ok(None)` for `--help`.
    pub fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let root = crate::project_root();
        let (mut capture, mut name, mut provider) = (None, None, None);
        let (mut specs_dir, mut fixtures_dir) = (root.join("specs"), root.join("tests/fixtures"));
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let flag = Flag::split(arg);
            match flag.name {
                "-h" | "--help" => return Ok(None),
                "--name" => name = Some(flag.value(&mut args)?),
                "--provider" => provider = Some(flag.value(&mut args)?),
                "--specs" => specs_dir = PathBuf::from(flag.value(&mut args)?),
                "--fixtures-dir" => fixtures_dir = PathBuf::from(flag.value(&mut args)?),
                flag if flag.starts_with('-') && flag != "-" => return Err(format!("unknown flag `{arg}`")),
                _ if capture.is_some() => return Err(format!("one CAPTURE at a time (`{arg}` is a second one)")),
                _ => capture = Some(PathBuf::from(arg)),
            }
        }
        let capture = capture.ok_or("no CAPTURE given")?;
        let name = name.ok_or("`--name NAME` is required")?;
        let name = if name.ends_with(".json") { name } else { format!("{name}.json") };
        let stem = &name[..name.len() - ".json".len()];
        if stem.is_empty()
            || stem.starts_with('.')
            || !stem.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(format!("`{name}` is not a fixture name: use letters, digits, `.`, `_` and `-`, no directory"));
        }
        Ok(Some(AddOptions { capture, name, provider, specs_dir, fixtures_dir }))
    }
}

/// The parts of a capture a fixture needs.
#[derive(Debug)]
struct Fixture {
    provider: String,
    operation: String,
    /// The body, without a leading byte order mark.
    body: String,
}

fn read_capture(path: &Path) -> Result<Fixture, String> {
    let shown = path.display();
    let bytes = read_capped(path)
        .map_err(|error| format!("{shown}: cannot read: {error}"))?
        .ok_or_else(|| format!("{shown}: longer than {MAX_BODY_BYTES} bytes; not read"))?;
    let Capture { provider, operation, status, body, .. } =
        Capture::from_slice(&bytes).map_err(|error| format!("{shown}: {error}"))?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "{shown}: status {status}: fixtures are 2xx bodies (a provider's failure inside a 200 is an `err-*` fixture)"
        ));
    }
    let Body::Text(body) = body else {
        return Err(format!("{shown}: the body is not UTF-8 (`body_base64`), so it cannot be a JSON fixture"));
    };
    // JSON does not allow the mark; `spaces convert` and the audit skip it, a fixture drops it.
    let body = match body.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => body,
    };
    if let Err(error) = serde_json::from_str::<Value>(&body) {
        return Err(format!("{shown}: the body is not JSON ({error}), so it cannot be a fixture"));
    }
    Ok(Fixture { provider, operation, body })
}

/// A whole file, read no further than [`MAX_BODY_BYTES`]; `None` when it is longer.
fn read_capped(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= MAX_BODY_BYTES).then_some(bytes))
}

/// The spec's `operationId`s from the parsed spec, in the order the audit
/// takes them; the first is its single-Space lookup.
fn spec_operations(spec: &Path) -> Result<Vec<String>, String> {
    let spec = Spec::load(spec, crate::display_path(spec)).map_err(|error| format!("{error:#}"))?;
    let ids: Vec<String> = operations(&spec.value)
        .into_iter()
        .filter_map(|(_, _, _, operation)| operation.get("operationId").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if ids.is_empty() {
        return Err(format!("{}: no operationId", spec.display_path.display()));
    }
    Ok(ids)
}

/// Adds the fixture; prints what happened; returns the exit status.
pub fn add(options: &AddOptions) -> u8 {
    let capture = match read_capture(&options.capture) {
        Ok(capture) => capture,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    if let Some(provider) = &options.provider
        && *provider != capture.provider
    {
        eprintln!(
            "error: `--provider {provider}`, but {} is a `{}` capture; fixtures go under their own provider",
            options.capture.display(),
            capture.provider
        );
        return EXIT_USAGE;
    }
    let provider = &capture.provider;
    // A provider is a spec's file stem and a fixture directory: never a path.
    if provider.is_empty() || !provider.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        eprintln!("error: {}: `{provider}` is not a provider name", options.capture.display());
        return EXIT_USAGE;
    }
    let spec = options.specs_dir.join(format!("{provider}.yaml"));
    let operations = match spec_operations(&spec) {
        Ok(operations) => operations,
        Err(message) => {
            eprintln!("error: provider `{provider}` has no usable spec: {message}");
            return EXIT_USAGE;
        }
    };
    if !operations.contains(&capture.operation) {
        eprintln!(
            "error: {} is a `{}` capture, which {} does not declare; it has: {}",
            options.capture.display(),
            capture.operation,
            crate::display_path(&spec).display(),
            operations.join(", ")
        );
        return EXIT_USAGE;
    }
    let multi = capture.operation != operations[0];
    if multi != options.name.starts_with("multi-") {
        let why = if multi {
            format!("a `{}` body holds several Spaces: name it `multi-*`", capture.operation)
        } else {
            format!("a `{}` body is one Space: only multi-Space bodies are named `multi-*`", capture.operation)
        };
        eprintln!("error: fixture name `{}`: {why}", options.name);
        return EXIT_USAGE;
    }
    let directory = options.fixtures_dir.join(provider);
    let destination = directory.join(&options.name);
    if let Err(error) = std::fs::create_dir_all(&directory) {
        eprintln!("error: {}: cannot create: {error}", directory.display());
        return EXIT_USAGE;
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&destination)
        .and_then(|mut file| std::io::Write::write_all(&mut file, capture.body.as_bytes()));
    match written {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {} exists; not overwritten (pick another --name, or remove it first)",
                destination.display()
            );
            return EXIT_EXISTS;
        }
        Err(error) => {
            let _ = std::fs::remove_file(&destination);
            eprintln!("error: {}: cannot write: {error}", destination.display());
            return EXIT_USAGE;
        }
    }
    println!(
        "added {} ({} bytes, `{}` body from {})",
        destination.display(),
        capture.body.len(),
        capture.operation,
        options.capture.display()
    );
    println!("\naudit ({provider} {}):", capture.operation);
    let audit = audit::Options {
        provider: Some(provider.clone()),
        operation: Some(capture.operation.clone()),
        json: false,
        fixtures: false,
        specs_dir: options.specs_dir.clone(),
        fixtures_dir: options.fixtures_dir.clone(),
        paths: vec![destination.display().to_string()],
    };
    let verdict = audit::run(&audit);
    let expected = if options.name.starts_with("bad-") {
        "drift (named bad-*)"
    } else if options.name.starts_with("extra-") {
        "only undeclared fields (named extra-*)"
    } else {
        "clean"
    };
    match verdict {
        audit::EXIT_CLEAN => println!("\nthe body conforms to specs/{provider}.yaml (expected: {expected})"),
        audit::EXIT_DRIFT => println!(
            "\nthe body drifts from specs/{provider}.yaml (expected: {expected}). Unless that is the point of the \
             fixture (name it bad-* or extra-*), update the spec to what the provider sends, run `cargo xtask \
             regen`, and check `cargo xtask audit --fixtures`."
        ),
        _ => println!("\nthe audit could not run (see above); run `cargo xtask audit --fixtures` once it can"),
    }
    println!(
        "\nnext: review the new fixture's snapshot:\n  cargo test -p spaces-tests\n  cargo insta review\n\
         (tests/it/fixtures.rs snapshots every fixture; review what {} normalizes to before committing)",
        options.name
    );
    EXIT_ADDED
}

/// `cargo xtask fixture ARGS`: runs, prints, and gives the exit status.
pub fn main(args: &[String]) -> ExitCode {
    let rest = match args.split_first() {
        Some((command, rest)) if command == "add" => rest,
        Some((flag, _)) if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some((command, _)) => {
            eprintln!("error: unknown fixture command `{command}`\n\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match AddOptions::parse(rest) {
        Ok(Some(options)) => ExitCode::from(add(&options)),
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
