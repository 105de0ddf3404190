//! Server-Sent Events (PROTOCOL.md §8): the basic stream byte for byte, and the enhanced stream as
//! the profile has it (the real server: an empty 200 and a leaking cap; designed: the documented events).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use wk_types::Killmail;

use super::http::{api_not_found, json_response, last, query_pairs};
use super::hub::{Shared, SseKind, SseQuery, SseStream};
use crate::forms;
use crate::json::{self, erlang_float, now_timestamp};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/kills/stream", get(basic).fallback(api_not_found))
        .route(
            "/api/v1/kills/stream/enhanced",
            get(enhanced).fallback(api_not_found),
        )
}

fn sse_error(message: &str) -> Response<Body> {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": {"domain": "validation", "type": "invalid_format", "message": message, "details": null, "retryable": false}}),
    )
}

fn parse_int(s: &str) -> Option<i64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn parse_ids(pairs: &[(String, String)], name: &str) -> Result<Vec<i64>, String> {
    let bracket = format!("{name}[");
    if pairs.iter().any(|(k, _)| k.starts_with(&bracket)) {
        return Err(format!("{name} must be a comma-separated list of integers"));
    }
    let Some(raw) = last(pairs, name) else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for token in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match parse_int(token) {
            Some(id) => ids.push(id),
            None => return Err(format!("Invalid {name}: '{token}' is not a valid integer")),
        }
    }
    if ids.len() > 100 {
        return Err(format!("Too many {name} specified (max 100)"));
    }
    Ok(ids)
}

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let ok_chars = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    let starts_digit = t
        .trim_start_matches(['+', '-'])
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit());
    if !ok_chars || !starts_digit {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Parses and validates the shared SSE parameters (§8.1).
pub(crate) fn parse_query(q: Option<&str>) -> Result<SseQuery, String> {
    let pairs = query_pairs(q);
    let system_ids = parse_ids(&pairs, "system_ids")?;
    let character_ids = parse_ids(&pairs, "character_ids")?;
    if pairs.iter().any(|(k, _)| k.starts_with("min_value[")) {
        return Err("min_value must be a non-negative number".into());
    }
    let min_value = match last(&pairs, "min_value") {
        None => None,
        Some(v) => match parse_number(v) {
            Some(f) if f >= 0.0 => Some(f),
            Some(f) => {
                return Err(format!(
                    "min_value must be non-negative, got {}",
                    erlang_float(f)
                ));
            }
            None => return Err(format!("Invalid min_value: '{v}' is not a valid number")),
        },
    };
    if pairs.iter().any(|(k, _)| k.starts_with("preload_days[")) {
        return Err("preload_days must be a non-negative integer".into());
    }
    let preload_days = match last(&pairs, "preload_days") {
        None => 0,
        Some(v) => match parse_int(v.trim()) {
            Some(d) if d >= 0 => d.min(90),
            Some(_) => return Err("preload_days must be non-negative".into()),
            None => {
                return Err(format!(
                    "Invalid preload_days: '{v}' is not a valid integer"
                ));
            }
        },
    };
    Ok(SseQuery {
        system_ids,
        character_ids,
        min_value,
        preload_days,
    })
}

/// Removes the stream from the hub when the response body is dropped.
struct Guard {
    shared: Arc<Shared>,
    id: u64,
    release_slot: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut g = self.shared.lock();
        g.sse.remove(&self.id);
        if self.release_slot {
            g.enhanced_slots = g.enhanced_slots.saturating_sub(1);
        }
        drop(g);
        self.shared.changed.notify_waiters();
    }
}

type Chunk = Result<Bytes, std::io::Error>;

struct BodyState {
    rx: mpsc::UnboundedReceiver<Chunk>,
    drop_rx: watch::Receiver<u64>,
    ping: Option<std::time::Duration>,
    done: bool,
    _guard: Guard,
}

fn body_stream(state: BodyState) -> Body {
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let next = async {
            match st.ping {
                Some(ping) => match tokio::time::timeout(ping, st.rx.recv()).await {
                    Ok(item) => item,
                    Err(_) => Some(Ok(Bytes::from_static(b": ping\n\n"))),
                },
                None => st.rx.recv().await,
            }
        };
        let item = tokio::select! {
            item = next => item,
            _ = st.drop_rx.changed() => Some(Err(std::io::Error::other("connection dropped by fault"))),
        };
        let item = item?;
        if item.is_err() {
            st.done = true;
        }
        Some((item, st))
    });
    Body::from_stream(stream)
}

fn register(
    shared: &Arc<Shared>,
    kind: SseKind,
    query: SseQuery,
    live: bool,
) -> (
    u64,
    mpsc::UnboundedSender<Chunk>,
    mpsc::UnboundedReceiver<Chunk>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut g = shared.lock();
    let id = g.next_id;
    g.next_id += 1;
    g.sse.insert(
        id,
        SseStream {
            tx: tx.clone(),
            kind,
            query,
            live,
        },
    );
    g.counters.sse_streams += 1;
    drop(g);
    shared.changed.notify_waiters();
    (id, tx, rx)
}

async fn basic(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response<Body> {
    let query = match parse_query(q.as_deref()) {
        Ok(q) => q,
        Err(m) => return sse_error(&m),
    };
    let (id, tx, rx) = register(&shared, SseKind::Basic, query, true);
    let _ = tx.send(Ok(Bytes::from_static(b"retry: 2000\n\n")));
    let body = body_stream(BodyState {
        rx,
        drop_rx: shared.drop_streams.subscribe(),
        ping: Some(shared.cfg.sse_ping_interval),
        done: false,
        _guard: Guard {
            shared: Arc::clone(&shared),
            id,
            release_slot: false,
        },
    });
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn event(name: &str, data: &Value) -> Chunk {
    Ok(Bytes::from(format!(
        "event: {name}\ndata: {}\n\n",
        json::encode(data)
    )))
}

async fn enhanced(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response<Body> {
    let query = match parse_query(q.as_deref()) {
        Ok(q) => q,
        Err(m) => return sse_error(&m),
    };
    {
        let mut g = shared.lock();
        if g.enhanced_slots >= shared.cfg.enhanced_cap {
            drop(g);
            return json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"error": {"type": "connection_limit_reached", "message": "Too many active SSE connections"}}),
            );
        }
        g.enhanced_slots += 1;
        g.counters.enhanced_requests += 1;
    }
    let body = if !shared.behaviour().enhanced_sse {
        // §8.3.2: headers, then the terminating chunk; the slot is never released.
        shared.count(|c| c.sse_streams += 1);
        Body::from_stream(futures_util::stream::empty::<Chunk>())
    } else {
        let (id, tx, rx) = register(&shared, SseKind::Enhanced, query.clone(), false);
        tokio::spawn(produce(Arc::clone(&shared), id, tx, query));
        body_stream(BodyState {
            rx,
            drop_rx: shared.drop_streams.subscribe(),
            ping: None,
            done: false,
            _guard: Guard {
                shared: Arc::clone(&shared),
                id,
                release_slot: true,
            },
        })
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// The designed enhanced stream: connected, history in batches, transition, then live and heartbeats.
async fn produce(shared: Arc<Shared>, id: u64, tx: mpsc::UnboundedSender<Chunk>, query: SseQuery) {
    let connected = json!({
        "status": "connected",
        "filters": {
            "system_ids": query.system_ids,
            "character_ids": query.character_ids,
            "min_value": query.min_value,
            "preload_days": query.preload_days,
        },
        "timestamp": now_timestamp(),
    });
    if tx.send(event("connected", &connected)).is_err() {
        return;
    }
    let mut events = 1u64;
    let has_ids = !query.system_ids.is_empty() || !query.character_ids.is_empty();
    if query.preload_days > 0 && has_ids {
        let kills = history(&shared, &query);
        let size = shared.cfg.batch_size;
        let total_batches = kills.len().div_ceil(size);
        for (i, chunk) in kills.chunks(size).enumerate() {
            if i > 0 {
                tokio::time::sleep(shared.cfg.batch_delay).await;
            }
            let batch = json!({
                "kills": chunk.iter().map(forms::stored).collect::<Vec<_>>(),
                "count": chunk.len(),
                "batch_number": i + 1,
                "total_batches": total_batches,
            });
            if tx.send(event("batch", &batch)).is_err() {
                return;
            }
            events += 1;
        }
        let transition = json!({"status": "historical_complete", "total_historical": kills.len(), "timestamp": now_timestamp()});
        if tx.send(event("transition", &transition)).is_err() {
            return;
        }
        events += 1;
    }
    {
        let mut g = shared.lock();
        if let Some(s) = g.sse.get_mut(&id) {
            s.live = true;
        }
        g.counters.sse_events += events;
    }
    shared.changed.notify_waiters();
    loop {
        tokio::time::sleep(shared.cfg.heartbeat_interval).await;
        if !shared.lock().sse.contains_key(&id) {
            return;
        }
        let hb = json!({"timestamp": now_timestamp(), "mode": "realtime"});
        if tx.send(event("heartbeat", &hb)).is_err() {
            return;
        }
        shared.count(|c| c.sse_events += 1);
    }
}

/// Stored kills for the historical phase: characters take precedence over systems (§8.3.1).
fn history(shared: &Shared, query: &SseQuery) -> Vec<Killmail> {
    let days = jiff::SignedDuration::from_hours(query.preload_days * 24);
    let cutoff = jiff::Timestamp::now()
        .checked_sub(days)
        .unwrap_or(jiff::Timestamp::MIN);
    let g = shared.lock();
    let mut kills: Vec<Killmail> = g
        .store
        .iter()
        .rev()
        .filter(|k| k.kill_time.is_some_and(|t| t >= cutoff))
        .filter(|k| {
            if query.character_ids.is_empty() {
                k.system_id
                    .is_some_and(|s| query.system_ids.contains(&s.get()))
            } else {
                k.character_ids()
                    .any(|c| query.character_ids.contains(&c.get()))
            }
        })
        .cloned()
        .collect();
    drop(g);
    kills.sort_by_key(|k| std::cmp::Reverse(k.kill_time));
    kills
}
