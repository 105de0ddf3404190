//! The IO-free Phoenix Channels protocol machine for one socket and one topic.
//!
//! Frames and time go in; frames to send and protocol outputs come out. The machine numbers refs,
//! schedules heartbeats on topic `phoenix`, tracks the join of its topic, matches replies to pushes
//! (with timeouts), and drops every frame that belongs to an older join (PROTOCOL.md §7.10).
//!
//! Just over 600 lines (its tests are in `machine/tests.rs`): one state machine over one set of
//! refs, which splitting would only scatter.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::value::RawValue;
use std::time::Instant;
use wk_types::phoenix::{
    ChannelErrorReason, ErrorReply, Frame, PHOENIX_TOPIC, Reply, ReplyStatus, event,
};

/// Timings of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) struct MachineConfig {
    /// How often to send a heartbeat (the server closes after 60 s without an inbound frame).
    pub(crate) heartbeat_interval: Duration,
    /// How long a heartbeat may go unanswered before the connection counts as dead.
    pub(crate) heartbeat_timeout: Duration,
    /// How long to wait for the reply to a join or push.
    pub(crate) reply_timeout: Duration,
}

impl Default for MachineConfig {
    /// 30 s heartbeats, 30 s heartbeat timeout, 10 s reply timeout (PROTOCOL.md §7.3, §7.6).
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(30),
            heartbeat_timeout: Duration::from_secs(30),
            reply_timeout: Duration::from_secs(10),
        }
    }
}

/// A push the machine sent and is waiting on, named by its ref.
pub(crate) type PushRef = u64;

/// Why a push got no reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum NoReply {
    /// No reply within the reply timeout.
    Timeout,
    /// The channel crashed or closed first (the server never answers the ref that crashed it).
    ChannelLost,
    /// The connection went away first.
    Disconnected,
}

/// What the machine produced.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum Output {
    /// A text frame to write to the socket.
    Send(String),
    /// The join succeeded; `response` is the reply's `response` object.
    Joined {
        /// The join's ref.
        join_ref: PushRef,
        /// The raw `response` object.
        response: Box<RawValue>,
    },
    /// The join was refused.
    JoinRejected {
        /// The join's ref.
        join_ref: PushRef,
        /// Why.
        reason: ChannelErrorReason,
    },
    /// The join got no reply.
    JoinFailed {
        /// The join's ref.
        join_ref: PushRef,
        /// Why.
        why: NoReply,
    },
    /// The joined channel is gone (`phx_error` or `phx_close` for the current join).
    ChannelClosed {
        /// The join that was lost.
        join_ref: PushRef,
        /// `true` for `phx_error` (a crash), `false` for `phx_close`.
        crashed: bool,
    },
    /// The reply to a push.
    Reply {
        /// The push's ref.
        push_ref: PushRef,
        /// `ok` or `error`.
        status: ReplyStatus,
        /// The raw `response` object.
        response: Box<RawValue>,
    },
    /// A push got no reply.
    NoReply {
        /// The push's ref.
        push_ref: PushRef,
        /// Why.
        why: NoReply,
    },
    /// A server push on the current join (`killmail_update`, …).
    Push {
        /// The event name.
        event: String,
        /// The payload.
        payload: Box<RawValue>,
    },
    /// A heartbeat went unanswered: the connection is dead and must be replaced.
    Dead,
}

/// Why a push could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum NotJoined {
    /// The topic is not joined.
    #[error("the channel is not joined")]
    NotJoined,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Closed,
    Joining { join_ref: PushRef },
    Joined { join_ref: PushRef },
}

/// The protocol machine. See the module docs.
#[derive(Debug)]
pub(crate) struct Machine {
    config: MachineConfig,
    topic: String,
    next_ref: PushRef,
    channel: Channel,
    /// Sent pushes (and the join) awaiting a reply, with their deadlines.
    pending: HashMap<PushRef, Instant>,
    heartbeat: Option<(PushRef, Instant)>,
    next_heartbeat: Option<Instant>,
    outputs: VecDeque<Output>,
    stale_dropped: u64,
}

impl Machine {
    /// A machine for `topic`, not yet connected.
    #[must_use]
    pub(crate) fn new(topic: impl Into<String>, config: MachineConfig) -> Self {
        Self {
            config,
            topic: topic.into(),
            next_ref: 1,
            channel: Channel::Closed,
            pending: HashMap::new(),
            heartbeat: None,
            next_heartbeat: None,
            outputs: VecDeque::new(),
            stale_dropped: 0,
        }
    }

    /// The socket is open: heartbeats start.
    pub(crate) fn connected(&mut self, now: Instant) {
        self.channel = Channel::Closed;
        self.heartbeat = None;
        self.next_heartbeat = Some(now + self.config.heartbeat_interval);
    }

    /// The socket is gone: every pending push fails, the channel is closed.
    pub(crate) fn disconnected(&mut self) {
        self.fail_pending(NoReply::Disconnected);
        self.channel = Channel::Closed;
        self.heartbeat = None;
        self.next_heartbeat = None;
    }

    /// Sends a `phx_join` with `payload` (a JSON object). A join while joined replaces the old join
    /// (the server kills the old channel); frames of the old join are dropped from then on.
    pub(crate) fn join(&mut self, payload: &str, now: Instant) -> PushRef {
        let join_ref = self.take_ref();
        self.channel = Channel::Joining { join_ref };
        self.pending
            .insert(join_ref, now + self.config.reply_timeout);
        let frame = encode(
            Some(join_ref),
            Some(join_ref),
            &self.topic,
            event::JOIN,
            payload,
        );
        self.outputs.push_back(Output::Send(frame));
        join_ref
    }

    /// Sends `event` with `payload` on the joined topic.
    ///
    /// # Errors
    /// [`NotJoined`] when the topic is not joined: nothing is sent (sending would get
    /// "unmatched topic", or crash a channel that is still joining).
    pub(crate) fn push(
        &mut self,
        event_name: &str,
        payload: &str,
        now: Instant,
    ) -> Result<PushRef, NotJoined> {
        let Channel::Joined { join_ref } = self.channel else {
            return Err(NotJoined::NotJoined);
        };
        let push_ref = self.take_ref();
        self.pending
            .insert(push_ref, now + self.config.reply_timeout);
        let frame = encode(
            Some(join_ref),
            Some(push_ref),
            &self.topic,
            event_name,
            payload,
        );
        self.outputs.push_back(Output::Send(frame));
        Ok(push_ref)
    }

    /// Whether the topic is joined.
    #[must_use]
    pub(crate) fn is_joined(&self) -> bool {
        matches!(self.channel, Channel::Joined { .. })
    }

    /// The current join's ref, joined or joining.
    #[must_use]
    pub(crate) fn join_ref(&self) -> Option<PushRef> {
        match self.channel {
            Channel::Closed => None,
            Channel::Joining { join_ref } | Channel::Joined { join_ref } => Some(join_ref),
        }
    }

    /// How many frames of older joins were dropped.
    #[must_use]
    pub(crate) fn stale_dropped(&self) -> u64 {
        self.stale_dropped
    }

    /// The next output, if any.
    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Machine::handle_timeout`] must next be called.
    #[must_use]
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let heartbeat_deadline = self
            .heartbeat
            .map(|(_, sent)| sent + self.config.heartbeat_timeout);
        [
            self.next_heartbeat,
            heartbeat_deadline,
            self.pending.values().min().copied(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances time: sends a due heartbeat, declares a silent connection dead, expires replies.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if let Some((_, sent)) = self.heartbeat
            && now >= sent + self.config.heartbeat_timeout
        {
            self.heartbeat = None;
            self.next_heartbeat = None;
            self.outputs.push_back(Output::Dead);
            return;
        }
        if let Some(due) = self.next_heartbeat
            && now >= due
        {
            self.next_heartbeat = Some(now + self.config.heartbeat_interval);
            if self.heartbeat.is_none() {
                let r = self.take_ref();
                self.heartbeat = Some((r, now));
                let frame = encode(None, Some(r), PHOENIX_TOPIC, event::HEARTBEAT, "{}");
                self.outputs.push_back(Output::Send(frame));
            }
        }
        let mut expired: Vec<PushRef> = self
            .pending
            .iter()
            .filter(|(_, deadline)| now >= **deadline)
            .map(|(r, _)| *r)
            .collect();
        expired.sort_unstable();
        for r in expired {
            self.pending.remove(&r);
            if self.channel == (Channel::Joining { join_ref: r }) {
                self.channel = Channel::Closed;
                self.outputs.push_back(Output::JoinFailed {
                    join_ref: r,
                    why: NoReply::Timeout,
                });
            } else {
                self.outputs.push_back(Output::NoReply {
                    push_ref: r,
                    why: NoReply::Timeout,
                });
            }
        }
    }

    /// Handles one inbound text frame (the session uses the fast path; tests use this one).
    ///
    /// # Errors
    /// A [`wk_types::DecodeError`] for a frame that is not a V2 array; the machine is unchanged.
    #[cfg(test)]
    pub(crate) fn handle_text(&mut self, text: &str) -> Result<(), wk_types::DecodeError> {
        if let Some(push) = self.handle_text_typed::<serde::de::IgnoredAny>(text, None)? {
            self.outputs.extend(push.into_output());
        }
        Ok(())
    }

    /// [`Machine::handle_text`] for the hot path: a server push on the current join is returned
    /// borrowed from `text` instead of queued as an [`Output::Push`], and when its event is
    /// `typed_event` its payload is decoded as `T` in the same pass over the text (no second scan).
    ///
    /// A push is only returned when no output is queued (otherwise it is queued behind them as an
    /// `Output::Push`, keeping the order); the caller handles it where it would have handled the
    /// `Output::Push`. A payload that does not decode as `T` is returned raw, so the caller reports
    /// the error exactly as before.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    pub(crate) fn handle_text_typed<'t, T: serde::Deserialize<'t>>(
        &mut self,
        text: &'t str,
        typed_event: Option<&str>,
    ) -> Result<Option<BorrowedPush<'t, T>>, wk_types::DecodeError> {
        // Typed decoding is only possible when the push can be handed back, not queued.
        let typed_event = typed_event.filter(|_| self.outputs.is_empty());
        // Fast path: every string unescaped, so the frame borrows from `text`. Anything else (an
        // escaped string, a payload that is not a `T`, or a frame that does not decode) takes the
        // slower paths, the last of which gives the exact error.
        let seed = FrameSeed::<T> {
            typed_event,
            marker: std::marker::PhantomData,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = serde::de::DeserializeSeed::deserialize(seed, &mut de)
            .and_then(|parts| de.end().map(|()| parts));
        let parts = match parsed {
            Ok(parts) => parts,
            Err(_) if typed_event.is_some() => {
                return self.handle_text_typed::<T>(text, None);
            }
            Err(_) => {
                let frame: Frame = Frame::decode(text)?;
                let view = Parts {
                    join_ref: frame.join_ref.as_deref(),
                    msg_ref: frame.msg_ref.as_deref(),
                    topic: &frame.topic,
                    event: &frame.event,
                    payload: Payload::<T>::Raw(&frame.payload),
                };
                if let Some(push) = self.handle_frame(view) {
                    self.outputs.extend(push.into_output());
                }
                return Ok(None);
            }
        };
        let push = self.handle_frame(parts);
        if push.is_some() && !self.outputs.is_empty() {
            self.outputs
                .extend(push.and_then(BorrowedPush::into_output));
            return Ok(None);
        }
        Ok(push)
    }

    /// [`Machine::handle_text_typed`] with a faster first try: a frame that `split` takes (a
    /// [`FrameRef`](wk_types::phoenix::FrameRef) with the payload decoded, as
    /// [`FrameRef::killmail_update`](wk_types::phoenix::FrameRef::killmail_update) gives) is
    /// handled without serde. Any other frame takes `handle_text_typed`, which reports exactly as
    /// before.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    pub(crate) fn handle_text_fast<'t, T: serde::Deserialize<'t>>(
        &mut self,
        text: &'t str,
        typed_event: &str,
        split: impl FnOnce(&'t str) -> Option<wk_types::phoenix::FrameRef<'t, T>>,
    ) -> Result<Option<BorrowedPush<'t, T>>, wk_types::DecodeError> {
        if self.outputs.is_empty()
            && let Some(frame) = split(text).filter(|f| f.event == typed_event)
        {
            // A push never queues output, so it can be handed back as it is.
            return Ok(self.handle_frame(Parts {
                join_ref: frame.join_ref,
                msg_ref: frame.msg_ref,
                topic: frame.topic,
                event: frame.event,
                payload: Payload::Typed(frame.payload),
            }));
        }
        self.handle_text_typed(text, Some(typed_event))
    }

    fn handle_frame<'a, T>(&mut self, frame: Parts<'a, T>) -> Option<BorrowedPush<'a, T>> {
        let msg_ref = frame.msg_ref.and_then(parse_ref);
        let join_ref = frame.join_ref.and_then(parse_ref);
        if frame.topic == PHOENIX_TOPIC {
            if frame.event == event::REPLY
                && msg_ref.is_some()
                && msg_ref == self.heartbeat.map(|h| h.0)
            {
                self.heartbeat = None;
            }
            return None;
        }
        if frame.topic != self.topic {
            self.stale_dropped += 1;
            return None;
        }
        match (frame.event, frame.payload) {
            (event::REPLY, Payload::Raw(payload)) => self.handle_reply(msg_ref, payload),
            (event::ERROR | event::CLOSE, _) => {
                let current = self.join_ref();
                if join_ref.is_some() && join_ref == current {
                    let lost = current.expect("checked above");
                    self.fail_pending(NoReply::ChannelLost);
                    self.channel = Channel::Closed;
                    self.outputs.push_back(Output::ChannelClosed {
                        join_ref: lost,
                        crashed: frame.event == event::ERROR,
                    });
                } else {
                    self.stale_dropped += 1;
                }
            }
            (event_name, payload) => {
                if event_name != event::REPLY && join_ref.is_some() && join_ref == self.join_ref() {
                    return Some(BorrowedPush {
                        event: frame.event,
                        payload,
                    });
                }
                self.stale_dropped += 1;
            }
        }
        None
    }

    fn handle_reply(&mut self, msg_ref: Option<PushRef>, payload: &RawValue) {
        let Some(r) = msg_ref.filter(|r| self.pending.remove(r).is_some()) else {
            self.stale_dropped += 1;
            return;
        };
        let reply: Reply<Box<RawValue>> = match serde_json::from_str(payload.get()) {
            Ok(reply) => reply,
            Err(_) => Reply::new(
                ReplyStatus::Unknown("malformed".to_owned()),
                RawValue::from_string("{}".to_owned()).expect("valid JSON"),
            ),
        };
        if self.channel == (Channel::Joining { join_ref: r }) {
            if reply.status == ReplyStatus::Ok {
                self.channel = Channel::Joined { join_ref: r };
                self.outputs.push_back(Output::Joined {
                    join_ref: r,
                    response: reply.response,
                });
            } else {
                self.channel = Channel::Closed;
                let reason = serde_json::from_str::<ErrorReply>(reply.response.get())
                    .map(|e| e.parsed())
                    .unwrap_or_else(|_| ChannelErrorReason::Other(reply.response.get().to_owned()));
                self.outputs.push_back(Output::JoinRejected {
                    join_ref: r,
                    reason,
                });
            }
            return;
        }
        self.outputs.push_back(Output::Reply {
            push_ref: r,
            status: reply.status,
            response: reply.response,
        });
    }

    fn fail_pending(&mut self, why: NoReply) {
        let mut refs: Vec<PushRef> = self.pending.drain().map(|(r, _)| r).collect();
        refs.sort_unstable();
        for r in refs {
            if self.channel == (Channel::Joining { join_ref: r }) {
                self.outputs
                    .push_back(Output::JoinFailed { join_ref: r, why });
            } else {
                self.outputs.push_back(Output::NoReply { push_ref: r, why });
            }
        }
    }

    fn take_ref(&mut self) -> PushRef {
        let r = self.next_ref;
        self.next_ref += 1;
        r
    }
}

fn parse_ref(s: &str) -> Option<PushRef> {
    s.parse().ok()
}

/// A server push on the current join, borrowed from the frame's text.
#[derive(Debug)]
pub(crate) struct BorrowedPush<'t, T> {
    /// The event name.
    pub(crate) event: &'t str,
    /// The payload, decoded when the event was the typed one.
    pub(crate) payload: Payload<'t, T>,
}

/// A push's payload: raw JSON, or already decoded.
#[derive(Debug)]
pub(crate) enum Payload<'t, T> {
    /// Raw JSON.
    Raw(&'t RawValue),
    /// Decoded in the same pass as the frame.
    Typed(T),
}

impl<T> BorrowedPush<'_, T> {
    /// The queued form; `None` for a typed payload, which is only produced when nothing is queued.
    fn into_output(self) -> Option<Output> {
        match self.payload {
            Payload::Raw(payload) => Some(Output::Push {
                event: self.event.to_owned(),
                payload: payload.to_owned(),
            }),
            Payload::Typed(_) => None,
        }
    }
}

/// The five parts of a V2 frame, borrowed from its text or from an owned [`Frame`].
struct Parts<'a, T> {
    join_ref: Option<&'a str>,
    msg_ref: Option<&'a str>,
    topic: &'a str,
    event: &'a str,
    payload: Payload<'a, T>,
}

/// Decodes a V2 frame whose strings have no escapes, borrowing from its text, with the same shape
/// rules as [`Frame`]'s own decoding (five elements, more are ignored); the payload of
/// `typed_event` is decoded as `T`.
struct FrameSeed<'e, T> {
    typed_event: Option<&'e str>,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: serde::Deserialize<'de>> serde::de::DeserializeSeed<'de> for FrameSeed<'_, T> {
    type Value = Parts<'de, T>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for FrameSeed<'_, T> {
    type Value = Parts<'de, T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Phoenix V2 frame")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = || serde::de::Error::invalid_length(5, &"5 elements");
        let join_ref = seq.next_element()?.ok_or_else(missing)?;
        let msg_ref = seq.next_element()?.ok_or_else(missing)?;
        let topic = seq.next_element()?.ok_or_else(missing)?;
        let event: &'de str = seq.next_element()?.ok_or_else(missing)?;
        let payload = if self.typed_event == Some(event) {
            Payload::Typed(seq.next_element()?.ok_or_else(missing)?)
        } else {
            Payload::Raw(seq.next_element()?.ok_or_else(missing)?)
        };
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Parts {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
        })
    }
}

/// Encodes a V2 frame around an already-serialized payload.
fn encode(
    join_ref: Option<PushRef>,
    msg_ref: Option<PushRef>,
    topic: &str,
    event_name: &str,
    payload: &str,
) -> String {
    let slot = |r: Option<PushRef>| r.map_or_else(|| "null".to_owned(), |r| format!("\"{r}\""));
    let topic = serde_json::to_string(topic).expect("strings serialize");
    let event_name = serde_json::to_string(event_name).expect("strings serialize");
    format!(
        "[{},{},{topic},{event_name},{payload}]",
        slot(join_ref),
        slot(msg_ref)
    )
}

#[cfg(test)]
mod tests;
