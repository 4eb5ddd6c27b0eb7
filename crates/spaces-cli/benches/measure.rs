//! Running the `spaces` binary as a child process and measuring it: wall
//! time, peak resident memory, what it printed on stderr, and, when its
//! stdout is read here, the time to its first line. Shared by the CLI
//! benches.
//!
//! Peak memory is the child's own `VmHWM` (Linux `/proc/<pid>/status`),
//! sampled until it exits. `wait4`'s `ru_maxrss` is not used: it keeps the
//! high-water mark of the forked copy of this (large) bench process from
//! before `exec`, which would be reported as the CLI's.
//!
//! The time to the first line is taken from spawn to the moment this
//! process reads the first newline of the child's stdout (a pipe, read as
//! it comes): what a reader of `spaces … | consumer` waits before it has
//! anything.

// Each CLI bench compiles this file as a module of its own and uses only part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a child process cost.
pub struct Run {
    pub wall: Duration,
    /// From spawn to the first line on stdout; `None` when stdout was not
    /// read ([`run`]) or held no line.
    pub first_line: Option<Duration>,
    pub peak_rss_mib: f64,
    pub exit_code: i32,
    pub stderr: String,
}

/// Runs `command` with stdout discarded, and measures it.
pub fn run(command: Command) -> Run {
    measured(command, None::<std::io::Sink>).0
}

/// Runs `command` with its stdout read here as it comes and copied into
/// `out`, and measures it, with the time to its first line.
pub fn run_reading<W: Write + Send + 'static>(command: Command, out: W) -> (Run, W) {
    let (run, out) = measured(command, Some(out));
    (run, out.expect("stdout was read into `out`"))
}

/// Runs `command`, its stdout discarded (`out` is `None`) or read into `out`.
fn measured<W: Write + Send + 'static>(mut command: Command, out: Option<W>) -> (Run, Option<W>) {
    let stdout = if out.is_some() { Stdio::piped() } else { Stdio::null() };
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
    // stdout is read on a thread of its own, as stderr is read here: neither pipe may fill up.
    let reader = match (out, child.stdout.take()) {
        (Some(out), Some(pipe)) => Some(std::thread::spawn(move || read_lines(pipe, out, started))),
        _ => None,
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("read stderr");
    }
    let peak_kib = sampler.join().unwrap_or(0);
    let status = child.wait().expect("wait for the spaces binary");
    let wall = started.elapsed();
    let (first_line, out) = match reader.map(|reader| reader.join().expect("the stdout reader")) {
        Some((first_line, out)) => (first_line, Some(out)),
        None => (None, None),
    };
    let run = Run {
        wall,
        first_line,
        peak_rss_mib: peak_kib as f64 / 1024.0,
        exit_code: status.code().unwrap_or(-1),
        stderr,
    };
    (run, out)
}

/// Copies `pipe` into `out` until it ends; returns when (since `started`)
/// the first newline came, if one did.
fn read_lines<W: Write>(mut pipe: impl Read, mut out: W, started: Instant) -> (Option<Duration>, W) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut first_line = None;
    loop {
        let read = match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => panic!("read the child's stdout: {error}"),
        };
        if first_line.is_none() && buffer[..read].contains(&b'\n') {
            first_line = Some(started.elapsed());
        }
        out.write_all(&buffer[..read]).expect("keep the child's stdout");
    }
    (first_line, out)
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
