//! Shared helpers: servers with short timings, clients that fail fast, bounded waits.

use std::time::Duration;

use futures_util::StreamExt;
use wk_realtime::ws::{Client, ClientBuilder, Subscription};
use wk_realtime::{Filter, Kill, KillEvent};
use wk_testkit::{Profile, TestServer, TestServerBuilder};

/// The bound on every wait in these tests; a hang fails instead of blocking the suite.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn server(profile: Profile) -> TestServerBuilder {
    TestServer::builder().profile(profile)
}

pub(crate) fn client(server: &TestServer) -> ClientBuilder {
    Client::builder(server.base_url())
        .client_id("wk-realtime-tests")
        .reconnect_backoff(
            wk_retry::BackoffConfig::default()
                .base(Duration::from_millis(50))
                .max(Duration::from_millis(200))
                .min(Duration::from_millis(10)),
        )
        .reply_timeout(Duration::from_secs(5))
        .recovery_interval(Duration::from_millis(50))
}

/// Connects `builder` and subscribes to `filter`.
pub(crate) async fn subscribed(builder: ClientBuilder, filter: Filter) -> (Client, Subscription) {
    let client = builder.connect().await.unwrap();
    let sub = client.subscribe(filter).await.unwrap();
    (client, sub)
}

/// The next kill on `sub`, skipping other events; panics after [`WAIT`].
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

/// Collects kills until `quiet` passes without one.
pub(crate) async fn drain_kills(sub: &mut Subscription, quiet: Duration) -> Vec<Kill> {
    let mut out = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(quiet, sub.next()).await {
        if let Ok(KillEvent::Kill(k)) = item {
            out.push(k);
        }
    }
    out
}

/// Two runtimes for tests where the client's thread must not serve the server: the testkit on a
/// one-worker runtime of its own, and a current-thread runtime for the client, whose `block_on`
/// future is the consumer.
pub(crate) struct Split {
    pub(crate) server_rt: tokio::runtime::Runtime,
    pub(crate) server: TestServer,
    pub(crate) client_rt: tokio::runtime::Runtime,
}

impl Split {
    pub(crate) fn start(profile: Profile) -> Self {
        let server_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        let server = server_rt.block_on(start(profile));
        let client_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        Self {
            server_rt,
            server,
            client_rt,
        }
    }
}

/// Reads `stream` until `total` kills are delivered or counted as lagged; returns both counts.
/// Panics after [`WAIT`] or on an error item.
pub(crate) async fn count_kills<S>(stream: &mut S, total: u64) -> (u64, u64)
where
    S: futures_util::Stream<Item = wk_realtime::Result<KillEvent>> + Unpin,
{
    let (mut kills, mut lagged) = (0u64, 0u64);
    tokio::time::timeout(WAIT, async {
        while kills + lagged < total {
            match stream.next().await.expect("open").expect("no error") {
                KillEvent::Kill(_) => kills += 1,
                KillEvent::Lagged(n) => lagged += n,
                _ => {}
            }
        }
    })
    .await
    .expect("every kill accounted for");
    (kills, lagged)
}

pub(crate) async fn start(profile: Profile) -> TestServer {
    server(profile).start().await.expect("testkit starts")
}
