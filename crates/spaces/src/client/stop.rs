//! Stopping a bulk run cleanly: no new request is sent once it is stopped,
//! a wait (rate limit, backoff) ends at once, and requests already sent
//! are answered as usual, so nothing paid for is lost.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::future::{Either, select};
use tokio::sync::Notify;

/// Whether a run was stopped, shared by every call it makes. The default
/// never stops (a single call, a run without [`stop_on`](super::Lookup::stop_on)).
#[derive(Clone, Debug, Default)]
pub(crate) struct Stop(Option<Arc<Flag>>);

#[derive(Debug, Default)]
struct Flag {
    stopped: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// A stop that [`trigger`](Self::trigger) can set.
    pub fn new() -> Stop {
        Stop(Some(Arc::default()))
    }

    pub fn is_stopped(&self) -> bool {
        self.0.as_ref().is_some_and(|flag| flag.stopped.load(Ordering::Acquire))
    }

    pub fn trigger(&self) {
        if let Some(flag) = &self.0 {
            flag.stopped.store(true, Ordering::Release);
            flag.notify.notify_waiters();
        }
    }

    /// Resolves once stopped; never, for a stop that cannot be triggered.
    async fn stopped(&self) {
        let Some(flag) = &self.0 else { return std::future::pending().await };
        loop {
            let notified = flag.notify.notified();
            if flag.stopped.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// `future`'s output, or `None` when the run is stopped first.
    pub async fn unless_stopped<F: Future>(&self, future: F) -> Option<F::Output> {
        if self.is_stopped() {
            return None;
        }
        match select(pin!(future), pin!(self.stopped())).await {
            Either::Left((output, _)) => Some(output),
            Either::Right(((), _)) => None,
        }
    }
}

/// A stream that triggers `stop` when `signal` resolves. The signal is
/// polled each time the stream is, so it needs no task of its own.
pub(crate) struct StopOn<S> {
    pub inner: S,
    pub signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    pub stop: Stop,
}

impl<S: Stream + Unpin> Stream for StopOn<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if let Some(signal) = &mut self.signal
            && signal.as_mut().poll(cx).is_ready()
        {
            self.signal = None;
            self.stop.trigger();
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Stop;

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_when_stopped_and_nothing_starts_after() {
        let stop = Stop::new();
        let trigger = stop.clone();
        let waited =
            tokio::spawn(async move { stop.unless_stopped(tokio::time::sleep(Duration::from_secs(900))).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        trigger.trigger();
        assert_eq!(waited.await.expect("joined"), None);
        assert_eq!(trigger.unless_stopped(async { 1 }).await, None, "stopped: nothing more runs");
        assert_eq!(Stop::default().unless_stopped(async { 1 }).await, Some(1));
    }
}
