//! Helpers for the SSE tests: clients with short timings, bounded waits on a stream.

use std::time::Duration;

use futures_util::StreamExt;
use wk_realtime::sse::{Client, ClientBuilder, ConnectionState, Subscription};
use wk_realtime::{Kill, KillEvent};
use wk_testkit::TestServer;

pub(crate) use crate::support::WAIT;

/// A reconnect delay of exactly `ms`.
pub(crate) fn fixed_backoff(ms: u64) -> wk_retry::BackoffConfig {
    let d = Duration::from_millis(ms);
    wk_retry::BackoffConfig::default().base(d).min(d).max(d)
}

/// A client that reconnects quickly and ignores the server's `retry: 2000`.
pub(crate) fn client(server: &TestServer) -> ClientBuilder {
    Client::builder(server.base_url())
        .reconnect_backoff(fixed_backoff(50))
        .max_server_delay(Duration::from_millis(50))
        .connect_timeout(Duration::from_secs(5))
}

/// The next kill, skipping other events; panics after [`WAIT`].
pub(crate) async fn next_kill(sub: &mut Subscription) -> Kill {
    tokio::time::timeout(WAIT, async {
        loop {
            match sub
                .next()
                .await
                .expect("stream ended")
                .expect("stream error")
            {
                KillEvent::Kill(k) => return k,
                _ => continue,
            }
        }
    })
    .await
    .expect("no kill within the wait")
}

/// The next event of any kind; panics after [`WAIT`].
pub(crate) async fn next_event(sub: &mut Subscription) -> wk_realtime::Result<KillEvent> {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("no event within the wait")
        .expect("stream ended")
}

/// Collects kills until `quiet` passes without an event.
pub(crate) async fn drain_kills(sub: &mut Subscription, quiet: Duration) -> Vec<Kill> {
    let mut out = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(quiet, sub.next()).await {
        if let Ok(KillEvent::Kill(k)) = item {
            out.push(k);
        }
    }
    out
}

/// Waits until the subscription's state satisfies `want`.
pub(crate) async fn wait_state(sub: &Subscription, want: impl Fn(&ConnectionState) -> bool) {
    let mut rx = sub.state();
    tokio::time::timeout(WAIT, rx.wait_for(|s| want(s)))
        .await
        .expect("state reached")
        .expect("stream task alive");
}
