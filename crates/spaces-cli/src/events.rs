//! `spaces events`: the watch store's event log as NDJSON, one event per
//! line in `seq` order (`{"seq", "type", "space_id", "user_id", "at",
//! "space"}`), through the terminal-safe JSON writer; `--follow` goes on
//! printing each event a watcher commits, until Ctrl-C or SIGTERM.
//!
//! Also what the store's readers share: opening a store that must exist,
//! and stopping on a signal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use spaces::watch::{Store, StoreError};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::exit::{Exit, Failure};
use crate::output::{json_line, write_stdout_bytes};

/// The store a command reads when `--store` is not given.
pub const DEFAULT_STORE: &str = "spaces.db";

/// How often `--follow` looks for new events: a query on the log's key,
/// cheap enough to run 4 times a second.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// Events read (and written) at once.
const PAGE: usize = 512;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The store a watcher writes (`spaces watch --store`). It must exist.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_STORE)]
    pub store: PathBuf,
    /// Start after this event (its `seq`): print only later ones. 0, the default, is from the first.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub after: u64,
    /// Keep going: print each new event as a watcher commits it, until Ctrl-C or SIGTERM
    /// (exit 130 or 143) or the reader closes stdout (exit 0).
    #[arg(long)]
    pub follow: bool,
}

pub async fn run(args: EventsArgs) -> ExitCode {
    // Taken before the first line, so that a signal after it is never missed.
    let mut stop = on_signal();
    let store = match open(&args.store) {
        Ok(store) => store,
        Err(failure) => return failure.report(),
    };
    let mut after = args.after;
    if let Err(failure) = print_after(&store, &mut after) {
        return failure.report();
    }
    if !args.follow {
        return Exit::Success.into();
    }
    loop {
        tokio::select! {
            _ = stop.changed() => return ExitCode::from(*stop.borrow()),
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
        }
        if let Err(failure) = print_after(&store, &mut after) {
            return failure.report();
        }
    }
}

/// Prints every event after `after`, a page at a time, and moves `after`
/// to the last one printed.
fn print_after(store: &Store, after: &mut u64) -> Result<(), Failure> {
    loop {
        let page = store.events_after(*after, PAGE).map_err(store_failure)?;
        let mut out = Vec::new();
        for event in &page {
            json_line(&mut out, event).map_err(|error| {
                Failure::new(Exit::Failure, format!("cannot serialize event {}: {error}", event.seq))
            })?;
            out.push(b'\n');
        }
        if !out.is_empty() {
            write_stdout_bytes(&out)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => *after = last.seq,
            Some(last) => {
                *after = last.seq;
                return Ok(());
            }
            None => return Ok(()),
        }
    }
}

/// Opens a store to read it; a missing one is an error (exit 1), never created.
pub fn open(path: &Path) -> Result<Store, Failure> {
    Store::open_existing(path).map_err(store_failure)
}

/// A store's refusal (missing, newer schema, not a store, SQLite's error) as exit 1.
pub fn store_failure(error: StoreError) -> Failure {
    Failure::new(Exit::Failure, error.to_string())
}

/// Takes SIGINT and SIGTERM from now on: the first sets the returned value
/// to the exit code shells report for a process it ended (130 or 143); a
/// second one exits at once (a reader that waits on a stalled stdout cannot
/// see the first). Without signal handlers, it never changes.
pub fn on_signal() -> tokio::sync::watch::Receiver<u8> {
    let (sender, receiver) = tokio::sync::watch::channel(0);
    let mut stop = Stop::new();
    tokio::spawn(async move {
        let code = stop.wait().await;
        let _ = sender.send(code);
        stop.wait().await;
        std::process::exit(i32::from(code));
    });
    receiver
}

/// SIGINT and SIGTERM, taken from the moment [`Stop::new`] is called.
struct Stop {
    sigint: Option<Signal>,
    sigterm: Option<Signal>,
}

impl Stop {
    fn new() -> Stop {
        Stop { sigint: signal(SignalKind::interrupt()).ok(), sigterm: signal(SignalKind::terminate()).ok() }
    }

    /// The next signal's exit code: 130 (SIGINT) or 143 (SIGTERM).
    async fn wait(&mut self) -> u8 {
        async fn received(signal: Option<&mut Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = received(self.sigint.as_mut()) => 130,
            () = received(self.sigterm.as_mut()) => 143,
        }
    }
}
