//! Webhook delivery bodies (PROTOCOL.md §9.3) and their pure [`parse`].
//!
//! The real server never delivers webhooks at the commit described; these are the bodies its dormant
//! sender would POST, and what the designed protocol delivers.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::de::null_default;
use crate::decode;
use crate::error::DecodeError;
use crate::ids::SystemId;
use crate::killmail::Killmail;

/// A webhook POST body, tagged by its `type`.
///
/// ```
/// let body = br#"{"type":"killmail_count_update","system_id":30000142,"count":1,"timestamp":"2025-12-03T14:25:02.417735Z"}"#;
/// let parsed = wk_types::webhook::parse(body)?;
/// assert!(matches!(parsed, wk_types::webhook::WebhookBody::KillmailCountUpdate(_)));
/// # Ok::<(), wk_types::DecodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum WebhookBody {
    /// `{"type":"killmail_update","system_id","kills","timestamp"}`.
    KillmailUpdate(WebhookKills),
    /// `{"type":"killmail_count_update","system_id","count","timestamp"}`.
    KillmailCountUpdate(WebhookCount),
}

/// The fields of a `killmail_update` webhook body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct WebhookKills {
    /// The system.
    pub system_id: SystemId,
    /// The kills (stored form from the preload path).
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Killmail>>"))]
    pub kills: Vec<Killmail>,
    /// Server time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl WebhookKills {
    /// A kills body.
    #[must_use]
    pub fn new(system_id: SystemId, kills: Vec<Killmail>, timestamp: Option<Timestamp>) -> Self {
        Self {
            system_id,
            kills,
            timestamp,
        }
    }
}

/// The fields of a `killmail_count_update` webhook body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct WebhookCount {
    /// The system.
    pub system_id: SystemId,
    /// The count (a delta of 1 per kill on the server's internal bus).
    pub count: i64,
    /// Server time.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

impl WebhookCount {
    /// A count body.
    #[must_use]
    pub fn new(system_id: SystemId, count: i64, timestamp: Option<Timestamp>) -> Self {
        Self {
            system_id,
            count,
            timestamp,
        }
    }
}

/// Parses a webhook POST body.
///
/// # Errors
/// A [`DecodeError`] for a body that is not JSON, lacks a known `type`, or has a bad field.
pub fn parse(body: &[u8]) -> Result<WebhookBody, DecodeError> {
    decode::from_slice(body)
}
