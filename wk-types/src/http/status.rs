//! `GET /status` (PROTOCOL.md §10.3): the summary, the `metrics.processing` counters under either
//! server generation's key names, and every other key kept as sent.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::de::{self, MapAccess};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// `GET /status`: `{"metrics": {…}, "summary": {…}, "timestamp": …}`.
///
/// `summary` and `metrics.processing` are modelled; every other key, at the top level, in
/// `summary`, in `metrics` and in `metrics.processing`, is kept in an `extra` map and written back
/// unchanged, so decoding and serializing again gives the server's document (absent and `null`
/// values aside, and `summary`'s numbers, which are written as floats).
///
/// ```
/// use wk_types::{decode, http::ServiceStatus, http::StatusKeys};
///
/// let body = r#"{"metrics":{"processing":{"redisq_received":12,"redisq_last_killmail_ago_seconds":40}},
///                "summary":{"killmails_stored":12},"timestamp":"2025-12-03T14:25:02.417735Z"}"#;
/// let status: ServiceStatus = decode::from_str(body)?;
/// assert_eq!(status.key_set(), Some(StatusKeys::RedisQ));
/// let processing = status.processing().unwrap();
/// assert_eq!(processing.killmails_received, Some(12.0));
/// assert_eq!(processing.last_killmail_ago(), Some(std::time::Duration::from_secs(40)));
/// assert!(serde_json::to_string(&status)?.contains(r#""redisq_received":12"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ServiceStatus {
    /// The server's detailed counters; absent only from fake servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<StatusMetrics>,
    /// Headline numbers.
    pub summary: StatusSummary,
    /// When the status was gathered.
    #[serde(
        serialize_with = "crate::de::server_time",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
    /// Every other top-level key, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl ServiceStatus {
    /// A status answer without `metrics`.
    #[must_use]
    pub fn new(summary: StatusSummary, timestamp: Option<Timestamp>) -> Self {
        Self {
            metrics: None,
            summary,
            timestamp,
            extra: BTreeMap::new(),
        }
    }

    /// `metrics.processing`, if the server sent it.
    #[must_use]
    pub fn processing(&self) -> Option<&StatusProcessing> {
        self.metrics.as_ref()?.processing.as_ref()
    }

    /// Which names `metrics.processing` used for its renamed keys: the only hint of the server
    /// generation, as there is no version endpoint (PROTOCOL.md §18.3).
    ///
    /// `None` when neither set appeared (no `metrics.processing`, or one without those keys).
    #[must_use]
    pub fn key_set(&self) -> Option<StatusKeys> {
        self.processing()?.key_set
    }
}

/// The `summary` of `GET /status`. All numbers.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StatusSummary {
    /// API requests in the last minute.
    #[serde(default)]
    pub api_requests_per_minute: f64,
    /// Active subscriptions.
    #[serde(default)]
    pub active_subscriptions: f64,
    /// Despite its name, the number of kills received from zKillboard (RedisQ up to v1.5.8, R2Z2
    /// from v1.6), not the number stored; the same count as
    /// [`StatusProcessing::killmails_received`].
    #[serde(default)]
    pub killmails_stored: f64,
    /// Cache hit rate.
    #[serde(default)]
    pub cache_hit_rate: f64,
    /// Memory in MB.
    #[serde(default)]
    pub memory_usage_mb: f64,
    /// Uptime in hours.
    #[serde(default)]
    pub uptime_hours: f64,
    /// Despite its name, the seconds since the last kill was received (999999 when none was), the
    /// same value as [`StatusProcessing::last_killmail_ago_seconds`].
    #[serde(default)]
    pub processing_lag_seconds: f64,
    /// Running preload tasks.
    #[serde(default)]
    pub active_preload_tasks: f64,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The `metrics` of `GET /status`: `processing` is modelled, the other sections (`system`,
/// `websocket`, `storage`, `api`, `sse`, `parser_stats`) are large and unstable and kept as sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StatusMetrics {
    /// Ingest and parser counters; may be an empty object on fake servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<StatusProcessing>,
    /// Every other section, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Which names a `/status` `metrics.processing` object gives its two renamed keys (PROTOCOL.md
/// §18.3): the only hint of the server generation, as there is no version endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusKeys {
    /// `redisq_received` and `redisq_last_killmail_ago_seconds`: v1.5.8 and earlier, which ingest
    /// from zKillboard RedisQ.
    RedisQ,
    /// `killmails_received` and `last_killmail_ago_seconds`: v1.6.0 and later, which ingest from
    /// zKillboard R2Z2.
    R2z2,
}

impl StatusKeys {
    /// A short name: `"redisq"` or `"r2z2"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RedisQ => "redisq",
            Self::R2z2 => "r2z2",
        }
    }

    /// The server versions that use these names: `"v1.5.8 or earlier"` or `"v1.6 or later"`.
    #[must_use]
    pub fn server_versions(self) -> &'static str {
        match self {
            Self::RedisQ => "v1.5.8 or earlier",
            Self::R2z2 => "v1.6 or later",
        }
    }

    /// The key of the kills-received count.
    #[must_use]
    pub fn received_key(self) -> &'static str {
        match self {
            Self::RedisQ => "redisq_received",
            Self::R2z2 => "killmails_received",
        }
    }

    /// The key of the seconds since the last kill.
    #[must_use]
    pub fn last_killmail_key(self) -> &'static str {
        match self {
            Self::RedisQ => "redisq_last_killmail_ago_seconds",
            Self::R2z2 => "last_killmail_ago_seconds",
        }
    }
}

impl std::fmt::Display for StatusKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `metrics.processing` of `GET /status`, read under either generation's key names.
///
/// Decoding picks the key set by the renamed keys present: v1.6's if either of its names appears,
/// else v1.5.8's if either of those does (a body mixing both, which no known server sends, keeps
/// the v1.5.8 names in [`extra`](Self::extra)). Serializing writes the renamed fields under the
/// names of [`key_set`](Self::key_set), so the server's own names come back; with no key set (a
/// value built in code, or a body without those keys) they are written under the v1.6 names.
/// Whole numbers are written as integers, as the server writes these counters.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct StatusProcessing {
    /// Kills received from zKillboard since the server started: `killmails_received` (v1.6) or
    /// `redisq_received` (v1.5.8).
    pub killmails_received: Option<f64>,
    /// Seconds since the last kill was received, [`NEVER_RECEIVED`](Self::NEVER_RECEIVED) when
    /// none was: `last_killmail_ago_seconds` (v1.6) or `redisq_last_killmail_ago_seconds` (v1.5.8).
    /// [`last_killmail_ago`](Self::last_killmail_ago) reads it.
    pub last_killmail_ago_seconds: Option<f64>,
    /// `processing_lag_seconds`, where the server sends it (v1.5.8).
    pub processing_lag_seconds: Option<f64>,
    /// Which names the renamed keys had on the wire, and are written with; `None` when neither
    /// set appeared.
    pub key_set: Option<StatusKeys>,
    /// Every other key (`redisq_older`, `parser_stored`, …), as sent.
    pub extra: BTreeMap<String, Value>,
}

impl StatusProcessing {
    /// The value of `last_killmail_ago_seconds` that means no kill was ever received.
    pub const NEVER_RECEIVED: f64 = 999_999.0;

    /// The time since the last kill was received; `None` when the key is absent, when no kill was
    /// ever received (see [`never_received`](Self::never_received)) or when the value is not a
    /// valid duration.
    #[must_use]
    pub fn last_killmail_ago(&self) -> Option<Duration> {
        let seconds = self.last_killmail_ago_seconds?;
        if self.never_received() {
            return None;
        }
        Duration::try_from_secs_f64(seconds).ok()
    }

    /// `true` when the server says it has never received a kill
    /// (`last_killmail_ago_seconds` is [`NEVER_RECEIVED`](Self::NEVER_RECEIVED)).
    #[must_use]
    pub fn never_received(&self) -> bool {
        self.last_killmail_ago_seconds == Some(Self::NEVER_RECEIVED)
    }
}

impl Serialize for StatusProcessing {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let keys = self.key_set.unwrap_or(StatusKeys::R2z2);
        let modelled = [
            (keys.received_key(), self.killmails_received),
            (keys.last_killmail_key(), self.last_killmail_ago_seconds),
            ("processing_lag_seconds", self.processing_lag_seconds),
        ];
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in modelled {
            if let Some(value) = value {
                match crate::de::whole(value) {
                    Some(int) => map.serialize_entry(key, &int)?,
                    None => map.serialize_entry(key, &value)?,
                }
            }
        }
        for (key, value) in &self.extra {
            // A key also written above (possible only for values built in code) is written once.
            if !modelled.iter().any(|(k, v)| v.is_some() && k == key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for StatusProcessing {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = StatusProcessing;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a `metrics.processing` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let [
                    mut received,
                    mut ago,
                    mut old_received,
                    mut old_ago,
                    mut lag,
                ] = [None; 5];
                let mut extra = read_object(map, |key, map| {
                    let slot = match key {
                        "killmails_received" => &mut received,
                        "last_killmail_ago_seconds" => &mut ago,
                        "redisq_received" => &mut old_received,
                        "redisq_last_killmail_ago_seconds" => &mut old_ago,
                        "processing_lag_seconds" => &mut lag,
                        _ => return Ok(false),
                    };
                    *slot = map.next_value::<Option<f64>>()?;
                    Ok(true)
                })?;
                let key_set = if received.is_some() || ago.is_some() {
                    // Keep any v1.5.8 names as they came, so a round trip loses nothing.
                    let old = [
                        (StatusKeys::RedisQ.received_key(), old_received),
                        (StatusKeys::RedisQ.last_killmail_key(), old_ago),
                    ];
                    for (key, value) in old {
                        if let Some(value) = value {
                            extra.insert(key.to_owned(), number(value));
                        }
                    }
                    Some(StatusKeys::R2z2)
                } else if old_received.is_some() || old_ago.is_some() {
                    (received, ago) = (old_received, old_ago);
                    Some(StatusKeys::RedisQ)
                } else {
                    None
                };
                Ok(StatusProcessing {
                    killmails_received: received,
                    last_killmail_ago_seconds: ago,
                    processing_lag_seconds: lag,
                    key_set,
                    extra,
                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl<'de> Deserialize<'de> for StatusSummary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = StatusSummary;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a `summary` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let mut s = StatusSummary::default();
                s.extra = read_object(map, |key, map| {
                    let slot = match key {
                        "api_requests_per_minute" => &mut s.api_requests_per_minute,
                        "active_subscriptions" => &mut s.active_subscriptions,
                        "killmails_stored" => &mut s.killmails_stored,
                        "cache_hit_rate" => &mut s.cache_hit_rate,
                        "memory_usage_mb" => &mut s.memory_usage_mb,
                        "uptime_hours" => &mut s.uptime_hours,
                        "processing_lag_seconds" => &mut s.processing_lag_seconds,
                        "active_preload_tasks" => &mut s.active_preload_tasks,
                        _ => return Ok(false),
                    };
                    *slot = map.next_value()?;
                    Ok(true)
                })?;
                Ok(s)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl<'de> Deserialize<'de> for StatusMetrics {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = StatusMetrics;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a `metrics` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let mut processing = None;
                let extra = read_object(map, |key, map| {
                    if key != "processing" {
                        return Ok(false);
                    }
                    processing = map.next_value()?;
                    Ok(true)
                })?;
                Ok(StatusMetrics { processing, extra })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl<'de> Deserialize<'de> for ServiceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = ServiceStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a `/status` object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let (mut metrics, mut summary, mut timestamp) = (None, None, None);
                let extra = read_object(map, |key, map| {
                    match key {
                        "metrics" => metrics = map.next_value()?,
                        "summary" => summary = Some(map.next_value()?),
                        "timestamp" => timestamp = map.next_value()?,
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                Ok(ServiceStatus {
                    metrics,
                    summary: summary.ok_or_else(|| de::Error::missing_field("summary"))?,
                    timestamp,
                    extra,
                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Reads every entry of a JSON object: `known` reads the value of a key it models and returns
/// `true`, or returns `false` and the value is kept, by key, in the map returned. A repeated key
/// keeps its last value.
///
/// Reading the values through `map` (rather than buffering the object, as `#[serde(flatten)]`
/// does) keeps the JSON path of a bad value in [`crate::decode`]'s errors.
fn read_object<'de, A: MapAccess<'de>>(
    mut map: A,
    mut known: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<BTreeMap<String, Value>, A::Error> {
    let mut extra = BTreeMap::new();
    while let Some(key) = map.next_key::<String>()? {
        if !known(&key, &mut map)? {
            extra.insert(key, map.next_value()?);
        }
    }
    Ok(extra)
}

/// `value` as JSON, an integer when it is a whole number.
fn number(value: f64) -> Value {
    match crate::de::whole(value) {
        Some(int) => Value::from(int),
        None => Value::from(value),
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for StatusProcessing {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusProcessing".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ProcessingSchema::json_schema(generator)
    }
}

/// `metrics.processing` of `GET /status`. v1.6 renamed `redisq_received` to `killmails_received`
/// and `redisq_last_killmail_ago_seconds` to `last_killmail_ago_seconds` (PROTOCOL.md §18.3); the
/// other keys are unstable.
// The schema of `StatusProcessing`, whose serde impls are written by hand.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[expect(dead_code, reason = "only its schema is used")]
struct ProcessingSchema {
    /// Kills received from zKillboard (v1.6 and later).
    killmails_received: Option<f64>,
    /// Kills received from zKillboard RedisQ (v1.5.8 and earlier).
    redisq_received: Option<f64>,
    /// Seconds since the last kill was received, 999999 when none was (v1.6 and later).
    last_killmail_ago_seconds: Option<f64>,
    /// Seconds since the last kill was received, 999999 when none was (v1.5.8 and earlier).
    redisq_last_killmail_ago_seconds: Option<f64>,
    /// Processing lag in seconds (v1.5.8).
    processing_lag_seconds: Option<f64>,
    /// Other counters (`redisq_older`, `redisq_skipped`, `redisq_errors`, `parser_stored`, …).
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}
