//! Exit codes (documented in `--help` and the README) and one-line failures.

use std::process::ExitCode;

use spaces::Error;

use crate::stderr::note;

/// Declares [`Exit`] with each code's description written once, as its doc
/// comment: `--help` lists them from [`Exit::ALL`] and [`Exit::description`].
macro_rules! exit_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $code:literal,)+) => {
        /// The process's exit code. `--help` lists every one with its description.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Exit {
            $($(#[doc = $doc])+ $variant = $code,)+
        }

        impl Exit {
            /// Every exit code, in numeric order.
            pub const ALL: &'static [Exit] = &[$(Exit::$variant),+];

            /// What the code means, as `--help` prints it.
            pub fn description(self) -> &'static str {
                match self {
                    $(Exit::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

exit_codes! {
    /// success
    Success = 0,
    /// failure: bad data, upstream error, timeout, transport; in bulk and multi-Space modes, any id, line or item failed
    Failure = 1,
    /// usage error (bad arguments)
    Usage = 2,
    /// Space not found
    NotFound = 3,
    /// not authorized, out of credits, or no usable token (the message names the variable to set)
    Auth = 4,
    /// rate limited
    RateLimited = 5,
}

impl Exit {
    /// The exit code for an error.
    pub fn for_error(error: &Error) -> Exit {
        match error {
            Error::NotFound { .. } => Exit::NotFound,
            Error::Unauthorized { .. }
            | Error::PaymentRequired { .. }
            | Error::MissingToken { .. }
            | Error::InvalidToken { .. } => Exit::Auth,
            Error::RateLimited { .. } => Exit::RateLimited,
            // Refused before any request: the arguments are wrong, not the answer.
            Error::InvalidArgument { .. } | Error::Unsupported { .. } | Error::RecordDir { .. } => Exit::Usage,
            _ => Exit::Failure,
        }
    }

    /// The `--help` text listing the exit codes.
    pub fn help() -> String {
        let mut text = "Exit codes:".to_owned();
        for &exit in Exit::ALL {
            text.push_str(&format!("\n  {}  {}", exit as u8, exit.description()));
        }
        text
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// A failure to report: one line for stderr (none for a quiet one) and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub exit: Exit,
    /// Ends the run without a word (stdout was closed by its reader).
    pub quiet: bool,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure { message: message.into(), exit, quiet: false }
    }

    /// A failure that stops the run and says nothing.
    pub fn quiet(exit: Exit) -> Failure {
        Failure { message: String::new(), exit, quiet: true }
    }

    /// Prints `error: <message>` on stderr (unless quiet) and returns the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.quiet {
            note!("error: {}", self.message);
        }
        self.exit.into()
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::new(Exit::for_error(&error), error.to_string())
    }
}

/// Prints the error as one line on stderr and returns its exit code.
pub fn report(error: Error) -> ExitCode {
    Failure::from(error).report()
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_are_listed_in_order_without_gaps() {
        for (index, &exit) in Exit::ALL.iter().enumerate() {
            assert_eq!(usize::from(exit as u8), index, "{exit:?}");
            assert!(!exit.description().is_empty(), "{exit:?}");
        }
    }

    #[test]
    fn usage_is_the_code_clap_exits_with() {
        let error = clap::Command::new("t").try_get_matches_from(["t", "--nope"]).expect_err("unknown flag");
        assert_eq!(error.exit_code(), i32::from(Exit::Usage as u8));
    }

    #[test]
    fn help_lists_every_code_once() {
        let help = Exit::help();
        assert!(help.starts_with("Exit codes:\n  0  success\n  1  failure: bad data"), "{help}");
        assert!(help.ends_with("\n  5  rate limited"), "{help}");
        assert_eq!(help.lines().count(), 1 + Exit::ALL.len());
    }
}
