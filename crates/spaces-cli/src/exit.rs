//! Exit codes (documented in `--help` and the README) and one-line failures.

use std::process::ExitCode;

use spaces::Error;

/// The `--help` text listing the exit codes.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  failure (bad data, upstream error, timeout, transport; in bulk modes: any line or id failed)
  2  usage error (bad arguments)
  3  Space not found
  4  not authorized, out of credits, or no usable token
  5  rate limited";

pub const FAILURE: u8 = 1;
pub const NOT_FOUND: u8 = 3;
pub const AUTH: u8 = 4;
pub const RATE_LIMITED: u8 = 5;

/// A failure to report: one line for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    /// Prints `error: <message>` on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { code: code_for(&error), message: error.to_string() }
    }
}

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
pub fn report(error: Error) -> ExitCode {
    Failure::from(error).report()
}
