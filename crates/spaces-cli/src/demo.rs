//! `spaces demo`: the whole pipeline, with no network and no keys.
//!
//! Starts the mock providers on 127.0.0.1 (a random free port), points a real
//! client for each provider at it — the generated progenitor clients, over
//! real HTTP — and prints where they differ on one live Space. Then,
//! briefly, what only X offers: a batch lookup of several ids in one request
//! (`Client::spaces`), a search, and a short watch of a scripted timeline
//! (the mock's lifecycle) at four times real speed.

use std::process::ExitCode;

use std::time::Duration;

use spaces::watch::{Happening, Store, WatchOptions, Watcher};
use spaces::{Client, Provider, RateLimit, RateLimiting, Search, Token};
use spaces_mock::lifecycle::{Lifecycle, Timeline, XBudget};
use spaces_mock::{DEMO_SPACE_ID, DEMO_TOKEN, EXAMPLE_MISSING_ID, LIVE_SPACE_ID, MockProviders};

use crate::args::Format;
use crate::compare::Comparison;
use crate::exit::{Exit, Failure};
use crate::format::Output;
use crate::output::write_stdout;
use crate::table::Row;
use crate::{exit, list, table};

pub async fn run() -> ExitCode {
    let width = table::width();
    let mock = MockProviders::start().await;
    let mut clients = Vec::new();
    for &provider in Provider::ALL {
        let client = Client::builder(provider)
            .token(Token::new(DEMO_TOKEN))
            .base_url(mock.base_url(provider))
            .rate_limiting(RateLimiting::Off)
            .build();
        match client {
            Ok(client) => clients.push(client),
            Err(error) => return exit::report(error),
        }
    }
    let titles: Vec<&str> = Provider::ALL.iter().map(|provider| provider.info().title).collect();
    let intro = format!(
        "Mock providers listening on {} (the specs' example answers; nothing leaves this machine).\n\
         Fetching the live Space {LIVE_SPACE_ID} from {} through the generated clients; \
         the fields they answer differently:\n",
        mock.server().uri(),
        titles.join(", ")
    );
    if let Err(failure) = write_stdout(&table::fill(&intro, width)) {
        return failure.report();
    }
    let comparison = Comparison::fetch(&clients, LIVE_SPACE_ID).await;
    let mut code = comparison.print(&Output::of(Format::Table), width, false);
    if let Some(x) = clients.iter().find(|client| client.provider() == Provider::X) {
        match x_only(x, width).await {
            Ok(text) => {
                if let Err(failure) = write_stdout(&text) {
                    return failure.report();
                }
            }
            Err(failure) => code = failure.report(),
        }
    }
    match short_watch(width).await {
        Ok(text) => {
            if let Err(failure) = write_stdout(&text) {
                return failure.report();
            }
        }
        Err(failure) => code = failure.report(),
    }
    let next = "\nNext: `spaces mock` runs these mock providers until Ctrl-C and prints the options and token to \
        point every command at them: try show, bulk, search, compare, merge and watch without keys. With real \
        keys: `spaces show ID_OR_URL --format table`, `spaces show --ids-file ids.txt` (100 ids per request), \
        `spaces search QUERY`, or `spaces --help`.";
    if let Err(failure) = write_stdout(&table::fill(next, width)) {
        return failure.report();
    }
    code
}

/// X's batch lookup (the demo Space and a missing one, in one request) and
/// a search, as text at most `width` columns wide. A failure is the demo
/// Space not found, or the search failing.
async fn x_only(x: &Client, width: usize) -> Result<String, Failure> {
    let info = Provider::X.info();
    // X has a batch endpoint (its ProviderInfo says so); 100 is only the
    // wording's fallback, never a request size.
    let per_request = info.batch_lookup.map_or(100, |batch| batch.max_ids);
    let mut text = table::fill(
        &format!(
            "\nOnly X looks up many Spaces per request, up to {per_request} ids (10,000 ids: 100 requests, \
             not 10,000). Bulk `spaces show --provider x` does it; here two ids, one request:"
        ),
        width,
    );
    let mut demo_found = false;
    let mut rows = Vec::new();
    for spaces::Outcome { id, result, .. } in x.spaces([DEMO_SPACE_ID, EXAMPLE_MISSING_ID]).await {
        let cell = match result {
            Ok(space) => {
                demo_found |= id == DEMO_SPACE_ID;
                format!("found: \"{}\" ({})", space.title.as_deref().unwrap_or("(untitled)"), space.state)
            }
            Err(error) => error.to_string(),
        };
        rows.push(Row { marked: false, cells: vec![id, cell] });
    }
    text.push_str(&table::render_fitted(&["id".to_owned(), "outcome".to_owned()], &rows, width));
    if !demo_found {
        return Err(Failure::new(Exit::Failure, format!("x: the batch lookup did not find {DEMO_SPACE_ID}")));
    }
    let list = x.search(&Search::new("radio").max_results(10)).await?;
    text.push_str(&table::fill(
        &format!("\nSearch (live and scheduled Spaces by title): `spaces search radio`, {} Spaces:", list.spaces.len()),
        width,
    ));
    text.push_str(&list::render(&list.spaces, width));
    Ok(text)
}

/// How much faster than real time the demo's watch runs: its 18 s of
/// script in about 4.5 s.
const WATCH_SPEED: f64 = 4.0;

/// A short watch of the mock's scripted lifecycle (four users, four Spaces:
/// one ends, one is canceled, one rescheduled, one vanishes), at
/// [`WATCH_SPEED`], into a throwaway store; its events as lines of text.
async fn short_watch(width: usize) -> Result<String, Failure> {
    let speed = WATCH_SPEED;
    // X's budget, as fast as the mock's clock: 300 requests per 15 minutes of script.
    let window = Duration::from_secs(15 * 60).div_f64(speed);
    let lifecycle = Lifecycle::new(Timeline::demo()).at_speed(speed).with_budget(XBudget::per_endpoint(300, window));
    let server = lifecycle.start().await;
    let client = Client::builder(Provider::X).token(Token::new(DEMO_TOKEN)).base_url(server.uri()).build()?;
    let store = std::env::temp_dir().join(format!("spaces-demo-{}.db", std::process::id()));
    let budget = RateLimit { requests: std::num::NonZeroU32::MIN.saturating_add(299), per: window };
    let users = Timeline::DEMO_USERS.map(str::to_owned);
    let options = WatchOptions::default().budget(budget);
    let mut watcher = Watcher::open(client, &store, users, options)
        .map_err(|error| Failure::new(Exit::Failure, error.to_string()))?;
    let mut text = table::fill(
        &format!(
            "\nWatching 4 users' Spaces (`spaces watch`), on a scripted timeline {speed}x faster than real time: \
             one request every {:.2}s, each event as it is stored:",
            watcher.pace().as_secs_f64()
        ),
        width,
    );
    let last = lifecycle.timeline().last_change().div_f64(speed) + Duration::from_millis(500);
    let started = std::time::Instant::now();
    let mut lines = Vec::new();
    let ran = watcher
        .run(tokio::time::sleep(last), |happening| {
            if let Happening::Event(event) = happening {
                let title = event.space.as_ref().and_then(|space| space.title.clone()).unwrap_or_default();
                lines.push(format!(
                    "  +{:>4.1}s  {:<11} {}  {}",
                    started.elapsed().as_secs_f64() * speed,
                    event.kind.as_str(),
                    event.space_id,
                    crate::output::shown(&title)
                ));
            }
        })
        .await;
    drop(watcher);
    for file in Store::files(&store) {
        let _ = std::fs::remove_file(file);
    }
    ran.map_err(|error| Failure::new(Exit::Failure, error.to_string()))?;
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}
