//! Typed identifiers: EVE ids as `Copy` integer newtypes and the server's string subscription id.

use serde::{Deserialize, Serialize};

id_type! {
    /// An EVE killmail id.
    KillmailId;
    /// A solar system id (for example `30000142`, Jita). The server accepts 1..=50,000,000.
    SystemId;
    /// A character id. The WebSocket accepts 90,000,000..=3,000,000,000 (player characters).
    CharacterId;
    /// A corporation id (NPC corporations are below 2,000,000).
    CorporationId;
    /// An alliance id.
    AllianceId;
    /// A faction id (for example `500010`).
    FactionId;
    /// An inventory type id: a ship, module or other item type.
    TypeId;
    /// A location id: the nearest celestial, a station or a structure.
    LocationId;
}

/// A server-side subscription id: 16 random bytes in unpadded base64url, 22 characters.
///
/// Webhook subscriptions and WebSocket joins both get one (PROTOCOL.md §2.3). There is no `sub_` prefix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubscriptionId(String);

impl SubscriptionId {
    /// The length of every id the server generates.
    pub const LEN: usize = 22;

    /// Wraps an id string as received.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the id has the server's format: 22 characters of `[A-Za-z0-9_-]`.
    #[must_use]
    pub fn is_well_formed(&self) -> bool {
        self.0.len() == Self::LEN
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

impl std::fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for SubscriptionId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for SubscriptionId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent_integers() {
        let id: SystemId = serde_json::from_str("30000142").unwrap();
        assert_eq!(id.get(), 30_000_142);
        assert_eq!(serde_json::to_string(&id).unwrap(), "30000142");
        assert_eq!(
            "  95465499 ".parse::<CharacterId>().unwrap().get(),
            95_465_499
        );
        assert_eq!(KillmailId::from(7).to_string(), "7");
    }

    #[test]
    fn ids_above_i32_range_fit() {
        let id: CharacterId = serde_json::from_str("2119283745").unwrap();
        assert_eq!(i64::from(id), 2_119_283_745);
    }

    #[test]
    fn subscription_id_format() {
        assert!(SubscriptionId::from("q3VxN2dLr8pKzT0aWm5bYg").is_well_formed());
        assert!(!SubscriptionId::from("sub_123456").is_well_formed());
    }
}
