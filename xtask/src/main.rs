//! `cargo xtask regen [--check] [PROVIDER...]`

use std::process::ExitCode;

use xtask::regen::{self, Outcome, RegenOptions};

const USAGE: &str = "usage: cargo xtask regen [--check] [PROVIDER...]

  Regenerates generated/src/<provider>.rs from specs/<provider>.yaml.
  --check     write nothing; fail with a diff if any generated file is stale
  PROVIDER    only these providers (default: every spec in specs/)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if task != "regen" {
        eprintln!("unknown task `{task}`\n\n{USAGE}");
        return ExitCode::from(2);
    }
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
