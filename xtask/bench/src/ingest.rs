//! `ws_ingest`: frames per second one connection receives from the testkit firehose.
//!
//! - default: one `wk_realtime::ws::Client` subscribed to the firehose's system; the consumer counts
//!   [`KillEvent::Kill`]s, so every frame is decoded to typed events, de-duplicated and routed;
//! - `--raw`: tokio-tungstenite reading text frames and doing nothing else, the ceiling of what
//!   the server and the socket deliver;
//! - `--raw --decode`: the same, decoding each frame with `FrameRef::killmail_update` (owned
//!   killmails, as the SDK's events carry) and nothing else: no de-duplication, routing, queue or
//!   consumer. The most any client built on this decoder and socket could reach.
//!
//! Both run on a current-thread runtime (one core, like Node). The rate is taken from the first to
//! the last frame; CPU time is this process's, from the firehose request to the last frame.
//! `--copies C` has the server send each kill in C identical frames in a row, as the real server
//! repeats its pushes (PROTOCOL.md §7.8): the SDK then delivers `frames / C` kills.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use wk_realtime::{Filter, KillEvent};
use wk_types::phoenix::FrameRef;

use crate::sys::{cpu_seconds, firehose, firehose_system, raw_join};
use crate::{Args, Outcome};

/// Runs one ingest measurement.
pub(crate) fn run(args: &Args) -> Outcome {
    let base = args.get("base")?.to_owned();
    let frames = args.num("frames", 100_000)?;
    let raw = args.flag("raw");
    let decode = args.flag("decode");
    let copies = args.num("copies", 1)?.max(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = if raw {
        let ws = args.get("ws")?.to_owned();
        runtime.block_on(raw_reader(&base, &ws, frames, copies, decode))?
    } else {
        runtime.block_on(sdk_reader(&base, frames, copies))?
    };
    let (elapsed, cpu, lagged) = result;
    Ok(Some(json!({
        "frames": frames,
        "frames_per_s": (frames - 1) as f64 / elapsed.as_secs_f64(),
        "cpu_s_per_million": cpu / frames as f64 * 1e6,
        "lagged": lagged,
    })))
}

async fn trigger(base: &str, frames: u64, copies: u64) -> Result<(), String> {
    let base = base.to_owned();
    tokio::task::spawn_blocking(move || firehose(&base, frames, copies))
        .await
        .map_err(|e| e.to_string())??;
    Ok(())
}

/// The SDK: connect, subscribe, count kills until every frame is accounted for (delivered or
/// dropped as a duplicate). Returns (first→last, CPU seconds, events lost to lag).
async fn sdk_reader(base: &str, frames: u64, copies: u64) -> Result<(Duration, f64, u64), String> {
    let client = wk_realtime::ws::Client::builder(base)
        .gap_recovery(false)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let mut kills = client
        .subscribe(Filter::new().systems([firehose_system()]))
        .await
        .map_err(|e| e.to_string())?;
    let cpu0 = cpu_seconds();
    trigger(base, frames, copies).await?;
    let kills_sent = frames.div_ceil(copies);
    let mut first = None;
    let mut seen = 0u64;
    let mut lagged = 0u64;
    while seen + lagged < kills_sent {
        let next = tokio::time::timeout(Duration::from_secs(60), kills.next())
            .await
            .map_err(|_| format!("stalled after {seen} kills"))?;
        match next {
            Some(Ok(KillEvent::Kill(_))) => {
                seen += 1;
                if first.is_none() {
                    first = Some(Instant::now());
                }
            }
            Some(Ok(KillEvent::Lagged(n))) => lagged += n,
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the subscription ended".to_owned()),
        }
    }
    // The last kill's copies may still be on their way.
    while {
        let stats = client.stats();
        stats.kills + stats.duplicates < frames
    } {
        tokio::task::yield_now().await;
    }
    let elapsed = first.map_or(Duration::ZERO, |f| f.elapsed());
    let cpu = cpu_seconds() - cpu0;
    drop(kills);
    drop(client);
    Ok((elapsed, cpu, lagged))
}

/// The ceiling: tokio-tungstenite with default settings, a hand-written join, no decoding (or,
/// with `decode`, the decoding alone).
async fn raw_reader(
    base: &str,
    ws: &str,
    frames: u64,
    copies: u64,
    decode: bool,
) -> Result<(Duration, f64, u64), String> {
    let mut socket = raw_join(ws).await?;
    let cpu0 = cpu_seconds();
    trigger(base, frames, copies).await?;
    let mut first = None;
    let mut seen = 0u64;
    while seen < frames {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => {
                if t.len() > 512 {
                    if decode {
                        let frame = FrameRef::killmail_update(t.as_str())
                            .ok_or_else(|| format!("frame {seen} not taken by the reader"))?;
                        std::hint::black_box(frame.payload.killmails.len());
                    }
                    seen += 1;
                    if first.is_none() {
                        first = Some(Instant::now());
                    }
                }
            }
            Some(Ok(_)) => {}
            other => return Err(format!("socket ended after {seen}: {other:?}")),
        }
    }
    let elapsed = first.map_or(Duration::ZERO, |f| f.elapsed());
    Ok((elapsed, cpu_seconds() - cpu0, 0))
}
