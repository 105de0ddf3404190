//! Shared server state: the killmail store, subscription records, open sockets and SSE streams, and
//! the live fan-out of each ingested killmail according to the profile.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use wk_types::Killmail;

use super::Config;
use crate::fault::Fault;
use crate::json::{self, now_timestamp};
use crate::profile::{Behaviour, Delivery, SseDelivery, Stamp};
use crate::rng::{self, Rng};
use crate::state::State;
use crate::{forms, webhook};

/// A message for a WebSocket's writer task.
#[derive(Debug)]
pub(crate) enum Out {
    /// A text frame.
    Text(String),
    /// A close frame with this code, then the end of the connection.
    Close(u16, &'static str),
    /// Drop the TCP connection without a close frame.
    Abort,
    /// Firehose frames: `n` frames `prefix + id + suffix`, ids counting up from the first, each id
    /// in as many frames in a row as the last number says.
    Firehose(Arc<(String, String)>, u64, u64, u64),
}

/// The state of a joined `killmails:lobby` channel.
#[derive(Debug)]
pub(crate) struct Join {
    /// The join's `ref`, echoed with the JSON type the client sent.
    pub(crate) join_ref: Value,
    /// The join's subscription record id.
    pub(crate) subscription_id: String,
    /// Subscribed systems.
    pub(crate) systems: BTreeSet<i64>,
    /// Subscribed characters.
    pub(crate) characters: BTreeSet<i64>,
    /// All-kills listeners of a characters-only join: one per join or `subscribe_characters` that
    /// added ids while no system was held (§7.6).
    pub(crate) listeners: u32,
    /// A number unique to this join, for stale-preload checks.
    pub(crate) serial: u64,
}

/// One open WebSocket.
#[derive(Debug)]
pub(crate) struct Socket {
    pub(crate) tx: mpsc::UnboundedSender<Out>,
    pub(crate) v1: bool,
    pub(crate) user_id: String,
    pub(crate) connected_at: String,
    pub(crate) join: Option<Join>,
}

/// Which SSE endpoint a stream belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SseKind {
    Basic,
    Enhanced,
}

/// Parsed SSE query parameters (§8.1).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SseQuery {
    pub(crate) system_ids: Vec<i64>,
    pub(crate) character_ids: Vec<i64>,
    pub(crate) min_value: Option<f64>,
    pub(crate) preload_days: i64,
}

impl SseQuery {
    /// The designed per-kill filter (§8.3.1 "Live filtering").
    pub(crate) fn matches(&self, km: &Killmail) -> bool {
        if let Some(min) = self.min_value {
            match km.total_value() {
                Some(v) if v >= min => {}
                _ => return false,
            }
        }
        if self.system_ids.is_empty() && self.character_ids.is_empty() {
            return true;
        }
        km.system_id
            .is_some_and(|s| self.system_ids.contains(&s.get()))
            || km
                .character_ids()
                .any(|c| self.character_ids.contains(&c.get()))
    }
}

/// One open SSE stream.
#[derive(Debug)]
pub(crate) struct SseStream {
    pub(crate) tx: mpsc::UnboundedSender<Result<Bytes, std::io::Error>>,
    pub(crate) kind: SseKind,
    pub(crate) query: SseQuery,
    /// Enhanced streams receive live kills only after their historical phase.
    pub(crate) live: bool,
}

/// `webhook` or `websocket`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubKind {
    Webhook,
    Websocket,
}

/// A subscription record as listed by `GET /subscriptions`.
#[derive(Clone, Debug)]
pub(crate) struct SubRecord {
    pub(crate) id: String,
    pub(crate) subscriber_id: Value,
    pub(crate) kind: SubKind,
    pub(crate) systems: Vec<i64>,
    pub(crate) characters: Vec<i64>,
    pub(crate) callback_url: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl SubRecord {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "subscriber_id": self.subscriber_id,
            "type": match self.kind { SubKind::Webhook => "webhook", SubKind::Websocket => "websocket" },
            "system_ids": self.systems,
            "character_ids": self.characters,
            "callback_url": self.callback_url,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Pending HTTP faults.
#[derive(Debug, Default)]
pub(crate) struct HttpFaults {
    pub(crate) status: Option<(u16, Option<u64>, u32)>,
    pub(crate) fetch_error: u32,
    pub(crate) delay: Duration,
    pub(crate) truncate: u32,
    pub(crate) garbage: u32,
    pub(crate) reset: u32,
    pub(crate) cut: u32,
}

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) rng: Rng,
    /// Ingest order: oldest first.
    pub(crate) store: Vec<Killmail>,
    pub(crate) upstream: HashMap<i64, Killmail>,
    pub(crate) kill_older: HashSet<i64>,
    pub(crate) subs: Vec<SubRecord>,
    pub(crate) sockets: HashMap<u64, Socket>,
    pub(crate) sse: HashMap<u64, SseStream>,
    pub(crate) next_id: u64,
    pub(crate) counters: State,
    pub(crate) faults: HttpFaults,
    pub(crate) stall_heartbeats: bool,
    /// Channel pushes still to drop without a reply ([`Fault::DropPushes`]).
    pub(crate) drop_pushes: u32,
    /// Joins still to crash right after their reply ([`Fault::CrashJoins`]).
    pub(crate) crash_joins: u32,
    /// Enhanced-stream slots in use (never released where the enhanced stream is broken).
    pub(crate) enhanced_slots: u64,
    pub(crate) started: std::time::Instant,
    /// When the last live kill was ingested (`/status`'s last-killmail age).
    pub(crate) last_ingest: Option<std::time::Instant>,
}

/// The state shared by every task of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) inner: Mutex<Inner>,
    /// Bumped to drop every WebSocket and SSE connection.
    pub(crate) drop_streams: watch::Sender<u64>,
    /// Bumped to drop every connection (restart and shutdown).
    pub(crate) kill_all: watch::Sender<u64>,
    /// Notified after every counter change, for [`crate::TestServer::wait_for`].
    pub(crate) changed: tokio::sync::Notify,
}

/// Encodes a Phoenix frame for a V2 (array) or V1 (object) socket. `payload` is encoded JSON.
pub(crate) fn frame(
    v1: bool,
    join_ref: &Value,
    msg_ref: &Value,
    topic: &str,
    event: &str,
    payload: &str,
) -> String {
    let mut out = String::with_capacity(payload.len() + 64);
    if v1 {
        out.push_str("{\"event\":");
        json::write_value(&mut out, &Value::from(event));
        out.push_str(",\"join_ref\":");
        json::write_value(&mut out, join_ref);
        out.push_str(",\"payload\":");
        out.push_str(payload);
        out.push_str(",\"ref\":");
        json::write_value(&mut out, msg_ref);
        out.push_str(",\"topic\":");
        json::write_value(&mut out, &Value::from(topic));
        out.push('}');
    } else {
        out.push('[');
        json::write_value(&mut out, join_ref);
        out.push(',');
        json::write_value(&mut out, msg_ref);
        out.push(',');
        json::write_value(&mut out, &Value::from(topic));
        out.push(',');
        json::write_value(&mut out, &Value::from(event));
        out.push(',');
        out.push_str(payload);
        out.push(']');
    }
    out
}

/// The payload of a live `killmail_update`, around an already encoded killmail.
pub(crate) fn live_payload(killmails: &str, system_id: i64, preload: bool, ts: &str) -> String {
    format!(
        r#"{{"killmails":[{killmails}],"preload":{preload},"system_id":{system_id},"timestamp":"{ts}"}}"#
    )
}

impl Shared {
    pub(crate) fn new(cfg: Config) -> Self {
        let rng = cfg.seed.map_or_else(Rng::from_entropy, Rng::new);
        let counters = State {
            profile: cfg.profile.as_str().to_owned(),
            ..State::default()
        };
        Self {
            cfg,
            inner: Mutex::new(Inner {
                rng,
                store: Vec::new(),
                upstream: HashMap::new(),
                kill_older: HashSet::new(),
                subs: Vec::new(),
                sockets: HashMap::new(),
                sse: HashMap::new(),
                next_id: 1,
                counters,
                faults: HttpFaults::default(),
                stall_heartbeats: false,
                drop_pushes: 0,
                crash_joins: 0,
                enhanced_slots: 0,
                started: std::time::Instant::now(),
                last_ingest: None,
            }),
            drop_streams: watch::Sender::new(0),
            kill_all: watch::Sender::new(0),
            changed: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the profile does differently.
    pub(crate) fn behaviour(&self) -> &'static Behaviour {
        self.cfg.profile.behaviour()
    }

    /// Runs `f` on the counters and wakes waiters.
    pub(crate) fn count(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock().counters);
        self.changed.notify_waiters();
    }

    /// A snapshot of the counters with the gauges filled in.
    pub(crate) fn state(&self) -> State {
        let g = self.lock();
        let mut s = g.counters.clone();
        s.ws_open = g.sockets.len() as u64;
        s.joined_channels = g.sockets.values().filter(|s| s.join.is_some()).count() as u64;
        s.sse_open = g.sse.len() as u64;
        s.stored_killmails = g.store.len() as u64;
        s.subscriptions = g.subs.len() as u64;
        s
    }

    /// Puts killmails in the store without broadcasting them.
    pub(crate) fn seed(&self, kills: impl IntoIterator<Item = Killmail>) {
        let mut g = self.lock();
        g.store.extend(kills);
        drop(g);
        self.changed.notify_waiters();
    }

    /// Ingests a live killmail: stores it and fans it out per profile.
    pub(crate) fn ingest(self: &Arc<Self>, km: Killmail) {
        let canon = json::encode(&forms::canonical(&km));
        let system = km.system_id.map_or(0, |s| s.get());
        let chars: Vec<i64> = km.character_ids().map(|c| c.get()).collect();
        let behaviour = self.behaviour();
        let mut deliveries = Vec::new();
        {
            let mut g = self.lock();
            let in_system = 1 + g
                .store
                .iter()
                .filter(|k| k.system_id.map(|s| s.get()) == Some(system))
                .count();
            let Inner {
                sockets,
                sse,
                counters,
                subs,
                last_ingest,
                ..
            } = &mut *g;
            counters.killmails_ingested += 1;
            *last_ingest = Some(std::time::Instant::now());
            let ts_a = now_timestamp();
            let ts_b = now_timestamp();
            let pa = live_payload(&canon, system, false, &ts_a);
            let pb = live_payload(&canon, system, false, &ts_b);
            let payload = |stamp: &Stamp| match stamp {
                Stamp::A => &pa,
                Stamp::B => &pb,
            };
            let mut sent = 0u64;
            let mut counts = 0u64;
            for sock in sockets.values() {
                let Some(join) = &sock.join else { continue };
                let topic = wk_types::phoenix::LOBBY_TOPIC;
                let push = |event: &str, p: &str| {
                    let _ = sock.tx.send(Out::Text(frame(
                        sock.v1,
                        &join.join_ref,
                        &Value::Null,
                        topic,
                        event,
                        p,
                    )));
                };
                let char_hit = chars.iter().any(|c| join.characters.contains(c));
                match behaviour.delivery {
                    Delivery::Topics {
                        system: copies,
                        listener,
                    } => {
                        if !join.systems.is_empty() {
                            if join.systems.contains(&system) {
                                for stamp in copies {
                                    push("killmail_update", payload(stamp));
                                    sent += 1;
                                }
                            }
                        } else if char_hit {
                            for i in 0..join.listeners as usize {
                                for stamp in listener[i % listener.len()] {
                                    push("killmail_update", payload(stamp));
                                    sent += 1;
                                }
                            }
                        }
                    }
                    Delivery::Filter => {
                        let sys_hit = join.systems.contains(&system);
                        if sys_hit || char_hit {
                            push("killmail_update", &pa);
                            sent += 1;
                        }
                        if sys_hit {
                            push(
                                "kill_count_update",
                                &format!(
                                    r#"{{"count":{in_system},"system_id":{system},"timestamp":"{ts_a}"}}"#
                                ),
                            );
                            counts += 1;
                        }
                    }
                }
            }
            *counters.pushes.entry("killmail_update".into()).or_default() += sent;
            if counts > 0 {
                *counters
                    .pushes
                    .entry("kill_count_update".into())
                    .or_default() += counts;
            }
            let basic = Bytes::from(format!("data: {canon}\n\n"));
            let enhanced = Bytes::from(format!("event: killmail\ndata: {canon}\n\n"));
            for s in sse.values() {
                let n = match (s.kind, behaviour.sse) {
                    (SseKind::Basic, SseDelivery::SystemIdsOnly { copies }) => {
                        if s.query.system_ids.is_empty() {
                            copies
                        } else {
                            copies
                                * s.query
                                    .system_ids
                                    .iter()
                                    .filter(|&&id| id == system)
                                    .count()
                        }
                    }
                    (SseKind::Basic, SseDelivery::Filtered) => usize::from(s.query.matches(&km)),
                    (SseKind::Enhanced, _) => usize::from(s.live && s.query.matches(&km)),
                };
                let chunk = if s.kind == SseKind::Basic {
                    &basic
                } else {
                    &enhanced
                };
                for _ in 0..n {
                    let _ = s.tx.send(Ok(chunk.clone()));
                }
                counters.sse_events += n as u64;
            }
            if behaviour.webhooks {
                for sub in subs.iter().filter(|s| s.kind == SubKind::Webhook) {
                    let hit = sub.systems.contains(&system)
                        || chars.iter().any(|c| sub.characters.contains(c));
                    if let (true, Some(url)) = (hit, &sub.callback_url) {
                        let body = format!(
                            r#"{{"kills":[{canon}],"system_id":{system},"timestamp":"{ts_a}","type":"killmail_update"}}"#
                        );
                        deliveries.push((url.clone(), body));
                    }
                }
            }
            g.store.push(km);
        }
        self.changed.notify_waiters();
        for (url, body) in deliveries {
            let shared = Arc::clone(self);
            tokio::spawn(async move {
                let ok = webhook::deliver(&url, body, shared.cfg.webhook_timeout).await;
                shared.count(|c| {
                    if ok {
                        c.webhook_deliveries += 1;
                    } else {
                        c.webhook_failures += 1;
                    }
                });
            });
        }
    }

    /// Preload payloads for `systems` (§7.5): per system, ≤ 5 stored kills of the preload window,
    /// newest first, one payload per system that has any.
    pub(crate) fn preload_payloads(&self, systems: &[i64]) -> Vec<String> {
        let g = self.lock();
        let window = jiff::SignedDuration::try_from(self.cfg.preload_window)
            .unwrap_or(jiff::SignedDuration::ZERO);
        let cutoff = jiff::Timestamp::now()
            .checked_sub(window)
            .unwrap_or(jiff::Timestamp::MIN);
        let mut out = Vec::new();
        for &sys in systems {
            let mut kills: Vec<&Killmail> = g
                .store
                .iter()
                .rev()
                .filter(|k| k.system_id.map(|s| s.get()) == Some(sys))
                .filter(|k| k.kill_time.is_some_and(|t| t >= cutoff))
                .collect();
            kills.sort_by_key(|k| std::cmp::Reverse(k.kill_time));
            kills.truncate(5);
            if kills.is_empty() {
                continue;
            }
            let body = kills
                .iter()
                .map(|k| json::encode(&forms::stored(k)))
                .collect::<Vec<_>>()
                .join(",");
            out.push(live_payload(&body, sys, true, &now_timestamp()));
        }
        out
    }

    /// A fresh 22-character subscription id.
    pub(crate) fn new_sub_id(&self) -> String {
        rng::subscription_id(&mut self.lock().rng)
    }

    /// Applies a fault.
    pub(crate) fn apply_fault(&self, fault: Fault) {
        tracing::debug!(?fault, "wk-testkit fault");
        let mut g = self.lock();
        match fault {
            Fault::HttpStatus {
                status,
                retry_after,
                count,
            } => g.faults.status = Some((status, retry_after, count)),
            Fault::FetchError { count } => g.faults.fetch_error = count,
            Fault::Delay(d) => g.faults.delay = d,
            Fault::TruncateBody { count } => g.faults.truncate = count,
            Fault::GarbageBody { count } => g.faults.garbage = count,
            Fault::ResetHttp { count } => g.faults.reset = count,
            Fault::CutBody { count } => g.faults.cut = count,
            Fault::StallHeartbeats(b) => g.stall_heartbeats = b,
            Fault::DropPushes { count } => g.drop_pushes = count,
            Fault::CrashJoins { count } => g.crash_joins = count,
            Fault::DropConnections => {
                drop(g);
                self.drop_streams.send_modify(|v| *v += 1);
                return;
            }
            Fault::MalformedFrame => {
                for s in g.sockets.values() {
                    let _ = s.tx.send(Out::Text("{\"malformed\": ".into()));
                }
            }
            Fault::CloseSockets(code) => {
                for s in g.sockets.values() {
                    let _ = s.tx.send(Out::Close(code, ""));
                }
            }
            Fault::EndStreams => g.sse.clear(),
            Fault::CrashChannels => {
                let Inner {
                    sockets,
                    subs,
                    counters,
                    ..
                } = &mut *g;
                for s in sockets.values_mut() {
                    if let Some(join) = s.join.take() {
                        let f = frame(
                            s.v1,
                            &join.join_ref,
                            &join.join_ref,
                            wk_types::phoenix::LOBBY_TOPIC,
                            "phx_error",
                            self.behaviour().crash_payload,
                        );
                        let _ = s.tx.send(Out::Text(f));
                        subs.retain(|r| r.id != join.subscription_id);
                        counters.channel_crashes += 1;
                        *counters.pushes.entry("phx_error".into()).or_default() += 1;
                    }
                }
            }
            Fault::Clear => {
                g.faults = HttpFaults::default();
                g.stall_heartbeats = false;
                g.drop_pushes = 0;
                g.crash_joins = 0;
            }
        }
        drop(g);
        self.changed.notify_waiters();
    }

    /// Forgets every connection-bound thing, as a restart does.
    pub(crate) fn reset_for_restart(&self, keep_store: bool) {
        let mut g = self.lock();
        g.sockets.clear();
        g.sse.clear();
        g.subs.clear();
        g.enhanced_slots = 0;
        g.faults = HttpFaults::default();
        g.stall_heartbeats = false;
        g.drop_pushes = 0;
        g.crash_joins = 0;
        if !keep_store {
            g.store.clear();
        }
        g.counters.restarts += 1;
        g.started = std::time::Instant::now();
    }
}
