//! `spaces watch`: watch users' Spaces over time, keeping what is seen in a
//! store and printing each lifecycle event as NDJSON once it is committed.
//! The library's [`spaces::watch::Watcher`] does the work; this module
//! reads the options, runs it until `--for` or a signal, and prints.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use spaces::watch::{Happening, WatchError, WatchOptions, Watcher};
use spaces::{ActivityItem, Capability, Provider, RateLimit};

use crate::args::{parse_duration, provider_parser};
use crate::connect::{self, ConnectArgs};
use crate::exit::{Exit, Failure};
use crate::interrupt;
use crate::output::{json_line, write_stdout_bytes};
use crate::stderr::note;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// X user ids (1 to 19 digits) whose Spaces to watch; added to those the
    /// store already watches (none given: the store's).
    #[arg(value_name = "USER_ID")]
    pub user_ids: Vec<String>,
    /// Also read user ids from this file, one per line (`-` is stdin).
    #[arg(long, value_name = "FILE")]
    pub user_ids_file: Option<PathBuf>,
    /// The store: an SQLite file, created if missing.
    #[arg(long, value_name = "PATH", default_value = "spaces.db")]
    pub store: PathBuf,
    /// Stop after this long (`30m`, `8h`); without it, run until Ctrl-C or SIGTERM.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// Poll the same users at most this often (`5m`). Default: as fast as
    /// X's budget allows (one request per 3 s for each 100 users); a shorter
    /// interval changes nothing.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// Pace to this budget instead of X's documented one for Spaces by
    /// creator: `REQUESTS/DURATION`, e.g. `900/15m` for a raised quota.
    #[arg(long, value_name = "REQUESTS/DURATION", value_parser = parse_budget)]
    pub budget: Option<RateLimit>,
    /// Also take X's push events (its Activity API): subscribe each user to
    /// `spaces.start` and `spaces.end` (tagged `spaces-watch`; existing ones
    /// are reused) and hold X's event stream open, so a start is reported
    /// within seconds. Each event costs (X's pay-per-use pricing); polling
    /// goes on for scheduled and canceled Spaces.
    #[arg(long)]
    pub activity: bool,
    /// The provider to watch: only X lists Spaces by creator.
    #[arg(long, short, default_value = "x", value_parser = provider_parser())]
    pub provider: Provider,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: WatchArgs) -> ExitCode {
    let (watcher, client) = match open(&args) {
        Ok(opened) => opened,
        Err(failure) => return failure.report(),
    };
    let exit = watch(watcher, args.run_for).await;
    connect::report_recording(&[client], exit)
}

/// Everything checked and opened before the first request.
fn open(args: &WatchArgs) -> Result<(Watcher, spaces::Client), Failure> {
    let provider = args.provider;
    for capability in [Capability::ByCreators, Capability::BatchLookup] {
        if !provider.supports(capability) {
            let message =
                format!("{provider}: cannot be watched: it offers no {}; only --provider x can", capability.as_str());
            return Err(Failure::new(Exit::Usage, message));
        }
    }
    let mut user_ids = Vec::new();
    for id in &args.user_ids {
        provider.check_user_id(id.trim())?;
        user_ids.push(id.trim().to_owned());
    }
    if let Some(path) = &args.user_ids_file {
        crate::list::read_user_ids_file(provider, path, &mut user_ids)?;
    }
    args.connect.check(&[provider])?;
    let client = args.connect.client(provider)?;
    let mut options = WatchOptions::default();
    if let Some(interval) = args.interval {
        options = options.interval(interval);
    }
    if let Some(budget) = args.budget {
        options = options.budget(budget);
    }
    if args.activity {
        options = options.activity(Watcher::ACTIVITY_TAG);
    }
    let watcher = Watcher::open(client.clone(), &args.store, user_ids, options).map_err(watch_failure)?;
    Ok((watcher, client))
}

/// `300/15m`: at most 300 requests in any 15 minutes.
fn parse_budget(text: &str) -> Result<RateLimit, String> {
    let (requests, per) = text.split_once('/').ok_or("expected REQUESTS/DURATION, e.g. 300/15m")?;
    let requests = requests.trim().parse::<u32>().ok().and_then(std::num::NonZeroU32::new);
    let requests = requests.ok_or("the number of requests must be a whole number above zero")?;
    Ok(RateLimit { requests, per: parse_duration(per)? })
}

fn watch_failure(error: WatchError) -> Failure {
    match error {
        WatchError::Provider(error) => Failure::from(error),
        WatchError::NoUsers { .. } => Failure::new(Exit::Usage, error.to_string()),
        other => Failure::new(Exit::Failure, other.to_string()),
    }
}

/// Runs the watcher until `--for` passes or a signal comes (a poll under
/// way finishes and commits first; exit 0), printing each event as a line.
async fn watch(mut watcher: Watcher, run_for: Option<Duration>) -> ExitCode {
    let (signal, _) = interrupt::on_signal("finishing the current poll");
    let stop = async move {
        match run_for {
            Some(run_for) => {
                tokio::select! {
                    () = signal => {}
                    () = tokio::time::sleep(run_for) => {}
                }
            }
            None => signal.await,
        }
    };
    note!(
        "watching {} users' Spaces into {}: one request every {:.1}s, each user polled every {:.0}s",
        watcher.users().len(),
        watcher.store().path().display(),
        watcher.pace().as_secs_f64(),
        watcher.cycle().as_secs_f64()
    );
    let (mut events, mut closed) = (0u64, false);
    let (stop_printing, printing_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut stop_printing = Some(stop_printing);
    let stop = async move {
        tokio::select! {
            () = stop => {}
            _ = printing_stopped => {}
        }
    };
    let ran = watcher
        .run(stop, |happening| match happening {
            Happening::Event(event) => {
                events += 1;
                let mut line = Vec::new();
                if json_line(&mut line, event).is_ok() {
                    line.push(b'\n');
                    // A closed stdout stops the watch: the events are in the store anyway.
                    if write_stdout_bytes(&line).is_err() && !closed {
                        closed = true;
                        if let Some(stop) = stop_printing.take() {
                            let _ = stop.send(());
                        }
                    }
                }
            }
            Happening::Problem(error) => note!("warning: {error}; polling goes on"),
            Happening::Subscribed(made) => note!(
                "activity: {} subscriptions reused, {} made (tag `{}`); {} of other tags left alone",
                made.existing.len(),
                made.created.len(),
                Watcher::ACTIVITY_TAG,
                made.others.len()
            ),
            Happening::Stream(ActivityItem::Connected { backfill_minutes: 0 }) => {
                note!("activity: stream connected");
            }
            Happening::Stream(ActivityItem::Connected { backfill_minutes }) => {
                note!("activity: stream connected again, asking for the last {backfill_minutes} min");
            }
            Happening::Stream(ActivityItem::Disconnected { error, retry_in }) => {
                note!("activity: stream lost ({error}); connecting again in {:.1}s", retry_in.as_secs_f64());
            }
            Happening::Stream(ActivityItem::Skipped(error)) => note!("warning: activity: a line skipped: {error}"),
            _ => {}
        })
        .await;
    match ran {
        Ok(()) => {
            if !closed {
                note!("watch: {events} events, in {}", watcher.store().path().display());
            }
            Exit::Success.into()
        }
        Err(error) => watch_failure(error).report(),
    }
}
