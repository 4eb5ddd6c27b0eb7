//! Reading what is audited: raw bodies (one JSON document per file), NDJSON
//! (one body per line, streamed), capture files written by `spaces --record`,
//! and directories of them.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use super::Auditor;
use super::schema::{Kind, Segment};

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
    pub fn render(&self, path: &[Segment]) -> String {
        let line = self.text.and_then(|text| locate(text, path)).unwrap_or(self.line);
        format!("{}:{line}", self.file)
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
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) => return auditor.report.error(format!("{display}: cannot read: {error}")),
    };
    auditor.report.bytes += text.len() as u64;
    audit_document(auditor, &text, display);
}

/// A whole file holding one JSON value: a raw body or a capture.
pub fn audit_document(auditor: &mut Auditor, text: &[u8], display: &str) {
    match serde_json::from_slice::<Value>(text) {
        Ok(value) => audit_value(auditor, value, &Where { file: display, line: 1, text: Some(text) }),
        Err(error) => auditor.report.error(json_error(display, 0, &error)),
    }
}

/// One body per line; blank lines are skipped. Memory holds one line at a time.
pub fn audit_ndjson(auditor: &mut Auditor, mut reader: impl BufRead, display: &str) {
    let mut line = Vec::with_capacity(1 << 12);
    let mut number = 0;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(read) => auditor.report.bytes += read as u64,
            Err(error) => {
                auditor.report.error(format!("{display}:{}: cannot read: {error}", number + 1));
                break;
            }
        }
        number += 1;
        if line.trim_ascii().is_empty() {
            continue;
        }
        // Only the line break is cut, so that error columns are the line's.
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match serde_json::from_slice::<Value>(text) {
            Ok(value) => audit_value(auditor, value, &Where { file: display, line: number, text: None }),
            Err(error) => auditor.report.error(json_error(display, number - 1, &error)),
        }
    }
}

/// `file:line:column: not valid JSON: ...`; `line_offset` is added to the
/// parser's line (for NDJSON, the line's own number minus one).
fn json_error(display: &str, line_offset: usize, error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    format!("{display}:{}:{}: not valid JSON: {message}", error.line() + line_offset, error.column())
}

fn audit_value(auditor: &mut Auditor, value: Value, at: &Where<'_>) {
    if let Value::Object(map) = &value
        && map.contains_key("spaces_capture")
    {
        return audit_capture(auditor, map, at);
    }
    let Some((provider, operation)) = auditor.defaults() else {
        return auditor.report.error(format!(
            "{}:{}: a raw body needs `--provider` (only capture files name their provider)",
            at.file, at.line
        ));
    };
    auditor.audit_body(&provider, &operation, &value, at);
}

/// A capture file's object (`{"spaces_capture": 1, ...}`): its 2xx body is
/// audited against its own provider and operation; other statuses are skipped.
fn audit_capture(auditor: &mut Auditor, capture: &Map<String, Value>, at: &Where<'_>) {
    let location = format!("{}:{}", at.file, at.line);
    if capture.get("spaces_capture") != Some(&Value::from(1)) {
        let version = capture.get("spaces_capture").map(Value::to_string).unwrap_or_default();
        return auditor
            .report
            .error(format!("{location}: capture format version {version} is not one this audit reads (1)"));
    }
    let text = |field: &str| capture.get(field).and_then(Value::as_str);
    let (Some(provider), Some(operation)) = (text("provider"), text("operation")) else {
        return auditor.report.error(format!("{location}: a capture needs string `provider` and `operation` fields"));
    };
    let Some(status) = capture.get("status").and_then(Value::as_u64).and_then(|status| u16::try_from(status).ok())
    else {
        return auditor.report.error(format!("{location}: a capture needs a numeric `status`"));
    };
    if !(200..300).contains(&status) {
        auditor.report.skip(status, location);
        return;
    }
    let decoded;
    let body: &[u8] = match (capture.get("body"), capture.get("body_base64")) {
        (Some(Value::String(body)), _) => body.as_bytes(),
        (_, Some(Value::String(encoded))) => match decode_base64(encoded) {
            Some(bytes) => {
                decoded = bytes;
                &decoded
            }
            None => return auditor.report.error(format!("{location}: `body_base64` is not base64")),
        },
        _ => return auditor.report.error(format!("{location}: a capture needs a string `body` or `body_base64`")),
    };
    if let Err(message) = auditor.checker(provider, operation) {
        return auditor.report.error(format!("{location}: {message}"));
    }
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

/// Standard base64, padded or not; `None` on anything else.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::alphabet::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const PADDED_OR_NOT: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    PADDED_OR_NOT.decode(text).ok()
}

/// The 1-based line where the value at `path` starts in a JSON text, or
/// where its nearest existing parent does (a `required` member is absent).
pub fn locate(text: &[u8], path: &[Segment]) -> Option<usize> {
    (0..=path.len()).rev().find_map(|length| {
        let mut scanner = Scanner { text, at: 0 };
        scanner.find(&path[..length])?;
        Some(text[..scanner.at].iter().filter(|&&byte| byte == b'\n').count() + 1)
    })
}

/// Just enough of a JSON reader to walk to a path.
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn find(&mut self, path: &[Segment]) -> Option<()> {
        self.space();
        for segment in path {
            match segment {
                Segment::Key(wanted) => {
                    self.eat(b'{')?;
                    loop {
                        self.space();
                        let key = self.string()?;
                        self.space();
                        self.eat(b':')?;
                        self.space();
                        if key == *wanted {
                            break;
                        }
                        self.skip_value()?;
                        self.space();
                        self.eat(b',')?;
                    }
                }
                Segment::Index(wanted) => {
                    self.eat(b'[')?;
                    for _ in 0..*wanted {
                        self.space();
                        self.skip_value()?;
                        self.space();
                        self.eat(b',')?;
                    }
                    self.space();
                }
            }
        }
        Some(())
    }

    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.text.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// A string, decoded (escapes included).
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.skip_string()?;
        serde_json::from_slice(&self.text[start..self.at]).ok()
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
                            depth -= 1;
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
    fn base64_round_trips() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("/w==").as_deref(), Some(&[0xff][..]));
        assert_eq!(decode_base64("").as_deref(), Some(&[][..]));
        assert_eq!(decode_base64("a"), None);
        assert_eq!(decode_base64("a*=="), None);
    }
}
