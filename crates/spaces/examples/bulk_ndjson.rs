//! Reads Space ids from stdin, one per line, and writes one NDJSON line per
//! Space found on stdout as soon as its request is answered (in input
//! order), each failure on stderr: the library's streamed bulk lookup, 100
//! ids per request on X.
//!
//! ```sh
//! X_BEARER_TOKEN=... cargo run -p spaces --example bulk_ndjson < ids.txt > spaces.ndjson
//! ```
//!
//! `SPACES_BASE_URL_X` points it elsewhere (`spaces mock` prints it).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use futures_util::StreamExt;
use spaces::{Client, Provider};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut builder = Client::builder(Provider::X);
    if let Ok(url) = std::env::var("SPACES_BASE_URL_X") {
        builder = builder.base_url(url);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // Read on a thread of its own, so reading never holds up the requests.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<String>(1_024);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            let id = line.trim().to_owned();
            if !id.is_empty() && sender.blocking_send(id).is_err() {
                return;
            }
        }
    });
    let ids = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let mut outcomes = client.lookup_stream(ids).stream();
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    while let Some(outcome) = outcomes.next().await {
        match outcome.result {
            Ok(space) => {
                let written = serde_json::to_writer(&mut stdout, &space)
                    .map_err(std::io::Error::from)
                    .and_then(|()| stdout.write_all(b"\n"))
                    .and_then(|()| stdout.flush());
                if written.is_err() {
                    return ExitCode::SUCCESS; // the reader has gone
                }
            }
            Err(error) => {
                failed = true;
                eprintln!("{}: {error}", outcome.id);
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
