//! HTTP request bodies and response envelopes (PROTOCOL.md §5, §6 and the stable fields of §10).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::de::null_default;
use crate::ids::{CharacterId, SubscriptionId, SystemId};
use crate::killmail::Killmail;

mod status;

pub use status::{ServiceStatus, StatusKeys, StatusMetrics, StatusProcessing, StatusSummary};

/// The success envelope: `{"data": …, "timestamp": …}` on kills endpoints, `{"data": …}` on
/// subscription endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Envelope<T> {
    /// The payload.
    pub data: T,
    /// When the server answered; absent on subscription endpoints.
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
}

impl<T> Envelope<T> {
    /// Wraps a payload.
    pub fn new(data: T, timestamp: Option<Timestamp>) -> Self {
        Self { data, timestamp }
    }
}

/// `data` of `GET /kills/system/{id}` (zKillboard references) and `GET /kills/cached/{id}` (stored form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct KillList {
    /// The kills; may be empty.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Killmail>>"))]
    pub kills: Vec<Killmail>,
    /// When the server built the list.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
    /// `false` for `/kills/system`, `true` for `/kills/cached`.
    #[serde(default, deserialize_with = "null_default")]
    pub cached: bool,
}

impl KillList {
    /// A list of kills with its timestamp.
    #[must_use]
    pub fn new(kills: Vec<Killmail>, timestamp: Option<Timestamp>, cached: bool) -> Self {
        Self {
            kills,
            timestamp,
            cached,
        }
    }
}

/// Body of `POST /kills/systems`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct BulkSystemsRequest {
    /// Required and non-empty; every element an integer.
    pub system_ids: Vec<SystemId>,
    /// Validated and ignored by the server (PROTOCOL.md §6.3); default 24.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_hours: Option<u32>,
    /// Per system, 1..=1000; default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl BulkSystemsRequest {
    /// A request for `system_ids` with the server's defaults.
    #[must_use]
    pub fn new(system_ids: Vec<SystemId>) -> Self {
        Self {
            system_ids,
            since_hours: None,
            limit: None,
        }
    }
}

/// `data` of `POST /kills/systems`: zKillboard references per system id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct BulkSystemsKills {
    /// Keyed by system id (decimal strings on the wire). A failed system maps to `[]`.
    #[serde(default)]
    pub systems_kills: BTreeMap<SystemId, Vec<Killmail>>,
    /// When the server built the answer.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl BulkSystemsKills {
    /// A bulk answer.
    #[must_use]
    pub fn new(
        systems_kills: BTreeMap<SystemId, Vec<Killmail>>,
        timestamp: Option<Timestamp>,
    ) -> Self {
        Self {
            systems_kills,
            timestamp,
        }
    }
}

/// `data` of `GET /killmail/{id}`: a killmail in some shape, or the string `"kill_older"`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum KillmailLookup {
    /// The killmail, in stored, canonical or reference shape (see [`Killmail::shape`]).
    Found(Box<Killmail>),
    /// The kill is more than 365 days old; the server sends the string `"kill_older"`.
    KillOlder,
    /// Some other string in place of a killmail, kept as sent.
    Unavailable(String),
}

impl KillmailLookup {
    /// The killmail, if one was returned.
    #[must_use]
    pub fn killmail(&self) -> Option<&Killmail> {
        match self {
            Self::Found(k) => Some(k),
            _ => None,
        }
    }

    /// The killmail, if one was returned, by value.
    #[must_use]
    pub fn into_killmail(self) -> Option<Killmail> {
        match self {
            Self::Found(k) => Some(*k),
            _ => None,
        }
    }
}

impl Serialize for KillmailLookup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Found(k) => k.serialize(serializer),
            Self::KillOlder => serializer.serialize_str("kill_older"),
            Self::Unavailable(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for KillmailLookup {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KillmailLookup;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a killmail object or a string such as \"kill_older\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(if v == "kill_older" {
                    KillmailLookup::KillOlder
                } else {
                    KillmailLookup::Unavailable(v.to_owned())
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let de = serde::de::value::MapAccessDeserializer::new(map);
                Ok(KillmailLookup::Found(Box::new(Killmail::deserialize(de)?)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for KillmailLookup {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KillmailLookup".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let killmail = generator.subschema_for::<Killmail>();
        schemars::json_schema!({
            "description": "A killmail in stored, canonical or reference shape, or the string \"kill_older\".",
            "anyOf": [killmail, { "type": "string", "examples": ["kill_older"] }]
        })
    }
}

/// `data` of `GET /kills/count/{id}`. `count` is always 0 on the real server (PROTOCOL.md §6.6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct KillCount {
    /// The system asked about.
    pub system_id: SystemId,
    /// The count (always 0 at the server commit described).
    pub count: i64,
    /// When the server answered.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl KillCount {
    /// A count answer.
    #[must_use]
    pub fn new(system_id: SystemId, count: i64, timestamp: Option<Timestamp>) -> Self {
        Self {
            system_id,
            count,
            timestamp,
        }
    }
}

/// Body of `POST /subscriptions` (PROTOCOL.md §6.7).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CreateSubscription {
    /// Who the subscription belongs to; required and non-empty.
    pub subscriber_id: String,
    /// An `http` or `https` URL with a host; required.
    pub callback_url: String,
    /// At most 100 positive ids.
    #[serde(default, deserialize_with = "null_default")]
    pub system_ids: Vec<SystemId>,
    /// At most 1000 positive ids.
    #[serde(default, deserialize_with = "null_default")]
    pub character_ids: Vec<CharacterId>,
}

impl CreateSubscription {
    /// A subscription request with no ids yet; add systems or characters before sending.
    #[must_use]
    pub fn new(subscriber_id: impl Into<String>, callback_url: impl Into<String>) -> Self {
        Self {
            subscriber_id: subscriber_id.into(),
            callback_url: callback_url.into(),
            system_ids: Vec::new(),
            character_ids: Vec::new(),
        }
    }

    /// Sets the systems to follow.
    #[must_use]
    pub fn systems(mut self, ids: impl IntoIterator<Item = SystemId>) -> Self {
        self.system_ids = ids.into_iter().collect();
        self
    }

    /// Sets the characters to follow.
    #[must_use]
    pub fn characters(mut self, ids: impl IntoIterator<Item = CharacterId>) -> Self {
        self.character_ids = ids.into_iter().collect();
        self
    }
}

/// `data` of a `201` from `POST /subscriptions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SubscriptionCreated {
    /// The new subscription's id (22 characters).
    pub subscription_id: SubscriptionId,
    /// `"Subscription created successfully"`.
    #[serde(default)]
    pub message: Option<String>,
}

impl SubscriptionCreated {
    /// A creation answer.
    #[must_use]
    pub fn new(subscription_id: SubscriptionId, message: Option<String>) -> Self {
        Self {
            subscription_id,
            message,
        }
    }
}

string_enum! {
    /// What kind of subscription a listing entry is.
    pub enum SubscriptionKind {
        /// Registered with `POST /subscriptions`.
        Webhook = "webhook",
        /// One per live WebSocket channel join.
        Websocket = "websocket",
    }
}

/// One entry of `GET /subscriptions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Subscription {
    /// The subscription id.
    pub id: SubscriptionId,
    /// The subscriber (a WebSocket entry's `user_id`).
    pub subscriber_id: String,
    /// Webhook or WebSocket.
    #[serde(rename = "type")]
    pub kind: SubscriptionKind,
    /// Systems followed.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<SystemId>>"))]
    pub system_ids: Vec<SystemId>,
    /// Characters followed.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<CharacterId>>"))]
    pub character_ids: Vec<CharacterId>,
    /// The webhook URL; `null` for WebSocket entries.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Creation time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub created_at: Option<Timestamp>,
    /// Last update time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub updated_at: Option<Timestamp>,
}

impl Subscription {
    /// A listing entry.
    #[must_use]
    pub fn new(id: SubscriptionId, subscriber_id: String, kind: SubscriptionKind) -> Self {
        Self {
            id,
            subscriber_id,
            kind,
            system_ids: Vec::new(),
            character_ids: Vec::new(),
            callback_url: None,
            created_at: None,
            updated_at: None,
        }
    }
}

/// `data` of `GET /subscriptions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SubscriptionList {
    /// The number of entries.
    #[serde(default)]
    pub count: i64,
    /// Every webhook and WebSocket subscription on the server.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Subscription>>"))]
    pub subscriptions: Vec<Subscription>,
}

impl SubscriptionList {
    /// A listing.
    #[must_use]
    pub fn new(subscriptions: Vec<Subscription>) -> Self {
        Self {
            count: i64::try_from(subscriptions.len()).unwrap_or(i64::MAX),
            subscriptions,
        }
    }
}

/// `data` of `GET /subscriptions/stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SubscriptionStats {
    /// All subscriptions.
    #[serde(default)]
    pub total_subscriptions: i64,
    /// WebSocket joins.
    #[serde(default)]
    pub websocket_subscriptions: i64,
    /// Webhooks.
    #[serde(default)]
    pub webhook_subscriptions: i64,
    /// Always 0: SSE streams are not registered.
    #[serde(default)]
    pub sse_subscriptions: i64,
    /// Distinct systems across all subscriptions.
    #[serde(default)]
    pub total_systems: i64,
    /// Distinct characters across all subscriptions.
    #[serde(default)]
    pub total_characters: i64,
    /// Bytes.
    #[serde(default)]
    pub memory_usage: i64,
}

/// `data` of `DELETE /subscriptions/{subscriber_id}` (always 200, even when nothing matched).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SubscriptionDeleted {
    /// `"Successfully unsubscribed"`.
    pub message: String,
    /// The subscriber whose subscriptions were removed.
    pub subscriber_id: String,
}

impl SubscriptionDeleted {
    /// A deletion answer.
    #[must_use]
    pub fn new(message: impl Into<String>, subscriber_id: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            subscriber_id: subscriber_id.into(),
        }
    }
}

string_enum! {
    /// `status` of `GET /health`.
    pub enum HealthStatus {
        /// Healthy.
        Ok = "ok",
        /// Partly working.
        Degraded = "degraded",
        /// Not working.
        Error = "error",
    }
}

/// `GET /health` (200 or 503, same shape). Only `healthy` and the status are stable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Health {
    /// The verdict; use this and the HTTP status only.
    pub healthy: bool,
    /// `ok`, `degraded` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<HealthStatus>,
    /// When the check ran.
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
}

impl Health {
    /// A health answer.
    #[must_use]
    pub fn new(healthy: bool, status: HealthStatus, timestamp: Option<Timestamp>) -> Self {
        Self {
            healthy,
            status: Some(status),
            timestamp,
        }
    }
}

/// `GET /websocket`: service discovery. Its `websocket_url` always says `ws://` and lacks
/// `/websocket`, and its limits are wrong (PROTOCOL.md §10.5); do not build URLs from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct WebsocketInfo {
    /// E.g. `ws://kills.example.org/socket`.
    pub websocket_url: String,
    /// `"Phoenix Channels"`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `"2.0.0"`.
    #[serde(default)]
    pub version: Option<String>,
    /// `{"killmails": "killmails:lobby"}`.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<BTreeMap<String, String>>")
    )]
    pub channels: BTreeMap<String, String>,
}

impl WebsocketInfo {
    /// A discovery answer.
    #[must_use]
    pub fn new(websocket_url: impl Into<String>) -> Self {
        Self {
            websocket_url: websocket_url.into(),
            protocol: Some("Phoenix Channels".to_owned()),
            version: Some("2.0.0".to_owned()),
            channels: BTreeMap::from([("killmails".to_owned(), "killmails:lobby".to_owned())]),
        }
    }
}

/// `GET /websocket/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct WebsocketStatus {
    /// `operational`, `degraded` or `error`.
    pub status: String,
    /// Does not actually count sockets on the real server.
    #[serde(default)]
    pub active_connections: i64,
    /// Webhook and WebSocket subscriptions.
    #[serde(default)]
    pub active_subscriptions: i64,
    /// Uptime in seconds.
    #[serde(default)]
    pub uptime_seconds: i64,
    /// When the status was gathered.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}
