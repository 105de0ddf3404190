//! Phoenix Channels payloads for `killmails:lobby` (PROTOCOL.md §7): frames, join params, replies,
//! pushes and the channel's validation reasons.

use jiff::Timestamp;
use serde::de::{self, SeqAccess};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::de::null_default;
use crate::decode;
use crate::error::DecodeError;
use crate::ids::{CharacterId, SubscriptionId, SystemId};
use crate::killmail::Killmail;

/// The only usable topic.
pub const LOBBY_TOPIC: &str = "killmails:lobby";
/// The reserved topic for heartbeats.
pub const PHOENIX_TOPIC: &str = "phoenix";

/// Event names used on the wire.
pub mod event {
    /// Client → server: join a topic.
    pub const JOIN: &str = "phx_join";
    /// Client → server: leave a topic.
    pub const LEAVE: &str = "phx_leave";
    /// Server → client: the answer to a client frame with the same `ref`.
    pub const REPLY: &str = "phx_reply";
    /// Server → client: the channel crashed; the topic is no longer joined.
    pub const ERROR: &str = "phx_error";
    /// Server → client: the channel closed (after a leave or a duplicate join).
    pub const CLOSE: &str = "phx_close";
    /// Client → server on topic `phoenix`.
    pub const HEARTBEAT: &str = "heartbeat";
    /// Client → server: add systems.
    pub const SUBSCRIBE_SYSTEMS: &str = "subscribe_systems";
    /// Client → server: remove systems.
    pub const UNSUBSCRIBE_SYSTEMS: &str = "unsubscribe_systems";
    /// Client → server: add characters.
    pub const SUBSCRIBE_CHARACTERS: &str = "subscribe_characters";
    /// Client → server: remove characters.
    pub const UNSUBSCRIBE_CHARACTERS: &str = "unsubscribe_characters";
    /// Client → server: ask for the channel's state.
    pub const GET_STATUS: &str = "get_status";
    /// Server → client: killmails, live or preloaded.
    pub const KILLMAIL_UPDATE: &str = "killmail_update";
    /// Server → client: never sent by the real server (PROTOCOL.md §7.7).
    pub const KILL_COUNT_UPDATE: &str = "kill_count_update";
    /// Server → client: never sent by the real server.
    pub const PRELOAD_STATUS: &str = "preload_status";
    /// Server → client: never sent by the real server.
    pub const PRELOAD_BATCH: &str = "preload_batch";
    /// Server → client: never sent by the real server.
    pub const PRELOAD_COMPLETE: &str = "preload_complete";
    /// Server → client: never sent by the real server.
    pub const NEW_KILL: &str = "new_kill";
}

/// One V2 frame, `[join_ref, ref, topic, event, payload]` on the wire.
///
/// ```
/// use wk_types::phoenix::Frame;
/// let frame: Frame = serde_json::from_str(r#"[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]"#)?;
/// assert_eq!(frame.msg_ref.as_deref(), Some("2"));
/// assert_eq!(serde_json::to_string(&frame)?, r#"[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame<P = Box<RawValue>> {
    /// The `ref` of the join that opened the channel; `None` for heartbeats and unroutable replies.
    pub join_ref: Option<String>,
    /// The client's message reference; `None` on server pushes.
    pub msg_ref: Option<String>,
    /// The topic.
    pub topic: String,
    /// The event name.
    pub event: String,
    /// The payload, always a JSON object on this server.
    pub payload: P,
}

impl<P> Frame<P> {
    /// A frame from its five parts.
    pub fn new(
        join_ref: Option<String>,
        msg_ref: Option<String>,
        topic: impl Into<String>,
        event: impl Into<String>,
        payload: P,
    ) -> Self {
        Self {
            join_ref,
            msg_ref,
            topic: topic.into(),
            event: event.into(),
            payload,
        }
    }
}

impl Frame {
    /// Decodes a V2 text frame, keeping the payload as raw JSON.
    ///
    /// # Errors
    /// A [`DecodeError`] when the text is not a JSON array of five elements of the right types.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode::from_str(text)
    }

    /// Decodes the payload as `T`.
    ///
    /// # Errors
    /// A [`DecodeError`] whose path is relative to the payload.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, DecodeError> {
        decode::from_str(self.payload.get())
    }
}

/// The five parts of a V2 frame borrowed from its text; the payload is its JSON text, or with
/// [`FrameRef::killmail_update`], already decoded.
///
/// [`FrameRef::split`] is a quick look at a frame: it borrows every part, and so only takes
/// frames whose strings (payload included) have no escape sequences, laid out as five elements.
/// That is every frame the server sends in practice; for anything else it says `None`, and
/// [`Frame::decode`] reads the frame (or reports what is wrong with it).
///
/// ```
/// use wk_types::phoenix::FrameRef;
///
/// let text = r#"["3",null,"killmails:lobby","killmail_update",{"killmails":[],"system_id":1}]"#;
/// let frame = FrameRef::split(text).expect("plain frame");
/// assert_eq!((frame.join_ref, frame.msg_ref), (Some("3"), None));
/// assert_eq!(frame.event, "killmail_update");
/// assert_eq!(frame.payload, r#"{"killmails":[],"system_id":1}"#);
/// assert!(FrameRef::split(r#"[null,null,"t","e",{"name":"a \"quote\""}]"#).is_none());
///
/// let update = FrameRef::killmail_update(text).expect("plain killmail_update");
/// assert_eq!(update.payload.system_id.get(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameRef<'a, P = &'a str> {
    /// See [`Frame::join_ref`].
    pub join_ref: Option<&'a str>,
    /// See [`Frame::msg_ref`].
    pub msg_ref: Option<&'a str>,
    /// See [`Frame::topic`].
    pub topic: &'a str,
    /// See [`Frame::event`].
    pub event: &'a str,
    /// The payload: its JSON text exactly as in the frame (grammar checked, not content), or the
    /// decoded value.
    pub payload: P,
}

impl<'a> FrameRef<'a> {
    /// Splits a frame without copying, or `None` for one this quick look does not take (see
    /// [`FrameRef`]); `None` does not mean the frame is invalid.
    #[must_use]
    pub fn split(text: &'a str) -> Option<Self> {
        crate::scan::frame(text, |scan, _| scan.raw())
    }
}

impl<'a> FrameRef<'a, KillmailUpdate> {
    /// Splits a `killmail_update` frame and decodes its payload in the same pass, as
    /// [`decode::killmail_update`] would; `None` for any other event, or a frame or payload the
    /// quick look does not take ([`Frame::decode`] and [`Push::decode`] read those).
    #[must_use]
    pub fn killmail_update(text: &'a str) -> Option<Self> {
        crate::scan::frame(text, |scan, event| {
            (event == event::KILLMAIL_UPDATE)
                .then(|| scan.killmail_update())
                .flatten()
        })
    }
}

impl<P: Serialize> Frame<P> {
    /// Encodes the frame as V2 text.
    ///
    /// # Errors
    /// Only when the payload's own `Serialize` fails.
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

impl<P: Serialize> Serialize for Frame<P> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(5)?;
        tuple.serialize_element(&self.join_ref)?;
        tuple.serialize_element(&self.msg_ref)?;
        tuple.serialize_element(&self.topic)?;
        tuple.serialize_element(&self.event)?;
        tuple.serialize_element(&self.payload)?;
        tuple.end()
    }
}

impl<'de, P: Deserialize<'de>> Deserialize<'de> for Frame<P> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<P>(std::marker::PhantomData<P>);
        impl<'de, P: Deserialize<'de>> de::Visitor<'de> for Visitor<P> {
            type Value = Frame<P>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Phoenix V2 frame [join_ref, ref, topic, event, payload]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let missing = |i| de::Error::invalid_length(i, &"5 elements");
                let join_ref = seq.next_element()?.ok_or_else(|| missing(0))?;
                let msg_ref = seq.next_element()?.ok_or_else(|| missing(1))?;
                let topic = seq.next_element()?.ok_or_else(|| missing(2))?;
                let event = seq.next_element()?.ok_or_else(|| missing(3))?;
                let payload = seq.next_element()?.ok_or_else(|| missing(4))?;
                // The server reads the first five elements and ignores any more.
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Frame {
                    join_ref,
                    msg_ref,
                    topic,
                    event,
                    payload,
                })
            }
        }
        deserializer.deserialize_seq(Visitor(std::marker::PhantomData))
    }
}

/// Parameters of a `phx_join` on `killmails:lobby`. The key is `systems`, not `system_ids`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct JoinParams {
    /// Systems to follow (1..=50,000,000, at most 10,000).
    #[serde(default, deserialize_with = "null_default")]
    pub systems: Vec<SystemId>,
    /// Characters to follow (90,000,000..=3,000,000,000, at most 50,000).
    #[serde(default, deserialize_with = "null_default")]
    pub character_ids: Vec<CharacterId>,
    /// Accepted and ignored by the real server (PROTOCOL.md §7.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema::any"))]
    pub preload: Option<serde_json::Value>,
}

impl JoinParams {
    /// Join params for these systems and characters.
    #[must_use]
    pub fn new(
        systems: impl IntoIterator<Item = SystemId>,
        character_ids: impl IntoIterator<Item = CharacterId>,
    ) -> Self {
        Self {
            systems: systems.into_iter().collect(),
            character_ids: character_ids.into_iter().collect(),
            preload: None,
        }
    }
}

/// Payload of `subscribe_systems` / `unsubscribe_systems`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SystemsPayload {
    /// The systems to add or remove.
    pub systems: Vec<SystemId>,
}

impl SystemsPayload {
    /// A payload for these systems.
    #[must_use]
    pub fn new(systems: Vec<SystemId>) -> Self {
        Self { systems }
    }
}

/// Payload of `subscribe_characters` / `unsubscribe_characters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CharactersPayload {
    /// The characters to add or remove.
    pub character_ids: Vec<CharacterId>,
}

impl CharactersPayload {
    /// A payload for these characters.
    #[must_use]
    pub fn new(character_ids: Vec<CharacterId>) -> Self {
        Self { character_ids }
    }
}

string_enum! {
    /// `status` of a `phx_reply`.
    pub enum ReplyStatus {
        /// The request succeeded.
        Ok = "ok",
        /// The request failed; `response.reason` says why.
        Error = "error",
    }
}

/// The payload of a `phx_reply`: `{"status", "response"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Reply<R = serde_json::Value> {
    /// `ok` or `error`.
    pub status: ReplyStatus,
    /// The typed response (an object).
    pub response: R,
}

impl<R> Reply<R> {
    /// A reply with this status and response.
    pub fn new(status: ReplyStatus, response: R) -> Self {
        Self { status, response }
    }
}

/// `response` of a successful join.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct JoinReply {
    /// This join's server-side record; changes on every join.
    pub subscription_id: SubscriptionId,
    /// The de-duplicated systems, in the order sent.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<SystemId>>"))]
    pub subscribed_systems: Vec<SystemId>,
    /// The de-duplicated characters, in the order sent.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<CharacterId>>"))]
    pub subscribed_characters: Vec<CharacterId>,
    /// `"connected"`.
    #[serde(default)]
    pub status: Option<String>,
}

impl JoinReply {
    /// A join reply.
    #[must_use]
    pub fn new(
        subscription_id: SubscriptionId,
        subscribed_systems: Vec<SystemId>,
        subscribed_characters: Vec<CharacterId>,
    ) -> Self {
        Self {
            subscription_id,
            subscribed_systems,
            subscribed_characters,
            status: Some("connected".to_owned()),
        }
    }
}

/// `response` of an error reply: `{"reason": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ErrorReply {
    /// The reason string; see [`ChannelErrorReason::parse`].
    pub reason: String,
}

impl ErrorReply {
    /// An error reply with this reason.
    #[must_use]
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason, parsed.
    #[must_use]
    pub fn parsed(&self) -> ChannelErrorReason {
        ChannelErrorReason::parse(&self.reason)
    }
}

/// `response` of `subscribe_systems` / `unsubscribe_systems`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum SystemsReply {
    /// The full set now subscribed (or remaining).
    Updated {
        /// Every system now subscribed; order not meaningful.
        subscribed_systems: Vec<SystemId>,
    },
    /// Nothing changed, e.g. `"Already subscribed to all requested systems"`.
    Unchanged {
        /// The server's message.
        message: String,
    },
}

/// `response` of `subscribe_characters` / `unsubscribe_characters`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum CharactersReply {
    /// The full set now subscribed (or remaining).
    Updated {
        /// Every character now subscribed; order not meaningful.
        subscribed_characters: Vec<CharacterId>,
    },
    /// Nothing changed, e.g. `"Already subscribed to all requested characters"`.
    Unchanged {
        /// The server's message.
        message: String,
    },
}

/// `response` of `get_status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StatusReply {
    /// This join's server-side record.
    pub subscription_id: SubscriptionId,
    /// Every system subscribed.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<SystemId>>"))]
    pub subscribed_systems: Vec<SystemId>,
    /// Every character subscribed.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<CharacterId>>"))]
    pub subscribed_characters: Vec<CharacterId>,
    /// When the socket connected.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub connected_at: Option<Timestamp>,
    /// `<client_id>_<unix µs>_<11 chars>`.
    #[serde(default)]
    pub user_id: Option<String>,
}

impl StatusReply {
    /// A status reply.
    #[must_use]
    pub fn new(subscription_id: SubscriptionId) -> Self {
        Self {
            subscription_id,
            subscribed_systems: Vec::new(),
            subscribed_characters: Vec::new(),
            connected_at: None,
            user_id: None,
        }
    }
}

string_enum! {
    /// The `type` part of a `[validation:<type>] message` reason (PROTOCOL.md §7.4).
    pub enum ValidationKind {
        /// More than 10,000 systems in one message.
        TooManySystems = "too_many_systems",
        /// A system id out of 1..=50,000,000.
        InvalidSystemIds = "invalid_system_ids",
        /// A non-integer system id (floats included).
        NonIntegerSystemIds = "non_integer_system_ids",
        /// More than 50,000 characters in one message.
        TooManyCharacters = "too_many_characters",
        /// A character id out of 90,000,000..=3,000,000,000.
        InvalidCharacterIds = "invalid_character_ids",
        /// A non-integer character id.
        NonIntegerCharacterIds = "non_integer_character_ids",
    }
}

/// A channel error reason, parsed from the reply's `reason` string.
///
/// ```
/// use wk_types::phoenix::{ChannelErrorReason, ValidationKind};
/// let r = ChannelErrorReason::parse("[validation:invalid_system_ids] Invalid system IDs");
/// let ChannelErrorReason::Validation { kind, message, .. } = r else { panic!() };
/// assert_eq!(kind, ValidationKind::InvalidSystemIds);
/// assert_eq!(message, "Invalid system IDs");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelErrorReason {
    /// `[domain:type] message`.
    Validation {
        /// The domain, `validation` today.
        domain: String,
        /// The type, the part to match on.
        kind: ValidationKind,
        /// The human-readable part.
        message: String,
    },
    /// `join crashed`: a bad topic or malformed params.
    JoinCrashed,
    /// `unmatched topic`: the topic is not routed or not joined.
    UnmatchedTopic,
    /// Any other reason, kept as sent.
    Other(String),
}

impl ChannelErrorReason {
    /// Parses a reason string. Never fails: unknown forms become [`ChannelErrorReason::Other`].
    #[must_use]
    pub fn parse(reason: &str) -> Self {
        match reason {
            "join crashed" => return Self::JoinCrashed,
            "unmatched topic" => return Self::UnmatchedTopic,
            _ => {}
        }
        let parsed = reason.strip_prefix('[').and_then(|rest| {
            let (tag, message) = rest.split_once(']')?;
            let (domain, kind) = tag.split_once(':')?;
            Some(Self::Validation {
                domain: domain.to_owned(),
                kind: ValidationKind::from(kind),
                message: message.trim_start().to_owned(),
            })
        });
        parsed.unwrap_or_else(|| Self::Other(reason.to_owned()))
    }
}

impl std::fmt::Display for ChannelErrorReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Validation {
                domain,
                kind,
                message,
            } => write!(f, "[{domain}:{kind}] {message}"),
            Self::JoinCrashed => f.write_str("join crashed"),
            Self::UnmatchedTopic => f.write_str("unmatched topic"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// Payload of a `killmail_update` push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct KillmailUpdate {
    /// The system of the killmails (for character deliveries, maybe one you did not subscribe to).
    pub system_id: SystemId,
    /// Live: canonical form, normally one. Preload: stored form, 1–5, newest first.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Killmail>>"))]
    pub killmails: Vec<Killmail>,
    /// When the server sent it (not the kill time).
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
    /// `true` for history sent after a join, `false` for live kills.
    #[serde(default, deserialize_with = "null_default")]
    pub preload: bool,
}

impl KillmailUpdate {
    /// A push of these killmails.
    #[must_use]
    pub fn new(
        system_id: SystemId,
        killmails: Vec<Killmail>,
        timestamp: Option<Timestamp>,
        preload: bool,
    ) -> Self {
        Self {
            system_id,
            killmails,
            timestamp,
            preload,
        }
    }
}

/// Payload of a `kill_count_update` push (never sent by the real server; the designed protocol has it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct KillCountUpdate {
    /// The system.
    pub system_id: SystemId,
    /// The count.
    pub count: i64,
    /// When the server sent it.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl KillCountUpdate {
    /// A count push.
    #[must_use]
    pub fn new(system_id: SystemId, count: i64, timestamp: Option<Timestamp>) -> Self {
        Self {
            system_id,
            count,
            timestamp,
        }
    }
}

/// Payload of a `preload_batch` push (never sent by the real server).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PreloadBatch {
    /// The killmails of this batch.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Killmail>>"))]
    pub kills: Vec<Killmail>,
    /// How many.
    #[serde(default)]
    pub batch_size: i64,
}

/// Payload of a `preload_complete` push (never sent by the real server).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PreloadComplete {
    /// Kills preloaded in total.
    #[serde(default)]
    pub total_kills: i64,
    /// Systems processed.
    #[serde(default)]
    pub systems_processed: i64,
    /// Errors, as sent.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<serde_json::Value>>"))]
    pub errors: Vec<serde_json::Value>,
}

/// A typed server push on `killmails:lobby`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Push {
    /// `killmail_update`.
    KillmailUpdate(KillmailUpdate),
    /// `kill_count_update`.
    KillCountUpdate(KillCountUpdate),
    /// `preload_status`, whose payload was never specified; kept as JSON.
    PreloadStatus(serde_json::Value),
    /// `preload_batch`.
    PreloadBatch(PreloadBatch),
    /// `preload_complete`.
    PreloadComplete(PreloadComplete),
    /// `new_kill`: a bare killmail.
    NewKill(Box<Killmail>),
    /// An event this SDK does not know, passed through.
    Unknown {
        /// The event name.
        event: String,
        /// The payload as JSON.
        payload: serde_json::Value,
    },
}

impl Push {
    /// Decodes a push from its event name and payload JSON.
    ///
    /// # Errors
    /// A [`DecodeError`] when a known event's payload does not fit its type.
    pub fn decode(event_name: &str, payload: &str) -> Result<Self, DecodeError> {
        Ok(match event_name {
            event::KILLMAIL_UPDATE => Self::KillmailUpdate(decode::killmail_update(payload)?),
            event::KILL_COUNT_UPDATE => Self::KillCountUpdate(decode::from_str(payload)?),
            event::PRELOAD_STATUS => Self::PreloadStatus(decode::from_str(payload)?),
            event::PRELOAD_BATCH => Self::PreloadBatch(decode::from_str(payload)?),
            event::PRELOAD_COMPLETE => Self::PreloadComplete(decode::from_str(payload)?),
            event::NEW_KILL => Self::NewKill(Box::new(decode::killmail(payload)?)),
            other => Self::Unknown {
                event: other.to_owned(),
                payload: decode::from_str(payload)?,
            },
        })
    }

    /// The event name this push travels under.
    #[must_use]
    pub fn event(&self) -> &str {
        match self {
            Self::KillmailUpdate(_) => event::KILLMAIL_UPDATE,
            Self::KillCountUpdate(_) => event::KILL_COUNT_UPDATE,
            Self::PreloadStatus(_) => event::PRELOAD_STATUS,
            Self::PreloadBatch(_) => event::PRELOAD_BATCH,
            Self::PreloadComplete(_) => event::PRELOAD_COMPLETE,
            Self::NewKill(_) => event::NEW_KILL,
            Self::Unknown { event, .. } => event,
        }
    }

    /// The payload as JSON.
    ///
    /// # Errors
    /// Only if a payload's `Serialize` fails, which the types here never do.
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::KillmailUpdate(p) => serde_json::to_value(p),
            Self::KillCountUpdate(p) => serde_json::to_value(p),
            Self::PreloadStatus(p) => Ok(p.clone()),
            Self::PreloadBatch(p) => serde_json::to_value(p),
            Self::PreloadComplete(p) => serde_json::to_value(p),
            Self::NewKill(p) => serde_json::to_value(p),
            Self::Unknown { payload, .. } => Ok(payload.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_needs_five_elements() {
        let err = Frame::decode(r#"["1","1","killmails:lobby","phx_join"]"#).unwrap_err();
        assert!(err.message().contains("5 elements"), "{err}");
        assert!(Frame::decode(r#"{"topic":"phoenix"}"#).is_err());
    }

    #[test]
    fn frame_ignores_extra_elements() {
        let f = Frame::decode(r#"["1","1","t","e",{},"extra"]"#).unwrap();
        assert_eq!(f.topic, "t");
    }

    #[test]
    fn reasons_parse() {
        assert_eq!(
            ChannelErrorReason::parse("join crashed"),
            ChannelErrorReason::JoinCrashed
        );
        assert_eq!(
            ChannelErrorReason::parse("unmatched topic"),
            ChannelErrorReason::UnmatchedTopic
        );
        assert_eq!(
            ChannelErrorReason::parse("weird"),
            ChannelErrorReason::Other("weird".into())
        );
        let r = ChannelErrorReason::parse(
            "[validation:too_many_characters] Too many characters (max: 50000)",
        );
        assert_eq!(
            r.to_string(),
            "[validation:too_many_characters] Too many characters (max: 50000)"
        );
        let ChannelErrorReason::Validation { kind, .. } = r else {
            panic!("not a validation reason")
        };
        assert_eq!(kind, ValidationKind::TooManyCharacters);
    }

    #[test]
    fn unknown_push_is_kept() {
        let p = Push::decode("surprise", r#"{"a":1}"#).unwrap();
        assert_eq!(p.event(), "surprise");
        assert_eq!(p.payload_json().unwrap()["a"], 1);
    }
}
