//! Reading what is audited: raw bodies (one JSON document per file), NDJSON
//! (one body per line, streamed), capture files written by `spaces --record`,
//! and directories of them. Nothing longer than [`MAX_BODY_BYTES`] is held:
//! a longer file is refused, a longer line skipped, each named as an error.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde_json::Value;
use spaces_capture::Capture;

use super::schema::{Issue, Kind, Segment};
use super::{Auditor, MAX_BODY_BYTES};

/// A UTF-8 byte order mark. It is not JSON, but `spaces convert` accepts a
/// body that starts with one, so the audit does too.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where a body came from, to render `file:line` locations.
pub struct Where<'a> {
    pub file: &'a str,
    /// The line the body starts on.
    pub line: usize,
    /// The whole document's text, when the body is a file of its own: the line
    /// of each finding is then looked up in it.
    pub text: Option<&'a [u8]>,
}

impl Where<'_> {
    /// Renders the `file:line` of a path of one of `issues`. In a document of
    /// its own, the lines of all of them are found in one walk of the text, on
    /// first use.
    pub fn locator<'s>(&'s self, issues: &'s [Issue]) -> impl Fn(&[Segment]) -> String + 's {
        let lines = OnceCell::new();
        move |path| {
            let line = self
                .text
                .and_then(|text| {
                    lines.get_or_init(|| Lines::find(text, issues.iter().map(|issue| issue.path.as_slice()))).line(path)
                })
                .unwrap_or(self.line);
            format!("{}:{line}", self.file)
        }
    }
}

/// Audits each PATH (a file, a directory, or `-` for NDJSON on stdin).
pub fn audit_paths(auditor: &mut Auditor, paths: &[String]) {
    for path in paths {
        if path == "-" {
            auditor.report.files += 1;
            audit_ndjson(auditor, std::io::stdin().lock(), "<stdin>");
            continue;
        }
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {
                let before = auditor.report.files;
                audit_directory(auditor, Path::new(path), path.trim_end_matches('/'));
                if auditor.report.files == before {
                    eprintln!("warning: {path}: no .json, .ndjson or .jsonl file in it");
                }
            }
            Ok(_) => audit_file(auditor, Path::new(path), path),
            Err(error) => auditor.report.error(format!("{path}: cannot read: {error}")),
        }
    }
}

/// Every `.json`, `.ndjson` and `.jsonl` file below `directory`, in name order
/// (symbolic links to directories are not followed).
fn audit_directory(auditor: &mut Auditor, directory: &Path, display: &str) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => return auditor.report.error(format!("{display}: cannot read: {error}")),
    };
    let mut children: Vec<(String, std::path::PathBuf, bool)> = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => return auditor.report.error(format!("{display}: cannot read: {error}")),
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        children.push((name, entry.path(), is_dir));
    }
    children.sort();
    for (name, path, is_dir) in children {
        let child_display = format!("{display}/{name}");
        if is_dir {
            audit_directory(auditor, &path, &child_display);
        } else if [".json", ".ndjson", ".jsonl"].iter().any(|extension| name.ends_with(extension)) {
            audit_file(auditor, &path, &child_display);
        }
    }
}

/// One file: NDJSON by its extension (`.ndjson`, `.jsonl`), else one JSON document.
pub fn audit_file(auditor: &mut Auditor, path: &Path, display: &str) {
    auditor.report.files += 1;
    let is_ndjson = path.extension().is_some_and(|extension| extension == "ndjson" || extension == "jsonl");
    if is_ndjson {
        match File::open(path) {
            Ok(file) => audit_ndjson(auditor, BufReader::with_capacity(1 << 16, file), display),
            Err(error) => auditor.report.error(format!("{display}: cannot read: {error}")),
        }
        return;
    }
    let text = match read_whole(path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            return auditor.report.error(format!(
                "{display}: longer than {MAX_BODY_BYTES} bytes; skipped (a raw body or capture file is read whole)"
            ));
        }
        Err(error) => return auditor.report.error(format!("{display}: cannot read: {error}")),
    };
    auditor.report.bytes += text.len() as u64;
    audit_document(auditor, &text, display);
}

/// A whole file, read no further than [`MAX_BODY_BYTES`]; `None` when it is
/// longer (a device or a pipe says no length, so the read itself is capped).
fn read_whole(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let file = File::open(path)?;
    if file.metadata()?.len() > MAX_BODY_BYTES as u64 {
        return Ok(None);
    }
    let mut text = Vec::new();
    file.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut text)?;
    Ok((text.len() <= MAX_BODY_BYTES).then_some(text))
}

/// A whole file holding one JSON value: a raw body or a capture.
pub fn audit_document(auditor: &mut Auditor, text: &[u8], display: &str) {
    let (text, bom) = strip_bom(text);
    match serde_json::from_slice::<Value>(text) {
        Ok(value) => audit_value(auditor, value, &Where { file: display, line: 1, text: Some(text) }),
        Err(error) => auditor.report.error(json_error(display, 0, bom, &error)),
    }
}

/// One body per line; blank lines are skipped. Memory holds one line at a
/// time, and a line longer than [`MAX_BODY_BYTES`] is skipped, not held.
pub fn audit_ndjson(auditor: &mut Auditor, mut reader: impl BufRead, display: &str) {
    let mut line = Vec::with_capacity(1 << 12);
    let mut number = 0;
    loop {
        let (read, complete) = match read_line(&mut reader, &mut line, MAX_BODY_BYTES) {
            Ok(Some(read)) => read,
            Ok(None) => break,
            Err(error) => {
                auditor.report.error(format!("{display}:{}: cannot read: {error}", number + 1));
                break;
            }
        };
        auditor.report.bytes += read;
        number += 1;
        if !complete {
            auditor.report.error(format!("{display}:{number}: longer than {MAX_BODY_BYTES} bytes; skipped"));
            continue;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        // Only the line break is cut, so that error columns are the line's.
        let text = line.strip_suffix(b"\r").unwrap_or(&line);
        let (text, bom) = strip_bom(text);
        match serde_json::from_slice::<Value>(text) {
            Ok(value) => audit_value(auditor, value, &Where { file: display, line: number, text: None }),
            Err(error) => auditor.report.error(json_error(display, number - 1, bom, &error)),
        }
    }
}

/// Reads the next line into `line` (cleared first, without its `\n`),
/// never holding more than `cap` bytes of it: a longer line is read to its
/// end a piece at a time and dropped. Returns the bytes the line took and
/// whether it was kept; `None` at the end of the input.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>, cap: usize) -> io::Result<Option<(u64, bool)>> {
    line.clear();
    let mut read = reader.by_ref().take(cap as u64 + 1).read_until(b'\n', line)? as u64;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        return Ok(Some((read, true)));
    }
    if line.len() <= cap {
        return Ok(Some((read, true))); // The last line, without a line break.
    }
    loop {
        line.clear();
        let piece = reader.by_ref().take(1 << 16).read_until(b'\n', line)?;
        read += piece as u64;
        if piece == 0 || line.last() == Some(&b'\n') {
            line.clear();
            return Ok(Some((read, false)));
        }
    }
}

/// The text without a leading byte order mark, and how many bytes were cut.
fn strip_bom(text: &[u8]) -> (&[u8], usize) {
    match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (text, 0),
    }
}

/// `file:line:column: not valid JSON: ...`; `line_offset` is added to the
/// parser's line (for NDJSON, the line's own number minus one), and `bom` (the
/// bytes cut before parsing) to a column on the first line, so that columns
/// are the file's.
fn json_error(display: &str, line_offset: usize, bom: usize, error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    let column = error.column() + if error.line() == 1 { bom } else { 0 };
    format!("{display}:{}:{column}: not valid JSON: {message}", error.line() + line_offset)
}

fn audit_value(auditor: &mut Auditor, value: Value, at: &Where<'_>) {
    if spaces_capture::is_capture(&value) {
        return audit_capture(auditor, value, at);
    }
    let Some((provider, operation)) = auditor.defaults() else {
        return auditor.report.error(format!(
            "{}:{}: a raw body needs `--provider` (only capture files name their provider)",
            at.file, at.line
        ));
    };
    auditor.audit_body(&provider, &operation, &value, at);
}

/// A capture's object (`{"spaces_capture": 1, ...}`, read by
/// [`Capture::from_value`]): its 2xx body is audited against its own
/// provider and operation; other statuses are skipped.
fn audit_capture(auditor: &mut Auditor, value: Value, at: &Where<'_>) {
    let location = format!("{}:{}", at.file, at.line);
    let capture = match Capture::from_value(value) {
        Ok(capture) => capture,
        Err(error) => return auditor.report.error(format!("{location}: {error}")),
    };
    let (provider, operation) = (capture.provider.as_str(), capture.operation.as_str());
    if !(200..300).contains(&capture.status) {
        auditor.report.skip(capture.status, location);
        return;
    }
    if let Err(message) = auditor.checker(provider, operation) {
        return auditor.report.error(format!("{location}: {message}"));
    }
    let (body, _) = strip_bom(capture.body_bytes());
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            auditor.audit_body(provider, operation, &value, &Where { file: at.file, line: at.line, text: None })
        }
        Err(_) => {
            let example = String::from_utf8_lossy(body).into_owned();
            auditor.report.add_raw(
                provider,
                operation,
                Kind::NotJson,
                "the body is not JSON".to_owned(),
                example,
                location,
            );
        }
    }
}

/// The 1-based lines where the values at some paths start in a JSON text
/// (or, for a path that is absent, where its nearest existing parent does),
/// found in one walk of the text: a trie of the paths, each node with the
/// line of its value. Walking from the start of the text once per path made a
/// body with n distinct findings cost n walks of it (10,000 undeclared fields
/// in a 190 kB file took 29 s).
#[derive(Debug, Default)]
pub struct Lines {
    /// The line of this node's value; `None` when the walk did not reach it.
    line: Option<usize>,
    keys: HashMap<String, Lines>,
    indexes: HashMap<usize, Lines>,
}

impl Lines {
    /// Walks `text` (one JSON value) once for all of `paths`.
    pub fn find<'p>(text: &[u8], paths: impl IntoIterator<Item = &'p [Segment]>) -> Self {
        let mut root = Lines::default();
        for path in paths {
            let mut node = &mut root;
            for segment in path {
                node = match segment {
                    Segment::Key(key) => node.keys.entry(key.clone()).or_default(),
                    Segment::Index(index) => node.indexes.entry(*index).or_default(),
                };
            }
        }
        let mut scanner = Scanner { text, at: 0, line: 1, counted: 0 };
        scanner.space();
        // Where the text stops making sense, the lines found so far stand.
        let _ = scanner.walk(&mut root);
        root
    }

    /// The line of the value at `path`, else of its nearest parent the walk reached.
    pub fn line(&self, path: &[Segment]) -> Option<usize> {
        let mut node = self;
        let mut line = node.line;
        for segment in path {
            let child = match segment {
                Segment::Key(key) => node.keys.get(key),
                Segment::Index(index) => node.indexes.get(index),
            };
            match child.and_then(|child| Some((child, child.line?))) {
                Some((child, found)) => (node, line) = (child, Some(found)),
                None => break,
            }
        }
        line
    }
}

/// Just enough of a JSON reader to walk to some paths.
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
    /// The line of `counted`, which trails `at`: newlines are counted once.
    line: usize,
    counted: usize,
}

impl<'a> Scanner<'a> {
    /// Records the line of the value at `at` in `node`, and walks into the
    /// members and elements `node` has children for; leaves `at` after the value.
    fn walk(&mut self, node: &mut Lines) -> Option<()> {
        node.line = Some(self.line());
        if node.keys.is_empty() && node.indexes.is_empty() {
            return self.skip_value();
        }
        match self.text.get(self.at)? {
            b'{' => {
                self.at += 1;
                loop {
                    self.space();
                    if self.eat(b'}').is_some() {
                        return Some(());
                    }
                    let key = self.string()?;
                    self.space();
                    self.eat(b':')?;
                    self.space();
                    // The first of duplicate keys, as a search from the start would find.
                    match node.keys.get_mut(key.as_ref()) {
                        Some(child) if child.line.is_none() => self.walk(child)?,
                        _ => self.skip_value()?,
                    }
                    self.space();
                    if self.eat(b',').is_none() {
                        return self.eat(b'}');
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut index = 0;
                loop {
                    self.space();
                    if self.eat(b']').is_some() {
                        return Some(());
                    }
                    match node.indexes.get_mut(&index) {
                        Some(child) => self.walk(child)?,
                        None => self.skip_value()?,
                    }
                    index += 1;
                    self.space();
                    if self.eat(b',').is_none() {
                        return self.eat(b']');
                    }
                }
            }
            _ => self.skip_value(),
        }
    }

    /// The line `at` is on.
    fn line(&mut self) -> usize {
        let end = self.at.min(self.text.len());
        if let Some(passed) = self.text.get(self.counted..end) {
            self.line += passed.iter().filter(|&&byte| byte == b'\n').count();
            self.counted = end;
        }
        self.line
    }

    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.text.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// A string, decoded; borrowed from the text when it has no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        self.skip_string()?;
        let quoted = self.text.get(start..self.at)?;
        let inner = &quoted[1..quoted.len() - 1];
        if inner.contains(&b'\\') {
            serde_json::from_slice(quoted).ok().map(Cow::Owned)
        } else {
            std::str::from_utf8(inner).ok().map(Cow::Borrowed)
        }
    }

    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match self.text.get(self.at)? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                _ => self.at += 1,
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.text.get(self.at)? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.text.get(self.at)? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.at += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while self.text.get(self.at).is_some_and(|byte| !b",]} \t\r\n".contains(byte)) {
                    self.at += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(text: &[u8], path: &[Segment]) -> Option<usize> {
        Lines::find(text, [path]).line(path)
    }

    #[test]
    fn locate_finds_lines_of_members_and_elements() {
        let text = b"{\n  \"a\": 1,\n  \"b\": [\n    {\"c\": 2},\n    {\"c\": \"x\",\n     \"d\": 3}\n  ],\n  \"e\\\"q\": {}\n}";
        let key = |k: &str| Segment::Key(k.to_owned());
        assert_eq!(locate(text, &[key("a")]), Some(2));
        assert_eq!(locate(text, &[key("b"), Segment::Index(1), key("d")]), Some(6));
        assert_eq!(locate(text, &[key("b"), Segment::Index(0), key("c")]), Some(4));
        assert_eq!(locate(text, &[key("e\"q")]), Some(8));
        // An absent member: its parent's line.
        assert_eq!(locate(text, &[key("b"), Segment::Index(1), key("zzz")]), Some(5));
        assert_eq!(locate(text, &[]), Some(1));
    }

    #[test]
    fn lines_of_many_paths_come_from_one_walk() {
        let text = b"{\n \"a\": [\n  {\"b\": 1},\n  {\"b\": 2,\n   \"c\": {}}\n ],\n \"a\": {\"b\": 3},\n \"d\": {}\n}";
        let key = |k: &str| Segment::Key(k.to_owned());
        let paths = [
            vec![key("a"), Segment::Index(1), key("c")],
            vec![key("a"), Segment::Index(0), key("b")],
            vec![key("a"), Segment::Index(1), key("c"), key("absent")],
            vec![key("a"), Segment::Index(5)],
            vec![key("d")],
        ];
        let lines = Lines::find(text, paths.iter().map(Vec::as_slice));
        // Of duplicate keys, the first.
        let found: Vec<Option<usize>> = paths.iter().map(|path| lines.line(path)).collect();
        assert_eq!(found, [Some(5), Some(3), Some(5), Some(2), Some(8)]);
    }

    #[test]
    fn lines_are_read_up_to_the_cap_and_longer_ones_dropped() {
        let input: &[u8] = b"ab\nabcdefghij\n\r\nxyz";
        let mut reader = io::BufReader::with_capacity(4, input);
        let mut line = Vec::new();
        let mut found = Vec::new();
        while let Some((read, kept)) = read_line(&mut reader, &mut line, 5).expect("read") {
            found.push((read, kept.then(|| line.clone())));
        }
        assert_eq!(
            found,
            [(3, Some(b"ab".to_vec())), (11, None), (2, Some(b"\r".to_vec())), (3, Some(b"xyz".to_vec()))]
        );
    }
}
