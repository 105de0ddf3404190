//! The calls of the handles, in the session: subscriptions waiting for their ids to be
//! acknowledged, explicit calls queued until the channel is joined, the one push in flight and
//! its reply or reply timeout, and failing them all when the session ends.

use std::collections::VecDeque;
use std::time::Instant;

use wk_types::phoenix::{
    ChannelErrorReason, CharactersPayload, CharactersReply, ErrorReply, ReplyStatus, StatusReply,
    SystemsPayload, SystemsReply, event,
};
use wk_types::{CharacterId, SystemId};

use super::interest::{Step, next_step};
use super::{Answer, Event, InFlight, Op, OpReply, Pending, Session, Token, Waiter};
use crate::error::Error;
use crate::filter::Filter;
use crate::phoenix::machine::{NoReply, PushRef};

impl<T: Token> Session<T> {
    /// A subscription wants `filter`; `token` is answered once the server acknowledged every id.
    /// `false` when it failed at once (not connected, and calls fail fast): the caller drops it.
    pub(crate) fn subscribe(&mut self, token: T, filter: Filter, now: Instant) -> bool {
        let deadline = self.call_deadline(now);
        if !self.machine.is_joined() && deadline.is_none() {
            self.events.push_back(Event::Done {
                token,
                result: Err(Error::NotConnected),
            });
            return false;
        }
        self.interest.add(&filter);
        // Through one push answered by silence and the rejoin after it.
        let deadline = deadline.map(|d| d + self.config.machine.reply_timeout);
        self.waiters.push(Waiter {
            token,
            filter,
            deadline,
        });
        self.resolve_waiters();
        self.step(now);
        true
    }

    /// A subscription was dropped: ids nobody else wants leave the server.
    pub(crate) fn unsubscribe(&mut self, filter: &Filter, now: Instant) {
        self.interest.remove(filter);
        self.step(now);
    }

    /// An explicit call. `change` is the subscription's filter before and after the call: the
    /// interest follows it at once, whatever the server answers.
    pub(crate) fn call(
        &mut self,
        token: T,
        op: Op,
        change: Option<(&Filter, &Filter)>,
        now: Instant,
    ) {
        let deadline = self.call_deadline(now);
        if !self.machine.is_joined() && deadline.is_none() {
            self.events.push_back(Event::Done {
                token,
                result: Err(Error::NotConnected),
            });
            return;
        }
        if let Some((before, after)) = change {
            self.interest.remove(before);
            self.interest.add(after);
        }
        // Only ids no other local subscription still wants leave the server.
        let op = match op {
            Op::Systems {
                subscribe: false,
                ids,
            } => {
                let ids: Vec<SystemId> = ids
                    .into_iter()
                    .filter(|s| !self.interest.has_system(*s))
                    .collect();
                if ids.is_empty() {
                    let reply = SystemsReply::Updated {
                        subscribed_systems: self.acked.systems.iter().copied().collect(),
                    };
                    self.done(token, Ok(Answer::Op(OpReply::Systems(reply))));
                    return;
                }
                Op::Systems {
                    subscribe: false,
                    ids,
                }
            }
            Op::Characters {
                subscribe: false,
                ids,
            } => {
                let ids: Vec<CharacterId> = ids
                    .into_iter()
                    .filter(|c| !self.interest.has_character(*c))
                    .collect();
                if ids.is_empty() {
                    let reply = CharactersReply::Updated {
                        subscribed_characters: self.acked.characters.iter().copied().collect(),
                    };
                    self.done(token, Ok(Answer::Op(OpReply::Characters(reply))));
                    return;
                }
                Op::Characters {
                    subscribe: false,
                    ids,
                }
            }
            other => other,
        };
        self.queue.push_back(Pending {
            op,
            token,
            deadline,
            joins: self.joins,
        });
        self.step(now);
    }

    pub(super) fn call_deadline(&self, now: Instant) -> Option<Instant> {
        self.config.call_wait.map(|wait| now + wait)
    }

    pub(super) fn pump(&mut self, now: Instant) {
        if self.in_flight.is_some() || !self.machine.is_joined() {
            return;
        }
        while let Some(p) = self.queue.pop_front() {
            if p.token.cancelled() {
                continue;
            }
            if p.joins < self.joins
                && let Some(reply) = self.carried_by_join(&p.op)
            {
                self.done(p.token, Ok(Answer::Op(reply)));
                continue;
            }
            self.send(p.op, Some(p.token), now);
            return;
        }
        match next_step(&self.interest, &self.acked) {
            Step::Idle => {}
            Step::Rejoin => self.send_join(now),
            Step::Systems { subscribe, ids } => {
                self.send(Op::Systems { subscribe, ids }, None, now);
            }
            Step::Characters { subscribe, ids } => {
                self.send(Op::Characters { subscribe, ids }, None, now);
            }
        }
    }

    /// The answer to a subscribe call queued before a join that already carried its ids.
    pub(super) fn carried_by_join(&self, op: &Op) -> Option<OpReply> {
        match op {
            Op::Systems {
                subscribe: true,
                ids,
            } if ids.iter().all(|s| self.acked.systems.contains(s)) => {
                Some(OpReply::Systems(SystemsReply::Updated {
                    subscribed_systems: self.acked.systems.iter().copied().collect(),
                }))
            }
            Op::Characters {
                subscribe: true,
                ids,
            } if ids.iter().all(|c| self.acked.characters.contains(c)) => {
                Some(OpReply::Characters(CharactersReply::Updated {
                    subscribed_characters: self.acked.characters.iter().copied().collect(),
                }))
            }
            _ => None,
        }
    }

    pub(super) fn send(&mut self, op: Op, token: Option<T>, now: Instant) {
        let (event_name, payload) = match &op {
            Op::Systems { subscribe, ids } => (
                if *subscribe {
                    event::SUBSCRIBE_SYSTEMS
                } else {
                    event::UNSUBSCRIBE_SYSTEMS
                },
                serde_json::to_string(&SystemsPayload::new(ids.clone())),
            ),
            Op::Characters { subscribe, ids } => (
                if *subscribe {
                    event::SUBSCRIBE_CHARACTERS
                } else {
                    event::UNSUBSCRIBE_CHARACTERS
                },
                serde_json::to_string(&CharactersPayload::new(ids.clone())),
            ),
            Op::Status => (event::GET_STATUS, Ok("{}".to_owned())),
        };
        let payload = payload.expect("payloads serialize");
        let push_ref = self
            .machine
            .push(event_name, &payload, now)
            .expect("pump only sends while joined");
        self.in_flight = Some(InFlight {
            push_ref,
            op,
            token,
        });
    }

    pub(super) fn on_reply(&mut self, push_ref: PushRef, status: &ReplyStatus, response: &str) {
        let Some(flight) = self.in_flight.take_if(|f| f.push_ref == push_ref) else {
            return;
        };
        if *status != ReplyStatus::Ok {
            let reason = serde_json::from_str::<ErrorReply>(response)
                .map(|e| e.parsed())
                .unwrap_or_else(|_| ChannelErrorReason::Other(response.to_owned()));
            if let Some(token) = flight.token {
                self.done(token, Err(Error::Rejected(reason)));
            }
            return;
        }
        let decoded = match &flight.op {
            Op::Systems { subscribe, ids } => wk_types::decode::from_str::<SystemsReply>(response)
                .map(|r| {
                    self.acked.apply_systems(*subscribe, ids, &r);
                    OpReply::Systems(r)
                }),
            Op::Characters { subscribe, ids } => {
                wk_types::decode::from_str::<CharactersReply>(response).map(|r| {
                    self.acked.apply_characters(*subscribe, ids, &r);
                    OpReply::Characters(r)
                })
            }
            Op::Status => wk_types::decode::from_str::<StatusReply>(response).map(OpReply::Status),
        };
        if let Some(token) = flight.token {
            self.done(token, decoded.map(Answer::Op).map_err(Error::Decode));
        }
        self.resolve_waiters();
    }

    pub(super) fn on_no_reply(&mut self, push_ref: PushRef, why: NoReply, now: Instant) {
        let Some(flight) = self.in_flight.take_if(|f| f.push_ref == push_ref) else {
            return;
        };
        let error = match why {
            NoReply::Timeout => Error::Timeout,
            _ => Error::ChannelLost,
        };
        if let Some(token) = flight.token {
            self.done(token, Err(error));
        }
        // Phoenix 1.8 answers a push whose join_ref is stale with silence (PROTOCOL.md §18.2):
        // the two sides no longer agree, so join again, replacing the join, with the full set.
        if why == NoReply::Timeout && self.machine.is_joined() {
            tracing::warn!(
                timeout = ?self.config.machine.reply_timeout,
                "a push got no reply; rejoining with the current subscriptions"
            );
            self.lose_join(now);
            self.send_join(now);
        }
    }

    pub(super) fn expire_calls(&mut self, now: Instant) {
        let joined = self.machine.is_joined();
        let mut keep = VecDeque::with_capacity(self.queue.len());
        for p in std::mem::take(&mut self.queue) {
            match p.deadline {
                Some(d) if now >= d && !joined => self.done(p.token, Err(Error::NotConnected)),
                _ => keep.push_back(p),
            }
        }
        self.queue = keep;
        let (expired, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| w.deadline.is_some_and(|d| now >= d));
        self.waiters = waiting;
        for w in expired {
            let error = if joined {
                Error::Timeout
            } else {
                Error::NotConnected
            };
            self.fail_waiter(w, error);
        }
    }

    /// A subscription that will not be acknowledged: its ids leave the interest, unless its
    /// handle is gone already (its drop took them out).
    pub(super) fn fail_waiter(&mut self, w: Waiter<T>, error: Error) {
        if w.token.cancelled() {
            return;
        }
        self.interest.remove(&w.filter);
        self.done(w.token, Err(error));
    }

    pub(super) fn resolve_waiters(&mut self) {
        if !self.machine.is_joined() {
            return;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| self.acked.covers(&w.filter));
        self.waiters = waiting;
        for w in ready {
            self.done(w.token, Ok(Answer::Subscribed));
        }
    }

    pub(super) fn fail_everything(&mut self, error: &Error) {
        for w in std::mem::take(&mut self.waiters) {
            self.done(w.token, Err(error.clone()));
        }
        for p in std::mem::take(&mut self.queue) {
            self.done(p.token, Err(error.clone()));
        }
        if let Some(flight) = self.in_flight.take()
            && let Some(token) = flight.token
        {
            self.done(token, Err(error.clone()));
        }
    }
}
