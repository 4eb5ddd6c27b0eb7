//! Lines on stderr that never panic: a closed stderr (`2>&-`) loses the
//! line, and nothing else.

use std::fmt;
use std::io::{self, IsTerminal, Write};

/// Prints one line on stderr, never panicking: a closed stderr loses the
/// line, and nothing else.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::stderr::stderr_line(format_args!($($arg)*))
    };
}
pub(crate) use note;

/// Writes `line` and a newline to stderr, ignoring a failure to.
pub fn stderr_line(line: fmt::Arguments<'_>) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_fmt(line).and_then(|()| stderr.write_all(b"\n"));
}

/// Whether stderr may be coloured: it is a terminal, and `NO_COLOR` is
/// unset or empty (<https://no-color.org>).
pub fn colour() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
