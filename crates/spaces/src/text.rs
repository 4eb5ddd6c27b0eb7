//! Provider text made safe to show on a terminal or in a log: the one place
//! that decides which characters are escaped.
//!
//! A provider is untrusted input. A Space title, an id in a problem, a field
//! name in a malformed body may carry a newline (which would forge an extra
//! `error:` line), an ANSI escape (which would rewrite the terminal) or a
//! bidi override (which would reorder what a table shows). Everything the
//! crate's errors print, and everything the CLI prints outside JSON, goes
//! through [`escape_controls`].

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as it is: C0 and C1 control
/// characters (ESC starts every ANSI sequence), DEL, the line and paragraph
/// separators, and the Unicode bidi controls (embeddings, overrides,
/// isolates and marks), which reorder the text around them. This is the
/// set [`escape_controls`] escapes.
pub fn unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character that could break a line or drive a terminal
/// escaped: `\n`, `\r`, `\t` as those two-character sequences, any other
/// control character, line separator or bidi control as `\u{..}`. Other
/// text, non-ASCII included, is kept as it is. Borrows when nothing needs
/// escaping (the common case).
///
/// ```
/// assert_eq!(spaces::escape_controls("a\nb\u{1b}[31m\u{202e}c"), r"a\nb\u{1b}[31m\u{202e}c");
/// assert_eq!(spaces::escape_controls("Café ☕"), "Café ☕");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str(r"\n"),
            '\r' => escaped.push_str(r"\r"),
            '\t' => escaped.push_str(r"\t"),
            c if unsafe_on_terminal(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn one_line_whatever_the_input() {
        for hostile in ["a\nb", "a\r\nb", "\u{1b}[2J", "x\u{85}y", "\u{2028}", "\u{7f}", "\u{0}"] {
            let shown = escape_controls(hostile);
            assert!(!shown.chars().any(|c| c.is_control() || c == '\u{2028}'), "{hostile:?} -> {shown:?}");
        }
    }

    #[test]
    fn bidi_controls_are_escaped_and_plain_text_is_borrowed() {
        assert_eq!(escape_controls("\u{202e}evil"), r"\u{202e}evil");
        assert_eq!(escape_controls("\u{2067}x\u{2069}"), r"\u{2067}x\u{2069}");
        assert!(matches!(escape_controls("Rust ⚙ Spaces"), std::borrow::Cow::Borrowed(_)));
    }
}
