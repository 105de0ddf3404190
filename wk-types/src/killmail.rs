//! The killmail object in all three server shapes (PROTOCOL.md §4): canonical, stored and reference.
//!
//! One [`Killmail`] type covers the union of the shapes. Every field except `killmail_id` is optional,
//! `null` and an absent key mean the same, and unknown keys are ignored. [`Killmail::shape`] tells which
//! shape arrived.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::de::{lenient_opt_i64, null_default};
use crate::ids::{
    AllianceId, CharacterId, CorporationId, FactionId, KillmailId, LocationId, SystemId, TypeId,
};

/// Which of the server's three killmail shapes a value came in (PROTOCOL.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KillmailShape {
    /// Enriched, nulls left out, with `attacker_count`: live pushes, SSE, a freshly fetched kill.
    Canonical,
    /// The server's cache form, with `total_value`, `involved_parties` and nested ESI objects.
    Stored,
    /// A bare zKillboard reference: `killmail_id` and `zkb` only.
    Reference,
}

/// A killmail in any of the server's shapes.
///
/// ```
/// let json = r#"{"killmail_id":131588301,"zkb":{"hash":"4b1e","totalValue":1.0e4,"npc":false}}"#;
/// let km: wk_types::Killmail = serde_json::from_str(json)?;
/// assert_eq!(km.shape(), wk_types::KillmailShape::Reference);
/// assert_eq!(km.total_value(), Some(10_000.0));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Killmail {
    /// The EVE killmail id; present in every shape.
    pub killmail_id: KillmailId,
    /// When the kill happened (ESI's `killmail_time`). Absent in the reference shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub kill_time: Option<Timestamp>,
    /// The solar system. Absent in the reference shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    /// The victim. Absent in the reference shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim: Option<Victim>,
    /// The attackers in ESI order; empty in the reference shape.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Attacker>>"))]
    pub attackers: Vec<Attacker>,
    /// zKillboard metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zkb: Option<Zkb>,
    /// Canonical only: the number of attackers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker_count: Option<i64>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solar_system_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moon_id: Option<i64>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub war_id: Option<i64>,
    /// Stored only: a copy of `zkb.totalValue`, or `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_value: Option<f64>,
    /// Stored only: a copy of `zkb.npc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npc: Option<bool>,
    /// Stored only: the sum of the attackers' `damage_done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_damage: Option<i64>,
    /// Stored only: attackers + 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involved_parties: Option<i64>,
    /// Stored only: a copy of the attacker with `final_blow: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_blow_attacker: Option<Box<Attacker>>,
}

impl Killmail {
    killmail_accessors!(Attacker);
}

/// A position in solar-system coordinates, in metres.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Position {
    /// X coordinate.
    pub x: f64,
    /// Y coordinate.
    pub y: f64,
    /// Z coordinate.
    pub z: f64,
}

/// The victim of a kill (canonical ∪ stored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Victim {
    /// Absent when the victim had no pilot (structures, deployables, some NPC losses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_id: Option<CharacterId>,
    /// The victim's corporation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_id: Option<CorporationId>,
    /// The victim's alliance, when in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_id: Option<AllianceId>,
    /// Stored only: the victim's faction (ESI passthrough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faction_id: Option<FactionId>,
    /// The ship that was lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_type_id: Option<TypeId>,
    /// Damage taken (0 when unknown).
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<i64>"))]
    pub damage_taken: i64,
    /// Where the kill happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// The character's name, when the lookup succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_name: Option<String>,
    /// The ship type's name, when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_ticker: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_ticker: Option<String>,
    /// Stored only: the fitting and cargo (ESI passthrough).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Item>>"))]
    pub items: Vec<Item>,
    /// Stored only: the ESI character record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<Box<CharacterInfo>>,
    /// Stored only: the ESI corporation record (the only place corporation names appear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation: Option<Box<CorporationInfo>>,
    /// Stored only: the ESI alliance record (the only place alliance names appear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<Box<AllianceInfo>>,
}

/// One attacker on a kill (canonical ∪ stored). A degraded entry may carry no ids at all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Attacker {
    /// The attacking character (NPCs and structures have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_id: Option<CharacterId>,
    /// The attacker's corporation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_id: Option<CorporationId>,
    /// The attacker's alliance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_id: Option<AllianceId>,
    /// Stored only: the attacker's faction (ESI passthrough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faction_id: Option<FactionId>,
    /// The attacker's ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_type_id: Option<TypeId>,
    /// The weapon used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weapon_type_id: Option<TypeId>,
    /// Damage dealt.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<i64>"))]
    pub damage_done: i64,
    /// Whether this attacker landed the final blow.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<bool>"))]
    pub final_blow: bool,
    /// Security status (0.0 when unknown).
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
    pub security_status: f64,
    /// The character's name, when the lookup succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_name: Option<String>,
    /// The ship type's name, when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_ticker: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_name: Option<String>,
    /// Declared by the server but never filled in today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_ticker: Option<String>,
    /// Stored only: the ESI character record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<Box<CharacterInfo>>,
    /// Stored only: the ESI corporation record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation: Option<Box<CorporationInfo>>,
    /// Stored only: the ESI alliance record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<Box<AllianceInfo>>,
}

/// zKillboard metadata. The keys are camelCase on the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Zkb {
    /// The 40-hex-character hash needed to fetch the ESI killmail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The nearest celestial or location.
    #[serde(
        rename = "locationID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub location_id: Option<LocationId>,
    /// Value of the fitting, in ISK.
    #[serde(
        rename = "fittedValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fitted_value: Option<f64>,
    /// Value of what dropped, in ISK.
    #[serde(
        rename = "droppedValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dropped_value: Option<f64>,
    /// Value of what was destroyed, in ISK.
    #[serde(
        rename = "destroyedValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub destroyed_value: Option<f64>,
    /// Total value of the kill, in ISK.
    #[serde(
        rename = "totalValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total_value: Option<f64>,
    /// zKillboard points.
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub points: Option<i64>,
    /// An NPC kill.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<bool>"))]
    pub npc: bool,
    /// A solo kill.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<bool>"))]
    pub solo: bool,
    /// An awox (friendly-fire) kill.
    #[serde(default, deserialize_with = "null_default")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<bool>"))]
    pub awox: bool,
    /// zKillboard labels such as `"cat:6"`, `"solo"`, `"loc:lowsec"`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub labels: Vec<String>,
}

/// An ESI fitting or cargo entry (stored form only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Item {
    /// The item's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_type_id: Option<TypeId>,
    /// ESI's inventory flag (slot or bay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<i64>,
    /// ESI's singleton marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singleton: Option<i64>,
    /// How many were destroyed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_destroyed: Option<i64>,
    /// How many dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_dropped: Option<i64>,
    /// Items inside this one (containers).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Item>>"))]
    pub items: Vec<Item>,
}

/// The ESI character record nested in the stored form. Every value may be `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CharacterInfo {
    /// The character.
    #[serde(default)]
    pub character_id: Option<CharacterId>,
    /// The character's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The character's corporation.
    #[serde(default)]
    pub corporation_id: Option<CorporationId>,
    /// The character's alliance.
    #[serde(default)]
    pub alliance_id: Option<AllianceId>,
    /// Creation date, as ESI gives it.
    #[serde(default)]
    pub birthday: Option<String>,
    /// As ESI gives it.
    #[serde(default)]
    pub gender: Option<String>,
    /// ESI race id.
    #[serde(default)]
    pub race_id: Option<i64>,
    /// ESI bloodline id.
    #[serde(default)]
    pub bloodline_id: Option<i64>,
    /// ESI ancestry id.
    #[serde(default)]
    pub ancestry_id: Option<i64>,
    /// Security status.
    #[serde(default)]
    pub security_status: Option<f64>,
}

/// The ESI corporation record nested in the stored form. Every value may be `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CorporationInfo {
    /// The corporation.
    #[serde(default)]
    pub corporation_id: Option<CorporationId>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// Its alliance.
    #[serde(default)]
    pub alliance_id: Option<AllianceId>,
    /// Its CEO.
    #[serde(default)]
    pub ceo_id: Option<CharacterId>,
    /// Its creator.
    #[serde(default)]
    pub creator_id: Option<CharacterId>,
    /// Founding date, as ESI gives it.
    #[serde(default)]
    pub date_founded: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Its faction.
    #[serde(default)]
    pub faction_id: Option<FactionId>,
    /// Its home station.
    #[serde(default)]
    pub home_station_id: Option<LocationId>,
    /// Member count.
    #[serde(default)]
    pub member_count: Option<i64>,
    /// Share count.
    #[serde(default)]
    pub shares: Option<i64>,
    /// Tax rate, 0.0..=1.0.
    #[serde(default)]
    pub tax_rate: Option<f64>,
    /// Website.
    #[serde(default)]
    pub url: Option<String>,
    /// Whether it can be war-decced.
    #[serde(default)]
    pub war_eligible: Option<bool>,
}

/// The ESI alliance record nested in the stored form. Every value may be `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct AllianceInfo {
    /// The alliance.
    #[serde(default)]
    pub alliance_id: Option<AllianceId>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// The corporation that created it.
    #[serde(default)]
    pub creator_corporation_id: Option<CorporationId>,
    /// The character that created it.
    #[serde(default)]
    pub creator_id: Option<CharacterId>,
    /// Founding date, as ESI gives it.
    #[serde(default)]
    pub date_founded: Option<String>,
    /// Its executor corporation.
    #[serde(default)]
    pub executor_corporation_id: Option<CorporationId>,
    /// Its faction.
    #[serde(default)]
    pub faction_id: Option<FactionId>,
}
