//! `ws_connections_10k`: resident memory per joined connection, holding N connections.
//!
//! - default: N `wk_realtime::ws::Client`s with default settings (each one socket, one join, one
//!   background task);
//! - `--raw`: N tokio-tungstenite connections with the default `WebSocketConfig`, each joined by
//!   hand and read by a task of its own, as a user of the bare library would hold them.
//!
//! RSS (`VmRSS`) is read after one warm-up connection and again once all N are joined.

use std::time::Duration;

use futures_util::{StreamExt, stream};
use serde_json::json;

use crate::sys::{raw_join, rss_kib};
use crate::{Args, Outcome};

/// How many connections are opened at once.
const PARALLEL: usize = 64;

/// Opens the connections and reports KiB per connection.
pub(crate) fn run(args: &Args) -> Outcome {
    let base = args.get("base")?.to_owned();
    let ws = args.get("ws")?.to_owned();
    let n = args.num("conns", 10_000)? as usize;
    let raw = args.flag("raw");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (before, after) = runtime.block_on(async {
        if raw {
            let connect = |ws: String| async move {
                let mut socket = raw_join(&ws).await?;
                // A task keeps reading the connection until the runtime ends.
                Ok(tokio::spawn(async move {
                    while let Some(Ok(_)) = socket.next().await {}
                }))
            };
            hold(n, || connect(ws.clone())).await
        } else {
            let connect = |base: String| async move {
                wk_realtime::ws::Client::builder(base)
                    .gap_recovery(false)
                    .connect()
                    .await
                    .map_err(|e| e.to_string())
            };
            hold(n, || connect(base.clone())).await
        }
    })?;
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(Some(json!({
        "connections": n,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": after.saturating_sub(before) as f64 / n as f64,
    })))
}

/// RSS after one warm-up connection, and again once `n` more are open; the connections are
/// dropped afterwards.
async fn hold<C, F>(n: usize, connect: impl Fn() -> F) -> Result<(u64, u64), String>
where
    F: std::future::Future<Output = Result<C, String>>,
{
    let warm = connect().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib();
    let held: Vec<C> = stream::iter(0..n)
        .map(|_| connect())
        .buffer_unordered(PARALLEL)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, String>>()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib();
    drop((warm, held));
    Ok((before, after))
}
