//! Ctrl-C and `kill`: the first SIGINT or SIGTERM stops a bulk run cleanly
//! (nothing more is sent, every answer already on its way is written, the
//! summary is printed, and the exit code is 130 or 143, as shells report a
//! process killed by the signal); a second one exits at once.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::signal::unix::{SignalKind, signal};

use crate::exit::Exit;

/// Which signal stopped the run, if one did.
#[derive(Clone, Debug, Default)]
pub struct Interrupted(Arc<AtomicU8>);

impl Interrupted {
    /// The exit code for the signal received: 128 + its number.
    pub fn exit_code(&self) -> Option<u8> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            code => Some(code),
        }
    }

    /// The run's exit code: the signal's when there was one, else `exit`.
    pub fn or(&self, exit: Exit) -> std::process::ExitCode {
        match self.exit_code() {
            Some(code) => std::process::ExitCode::from(code),
            None => exit.into(),
        }
    }
}

/// A future that resolves at the first SIGINT or SIGTERM (noting which in
/// the returned [`Interrupted`], and saying `what_now` on stderr), and from
/// then on exits the process at the next one. Without signal handlers (they
/// cannot be installed), it never resolves.
pub fn on_signal(what_now: &'static str) -> (impl Future<Output = ()> + Send + 'static, Interrupted) {
    let interrupted = Interrupted::default();
    let noted = interrupted.clone();
    let signals = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()));
    let future = async move {
        let (Ok(mut sigint), Ok(mut sigterm)) = signals else { return std::future::pending().await };
        let code = tokio::select! {
            _ = sigint.recv() => 130,
            _ = sigterm.recv() => 143,
        };
        noted.0.store(code, Ordering::Release);
        crate::stderr::note!("interrupted: {what_now} (again to quit now)");
        tokio::spawn(async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
            std::process::exit(i32::from(code));
        });
    };
    (future, interrupted)
}
