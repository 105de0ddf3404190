//! The SSE metrics: `sse_long_line` (the parser on one 8 MiB line) and `sse_ingest` (events per
//! second over a real connection).

use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use serde_json::json;
use wk_realtime::sse::parser::{Item, Parser};
use wk_realtime::{Filter, KillEvent};

use crate::sys::{firehose, firehose_system};
use crate::{Args, Outcome, median};

const LINE: usize = 8 << 20;

/// `data: xxx…\n\n` split into `n` nearly equal chunks.
fn input(n: usize) -> Vec<Bytes> {
    let mut all = Vec::with_capacity(LINE + 8);
    all.extend_from_slice(b"data: ");
    all.resize(LINE + 6, b'x');
    all.extend_from_slice(b"\n\n");
    let all = Bytes::from(all);
    let size = all.len().div_ceil(n);
    (0..all.len())
        .step_by(size)
        .map(|at| all.slice(at..(at + size).min(all.len())))
        .collect()
}

/// Milliseconds for our parser to turn `chunks` into its one event.
fn ours(chunks: &[Bytes]) -> f64 {
    let start = Instant::now();
    let mut parser = Parser::new(16 << 20);
    let mut events = 0;
    for chunk in chunks {
        parser.feed(chunk);
        while let Some(item) = parser.next_item() {
            if let Ok(Item::Event(e)) = item {
                assert_eq!(e.data().len(), LINE);
                events += 1;
            }
        }
    }
    assert_eq!(events, 1);
    start.elapsed().as_secs_f64() * 1e3
}

/// Milliseconds for eventsource-stream (reqwest-eventsource's parser) on the same chunks.
fn theirs(chunks: Vec<Bytes>) -> f64 {
    let start = Instant::now();
    let stream = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>))
        .eventsource()
        .map(|e| e.expect("valid").data.len());
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    let mut events = 0;
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(len)) => {
                assert_eq!(len, LINE);
                events += 1;
            }
            Poll::Ready(None) => break,
            Poll::Pending => unreachable!("the input is always ready"),
        }
    }
    assert_eq!(events, 1);
    start.elapsed().as_secs_f64() * 1e3
}

/// `sse_long_line`: one 8 MiB `data:` line in 1,024 chunks against the same bytes in one chunk.
pub(crate) fn long_line(args: &Args) -> Outcome {
    let rounds = if args.flag("quick") { 3 } else { 7 };
    let many = input(1024);
    let one = input(1);
    let (mut ours_many, mut ours_one) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours_many.push(ours(&many));
        ours_one.push(ours(&one));
    }
    // eventsource-stream copies the growing line on every chunk: one round each is plenty.
    let es_one = theirs(one.clone());
    let es_many = theirs(many.clone());
    Ok(Some(json!({
        "value": median(ours_many),
        "baseline": median(ours_one),
        "eventsource_stream_1024_chunks_ms": es_many,
        "eventsource_stream_1_chunk_ms": es_one,
        "line_bytes": LINE,
        "chunks": many.len(),
    })))
}

/// Asks the testkit for `events` firehose kills once a basic SSE stream is registered there.
async fn trigger(base: &str, events: u64, copies: u64) -> Result<(), String> {
    let base = base.to_owned();
    tokio::task::spawn_blocking(move || {
        for _ in 0..500 {
            let probe = firehose(&base, 0, 1)?;
            if !probe.contains(r#""streams":0"#) {
                firehose(&base, events, copies)?;
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Err("the SSE stream never registered".to_owned())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `sse_ingest`: kills per second over one basic SSE stream from the testkit firehose.
///
/// - default: `wk_realtime::sse::Client`, counting [`KillEvent::Kill`]s (parsed, decoded to typed
///   events, filtered and de-duplicated);
/// - `--raw`: hyper reading the same stream's body and counting event terminators, the ceiling;
/// - `--raw --decode`: the same, also decoding each `data:` line with `decode::killmail` (the
///   owned killmail the SDK's events carry) and nothing else: no SSE parser, de-duplication,
///   filter or queue. The most any client built on this decoder and transport could reach.
///
/// `--copies C` has the server write each kill in C identical events in a row, as the real server
/// writes each live kill twice (PROTOCOL.md §8.2): the SDK then delivers `events / C` kills.
pub(crate) fn ingest(args: &Args) -> Outcome {
    let base = args.get("base")?.to_owned();
    let events = args.num("events", 100_000)?;
    let raw = args.flag("raw");
    let decode = args.flag("decode");
    let copies = args.num("copies", 1)?.max(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let elapsed = runtime.block_on(async {
        if raw {
            raw_reader(&base, events, copies, decode).await
        } else {
            sdk_reader(&base, events, copies).await
        }
    })?;
    Ok(Some(json!({
        "events": events,
        "events_per_s": (events - 1) as f64 / elapsed,
    })))
}

async fn sdk_reader(base: &str, events: u64, copies: u64) -> Result<f64, String> {
    // The default queue: the stream's task gives way every event, so a consumer on the same
    // thread keeps up with the burst (any lag fails the run below).
    let client = wk_realtime::sse::Client::builder(base)
        .gap_recovery(false)
        .build()
        .map_err(|e| e.to_string())?;
    let mut kills = client
        .subscribe(Filter::new().systems([firehose_system()]))
        .await
        .map_err(|e| e.to_string())?;
    trigger(base, events, copies).await?;
    let kills_sent = events.div_ceil(copies);
    let mut first = None;
    let (mut seen, mut lagged) = (0u64, 0u64);
    while seen + lagged < kills_sent {
        let next = tokio::time::timeout(std::time::Duration::from_secs(60), kills.next())
            .await
            .map_err(|_| format!("stalled after {seen} kills"))?;
        match next {
            Some(Ok(KillEvent::Kill(_))) => {
                seen += 1;
                first.get_or_insert_with(Instant::now);
            }
            Some(Ok(KillEvent::Lagged(n))) => lagged += n,
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the stream ended".to_owned()),
        }
    }
    if lagged > 0 {
        return Err(format!("the consumer lagged by {lagged} events"));
    }
    Ok(first.map_or(0.0, |f| f.elapsed().as_secs_f64()))
}

async fn raw_reader(base: &str, events: u64, copies: u64, decode: bool) -> Result<f64, String> {
    use http_body_util::{BodyExt, Empty};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let uri = format!(
        "{base}/api/v1/kills/stream?system_ids={}",
        firehose_system().get()
    );
    let response = client
        .get(uri.parse().map_err(|e| format!("{e}"))?)
        .await
        .map_err(|e| e.to_string())?;
    let mut body = response.into_body();
    trigger(base, events, copies).await?;
    let mut first = None;
    // Every event ends with a blank line; the stream opens with `retry: 2000` and its blank line.
    let mut ends = 0u64;
    let mut last = 0u8;
    // With `decode`: the line that a chunk ended inside of.
    let mut partial = Vec::new();
    while ends < events + 1 {
        let frame = body
            .frame()
            .await
            .ok_or("the stream ended")?
            .map_err(|e| e.to_string())?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if ends > 0 {
            first.get_or_insert_with(Instant::now);
        }
        if decode {
            decode_lines(&data, &mut partial)?;
        }
        for &b in data.iter() {
            if b == b'\n' && last == b'\n' {
                ends += 1;
            }
            last = b;
        }
    }
    Ok(first.map_or(0.0, |f| f.elapsed().as_secs_f64()))
}

/// Decodes every complete `data:` line in `chunk` as a killmail; `partial` carries a line across
/// chunks.
fn decode_lines(chunk: &[u8], partial: &mut Vec<u8>) -> Result<(), String> {
    let mut rest = chunk;
    while let Some(n) = rest.iter().position(|&b| b == b'\n') {
        let line = if partial.is_empty() {
            &rest[..n]
        } else {
            partial.extend_from_slice(&rest[..n]);
            partial.as_slice()
        };
        if let Some(json) = line.strip_prefix(b"data: ") {
            let text = std::str::from_utf8(json).map_err(|e| e.to_string())?;
            let killmail = wk_types::decode::killmail(text).map_err(|e| e.to_string())?;
            std::hint::black_box(killmail.attackers.len());
        }
        partial.clear();
        rest = &rest[n + 1..];
    }
    partial.extend_from_slice(rest);
    Ok(())
}
