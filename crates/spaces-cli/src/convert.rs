//! `spaces convert`: raw provider bodies → normalized Space JSON.
//!
//! A body may hold one Space (every provider's lookup) or several (X's batch
//! lookup, search and by-creator endpoints). One Space prints as pretty JSON
//! (`--ndjson`: one line); several print one Space per line, and each
//! partial error the body carries is reported on stderr with the id it is
//! about (`-` when it names none) and makes the exit code 1.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;

use spaces::Provider;

use crate::exit::{self, Exit};
use crate::lines::{Line, read_capped_line};
use crate::output::{shown, write_failure};
use crate::stderr::note;

/// The largest single body (or NDJSON line) read: real Space bodies are a
/// few kilobytes; anything far larger is not a Space response.
const MAX_BODY_BYTES: usize = spaces::ClientBuilder::DEFAULT_MAX_BODY_BYTES;

pub fn run(provider: Provider, ndjson: bool, file: Option<&Path>) -> ExitCode {
    let input: Box<dyn Read + Send> = match file {
        None => Box::new(io::stdin()),
        Some(path) if path == Path::new("-") => Box::new(io::stdin()),
        Some(path) => match File::open(path) {
            Ok(file) => Box::new(file),
            Err(error) => {
                note!("error: {provider}: cannot read {}: {error}", path.display());
                return Exit::Failure.into();
            }
        },
    };
    if ndjson {
        convert_lines(provider, BufReader::with_capacity(256 * 1024, input))
    } else {
        convert_one(provider, input)
    }
}

fn convert_one(provider: Provider, input: impl Read) -> ExitCode {
    let mut body = Vec::new();
    let read = input.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body);
    if let Err(error) = read {
        note!("error: {provider}: cannot read input: {error}");
        return Exit::Failure.into();
    }
    if body.len() > MAX_BODY_BYTES {
        note!("error: {provider}: input exceeds {MAX_BODY_BYTES} bytes; not a single Space response");
        return Exit::Failure.into();
    }
    match decode(provider, &body) {
        Ok(spaces::Decoded::One(space)) => print_json(&space),
        Ok(spaces::Decoded::Many(list)) => print_list(list),
        Err(error) => exit::report(error),
    }
}

/// [`spaces::decode_any`], with the common case first: a body that decodes
/// as one Space is a single lookup's (a multi-Space body never does), so
/// only a body that does not is looked at again for the multi-Space shape.
/// This keeps `convert --ndjson` of single-Space lines to one parse each:
/// `decode_any` alone reads each body's shape first, which made 256 MiB of
/// X lookups about 18 % slower (1.94 s against 1.65 s).
fn decode(provider: Provider, body: &[u8]) -> Result<spaces::Decoded, spaces::Error> {
    match spaces::decode(provider, body) {
        Ok(space) => Ok(spaces::Decoded::One(space)),
        Err(_) => spaces::decode_any(provider, body),
    }
}

/// The Space id an item error is about (as the provider wrote it, escaped),
/// or `-`.
pub(crate) fn item_id(problem: &spaces::ItemError) -> std::borrow::Cow<'_, str> {
    problem.id.as_deref().map_or(std::borrow::Cow::Borrowed("-"), shown)
}

/// A multi-Space body: one Space per line on stdout, each partial error on
/// stderr; exit 1 when there was any.
fn print_list(list: spaces::SpaceList) -> ExitCode {
    for problem in &list.errors {
        note!("error: {}: {}", item_id(problem), problem.error);
    }
    for warning in &list.warnings {
        note!("warning: {warning}");
    }
    let mut output = Vec::new();
    for space in &list.spaces {
        // Serializing into a Vec cannot fail: the model has only string keys.
        if crate::output::json_line(&mut output, space).is_ok() {
            output.push(b'\n');
        }
    }
    if let Err(failure) = crate::output::write_stdout_bytes(&output) {
        return failure.report();
    }
    if list.errors.is_empty() { Exit::Success.into() } else { Exit::Failure.into() }
}

/// Input lines are handed to the decoding workers in batches of about this
/// many bytes (a longer line is a batch of its own).
const BATCH_BYTES: usize = 256 * 1024;

/// Batches in flight per worker (queued, being decoded, or decoded and
/// waiting for the writer). With `BATCH_BYTES` this bounds memory whatever
/// the input size: about workers × 2 × 2 × 256 KiB, plus one capped line.
const BATCHES_PER_WORKER: usize = 2;

/// A run of input lines, numbered from `first`.
struct Batch {
    first: usize,
    lines: Vec<Input>,
}

enum Input {
    Line(Vec<u8>),
    TooLong,
    Blank,
}

/// One batch decoded: the NDJSON output for its good lines (a multi-Space
/// line gives one output line per Space), and the failures (line number,
/// message: a line that failed, or a partial error of a multi-Space line),
/// both in input order.
struct Decoded {
    output: Vec<u8>,
    converted: usize,
    failures: Vec<(usize, String)>,
    /// What was odd about a multi-Space line without failing it (line number, message).
    warnings: Vec<(usize, String)>,
}

/// Streams: lines in, Spaces out, in input order, in constant memory. A
/// reader thread batches lines, `workers` threads decode batches (batch
/// `i` goes to worker `i % workers`), and this thread writes the results by
/// taking them from the workers in the same rotation, so order is kept
/// without a reorder buffer. Bounded channels keep every stage from running
/// ahead of the writer.
fn convert_lines(provider: Provider, input: impl BufRead + Send) -> ExitCode {
    let workers = std::thread::available_parallelism().map_or(1, |count| count.get()).clamp(1, 8);
    std::thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(BATCHES_PER_WORKER);
            let (decoded_tx, decoded_rx) = mpsc::sync_channel::<Decoded>(BATCHES_PER_WORKER);
            scope.spawn(move || {
                for batch in batch_rx {
                    if decoded_tx.send(decode_batch(provider, batch)).is_err() {
                        return; // the writer stopped
                    }
                }
            });
            to_workers.push(batch_tx);
            from_workers.push(decoded_rx);
        }
        let reader = scope.spawn(move || read_batches(input, &to_workers));
        let outcome = write_in_order(&from_workers);
        // Dropping the receivers unblocks the workers and the reader if the writer stopped early.
        drop(from_workers);
        let read_failure = reader.join().unwrap_or_else(|_| Some("the input reader panicked".to_owned()));
        finish(provider, outcome, read_failure)
    })
}

/// Reads lines into batches and deals them out round-robin. Returns a read
/// error's message, if reading stopped on one.
fn read_batches(mut input: impl BufRead, workers: &[mpsc::SyncSender<Batch>]) -> Option<String> {
    let mut buf = Vec::new();
    let mut batch = Batch { first: 1, lines: Vec::new() };
    let (mut batch_bytes, mut number, mut next_worker) = (0usize, 0usize, 0usize);
    let mut send = |batch: Batch| {
        let sent = workers[next_worker % workers.len()].send(batch).is_ok();
        next_worker += 1;
        sent
    };
    let failure = loop {
        let line = match read_capped_line(&mut input, &mut buf, MAX_BODY_BYTES) {
            Ok(Some(line)) => line,
            Ok(None) => break None,
            Err(error) => break Some(format!("line {}: cannot read input: {error}", number + 1)),
        };
        number += 1;
        let item = match line {
            Line::TooLong => Input::TooLong,
            // A blank line carries no response: skipped, not counted as a failure.
            Line::Complete if buf.iter().all(u8::is_ascii_whitespace) => Input::Blank,
            Line::Complete => {
                batch_bytes += buf.len();
                Input::Line(std::mem::take(&mut buf))
            }
        };
        batch.lines.push(item);
        if batch_bytes >= BATCH_BYTES {
            let full = std::mem::replace(&mut batch, Batch { first: number + 1, lines: Vec::new() });
            batch_bytes = 0;
            if !send(full) {
                return None; // the writer stopped; it reports why
            }
        }
    };
    if !batch.lines.is_empty() {
        send(batch);
    }
    failure
}

fn decode_batch(provider: Provider, batch: Batch) -> Decoded {
    let mut decoded = Decoded { output: Vec::new(), converted: 0, failures: Vec::new(), warnings: Vec::new() };
    for (offset, item) in batch.lines.into_iter().enumerate() {
        let number = batch.first + offset;
        let body = match item {
            Input::Blank => continue,
            Input::TooLong => {
                decoded.failures.push((number, format!("{provider}: line exceeds {MAX_BODY_BYTES} bytes; skipped")));
                continue;
            }
            Input::Line(body) => body,
        };
        match decode(provider, &body) {
            Ok(spaces::Decoded::One(space)) => decoded.push(&space),
            Ok(spaces::Decoded::Many(list)) => {
                for space in &list.spaces {
                    decoded.push(space);
                }
                for problem in &list.errors {
                    decoded.failures.push((number, format!("{}: {}", item_id(problem), problem.error)));
                }
                decoded.warnings.extend(list.warnings.iter().map(|warning| (number, warning.to_string())));
            }
            Err(error) => decoded.failures.push((number, error.to_string())),
        }
    }
    decoded
}

impl Decoded {
    /// One Space as one output line.
    fn push(&mut self, space: &spaces::Space) {
        // Serializing into a Vec cannot fail: the model has only string keys.
        if crate::output::json_line(&mut self.output, space).is_ok() {
            self.output.push(b'\n');
            self.converted += 1;
        }
    }
}

/// The writer's tally, or the output error that stopped it.
struct Tally {
    converted: usize,
    failed: usize,
    write_error: Option<io::Error>,
}

fn write_in_order(workers: &[mpsc::Receiver<Decoded>]) -> Tally {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut tally = Tally { converted: 0, failed: 0, write_error: None };
    // Batches come back in the rotation they were dealt in; the first
    // worker with nothing more means the input is exhausted.
    for worker in workers.iter().cycle() {
        let Ok(decoded) = worker.recv() else { break };
        for (number, message) in &decoded.failures {
            note!("error: line {number}: {message}");
        }
        for (number, message) in &decoded.warnings {
            note!("warning: line {number}: {message}");
        }
        tally.failed += decoded.failures.len();
        tally.converted += decoded.converted;
        if let Err(error) = out.write_all(&decoded.output) {
            tally.write_error = Some(error);
            return tally;
        }
    }
    if let Err(error) = out.flush() {
        tally.write_error = Some(error);
    }
    tally
}

fn finish(provider: Provider, tally: Tally, read_failure: Option<String>) -> ExitCode {
    if let Some(error) = tally.write_error {
        // stdout is gone: nothing more can be delivered (a closed pipe ends quietly).
        return write_failure(&error).report();
    }
    let mut failed = tally.failed;
    if let Some(message) = read_failure {
        note!("error: {provider}: {message}");
        failed += 1;
    }
    note!("{provider}: {} converted, {failed} failed", tally.converted);
    if failed > 0 { Exit::Failure.into() } else { Exit::Success.into() }
}

fn print_json(space: &spaces::Space) -> ExitCode {
    // Serializing a Space cannot fail: the model has only string keys.
    let json = crate::output::json_pretty(space).unwrap_or_default();
    match crate::output::write_stdout(&json) {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}
