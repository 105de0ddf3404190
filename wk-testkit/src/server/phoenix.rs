//! The Phoenix Channels endpoint at `/socket/websocket` (PROTOCOL.md §7): V2 array frames, V1 object
//! frames when `vsn` is absent, `killmails:lobby` with every event, reply and defect of the profile.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{Method, Response, StatusCode, header};
use axum::routing::any;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use wk_types::phoenix::LOBBY_TOPIC;

use super::channel::{After, Cx, parse};
use super::http::{last, query_pairs};
use super::hub::{Out, Shared, Socket, frame};
use crate::json::now_timestamp;
use crate::rng;

/// Largest inbound frame the server accepts (§1).
const MAX_FRAME: usize = 131_072;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/socket/websocket", any(upgrade))
}

fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    if !body.is_empty() {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            "text/plain; charset=utf-8".parse().expect("static header"),
        );
    }
    resp
}

/// The sanitised client id of §7.1, if any.
fn client_id(pairs: &[(String, String)]) -> Option<String> {
    let raw = ["client_id", "client_identifier", "identifier"]
        .iter()
        .find_map(|k| last(pairs, k))?;
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(
        trimmed
            .chars()
            .take(32)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

async fn upgrade(
    State(shared): State<Arc<Shared>>,
    method: Method,
    RawQuery(q): RawQuery,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response<Body> {
    if method != Method::GET {
        return plain(StatusCode::BAD_REQUEST, "");
    }
    let pairs = query_pairs(q.as_deref());
    // Phoenix ≥ 1.8.6 refuses a `vsn` that is not a single string (`vsn[]=…`); 1.7 never sees it.
    if shared.behaviour().vsn_list_forbidden && pairs.iter().any(|(k, _)| k.starts_with("vsn[")) {
        return plain(StatusCode::FORBIDDEN, "");
    }
    let v1 = match last(&pairs, "vsn") {
        None => true,
        Some(v) if v == "1.0.0" || v.starts_with("1.0.") => true,
        Some(v) if v == "2.0.0" || v.starts_with("2.0.") => false,
        Some(_) => return plain(StatusCode::FORBIDDEN, ""),
    };
    let Ok(ws) = ws else {
        return plain(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let micros = jiff::Timestamp::now().as_microsecond();
    let token = rng::short_token(&mut shared.lock().rng);
    let user_id = match client_id(&pairs) {
        Some(id) => format!("{id}_{micros}_{token}"),
        None => format!("{micros}_{token}"),
    };
    let connected_at = now_timestamp();
    // Watched from before the `101` goes out: a fault the client's test fires as soon as its
    // connect returns must reach this socket, not race its task's start.
    let faults = Faults {
        drop_rx: shared.drop_streams.subscribe(),
        kill_rx: shared.kill_all.subscribe(),
    };
    ws.max_message_size(1 << 20)
        .max_frame_size(1 << 20)
        .on_upgrade(move |socket| run(shared, socket, v1, user_id, connected_at, faults))
}

/// The connection-wide faults a socket watches.
struct Faults {
    drop_rx: watch::Receiver<u64>,
    kill_rx: watch::Receiver<u64>,
}

async fn run(
    shared: Arc<Shared>,
    socket: WebSocket,
    v1: bool,
    user_id: String,
    connected_at: String,
    faults: Faults,
) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let Faults {
        mut drop_rx,
        mut kill_rx,
    } = faults;
    let id = {
        let mut g = shared.lock();
        let id = g.next_id;
        g.next_id += 1;
        g.sockets.insert(
            id,
            Socket {
                tx: tx.clone(),
                v1,
                user_id,
                connected_at,
                join: None,
            },
        );
        g.counters.ws_connections += 1;
        id
    };
    tracing::debug!(socket = id, v1, "websocket connected");
    shared.changed.notify_waiters();
    let writer_shared = Arc::clone(&shared);
    let writer = async move {
        while let Some(out) = rx.recv().await {
            match out {
                Out::Text(s) => {
                    if sink.send(Message::Text(s.into())).await.is_err() {
                        return;
                    }
                }
                Out::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    return;
                }
                Out::Abort => return,
                Out::Firehose(template, first, n, copies) => {
                    let mut sent = 0;
                    for i in 0..n {
                        let text = format!("{}{}{}", template.0, first + i / copies, template.1);
                        if sink.feed(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                        sent += 1;
                    }
                    let ok = sink.flush().await.is_ok();
                    writer_shared.count(|c| c.firehose_frames += sent);
                    if !ok {
                        return;
                    }
                }
            }
        }
    };
    let reader_shared = Arc::clone(&shared);
    let reader = async move {
        let idle = reader_shared.cfg.idle_timeout;
        loop {
            match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => {
                    let _ = tx.send(Out::Close(1000, ""));
                    break;
                }
                Ok(None | Some(Err(_))) => {
                    let _ = tx.send(Out::Abort);
                    break;
                }
                Ok(Some(Ok(msg))) => match msg {
                    Message::Text(text) => {
                        if text.len() > MAX_FRAME {
                            let _ = tx.send(Out::Close(1009, ""));
                            break;
                        }
                        let ok = handle_text(&reader_shared, id, text.as_str());
                        reader_shared.changed.notify_waiters();
                        if !ok {
                            let _ = tx.send(Out::Close(1011, ""));
                            break;
                        }
                    }
                    Message::Binary(b) => {
                        let code = if b.len() > MAX_FRAME { 1009 } else { 1011 };
                        let _ = tx.send(Out::Close(code, ""));
                        break;
                    }
                    Message::Close(_) => {
                        let _ = tx.send(Out::Abort);
                        break;
                    }
                    Message::Ping(_) | Message::Pong(_) => {}
                },
            }
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
        _ = drop_rx.changed() => {}
        _ = kill_rx.changed() => {}
    }
    tracing::debug!(socket = id, "websocket closed");
    let mut g = shared.lock();
    if let Some(sock) = g.sockets.remove(&id)
        && let Some(join) = sock.join
    {
        g.subs.retain(|r| r.id != join.subscription_id);
    }
    drop(g);
    shared.changed.notify_waiters();
}

/// Handles one text frame. `false` means the frame was malformed (close 1011).
fn handle_text(shared: &Arc<Shared>, id: u64, text: &str) -> bool {
    let mut after = Vec::new();
    {
        let mut g = shared.lock();
        g.counters.frames_received += 1;
        let Some(v1) = g.sockets.get(&id).map(|s| s.v1) else {
            return true;
        };
        let Some(msg) = parse(v1, text) else {
            return false;
        };
        let mut cx = Cx {
            g: &mut g,
            id,
            v1,
            behaviour: shared.behaviour(),
            after: &mut after,
        };
        cx.dispatch(&msg);
    }
    for a in after {
        match a {
            After::Preload {
                join_ref,
                serial,
                systems,
            } => spawn_preload(Arc::clone(shared), id, join_ref, serial, systems),
        }
    }
    true
}

fn spawn_preload(shared: Arc<Shared>, id: u64, join_ref: Value, serial: u64, systems: Vec<i64>) {
    tokio::spawn(async move {
        let delay = shared.cfg.preload_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let payloads = shared.preload_payloads(&systems);
        if payloads.is_empty() {
            return;
        }
        let mut g = shared.lock();
        let Some(sock) = g.sockets.get(&id) else {
            return;
        };
        // The real server sends preload from a background task with the join_ref captured at
        // join time, even after the channel died (§7.10). The designed one checks first.
        let current = sock.join.as_ref().is_some_and(|j| j.serial == serial);
        if !current && !shared.behaviour().stale_preload {
            return;
        }
        let (tx, v1) = (sock.tx.clone(), sock.v1);
        for p in &payloads {
            let _ = tx.send(Out::Text(frame(
                v1,
                &join_ref,
                &Value::Null,
                LOBBY_TOPIC,
                "killmail_update",
                p,
            )));
        }
        *g.counters
            .pushes
            .entry("killmail_update".into())
            .or_default() += payloads.len() as u64;
        *g.counters.pushes.entry("preload".into()).or_default() += payloads.len() as u64;
        drop(g);
        shared.changed.notify_waiters();
    });
}
