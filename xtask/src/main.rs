//! `cargo xtask regen [--check] [PROVIDER...]`, `cargo xtask coverage [--check]`,
//! `cargo xtask audit`, `cargo xtask fixture add` and `cargo xtask man`.

#![deny(missing_docs)]

use std::process::ExitCode;

use xtask::coverage;
use xtask::regen::{self, Outcome, RegenOptions};

const USAGE: &str = "usage: cargo xtask regen [--check] [PROVIDER...]
       cargo xtask coverage [--check]
       cargo xtask audit --provider P [--operation OPERATION_ID] [--json] PATH...
       cargo xtask audit --fixtures [--json]
       cargo xtask fixture add [--provider P] CAPTURE --name NAME
       cargo xtask man [DIR]

  regen       Regenerates generated/src/<provider>.rs from specs/<provider>.yaml
              (the client, its types and the spec's facts as SPEC), and
              generated/src/lib.rs from the set of specs.
  coverage    Rewrites docs/field-coverage.md by converting every fixture.
  audit       Checks captured response bodies (or, with --fixtures, every
              fixture and spec example) against the specs; see
              `cargo xtask audit --help`.
  fixture add Copies a capture's body (spaces --record DIR) to
              tests/fixtures/<provider>/NAME.json and audits it; see
              `cargo xtask fixture --help`.
  man         Writes the man pages of `spaces` (spaces.1, spaces-show.1, ...)
              into DIR (default target/man), with clap_mangen, from the
              command line `spaces --help` is rendered from.
  --check     write nothing; fail with a diff if the output is stale
  PROVIDER    only these providers (default: every spec in specs/)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match task.as_str() {
        "regen" => run_regen(rest),
        "coverage" => run_coverage(rest),
        "audit" => xtask::audit::main(rest),
        "fixture" => xtask::fixture::main(rest),
        "man" => run_man(rest),
        "-h" | "--help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("unknown task `{task}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The CLI owns its command line, so it writes its own pages (the hidden
/// `spaces man DIR`); this task builds it and says where they went.
fn run_man(args: &[String]) -> ExitCode {
    let out = match args {
        [] => xtask::project_root().join("target/man"),
        // Relative to where the task was started, not to the workspace root cargo runs in.
        [dir] if !dir.starts_with('-') => match std::path::absolute(dir) {
            Ok(dir) => dir,
            Err(error) => {
                eprintln!("cannot use {dir}: {error}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: cargo xtask man [DIR]");
            return ExitCode::from(2);
        }
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--locked", "-p", "spaces-cli", "--", "man"])
        .arg(&out)
        .current_dir(xtask::project_root())
        .status();
    match status {
        Ok(status) if status.success() => {
            println!("man pages written to {}", out.display());
            ExitCode::SUCCESS
        }
        Ok(status) => {
            eprintln!("`spaces man` failed: {status}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("cannot run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_coverage(args: &[String]) -> ExitCode {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: cargo xtask coverage [--check]");
            return ExitCode::from(2);
        }
    };
    match coverage::run(&xtask::project_root(), check) {
        Ok(xtask::files::FileChange::Unchanged) => {
            println!("{} unchanged", coverage::OUTPUT);
            ExitCode::SUCCESS
        }
        Ok(xtask::files::FileChange::Written) => {
            println!("{} updated", coverage::OUTPUT);
            ExitCode::SUCCESS
        }
        Ok(xtask::files::FileChange::WouldChange { diff }) => {
            print!("{diff}");
            eprintln!("error: {} is stale; run `{}` and commit the result", coverage::OUTPUT, coverage::COMMAND);
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_regen(rest: &[String]) -> ExitCode {
    let mut options = RegenOptions::for_workspace();
    for arg in rest {
        match arg.as_str() {
            "--check" => options.check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            flag if flag.starts_with('-') => {
                eprintln!("unknown flag `{flag}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
            provider => options.only.push(provider.to_owned()),
        }
    }

    let reports = match regen::run(&options) {
        Ok(reports) => reports,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = false;
    for report in &reports {
        println!("{report}");
        for change in &report.api_changes {
            println!("    {change}");
        }
        if let Outcome::Stale { diff } = &report.outcome {
            stale = true;
            print!("{diff}");
        }
        if report.outcome == Outcome::Orphaned {
            stale = true;
        }
    }
    if stale {
        eprintln!("error: generated code is stale; run `{}` and commit the result", regen::COMMAND);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
