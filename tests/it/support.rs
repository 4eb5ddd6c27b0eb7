//! Paths, clients and servers shared by the test modules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use spaces::{Client, Provider, RetryPolicy, Token};

/// A token recognizable anywhere it might leak.
pub const TEST_TOKEN: &str = "tok-SECRET-4242-do-not-print";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_path_buf()
}

/// Every `specs/*.yaml`, sorted, as (provider, path).
pub fn spec_files() -> Vec<(String, PathBuf)> {
    let mut specs: Vec<(String, PathBuf)> = std::fs::read_dir(workspace_root().join("specs"))
        .expect("specs/ is readable")
        .map(|entry| entry.expect("specs/ entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .map(|path| (path.file_stem().expect("stem").to_string_lossy().into_owned(), path))
        .collect();
    specs.sort();
    specs
}

/// Retries that keep tests fast: millisecond backoffs, a 10 s deadline.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        deadline: Duration::from_secs(10),
    }
}

/// A client for `provider` at `base_url` with the test token, fast retries, no rate limit.
pub fn test_client(provider: Provider, base_url: &str) -> Client {
    Client::builder(provider)
        .token(Token::new(TEST_TOKEN))
        .base_url(base_url)
        .timeout(Duration::from_secs(5))
        .retry(fast_retries())
        .rate_limit(None)
        .build()
        .expect("a test client builds")
}

/// How a raw loopback server treats each connection.
#[derive(Clone)]
pub enum Behavior {
    /// Writes these bytes (possibly a broken HTTP message), then closes.
    Respond(Vec<u8>),
    /// Writes these bytes, then resets the connection (RST, not FIN).
    ResetAfter(Vec<u8>),
    /// Writes `head` at once, then `body` one byte per `every`.
    Drip { head: Vec<u8>, body: Vec<u8>, every: Duration },
    /// Reads the request and never answers.
    Stall,
}

/// A loopback server that treats every connection per `behavior`. Returns its base URL.
pub async fn raw_server_with(behavior: Behavior) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behavior = behavior.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8192];
                let _ = socket.read(&mut request).await;
                match behavior {
                    Behavior::Respond(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Behavior::ResetAfter(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.flush().await;
                        // Linger zero makes the close an RST. (Deprecated because a
                        // non-zero linger blocks on drop; zero never blocks.)
                        #[allow(deprecated)]
                        let _ = socket.set_linger(Some(Duration::ZERO));
                        drop(socket);
                    }
                    Behavior::Drip { head, body, every } => {
                        let _ = socket.write_all(&head).await;
                        for byte in body {
                            tokio::time::sleep(every).await;
                            if socket.write_all(&[byte]).await.is_err() {
                                return;
                            }
                        }
                    }
                    Behavior::Stall => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        drop(socket);
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// A loopback server that answers every connection with `response` and closes it.
pub async fn raw_server(response: Vec<u8>) -> String {
    raw_server_with(Behavior::Respond(response)).await
}
