//! Server-Sent Events payloads (PROTOCOL.md §8): the query filter and the enhanced stream's events.
//!
//! The basic stream (`/api/v1/kills/stream`) sends unnamed `data:` events, each one canonical
//! [`Killmail`]. The enhanced stream (`/api/v1/kills/stream/enhanced`) sends named events, decoded by
//! [`EnhancedEvent::decode`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::de::null_default;
use crate::decode;
use crate::error::DecodeError;
use crate::ids::{CharacterId, SystemId};
use crate::killmail::Killmail;
use crate::validate::{self, ValidationError};

/// Path of the basic stream.
pub const BASIC_PATH: &str = "/api/v1/kills/stream";
/// Path of the enhanced stream.
pub const ENHANCED_PATH: &str = "/api/v1/kills/stream/enhanced";

/// The query parameters both SSE endpoints take (PROTOCOL.md §8.1).
///
/// ```
/// use wk_types::{sse::SseFilter, SystemId};
/// let q = SseFilter::default().systems([SystemId::new(30000142), SystemId::new(30002813)]).min_value(1e8);
/// assert_eq!(q.to_query()?, "system_ids=30000142,30002813&min_value=100000000");
/// # Ok::<(), wk_types::validate::ValidationError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SseFilter {
    /// At most 100 systems.
    #[serde(default, deserialize_with = "null_default")]
    pub system_ids: Vec<SystemId>,
    /// At most 100 characters (ignored server-side on the basic stream).
    #[serde(default, deserialize_with = "null_default")]
    pub character_ids: Vec<CharacterId>,
    /// Minimum `zkb.totalValue` in ISK (ignored server-side on the basic stream).
    #[serde(default)]
    pub min_value: Option<f64>,
    /// Days of history (enhanced stream only; capped at 90 by the server).
    #[serde(default)]
    pub preload_days: Option<u32>,
}

impl SseFilter {
    /// Sets the systems.
    #[must_use]
    pub fn systems(mut self, ids: impl IntoIterator<Item = SystemId>) -> Self {
        self.system_ids = ids.into_iter().collect();
        self
    }

    /// Sets the characters.
    #[must_use]
    pub fn characters(mut self, ids: impl IntoIterator<Item = CharacterId>) -> Self {
        self.character_ids = ids.into_iter().collect();
        self
    }

    /// Sets the minimum value in ISK.
    #[must_use]
    pub fn min_value(mut self, isk: f64) -> Self {
        self.min_value = Some(isk);
        self
    }

    /// Sets the days of history for the enhanced stream.
    #[must_use]
    pub fn preload_days(mut self, days: u32) -> Self {
        self.preload_days = Some(days);
        self
    }

    /// Checks the filter against the server's rules.
    ///
    /// # Errors
    /// A [`ValidationError`] for more than 100 ids in a list or a negative or non-finite `min_value`.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::sse_filter(self)
    }

    /// The validated query string, without a leading `?` (empty when no filter is set).
    ///
    /// # Errors
    /// As [`SseFilter::validate`].
    pub fn to_query(&self) -> Result<String, ValidationError> {
        self.validate()?;
        let mut parts = Vec::new();
        let join = |ids: &mut dyn Iterator<Item = i64>| {
            ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        };
        if !self.system_ids.is_empty() {
            let list = join(&mut self.system_ids.iter().map(|s| s.get()));
            parts.push(format!("system_ids={list}"));
        }
        if !self.character_ids.is_empty() {
            let list = join(&mut self.character_ids.iter().map(|c| c.get()));
            parts.push(format!("character_ids={list}"));
        }
        if let Some(v) = self.min_value {
            parts.push(format!("min_value={v}"));
        }
        if let Some(d) = self.preload_days {
            parts.push(format!("preload_days={d}"));
        }
        Ok(parts.join("&"))
    }

    /// Whether a kill passes this filter as the designed server applies it (PROTOCOL.md §8.3.1):
    /// `min_value` first, then system or character match when any id is set.
    #[must_use]
    pub fn matches(&self, killmail: &Killmail) -> bool {
        if let Some(min) = self.min_value {
            match killmail.total_value() {
                Some(v) if v >= min => {}
                _ => return false,
            }
        }
        if self.system_ids.is_empty() && self.character_ids.is_empty() {
            return true;
        }
        killmail
            .system_id
            .is_some_and(|s| self.system_ids.contains(&s))
            || killmail
                .character_ids()
                .any(|c| self.character_ids.contains(&c))
    }
}

/// The filters echoed in the enhanced stream's `connected` event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct EchoedFilters {
    /// As parsed (may include 0 or negatives, which the server accepts).
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<SystemId>>"))]
    pub system_ids: Vec<SystemId>,
    /// As parsed.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<CharacterId>>"))]
    pub character_ids: Vec<CharacterId>,
    /// As parsed, e.g. `1.0e8`.
    #[serde(default)]
    pub min_value: Option<f64>,
    /// As parsed (capped at 90).
    #[serde(default)]
    pub preload_days: i64,
}

/// `connected`: the first event of the enhanced stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Connected {
    /// `"connected"`.
    pub status: String,
    /// The filters the server parsed.
    #[serde(default)]
    pub filters: EchoedFilters,
    /// Server time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl Connected {
    /// A `connected` event for these filters.
    #[must_use]
    pub fn new(filters: EchoedFilters, timestamp: Option<Timestamp>) -> Self {
        Self {
            status: "connected".to_owned(),
            filters,
            timestamp,
        }
    }
}

impl EchoedFilters {
    /// The echo of a filter as the server would parse it.
    #[must_use]
    pub fn from_filter(filter: &SseFilter) -> Self {
        Self {
            system_ids: filter.system_ids.clone(),
            character_ids: filter.character_ids.clone(),
            min_value: filter.min_value,
            preload_days: i64::from(filter.preload_days.unwrap_or(0).min(90)),
        }
    }
}

/// `batch`: a page of history (stored form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Batch {
    /// The kills of this batch.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Killmail>>"))]
    pub kills: Vec<Killmail>,
    /// `kills.len()`.
    #[serde(default)]
    pub count: i64,
    /// 1-based.
    pub batch_number: i64,
    /// How many batches the history has.
    pub total_batches: i64,
}

impl Batch {
    /// A batch.
    #[must_use]
    pub fn new(kills: Vec<Killmail>, batch_number: i64, total_batches: i64) -> Self {
        Self {
            count: i64::try_from(kills.len()).unwrap_or(i64::MAX),
            kills,
            batch_number,
            total_batches,
        }
    }
}

/// `transition`: history is done, live kills follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Transition {
    /// `"historical_complete"`.
    pub status: String,
    /// Kills sent in the historical phase.
    #[serde(default)]
    pub total_historical: i64,
    /// Server time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl Transition {
    /// A transition after `total_historical` kills.
    #[must_use]
    pub fn new(total_historical: i64, timestamp: Option<Timestamp>) -> Self {
        Self {
            status: "historical_complete".to_owned(),
            total_historical,
            timestamp,
        }
    }
}

string_enum! {
    /// `mode` of a heartbeat.
    pub enum HeartbeatMode {
        /// Live phase (always, in practice).
        Realtime = "realtime",
        /// Historical phase.
        Historical = "historical",
    }
}

/// `heartbeat`, every 30 s in the designed protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Heartbeat {
    /// Server time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
    /// `realtime` or `historical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<HeartbeatMode>,
}

impl Heartbeat {
    /// A heartbeat.
    #[must_use]
    pub fn new(timestamp: Option<Timestamp>, mode: HeartbeatMode) -> Self {
        Self {
            timestamp,
            mode: Some(mode),
        }
    }
}

/// `error`: exists in the server's formatter, never emitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StreamError {
    /// The error type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// Server time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

/// One event of the enhanced stream.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EnhancedEvent {
    /// `connected`.
    Connected(Connected),
    /// `batch`.
    Batch(Batch),
    /// `transition`.
    Transition(Transition),
    /// `killmail`: one canonical killmail.
    Killmail(Box<Killmail>),
    /// `heartbeat`.
    Heartbeat(Heartbeat),
    /// `error`.
    Error(StreamError),
    /// An event name this SDK does not know, passed through.
    Unknown {
        /// The `event:` name.
        event: String,
        /// The `data:` text.
        data: String,
    },
}

impl EnhancedEvent {
    /// Decodes an event from its `event:` name and `data:` text.
    ///
    /// # Errors
    /// A [`DecodeError`] when a known event's data does not fit its type.
    pub fn decode(event: &str, data: &str) -> Result<Self, DecodeError> {
        Ok(match event {
            "connected" => Self::Connected(decode::from_str(data)?),
            "batch" => Self::Batch(decode::from_str(data)?),
            "transition" => Self::Transition(decode::from_str(data)?),
            "killmail" => Self::Killmail(Box::new(decode::killmail(data)?)),
            "heartbeat" => Self::Heartbeat(decode::from_str(data)?),
            "error" => Self::Error(decode::from_str(data)?),
            other => Self::Unknown {
                event: other.to_owned(),
                data: data.to_owned(),
            },
        })
    }

    /// The `event:` name this event travels under.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Connected(_) => "connected",
            Self::Batch(_) => "batch",
            Self::Transition(_) => "transition",
            Self::Killmail(_) => "killmail",
            Self::Heartbeat(_) => "heartbeat",
            Self::Error(_) => "error",
            Self::Unknown { event, .. } => event,
        }
    }

    /// The `data:` text for this event (one line of JSON).
    ///
    /// # Errors
    /// Only if a payload's `Serialize` fails, which the types here never do.
    pub fn data(&self) -> Result<String, serde_json::Error> {
        match self {
            Self::Connected(e) => serde_json::to_string(e),
            Self::Batch(e) => serde_json::to_string(e),
            Self::Transition(e) => serde_json::to_string(e),
            Self::Killmail(e) => serde_json::to_string(e),
            Self::Heartbeat(e) => serde_json::to_string(e),
            Self::Error(e) => serde_json::to_string(e),
            Self::Unknown { data, .. } => Ok(data.clone()),
        }
    }
}
