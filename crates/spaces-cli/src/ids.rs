//! The ids of a bulk run, read from a file or stdin on a thread of their
//! own, one per line, and handed to the library as a stream: reading never
//! blocks the requests, and memory holds at most a channel's worth of ids.
//!
//! Each line holds an id or a Space URL (`https://x.com/i/spaces/…`);
//! blank lines and `#` comments (a line starting with `#`, or the rest of a
//! line after ` #`) carry none and are skipped. A line longer than any id
//! could be is not buffered: it is reported as `error: line <n>: …` in its
//! place among the outcomes (after the outcome of the id before it).

use std::collections::VecDeque;
use std::io::{self, BufRead, IsTerminal};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::Stream;

use crate::exit::{Exit, Failure};
use crate::lines::{Line, read_capped_line};

/// The longest id line read; an id is at most 13 characters, so a longer
/// line is reported as not an id, without being buffered.
pub const MAX_ID_LINE: usize = 1_024;

/// Ids read ahead of the requests, at most.
const READ_AHEAD: usize = 4_096;

/// Where the ids come from, opened.
pub struct Input {
    reader: Box<dyn BufRead + Send>,
    /// How many ids it holds, when that can be known before reading it (a regular file).
    pub total: Option<u64>,
}

impl Input {
    /// The `--ids-file`, or stdin (no file, or `-`).
    ///
    /// # Errors
    ///
    /// A failure naming the file when it cannot be opened.
    pub fn open(ids_file: Option<&Path>) -> Result<Input, Failure> {
        match ids_file {
            Some(path) if path.as_os_str() != "-" => {
                let open = || std::fs::File::open(path).map(io::BufReader::new);
                let cannot =
                    |error: io::Error| Failure::new(Exit::Failure, format!("cannot read {}: {error}", path.display()));
                let total = count_ids(open().map_err(cannot)?);
                Ok(Input { reader: Box::new(open().map_err(cannot)?), total })
            }
            _ => {
                if io::stdin().is_terminal() {
                    crate::stderr::note!("reading Space ids from stdin, one per line (Ctrl-D to end)");
                }
                Ok(Input { reader: Box::new(io::BufReader::new(io::stdin())), total: None })
            }
        }
    }

    /// Starts reading on a thread of its own: the ids as a stream, and what
    /// the reading ran into besides ids.
    pub fn spawn(self) -> (impl Stream<Item = String> + Send + 'static, Unread) {
        let (sender, receiver) = tokio::sync::mpsc::channel::<String>(READ_AHEAD);
        let unread = Unread::default();
        let noted = unread.clone();
        let mut reader = self.reader;
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let (mut line, mut ids) = (0usize, 0usize);
            loop {
                let read = read_capped_line(&mut reader, &mut buf, MAX_ID_LINE);
                line += 1;
                let id = match read {
                    Ok(None) => return,
                    Ok(Some(Line::TooLong)) => {
                        noted.push(ids, format!("line {line}: longer than {MAX_ID_LINE} bytes; not a Space id"));
                        continue;
                    }
                    // A line that is not UTF-8 is kept (lossily), to fail as an
                    // invalid id on its own line.
                    Ok(Some(Line::Complete)) => id_of_line(&String::from_utf8_lossy(&buf)).to_owned(),
                    Err(error) => {
                        noted.push(ids, format!("cannot read ids: {error}"));
                        return;
                    }
                };
                if id.is_empty() {
                    continue;
                }
                ids += 1;
                // The receiver is gone when the run stopped: nothing more to read.
                if sender.blocking_send(id).is_err() {
                    return;
                }
            }
        });
        (tokio_stream(receiver), unread)
    }
}

/// The id a line of an ids file holds: the text before a `#` comment (at
/// the start, or after a space), a Space URL's id ([`spaces::space_id_of`]);
/// empty for a blank or comment line.
pub fn id_of_line(line: &str) -> &str {
    let before_comment = match line.find('#') {
        Some(0) => "",
        Some(at) if line[..at].ends_with(char::is_whitespace) => &line[..at],
        _ => line,
    };
    spaces::space_id_of(before_comment)
}

fn tokio_stream(mut receiver: tokio::sync::mpsc::Receiver<String>) -> impl Stream<Item = String> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

/// How many non-blank lines a file has (each an id, or a line that fails as one).
fn count_ids(mut reader: impl BufRead) -> Option<u64> {
    let mut count = 0;
    let mut buf = Vec::new();
    loop {
        match read_capped_line(&mut reader, &mut buf, MAX_ID_LINE) {
            Ok(None) => return Some(count),
            Ok(Some(Line::Complete)) if id_of_line(&String::from_utf8_lossy(&buf)).is_empty() => {}
            Ok(Some(_)) => count += 1,
            Err(_) => return None,
        }
    }
}

/// What the reader ran into besides ids (lines too long, a read error),
/// each with the number of ids read before it, to be reported in its place.
#[derive(Clone, Default)]
pub struct Unread(Arc<Mutex<VecDeque<(usize, String)>>>);

impl Unread {
    fn push(&self, after: usize, message: String) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push_back((after, message));
    }

    /// The messages due once `ids` outcomes have been printed, in order.
    pub fn due(&self, ids: usize) -> Vec<String> {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut due = Vec::new();
        while queue.front().is_some_and(|(after, _)| *after <= ids) {
            due.extend(queue.pop_front().map(|(_, message)| message));
        }
        due
    }

    /// Every message still queued (at the end of the run).
    pub fn rest(&self) -> Vec<String> {
        self.due(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::Input;

    #[tokio::test]
    async fn ids_stream_in_and_long_lines_are_reported_in_their_place() {
        let long = "a".repeat(5_000);
        let text = format!("a\n\n  b \r\n{long}\nc\nd");
        let input = Input { reader: Box::new(std::io::Cursor::new(text.into_bytes())), total: None };
        let (ids, unread) = input.spawn();
        let ids: Vec<String> = ids.collect().await;
        assert_eq!(ids, ["a", "b", "c", "d"]);
        assert!(unread.due(1).is_empty(), "not before the second id's outcome");
        assert_eq!(unread.due(2), ["line 4: longer than 1024 bytes; not a Space id"]);
        assert!(unread.rest().is_empty());
    }

    #[test]
    fn a_file_says_how_many_ids_it_holds() {
        assert_eq!(super::count_ids(std::io::Cursor::new(b"a\n\nb\n  \n# note\nc")), Some(3));
    }

    #[test]
    fn comments_and_urls_give_the_id_people_meant() {
        use super::id_of_line;
        assert_eq!(id_of_line("# my list"), "");
        assert_eq!(id_of_line("1jMJgLdenVjxL  # launch day"), "1jMJgLdenVjxL");
        assert_eq!(id_of_line("https://x.com/i/spaces/1jMJgLdenVjxL/peek#x # the launch"), "1jMJgLdenVjxL");
        assert_eq!(id_of_line("  1jMJgLdenVjxL  "), "1jMJgLdenVjxL");
    }
}
