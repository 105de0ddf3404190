//! A zero-copy view of a killmail: the same fields as [`Killmail`], with every string borrowed from
//! the input it was decoded from.
//!
//! Decoding a [`Killmail`] copies each name, hash and label into its own `String`. A program that
//! reads a killmail once and lets it go (a filter, a relay, a counter) pays for copies it never
//! keeps. [`KillmailRef`] decodes the same JSON, with the same rules, but its strings are
//! [`Cow`]s that point into the input; only a string with escape sequences in it is unescaped
//! into a copy. [`KillmailRef::into_owned`] gives the [`Killmail`] when one is needed after all.

use std::borrow::Cow;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::de::{lenient_opt_i64, null_default, opt_text, text_list};
use crate::ids::{
    AllianceId, CharacterId, CorporationId, FactionId, KillmailId, LocationId, SystemId, TypeId,
};
use crate::killmail::{
    AllianceInfo, Attacker, CharacterInfo, CorporationInfo, Item, Killmail, Position, Victim, Zkb,
};

/// A killmail in any of the server's shapes, its strings borrowed from the input.
///
/// The fields mean what the [`Killmail`] fields of the same names mean. The stored form's ESI
/// records and items, rare outside the server's cache, are decoded into their owned types.
///
/// [`decode::killmail_ref`](crate::decode::killmail_ref) is the fast way to read one: the same
/// result as `decode::from_str`, used below, in a fraction of the time.
///
/// ```
/// use std::borrow::Cow;
/// use wk_types::{decode, KillmailRef};
///
/// let json = r#"{"killmail_id":1,"system_id":30000142,
///                "victim":{"character_id":95465499,"ship_name":"Rifter"},
///                "attackers":[{"character_id":90000001,"character_name":"A \"quoted\" name"}]}"#;
/// let km: KillmailRef<'_> = decode::from_str(json)?;
/// let victim = km.victim.as_ref().unwrap();
/// // Borrowed from `json`: no copy was made.
/// assert!(matches!(victim.ship_name, Some(Cow::Borrowed("Rifter"))));
/// // Escapes are resolved, so that string is a copy.
/// assert_eq!(km.attackers[0].character_name.as_deref(), Some(r#"A "quoted" name"#));
/// assert_eq!(km.into_owned(), decode::from_str::<wk_types::Killmail>(json)?);
/// # Ok::<(), wk_types::DecodeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KillmailRef<'a> {
    /// See [`Killmail::killmail_id`].
    pub killmail_id: KillmailId,
    /// See [`Killmail::kill_time`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_time: Option<Timestamp>,
    /// See [`Killmail::system_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    /// See [`Killmail::victim`].
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub victim: Option<VictimRef<'a>>,
    /// See [`Killmail::attackers`].
    #[serde(
        borrow,
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attackers: Vec<AttackerRef<'a>>,
    /// See [`Killmail::zkb`].
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub zkb: Option<ZkbRef<'a>>,
    /// See [`Killmail::attacker_count`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker_count: Option<i64>,
    /// See [`Killmail::solar_system_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub solar_system_name: Option<Cow<'a, str>>,
    /// See [`Killmail::moon_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moon_id: Option<i64>,
    /// See [`Killmail::war_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub war_id: Option<i64>,
    /// See [`Killmail::total_value`](field@Killmail::total_value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_value: Option<f64>,
    /// See [`Killmail::npc`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npc: Option<bool>,
    /// See [`Killmail::total_damage`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_damage: Option<i64>,
    /// See [`Killmail::involved_parties`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involved_parties: Option<i64>,
    /// See [`Killmail::final_blow_attacker`].
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub final_blow_attacker: Option<Box<AttackerRef<'a>>>,
}

impl KillmailRef<'_> {
    killmail_accessors!(AttackerRef<'_>);

    /// Copies every borrowed string, giving the owned [`Killmail`] with the same content.
    #[must_use]
    pub fn into_owned(self) -> Killmail {
        let Self {
            killmail_id,
            kill_time,
            system_id,
            victim,
            attackers,
            zkb,
            attacker_count,
            solar_system_name,
            moon_id,
            war_id,
            total_value,
            npc,
            total_damage,
            involved_parties,
            final_blow_attacker,
        } = self;
        Killmail {
            killmail_id,
            kill_time,
            system_id,
            victim: victim.map(VictimRef::into_owned),
            attackers: attackers.into_iter().map(AttackerRef::into_owned).collect(),
            zkb: zkb.map(ZkbRef::into_owned),
            attacker_count,
            solar_system_name: owned(solar_system_name),
            moon_id,
            war_id,
            total_value,
            npc,
            total_damage,
            involved_parties,
            final_blow_attacker: final_blow_attacker.map(|a| Box::new(AttackerRef::into_owned(*a))),
        }
    }
}

impl From<KillmailRef<'_>> for Killmail {
    fn from(view: KillmailRef<'_>) -> Self {
        view.into_owned()
    }
}

/// The victim of a kill, its strings borrowed; see [`Victim`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VictimRef<'a> {
    /// See [`Victim::character_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_id: Option<CharacterId>,
    /// See [`Victim::corporation_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_id: Option<CorporationId>,
    /// See [`Victim::alliance_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_id: Option<AllianceId>,
    /// See [`Victim::faction_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faction_id: Option<FactionId>,
    /// See [`Victim::ship_type_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_type_id: Option<TypeId>,
    /// See [`Victim::damage_taken`].
    #[serde(default, deserialize_with = "null_default")]
    pub damage_taken: i64,
    /// See [`Victim::position`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// See [`Victim::character_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub character_name: Option<Cow<'a, str>>,
    /// See [`Victim::ship_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_name: Option<Cow<'a, str>>,
    /// See [`Victim::corporation_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub corporation_name: Option<Cow<'a, str>>,
    /// See [`Victim::corporation_ticker`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub corporation_ticker: Option<Cow<'a, str>>,
    /// See [`Victim::alliance_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub alliance_name: Option<Cow<'a, str>>,
    /// See [`Victim::alliance_ticker`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub alliance_ticker: Option<Cow<'a, str>>,
    /// See [`Victim::items`].
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub items: Vec<Item>,
    /// See [`Victim::character`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<Box<CharacterInfo>>,
    /// See [`Victim::corporation`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation: Option<Box<CorporationInfo>>,
    /// See [`Victim::alliance`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<Box<AllianceInfo>>,
}

impl VictimRef<'_> {
    /// Copies every borrowed string, giving the owned [`Victim`].
    #[must_use]
    pub fn into_owned(self) -> Victim {
        let Self {
            character_id,
            corporation_id,
            alliance_id,
            faction_id,
            ship_type_id,
            damage_taken,
            position,
            character_name,
            ship_name,
            corporation_name,
            corporation_ticker,
            alliance_name,
            alliance_ticker,
            items,
            character,
            corporation,
            alliance,
        } = self;
        Victim {
            character_id,
            corporation_id,
            alliance_id,
            faction_id,
            ship_type_id,
            damage_taken,
            position,
            character_name: owned(character_name),
            ship_name: owned(ship_name),
            corporation_name: owned(corporation_name),
            corporation_ticker: owned(corporation_ticker),
            alliance_name: owned(alliance_name),
            alliance_ticker: owned(alliance_ticker),
            items,
            character,
            corporation,
            alliance,
        }
    }
}

/// One attacker on a kill, its strings borrowed; see [`Attacker`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttackerRef<'a> {
    /// See [`Attacker::character_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_id: Option<CharacterId>,
    /// See [`Attacker::corporation_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation_id: Option<CorporationId>,
    /// See [`Attacker::alliance_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_id: Option<AllianceId>,
    /// See [`Attacker::faction_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faction_id: Option<FactionId>,
    /// See [`Attacker::ship_type_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_type_id: Option<TypeId>,
    /// See [`Attacker::weapon_type_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weapon_type_id: Option<TypeId>,
    /// See [`Attacker::damage_done`].
    #[serde(default, deserialize_with = "null_default")]
    pub damage_done: i64,
    /// See [`Attacker::final_blow`].
    #[serde(default, deserialize_with = "null_default")]
    pub final_blow: bool,
    /// See [`Attacker::security_status`].
    #[serde(default, deserialize_with = "null_default")]
    pub security_status: f64,
    /// See [`Attacker::character_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub character_name: Option<Cow<'a, str>>,
    /// See [`Attacker::ship_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_name: Option<Cow<'a, str>>,
    /// See [`Attacker::corporation_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub corporation_name: Option<Cow<'a, str>>,
    /// See [`Attacker::corporation_ticker`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub corporation_ticker: Option<Cow<'a, str>>,
    /// See [`Attacker::alliance_name`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub alliance_name: Option<Cow<'a, str>>,
    /// See [`Attacker::alliance_ticker`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub alliance_ticker: Option<Cow<'a, str>>,
    /// See [`Attacker::character`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<Box<CharacterInfo>>,
    /// See [`Attacker::corporation`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporation: Option<Box<CorporationInfo>>,
    /// See [`Attacker::alliance`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<Box<AllianceInfo>>,
}

impl AttackerRef<'_> {
    /// Copies every borrowed string, giving the owned [`Attacker`].
    #[must_use]
    pub fn into_owned(self) -> Attacker {
        let Self {
            character_id,
            corporation_id,
            alliance_id,
            faction_id,
            ship_type_id,
            weapon_type_id,
            damage_done,
            final_blow,
            security_status,
            character_name,
            ship_name,
            corporation_name,
            corporation_ticker,
            alliance_name,
            alliance_ticker,
            character,
            corporation,
            alliance,
        } = self;
        Attacker {
            character_id,
            corporation_id,
            alliance_id,
            faction_id,
            ship_type_id,
            weapon_type_id,
            damage_done,
            final_blow,
            security_status,
            character_name: owned(character_name),
            ship_name: owned(ship_name),
            corporation_name: owned(corporation_name),
            corporation_ticker: owned(corporation_ticker),
            alliance_name: owned(alliance_name),
            alliance_ticker: owned(alliance_ticker),
            character,
            corporation,
            alliance,
        }
    }
}

/// zKillboard metadata, its strings borrowed; see [`Zkb`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ZkbRef<'a> {
    /// See [`Zkb::hash`].
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub hash: Option<Cow<'a, str>>,
    /// See [`Zkb::location_id`].
    #[serde(
        rename = "locationID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub location_id: Option<LocationId>,
    /// See [`Zkb::fitted_value`].
    #[serde(
        rename = "fittedValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fitted_value: Option<f64>,
    /// See [`Zkb::dropped_value`].
    #[serde(
        rename = "droppedValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dropped_value: Option<f64>,
    /// See [`Zkb::destroyed_value`].
    #[serde(
        rename = "destroyedValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub destroyed_value: Option<f64>,
    /// See [`Zkb::total_value`].
    #[serde(
        rename = "totalValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total_value: Option<f64>,
    /// See [`Zkb::points`].
    #[serde(
        default,
        deserialize_with = "lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub points: Option<i64>,
    /// See [`Zkb::npc`].
    #[serde(default, deserialize_with = "null_default")]
    pub npc: bool,
    /// See [`Zkb::solo`].
    #[serde(default, deserialize_with = "null_default")]
    pub solo: bool,
    /// See [`Zkb::awox`].
    #[serde(default, deserialize_with = "null_default")]
    pub awox: bool,
    /// See [`Zkb::labels`].
    #[serde(
        borrow,
        default,
        deserialize_with = "text_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<Cow<'a, str>>,
}

impl ZkbRef<'_> {
    /// Copies every borrowed string, giving the owned [`Zkb`].
    #[must_use]
    pub fn into_owned(self) -> Zkb {
        let Self {
            hash,
            location_id,
            fitted_value,
            dropped_value,
            destroyed_value,
            total_value,
            points,
            npc,
            solo,
            awox,
            labels,
        } = self;
        Zkb {
            hash: owned(hash),
            location_id,
            fitted_value,
            dropped_value,
            destroyed_value,
            total_value,
            points,
            npc,
            solo,
            awox,
            labels: labels.into_iter().map(Cow::into_owned).collect(),
        }
    }
}

fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}
