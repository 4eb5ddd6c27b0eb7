//! `spaces mock`: the mock of every provider, in the foreground until
//! Ctrl-C, with what to paste into another terminal to use it.
//!
//! It is the same loopback server `spaces demo` and the tests use
//! (`spaces-mock`): each provider's recorded answers under its own base
//! path, X's batch lookup, search and by-creator, and, under `/watch`, X
//! again on the scripted lifecycle `spaces watch` can follow. It is built
//! into the binary only with the cargo feature `mock` (see `NOT_BUILT_IN`).

/// The arguments of `spaces mock`.
#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// The port to listen on, on 127.0.0.1; 0 (the default) picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// Why `demo` and `mock` may be missing, and how to get them. The mock is a
/// wiremock server: linked into every `spaces` it would add its HTTP server
/// stack and the specs' recorded answers to a binary that never needs them,
/// so it is a cargo feature, off by default (one binary, not two, so that
/// `spaces demo` stays where a newcomer looks for it).
#[cfg(not(feature = "mock"))]
const NOT_BUILT_IN: &str = "this `spaces` was built without the mock providers (cargo feature `mock`): \
    run `cargo run -p spaces-cli --features mock -- demo`, or install with \
    `cargo install --path crates/spaces-cli --locked --features mock`";

/// What `demo` and `mock` do in a binary built without them: a usage error saying how to build them in.
#[cfg(not(feature = "mock"))]
pub fn not_built_in(command: &str) -> std::process::ExitCode {
    use crate::exit::{Exit, Failure};
    Failure::new(Exit::Usage, format!("`spaces {command}`: {NOT_BUILT_IN}")).report()
}

#[cfg(feature = "mock")]
pub use with_mock::run;

#[cfg(feature = "mock")]
mod with_mock {
    use std::fmt::Write as _;
    use std::path::PathBuf;
    use std::process::ExitCode;

    use spaces::Provider;
    use spaces_mock::lifecycle::{Lifecycle, MockClock, Timeline};
    use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, EXAMPLE_MISSING_ID, LIVE_SPACE_ID, MockProviders};

    use super::MockArgs;
    use crate::exit::{Exit, Failure};
    use crate::interrupt::on_signal;
    use crate::output::write_stdout;

    /// Where the lifecycle is served: X's API root for `spaces watch` is `{server}/watch`.
    const WATCH_PREFIX: &str = "/watch";

    /// Runs the mock until SIGINT or SIGTERM, after printing how to use it.
    pub async fn run(args: MockArgs) -> ExitCode {
        let mock = match MockProviders::serve(args.port).await {
            Ok(mock) => mock,
            Err(error) => {
                let cause = format!("cannot listen on 127.0.0.1:{}: {error} (`--port 0` picks a free port)", args.port);
                return Failure::new(Exit::Failure, cause).report();
            }
        };
        // The script starts at its first request, not now: whenever the user
        // gets to `spaces watch`, it sees every step.
        let lifecycle = Lifecycle::new(Timeline::demo()).with_clock(MockClock::at_speed_from_first_use(1.0));
        lifecycle.mount_under(mock.server(), WATCH_PREFIX).await;
        let (stopped, interrupted) = on_signal("stopping the mock");
        if let Err(failure) = write_stdout(&instructions(&mock, &lifecycle)) {
            return failure.report();
        }
        // A signal is how a foreground server is meant to end: a success.
        stopped.await;
        drop(interrupted);
        Exit::Success.into()
    }

    /// How to call the running `spaces`: its name when the `spaces` on
    /// `PATH` is this very binary, else its full path (`cargo run` builds
    /// it under `target/`).
    fn this_binary() -> String {
        let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
            return "spaces".to_owned();
        };
        let on_path = std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path)
                .any(|dir| std::fs::canonicalize(dir.join("spaces")).is_ok_and(|found: PathBuf| found == me))
        });
        if on_path { "spaces".to_owned() } else { me.display().to_string() }
    }

    /// The text `spaces mock` prints: each provider's base URL and token,
    /// then commands to paste, one per line.
    fn instructions(mock: &MockProviders, lifecycle: &Lifecycle) -> String {
        let spaces = this_binary();
        let watch_url = format!("{}{WATCH_PREFIX}", mock.server().uri());
        let mut text = format!(
            "Mock providers listening on {} (the specs' example answers; nothing leaves this machine). Ctrl-C stops it.\n\n\
             Each provider, the option that points `spaces` at it, and the token it accepts:\n",
            mock.server().uri()
        );
        for &provider in Provider::ALL {
            let option = format!("--base-url {provider}={}", mock.base_url(provider));
            let _ = writeln!(text, "  {:<11} {option:<60} {}={DEMO_TOKEN}", provider.as_str(), provider.info().env_var);
        }
        let _ = writeln!(
            text,
            "  {:<11} {:<60} {}={DEMO_TOKEN}\n\
             {:14}(X on a scripted timeline: {} users, their Spaces scheduled, started, rescheduled,\n\
             {:14}ended, canceled and gone over {} s, counted from the first request to it)",
            "x (watch)",
            format!("--base-url x={watch_url}"),
            Provider::X.info().env_var,
            "",
            Timeline::DEMO_USERS.len(),
            "",
            lifecycle.timeline().last_change().as_secs()
        );
        text.push_str("\nIn another terminal, one Space from each provider (the same live Space, answered a little differently):\n");
        for &provider in Provider::ALL {
            let _ = writeln!(text, "  {}", one_space(&spaces, mock, provider));
        }
        let x = format!("--base-url x={}", mock.base_url(Provider::X));
        let x_token = format!("{}={DEMO_TOKEN}", Provider::X.info().env_var);
        let every: Vec<&str> = Provider::ALL.iter().map(|provider| provider.as_str()).collect();
        let all_urls: Vec<String> = Provider::ALL
            .iter()
            .map(|&provider| format!("--base-url {provider}={}", mock.base_url(provider)))
            .collect();
        let all_tokens: Vec<String> =
            Provider::ALL.iter().map(|provider| format!("{}={DEMO_TOKEN}", provider.info().env_var)).collect();
        let users = Timeline::DEMO_USERS.join(" ");
        // One store per mock run: a store that has seen the script end would
        // have nothing to say about a replay of it.
        let store = std::env::temp_dir().join(format!("spaces-mock-{}.db", std::process::id()));
        let _ = write!(
            text,
            "\nAnd the rest:\n\
             \x20 # bulk: three ids, one request to X (100 ids per request); the last one does not exist\n\
             \x20 printf '{DEMO_SPACE_ID}\\n{LIVE_SPACE_ID}\\n{EXAMPLE_MISSING_ID}\\n' | {x_token} {spaces} show --provider x {x}\n\
             \x20 # search and by-creator (X only)\n\
             \x20 {x_token} {spaces} search radio {x} --format table\n\
             \x20 {x_token} {spaces} by-creator 1549901127745323008 917202264 {x} --format table\n\
             \x20 # every provider side by side, then merged into one answer with provenance\n\
             \x20 {tokens} {spaces} compare {LIVE_SPACE_ID} --providers {every} {urls}\n\
             \x20 {tokens} {spaces} show {LIVE_SPACE_ID} --providers {every} --merge {urls}\n\
             \x20 # watch the scripted timeline: each event once, as it is stored (restart the mock to replay it)\n\
             \x20 {x_token} {spaces} watch {users} --base-url x={watch_url} --store {store} --for 40s\n",
            tokens = all_tokens.join(" "),
            every = every.join(","),
            urls = all_urls.join(" "),
            store = store.display(),
        );
        text
    }

    /// A ready-to-paste `spaces show` of the live Space on `provider`.
    fn one_space(spaces: &str, mock: &MockProviders, provider: Provider) -> String {
        format!(
            "{}={DEMO_TOKEN} {spaces} show {LIVE_SPACE_ID} --provider {provider} --base-url {provider}={}",
            provider.info().env_var,
            mock.base_url(provider)
        )
    }
}
