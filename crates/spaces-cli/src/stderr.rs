//! Lines on stderr that never panic: a closed stderr (`2>&-`) loses the
//! line, and nothing else.

use std::fmt;
use std::io::{self, Write};

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
