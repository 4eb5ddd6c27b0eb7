//! Running the `spaces` binary as a child process and measuring it: wall
//! time, peak resident memory, and what it printed on stderr. Shared by the
//! CLI benches.
//!
//! Peak memory is the child's own `VmHWM` (Linux `/proc/<pid>/status`),
//! sampled until it exits. `wait4`'s `ru_maxrss` is not used: it keeps the
//! high-water mark of the forked copy of this (large) bench process from
//! before `exec`, which would be reported as the CLI's.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a child process cost.
pub struct Run {
    pub wall: Duration,
    pub peak_rss_mib: f64,
    pub exit_code: i32,
    pub stderr: String,
}

/// Runs `command` with stdout discarded, and measures it.
pub fn run(command: Command) -> Run {
    run_to(command, Stdio::null())
}

/// Runs `command` with stdout going to `stdout` (e.g. a file, to check what
/// it printed), and measures it.
pub fn run_to(mut command: Command, stdout: Stdio) -> Run {
    command.stdout(stdout).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn the spaces binary");
    let status_path = format!("/proc/{}/status", child.id());
    // Stops when the file loses its Vm lines (the child exited) or vanishes.
    let sampler = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Some(kib) = vm_hwm_kib(&status_path) {
            peak = peak.max(kib);
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    });
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("read stderr");
    }
    let peak_kib = sampler.join().unwrap_or(0);
    let status = child.wait().expect("wait for the spaces binary");
    let wall = started.elapsed();
    Run { wall, peak_rss_mib: peak_kib as f64 / 1024.0, exit_code: status.code().unwrap_or(-1), stderr }
}

/// The `VmHWM:` line of a process's status, in KiB; `None` once it has exited.
fn vm_hwm_kib(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `numerator / denominator`, for reporting ratios.
pub fn ratio(numerator: Duration, denominator: Duration) -> f64 {
    numerator.as_secs_f64() / denominator.as_secs_f64()
}
