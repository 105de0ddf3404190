//! What a different decoding design would buy, for `decode_killmail`'s findings: the canonical
//! killmail decoded into structs that borrow every string from the input (the zero-copy ceiling
//! of serde_json), and a skeleton that keeps only the ids routing and de-duplication need.
//!
//! Bench-only types: they mirror the canonical fields PROTOCOL.md §4.1 lists. Their fields are
//! decoded to be measured, not read.
#![allow(dead_code)]

use serde::Deserialize;

/// A canonical killmail with every string borrowed from the input.
#[derive(Debug, Deserialize)]
pub(crate) struct KillmailRef<'a> {
    pub killmail_id: i64,
    #[serde(borrow)]
    pub kill_time: Option<&'a str>,
    pub system_id: Option<i64>,
    #[serde(borrow)]
    pub victim: Option<VictimRef<'a>>,
    #[serde(borrow, default)]
    pub attackers: Vec<AttackerRef<'a>>,
    #[serde(borrow)]
    pub zkb: Option<ZkbRef<'a>>,
    pub attacker_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VictimRef<'a> {
    pub character_id: Option<i64>,
    pub corporation_id: Option<i64>,
    pub alliance_id: Option<i64>,
    pub faction_id: Option<i64>,
    pub ship_type_id: Option<i64>,
    #[serde(default)]
    pub damage_taken: i64,
    pub position: Option<PositionRef>,
    #[serde(borrow)]
    pub character_name: Option<&'a str>,
    #[serde(borrow)]
    pub ship_name: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PositionRef {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttackerRef<'a> {
    pub character_id: Option<i64>,
    pub corporation_id: Option<i64>,
    pub alliance_id: Option<i64>,
    pub faction_id: Option<i64>,
    pub ship_type_id: Option<i64>,
    pub weapon_type_id: Option<i64>,
    #[serde(default)]
    pub damage_done: i64,
    #[serde(default)]
    pub final_blow: bool,
    #[serde(default)]
    pub security_status: f64,
    #[serde(borrow)]
    pub character_name: Option<&'a str>,
    #[serde(borrow)]
    pub ship_name: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ZkbRef<'a> {
    #[serde(borrow)]
    pub hash: Option<&'a str>,
    #[serde(rename = "locationID")]
    pub location_id: Option<i64>,
    #[serde(rename = "totalValue")]
    pub total_value: Option<f64>,
    #[serde(rename = "fittedValue")]
    pub fitted_value: Option<f64>,
    #[serde(rename = "droppedValue")]
    pub dropped_value: Option<f64>,
    #[serde(rename = "destroyedValue")]
    pub destroyed_value: Option<f64>,
    pub points: Option<i64>,
    #[serde(default)]
    pub npc: bool,
    #[serde(default)]
    pub solo: bool,
    #[serde(default)]
    pub awox: bool,
    #[serde(borrow, default)]
    pub labels: Vec<&'a str>,
}

/// Only what routing and de-duplication read; everything else is skipped unparsed.
#[derive(Debug, Deserialize)]
pub(crate) struct Skeleton {
    pub killmail_id: i64,
    pub system_id: Option<i64>,
    pub victim: Option<Ids>,
    #[serde(default)]
    pub attackers: Vec<Ids>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Ids {
    pub character_id: Option<i64>,
}
