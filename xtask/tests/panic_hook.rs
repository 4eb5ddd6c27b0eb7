//! regen keeps progenitor's panics off stderr without ever swapping the
//! process-wide panic hook back and forth: a panic on another thread while a
//! generation is under way (parallel tests) is still reported, and no silent
//! hook is left behind.
//!
//! Its own test binary, with one test: it installs the hook it watches.

use std::collections::HashSet;
use std::panic;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use xtask::regen::{self, RegenOptions};

/// Every panic message the hook below saw.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn seen() -> Vec<String> {
    SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// A copy of socialdata's spec that makes progenitor panic (two success types).
fn panicking_spec(dir: &Path) -> RegenOptions {
    let spec = std::fs::read_to_string(xtask::project_root().join("specs/socialdata.yaml")).expect("spec").replace(
        "        \"401\":\n",
        "        \"201\":\n          description: other\n          content:\n            application/json:\n              schema:\n                $ref: \"#/components/schemas/Creator\"\n        \"401\":\n",
    );
    let specs_dir = dir.join("specs");
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&specs_dir).expect("specs dir");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    std::fs::write(specs_dir.join("socialdata.yaml"), spec).expect("write spec");
    RegenOptions { specs_dir, out_dir, check: false, only: Vec::new() }
}

#[test]
fn generator_panics_are_silent_and_every_other_panic_is_reported() {
    // Installed before any generation, so regen's hook wraps this one.
    panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|message| (*message).to_owned()))
            .unwrap_or_default();
        SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(message);
    }));

    let dirs = [tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir")];
    let generating = AtomicBool::new(true);
    let bystander_panics = std::thread::scope(|scope| {
        let generators: Vec<_> = dirs
            .iter()
            .map(|dir| {
                let options = panicking_spec(dir.path());
                scope.spawn(move || {
                    for _ in 0..8 {
                        let error = format!("{:#}", regen::run(&options).expect_err("the spec makes progenitor panic"));
                        assert!(error.contains("progenitor panicked on operation `get_space`"), "{error}");
                    }
                })
            })
            .collect();
        // Another thread panics (and catches it) all the while, as a failing test would.
        let bystander = scope.spawn(|| {
            let mut count = 0;
            while generating.load(Ordering::Relaxed) || count < 10 {
                let _ = panic::catch_unwind(|| panic!("bystander panic {count}"));
                count += 1;
                std::thread::yield_now();
            }
            count
        });
        for generator in generators {
            generator.join().expect("generator thread");
        }
        generating.store(false, Ordering::Relaxed);
        bystander.join().expect("bystander thread")
    });

    let reported: HashSet<String> = seen().into_iter().collect();
    let missing: Vec<usize> =
        (0..bystander_panics).filter(|count| !reported.contains(&format!("bystander panic {count}"))).collect();
    assert!(missing.is_empty(), "{} of {bystander_panics} bystander panics went unreported", missing.len());
    let generator_panics: Vec<&String> =
        reported.iter().filter(|message| !message.starts_with("bystander panic")).collect();
    assert!(generator_panics.is_empty(), "progenitor's panics reached the hook: {generator_panics:?}");

    // Nothing silent was left installed: a panic now, on this thread, is reported.
    let _ = panic::catch_unwind(|| panic!("after generation"));
    assert!(seen().iter().any(|message| message == "after generation"), "the hook was left silent");
}
