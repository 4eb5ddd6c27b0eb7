//! Exit codes, documented in `--help` and the README.

use std::process::ExitCode;

use spaces::Error;

/// The `--help` text listing the exit codes.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  failure (bad data, upstream error, timeout, transport; or any line/id failed in bulk mode)
  2  usage error (bad arguments)
  3  Space not found
  4  not authorized, out of credits, or no token set
  5  rate limited";

pub const FAILURE: u8 = 1;
pub const NOT_FOUND: u8 = 3;
pub const AUTH: u8 = 4;
pub const RATE_LIMITED: u8 = 5;

/// The exit code for an error.
pub fn code_for(error: &Error) -> u8 {
    match error {
        Error::NotFound { .. } => NOT_FOUND,
        Error::Unauthorized { .. } | Error::PaymentRequired { .. } | Error::MissingToken { .. } => AUTH,
        Error::RateLimited { .. } => RATE_LIMITED,
        _ => FAILURE,
    }
}

/// Prints the error as one line on stderr and returns its exit code.
pub fn report(error: &Error) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(code_for(error))
}
