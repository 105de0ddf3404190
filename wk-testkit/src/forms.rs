//! The three killmail shapes the server sends (PROTOCOL.md §4), as JSON values ready for [`crate::json`].
//!
//! [`wk_types::Killmail`] leaves out `None`s when it serializes; the stored form needs some of them as
//! explicit `null`s, and the canonical form must drop the stored-only keys. These functions do both.

use serde_json::{Map, Value};
use wk_types::{Attacker, Killmail, KillmailShape};

const VICTIM_NULLS: [&str; 5] = [
    "character_id",
    "corporation_id",
    "alliance_id",
    "ship_type_id",
    "position",
];
const ATTACKER_NULLS: [&str; 5] = [
    "character_id",
    "corporation_id",
    "alliance_id",
    "ship_type_id",
    "weapon_type_id",
];
const STORED_ONLY_TOP: [&str; 5] = [
    "total_value",
    "npc",
    "total_damage",
    "involved_parties",
    "final_blow_attacker",
];
const STORED_ONLY_PARTY: [&str; 5] = [
    "faction_id",
    "items",
    "character",
    "corporation",
    "alliance",
];

fn to_map<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn zkb_value(km: &Killmail) -> Option<Value> {
    km.zkb.as_ref().map(|z| Value::Object(to_map(z)))
}

/// The canonical form (§4.1): enriched, nulls left out, `attacker_count` set, stored-only keys gone.
#[must_use]
pub fn canonical(km: &Killmail) -> Value {
    let mut map = to_map(km);
    for key in STORED_ONLY_TOP {
        map.remove(key);
    }
    for party in ["victim"] {
        if let Some(Value::Object(v)) = map.get_mut(party) {
            for key in STORED_ONLY_PARTY {
                v.remove(key);
            }
        }
    }
    if let Some(Value::Array(attackers)) = map.get_mut("attackers") {
        for a in attackers.iter_mut() {
            if let Value::Object(a) = a {
                for key in STORED_ONLY_PARTY {
                    a.remove(key);
                }
            }
        }
    } else {
        map.insert("attackers".into(), Value::Array(Vec::new()));
    }
    let count = km.attackers.len();
    map.insert("attacker_count".into(), Value::from(count));
    Value::Object(map)
}

fn stored_attacker(a: &Attacker) -> Value {
    let mut map = to_map(a);
    for key in ATTACKER_NULLS {
        map.entry(key).or_insert(Value::Null);
    }
    Value::Object(map)
}

/// The stored (cache) form (§4.2): explicit `null`s, derived totals, `final_blow_attacker`, no
/// `attacker_count`. Nested ESI objects and items are kept when the killmail has them.
#[must_use]
pub fn stored(km: &Killmail) -> Value {
    let mut map = to_map(km);
    for key in ["attacker_count", "solar_system_name", "moon_id", "war_id"] {
        map.remove(key);
    }
    let mut victim = km.victim.as_ref().map(to_map).unwrap_or_default();
    for key in VICTIM_NULLS {
        victim.entry(key).or_insert(Value::Null);
    }
    victim.entry("damage_taken").or_insert(Value::from(0));
    map.insert("victim".into(), Value::Object(victim));
    map.insert(
        "attackers".into(),
        Value::Array(km.attackers.iter().map(stored_attacker).collect()),
    );
    let total_value = km
        .zkb
        .as_ref()
        .and_then(|z| z.total_value)
        .or(km.total_value)
        .map_or(Value::from(0), Value::from);
    map.insert("total_value".into(), total_value);
    let npc = km.zkb.as_ref().map_or(km.npc.unwrap_or(false), |z| z.npc);
    map.insert("npc".into(), Value::Bool(npc));
    let total_damage: i64 = km.attackers.iter().map(|a| a.damage_done).sum();
    map.insert("total_damage".into(), Value::from(total_damage));
    map.insert(
        "involved_parties".into(),
        Value::from(km.attackers.len() + 1),
    );
    match km.attackers.iter().find(|a| a.final_blow) {
        Some(a) => {
            map.insert("final_blow_attacker".into(), stored_attacker(a));
        }
        None => {
            map.remove("final_blow_attacker");
        }
    }
    Value::Object(map)
}

/// The zKillboard reference form (§4.3): `{killmail_id, zkb}`.
#[must_use]
pub fn reference(km: &Killmail) -> Value {
    let mut map = Map::new();
    map.insert("killmail_id".into(), Value::from(km.killmail_id.get()));
    if let Some(z) = zkb_value(km) {
        map.insert("zkb".into(), z);
    }
    Value::Object(map)
}

/// The form a killmail naturally has: reference when it has no victim/attackers/time, stored when it
/// carries stored-only keys, canonical otherwise.
#[must_use]
pub fn natural(km: &Killmail) -> Value {
    match km.shape() {
        KillmailShape::Reference => reference(km),
        KillmailShape::Stored => stored(km),
        _ => canonical(km),
    }
}
