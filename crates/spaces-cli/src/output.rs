//! Where everything the command prints goes through: stdout, which a reader
//! may close at any time (`spaces … | head -1`), and stderr, which may be
//! closed too (`2>&-`). Neither ever panics, and a closed stdout ends the
//! run quietly: the reader has all it wanted.
//!
//! Text from a provider is shown with [`shown`] (control characters and
//! bidi overrides escaped, by the library's one helper) wherever it is not
//! JSON: on stderr, in tables, in `error:` lines. JSON output escapes by
//! itself and stays valid JSON.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use crate::exit::{Exit, Failure};

/// Prints one line on stderr, never panicking: a closed stderr loses the
/// line, and nothing else.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::output::stderr_line(format_args!($($arg)*))
    };
}
pub(crate) use note;

/// Writes `line` and a newline to stderr, ignoring a failure to.
pub fn stderr_line(line: fmt::Arguments<'_>) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_fmt(line).and_then(|()| stderr.write_all(b"\n"));
}

/// Provider text as the terminal may show it: one line, no escapes.
pub fn shown(text: &str) -> Cow<'_, str> {
    spaces::escape_controls(text)
}

/// Writes `text` to stdout.
pub fn write_stdout(text: &str) -> Result<(), Failure> {
    write_stdout_bytes(text.as_bytes())
}

/// Writes `bytes` to stdout and flushes them, so that what was answered is
/// out before anything else happens.
///
/// # Errors
///
/// [`closed`] when the reader has gone; a failure naming the cause otherwise.
pub fn write_stdout_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush()).map_err(|error| write_failure(&error))
}

/// The failure a write error on stdout stands for.
pub fn write_failure(error: &io::Error) -> Failure {
    if error.kind() == io::ErrorKind::BrokenPipe {
        closed()
    } else {
        Failure::new(Exit::Failure, format!("cannot write output: {error}"))
    }
}

/// The reader closed stdout: stop, say nothing, exit 0 (as the README says;
/// the reader took what it wanted, like `head`).
pub fn closed() -> Failure {
    Failure::quiet(Exit::Success)
}
