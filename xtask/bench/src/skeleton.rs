//! What decoding only the ids would buy, for `decode_killmail`'s findings: a skeleton that keeps
//! the ids routing and de-duplication need and skips the rest unparsed (bench-only types).
#![allow(dead_code)]

use serde::Deserialize;

/// Only what routing and de-duplication read; everything else is skipped unparsed.
#[derive(Debug, Deserialize)]
pub(crate) struct Skeleton {
    pub killmail_id: i64,
    pub system_id: Option<i64>,
    pub victim: Option<Ids>,
    #[serde(default)]
    pub attackers: Vec<Ids>,
}

/// The one id read from the victim and each attacker.
#[derive(Debug, Deserialize)]
pub(crate) struct Ids {
    pub character_id: Option<i64>,
}
