//! The control surface under `/_testkit/` (never colliding with real routes): ingest killmails,
//! inject faults, read counters, and the firehose for ingest benchmarks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};
use wk_types::{Killmail, KillmailId};

use super::http::{json_response, last, query_pairs};
use super::hub::{Out, Shared, frame, live_payload};
use crate::fault::Fault;
use crate::generator::Generator;
use crate::json::{self, now_timestamp};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_testkit/killmails", post(killmails))
        .route("/_testkit/faults", post(faults))
        .route("/_testkit/state", get(state))
        .route("/_testkit/firehose", post(firehose_route))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

fn bad_request(message: &str) -> Response<Body> {
    json_response(StatusCode::BAD_REQUEST, &json!({"error": message}))
}

/// `POST /_testkit/killmails`: a killmail object or an array of them, ingested as live kills
/// (or only stored with `?mode=store`). Answers `202 {"accepted": n}`.
async fn killmails(
    State(shared): State<Arc<Shared>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response<Body> {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("invalid JSON: {e}")),
    };
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut kills = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<Killmail>(item) {
            Ok(km) => kills.push(km),
            Err(e) => return bad_request(&format!("killmail {i} did not decode: {e}")),
        }
    }
    let n = kills.len();
    let pairs = query_pairs(q.as_deref());
    if last(&pairs, "mode") == Some("store") {
        shared.seed(kills);
    } else {
        for km in kills {
            shared.ingest(km);
        }
    }
    json_response(StatusCode::ACCEPTED, &json!({"accepted": n}))
}

/// `POST /_testkit/faults`: see [`Fault::from_json`].
async fn faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("invalid JSON: {e}")),
    };
    match Fault::from_json(&value) {
        Ok(faults) => {
            let n = faults.len();
            for f in faults {
                shared.apply_fault(f);
            }
            json_response(StatusCode::OK, &json!({"applied": n}))
        }
        Err(e) => bad_request(&e),
    }
}

async fn state(State(shared): State<Arc<Shared>>) -> Response<Body> {
    let value = serde_json::to_value(shared.state()).unwrap_or(Value::Null);
    json_response(StatusCode::OK, &value)
}

/// `POST /_testkit/firehose` with `{"frames": N}` and optionally `"copies": C`.
async fn firehose_route(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    let request = serde_json::from_slice::<Value>(&body).ok();
    let field = |name: &str| request.as_ref().and_then(|v| v.get(name));
    let Some(frames) = field("frames").and_then(Value::as_u64) else {
        return bad_request("expected {\"frames\": N}");
    };
    let copies = match field("copies") {
        None => 1,
        Some(c) => match c.as_u64() {
            Some(c) if c >= 1 => c,
            _ => return bad_request("\"copies\" must be an integer of at least 1"),
        },
    };
    let sockets = firehose(&shared, frames, copies);
    let streams = firehose_sse(&shared, frames, copies);
    json_response(
        StatusCode::ACCEPTED,
        &json!({"frames": frames, "sockets": sockets, "streams": streams}),
    )
}

const PLACEHOLDER: i64 = 987_654_321_987_654;
static NEXT_FIREHOSE_ID: AtomicU64 = AtomicU64::new(500_000_000_000);

/// The firehose's killmail: the first of seed 42 whose canonical JSON is 1.9–2.3 KB (a few
/// attackers), with the id [`PLACEHOLDER`].
fn firehose_killmail() -> Killmail {
    let mut generator = Generator::new(42);
    let mut km = generator.killmail();
    for _ in 0..1000 {
        let len = json::encode(&crate::forms::canonical(&km)).len();
        if (1900..=2300).contains(&len) {
            break;
        }
        km = generator.killmail();
    }
    km.killmail_id = KillmailId::new(PLACEHOLDER);
    km
}

/// Sends `frames` `killmail_update` frames to every joined socket, each killmail in `copies`
/// identical frames in a row (`1`: every frame a distinct kill). Returns the socket count.
pub(super) fn firehose(shared: &Shared, frames: u64, copies: u64) -> usize {
    let km = firehose_killmail();
    let system = km.system_id.map_or(0, |s| s.get());
    let payload = live_payload(
        &json::encode(&crate::forms::canonical(&km)),
        system,
        false,
        &now_timestamp(),
    );
    let first = NEXT_FIREHOSE_ID.fetch_add(frames.div_ceil(copies).max(1), Ordering::Relaxed);
    let needle = format!("\"killmail_id\":{PLACEHOLDER}");
    let g = shared.lock();
    let mut n = 0;
    for sock in g.sockets.values() {
        let Some(join) = &sock.join else { continue };
        let text = frame(
            sock.v1,
            &join.join_ref,
            &Value::Null,
            wk_types::phoenix::LOBBY_TOPIC,
            "killmail_update",
            &payload,
        );
        let Some(at) = text.find(&needle) else {
            continue;
        };
        let prefix = format!("{}\"killmail_id\":", &text[..at]);
        let suffix = text[at + needle.len()..].to_owned();
        let _ = sock.tx.send(Out::Firehose(
            Arc::new((prefix, suffix)),
            first,
            frames,
            copies,
        ));
        n += 1;
    }
    n
}

/// Sends `events` distinct killmails as basic-stream `data:` events (each once, whatever the
/// profile) to every basic SSE stream, 64 events per chunk, from a task of its own. Returns the
/// stream count. Only from within a tokio runtime (the route and [`TestServer`] always are).
///
/// [`TestServer`]: crate::TestServer
pub(super) fn firehose_sse(shared: &Shared, events: u64, copies: u64) -> usize {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return 0;
    };
    let canon = json::encode(&crate::forms::canonical(&firehose_killmail()));
    let needle = format!("\"killmail_id\":{PLACEHOLDER}");
    let Some(at) = canon.find(&needle) else {
        return 0;
    };
    let prefix = format!("data: {}\"killmail_id\":", &canon[..at]);
    let suffix = format!("{}\n\n", &canon[at + needle.len()..]);
    let txs: Vec<_> = {
        let g = shared.lock();
        g.sse
            .values()
            .filter(|s| s.kind == super::hub::SseKind::Basic)
            .map(|s| s.tx.clone())
            .collect()
    };
    if txs.is_empty() {
        return 0;
    }
    let first = NEXT_FIREHOSE_ID.fetch_add(events.div_ceil(copies).max(1), Ordering::Relaxed);
    let n = txs.len();
    runtime.spawn(async move {
        let mut i = 0;
        while i < events {
            let batch = (events - i).min(64);
            let mut chunk = String::with_capacity((prefix.len() + suffix.len() + 20) * 64);
            for event in i..i + batch {
                chunk.push_str(&prefix);
                chunk.push_str(&(first + event / copies).to_string());
                chunk.push_str(&suffix);
            }
            let chunk = Bytes::from(chunk);
            for tx in &txs {
                let _ = tx.send(Ok(chunk.clone()));
            }
            i += batch;
            tokio::task::yield_now().await;
        }
    });
    n
}
