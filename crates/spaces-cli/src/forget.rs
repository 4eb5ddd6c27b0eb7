//! `spaces forget-gone`: drops what the watch store still keeps of Spaces
//! that are gone (X's policy: content no longer available is not kept):
//! the Space their earlier events carried, their samples and their
//! scheduled start. What stays, and why, is in the library's
//! `spaces::watch::store` docs and the README.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::events::{self, DEFAULT_STORE};
use crate::exit::Exit;
use crate::output::write_stdout;
use crate::stderr::note;

#[derive(Debug, Args)]
pub struct ForgetGoneArgs {
    /// The store a watcher writes (`spaces watch --store`). It must exist; a
    /// watcher may be running on it.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_STORE)]
    pub store: PathBuf,
}

pub fn run(args: ForgetGoneArgs) -> ExitCode {
    let mut store = match events::open(&args.store) {
        Ok(store) => store,
        Err(failure) => return failure.report(),
    };
    let forgotten = match store.forget_gone() {
        Ok(forgotten) => forgotten,
        Err(error) => return events::store_failure(error).report(),
    };
    let summary = format!(
        "{}: {} gone {}; dropped the Space of {} {} and {} {}\n",
        args.store.display(),
        forgotten.gone,
        if forgotten.gone == 1 { "Space" } else { "Spaces" },
        forgotten.events,
        if forgotten.events == 1 { "event" } else { "events" },
        forgotten.samples,
        if forgotten.samples == 1 { "sample" } else { "samples" },
    );
    if !forgotten.checkpointed {
        note!(
            "note: {}: another connection reads an older snapshot, so what was dropped may stay in the \
             write-ahead log until SQLite's next complete checkpoint (run forget-gone again with no reader open)",
            args.store.display()
        );
    }
    match write_stdout(&summary) {
        Ok(()) => Exit::Success.into(),
        Err(failure) => failure.report(),
    }
}
