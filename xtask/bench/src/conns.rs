//! `ws_connections_10k`: resident memory per joined connection, holding N connections.
//!
//! - default: N `wk_realtime::ws::Client`s with default settings (each one socket, one join, one
//!   background task);
//! - `--raw`: N tokio-tungstenite connections with the default `WebSocketConfig`, each joined by
//!   hand and read by a task of its own, as a user of the bare library would hold them.
//!
//! RSS (`VmRSS`) is read after one warm-up connection and again once all N are joined.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt, stream};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::sys::rss_kib;
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
            let url = format!("{ws}?vsn=2.0.0");
            let warm = raw_connection(url.clone()).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let before = rss_kib();
            let held: Vec<_> = stream::iter(0..n)
                .map(|_| raw_connection(url.clone()))
                .buffer_unordered(PARALLEL)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, String>>()?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after = rss_kib();
            drop((warm, held));
            Ok::<_, String>((before, after))
        } else {
            let connect = |base: String| async move {
                wk_realtime::ws::Client::builder(base)
                    .gap_recovery(false)
                    .connect()
                    .await
                    .map_err(|e| e.to_string())
            };
            let warm = connect(base.clone()).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let before = rss_kib();
            let held: Vec<_> = stream::iter(0..n)
                .map(|_| connect(base.clone()))
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
    })?;
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(Some(json!({
        "connections": n,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": after.saturating_sub(before) as f64 / n as f64,
    })))
}

/// A tokio-tungstenite connection joined by hand; a task keeps reading it until the handle drops.
async fn raw_connection(url: String) -> Result<tokio::task::JoinHandle<()>, String> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(
            r#"["1","1","killmails:lobby","phx_join",{}]"#.into(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) if t.contains("phx_reply") => break,
            Some(Ok(_)) => {}
            other => return Err(format!("join failed: {other:?}")),
        }
    }
    Ok(tokio::spawn(async move {
        while let Some(Ok(_)) = socket.next().await {}
    }))
}
