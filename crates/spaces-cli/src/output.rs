//! Where everything the command prints goes through: stdout, which a reader
//! may close at any time (`spaces … | head -1`), and stderr, which may be
//! closed too (`2>&-`). Neither ever panics, and a closed stdout ends the
//! run quietly: the reader has all it wanted.
//!
//! Text from a provider is shown with [`shown`] (control characters and
//! bidi overrides escaped, by the library's one helper) wherever it is not
//! JSON: on stderr, in tables, in `error:` lines. JSON is written by
//! [`json_line`] and [`json_pretty`], which escape the same characters as
//! `\uXXXX`: still valid JSON, and just as safe to `cat`.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use crate::exit::{Exit, Failure};

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

/// `value` as one line of JSON, appended to `out` (without a newline).
pub fn json_line<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(out, TerminalSafe(CompactFormatter)))
}

/// `value` as indented JSON, ending in a newline.
pub fn json_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, TerminalSafe(PrettyFormatter::new())))?;
    out.push(b'\n');
    // The serializer writes only UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A JSON formatter that also writes, inside strings, the characters that
/// drive a terminal and that JSON allows raw (DEL, C1 controls, the line
/// separators, bidi controls) as `\uXXXX` escapes: the output is the same
/// JSON to any reader, and `cat`ting it cannot rewrite the screen or
/// reorder a line. (serde_json escapes the C0 controls itself.)
struct TerminalSafe<F>(F);

impl<F: Formatter> Formatter for TerminalSafe<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        // The common case, plain text, is written as it is.
        if !fragment.chars().any(spaces::text::unsafe_on_terminal) {
            return writer.write_all(fragment.as_bytes());
        }
        for c in fragment.chars() {
            if spaces::text::unsafe_on_terminal(c) {
                // Every such character is in the Basic Multilingual Plane: one escape.
                write!(writer, "\\u{:04x}", u32::from(c))?;
            } else {
                let mut buf = [0u8; 4];
                writer.write_all(c.encode_utf8(&mut buf).as_bytes())?;
            }
        }
        Ok(())
    }

    // What the pretty formatter does differently from the compact one, passed on.
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::{json_line, json_pretty};

    #[test]
    fn json_escapes_what_drives_a_terminal_and_reads_back_the_same() {
        let value = serde_json::json!({"title": "a\u{1b}[31m\u{7f}\u{85}\u{202e}b\u{2028}é", "n": [1, 2]});
        let mut line = Vec::new();
        json_line(&mut line, &value).expect("JSON");
        let text = String::from_utf8(line).expect("UTF-8");
        assert_eq!(text, r#"{"title":"a\u001b[31m\u007f\u0085\u202eb\u2028é","n":[1,2]}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON"), value);
        let pretty = json_pretty(&value).expect("JSON");
        assert!(pretty.contains("\n  \"n\": [\n    1,"), "{pretty}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&pretty).expect("valid JSON"), value);
    }
}
