//! `spaces convert`: raw provider bodies → normalized Space JSON.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use spaces::Provider;

use crate::exit;
use crate::lines::{Line, read_capped_line};

/// The largest single body (or NDJSON line) read: real Space bodies are a
/// few kilobytes; anything far larger is not a Space response.
const MAX_BODY_BYTES: usize = spaces::generated::DEFAULT_MAX_BODY_BYTES;

pub fn run(provider: Provider, ndjson: bool, file: Option<&Path>) -> ExitCode {
    let input: Box<dyn Read> = match file {
        None => Box::new(io::stdin().lock()),
        Some(path) if path == Path::new("-") => Box::new(io::stdin().lock()),
        Some(path) => match File::open(path) {
            Ok(file) => Box::new(file),
            Err(error) => {
                eprintln!("error: {provider}: cannot read {}: {error}", path.display());
                return ExitCode::from(exit::FAILURE);
            }
        },
    };
    if ndjson { convert_lines(provider, BufReader::new(input)) } else { convert_one(provider, input) }
}

fn convert_one(provider: Provider, input: impl Read) -> ExitCode {
    let mut body = Vec::new();
    let read = input.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body);
    if let Err(error) = read {
        eprintln!("error: {provider}: cannot read input: {error}");
        return ExitCode::from(exit::FAILURE);
    }
    if body.len() > MAX_BODY_BYTES {
        eprintln!("error: {provider}: input exceeds {MAX_BODY_BYTES} bytes; not a single Space response");
        return ExitCode::from(exit::FAILURE);
    }
    match spaces::decode(provider, &body) {
        Ok(space) => print_json(&space, true),
        Err(error) => exit::report(error),
    }
}

/// Streams: one line in, one line out, so memory stays flat whatever the input size.
fn convert_lines(provider: Provider, mut input: impl BufRead) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let (mut converted, mut failed) = (0usize, 0usize);
    for number in 1.. {
        let line = match read_capped_line(&mut input, &mut buf, MAX_BODY_BYTES) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(error) => {
                eprintln!("error: {provider}: line {number}: cannot read input: {error}");
                failed += 1;
                break;
            }
        };
        let outcome = match line {
            Line::TooLong => Err(format!("{provider}: line exceeds {MAX_BODY_BYTES} bytes; skipped")),
            // A blank line carries no response: skipped, not counted as a failure.
            Line::Complete if buf.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Complete => spaces::decode(provider, &buf).map_err(|error| error.to_string()),
        };
        match outcome {
            Ok(space) => {
                let written = serde_json::to_writer(&mut out, &space)
                    .map_err(io::Error::from)
                    .and_then(|()| out.write_all(b"\n"));
                if let Err(error) = written {
                    // stdout is gone (e.g. a closed pipe): nothing more can be delivered.
                    eprintln!("error: cannot write output: {error}");
                    return ExitCode::from(exit::FAILURE);
                }
                converted += 1;
            }
            Err(message) => {
                eprintln!("error: line {number}: {message}");
                failed += 1;
            }
        }
    }
    if let Err(error) = out.flush() {
        eprintln!("error: cannot write output: {error}");
        return ExitCode::from(exit::FAILURE);
    }
    eprintln!("{provider}: {converted} converted, {failed} failed");
    if failed > 0 { ExitCode::from(exit::FAILURE) } else { ExitCode::SUCCESS }
}

fn print_json(space: &spaces::Space, pretty: bool) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written =
        if pretty { serde_json::to_writer_pretty(&mut out, space) } else { serde_json::to_writer(&mut out, space) };
    match written.map_err(io::Error::from).and_then(|()| out.write_all(b"\n")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write output: {error}");
            ExitCode::from(exit::FAILURE)
        }
    }
}
