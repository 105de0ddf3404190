//! The `killmails:lobby` channel logic (PROTOCOL.md §7.4–§7.9): frame parsing, join params and id
//! validation, and every event's reply, crash or push, under the hub's lock.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use wk_types::phoenix::LOBBY_TOPIC;

use super::hub::{Inner, Join, Out, Socket, SubKind, SubRecord, frame};
use crate::json::{self, now_timestamp};
use crate::profile::{Behaviour, Rejected, StalePushes, WsRecords};
use crate::rng;

/// A parsed inbound frame.
pub(super) struct Inbound {
    join_ref: Value,
    msg_ref: Value,
    topic: String,
    event: String,
    payload: Value,
}

pub(super) fn parse(v1: bool, text: &str) -> Option<Inbound> {
    let value: Value = serde_json::from_str(text).ok()?;
    let (join_ref, msg_ref, topic, event, payload) = if v1 {
        let Value::Object(mut m) = value else {
            return None;
        };
        (
            m.remove("join_ref").unwrap_or(Value::Null),
            m.remove("ref").unwrap_or(Value::Null),
            m.remove("topic")?,
            m.remove("event")?,
            m.remove("payload").unwrap_or(Value::Null),
        )
    } else {
        let Value::Array(a) = value else { return None };
        if a.len() < 5 {
            return None;
        }
        let mut it = a.into_iter();
        let mut next = || it.next().unwrap_or(Value::Null);
        (next(), next(), next(), next(), next())
    };
    let (Value::String(topic), Value::String(event)) = (topic, event) else {
        return None;
    };
    Some(Inbound {
        join_ref,
        msg_ref,
        topic,
        event,
        payload,
    })
}

/// Work to do after the lock is released.
pub(super) enum After {
    Preload {
        join_ref: Value,
        serial: u64,
        systems: Vec<i64>,
    },
}

/// The validation result of one id list.
enum IdsError {
    TooMany,
    NonInteger,
    Invalid,
}

/// Validates an id list (§7.4): count (duplicates included), integers only, range; then dedupes
/// keeping the first occurrence.
fn check_ids(
    items: &[Value],
    max: usize,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Vec<i64>, IdsError> {
    if items.len() > max {
        return Err(IdsError::TooMany);
    }
    let mut ids = Vec::with_capacity(items.len());
    for v in items {
        match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => ids.push(n.as_i64()),
            _ => return Err(IdsError::NonInteger),
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(id) = id.filter(|i| range.contains(i)) else {
            return Err(IdsError::Invalid);
        };
        if seen.insert(id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn systems_reason(e: &IdsError) -> &'static str {
    match e {
        IdsError::TooMany => "[validation:too_many_systems] Too many systems (max: 10000)",
        IdsError::NonInteger => "[validation:non_integer_system_ids] System IDs must be integers",
        IdsError::Invalid => "[validation:invalid_system_ids] Invalid system IDs",
    }
}

fn characters_reason(e: &IdsError) -> &'static str {
    match e {
        IdsError::TooMany => "[validation:too_many_characters] Too many characters (max: 50000)",
        IdsError::NonInteger => {
            "[validation:non_integer_character_ids] Character IDs must be integers"
        }
        IdsError::Invalid => "[validation:invalid_character_ids] Invalid character IDs",
    }
}

fn check_systems(items: &[Value]) -> Result<Vec<i64>, &'static str> {
    check_ids(items, 10_000, 1..=50_000_000).map_err(|e| systems_reason(&e))
}

fn check_characters(items: &[Value]) -> Result<Vec<i64>, &'static str> {
    check_ids(items, 50_000, 90_000_000..=3_000_000_000).map_err(|e| characters_reason(&e))
}

/// Join params (§7.4). `Err` is the error reply's reason.
fn parse_join(payload: &Value) -> Result<(Vec<i64>, Vec<i64>), &'static str> {
    const CRASHED: &str = "join crashed";
    let Value::Object(m) = payload else {
        return Err(CRASHED);
    };
    match (m.get("systems"), m.get("character_ids")) {
        (Some(Value::Array(s)), chars) => {
            let systems = check_systems(s)?;
            let chars = match chars {
                None => Vec::new(),
                Some(Value::Array(c)) => check_characters(c)?,
                Some(_) => return Err(CRASHED),
            };
            Ok((systems, chars))
        }
        (systems, Some(Value::Array(c))) => {
            if systems.is_some() {
                return Err(CRASHED);
            }
            Ok((Vec::new(), check_characters(c)?))
        }
        _ => Ok((Vec::new(), Vec::new())),
    }
}

/// The context of one inbound frame, under the lock.
pub(super) struct Cx<'a, 'g> {
    pub(super) g: &'a mut std::sync::MutexGuard<'g, Inner>,
    pub(super) id: u64,
    pub(super) v1: bool,
    pub(super) behaviour: &'static Behaviour,
    pub(super) after: &'a mut Vec<After>,
}

impl Cx<'_, '_> {
    fn socket(&mut self) -> &mut Socket {
        self.g
            .sockets
            .get_mut(&self.id)
            .expect("socket registered while its task runs")
    }

    fn send(
        &mut self,
        join_ref: &Value,
        msg_ref: &Value,
        topic: &str,
        event: &str,
        payload: &Value,
    ) {
        let text = frame(
            self.v1,
            join_ref,
            msg_ref,
            topic,
            event,
            &json::encode(payload),
        );
        let _ = self.socket().tx.send(Out::Text(text));
        if event == "phx_reply" {
            self.g.counters.replies += 1;
        } else {
            *self.g.counters.pushes.entry(event.to_owned()).or_default() += 1;
        }
    }

    fn reply(
        &mut self,
        join_ref: &Value,
        msg_ref: &Value,
        topic: &str,
        status: &str,
        response: &Value,
    ) {
        self.send(
            join_ref,
            msg_ref,
            topic,
            "phx_reply",
            &json!({"status": status, "response": response}),
        );
    }

    fn unmatched(&mut self, msg: &Inbound) {
        let r = json!({"reason": "unmatched topic"});
        self.reply(&Value::Null, &msg.msg_ref, &msg.topic, "error", &r);
    }

    pub(super) fn dispatch(&mut self, msg: &Inbound) {
        if msg.join_ref.is_number() || msg.msg_ref.is_number() {
            self.g.counters.numeric_refs += 1;
        }
        if msg.topic == "phoenix" && msg.event == "heartbeat" {
            if !self.g.stall_heartbeats {
                self.g.counters.heartbeats += 1;
                self.reply(&msg.join_ref, &msg.msg_ref, "phoenix", "ok", &json!({}));
            }
            return;
        }
        if msg.event == "phx_join" {
            if msg.topic == LOBBY_TOPIC {
                self.join(msg);
            } else if msg.topic.starts_with("killmails:") {
                self.g.counters.join_errors += 1;
                self.reply(
                    &msg.join_ref,
                    &msg.msg_ref,
                    &msg.topic,
                    "error",
                    &json!({"reason": "join crashed"}),
                );
            } else {
                self.unmatched(msg);
            }
            return;
        }
        // A frame for the joined topic with another join_ref (a string that differs, a number, or
        // `null`) is stale. Phoenix 1.8 drops it without a reply; Phoenix 1.7 dispatches a push on
        // its topic alone, so the channel still handles it, but never a stale `phx_leave`. (A V1
        // join without join_ref matches any.)
        let current = match (msg.topic == LOBBY_TOPIC, self.socket().join.as_ref()) {
            (true, Some(j)) => Some(j.join_ref.is_null() || j.join_ref == msg.join_ref),
            _ => None,
        };
        match current {
            Some(true) if msg.event != "phx_leave" && self.g.drop_pushes > 0 => {
                self.g.drop_pushes -= 1;
                self.g.counters.silenced_pushes += 1;
            }
            Some(true) => self.handle_in(msg),
            Some(false) => {
                self.g.counters.stale_pushes += 1;
                if self.behaviour.stale_pushes == StalePushes::Handled && msg.event != "phx_leave" {
                    self.handle_in(msg);
                }
            }
            None => self.unmatched(msg),
        }
    }

    /// Registers the join's subscription record and returns the join's `subscription_id`. With
    /// [`WsRecords::OwnId`] the record gets an id of its own (§13 row 15), so nothing the channel
    /// later does by its `subscription_id` ever finds it.
    fn new_record(&mut self, systems: &[i64], chars: &[i64]) -> String {
        let id = rng::subscription_id(&mut self.g.rng);
        let record_id = match self.behaviour.ws_records {
            WsRecords::OwnId => rng::subscription_id(&mut self.g.rng),
            WsRecords::ChannelId => id.clone(),
        };
        let now = now_timestamp();
        let user_id = self.socket().user_id.clone();
        let (mut s, mut c) = (systems.to_vec(), chars.to_vec());
        s.sort_unstable();
        c.sort_unstable();
        self.g.subs.push(SubRecord {
            id: record_id,
            subscriber_id: Value::String(user_id),
            kind: SubKind::Websocket,
            systems: s,
            characters: c,
            callback_url: None,
            created_at: now.clone(),
            updated_at: now,
        });
        id
    }

    fn join(&mut self, msg: &Inbound) {
        let old = self.socket().join.take();
        // Orphan rule (§7.10): the record of a replaced join without subscriptions stays.
        if let Some(old) = &old
            && !(old.systems.is_empty() && old.characters.is_empty())
        {
            self.g.subs.retain(|r| r.id != old.subscription_id);
        }
        match parse_join(&msg.payload) {
            Ok((systems, chars)) => {
                let sub_id = self.new_record(&systems, &chars);
                let serial = self.g.next_id;
                self.g.next_id += 1;
                let listeners = u32::from(systems.is_empty() && !chars.is_empty());
                self.socket().join = Some(Join {
                    join_ref: msg.join_ref.clone(),
                    subscription_id: sub_id.clone(),
                    systems: systems.iter().copied().collect(),
                    characters: chars.iter().copied().collect(),
                    listeners,
                    serial,
                });
                self.g.counters.joins += 1;
                let response = json!({
                    "status": "connected",
                    "subscribed_characters": chars,
                    "subscribed_systems": systems,
                    "subscription_id": sub_id,
                });
                self.reply(&msg.join_ref, &msg.msg_ref, LOBBY_TOPIC, "ok", &response);
                if self.g.crash_joins > 0 {
                    self.g.crash_joins -= 1;
                    self.crash();
                } else if !systems.is_empty() {
                    self.after.push(After::Preload {
                        join_ref: msg.join_ref.clone(),
                        serial,
                        systems,
                    });
                }
            }
            Err(reason) => {
                self.g.counters.join_errors += 1;
                self.reply(
                    &msg.join_ref,
                    &msg.msg_ref,
                    LOBBY_TOPIC,
                    "error",
                    &json!({"reason": reason}),
                );
            }
        }
        if let Some(old) = old {
            self.send(
                &old.join_ref,
                &old.join_ref,
                LOBBY_TOPIC,
                "phx_close",
                &json!({}),
            );
        }
    }

    /// The channel crashes, or answers an error reply, as the profile says.
    fn reject(&mut self, jr: &Value, msg: &Inbound, reason: &str) {
        match self.behaviour.rejected {
            Rejected::Crash => self.crash(),
            Rejected::ErrorReply => {
                self.reply(
                    jr,
                    &msg.msg_ref,
                    LOBBY_TOPIC,
                    "error",
                    &json!({"reason": reason}),
                );
            }
        }
    }

    fn crash(&mut self) {
        if let Some(join) = self.socket().join.take() {
            self.g.subs.retain(|r| r.id != join.subscription_id);
            self.g.counters.channel_crashes += 1;
            let payload: Value =
                serde_json::from_str(self.behaviour.crash_payload).expect("a JSON object");
            self.send(
                &join.join_ref,
                &join.join_ref,
                LOBBY_TOPIC,
                "phx_error",
                &payload,
            );
        }
    }

    fn update_record(&mut self) {
        let Some(join) = self.socket().join.as_ref() else {
            return;
        };
        let (sub_id, systems, chars) = (
            join.subscription_id.clone(),
            join.systems.iter().copied().collect::<Vec<_>>(),
            join.characters.iter().copied().collect::<Vec<_>>(),
        );
        let now = now_timestamp();
        if let Some(rec) = self.g.subs.iter_mut().find(|r| r.id == sub_id) {
            rec.systems = systems;
            rec.characters = chars;
            rec.updated_at = now;
        }
    }

    fn list_payload<'m>(msg: &'m Inbound, key: &str) -> Option<&'m Vec<Value>> {
        match msg.payload.get(key) {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        }
    }

    /// Handles an event on the joined channel. Replies carry the channel's join_ref, whatever
    /// the push carried (they differ only for a stale push that the profile still handles).
    fn handle_in(&mut self, msg: &Inbound) {
        let jr = self
            .socket()
            .join
            .as_ref()
            .map(|j| j.join_ref.clone())
            .expect("joined");
        let r = msg.msg_ref.clone();
        match msg.event.as_str() {
            "subscribe_systems" | "unsubscribe_systems" => {
                let Some(items) = Self::list_payload(msg, "systems") else {
                    return self.reject(
                        &jr,
                        msg,
                        "[validation:invalid_payload] Expected {\"systems\": [integer]}",
                    );
                };
                let ids = match check_systems(items) {
                    Ok(ids) => ids,
                    Err(reason) => return self.reject(&jr, msg, reason),
                };
                let join = self
                    .g
                    .sockets
                    .get_mut(&self.id)
                    .and_then(|s| s.join.as_mut())
                    .expect("joined");
                let response = if msg.event == "subscribe_systems" {
                    let new: Vec<i64> = ids
                        .iter()
                        .copied()
                        .filter(|i| !join.systems.contains(i))
                        .collect();
                    if new.is_empty() {
                        json!({"message": "Already subscribed to all requested systems"})
                    } else {
                        // The all-kills listeners stop once a system is held (§7.6).
                        if join.systems.is_empty() {
                            join.listeners = 0;
                        }
                        join.systems.extend(new.iter().copied());
                        let all: Vec<i64> = join.systems.iter().copied().collect();
                        self.after.push(After::Preload {
                            join_ref: jr.clone(),
                            serial: join.serial,
                            systems: new,
                        });
                        json!({"subscribed_systems": all})
                    }
                } else {
                    let before = join.systems.len();
                    for i in &ids {
                        join.systems.remove(i);
                    }
                    if join.systems.len() == before {
                        json!({"message": "Not subscribed to any of the requested systems"})
                    } else {
                        json!({"subscribed_systems": join.systems.iter().copied().collect::<Vec<_>>()})
                    }
                };
                self.update_record();
                self.reply(&jr, &r, LOBBY_TOPIC, "ok", &response);
            }
            "subscribe_characters" | "unsubscribe_characters" => {
                let Some(items) = Self::list_payload(msg, "character_ids") else {
                    return self.reject(
                        &jr,
                        msg,
                        "[validation:invalid_payload] Expected {\"character_ids\": [integer]}",
                    );
                };
                let ids = match check_characters(items) {
                    Ok(ids) => ids,
                    Err(reason) => return self.reject(&jr, msg, reason),
                };
                let join = self
                    .g
                    .sockets
                    .get_mut(&self.id)
                    .and_then(|s| s.join.as_mut())
                    .expect("joined");
                let response = if msg.event == "subscribe_characters" {
                    let new: Vec<i64> = ids
                        .iter()
                        .copied()
                        .filter(|i| !join.characters.contains(i))
                        .collect();
                    if new.is_empty() {
                        json!({"message": "Already subscribed to all requested characters"})
                    } else {
                        if join.systems.is_empty() {
                            join.listeners += 1;
                        }
                        join.characters.extend(new);
                        json!({"subscribed_characters": join.characters.iter().copied().collect::<Vec<_>>()})
                    }
                } else {
                    let before = join.characters.len();
                    for i in &ids {
                        join.characters.remove(i);
                    }
                    if join.characters.len() == before {
                        json!({"message": "Not subscribed to any of the requested characters"})
                    } else {
                        json!({"subscribed_characters": join.characters.iter().copied().collect::<Vec<_>>()})
                    }
                };
                self.update_record();
                self.reply(&jr, &r, LOBBY_TOPIC, "ok", &response);
            }
            "get_status" => {
                let sock = self.socket();
                let join = sock.join.as_ref().expect("joined");
                let response = json!({
                    "connected_at": sock.connected_at,
                    "subscribed_characters": join.characters.iter().copied().collect::<Vec<_>>(),
                    "subscribed_systems": join.systems.iter().copied().collect::<Vec<_>>(),
                    "subscription_id": join.subscription_id,
                    "user_id": sock.user_id,
                });
                self.reply(&jr, &r, LOBBY_TOPIC, "ok", &response);
            }
            "phx_leave" => {
                let join = self.socket().join.take().expect("joined");
                self.g.subs.retain(|rec| rec.id != join.subscription_id);
                self.g.counters.leaves += 1;
                self.reply(&jr, &r, LOBBY_TOPIC, "ok", &json!({}));
                self.send(
                    &join.join_ref,
                    &join.join_ref,
                    LOBBY_TOPIC,
                    "phx_close",
                    &json!({}),
                );
            }
            other => {
                let reason = format!("[channel:unknown_event] Unknown event {other}");
                self.reject(&jr, msg, &reason);
            }
        }
    }
}
